/* campaign_libfuzzer.c - the libFuzzer driver of `ftpsfuzz fuzz`.
 *
 * With --jobs 1 the engine first runs in plain mode: fork mode restarts its
 * worker for every job (1 s, 2 s, 3 s, ...), which costs a short campaign
 * up to 4x its execs/s. Plain mode stops at the first finding; the campaign
 * then restarts it in fork mode for the time left. Fork mode (-fork=N, always
 * with --jobs N > 1) runs with -ignore_crashes/-ignore_timeouts/-ignore_ooms,
 * so findings do not end it. Findings land in <dir>/engine/ as crash-<sha1>
 * (timeout-, oom-, leak-). poll() reads the status lines of both modes:
 *   #4973: cov: 2122 ft: 2323 corp: 156 exec/s 255 oom/timeout/crash: 0/0/0 ...
 *   #65536  pulse  cov: 727 ft: 2366 corp: 189/23Kb lim: 187 exec/s: 256 rss: 166Mb
 * and the final "stat::number_of_executed_units:". Plain mode prints a line
 * for new coverage and at powers of two execs, so its figures lag between.
 * Every start (a campaign slice, or a restart after a finding) resumes from
 * <dir>/work and logs to engine.log, then engine-1.log, engine-2.log, ...
 * merge() merges work/ into corpus/, which holds the previous campaign's
 * corpus already, and reads what that added from libFuzzer's last line:
 *   MERGE-OUTER: 7 new files with 31 new features added; 4 new coverage edges */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign.h"
#include "campaign_corpus.h"
#include "campaign_proc.h"

#define ARGV_MAX 64
#define MINIMIZE_RUNS "-runs=20000"
#define MINIMIZE_SECONDS "-max_total_time=30"

/* argv_from builds a NULL-terminated argv over |fixed| then |extra|. */
static int argv_from(char **argv, size_t max, char *const *fixed, size_t nfixed,
                     const campaign_strs *extra) {
  size_t n = 0;
  for (size_t i = 0; i < nfixed && n + 1 < max; i++)
    argv[n++] = fixed[i];
  for (size_t i = 0; extra != NULL && i < extra->n && n + 1 < max; i++)
    argv[n++] = extra->v[i];
  argv[n] = NULL;
  return n + 1 < max ? 0 : -1;
}

static int lf_start(const campaign_opts *o, campaign_run_h *run) {
  char fork_flag[32], time_flag[48], timeout_flag[32], rss_flag[32];
  char art[CAMPAIGN_PATH_MAX], work[CAMPAIGN_PATH_MAX], log[CAMPAIGN_PATH_MAX];
  if (campaign_path(art, sizeof(art), "-artifact_prefix=%s/engine/", run->dir) != 0 ||
      campaign_path(work, sizeof(work), "%s/work", run->dir) != 0 ||
      (run->starts <= 1
           ? campaign_path(log, sizeof(log), "%s/engine.log", run->dir)
           : campaign_path(log, sizeof(log), "%s/engine-%u.log", run->dir, run->starts - 1)) != 0)
    return -1;
  bool fork_mode = o->jobs > 1 || run->restarts > 0;
  snprintf(fork_flag, sizeof(fork_flag), "-fork=%u", o->jobs);
  /* libFuzzer stops once more than -max_total_time whole seconds have
   * passed, i.e. a second late: a slice asks for one second less */
  snprintf(time_flag, sizeof(time_flag), "-max_total_time=%u",
           run->start_seconds > 1 ? run->start_seconds - 1 : 1);
  snprintf(timeout_flag, sizeof(timeout_flag), "-timeout=%d", CAMPAIGN_TIMEOUT_S);
  snprintf(rss_flag, sizeof(rss_flag), "-rss_limit_mb=%d", CAMPAIGN_RSS_MB);
  char *fixed_fork[] = {run->bin, time_flag, timeout_flag, rss_flag, art, "-print_final_stats=1",
                        fork_flag, "-ignore_crashes=1", "-ignore_timeouts=1", "-ignore_ooms=1"};
  size_t nfixed = sizeof(fixed_fork) / sizeof(fixed_fork[0]) - (fork_mode ? 0 : 4);
  char *argv[ARGV_MAX];
  if (argv_from(argv, ARGV_MAX - 1, fixed_fork, nfixed, &run->flags) != 0)
    return -1;
  size_t n = 0;
  while (argv[n] != NULL)
    n++;
  argv[n++] = work; /* the corpus: new inputs are written here */
  argv[n] = NULL;
  /* each start has its own log: the earlier processes' output is kept */
  snprintf(run->log, sizeof(run->log), "%s", log);
  run->log_off = 0;
  run->slice_edges0 = run->slice_features0 = -1;
  pid_t pid = campaign_spawn(argv, log, NULL, run->dir);
  if (pid < 0)
    return -1;
  run->pids[0] = pid;
  run->npids = 1;
  return 0;
}

/* number_after returns the integer after |key| in |line|, or -1. */
static long long number_after(const char *line, const char *key) {
  const char *p = strstr(line, key);
  if (p == NULL)
    return -1;
  p += strlen(key);
  while (*p == ' ' || *p == ':')
    p++;
  if (*p < '0' || *p > '9')
    return -1;
  return strtoll(p, NULL, 10);
}

static void parse_status(campaign_run_h *run, const char *line) {
  long long v;
  if (!strncmp(line, "stat::number_of_executed_units:", 31)) {
    if ((v = number_after(line, "units")) >= 0)
      run->execs = run->execs_base + v;
    return;
  }
  if (line[0] != '#' || strstr(line, "cov: ") == NULL)
    return;
  v = strtoll(line + 1, NULL, 10);
  if (v > 0)
    run->execs = run->execs_base + v;
  if ((v = number_after(line, "cov: ")) >= 0) {
    run->edges = v;
    if (run->slice_edges0 < 0)
      run->slice_edges0 = v;
  }
  if ((v = number_after(line, "ft: ")) >= 0) {
    run->features = v;
    if (run->slice_features0 < 0)
      run->slice_features0 = v;
  }
  if ((v = number_after(line, "exec/s")) >= 0)
    run->execs_per_s = v;
}

static void lf_poll(const campaign_opts *o, campaign_run_h *run) {
  (void)o;
  char path[CAMPAIGN_PATH_MAX], line[1024];
  FILE *f = run->log[0] ? fopen(run->log, "r") : NULL;
  if (f != NULL) {
    if (fseek(f, run->log_off, SEEK_SET) == 0) {
      /* whole lines only: a partial last line is read again next time */
      long pos = run->log_off;
      while (fgets(line, sizeof(line), f) != NULL) {
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n')
          break;
        pos += (long)len;
        parse_status(run, line);
      }
      run->log_off = pos;
    }
    fclose(f);
  }
  if (campaign_path(path, sizeof(path), "%s/work", run->dir) == 0)
    run->corpus = (long long)campaign_count_files(path, "");
  if (campaign_path(path, sizeof(path), "%s/engine", run->dir) == 0)
    run->findings = (long long)(campaign_count_files(path, "crash-") +
                                campaign_count_files(path, "timeout-") +
                                campaign_count_files(path, "oom-") +
                                campaign_count_files(path, "leak-"));
}

/* read_merge_outer reads "MERGE-OUTER: N new files with F new features
 * added; E new coverage edges" from the merge log. */
static void read_merge_outer(const char *log, campaign_run_h *run) {
  FILE *f = fopen(log, "r");
  char line[1024];
  long long files, feats, edges;
  if (f == NULL)
    return;
  while (fgets(line, sizeof(line), f) != NULL) {
    const char *p = strstr(line, "MERGE-OUTER: ");
    if (p != NULL &&
        sscanf(p, "MERGE-OUTER: %lld new files with %lld new features added; %lld new coverage",
               &files, &feats, &edges) == 3) {
      run->added_inputs = files;
      run->added_edges = edges;
    }
  }
  fclose(f);
}

static int lf_merge(const campaign_opts *o, campaign_run_h *run) {
  char corpus[CAMPAIGN_PATH_MAX], work[CAMPAIGN_PATH_MAX], log[CAMPAIGN_PATH_MAX];
  char timeout_flag[32], rss_flag[32];
  if (campaign_path(corpus, sizeof(corpus), "%s/corpus", run->dir) != 0 ||
      campaign_path(work, sizeof(work), "%s/work", run->dir) != 0 ||
      campaign_path(log, sizeof(log), "%s/merge.log", run->dir) != 0 ||
      campaign_mkdirs(corpus) != 0)
    return -1;
  snprintf(timeout_flag, sizeof(timeout_flag), "-timeout=%d", CAMPAIGN_TIMEOUT_S);
  snprintf(rss_flag, sizeof(rss_flag), "-rss_limit_mb=%d", CAMPAIGN_RSS_MB);
  /* -merge=1 keeps the inputs of |work| that add coverage to |corpus|,
   * which starts as the previous campaign's corpus */
  if (campaign_corpus_copy_prev(o, run, corpus) != 0)
    return -1;
  char *argv[] = {run->bin, "-merge=1", timeout_flag, rss_flag, corpus, work, NULL};
  if (campaign_run_step(argv, log, NULL, run->dir) != 0)
    return -1;
  read_merge_outer(log, run);
  return 0;
}

static int lf_list_findings(const campaign_opts *o, const campaign_run_h *run,
                            campaign_strs *out) {
  (void)o;
  static const char *const kinds[] = {"crash-", "timeout-", "oom-", "leak-"};
  char dir[CAMPAIGN_PATH_MAX];
  campaign_strs all;
  int rc = 0;
  if (campaign_path(dir, sizeof(dir), "%s/engine", run->dir) != 0)
    return -1;
  campaign_strs_init(&all);
  if (campaign_is_dir(dir) && campaign_list_inputs(dir, false, &all) != 0)
    rc = -1;
  for (size_t i = 0; i < all.n && rc == 0; i++) {
    const char *base = strrchr(all.v[i], '/');
    base = base != NULL ? base + 1 : all.v[i];
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
      if (!strncmp(base, kinds[k], strlen(kinds[k])) && campaign_strs_push(out, all.v[i]) != 0)
        rc = -1;
  }
  campaign_strs_cleanup(&all);
  return rc;
}

static int lf_minimize(const campaign_opts *o, const campaign_run_h *run, const char *in,
                       const char *out) {
  (void)o;
  const char *base = strrchr(in, '/');
  base = base != NULL ? base + 1 : in;
  /* A hang or an out-of-memory input is kept as it is: minimizing it would
   * take the per-input timeout for every attempt. */
  if (strncmp(base, "crash-", 6) != 0)
    return campaign_copy_file(in, out) == 0 ? 0 : -1;
  char exact[CAMPAIGN_PATH_MAX + 32], log[CAMPAIGN_PATH_MAX], timeout_flag[32];
  if (campaign_path(exact, sizeof(exact), "-exact_artifact_path=%s", out) != 0 ||
      campaign_path(log, sizeof(log), "%s.minimize.log", out) != 0)
    return -1;
  snprintf(timeout_flag, sizeof(timeout_flag), "-timeout=%d", CAMPAIGN_TIMEOUT_S);
  char *argv[] = {(char *)run->bin, "-minimize_crash=1", MINIMIZE_RUNS, MINIMIZE_SECONDS, timeout_flag,
                  exact, (char *)in, NULL};
  if (campaign_run_step(argv, log, NULL, run->dir) != 0 || !campaign_is_file(out)) {
    (void)campaign_copy_file(in, out);
    return -1;
  }
  return 0;
}

const campaign_engine_ops campaign_libfuzzer_ops = {
    "libfuzzer", "libfuzzer", true, lf_start, lf_poll, lf_merge, lf_list_findings, lf_minimize,
};
