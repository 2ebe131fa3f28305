/* gen_internal.h - shared by gen*.c and mutate.c: the concrete actions the
 * generator plays for each model event, and the model's successor relation.
 * Not part of the contract in gen.h. */
#ifndef GEN_INTERNAL_H
#define GEN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "gen.h"
#include "model.h"
#include "transcript.h"

enum {
  GEN_A_TERMINAL = 1u << 0, /* ends the session (or poisons it): never extended */
  GEN_A_ONCE = 1u << 1,     /* a multi-command action tried until it takes its goal row */
  GEN_A_NOWALK = 1u << 2,   /* not used by random walks */
};

/* One event made concrete: client steps in .fts text, the command lines the
 * server must answer, and the data states it applies in (mask, 0 = any). */
typedef struct gen_action {
  model_event ev;
  const char *text;
  unsigned n_cmd;
  unsigned data_mask;
  unsigned flags;
  int goal; /* GEN_A_ONCE: the row it is tried for until taken; else -1 */
} gen_action;

extern const gen_action gen_actions[];
extern const size_t gen_action_count;

/* gen_action_append appends the steps of action |i| to |dst|. Returns 0, or
 * -1 (out of memory; the built-in texts always parse, test_gen checks). */
int gen_action_append(size_t i, transcript *dst);

/* A possible outcome of an event in a state: the row, one code that takes it
 * (0 for connection events) and the state after. */
typedef struct gen_succ {
  int row;
  unsigned code;
  model_state to;
} gen_succ;

#define GEN_SUCC_MAX 64u

/* gen_successors lists the distinct rows |ev| can take in |st| (first the
 * direct replies in code order, then those after a preliminary reply).
 * Returns how many (0: the event is not enabled). */
size_t gen_successors(const model_config *cfg, const model_state *st, model_event ev,
                      gen_succ *out, size_t max);

/* gen_predict picks the outcome a conforming server most likely gives:
 * the first success (code < 400), else the first outcome. -1 if none. */
int gen_predict(const gen_succ *s, size_t n);

/* gen_action_applies says whether action |i| makes sense in |st|. */
bool gen_action_applies(const model_config *cfg, size_t i, const model_state *st);

/* gen_step_mergeable: a C: step that may share its write with the next
 * command (not one whose reply changes how later bytes travel: AUTH, CCC,
 * REIN, QUIT, PASV, EPSV). */
bool gen_step_mergeable(const transcript_step *st);
/* gen_merge_into appends C: step |cmd| to C: step |prev| as a pipelined
 * command ("a\r\nb": two commands in one write). Returns 0 or -1. */
int gen_merge_into(transcript_step *prev, const transcript_step *cmd);

/* gen_state_index maps a state to 0..GEN_STATE_COUNT-1. */
#define GEN_STATE_COUNT (3u * 3 * 2 * 2 * 2 * 3 * 2 * 2 * 2 * 3)
size_t gen_state_index(const model_state *st);

#endif
