/* mutate.h - the mutator library (DESIGN section 3, "Mutator").
 *
 * Structure-aware mutations of client scripts (transcripts; only the client
 * steps C R T W D are mutated, comments are kept, S:/E: steps are dropped by
 * the binary entry points). Deterministic: the same input and seed give the
 * same output; the only randomness is gen_rng (gen.h). Every output is a
 * valid transcript (it prints as .fts and decodes from binary).
 *
 * Sequence-level operators: drop, duplicate, swap, splice two scripts,
 * insert a command the model says is out of state, insert one the model
 * accepts there (a generator action, with its TLS and data steps: what
 * grows a script into new states), merge several commands
 * into one write, split a line across two raw writes, put bytes between 234
 * and the handshake, truncate the handshake. Line-level operators (on one
 * C: step): case flips, spacing, overlong line, NUL, bare LF, Telnet IAC
 * sequences, dictionary tokens, numeric edge values for PORT/EPRT/REST/PBSZ/
 * ALLO. One policy operator (POLICY, one operator among the others, so
 * most mutations stay on commands) changes the server policy the script
 * runs under: the "# config:" step (DESIGN section 4; test_config.h).
 *
 * The policy is part of the input: a script has at most one policy step
 * once mutated (the first step; POLICY rewrites every "# config:" line into
 * one), the model-aware operators consult the model policy it sets, and a
 * splice keeps the policy of the script it starts from.
 *
 * The binary entry points have libFuzzer's custom mutator shapes
 * (LLVMFuzzerCustomMutator / LLVMFuzzerCustomCrossOver), so a harness wraps
 * them in two lines. */
#ifndef MUTATE_H
#define MUTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gen.h"
#include "transcript.h"

#define MUTATE_OPS(X)                                                      \
  X(DROP, "drop a client step")                                            \
  X(DUPLICATE, "duplicate a client step")                                  \
  X(SWAP, "swap two client steps")                                         \
  X(SPLICE, "a prefix of this script, then a suffix of another")           \
  X(INSERT_OUT_OF_STATE, "insert a command the model refuses there")       \
  X(INSERT_ACTION, "insert a generator action the model accepts there")    \
  X(MERGE, "several commands in one write")                                \
  X(SPLIT, "a line split across two raw writes")                           \
  X(BYTES_AFTER_234, "raw bytes between AUTH's 234 and the handshake")     \
  X(TRUNCATE_HANDSHAKE, "drop a handshake or send a partial ClientHello")  \
  X(CASE, "flip the case of letters")                                      \
  X(SPACING, "change the spacing of a command")                            \
  X(OVERLONG, "make a line longer than the limits")                        \
  X(NUL, "put a NUL byte in a line")                                       \
  X(BARE_LF, "end a line with a bare LF")                                  \
  X(IAC, "put Telnet IAC sequences in a line")                             \
  X(TOKEN, "replace a verb or argument by a dictionary token")             \
  X(NUMERIC, "edge numeric argument for PORT/EPRT/REST/PBSZ/ALLO")         \
  X(PATH, "a path argument of a boundary length or an odd shape")         \
  X(POLICY, "add, flip or remove one key of the \"# config:\" policy step")

typedef enum mutate_op {
#define MUTATE_X_ENUM(name, what) MUTATE_##name,
  MUTATE_OPS(MUTATE_X_ENUM)
#undef MUTATE_X_ENUM
  MUTATE_OP_COUNT
} mutate_op;

/* mutate_op_name returns "DROP", ...; "?" for an unknown op. */
const char *mutate_op_name(mutate_op op);

/* Results of mutate_apply. */
enum { MUTATE_APPLIED = 0, MUTATE_NOT_APPLICABLE = 1, MUTATE_ERR_NOMEM = -1 };

/* mutate_apply applies |op| to |t| using |rng|. |other| is the second script
 * for SPLICE (NULL: SPLICE is not applicable). Returns MUTATE_APPLIED,
 * MUTATE_NOT_APPLICABLE (|t| unchanged: nothing to act on) or
 * MUTATE_ERR_NOMEM (|t| is still a valid transcript). |cfg| (may be NULL:
 * the built-in test policy) is the model INSERT_OUT_OF_STATE consults. */
int mutate_apply(transcript *t, mutate_op op, gen_rng *rng, const transcript *other,
                 const model_config *cfg);

/* mutate_transcript applies 1 to 4 operators chosen by |seed| (each retried
 * with another choice when not applicable). Returns the number applied or -1. */
int mutate_transcript(transcript *t, uint64_t seed, const transcript *other);

/* One key of the "# config:" policy step that POLICY writes, with the
 * values it picks; values[0] is the built-in default (ftps_policy_default),
 * so "add" picks another one. tests/test_mutate.c checks every pair against
 * test_config_apply_directives. */
typedef struct mutate_policy_key {
  const char *key;
  const char *const *values;
  size_t n_values;
} mutate_policy_key;

extern const mutate_policy_key mutate_policy_keys[];
extern const size_t mutate_policy_key_count;

/* mutate_is_policy_step says whether |st| is a "# config:" comment. */
bool mutate_is_policy_step(const transcript_step *st);

/* mutate_script_policy returns the model policy the "# config:" steps of
 * |t| set on top of the built-in one (model_policy_default), as the harness
 * applies them: later keys win; server-only keys (tls_reuse, max_failures,
 * fail_delay) and unknown ones leave it unchanged. */
model_policy mutate_script_policy(const transcript *t);

/* mutate_minimal appends the fallback script (AUTH TLS, handshake, login,
 * PBSZ, PROT P, QUIT) to |t|. Returns 0 or -1. */
int mutate_minimal(transcript *t);

/* The most client steps a fuzz_sequence input plays (the harness cuts the
 * rest); the binary entry points never write more, so no mutation lands
 * where it would never run. */
#define MUTATE_CLIENT_STEPS_MAX 96

/* mutate_binary mutates a binary transcript in place: decode (falling back
 * to the minimal script when |data| does not decode), keep the client steps
 * and comments, mutate, encode. Returns the new size, always <= |max_size|,
 * and the output always decodes (at worst it is empty: 0 bytes). */
size_t mutate_binary(uint8_t *data, size_t size, size_t max_size, unsigned seed);

/* mutate_crossover splices two binary transcripts (a prefix of the first, a
 * suffix of the second) into |out| (|max_out| bytes). Returns the size
 * written; the output always decodes. */
size_t mutate_crossover(const uint8_t *data1, size_t size1, const uint8_t *data2, size_t size2,
                        uint8_t *out, size_t max_out, unsigned seed);

#endif
