/* model_export.h - the model as a picture (Graphviz DOT) and as a program a
 * model checker can verify (Promela for SPIN). DESIGN section 3, "Exporters".
 *
 * Both exporters read the one transition table (model.def) through model.h;
 * neither includes server/ or driver/. Playing client scripts to get the
 * server's replies is the caller's job (cli/): this module only judges
 * complete transcripts. */
#ifndef MODEL_EXPORT_H
#define MODEL_EXPORT_H

#include <stddef.h>
#include <stdio.h>

#include "model.h"
#include "oracle.h"
#include "transcript.h"

/* --- coverage of a corpus, for the picture --- */

/* Which transitions a set of transcripts took, and from which node of the
 * picture (see export_dot.c for the projection of states onto nodes). */
typedef struct model_cover model_cover;

/* model_cover_new returns an empty record, NULL if out of memory. */
model_cover *model_cover_new(void);
void model_cover_free(model_cover *c); /* accepts NULL */

/* model_cover_fn gives the oracle callback that records in |c| each
 * transition taken (judge_config's cover_fn/cover_ctx); model_cover_count
 * counts one more transcript judged. */
void model_cover_fn(model_cover *c, oracle_cover_fn *out_fn, void **out_ctx);
void model_cover_count(model_cover *c);

/* model_cover_transcripts returns how many transcripts were judged. */
size_t model_cover_transcripts(const model_cover *c);

/* model_export_dot writes the Graphviz picture of the model under |cfg|:
 * nodes are the projected reachable states, edges the transitions between
 * them labelled with their events and reply codes. With |cov| (may be NULL)
 * edges are coloured by whether the corpus took them, the graph label says
 * "x/y transitions covered" and a legend is drawn. Returns 0, or -1 if out of
 * memory or on a write error. */
int model_export_dot(FILE *out, const model_config *cfg, const model_cover *cov);

/* model_export_dot_counts reports the size of that picture: nodes, edges
 * (self-loops included), reachable transitions (rows) and how many of them
 * |cov| took (0 without |cov|). Any output may be NULL. Returns 0 or -1. */
int model_export_dot_counts(const model_config *cfg, const model_cover *cov, size_t *out_nodes,
                            size_t *out_edges, size_t *out_rows, size_t *out_covered);

/* --- Promela --- */

/* model_export_promela writes a Promela model of the transition table: a
 * client process choosing any event, a server process choosing any reply
 * code the table allows and applying the update, and the security
 * invariants as assertions. Under the default profile the policy is chosen
 * nondeterministically at start, so SPIN checks every configured server at
 * once; the rfc profile uses its fixed permissive policy.
 * |broken| (TEST ONLY; NULL for the real model) names a deliberately wrong
 * variant of the table (see model_promela_broken_name) that SPIN must reject.
 * Returns 0, -1 on a write error, -2 for an unknown |broken| name. */
int model_export_promela(FILE *out, const model_config *cfg, const char *broken);

/* model_promela_declare writes the #defines of the state values, the mtype
 * of every event (e_NAME) and the state, policy, ghost and scratch variables
 * model_promela_checks reads; model_promela_checks writes `inline check()`,
 * the security invariants over them (p_* the values before the step, code
 * its reply, ev its event). Both are also what the learned machine's
 * Promela (learn_export.h) is checked with: one spelling of the invariants. */
void model_promela_declare(FILE *out);
void model_promela_checks(FILE *out);

/* model_promela_broken_name returns the i-th name of a broken variant and
 * fills |*out_why| (may be NULL) with what it breaks; NULL past the end. */
const char *model_promela_broken_name(size_t i, const char **out_why);

#endif
