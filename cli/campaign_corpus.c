/* campaign_corpus.c - see campaign_corpus.h. */
#include "campaign_corpus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int campaign_corpus_dir(const campaign_opts *o, const char *h, char out[CAMPAIGN_PATH_MAX]) {
  return campaign_path(out, CAMPAIGN_PATH_MAX, "%s/%s", o->corpus, h);
}

static const char *base_of(const char *path) {
  const char *b = strrchr(path, '/');
  return b != NULL ? b + 1 : path;
}

/* copy_inputs copies |from|'s inputs into |to|, keeping names already
 * there; the number copied goes to |*out_n| (may be NULL). */
static int copy_inputs(const char *from, const char *to, long long *out_n) {
  campaign_strs files;
  int rc = 0;
  long long n = 0;
  campaign_strs_init(&files);
  if (campaign_list_inputs(from, false, &files) != 0 || campaign_mkdirs(to) != 0)
    rc = -1;
  for (size_t i = 0; i < files.n && rc == 0; i++) {
    char dst[CAMPAIGN_PATH_MAX];
    if (campaign_path(dst, sizeof(dst), "%s/%s", to, base_of(files.v[i])) != 0)
      rc = -1;
    else if (!campaign_is_file(dst)) {
      rc = campaign_copy_file(files.v[i], dst);
      n++;
    }
  }
  campaign_strs_cleanup(&files);
  if (out_n != NULL)
    *out_n = n;
  return rc;
}

static void read_stats(const char *dir, campaign_prev *p) {
  char path[CAMPAIGN_PATH_MAX], line[256], key[64];
  long long v;
  if (campaign_path(path, sizeof(path), "%s/%s", dir, CAMPAIGN_CORPUS_STATS) != 0)
    return;
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (sscanf(line, "%63s %lld", key, &v) != 2)
      continue;
    if (!strcmp(key, "edges"))
      p->edges = v;
    else if (!strcmp(key, "transitions"))
      p->transitions = (long)v;
  }
  fclose(f);
}

int campaign_corpus_load(const campaign_opts *o, campaign_run_h *r, const char *work) {
  char dir[CAMPAIGN_PATH_MAX];
  r->prev.found = false;
  r->prev.inputs = r->prev.edges = -1;
  r->prev.transitions = -1;
  r->prev_copied = 0;
  if (o->no_corpus)
    return 0;
  if (campaign_corpus_dir(o, r->name, dir) != 0)
    return -1;
  if (!campaign_is_dir(dir))
    return 0;
  r->prev.found = true;
  r->prev.inputs = (long long)campaign_count_files(dir, "");
  read_stats(dir, &r->prev);
  return copy_inputs(dir, work, &r->prev_copied);
}

int campaign_corpus_copy_prev(const campaign_opts *o, const campaign_run_h *r, const char *dir) {
  char prev[CAMPAIGN_PATH_MAX];
  if (o->no_corpus || !r->prev.found)
    return 0;
  if (campaign_corpus_dir(o, r->name, prev) != 0)
    return -1;
  return copy_inputs(prev, dir, NULL);
}

int campaign_corpus_save(const campaign_opts *o, const campaign_run_h *r) {
  char dir[CAMPAIGN_PATH_MAX], merged[CAMPAIGN_PATH_MAX], stats[CAMPAIGN_PATH_MAX];
  campaign_strs old;
  int rc = 0;
  if (o->no_corpus)
    return 0;
  if (campaign_corpus_dir(o, r->name, dir) != 0 ||
      campaign_path(merged, sizeof(merged), "%s/corpus", r->dir) != 0 ||
      campaign_path(stats, sizeof(stats), "%s/%s", dir, CAMPAIGN_CORPUS_STATS) != 0)
    return -1;
  if (!campaign_is_dir(merged))
    return -1;
  /* first copy in what is new, then drop what the merge left out */
  if (copy_inputs(merged, dir, NULL) != 0)
    return -1;
  campaign_strs_init(&old);
  if (campaign_list_inputs(dir, false, &old) != 0)
    rc = -1;
  for (size_t i = 0; i < old.n && rc == 0; i++) {
    char in_merged[CAMPAIGN_PATH_MAX];
    if (campaign_path(in_merged, sizeof(in_merged), "%s/%s", merged, base_of(old.v[i])) != 0)
      rc = -1;
    else if (!campaign_is_file(in_merged) && unlink(old.v[i]) != 0)
      rc = -1;
  }
  campaign_strs_cleanup(&old);
  FILE *f = rc == 0 ? fopen(stats, "w") : NULL;
  if (f == NULL) {
    fprintf(stderr, "ftpsfuzz fuzz: cannot update the persistent corpus %s\n", dir);
    return -1;
  }
  fprintf(f, "inputs %lld\nedges %lld\ntransitions %ld\n",
          (long long)campaign_count_files(dir, ""), r->edges_best,
          r->trans_total > 0 ? r->trans_covered : -1L);
  return fclose(f) == 0 ? 0 : -1;
}
