/* campaign_sched.h - how `ftpsfuzz fuzz --harness all` spends its time.
 *
 * Splitting the budget evenly and running the harnesses one after another
 * starves the deep ones: a harness whose bug needs 24 s of fuzzing never
 * gets 24 s. Instead the time goes out in slices, and each slice resumes
 * the harness from its working corpus so far:
 *   1. explore: every harness gets one slice early, in the order of
 *      campaign_sched_order() (the model harness, fuzz_sequence, first),
 *      together half the budget, each in proportion to its weight (3 for
 *      fuzz_sequence, which carries the oracle and the model mutator and
 *      whose state feedback counts model transitions as features; 1 else);
 *   2. exploit: the other half goes in longer slices by stride scheduling
 *      (each harness's pass grows by seconds / score; the lowest pass runs
 *      next), score = weight x (1 + new features per second in its last
 *      slice), so time shifts to the harnesses still finding new edges and
 *      transitions, and a harness that stalls gets a slice again only when
 *      the others have had proportionally more.
 * A slice lasts at least CAMPAIGN_SLICE_MIN_S (the engine reloads the
 * corpus at each start) and at most CAMPAIGN_SLICE_MAX_S x weight.
 * One harness alone gets one slice of the whole budget (no restarts). */
#ifndef FTPSFUZZ_CAMPAIGN_SCHED_H
#define FTPSFUZZ_CAMPAIGN_SCHED_H

#include "campaign.h"

#define CAMPAIGN_SLICE_MIN_S 3u /* shorter slices spend their time reloading */
#define CAMPAIGN_SLICE_MAX_S 300u /* per weight unit: long campaigns re-weigh often */
#define CAMPAIGN_MODEL_WEIGHT 3u

typedef struct campaign_sched {
  unsigned time_s;   /* the whole budget */
  double unit_s;     /* one weight unit of the explore round */
  size_t order[64];  /* the explore round's order (indices into runs) */
  size_t norder, next_explore;
} campaign_sched;

/* campaign_sched_init sets each run's weight and the explore order. */
void campaign_sched_init(campaign_sched *s, campaign_run_h *runs, size_t n, unsigned time_s);

/* campaign_sched_next picks the next slice after |used_s| seconds of
 * fuzzing: returns the index of the harness and its seconds in
 * |*out_seconds|, or -1 when the budget is spent (or no harness can run). */
int campaign_sched_next(campaign_sched *s, campaign_run_h *runs, size_t n, double used_s,
                        unsigned *out_seconds);

/* campaign_sched_done records a slice of |r| that ran |seconds| from
 * |start_s|, with the gains given, and moves r's pass on. */
void campaign_sched_done(campaign_run_h *r, double start_s, double seconds, long long new_edges,
                         long long new_features, long long new_inputs);

#endif
