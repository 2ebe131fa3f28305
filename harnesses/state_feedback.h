/* state_feedback.h - make protocol progress visible to coverage-guided
 * fuzzers.
 *
 * Edge coverage alone does not tell a fuzzer that an input reached a new
 * protocol state: the same handler code runs for "PROT P before login" and
 * "PROT P after login". state_feedback_hit() turns each (model row, security
 * state, login state, PROT level) key into its own basic block, so libFuzzer
 * and AFL++ count a new key as a new edge and keep the input.
 *
 * The policy is part of fuzz_sequence's input, so it is part of the key
 * too, where it matters: a second bank of keys holds (row, model policy) for
 * the rows whose outcome the policy changes (a policy bit in the row's guard
 * or in a narrow of its event), and a third one key per policy, so an input
 * that first runs a policy, or takes such a row under a policy for the
 * first time, is kept (and `gen-corpus.sh`'s merge keeps seeds of every
 * policy). */
#ifndef STATE_FEEDBACK_H
#define STATE_FEEDBACK_H

#include "oracle.h"

/* The number of distinct keys (a power of two): 4096 (row, state) keys,
 * then 2048 (row, policy) keys and 16 policy keys. */
#define STATE_FEEDBACK_KEYS 8192u

/* state_feedback_hit reaches the basic block of |key| mod
 * STATE_FEEDBACK_KEYS. */
void state_feedback_hit(unsigned key);

/* state_feedback_attach makes |o| report every transition it takes, keyed
 * by row and the state the oracle is in (and by the policy it judges
 * against, oracle_config, for the rows the policy changes), and tell
 * transition_goal.h. */
void state_feedback_attach(oracle *o);
/* state_feedback_cover_fn gives the same callback for a judge_config. */
void state_feedback_cover_fn(oracle_cover_fn *out_fn, void **out_ctx);

#endif
