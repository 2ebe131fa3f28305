/* campaign_corpus.h - continuous campaigns: the persistent working corpus.
 *
 * Each harness keeps <corpus>/<h>/ (default <source>/out/corpus/<h>/, under
 * the git-ignored out/; `ftpsfuzz fuzz --corpus DIR` elsewhere): the merged
 * corpus of the last campaign, plus <corpus>/<h>/.campaign, what that
 * campaign reached ("inputs N", "edges N", "transitions N" lines, -1 when
 * unknown). A campaign copies those inputs into its work/ next to the seeds,
 * merges into a copy of them (so the merge says what this run added), and
 * replaces them with its merged corpus at the end. */
#ifndef FTPSFUZZ_CAMPAIGN_CORPUS_H
#define FTPSFUZZ_CAMPAIGN_CORPUS_H

#include "campaign.h"

#define CAMPAIGN_CORPUS_STATS ".campaign"

/* campaign_corpus_dir writes <o->corpus>/<h> into |out|. 0 or -1. */
int campaign_corpus_dir(const campaign_opts *o, const char *h, char out[CAMPAIGN_PATH_MAX]);

/* campaign_corpus_load fills r->prev from <corpus>/<h>/ and copies its
 * inputs into |work| (a name already there is kept), counting them in
 * r->prev_copied. Nothing with o->no_corpus or no such directory. 0 or -1. */
int campaign_corpus_load(const campaign_opts *o, campaign_run_h *r, const char *work);

/* campaign_corpus_copy_prev copies <corpus>/<h>/'s inputs into |dir| (the
 * merge's output, before the merge). 0 or -1. */
int campaign_corpus_copy_prev(const campaign_opts *o, const campaign_run_h *r, const char *dir);

/* campaign_corpus_save makes <corpus>/<h>/ hold exactly the inputs of
 * <r->dir>/corpus and writes its .campaign from r (edges_best,
 * trans_covered). 0, or -1 with a message (the old corpus may then be
 * partly replaced, never lost: files are copied before any is removed). */
int campaign_corpus_save(const campaign_opts *o, const campaign_run_h *r);

#endif
