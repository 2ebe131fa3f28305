/* state_feedback.h - make protocol progress visible to coverage-guided
 * fuzzers.
 *
 * Edge coverage alone does not tell a fuzzer that an input reached a new
 * protocol state: the same handler code runs for "PROT P before login" and
 * "PROT P after login". state_feedback_hit() turns each (model row, security
 * state, login state, PROT level) key into its own basic block, so libFuzzer
 * and AFL++ count a new key as a new edge and keep the input. */
#ifndef STATE_FEEDBACK_H
#define STATE_FEEDBACK_H

#include "oracle.h"

/* The number of distinct keys (a power of two). */
#define STATE_FEEDBACK_KEYS 4096u

/* state_feedback_hit reaches the basic block of |key| mod
 * STATE_FEEDBACK_KEYS. */
void state_feedback_hit(unsigned key);

/* state_feedback_attach makes |o| report every transition it takes, keyed
 * by row and the state the oracle is in, and tell transition_goal.h. */
void state_feedback_attach(oracle *o);
/* state_feedback_cover_fn gives the same callback for a judge_config. */
void state_feedback_cover_fn(oracle_cover_fn *out_fn, void **out_ctx);

#endif
