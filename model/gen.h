/* gen.h - client scripts from the model (DESIGN section 3, "Generator").
 *
 * gen_cover: a set of client scripts (.fts steps C R T W D and comments only)
 * that together take every transition (model row) reachable against a
 * server. The model allows several replies for most commands and the server
 * picks one, so which rows a command takes depends on the server: the
 * generator therefore searches over the model *with the server in the loop*.
 * It runs a breadth-first search whose nodes are the model states the oracle
 * reached after playing a prefix, and whose edges are "actions" (one command
 * event made concrete: a command line, a TLS step, a data transfer with its
 * D: steps). Each candidate script (shortest known prefix + action) is played
 * through a caller-supplied gen_play_fn (the runner + oracle live in driver/,
 * model/ never sees the server); actions whose outcome the model already
 * knows are skipped. The scripts that first took each row are then reduced
 * by a greedy set cover, some are rewritten to pipeline commands (two
 * commands in one write; a line split across two raw writes), and the final
 * set is played once more to measure the coverage it really reaches.
 *
 * gen_model_reachable: the rows the model alone can take under a config
 * (every allowed reply of every event in every reachable state) - the upper
 * bound; rows it has that the server never takes are reported, not hidden.
 *
 * gen_walks: random walks over the model, predicting a conforming server's
 * reply, identical for the same seed (own PRNG, no rand()). */
#ifndef GEN_H
#define GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "transcript.h"

/* Longest row sequence a play result records (a script is short). */
#define GEN_PLAY_ROWS_MAX 1024u

/* What playing one script showed: the rows the oracle took, in order, the
 * state it ended in and the violations it found. */
typedef struct gen_play_result {
  uint16_t rows[GEN_PLAY_ROWS_MAX];
  size_t n_rows;            /* rows recorded (at most GEN_PLAY_ROWS_MAX) */
  bool rows_truncated;
  model_state state;        /* oracle_state() at the end */
  size_t data_moved;        /* data connections that carried bytes ("E: data tls|clear") */
  size_t violations;
  char violation[512];      /* the first one, formatted ("" if none) */
} gen_play_result;

/* gen_play_fn plays |script| (client steps) and fills |*res|. Returns 0, or
 * negative if the script could not be played at all (out of memory). */
typedef int (*gen_play_fn)(void *ctx, const transcript *script, gen_play_result *res);

/* A set of scripts (owned). */
typedef struct gen_set {
  transcript *items;
  size_t n, cap;
} gen_set;

void gen_set_init(gen_set *s);
void gen_set_cleanup(gen_set *s); /* accepts a zeroed set */
/* gen_set_add appends a copy of |t|. Returns 0 or -1 (out of memory). */
int gen_set_add(gen_set *s, const transcript *t);

/* gen_copy_steps appends copies of |src|'s steps to |dst|. 0 or -1. */
int gen_copy_steps(transcript *dst, const transcript *src);

/* gen_model_reachable marks in |out| (MODEL_ROW_COUNT entries) the rows the
 * model can take under |cfg| from its initial state. Returns how many, or -1
 * out of memory. */
long gen_model_reachable(const model_config *cfg, bool *out);

typedef struct gen_cover_stats {
  bool reachable[MODEL_ROW_COUNT];  /* rows the search saw the server take */
  bool covered[MODEL_ROW_COUNT];    /* rows the final set takes when played */
  bool model[MODEL_ROW_COUNT];      /* rows the model alone can take */
  size_t n_reachable, n_covered, n_model;
  size_t plays;                     /* scripts played in total */
  size_t states;                    /* distinct model states the search reached */
  size_t violations;                /* scripts of the final set with a violation */
  char violation[512];              /* the first such violation ("" if none) */
  /* An action whose reply the model did not allow during the search (the
   * server and the model disagree); "" if none. */
  char disagreement[1024];
} gen_cover_stats;

/* gen_policy_comment writes the "config: ..." comment text (without '#')
 * that makes the runner's test configuration follow |p|. */
void gen_policy_comment(const model_policy *p, char *buf, size_t buf_len);

/* gen_cover builds the cover set for |cfg| into |out| (an initialised set;
 * scripts are appended) by playing candidates through |play|. Each script
 * starts with a comment naming the rows it was chosen for and a config
 * comment for |cfg|'s policy. Returns 0, or -1 (out of memory or a play
 * failed); |*stats| is filled either way. */
int gen_cover(const model_config *cfg, gen_play_fn play, void *ctx, gen_set *out,
              gen_cover_stats *stats);

/* gen_measure plays every script of |set| and marks in |covered| the rows
 * they take; counts the scripts with a violation in |*violations| and copies
 * the first one to |first| (may be NULL). Returns the number of rows covered,
 * or -1 if a play failed. */
long gen_measure(const gen_set *set, gen_play_fn play, void *ctx, bool *covered,
                 size_t *violations, char *first, size_t first_len);

/* gen_walks appends |n| random-walk scripts for |cfg| to |out|, a pure
 * function of (|cfg|, |n|, |seed|). Returns 0 or -1 (out of memory). */
int gen_walks(const model_config *cfg, size_t n, uint64_t seed, gen_set *out);

/* A small deterministic PRNG (splitmix64), shared with the mutator. */
typedef struct gen_rng {
  uint64_t s;
} gen_rng;
void gen_rng_seed(gen_rng *r, uint64_t seed);
uint64_t gen_rng_next(gen_rng *r);
/* gen_rng_below returns a value in [0, n) (0 when n is 0). */
size_t gen_rng_below(gen_rng *r, size_t n);

#endif
