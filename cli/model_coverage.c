/* model_coverage.c - play or judge every transcript of a corpus directory and
 * record the model transitions it takes (see model_coverage.h). */
#include "model_coverage.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "judge.h"
#include "model_export.h"
#include "play.h"
#include "runner.h"
#include "test_config.h"
#include "transcript.h"

/* A corpus directory larger than this is refused rather than half-read. */
#define COVER_FILES_MAX 100000u

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* list_dir returns the sorted names of |dir| (caller frees each and the
 * array), or -1. */
static int list_dir(const char *dir, char ***out, size_t *out_n, FILE *diag) {
  DIR *d = opendir(dir);
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = -1;
  if (!d) {
    fprintf(diag, "%s: cannot open the directory\n", dir);
    return -1;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    if (n == COVER_FILES_MAX) {
      fprintf(diag, "%s: more than %u files\n", dir, COVER_FILES_MAX);
      goto out;
    }
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      char **nn = realloc(names, ncap * sizeof(*nn));
      if (!nn)
        goto oom;
      names = nn;
      cap = ncap;
    }
    names[n] = strdup(e->d_name);
    if (!names[n])
      goto oom;
    n++;
  }
  if (n)
    qsort(names, n, sizeof(*names), cmp_names);
  *out = names;
  *out_n = n;
  names = NULL;
  n = 0;
  rc = 0;
  goto out;
oom:
  fprintf(diag, "%s: out of memory\n", dir);
out:
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  closedir(d);
  return rc;
}

static bool has_server_lines(const transcript *t) {
  for (size_t i = 0; i < t->n; i++)
    if (t->steps[i].kind == TRANSCRIPT_S)
      return true;
  return false;
}

/* load reads |path| as the binary corpus form, else as .fts text. Returns 0,
 * 1 (not a transcript: reported, skip it) or -1 (out of memory). */
static int load(const char *path, transcript *t, FILE *diag) {
  uint8_t *buf = NULL;
  size_t len = 0;
  char berr[256], terr[512];
  int rc = 1;
  if (transcript_read_file(path, &buf, &len, terr, sizeof(terr)) != 0) {
    fprintf(diag, "%s\n", terr);
    return 1;
  }
  if (transcript_decode_binary(t, buf, len, berr, sizeof(berr)) == 0) {
    rc = 0;
    goto out;
  }
  transcript_cleanup(t);
  transcript_init(t);
  if (transcript_parse_text(t, (const char *)buf, len, path, terr, sizeof(terr)) == 0) {
    rc = 0;
    goto out;
  }
  fprintf(diag, "%s: skipped, not a transcript (binary: %s; text: %s)\n", path, berr, terr);
out:
  free(buf);
  return rc;
}

int cli_cover_dir(model_cover *cov, const char *dir, FILE *diag, cli_cover_stats *stats) {
  char **names = NULL;
  size_t n = 0;
  int rc = -1;
  test_config cfg;
  bool cfg_ready = false;
  memset(stats, 0, sizeof(*stats));
  if (list_dir(dir, &names, &n, diag) != 0)
    return -1;
  if (test_config_init(&cfg) != 0) {
    fprintf(diag, "cannot build the built-in test configuration\n");
    goto out;
  }
  cfg_ready = true;
  const ftps_policy base = cfg.server.policy;

  for (size_t i = 0; i < n; i++) {
    size_t plen = strlen(dir) + 1 + strlen(names[i]) + 1;
    char *path = malloc(plen);
    transcript t, played;
    transcript_init(&t);
    transcript_init(&played);
    int lr = -1;
    if (!path)
      goto next;
    snprintf(path, plen, "%s/%s", dir, names[i]);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
      free(path);
      continue;
    }
    lr = load(path, &t, diag);
    if (lr != 0) {
      stats->skipped += lr > 0;
      goto next;
    }
    char err[512];
    cfg.server.policy = base;
    play_target target = {.server = &cfg};
    judge_config jc = play_judge_config(&target);
    jc.all = true; /* every violation is followed past, so coverage goes on */
    model_cover_fn(cov, &jc.cover_fn, &jc.cover_ctx);
    play_result pr;
    memset(&pr, 0, sizeof(pr));
    int r;
    if (!has_server_lines(&t)) {
      runner_options opt = runner_options_default();
      opt.script_name = path;
      r = play_script(&target, &opt, &jc, &t, path, &played, &pr, err, sizeof(err));
      if (r >= 0)
        stats->played++;
    } else {
      /* a transcript: judged as it is, under its own "# config:" lines */
      r = judge_transcript(&jc, &t, path, &pr.judged, err, sizeof(err));
      r = r == JUDGE_ERR_NOMEM ? RUNNER_ERR_NOMEM : r == JUDGE_OK ? RUNNER_OK : RUNNER_ERR_INVAL;
    }
    if (r == RUNNER_ERR_NOMEM) {
      play_result_cleanup(&pr);
      lr = -1;
      goto next;
    }
    if (r < 0) {
      if (err[0])
        fprintf(diag, "%s (skipped)\n", err);
      else
        fprintf(diag, "%s: the runner cannot play this script (skipped)\n", path);
      stats->skipped++;
      play_result_cleanup(&pr);
      goto next;
    }
    model_cover_count(cov);
    size_t v = pr.judged.violations;
    play_result_cleanup(&pr);
    stats->violations += v;
    stats->files++;
  next:
    transcript_cleanup(&t);
    transcript_cleanup(&played);
    free(path);
    if (lr < 0)
      goto oom;
  }
  rc = 0;
  goto out;
oom:
  fprintf(diag, "%s: out of memory\n", dir);
out:
  if (cfg_ready)
    test_config_cleanup(&cfg);
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return rc;
}
