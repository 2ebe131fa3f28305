/* learn_cand.h - the model as domain knowledge for `ftpsfuzz learn`:
 * counterexample candidates (learn_config.candidates) from the model's
 * cover set for the declared policy (gen_cover against the in-process
 * server, as `check` builds it) and the oracle's known-violation probes
 * (check_probes), each mapped into the learner's alphabet where it fits:
 * a script becomes the word of its longest prefix whose steps are all
 * alphabet inputs (a command by its model event and, for USER/PASS, by
 * whether its argument is the account's; PASV/EPSV with the D: open after
 * them; STOR with its D: send/close). Empty and repeated words are left
 * out. */
#ifndef LEARN_CAND_H
#define LEARN_CAND_H

#include <stddef.h>

#include "learn.h"
#include "learn_ftps.h"
#include "model.h"
#include "transcript.h"

typedef struct learn_cands {
  learn_sym **words;
  size_t *lens;
  size_t n, cap;
  size_t scripts;       /* scripts looked at (cover set + probes) */
} learn_cands;

/* learn_cand_word maps |script| into the alphabet of |m|: writes its longest
 * fitting prefix to |out| (|cap| symbols) and returns its length, 0 if not
 * even the first step fits. */
size_t learn_cand_word(const learn_ftps *m, const transcript *script, learn_sym *out, size_t cap);

/* learn_cands_build fills |*c| (zeroed first) with the candidates for
 * |model| (the declared profile and policy). Returns 0 or -1 (out of
 * memory; the in-process server for the cover set could not be built). */
int learn_cands_build(const learn_ftps *m, const model_config *model, learn_cands *c);
void learn_cands_cleanup(learn_cands *c); /* accepts a zeroed set */

#endif
