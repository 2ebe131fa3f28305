/* learn_diff.h - the learned machine against the model (`ftpsfuzz learn`).
 *
 * Every learned transition (state s, input i) is replayed as one query -
 * the access sequence of s, then i - with the one judge (judge.h, every
 * violation) under the declared policy. A transition is in the diff when a
 * violation falls inside i's part of the transcript (one inside the access
 * sequence belongs to an earlier transition, listed there). The judge's
 * model state after each replay labels the machine (learn_export.h).
 * The replays are played a chunk at a time with learn_ftps_play_batch (so
 * over TCP on the mapper's |concurrency| connections at once) and
 * recorded in the order listed under learn_diff_run, whichever finished
 * first: the diff does not depend on the concurrency. */
#ifndef LEARN_DIFF_H
#define LEARN_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "judge.h"
#include "learn.h"
#include "learn_export.h"
#include "learn_ftps.h"
#include "model.h"

typedef struct learn_diff_row {
  uint32_t state;
  learn_sym input;
  learn_out out;                 /* the learned output */
  char replayed[LEARN_FTPS_OUTPUT_LEN + 4]; /* what the replay answered ("" = the same) */
  char invariants[256];          /* every invariant broken, space-separated, first first */
  bool security;                 /* one of them is a SECURITY invariant */
  char why[256];                 /* the first violation */
  char model_state[160];         /* the model state before the input */
  char allowed[160];             /* the codes the model allowed ("" if not about a code) */
  char witness[96];              /* file name under witnesses/ */
} learn_diff_row;

typedef struct learn_diff {
  size_t n_states, n_inputs;
  model_state *state_label;      /* [n_states] */
  model_state *post_label;       /* [n_states * n_inputs] */
  bool *violates;                /* [n_states * n_inputs] */
  learn_diff_row *rows;
  size_t n_rows;
  size_t replays, mismatches;    /* replays whose output differed from the learned one */
  size_t unexercised;            /* transitions whose input was never played: the
                                    connection had closed or the client had given
                                    up before it (a sink's), so nothing was judged */
} learn_diff;

/* learn_diff_run replays every transition of |m| through |map| and judges
 * it with |jc| (its |all| is set here; over TCP it is read by several
 * threads at once, so its cover_fn must be NULL or thread-safe). The rows
 * are in the order of the states' access sequences' length, then state
 * number, then input. Fills |*d| (always initialised;
 * call learn_diff_cleanup). Returns 0, or -1 with |err| set (a replay could
 * not be played, out of memory). */
int learn_diff_run(learn_ftps *map, const learn_mealy *m, const judge_config *jc, learn_diff *d,
                   char *err, size_t err_len);
void learn_diff_cleanup(learn_diff *d); /* accepts a zeroed diff */

/* learn_diff_view fills |*v| for the exporters from |d| and |map|
 * (|input_names| and |input_events| are arrays of n_inputs the caller
 * provides, filled here). */
void learn_diff_view(const learn_diff *d, learn_ftps *map, const learn_mealy *m,
                     const model_policy *policy, const char *title, const char **input_names,
                     model_event *input_events, learn_view *v);

/* learn_diff_write_script writes the client script of |word| to |path|
 * (.fts, atomically enough: a temporary file renamed), with |header|
 * comment lines (may be NULL, '\n'-separated) and a "# config:" line for
 * |policy|, so `ftpsfuzz run [--connect HOST:PORT] --oracle FILE` replays
 * and judges it. Returns 0 or -1 with |err| set. */
int learn_diff_write_script(const learn_ftps *map, const learn_sym *word, size_t n,
                            const model_policy *policy, const char *header, const char *path,
                            char *err, size_t err_len);

/* learn_diff_print_table writes the diff table (Markdown) to |out|. */
void learn_diff_print_table(const learn_diff *d, learn_ftps *map, FILE *out);

#endif
