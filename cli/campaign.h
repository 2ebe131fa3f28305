/* campaign.h - what `ftpsfuzz fuzz` (cmd_fuzz.c) shares with its engine
 * drivers (campaign_libfuzzer.c, campaign_afl.c) and its report
 * (campaign_report.c).
 *
 * Layout of a campaign's output directory (--out):
 *   <out>/build-<preset>.log     build logs
 *   <out>/<h>/work/              the engine's working corpus (the seeds and the
 *                                previous campaign's corpus copied in)
 *   <out>/<h>/engine/            engine state: libFuzzer artifacts, AFL++ -o
 *   <out>/<h>/engine.log         the engine's output (engine-N.log: start N)
 *   <out>/<h>/corpus/            the final corpus, merged (-merge=1 / afl-cmin)
 *   <out>/<h>/findings/          each finding minimized, + .txt with its report
 *   <out>/report/                summary.json, state-coverage.{dot,svg},
 *                                coverage/ (llvm-cov HTML), coverage.txt
 * corpus/seeds is never written; findings are copied to
 * <regressions>/<h>/ (default corpus/regressions) with a README.md line and
 * a line in its .signatures (campaign_sig.h). The persistent working corpus
 * <corpus>/<h>/ (default <source>/out/corpus, git-ignored) is read at the
 * start and replaced by the merged corpus at the end (campaign_corpus.h). */
#ifndef FTPSFUZZ_CAMPAIGN_H
#define FTPSFUZZ_CAMPAIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "campaign_fs.h"
#include "campaign_harness.h"
#include "campaign_sig.h"

#define CAMPAIGN_JOBS_MAX 16
#define CAMPAIGN_TIMEOUT_S 25        /* per input: slower is a finding (hang) */
#define CAMPAIGN_RSS_MB 2560         /* per process: more is a finding (oom) */
#define CAMPAIGN_STEP_TIMEOUT_S 600  /* any one merge/minimize/coverage step */
#define CAMPAIGN_SLICES_MAX 256      /* slices recorded per harness */

typedef enum campaign_engine { CAMPAIGN_LIBFUZZER, CAMPAIGN_AFL } campaign_engine;

typedef struct campaign_opts {
  campaign_engine engine;
  unsigned time_s;                /* fuzzing wall time, all harnesses together */
  unsigned jobs;                  /* engine processes per harness */
  char src[CAMPAIGN_PATH_MAX];    /* the source tree */
  char build_root[CAMPAIGN_PATH_MAX]; /* <build_root>/<preset>/ build trees */
  char out[CAMPAIGN_PATH_MAX];
  char report[CAMPAIGN_PATH_MAX]; /* <out>/report */
  char regressions[CAMPAIGN_PATH_MAX];
  char corpus[CAMPAIGN_PATH_MAX]; /* persistent corpus root: <corpus>/<h>/ */
  char self[CAMPAIGN_PATH_MAX];   /* this ftpsfuzz executable */
  campaign_strs cmake_args;       /* extra configure arguments */
  bool no_build, no_coverage, no_regressions;
  bool no_minimize;                /* findings kept as found */
  bool no_corpus;                 /* neither read nor write <corpus> */
} campaign_opts;

/* One slice of fuzzing time given to a harness (campaign_sched.h). Gains
 * are over the best the harness had reached before the slice; -1 unknown. */
typedef struct campaign_slice {
  double start_s;       /* since the first slice began */
  double seconds;       /* actually fuzzed */
  long long new_edges, new_features, new_inputs;
} campaign_slice;

/* What the previous campaign left in the persistent corpus (-1 unknown). */
typedef struct campaign_prev {
  bool found;                      /* <corpus>/<h>/ existed */
  long long inputs, edges;
  long transitions;
} campaign_prev;

/* One harness's campaign and its figures. Counters are -1 until known. */
typedef struct campaign_run_h {
  char name[CAMPAIGN_NAME_MAX];
  char dir[CAMPAIGN_PATH_MAX];     /* <out>/<name> */
  char bin[CAMPAIGN_PATH_MAX];     /* the engine build of the harness */
  char cov_bin[CAMPAIGN_PATH_MAX]; /* the coverage build ("" if none) */
  char dict[CAMPAIGN_PATH_MAX];    /* "" if none */
  campaign_strs flags;             /* libFuzzer flags from fuzz/<name>.options */
  unsigned seconds;                /* fuzzing budget given so far (all slices) */
  unsigned start_seconds;          /* budget of the engine start() is starting */
  unsigned restarts;               /* engine restarts after it stopped early */
  unsigned starts;                 /* engine starts so far (names engine-N.log) */
  long long execs_base;            /* execs of the engine processes before */
  double elapsed;                  /* seconds actually fuzzed (all slices) */
  unsigned weight;                 /* schedule priority (campaign_sched.h) */
  double pass;                     /* stride-scheduling position */
  campaign_slice slices[CAMPAIGN_SLICES_MAX];
  size_t nslices;
  bool ran;
  bool start_failed;               /* the last start() failed: no more slices */
  char log[CAMPAIGN_PATH_MAX];     /* the running engine's (main) log */
  long long slice_edges0, slice_features0; /* the first figures after a
                                    * start (libFuzzer: INITED, the corpus
                                    * reloaded), -1 until seen */
  pid_t pids[CAMPAIGN_JOBS_MAX];   /* engine processes (groups) */
  size_t npids;
  long log_off;                    /* how far engine.log was parsed */
  long long execs, execs_per_s, edges, corpus, findings;
  long long features;              /* libFuzzer ft: of the running engine */
  long long edges_best, features_best; /* over all slices */
  long long seeds, corpus_final;
  campaign_prev prev;              /* the previous campaign's corpus */
  long long prev_copied;           /* its inputs copied into work/ */
  long long added_inputs, added_edges; /* by the merge, over prev (-1 n/a) */
  long trans_covered, trans_total; /* model transitions, -1 n/a */
  bool has_stability;              /* AFL++ reported a stability */
  double stability;                /* its lowest over the instances, in percent
                                    * (the share of edges that come out the same
                                    * when an input runs again; goal >= 90) */
  campaign_strs finding_lines;     /* "<new|known>: <path>: <report line>" */
  size_t new_regressions;
  size_t known_findings;           /* signature already in the regressions */
  size_t new_findings;             /* distinct findings not known before */
  double first_finding_s;          /* campaign fuzzing time at the first finding, -1 none */
  double first_finding_harness_s;  /* this harness's own fuzzing time then, -1 none */
  char note[256];                  /* what went wrong, if anything */
} campaign_run_h;

/* An engine driver. start() spawns the engine processes into run->pids for
 * run->start_seconds, resuming from <dir>/work (a new slice, or run->restarts
 * > 0: again after the engine stopped early, e.g. on a crash, when |restart|
 * is set; run->starts counts the starts before this one); poll() refreshes
 * the counters (cheap: called four times a second); merge() writes the final
 * corpus to <dir>/corpus, which may already hold the previous campaign's
 * corpus, and sets added_inputs/added_edges if it can; list_findings() appends
 * the raw finding files; minimize() writes a minimized |in| to |out| (0, or
 * -1 when it cannot, and then |out| is a copy of |in|). */
typedef struct campaign_engine_ops {
  const char *name;    /* "libfuzzer", "afl" */
  const char *preset;  /* CMake preset of its harness build */
  bool restart;        /* start again when the engine stops before its time */
  int (*start)(const campaign_opts *o, campaign_run_h *run);
  void (*poll)(const campaign_opts *o, campaign_run_h *run);
  int (*merge)(const campaign_opts *o, campaign_run_h *run);
  int (*list_findings)(const campaign_opts *o, const campaign_run_h *run, campaign_strs *out);
  int (*minimize)(const campaign_opts *o, const campaign_run_h *run, const char *in,
                  const char *out);
} campaign_engine_ops;

extern const campaign_engine_ops campaign_libfuzzer_ops;
extern const campaign_engine_ops campaign_afl_ops;

/* campaign_run_step runs one tool of the campaign (merge, minimize, llvm-cov)
 * with output to |log|, bounded by CAMPAIGN_STEP_TIMEOUT_S and stopped by a
 * second interrupt. Returns 0 if it exited 0, else -1 with a line on stderr
 * naming the tool and the log. */
int campaign_run_step(char *const argv[], const char *log, char *const env[], const char *cwd);

/* campaign_report_models computes the model transitions covered by each
 * model-driving harness's final corpus (fuzz_session inputs become client
 * scripts; fuzz_sequence inputs are transcripts already) with
 * `ftpsfuzz model --dot --coverage`, and draws <report>/state-coverage.svg
 * over all of them. Harnesses whose inputs are not sessions keep -1. */
void campaign_report_models(const campaign_opts *o, campaign_run_h *runs, size_t n, char *note,
                            size_t note_len);

/* campaign_report_coverage replays every final corpus through the coverage
 * build, writes the llvm-cov HTML report of server/ to <report>/coverage/
 * and returns server/'s line coverage in percent, or -1 (reason in |note|). */
double campaign_report_coverage(const campaign_opts *o, campaign_run_h *runs, size_t n,
                                char *note, size_t note_len);

/* campaign_report_write prints the summary table and writes
 * <report>/summary.json (per harness "stability_pct": AFL++'s lowest
 * stability over the instances, null under libFuzzer). Returns 0 or -1. */
int campaign_report_write(const campaign_opts *o, const campaign_run_h *runs, size_t n,
                          double wall_s, double line_cov, const char *cov_note,
                          const char *model_note);

#endif
