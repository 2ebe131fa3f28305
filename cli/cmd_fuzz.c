/* cmd_fuzz.c - `ftpsfuzz fuzz`: a fuzzing campaign over the harnesses with
 * libFuzzer or AFL++, ending in a report (DESIGN section 7, issue 5).
 *
 * Steps: build the engine's preset (and the coverage preset) for the chosen
 * harnesses - ninja rebuilds only what is stale; copy corpus/seeds/<h> and
 * the previous campaign's corpus (campaign_corpus.h) into the campaign's
 * working corpus; fuzz in slices (campaign_sched.h: every harness early,
 * then more time to those still finding new edges), printing a progress
 * line every few seconds; merge each working corpus into the previous
 * one; reproduce every finding and name it by its signature
 * (campaign_sig.h): known ones are reported, each new one is minimized and
 * copied into corpus/regressions/<h>/ with a line in its README.md; then
 * the report: model transitions covered, llvm-cov HTML of server/, the
 * summary table and summary.json (layout in campaign.h); the merged corpus
 * becomes the persistent one for the next campaign.
 *
 * Ctrl-C stops the running engine (SIGINT to its process group, SIGKILL after
 * a grace period), skips the harnesses not yet run, and still writes the
 * report; a second Ctrl-C also skips the slow report steps. No engine process
 * outlives ftpsfuzz (campaign_proc.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "campaign.h"
#include "campaign_corpus.h"
#include "campaign_sched.h"
#include "campaign_proc.h"
#include "cli.h"

#ifndef FTPS_SOURCE_DIR
#define FTPS_SOURCE_DIR "."
#endif

#define TIME_DEFAULT 60u
#define TIME_MAX (7u * 86400u)
#define PROGRESS_EVERY_S 5
#define GRACE_S 15         /* libFuzzer -fork finishes its running job past the budget */
#define STOP_GRACE_MS 5000 /* after SIGINT, before SIGKILL */
#define FINDINGS_MAX 32    /* findings minimized per harness (the rest are counted) */
#define HARNESSES_MAX 32
#define KIND_MAX 4         /* new findings minimized per kind of failure and harness */

static int usage(FILE *out) {
  fprintf(out,
          "usage: ftpsfuzz fuzz [--engine libfuzzer|afl] [--harness NAME|all] [--time S]\n"
          "                     [--jobs N] [--out DIR] [options]\n"
          "\n"
          "Run a fuzzing campaign on the harnesses and write a report.\n"
          "  --engine E       libfuzzer (default; clang, ASan+UBSan, -fork=N) or afl\n"
          "                   (AFL++ afl-clang-fast, persistent mode, one -M and N-1 -S)\n"
          "  --harness H      one harness, or all (default); the list is the build's\n"
          "                   harnesses/harnesses.list\n"
          "  --time S         fuzzing wall time in seconds (default %u), given out in\n"
          "                   slices: every harness early, fuzz_sequence 3x, then\n"
          "                   more to those still finding new coverage; building,\n"
          "                   merging and the report come on top\n"
          "  --jobs N         engine processes per harness (default 1)\n"
          "  --out DIR        campaign directory (default out/campaign-<timestamp>)\n"
          "  --source DIR     the ftpsfuzz source tree (default: the one built from,\n"
          "                   or $FTPS_SOURCE_DIR)\n"
          "  --build-root DIR build trees go to DIR/<preset> (default <source>/build)\n"
          "  --cmake-arg ARG  extra argument when configuring a preset (repeatable)\n"
          "  --regressions DIR  where findings are copied (default <source>/corpus/regressions)\n"
          "  --no-regressions   keep findings in the campaign directory only\n"
          "  --corpus DIR     persistent corpus: start from DIR/<harness>/ too and\n"
          "                   replace it with the merged corpus (default\n"
          "                   <source>/out/corpus)\n"
          "  --no-corpus      start from the seeds alone and keep no corpus\n"
          "  --no-build       use the binaries already built\n"
          "  --no-coverage    skip the coverage build and the llvm-cov report\n"
          "  --no-minimize    keep findings as found (reproduced and named, not minimized)\n"
          "Seeds come from <source>/corpus/seeds/<harness>/ and are never written.\n"
          "Report: <out>/report/summary.json, state-coverage.svg, coverage/index.html.\n"
          "A finding whose signature is in <regressions>/<harness>/.signatures is\n"
          "reported as known and not saved again.\n"
          "Exit status: 0 no finding, 1 a finding, new or known (crash, hang, oracle\n"
          "violation), 2 bad usage or a build/engine failure.\n",
          TIME_DEFAULT);
  return CLI_USAGE;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_uint(const char *s, unsigned max, unsigned *out) {
  char *end = NULL;
  if (s[0] < '0' || s[0] > '9')
    return -1;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (*end != '\0' || errno != 0 || v == 0 || v > max)
    return -1;
  *out = (unsigned)v;
  return 0;
}

/* --- building --- */

static int build_preset(const campaign_opts *o, const char *preset, const campaign_strs *targets,
                        char dir[CAMPAIGN_PATH_MAX]) {
  char log[CAMPAIGN_PATH_MAX], ninja[CAMPAIGN_PATH_MAX];
  if (campaign_path(dir, CAMPAIGN_PATH_MAX, "%s/%s", o->build_root, preset) != 0 ||
      campaign_path(log, sizeof(log), "%s/build-%s.log", o->out, preset) != 0 ||
      campaign_path(ninja, sizeof(ninja), "%s/build.ninja", dir) != 0)
    return -1;
  if (o->no_build)
    return 0;
  if (targets == NULL) {
    /* configure once; later builds re-run CMake themselves when needed */
    if (campaign_is_file(ninja))
      return 0;
    char *argv[8 + 64];
    size_t n = 0;
    argv[n++] = "cmake";
    argv[n++] = "--preset";
    argv[n++] = (char *)preset;
    argv[n++] = "-B";
    argv[n++] = dir;
    for (size_t i = 0; i < o->cmake_args.n && n < 8 + 60; i++)
      argv[n++] = o->cmake_args.v[i];
    argv[n] = NULL;
    printf("configuring preset %s in %s\n", preset, dir);
    fflush(stdout);
    if (campaign_run_step(argv, log, NULL, o->src) != 0) {
      fprintf(stderr, "ftpsfuzz fuzz: configuring preset %s failed; see %s\n", preset, log);
      return -1;
    }
    return 0;
  }
  char **argv = calloc(targets->n + 8, sizeof(*argv));
  if (argv == NULL)
    return -1;
  size_t n = 0;
  argv[n++] = "cmake";
  argv[n++] = "--build";
  argv[n++] = dir;
  argv[n++] = "--target";
  for (size_t i = 0; i < targets->n; i++)
    argv[n++] = targets->v[i];
  argv[n] = NULL;
  double t0 = now_s();
  printf("building %s: %zu harness(es) in %s ...", preset, targets->n, dir);
  fflush(stdout);
  int rc = campaign_run_step(argv, log, NULL, o->src);
  free(argv);
  printf(" %s (%.0f s)\n", rc == 0 ? "done" : "FAILED", now_s() - t0);
  if (rc != 0) {
    char line[512];
    campaign_report_line(log, line, sizeof(line));
    fprintf(stderr, "ftpsfuzz fuzz: building preset %s failed: %s\n  (full log: %s)\n", preset,
            line, log);
  }
  return rc;
}

/* --- one harness --- */

static int setup_run(const campaign_opts *o, campaign_run_h *r, const char *engine_dir,
                     const char *cov_dir) {
  char seeds[CAMPAIGN_PATH_MAX], work[CAMPAIGN_PATH_MAX], engine[CAMPAIGN_PATH_MAX];
  campaign_strs files;
  int rc = -1;
  campaign_strs_init(&files);
  if (campaign_path(r->dir, sizeof(r->dir), "%s/%s", o->out, r->name) != 0 ||
      campaign_path(r->bin, sizeof(r->bin), "%s/harnesses/%s", engine_dir, r->name) != 0 ||
      campaign_path(seeds, sizeof(seeds), "%s/corpus/seeds/%s", o->src, r->name) != 0 ||
      campaign_path(work, sizeof(work), "%s/work", r->dir) != 0 ||
      campaign_path(engine, sizeof(engine), "%s/engine", r->dir) != 0)
    goto out;
  if (cov_dir != NULL &&
      campaign_path(r->cov_bin, sizeof(r->cov_bin), "%s/harnesses/%s", cov_dir, r->name) != 0)
    goto out;
  if (!campaign_is_exec(r->bin)) {
    fprintf(stderr, "ftpsfuzz fuzz: %s is missing: build the %s preset (or drop --no-build)\n",
            r->bin, o->engine == CAMPAIGN_AFL ? "afl" : "libfuzzer");
    goto out;
  }
  if (campaign_options(o->src, r->name, &r->flags, r->dict) != 0 || campaign_mkdirs(work) != 0 ||
      campaign_mkdirs(engine) != 0)
    goto out;
  if (campaign_is_dir(seeds) && campaign_list_inputs(seeds, false, &files) != 0)
    goto out;
  for (size_t i = 0; i < files.n; i++) {
    char dst[CAMPAIGN_PATH_MAX];
    const char *base = strrchr(files.v[i], '/') + 1;
    if (campaign_path(dst, sizeof(dst), "%s/%s", work, base) != 0 ||
        campaign_copy_file(files.v[i], dst) != 0)
      goto out;
  }
  r->seeds = (long long)files.n;
  if (campaign_corpus_load(o, r, work) != 0)
    goto out;
  if (files.n == 0 && r->prev_copied == 0) {
    /* AFL++ refuses an empty input directory; libFuzzer starts from "" */
    char dst[CAMPAIGN_PATH_MAX];
    FILE *f;
    if (campaign_path(dst, sizeof(dst), "%s/empty", work) != 0 || (f = fopen(dst, "wb")) == NULL)
      goto out;
    fputc(0, f);
    fclose(f);
  }
  rc = 0;
out:
  campaign_strs_cleanup(&files);
  return rc;
}

static void progress(const campaign_run_h *r, double t) {
  printf("[%-16s %4.0f/%us] execs %lld (%lld/s)  edges %lld  corpus %lld  findings %lld\n",
         r->name, t, r->seconds, r->execs < 0 ? 0 : r->execs,
         r->execs_per_s < 0 ? 0 : r->execs_per_s, r->edges < 0 ? 0 : r->edges,
         r->corpus < 0 ? 0 : r->corpus, r->findings < 0 ? 0 : r->findings);
  fflush(stdout);
}

static long long max_ll(long long a, long long b) { return a > b ? a : b; }

/* gain over the best before the slice, or over the slice's own first
 * figure (the corpus reloaded) when that is higher; -1 unknown */
static long long gain(long long best_before, long long first, long long best_now) {
  if (best_now < 0)
    return -1;
  long long base = max_ll(best_before, first);
  return base < 0 ? 0 : max_ll(0, best_now - base);
}

/* run_slice fuzzes |r| for |seconds|, resuming from its work/ corpus, and
 * records the slice (campaign_sched.h). |start_s| is the campaign's fuzzing
 * time before it. */
static void run_slice(const campaign_opts *o, const campaign_engine_ops *eng, campaign_run_h *r,
                      unsigned seconds, double start_s) {
  char work[CAMPAIGN_PATH_MAX];
  long long edges0 = r->edges_best, ft0 = r->features_best, slice_e0 = -1, slice_f0 = -1;
  long long corpus0 = campaign_path(work, sizeof(work), "%s/work", r->dir) == 0
                          ? (long long)campaign_count_files(work, "")
                          : 0;
  printf("=== %s: slice %zu, %s for %u s, %u job(s), %lld seed(s) + %lld from the last "
         "campaign, %lld in work/\n",
         r->name, r->nslices + 1, eng->name, seconds, o->jobs, r->seeds, r->prev_copied, corpus0);
  fflush(stdout);
  double t0 = now_s(), next = t0 + PROGRESS_EVERY_S;
  unsigned restarts0 = r->restarts;
  r->seconds += seconds;
  r->start_seconds = seconds;
  r->execs_base = r->execs > 0 ? r->execs : 0;
  r->note[0] = '\0';
  r->starts++;
  if (eng->start(o, r) != 0) {
    snprintf(r->note, sizeof(r->note), "the engine could not be started");
    r->start_failed = true;
    campaign_sched_done(r, start_s, 0, -1, -1, -1);
    return;
  }
  r->ran = true;
  bool stopped = false;
  for (;;) {
    /* reap engine processes that ended on their own */
    size_t alive = 0;
    for (size_t i = 0; i < r->npids; i++) {
      if (r->pids[i] == 0)
        continue;
      int st = 0;
      if (campaign_wait(r->pids[i], 0, &st) == 1) {
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) && r->note[0] == '\0') {
          char sts[64], line[150];
          campaign_status_text(st, sts, sizeof(sts));
          campaign_report_line(r->log, line, sizeof(line));
          snprintf(r->note, sizeof(r->note), "engine ended: %s: %s", sts, line);
        }
        r->pids[i] = 0;
      } else {
        alive++;
      }
    }
    eng->poll(o, r);
    if (r->findings > 0 && r->first_finding_s < 0) {
      /* seen within a quarter second: time to the first finding, on the
       * campaign's clock and on this harness's own (bench_planted.sh) */
      double in_slice = now_s() - t0;
      r->first_finding_s = start_s + in_slice;
      r->first_finding_harness_s = r->elapsed + in_slice;
    }
    if (slice_e0 < 0)
      slice_e0 = r->slice_edges0;
    if (slice_f0 < 0)
      slice_f0 = r->slice_features0;
    r->edges_best = max_ll(r->edges_best, r->edges);
    r->features_best = max_ll(r->features_best, r->features);
    double t = now_s();
    if (alive == 0) {
      /* stopped early (plain libFuzzer stops at a finding): go on with the
       * slice's time left, unless it keeps stopping at once */
      double left = (double)seconds - (t - t0);
      if (!eng->restart || campaign_interrupted || left < 3 || r->restarts - restarts0 >= 20)
        break;
      r->restarts++;
      r->execs_base = r->execs > 0 ? r->execs : 0;
      r->start_seconds = (unsigned)left;
      r->note[0] = '\0';
      printf("[%-16s %4.0f/%us] engine stopped (finding?): restarting for %u s\n", r->name,
             r->elapsed + (t - t0), r->seconds, r->start_seconds);
      r->starts++;
      if (eng->start(o, r) != 0)
        break;
      continue;
    }
    if (campaign_interrupted || t - t0 > (double)seconds + GRACE_S) {
      for (size_t i = 0; i < r->npids; i++)
        if (r->pids[i] != 0) {
          (void)campaign_stop(r->pids[i], SIGINT, STOP_GRACE_MS);
          r->pids[i] = 0;
        }
      stopped = true;
      break;
    }
    if (t >= next) {
      progress(r, r->elapsed + (t - t0));
      next += PROGRESS_EVERY_S;
    }
    /* a quarter second: a slice's end is seen at once */
    struct timespec ts = {0, 250 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  double took = now_s() - t0;
  eng->poll(o, r);
  r->edges_best = max_ll(r->edges_best, r->edges);
  r->features_best = max_ll(r->features_best, r->features);
  r->elapsed += took;
  progress(r, r->elapsed);
  /* one rate for every engine and mode: all execs over the fuzzing time */
  if (r->execs > 0 && r->elapsed > 0)
    r->execs_per_s = (long long)((double)r->execs / r->elapsed);
  long long corpus1 = (long long)campaign_count_files(work, "");
  campaign_sched_done(r, start_s, took, gain(edges0, slice_e0, r->edges_best),
                      gain(ft0, slice_f0, r->features_best), max_ll(0, corpus1 - corpus0));
  const campaign_slice *sl = &r->slices[r->nslices - 1];
  printf("[%-16s] slice %zu: %.0f s, +%lld edges, +%lld features, +%lld inputs\n", r->name,
         r->nslices, took, max_ll(0, sl->new_edges), max_ll(0, sl->new_features), sl->new_inputs);
  fflush(stdout);
  if (stopped && campaign_interrupted)
    snprintf(r->note, sizeof(r->note), "interrupted after %.0f s", r->elapsed);
}

/* add_regression copies the minimized finding |min| (named |hex|) into the
 * regressions with a README.md line and its signatures, unless a file of
 * that content is there already (then the finding is known). */
static void add_regression(const campaign_opts *o, campaign_run_h *r, const char *min,
                           const char *hex, const char *line, const char *sig,
                           const char *sig_min) {
  char dir[CAMPAIGN_PATH_MAX], dst[CAMPAIGN_PATH_MAX], readme[CAMPAIGN_PATH_MAX];
  if (campaign_path(dir, sizeof(dir), "%s/%s", o->regressions, r->name) != 0 ||
      campaign_path(dst, sizeof(dst), "%s/%s", dir, hex) != 0 ||
      campaign_path(readme, sizeof(readme), "%s/README.md", dir) != 0)
    return;
  if (campaign_is_file(dst)) {
    r->known_findings++;
    campaign_strs_pushf(&r->finding_lines, "known: %s (already a regression): %s", dst, line);
    return;
  }
  r->new_findings++;
  if (o->no_regressions) {
    campaign_strs_pushf(&r->finding_lines, "new: %s: %s [%s]", min, line, sig);
    return;
  }
  if (campaign_mkdirs(dir) != 0 || campaign_copy_file(min, dst) != 0)
    return;
  r->new_regressions++;
  campaign_strs_pushf(&r->finding_lines, "new: %s: %s [%s]", dst, line, sig);
  (void)campaign_sig_add(dir, sig, hex);
  if (strcmp(sig, sig_min) != 0)
    (void)campaign_sig_add(dir, sig_min, hex);
  FILE *f = fopen(readme, "a");
  if (f != NULL) {
    char day[16];
    time_t now = time(NULL);
    struct tm tmv;
    strftime(day, sizeof(day), "%Y-%m-%d", gmtime_r(&now, &tmv));
    fprintf(f, "- `%s`: %s (ftpsfuzz fuzz, %s, %s)\n", hex, line,
            o->engine == CAMPAIGN_AFL ? "afl" : "libfuzzer", day);
    fclose(f);
  }
}

/* reproduce runs the harness on |input| once, logging to |log|, and writes
 * the line that says what went wrong into |line|. */
static void reproduce(campaign_run_h *r, const char *input, const char *log, char *line,
                      size_t len) {
  char *argv[] = {r->bin, (char *)input, NULL};
  bool timed_out = false;
  int st = campaign_run(argv, log, NULL, r->dir, CAMPAIGN_TIMEOUT_S * 2, 2, &timed_out);
  if (st != -1 && !timed_out && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
    snprintf(line, len, "does not reproduce alone");
  } else if (timed_out) {
    snprintf(line, len, "hang: no result within %d s", CAMPAIGN_TIMEOUT_S * 2);
  } else {
    campaign_report_line(log, line, len);
    if (line[0] == '\0')
      campaign_status_text(st, line, len);
  }
}

/* findings_one reproduces every finding and names its bug (campaign_sig.h):
 * a signature already in the regressions is reported as known and not
 * saved again; of each new one the first input is minimized and copied to
 * the regressions (at most KIND_MAX per kind of failure: the rest of a
 * kind are usually the same bug reached another way). */
static void findings_one(const campaign_opts *o, const campaign_engine_ops *eng,
                         campaign_run_h *r) {
  campaign_strs raw, sigs, kinds, known;
  char fdir[CAMPAIGN_PATH_MAX], regdir[CAMPAIGN_PATH_MAX];
  size_t minimized = 0;
  campaign_strs_init(&raw);
  campaign_strs_init(&sigs);
  campaign_strs_init(&kinds);
  campaign_strs_init(&known);
  if (campaign_path(fdir, sizeof(fdir), "%s/findings", r->dir) != 0 ||
      campaign_path(regdir, sizeof(regdir), "%s/%s", o->regressions, r->name) != 0 ||
      eng->list_findings(o, r, &raw) != 0 || raw.n == 0 || campaign_mkdirs(fdir) != 0)
    goto out;
  (void)campaign_sig_load(regdir, &known);
  if ((long long)raw.n > r->findings)
    r->findings = (long long)raw.n;
  printf("%s: %zu finding(s): reproducing, minimizing one per new signature\n", r->name, raw.n);
  fflush(stdout);
  for (size_t i = 0; i < raw.n && minimized < FINDINGS_MAX && campaign_interrupted < 2; i++) {
    char min[CAMPAIGN_PATH_MAX], log[CAMPAIGN_PATH_MAX], hex[65], line[512], kind[128];
    char named[CAMPAIGN_PATH_MAX], mline[512], sig[CAMPAIGN_SIG_MAX], msig[CAMPAIGN_SIG_MAX];
    if (campaign_path(min, sizeof(min), "%s/min-%zu", fdir, i) != 0 ||
        campaign_path(log, sizeof(log), "%s/raw-%zu.txt", fdir, i) != 0)
      continue;
    reproduce(r, raw.v[i], log, line, sizeof(line));
    campaign_sig_of(r->name, line, log, sig);
    if (campaign_strs_has(&sigs, sig))
      continue; /* the same bug again */
    campaign_strs_push(&sigs, sig);
    if (campaign_strs_has(&known, sig)) {
      r->known_findings++;
      printf("  known (%s): %s\n", sig, line);
      campaign_strs_pushf(&r->finding_lines, "known: %s: %s [%s]", raw.v[i], line, sig);
      continue;
    }
    campaign_sig_kind(line, kind, sizeof(kind));
    size_t same_kind = 0;
    for (size_t k = 0; k < kinds.n; k++)
      same_kind += !strcmp(kinds.v[k], kind);
    campaign_strs_push(&kinds, kind);
    if (same_kind >= KIND_MAX)
      continue;
    minimized++;
    /* keep the minimized input only if it still fails the same way */
    snprintf(msig, sizeof(msig), "%s", sig);
    if (o->no_minimize) {
      (void)campaign_copy_file(raw.v[i], min); /* kept as found (bench_planted.sh) */
    } else if (eng->minimize(o, r, raw.v[i], min) == 0 &&
        campaign_path(log, sizeof(log), "%s/min-%zu.txt", fdir, i) == 0) {
      reproduce(r, min, log, mline, sizeof(mline));
      char mkind[128];
      campaign_sig_kind(mline, mkind, sizeof(mkind));
      if (strcmp(mkind, kind) != 0)
        (void)campaign_copy_file(raw.v[i], min);
    }
    if (!campaign_is_file(min) || campaign_sha256_file(min, hex) != 0 ||
        campaign_path(named, sizeof(named), "%s/%s", fdir, hex) != 0 || rename(min, named) != 0)
      continue;
    if (campaign_path(log, sizeof(log), "%s/%s.txt", fdir, hex) == 0) {
      reproduce(r, named, log, mline, sizeof(mline)); /* the report kept beside it */
      campaign_sig_of(r->name, mline, log, msig);
    }
    if (campaign_strs_has(&known, msig)) {
      r->known_findings++;
      printf("  known (%s): %s\n", msig, mline);
      campaign_strs_pushf(&r->finding_lines, "known: %s: %s [%s]", named, mline, msig);
      continue;
    }
    printf("  new (%s): %s\n", sig, mline);
    add_regression(o, r, named, hex, mline, sig, msig);
  }
out:
  campaign_strs_cleanup(&raw);
  campaign_strs_cleanup(&sigs);
  campaign_strs_cleanup(&kinds);
  campaign_strs_cleanup(&known);
}

/* --- options --- */

static int set_path(char *dst, const char *src_path) {
  if (src_path[0] == '/')
    return campaign_path(dst, CAMPAIGN_PATH_MAX, "%s", src_path);
  char cwd[CAMPAIGN_PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == NULL)
    return -1;
  return campaign_path(dst, CAMPAIGN_PATH_MAX, "%s/%s", cwd, src_path);
}

static int parse_opts(int argc, char **argv, campaign_opts *o, const char **harness) {
  static const struct option longopts[] = {
      {"engine", required_argument, NULL, 'e'},     {"harness", required_argument, NULL, 'H'},
      {"time", required_argument, NULL, 't'},       {"jobs", required_argument, NULL, 'j'},
      {"out", required_argument, NULL, 'o'},        {"source", required_argument, NULL, 's'},
      {"build-root", required_argument, NULL, 'b'}, {"cmake-arg", required_argument, NULL, 'c'},
      {"regressions", required_argument, NULL, 'r'}, {"no-regressions", no_argument, NULL, 'R'},
      {"no-build", no_argument, NULL, 'N'},         {"no-coverage", no_argument, NULL, 'C'},
      {"corpus", required_argument, NULL, 'P'},     {"no-corpus", no_argument, NULL, 'n'},
      {"no-minimize", no_argument, NULL, 'M'},      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *src = getenv("FTPS_SOURCE_DIR"), *out = NULL, *root = NULL, *reg = NULL;
  const char *corpus = NULL;
  int opt;
  if (src == NULL || src[0] == '\0')
    src = FTPS_SOURCE_DIR;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (opt) {
    case 'e':
      if (!strcmp(optarg, "libfuzzer"))
        o->engine = CAMPAIGN_LIBFUZZER;
      else if (!strcmp(optarg, "afl"))
        o->engine = CAMPAIGN_AFL;
      else {
        fprintf(stderr, "ftpsfuzz fuzz: --engine: expected libfuzzer or afl, got '%s'\n", optarg);
        return CLI_USAGE;
      }
      break;
    case 'H': *harness = optarg; break;
    case 't':
      if (parse_uint(optarg, TIME_MAX, &o->time_s) != 0) {
        fprintf(stderr, "ftpsfuzz fuzz: --time: expected seconds 1..%u, got '%s'\n", TIME_MAX,
                optarg);
        return CLI_USAGE;
      }
      break;
    case 'j':
      if (parse_uint(optarg, CAMPAIGN_JOBS_MAX, &o->jobs) != 0) {
        fprintf(stderr, "ftpsfuzz fuzz: --jobs: expected 1..%d, got '%s'\n", CAMPAIGN_JOBS_MAX,
                optarg);
        return CLI_USAGE;
      }
      break;
    case 'o': out = optarg; break;
    case 's': src = optarg; break;
    case 'b': root = optarg; break;
    case 'c':
      if (campaign_strs_push(&o->cmake_args, optarg) != 0)
        return CLI_USAGE;
      break;
    case 'r': reg = optarg; break;
    case 'R': o->no_regressions = true; break;
    case 'N': o->no_build = true; break;
    case 'C': o->no_coverage = true; break;
    case 'P': corpus = optarg; break;
    case 'n': o->no_corpus = true; break;
    case 'M': o->no_minimize = true; break;
    case 'h': usage(stdout); return CLI_OK;
    default: return usage(stderr);
    }
  }
  if (optind != argc) {
    fprintf(stderr, "ftpsfuzz fuzz: unexpected argument '%s'\n", argv[optind]);
    return usage(stderr);
  }
  char presets[CAMPAIGN_PATH_MAX];
  if (set_path(o->src, src) != 0 ||
      campaign_path(presets, sizeof(presets), "%s/CMakePresets.json", o->src) != 0)
    return CLI_USAGE;
  if (!campaign_is_file(presets)) {
    fprintf(stderr, "ftpsfuzz fuzz: %s not found: --source must be the ftpsfuzz source tree\n",
            presets);
    return CLI_USAGE;
  }
  if (root != NULL ? set_path(o->build_root, root)
                   : campaign_path(o->build_root, CAMPAIGN_PATH_MAX, "%s/build", o->src))
    return CLI_USAGE;
  if (reg != NULL ? set_path(o->regressions, reg)
                  : campaign_path(o->regressions, CAMPAIGN_PATH_MAX, "%s/corpus/regressions",
                                  o->src))
    return CLI_USAGE;
  if (corpus != NULL ? set_path(o->corpus, corpus)
                     : campaign_path(o->corpus, CAMPAIGN_PATH_MAX, "%s/out/corpus", o->src))
    return CLI_USAGE;
  if (out == NULL) {
    char stamp[32], rel[64];
    time_t now = time(NULL);
    struct tm tmv;
    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime_r(&now, &tmv));
    snprintf(rel, sizeof(rel), "out/campaign-%s", stamp);
    if (set_path(o->out, rel) != 0)
      return CLI_USAGE;
  } else if (set_path(o->out, out) != 0) {
    return CLI_USAGE;
  }
  if (campaign_path(o->report, sizeof(o->report), "%s/report", o->out) != 0)
    return CLI_USAGE;
  ssize_t n = readlink("/proc/self/exe", o->self, sizeof(o->self) - 1);
  if (n <= 0) {
    fprintf(stderr, "ftpsfuzz fuzz: cannot find the ftpsfuzz executable\n");
    return CLI_USAGE;
  }
  o->self[n] = '\0';
  return -1; /* go on */
}

int cmd_fuzz(int argc, char **argv) {
  campaign_opts *o = calloc(1, sizeof(*o));
  campaign_run_h *runs = NULL;
  campaign_strs names, targets;
  bool *merged = NULL;
  const char *harness = "all";
  size_t nruns = 0;
  int rc = CLI_USAGE;
  double t_start = now_s();
  char engine_dir[CAMPAIGN_PATH_MAX], cov_dir[CAMPAIGN_PATH_MAX], list[CAMPAIGN_PATH_MAX];
  campaign_strs_init(&names);
  campaign_strs_init(&targets);
  if (o == NULL)
    return CLI_USAGE;
  campaign_strs_init(&o->cmake_args);
  o->time_s = TIME_DEFAULT;
  o->jobs = 1;
  int p = parse_opts(argc, argv, o, &harness);
  if (p >= 0) {
    rc = p;
    goto out;
  }
  const campaign_engine_ops *eng =
      o->engine == CAMPAIGN_AFL ? &campaign_afl_ops : &campaign_libfuzzer_ops;
  campaign_proc_init();
  if (campaign_mkdirs(o->out) != 0 || campaign_mkdirs(o->report) != 0)
    goto out;
  printf("campaign: %s, %s, %u s, %u job(s) -> %s\n", eng->name, harness, o->time_s, o->jobs,
         o->out);

  /* configure the engine preset, read its harness list, build */
  if (build_preset(o, eng->preset, NULL, engine_dir) != 0 ||
      campaign_path(list, sizeof(list), "%s/harnesses/harnesses.list", engine_dir) != 0 ||
      campaign_harness_list(list, &names) != 0)
    goto out;
  if (strcmp(harness, "all") != 0) {
    if (!campaign_strs_has(&names, harness)) {
      fprintf(stderr, "ftpsfuzz fuzz: --harness %s: not one of the harnesses in %s\n", harness,
              list);
      goto out;
    }
    campaign_strs_push(&targets, harness);
  } else {
    for (size_t i = 0; i < names.n && i < HARNESSES_MAX; i++)
      campaign_strs_push(&targets, names.v[i]);
  }
  if (targets.n == 0) {
    fprintf(stderr, "ftpsfuzz fuzz: no harness listed in %s\n", list);
    goto out;
  }
  if (build_preset(o, eng->preset, &targets, engine_dir) != 0)
    goto out;
  bool have_cov = false;
  if (!o->no_coverage && !campaign_interrupted) {
    have_cov = build_preset(o, "coverage", NULL, cov_dir) == 0 &&
               build_preset(o, "coverage", &targets, cov_dir) == 0;
    if (!have_cov)
      fprintf(stderr, "ftpsfuzz fuzz: going on without the coverage report\n");
  }
  if (campaign_interrupted)
    goto out;

  runs = calloc(targets.n, sizeof(*runs));
  if (runs == NULL)
    goto out;
  for (size_t i = 0; i < targets.n; i++) {
    campaign_run_h *r = &runs[nruns++];
    snprintf(r->name, sizeof(r->name), "%s", targets.v[i]);
    campaign_strs_init(&r->flags);
    campaign_strs_init(&r->finding_lines);
    r->execs = r->execs_per_s = r->edges = r->corpus = r->findings = -1;
    r->first_finding_s = r->first_finding_harness_s = -1;
    r->features = r->edges_best = r->features_best = -1;
    r->corpus_final = -1;
    r->added_inputs = r->added_edges = -1;
    r->trans_covered = r->trans_total = -1;
    if (setup_run(o, r, engine_dir, have_cov ? cov_dir : NULL) != 0)
      goto out;
  }

  /* fuzz, in slices */
  campaign_sched sched;
  campaign_sched_init(&sched, runs, nruns, o->time_s);
  double fuzzed = 0;
  for (;;) {
    unsigned secs = 0;
    int k = campaign_interrupted ? -1 : campaign_sched_next(&sched, runs, nruns, fuzzed, &secs);
    if (k < 0)
      break;
    double t = now_s();
    run_slice(o, eng, &runs[k], secs, fuzzed);
    fuzzed += now_s() - t;
  }
  for (size_t i = 0; i < nruns; i++)
    if (!runs[i].ran && runs[i].note[0] == '\0')
      snprintf(runs[i].note, sizeof(runs[i].note), "not run%s",
               campaign_interrupted ? ": interrupted" : "");

  /* merge and findings */
  bool finding = false;
  merged = calloc(nruns, sizeof(*merged));
  if (merged == NULL)
    goto out;
  for (size_t i = 0; i < nruns; i++) {
    campaign_run_h *r = &runs[i];
    if (!r->ran)
      continue;
    char corpus[CAMPAIGN_PATH_MAX];
    r->edges = r->edges_best; /* the last slice's figure may lag its best */
    if (campaign_interrupted < 2) {
      printf("%s: merging the corpus ...\n", r->name);
      fflush(stdout);
      if (eng->merge(o, r) != 0) {
        if (r->note[0] == '\0')
          snprintf(r->note, sizeof(r->note), "merge failed (see %s/merge.log)", r->dir);
      } else {
        merged[i] = true;
      }
    }
    if (campaign_path(corpus, sizeof(corpus), "%s/corpus", r->dir) == 0 && campaign_is_dir(corpus))
      r->corpus_final = (long long)campaign_count_files(corpus, "");
    /* an engine whose merge cannot say: the difference of the counts */
    if (merged[i] && r->added_inputs < 0 && r->prev.found && r->prev.inputs >= 0)
      r->added_inputs = max_ll(0, r->corpus_final - r->prev.inputs);
    if (merged[i] && r->added_edges < 0 && r->prev.found && r->prev.edges >= 0)
      r->added_edges = max_ll(0, r->edges_best - r->prev.edges);
    findings_one(o, eng, r);
    if (r->findings > 0)
      finding = true;
  }

  /* report */
  char model_note[256] = "", cov_note[256] = "skipped (--no-coverage)";
  double line_cov = -1;
  if (campaign_interrupted < 2) {
    printf("report: model transitions ...\n");
    fflush(stdout);
    campaign_report_models(o, runs, nruns, model_note, sizeof(model_note));
    if (have_cov) {
      printf("report: llvm-cov of server/ ...\n");
      fflush(stdout);
      line_cov = campaign_report_coverage(o, runs, nruns, cov_note, sizeof(cov_note));
    } else if (!o->no_coverage) {
      snprintf(cov_note, sizeof(cov_note), "the coverage preset did not build");
    }
  } else {
    snprintf(model_note, sizeof(model_note), "skipped (interrupted)");
    snprintf(cov_note, sizeof(cov_note), "skipped (interrupted)");
  }
  /* the merged corpus is the next campaign's start */
  for (size_t i = 0; i < nruns; i++)
    if (merged[i] && campaign_corpus_save(o, &runs[i]) != 0 && runs[i].note[0] == '\0')
      snprintf(runs[i].note, sizeof(runs[i].note), "the persistent corpus was not updated");
  if (campaign_report_write(o, runs, nruns, now_s() - t_start, line_cov, cov_note, model_note) != 0)
    goto out;
  rc = finding ? CLI_FINDING : CLI_OK;
out:
  campaign_proc_kill_all();
  for (size_t i = 0; i < nruns; i++) {
    campaign_strs_cleanup(&runs[i].flags);
    campaign_strs_cleanup(&runs[i].finding_lines);
  }
  free(runs);
  free(merged);
  campaign_strs_cleanup(&names);
  campaign_strs_cleanup(&targets);
  campaign_strs_cleanup(&o->cmake_args);
  free(o);
  return rc;
}
