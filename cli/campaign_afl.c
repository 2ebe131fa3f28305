/* campaign_afl.c - the AFL++ driver of `ftpsfuzz fuzz`.
 *
 * One main instance (-M main) and --jobs - 1 secondaries (-S s1 ...), all on
 * <dir>/work as input and <dir>/engine as output, each stopping itself after
 * the budget (-V). The harness is the afl preset's build: afl-clang-fast
 * with libAFLDriver (persistent mode, shared-memory input). poll() reads each
 * instance's fuzzer_stats - which AFL++ 4.04c rewrites only about once a
 * minute, so execs and edges lag in the progress lines of a short campaign;
 * the report takes the lowest "stability" of the instances (issue 6's goal:
 * >= 90%) - and counts the queue, crashes and hangs directories, which are live;
 * merge() runs afl-cmin over every queue; minimize() runs afl-tmin. A
 * later campaign slice resumes the same -o directory (AFL_AUTORESUME). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign.h"
#include "campaign_proc.h"

static char *afl_env[] = {"AFL_NO_UI=1",
                          "AFL_SKIP_CPUFREQ=1",
                          "AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1",
                          "AFL_NO_AFFINITY=1",
                          /* the campaign directory is ours even under /tmp;
                           * without this afl-cmin refuses to run there */
                          "AFL_ALLOW_TMP=1",
                          /* a later slice resumes the same -o directory */
                          "AFL_AUTORESUME=1",
                          NULL};

static int afl_start(const campaign_opts *o, campaign_run_h *run) {
  char work[CAMPAIGN_PATH_MAX], engine[CAMPAIGN_PATH_MAX], log[CAMPAIGN_PATH_MAX];
  char secs[32], name[16], tmo[32];
  if (campaign_path(work, sizeof(work), "%s/work", run->dir) != 0 ||
      campaign_path(engine, sizeof(engine), "%s/engine", run->dir) != 0)
    return -1;
  snprintf(secs, sizeof(secs), "%u", run->start_seconds);
  run->slice_edges0 = run->slice_features0 = -1;
  snprintf(tmo, sizeof(tmo), "%d", CAMPAIGN_TIMEOUT_S * 1000);
  run->npids = 0;
  for (unsigned j = 0; j < o->jobs && j < CAMPAIGN_JOBS_MAX; j++) {
    if (j == 0)
      snprintf(name, sizeof(name), "main");
    else
      snprintf(name, sizeof(name), "s%u", j);
    if (campaign_path(log, sizeof(log), j == 0 ? "%s/engine.log" : "%s/engine-%s.log", run->dir,
                      name) != 0)
      return -1;
    char *argv[24];
    size_t n = 0;
    argv[n++] = "afl-fuzz";
    argv[n++] = "-i";
    argv[n++] = work;
    argv[n++] = "-o";
    argv[n++] = engine;
    argv[n++] = j == 0 ? "-M" : "-S";
    argv[n++] = name;
    argv[n++] = "-V";
    argv[n++] = secs;
    argv[n++] = "-t";
    argv[n++] = tmo;
    if (run->dict[0]) {
      argv[n++] = "-x";
      argv[n++] = run->dict;
    }
    argv[n++] = "--";
    argv[n++] = run->bin;
    argv[n] = NULL;
    if (j == 0)
      snprintf(run->log, sizeof(run->log), "%s", log);
    pid_t pid = campaign_spawn(argv, log, afl_env, run->dir);
    if (pid < 0)
      return run->npids > 0 ? 0 : -1;
    run->pids[run->npids++] = pid;
  }
  return 0;
}

/* stat_number reads "key : value" from a fuzzer_stats file (the value may
 * end in '%', as "stability : 97.31%" does); -1 if absent. */
static double stat_number(const char *text, const char *key) {
  size_t klen = strlen(key);
  for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
    if (strncmp(p, key, klen) != 0 || (p[klen] != ' ' && p[klen] != ':'))
      continue;
    const char *v = strchr(p, ':');
    const char *eol = strchr(p, '\n');
    if (v == NULL || (eol != NULL && v > eol))
      return -1;
    char *end = NULL;
    double d = strtod(v + 1, &end);
    return end == v + 1 ? -1 : d;
  }
  return -1;
}

static long long stat_value(const char *text, const char *key) {
  return (long long)stat_number(text, key);
}

static int every_instance(const campaign_run_h *run, const char *sub, campaign_strs *out);

static void afl_poll(const campaign_opts *o, campaign_run_h *run) {
  long long execs = 0, eps = 0, edges = -1, corpus = -1, findings = 0;
  double stability = -1;
  bool any = false;
  for (unsigned j = 0; j < o->jobs && j < CAMPAIGN_JOBS_MAX; j++) {
    char path[CAMPAIGN_PATH_MAX];
    uint8_t *text = NULL;
    size_t len = 0;
    if ((j == 0 ? campaign_path(path, sizeof(path), "%s/engine/main/fuzzer_stats", run->dir)
                : campaign_path(path, sizeof(path), "%s/engine/s%u/fuzzer_stats", run->dir, j)) !=
        0)
      continue;
    if (campaign_read_file(path, 1u << 20, &text, &len) != 0)
      continue;
    any = true;
    const char *t = (const char *)text;
    long long v;
    if ((v = stat_value(t, "execs_done")) > 0)
      execs += v;
    if ((v = stat_value(t, "execs_per_sec")) > 0)
      eps += v;
    if ((v = stat_value(t, "edges_found")) > edges)
      edges = v;
    if ((v = stat_value(t, "corpus_count")) > corpus)
      corpus = v;
    if ((v = stat_value(t, "saved_crashes")) > 0)
      findings += v;
    if ((v = stat_value(t, "saved_hangs")) > 0)
      findings += v;
    /* the least stable instance speaks for the harness */
    double st = stat_number(t, "stability");
    if (st >= 0 && (stability < 0 || st < stability))
      stability = st;
    free(text);
  }
  /* the directories are live; the stats file lags */
  campaign_strs files;
  campaign_strs_init(&files);
  if (every_instance(run, "queue", &files) == 0 && (long long)files.n > corpus)
    corpus = (long long)files.n;
  campaign_strs_cleanup(&files);
  campaign_strs_init(&files);
  if (every_instance(run, "crashes", &files) == 0 && every_instance(run, "hangs", &files) == 0 &&
      (long long)files.n > findings)
    findings = (long long)files.n;
  campaign_strs_cleanup(&files);
  if (any) {
    run->execs = execs;
    run->execs_per_s = eps;
    run->edges = edges;
    if (run->slice_edges0 < 0 && edges >= 0)
      run->slice_edges0 = edges;
  }
  if (stability >= 0) {
    run->has_stability = true;
    run->stability = stability;
  }
  run->corpus = corpus;
  run->findings = findings;
}

/* every_instance appends the files of <dir>/engine/<instance>/<sub>/ whose
 * names start with "id:". */
static int every_instance(const campaign_run_h *run, const char *sub, campaign_strs *out) {
  char engine[CAMPAIGN_PATH_MAX];
  campaign_strs insts;
  int rc = 0;
  if (campaign_path(engine, sizeof(engine), "%s/engine", run->dir) != 0)
    return -1;
  campaign_strs_init(&insts);
  if (campaign_is_dir(engine) && campaign_list_subdirs(engine, &insts) != 0)
    rc = -1;
  for (size_t i = 0; i < insts.n && rc == 0; i++) {
    char d[CAMPAIGN_PATH_MAX];
    campaign_strs files;
    if (campaign_path(d, sizeof(d), "%s/%s", insts.v[i], sub) != 0 || !campaign_is_dir(d))
      continue;
    campaign_strs_init(&files);
    rc = campaign_list_inputs(d, false, &files);
    for (size_t k = 0; k < files.n && rc == 0; k++) {
      const char *base = strrchr(files.v[k], '/');
      if (base != NULL && !strncmp(base + 1, "id:", 3))
        rc = campaign_strs_push(out, files.v[k]);
    }
    campaign_strs_cleanup(&files);
  }
  campaign_strs_cleanup(&insts);
  return rc;
}

static int afl_merge(const campaign_opts *o, campaign_run_h *run) {
  (void)o;
  char all[CAMPAIGN_PATH_MAX], corpus[CAMPAIGN_PATH_MAX], log[CAMPAIGN_PATH_MAX];
  campaign_strs queue;
  int rc = -1;
  campaign_strs_init(&queue);
  if (campaign_path(all, sizeof(all), "%s/queue-all", run->dir) != 0 ||
      campaign_path(corpus, sizeof(corpus), "%s/corpus", run->dir) != 0 ||
      campaign_path(log, sizeof(log), "%s/merge.log", run->dir) != 0 ||
      campaign_mkdirs(all) != 0 || every_instance(run, "queue", &queue) != 0)
    goto out;
  for (size_t i = 0; i < queue.n; i++) {
    char dst[CAMPAIGN_PATH_MAX], hex[65];
    if (campaign_sha256_file(queue.v[i], hex) != 0 ||
        campaign_path(dst, sizeof(dst), "%s/%s", all, hex) != 0 ||
        campaign_copy_file(queue.v[i], dst) != 0)
      goto out;
  }
  /* afl-cmin wants a fresh output directory */
  /* input on stdin: libAFLDriver asserts when afl-showmap hands it @@ */
  char *argv[] = {"afl-cmin", "-i", all, "-o", corpus, "-t", "25000", "--", run->bin, NULL};
  rc = campaign_run_step(argv, log, afl_env, run->dir);
out:
  campaign_strs_cleanup(&queue);
  return rc;
}

static int afl_list_findings(const campaign_opts *o, const campaign_run_h *run,
                             campaign_strs *out) {
  (void)o;
  if (every_instance(run, "crashes", out) != 0)
    return -1;
  return every_instance(run, "hangs", out);
}

static int afl_minimize(const campaign_opts *o, const campaign_run_h *run, const char *in,
                        const char *out) {
  (void)o;
  if (strstr(in, "/hangs/") != NULL) /* a hang is kept as it is */
    return campaign_copy_file(in, out) == 0 ? 0 : -1;
  char log[CAMPAIGN_PATH_MAX];
  if (campaign_path(log, sizeof(log), "%s.minimize.log", out) != 0)
    return -1;
  char *argv[] = {"afl-tmin", "-i", (char *)in, "-o", (char *)out, "-t", "25000",
                  "--", (char *)run->bin, NULL};
  if (campaign_run_step(argv, log, afl_env, run->dir) != 0 || !campaign_is_file(out)) {
    (void)campaign_copy_file(in, out);
    return -1;
  }
  return 0;
}

const campaign_engine_ops campaign_afl_ops = {
    "afl", "afl", false, afl_start, afl_poll, afl_merge, afl_list_findings, afl_minimize,
};
