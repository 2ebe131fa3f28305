/* cmd_replay.c - `ftpsfuzz replay [options] PATH...`: run corpus files
 * through their harnesses (with the oracle inside them) and report every
 * input that makes a harness fail (DESIGN section 7, CI).
 *
 * Harnesses are separate executables, so each is run as a child process:
 * the plain replay build (FTPS_FUZZ_ENGINE=none) next to this ftpsfuzz, or
 * any libFuzzer build (it takes the same file arguments). The harness of an
 * input follows from the corpus layout: the nearest path component that is a
 * harness name (corpus/seeds/<h>/..., corpus/regressions/<h>/...,
 * <campaign>/<h>/corpus/...). Inputs run in batches, one process per batch;
 * when a batch fails, each of its inputs runs alone, so every failing input
 * is named with its reason (the harness's FINDING/VIOLATION line, or the
 * sanitizer's first ERROR line, or how the process died). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "campaign_fs.h"
#include "campaign_harness.h"
#include "campaign_proc.h"
#include "cli.h"

#define BATCH_DEFAULT 256u
#define BATCH_MAX 4096u
#define TIMEOUT_DEFAULT 300u
#define SEARCH_DEPTH 3 /* corpus/ -> seeds/ -> <harness>/ */

typedef struct replay_group {
  char name[CAMPAIGN_NAME_MAX];
  campaign_strs files;
} replay_group;

typedef struct replay_ctx {
  char harness_dir[CAMPAIGN_PATH_MAX];
  campaign_strs known;
  replay_group *groups;
  size_t ngroups;
  unsigned batch, timeout_s;
  int verbose;
  size_t passed, failed;
  char log[CAMPAIGN_PATH_MAX];
} replay_ctx;

static int usage(FILE *out) {
  fprintf(out,
          "usage: ftpsfuzz replay [--harness-dir DIR] [--harness NAME] [--timeout S]\n"
          "                       [--batch N] [-v] PATH...\n"
          "\n"
          "Run every corpus file under each PATH (files or directories, recursively;\n"
          "dot files and README.md skipped) through its harness and print one line per\n"
          "failing input, then \"N passed, M failed\". The harness of a file is the\n"
          "nearest path component naming one (corpus/seeds/<harness>/...,\n"
          "corpus/regressions/<harness>/...); a PATH above them (corpus/, corpus/seeds/)\n"
          "is searched for harness directories.\n"
          "  --harness-dir DIR  where the harness executables and harnesses.list are\n"
          "                     (default: ../harnesses next to this ftpsfuzz)\n"
          "  --harness NAME     run every PATH through NAME, whatever the layout\n"
          "  --timeout S        seconds allowed per harness process (default %u)\n"
          "  --batch N          inputs per harness process (default %u)\n"
          "  -v                 name each harness run\n"
          "Exit status: 0 every input passed, 1 some input failed, 2 bad usage, an\n"
          "unknown layout or no input found.\n",
          TIMEOUT_DEFAULT, BATCH_DEFAULT);
  return CLI_USAGE;
}

static replay_group *group_for(replay_ctx *c, const char *name) {
  for (size_t i = 0; i < c->ngroups; i++)
    if (!strcmp(c->groups[i].name, name))
      return &c->groups[i];
  replay_group *ng = realloc(c->groups, (c->ngroups + 1) * sizeof(*ng));
  if (ng == NULL)
    return NULL;
  c->groups = ng;
  replay_group *g = &ng[c->ngroups++];
  snprintf(g->name, sizeof(g->name), "%s", name);
  campaign_strs_init(&g->files);
  return g;
}

static int add_inputs(replay_ctx *c, const char *harness, const char *path) {
  replay_group *g = group_for(c, harness);
  if (g == NULL || campaign_list_inputs(path, true, &g->files) != 0)
    return -1;
  return 0;
}

/* collect assigns the inputs under |path| to harnesses; returns 0, -1 on an
 * error, -2 when no harness could be told (message printed). */
static int collect(replay_ctx *c, const char *path, int depth) {
  char real[CAMPAIGN_PATH_MAX], name[CAMPAIGN_NAME_MAX];
  int is_file = campaign_is_file(path);
  if (!is_file && !campaign_is_dir(path)) {
    fprintf(stderr, "ftpsfuzz replay: %s: no such file or directory\n", path);
    return -1;
  }
  if (realpath(path, real) == NULL)
    snprintf(real, sizeof(real), "%s", path);
  if (campaign_harness_of_path(real, is_file, &c->known, name) == 0)
    return add_inputs(c, name, path);
  if (is_file || depth >= SEARCH_DEPTH) {
    fprintf(stderr,
            "ftpsfuzz replay: %s: cannot tell its harness: expected a path under a directory "
            "named after one (%s%s), or --harness NAME\n",
            path, c->known.n ? c->known.v[0] : "no harnesses.list", c->known.n > 1 ? ", ..." : "");
    return -2;
  }
  /* A directory above the harness directories (corpus/, corpus/seeds/):
   * its files cannot be told apart, its subdirectories are searched. */
  campaign_strs files, subs;
  campaign_strs_init(&files);
  campaign_strs_init(&subs);
  int rc = campaign_list_inputs(path, false, &files);
  if (rc == 0 && files.n > 0) {
    fprintf(stderr,
            "ftpsfuzz replay: %s: cannot tell the harness of %s: expected it under a "
            "directory named after one, or --harness NAME\n",
            path, files.v[0]);
    rc = -2;
  }
  if (rc == 0)
    rc = campaign_list_subdirs(path, &subs);
  for (size_t i = 0; i < subs.n && rc == 0; i++)
    rc = collect(c, subs.v[i], depth + 1);
  campaign_strs_cleanup(&files);
  campaign_strs_cleanup(&subs);
  return rc;
}

/* run_harness runs |bin| on files[from, to); returns the wait status, or -1;
 * |reason| gets the failure line. */
static int run_harness(replay_ctx *c, const char *bin, char **files, size_t from, size_t to,
                       char *reason, size_t reason_len, int *out_ok) {
  size_t n = to - from;
  char **argv = calloc(n + 2, sizeof(*argv));
  bool timed_out = false;
  char st[64];
  *out_ok = 0;
  if (argv == NULL) {
    snprintf(reason, reason_len, "out of memory");
    return -1;
  }
  argv[0] = (char *)bin;
  for (size_t i = 0; i < n; i++)
    argv[i + 1] = files[from + i];
  int status = campaign_run(argv, c->log, NULL, NULL, c->timeout_s, 1, &timed_out);
  free(argv);
  if (status == -1) {
    snprintf(reason, reason_len, "cannot run %s", bin);
    return -1;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !timed_out) {
    *out_ok = 1;
    return status;
  }
  char line[512];
  campaign_report_line(c->log, line, sizeof(line));
  campaign_status_text(status, st, sizeof(st));
  if (timed_out)
    snprintf(reason, reason_len, "%s after %u s%s%s",
             campaign_interrupted ? "interrupted" : "timeout", c->timeout_s,
             line[0] ? ": " : "", line);
  else
    snprintf(reason, reason_len, "%s%s%s", st, line[0] ? ": " : "", line);
  return status;
}

static int replay_group_run(replay_ctx *c, replay_group *g) {
  char bin[CAMPAIGN_PATH_MAX], reason[768];
  int ok;
  if (campaign_path(bin, sizeof(bin), "%s/%s", c->harness_dir, g->name) != 0)
    return -1;
  if (!campaign_is_exec(bin)) {
    fprintf(stderr, "ftpsfuzz replay: harness %s not built: %s is missing (build target %s)\n",
            g->name, bin, g->name);
    return -1;
  }
  if (c->verbose)
    fprintf(stderr, "replay: %s: %zu inputs\n", g->name, g->files.n);
  for (size_t from = 0; from < g->files.n && !campaign_interrupted; from += c->batch) {
    size_t to = from + c->batch < g->files.n ? from + c->batch : g->files.n;
    if (run_harness(c, bin, g->files.v, from, to, reason, sizeof(reason), &ok) == -1 && !ok) {
      fprintf(stderr, "ftpsfuzz replay: %s\n", reason);
      return -1;
    }
    if (ok) {
      c->passed += to - from;
      continue;
    }
    if (to - from == 1) {
      printf("FAIL %s [%s]: %s\n", g->files.v[from], g->name, reason);
      c->failed++;
      continue;
    }
    /* A batch failed: run each input alone to name every culprit. */
    size_t bad = 0;
    for (size_t i = from; i < to && !campaign_interrupted; i++) {
      if (run_harness(c, bin, g->files.v, i, i + 1, reason, sizeof(reason), &ok) == -1 && !ok) {
        fprintf(stderr, "ftpsfuzz replay: %s\n", reason);
        return -1;
      }
      if (ok) {
        c->passed++;
      } else {
        printf("FAIL %s [%s]: %s\n", g->files.v[i], g->name, reason);
        c->failed++;
        bad++;
      }
    }
    if (bad == 0 && !campaign_interrupted) {
      printf("FAIL %s .. %s [%s]: fails only when run together (state kept between inputs)\n",
             g->files.v[from], g->files.v[to - 1], g->name);
      c->failed++;
    }
  }
  fflush(stdout);
  return 0;
}

static int parse_uint(const char *s, unsigned max, unsigned *out) {
  char *end = NULL;
  if (s[0] < '0' || s[0] > '9')
    return -1;
  unsigned long v = strtoul(s, &end, 10);
  if (*end != '\0' || v == 0 || v > max)
    return -1;
  *out = (unsigned)v;
  return 0;
}

static int load_known(replay_ctx *c) {
  char list[CAMPAIGN_PATH_MAX];
  if (campaign_path(list, sizeof(list), "%s/harnesses.list", c->harness_dir) != 0)
    return -1;
  if (!campaign_is_file(list)) {
    fprintf(stderr,
            "ftpsfuzz replay: %s not found: --harness-dir must be a configured build's "
            "harnesses/ directory\n",
            list);
    return -1;
  }
  return campaign_harness_list(list, &c->known);
}

int cmd_replay(int argc, char **argv) {
  static const struct option longopts[] = {{"harness-dir", required_argument, NULL, 'd'},
                                           {"harness", required_argument, NULL, 'H'},
                                           {"timeout", required_argument, NULL, 't'},
                                           {"batch", required_argument, NULL, 'b'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  replay_ctx c;
  memset(&c, 0, sizeof(c));
  campaign_strs_init(&c.known);
  c.batch = BATCH_DEFAULT;
  c.timeout_s = TIMEOUT_DEFAULT;
  const char *harness = NULL, *hdir = NULL;
  int rc = CLI_USAGE, opt;
  int log_fd = -1;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
    switch (opt) {
    case 'd': hdir = optarg; break;
    case 'H': harness = optarg; break;
    case 't':
      if (parse_uint(optarg, 86400, &c.timeout_s) != 0) {
        fprintf(stderr, "ftpsfuzz replay: --timeout: expected seconds 1..86400, got '%s'\n", optarg);
        return CLI_USAGE;
      }
      break;
    case 'b':
      if (parse_uint(optarg, BATCH_MAX, &c.batch) != 0) {
        fprintf(stderr, "ftpsfuzz replay: --batch: expected 1..%u, got '%s'\n", BATCH_MAX, optarg);
        return CLI_USAGE;
      }
      break;
    case 'v': c.verbose = 1; break;
    case 'h': usage(stdout); return CLI_OK;
    default: return usage(stderr);
    }
  }
  if (optind >= argc)
    return usage(stderr);
  campaign_proc_init();
  if (hdir != NULL) {
    if (campaign_path(c.harness_dir, sizeof(c.harness_dir), "%s", hdir) != 0)
      goto out;
  } else {
    char self[CAMPAIGN_PATH_MAX];
    if (campaign_self_dir(self, sizeof(self)) != 0 ||
        campaign_path(c.harness_dir, sizeof(c.harness_dir), "%s/../harnesses", self) != 0)
      goto out;
  }
  if (load_known(&c) != 0)
    goto out;
  for (int i = optind; i < argc; i++) {
    int r;
    if (harness != NULL) {
      if (!campaign_strs_has(&c.known, harness)) {
        fprintf(stderr, "ftpsfuzz replay: --harness %s: not in %s/harnesses.list\n", harness,
                c.harness_dir);
        goto out;
      }
      r = add_inputs(&c, harness, argv[i]);
    } else {
      r = collect(&c, argv[i], 0);
    }
    if (r != 0)
      goto out;
  }
  size_t total = 0;
  for (size_t i = 0; i < c.ngroups; i++)
    total += c.groups[i].files.n;
  if (total == 0) {
    fprintf(stderr, "ftpsfuzz replay: no corpus inputs found under the paths given\n");
    goto out;
  }
  const char *tmp = getenv("TMPDIR");
  if (campaign_path(c.log, sizeof(c.log), "%s/ftpsfuzz-replay-XXXXXX",
                    tmp != NULL && tmp[0] ? tmp : "/tmp") != 0)
    goto out;
  log_fd = mkstemp(c.log);
  if (log_fd < 0) {
    fprintf(stderr, "ftpsfuzz replay: cannot create a temporary log %s\n", c.log);
    goto out;
  }
  close(log_fd);
  for (size_t i = 0; i < c.ngroups; i++)
    if (replay_group_run(&c, &c.groups[i]) != 0)
      goto out;
  printf("replay: %zu passed, %zu failed%s\n", c.passed, c.failed,
         campaign_interrupted ? " (interrupted)" : "");
  rc = c.failed > 0 || campaign_interrupted ? CLI_FINDING : CLI_OK;
out:
  if (log_fd >= 0)
    unlink(c.log);
  for (size_t i = 0; i < c.ngroups; i++)
    campaign_strs_cleanup(&c.groups[i].files);
  free(c.groups);
  campaign_strs_cleanup(&c.known);
  return rc;
}
