/* learn_export.h - a learned Mealy machine (learn.h) as a picture and as
 * Promela, in the model's words (model_export.h).
 *
 * The learner knows only names; what the model makes of each learned state
 * and transition comes from the caller (driver/learn_diff.c judges each
 * transition's transcript): the model state after each transition, and
 * whether its output breaks an invariant. */
#ifndef LEARN_EXPORT_H
#define LEARN_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "learn.h"
#include "model.h"

typedef struct learn_view {
  const learn_mealy *m;
  const char *const *input_names;  /* [n_inputs] */
  const model_event *input_events; /* [n_inputs]; MODEL_EV_COUNT: the TLS handshake */
  const char *(*output_name)(void *ctx, learn_out o);
  void *ctx;
  const model_state *state_label;  /* [n_states]: the model state the oracle reached
                                      after the access sequence */
  const model_state *post_label;   /* [n_states * n_inputs]: ... after the transition */
  const bool *violates;            /* [n_states * n_inputs] or NULL */
  model_policy policy;             /* the declared policy */
  const char *title;               /* e.g. "127.0.0.1:2121, alphabet core" */
} learn_view;

/* learn_export_dot writes the learned machine as Graphviz, looking like the
 * model's picture (export_dot.c): states filled by the model's security
 * state and labelled with the model state of their access sequence, one
 * edge per pair of states listing "INPUT / output" lines, transitions the
 * model does not allow in red, the closed sink as CLOSED. Returns 0 or -1
 * (a write error). */
int learn_export_dot(FILE *out, const learn_view *v);

/* learn_export_promela writes the learned machine as Promela: one process
 * taking any learned transition from the current state, setting the model
 * variables to the transition's post_label, the event and the final reply
 * code, then the model's own security invariants (model_promela_checks)
 * under the declared policy. SPIN finds an assertion violated exactly when
 * a reachable learned transition breaks one. Returns 0 or -1. */
int learn_export_promela(FILE *out, const learn_view *v);

/* learn_output_final_code: the last reply code in an output name
 * ("150+data_tls.226" -> 226), 0 if none. */
unsigned learn_output_final_code(const char *name);

#endif
