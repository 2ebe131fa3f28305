/* campaign_sig.h - the signature of a finding, and the signatures of the
 * findings already kept in corpus/regressions/<h>/.
 *
 * A signature names one bug, not one input: the harness, the kind of
 * failure (the invariant of a harness FINDING / oracle VIOLATION line, or
 * the sanitizer's error type) and a 64-bit FNV-1a hash of what tells two
 * bugs of that kind apart: the "why" text of an invariant line (step
 * numbers, counts and addresses dropped, three-digit reply codes kept), or
 * the top three stack frames outside the sanitizer and libFuzzer runtimes
 * (ClusterFuzz's crash state), e.g.
 *   fuzz_sequence/VIOLATION:ALLOWED_CODE/5f0c2a9e13d7b6a1
 *   fuzz_session/asan:stack-buffer-overflow/0b61e3f2a4c5d7e8
 * A regressions directory keeps the signatures of its files in
 * .signatures, one "<signature> <file name>" a line (a dot file, so replay
 * never takes it for an input). A campaign that finds a signature listed
 * there reports the finding as known and does not save it again. */
#ifndef FTPSFUZZ_CAMPAIGN_SIG_H
#define FTPSFUZZ_CAMPAIGN_SIG_H

#include "campaign_fs.h"

#define CAMPAIGN_SIG_MAX 192
#define CAMPAIGN_SIG_FILE ".signatures"

/* campaign_sig_of writes the signature of a finding of |harness| whose
 * report line is |line| (campaign_report_line of |log|) into |out|; |log|
 * (may be NULL) is read for the stack frames. Always succeeds. */
void campaign_sig_of(const char *harness, const char *line, const char *log,
                     char out[CAMPAIGN_SIG_MAX]);

/* campaign_sig_kind writes the kind part alone ("VIOLATION:ALLOWED_CODE",
 * "asan:heap-use-after-free", "hang", ...) into |out|. */
void campaign_sig_kind(const char *line, char *out, size_t out_len);

/* campaign_sig_load appends the signatures listed in <dir>/.signatures to
 * |out| (a missing file is no signature). Returns 0, or -1 if it cannot be
 * read. */
int campaign_sig_load(const char *dir, campaign_strs *out);

/* campaign_sig_add appends "<sig> <name>" to <dir>/.signatures. 0 or -1. */
int campaign_sig_add(const char *dir, const char *sig, const char *name);

#endif
