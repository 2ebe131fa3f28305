/* campaign_report.c - the end of a campaign: model transitions covered,
 * llvm-cov report of server/, the summary table and summary.json (see
 * campaign.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "campaign.h"
#include "campaign_proc.h"
#include "transcript.h"

#define SCRIPT_INPUT_MAX (1u << 20) /* a corpus input larger is skipped */
#define COVER_ARGS_MAX 64

int campaign_run_step(char *const argv[], const char *log, char *const env[], const char *cwd) {
  bool timed_out = false;
  char st[64];
  if ((unsigned)campaign_interrupted >= 2)
    return -1; /* interrupted twice: skip what is left */
  int status = campaign_run(argv, log, env, cwd, CAMPAIGN_STEP_TIMEOUT_S, 2, &timed_out);
  if (status != -1 && !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  if (status == -1)
    snprintf(st, sizeof(st), "could not start");
  else if (timed_out)
    snprintf(st, sizeof(st), "%s", campaign_interrupted >= 2 ? "interrupted" : "timed out");
  else
    campaign_status_text(status, st, sizeof(st));
  fprintf(stderr, "ftpsfuzz fuzz: %s: %s (log: %s)\n", argv[0], st, log != NULL ? log : "-");
  return -1;
}

/* --- model transitions --- */

/* How a harness's inputs map to sessions the model can judge. */
typedef enum model_input { MODEL_NONE, MODEL_SESSION, MODEL_TRANSCRIPT } model_input;

static model_input model_input_of(const char *harness) {
  /* fuzz_session: byte 0 flags (bit 0: AUTH TLS + handshake first, bit 4:
   * one write per line), the rest the client's bytes (harnesses/fuzz_session.c).
   * fuzz_sequence: the binary transcript form itself. */
  if (!strcmp(harness, "fuzz_session"))
    return MODEL_SESSION;
  if (!strcmp(harness, "fuzz_sequence"))
    return MODEL_TRANSCRIPT;
  return MODEL_NONE;
}

/* session_script writes fuzz_session input |in| as a client script. */
static int session_script(const char *in, const char *out) {
  uint8_t *data = NULL;
  size_t len = 0;
  transcript t;
  int rc = -1;
  transcript_init(&t);
  if (campaign_read_file(in, SCRIPT_INPUT_MAX, &data, &len) != 0 || len == 0)
    goto out;
  const uint8_t *p = data + 1;
  size_t n = len - 1;
  if (transcript_addf(&t, TRANSCRIPT_COMMENT, " fuzz_session input, flags 0x%02x", data[0]) != 0)
    goto out;
  if ((data[0] & 0x01) && (transcript_add(&t, TRANSCRIPT_C, "AUTH TLS", 8) != 0 ||
                           transcript_add(&t, TRANSCRIPT_T, "handshake", 9) != 0))
    goto out;
  while (n > 0) {
    const uint8_t *lf = (data[0] & 0x10) ? memchr(p, '\n', n) : NULL;
    size_t k = lf != NULL ? (size_t)(lf - p) + 1 : n;
    if (transcript_add(&t, TRANSCRIPT_R, p, k) != 0)
      goto out;
    p += k;
    n -= k;
  }
  FILE *f = fopen(out, "w");
  if (f == NULL)
    goto out;
  rc = transcript_print_text(&t, f) == 0 ? 0 : -1;
  if (fclose(f) != 0)
    rc = -1;
out:
  free(data);
  transcript_cleanup(&t);
  return rc;
}

/* scripts_for writes the sessions of |run|'s final corpus into |dir|. */
static int scripts_for(const campaign_run_h *run, model_input kind, const char *dir) {
  char corpus[CAMPAIGN_PATH_MAX];
  campaign_strs files;
  int rc = 0;
  if (campaign_path(corpus, sizeof(corpus), "%s/corpus", run->dir) != 0 ||
      campaign_mkdirs(dir) != 0)
    return -1;
  campaign_strs_init(&files);
  if (campaign_list_inputs(corpus, false, &files) != 0)
    rc = -1;
  for (size_t i = 0; i < files.n && rc == 0; i++) {
    char dst[CAMPAIGN_PATH_MAX];
    const char *base = strrchr(files.v[i], '/');
    base = base != NULL ? base + 1 : files.v[i];
    if (campaign_path(dst, sizeof(dst), "%s/%s-%s%s", dir, run->name, base,
                      kind == MODEL_SESSION ? ".fts" : "") != 0) {
      rc = -1;
      break;
    }
    if (kind == MODEL_SESSION)
      (void)session_script(files.v[i], dst); /* an empty input has no session */
    else
      rc = campaign_copy_file(files.v[i], dst);
  }
  campaign_strs_cleanup(&files);
  return rc;
}

/* model_dot runs `ftpsfuzz model --dot --coverage DIR -o DOT` and reads the
 * "x/y transitions covered" of the picture's label. */
static int model_dot(const campaign_opts *o, const char *dir, const char *dot, const char *log,
                     long *covered, long *total) {
  char *argv[] = {(char *)o->self, "model", "--dot", "--coverage", (char *)dir, "-o",
                  (char *)dot, NULL};
  uint8_t *text = NULL;
  size_t len = 0;
  if (campaign_run_step(argv, log, NULL, NULL) != 0 ||
      campaign_read_file(dot, 16u << 20, &text, &len) != 0)
    return -1;
  int rc = -1;
  const char *p = strstr((const char *)text, " transitions covered");
  if (p != NULL) {
    const char *q = p;
    while (q > (const char *)text && ((q[-1] >= '0' && q[-1] <= '9') || q[-1] == '/'))
      q--;
    if (sscanf(q, "%ld/%ld", covered, total) == 2)
      rc = 0;
  }
  free(text);
  return rc;
}

void campaign_report_models(const campaign_opts *o, campaign_run_h *runs, size_t n, char *note,
                            size_t note_len) {
  char all[CAMPAIGN_PATH_MAX], dot[CAMPAIGN_PATH_MAX], svg[CAMPAIGN_PATH_MAX];
  char log[CAMPAIGN_PATH_MAX];
  size_t used = 0;
  note[0] = '\0';
  if (campaign_path(all, sizeof(all), "%s/model-scripts", o->report) != 0)
    return;
  for (size_t i = 0; i < n; i++) {
    model_input kind = model_input_of(runs[i].name);
    char dir[CAMPAIGN_PATH_MAX];
    if (kind == MODEL_NONE || !runs[i].ran)
      continue;
    if (campaign_path(dir, sizeof(dir), "%s/model-scripts", runs[i].dir) != 0 ||
        campaign_path(dot, sizeof(dot), "%s/state-coverage.dot", runs[i].dir) != 0 ||
        campaign_path(log, sizeof(log), "%s/model.log", runs[i].dir) != 0)
      continue;
    if (scripts_for(&runs[i], kind, dir) != 0 || scripts_for(&runs[i], kind, all) != 0) {
      snprintf(note, note_len, "could not write the client scripts of %s", runs[i].name);
      continue;
    }
    used++;
    if (model_dot(o, dir, dot, log, &runs[i].trans_covered, &runs[i].trans_total) != 0) {
      runs[i].trans_covered = runs[i].trans_total = -1;
      snprintf(note, note_len, "`ftpsfuzz model --dot --coverage` failed (see %s)", log);
    }
  }
  if (used == 0) {
    snprintf(note, note_len, "no harness drives sessions the model can judge");
    return;
  }
  long cov, tot;
  if (campaign_path(dot, sizeof(dot), "%s/state-coverage.dot", o->report) != 0 ||
      campaign_path(svg, sizeof(svg), "%s/state-coverage.svg", o->report) != 0 ||
      campaign_path(log, sizeof(log), "%s/model.log", o->report) != 0)
    return;
  if (model_dot(o, all, dot, log, &cov, &tot) != 0) {
    snprintf(note, note_len, "`ftpsfuzz model --dot --coverage` failed (see %s)", log);
    return;
  }
  char *argv[] = {"dot", "-Tsvg", "-o", svg, dot, NULL};
  if (campaign_run_step(argv, log, NULL, NULL) != 0)
    snprintf(note, note_len, "dot -Tsvg failed (graphviz installed? see %s)", log);
}

/* --- llvm-cov of server/ --- */

/* parse_total reads the "TOTAL" line of `llvm-cov report`: lines and missed
 * lines are the 8th and 9th fields. */
static double parse_total(const char *path) {
  FILE *f = fopen(path, "r");
  char line[1024];
  double pct = -1;
  if (f == NULL)
    return -1;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, "TOTAL", 5) != 0)
      continue;
    char *fields[16];
    size_t nf = 0;
    for (char *tok = strtok(line, " \t\n"); tok != NULL && nf < 16; tok = strtok(NULL, " \t\n"))
      fields[nf++] = tok;
    if (nf >= 10) {
      double lines = strtod(fields[7], NULL), missed = strtod(fields[8], NULL);
      if (lines > 0)
        pct = 100.0 * (lines - missed) / lines;
    }
  }
  fclose(f);
  return pct;
}

double campaign_report_coverage(const campaign_opts *o, campaign_run_h *runs, size_t n,
                                char *note, size_t note_len) {
  char prof_dir[CAMPAIGN_PATH_MAX], profdata[CAMPAIGN_PATH_MAX], log[CAMPAIGN_PATH_MAX];
  char html[CAMPAIGN_PATH_MAX], server[CAMPAIGN_PATH_MAX], txt[CAMPAIGN_PATH_MAX];
  char ipf[CAMPAIGN_PATH_MAX + 32];
  campaign_strs raws;
  double pct = -1;
  const char *bins[COVER_ARGS_MAX];
  size_t nbins = 0;
  note[0] = '\0';
  campaign_strs_init(&raws);
  if (campaign_path(prof_dir, sizeof(prof_dir), "%s/profraw", o->report) != 0 ||
      campaign_path(profdata, sizeof(profdata), "%s/coverage.profdata", o->report) != 0 ||
      campaign_path(log, sizeof(log), "%s/coverage.log", o->report) != 0 ||
      campaign_path(html, sizeof(html), "%s/coverage", o->report) != 0 ||
      campaign_path(txt, sizeof(txt), "%s/coverage.txt", o->report) != 0 ||
      campaign_path(server, sizeof(server), "%s/server", o->src) != 0 ||
      campaign_path(ipf, sizeof(ipf), "-instr-profile=%s", profdata) != 0 ||
      campaign_mkdirs(prof_dir) != 0)
    goto out;
  for (size_t i = 0; i < n && nbins < COVER_ARGS_MAX; i++) {
    char corpus[CAMPAIGN_PATH_MAX], env_prof[CAMPAIGN_PATH_MAX + 32], rlog[CAMPAIGN_PATH_MAX];
    if (!runs[i].ran || !runs[i].cov_bin[0] || !campaign_is_exec(runs[i].cov_bin))
      continue;
    if (campaign_path(corpus, sizeof(corpus), "%s/corpus", runs[i].dir) != 0 ||
        campaign_path(env_prof, sizeof(env_prof), "LLVM_PROFILE_FILE=%s/%s-%%p.profraw",
                      prof_dir, runs[i].name) != 0 ||
        campaign_path(rlog, sizeof(rlog), "%s/coverage-replay.log", runs[i].dir) != 0)
      continue;
    if (campaign_count_files(corpus, "") == 0)
      continue;
    char *env[] = {env_prof, NULL};
    char *argv[] = {runs[i].cov_bin, corpus, NULL};
    if (campaign_run_step(argv, rlog, env, NULL) != 0)
      snprintf(note, note_len, "replaying %s's corpus in the coverage build failed (see %s)",
               runs[i].name, rlog);
    bins[nbins++] = runs[i].cov_bin;
  }
  if (campaign_list_inputs(prof_dir, false, &raws) != 0 || raws.n == 0 || nbins == 0) {
    snprintf(note, note_len, "no coverage profile was written (coverage build missing?)");
    goto out;
  }
  {
    char **argv = calloc(raws.n + 6, sizeof(*argv));
    if (argv == NULL)
      goto out;
    size_t k = 0;
    argv[k++] = "llvm-profdata-14";
    argv[k++] = "merge";
    argv[k++] = "-sparse";
    argv[k++] = "-o";
    argv[k++] = profdata;
    for (size_t i = 0; i < raws.n; i++)
      argv[k++] = raws.v[i];
    argv[k] = NULL;
    int r = campaign_run_step(argv, log, NULL, NULL);
    free(argv);
    if (r != 0) {
      snprintf(note, note_len, "llvm-profdata-14 merge failed (see %s)", log);
      goto out;
    }
  }
  /* llvm-cov-14 show|report -instr-profile=P BIN0 -object BIN1 ... server/ */
  for (int mode = 0; mode < 2; mode++) {
    char *argv[2 * COVER_ARGS_MAX + 16];
    char outdir[CAMPAIGN_PATH_MAX + 32];
    size_t k = 0;
    argv[k++] = "llvm-cov-14";
    argv[k++] = mode == 0 ? "show" : "report";
    argv[k++] = ipf;
    if (mode == 0) {
      if (campaign_path(outdir, sizeof(outdir), "-output-dir=%s", html) != 0)
        goto out;
      argv[k++] = "-format=html";
      argv[k++] = outdir;
      argv[k++] = "-show-line-counts-or-regions";
    }
    argv[k++] = (char *)bins[0];
    for (size_t i = 1; i < nbins; i++) {
      argv[k++] = "-object";
      argv[k++] = (char *)bins[i];
    }
    argv[k++] = server; /* only files under server/ */
    argv[k] = NULL;
    if (campaign_run_step(argv, mode == 0 ? log : txt, NULL, NULL) != 0) {
      snprintf(note, note_len, "llvm-cov-14 %s failed (see %s)", argv[1], mode == 0 ? log : txt);
      goto out;
    }
  }
  pct = parse_total(txt);
  if (pct < 0)
    snprintf(note, note_len, "no TOTAL line in %s", txt);
out:
  campaign_strs_cleanup(&raws);
  return pct;
}

/* --- summary --- */

static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p < 0x20)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

static void fmt_count(char *out, size_t len, long long v) {
  if (v < 0)
    snprintf(out, len, "-");
  else
    snprintf(out, len, "%lld", v);
}

static void json_count(FILE *f, long long v) {
  if (v < 0)
    fprintf(f, "null");
  else
    fprintf(f, "%lld", v);
}

/* fmt_added: "+N" over the previous campaign, "new" without one */
static void fmt_added(char *out, size_t len, const campaign_run_h *r, long long v) {
  if (!r->prev.found)
    snprintf(out, len, "new");
  else if (v < 0)
    snprintf(out, len, "-");
  else
    snprintf(out, len, "+%lld", v);
}

static long transitions_added(const campaign_run_h *r) {
  if (!r->prev.found || r->prev.transitions < 0 || r->trans_total <= 0)
    return -1;
  return r->trans_covered > r->prev.transitions ? r->trans_covered - r->prev.transitions : 0;
}

/* print_slices: one line per harness, "slices: 10s +52e, 20s +3e, ..." */
static void print_slices(const campaign_run_h *r) {
  if (r->nslices == 0)
    return;
  printf("    %zu slice(s):", r->nslices);
  for (size_t k = 0; k < r->nslices; k++) {
    const campaign_slice *sl = &r->slices[k];
    printf("%s @%.0fs %.0fs", k ? "," : "", sl->start_s, sl->seconds);
    if (sl->new_edges >= 0)
      printf(" +%llde", sl->new_edges);
    printf(" +%lldi", sl->new_inputs);
  }
  printf("\n");
}

int campaign_report_write(const campaign_opts *o, const campaign_run_h *runs, size_t n,
                          double wall_s, double line_cov, const char *cov_note,
                          const char *model_note) {
  char path[CAMPAIGN_PATH_MAX], svg[CAMPAIGN_PATH_MAX], html[CAMPAIGN_PATH_MAX];
  const char *engine = o->engine == CAMPAIGN_AFL ? "afl" : "libfuzzer";
  if (campaign_path(path, sizeof(path), "%s/summary.json", o->report) != 0 ||
      campaign_path(svg, sizeof(svg), "%s/state-coverage.svg", o->report) != 0 ||
      campaign_path(html, sizeof(html), "%s/coverage/index.html", o->report) != 0)
    return -1;

  printf("\n%-18s %6s %12s %9s %7s %8s %9s %12s %9s %6s %7s %7s %6s\n", "harness", "time",
         "execs", "execs/s", "edges", "corpus", "findings", "transitions", "stability", "slices",
         "+inputs", "+edges", "+trans");
  for (size_t i = 0; i < n; i++) {
    const campaign_run_h *r = &runs[i];
    char ex[32], eps[32], ed[32], co[32], fi[32], tr[32], tm[16], st[16];
    char ai[32], ae[32], at[32], sl[16];
    fmt_count(ex, sizeof(ex), r->execs);
    fmt_count(eps, sizeof(eps), r->execs_per_s);
    fmt_count(ed, sizeof(ed), r->edges);
    fmt_count(co, sizeof(co), r->corpus_final >= 0 ? r->corpus_final : r->corpus);
    fmt_count(fi, sizeof(fi), r->findings);
    if (r->trans_total > 0)
      snprintf(tr, sizeof(tr), "%ld/%ld", r->trans_covered, r->trans_total);
    else
      snprintf(tr, sizeof(tr), "-");
    snprintf(tm, sizeof(tm), "%.0fs", r->elapsed);
    /* AFL++ only: libFuzzer has no stability figure */
    if (r->has_stability)
      snprintf(st, sizeof(st), "%.2f%%", r->stability);
    else
      snprintf(st, sizeof(st), "-");
    snprintf(sl, sizeof(sl), "%zu", r->nslices);
    fmt_added(ai, sizeof(ai), r, r->added_inputs);
    fmt_added(ae, sizeof(ae), r, r->added_edges);
    fmt_added(at, sizeof(at), r, transitions_added(r));
    printf("%-18s %6s %12s %9s %7s %8s %9s %12s %9s %6s %7s %7s %6s%s%s\n", r->name,
           r->ran ? tm : "-", ex, eps, ed, co, fi, tr, st, sl, ai, ae, at, r->note[0] ? "  " : "",
           r->note);
    print_slices(r);
    for (size_t k = 0; k < r->finding_lines.n; k++)
      printf("    finding: %s\n", r->finding_lines.v[k]);
  }
  if (line_cov >= 0)
    printf("\nserver/ line coverage: %.1f%% (%s)\n", line_cov, html);
  else if (!o->no_coverage)
    printf("\nserver/ line coverage: n/a (%s)\n", cov_note);
  if (campaign_is_file(svg))
    printf("model state coverage: %s\n", svg);
  else if (model_note[0])
    printf("model state coverage: n/a (%s)\n", model_note);
  printf("(+inputs/+edges/+trans: added over the previous campaign's corpus");
  if (o->no_corpus)
    printf("; --no-corpus");
  else
    printf(" in %s", o->corpus);
  printf(")\n");
  printf("wall time: %.0f s; report: %s\n", wall_s, o->report);
  if (campaign_interrupted)
    printf("(interrupted: the figures cover what ran)\n");

  FILE *f = fopen(path, "w");
  if (f == NULL) {
    fprintf(stderr, "ftpsfuzz fuzz: cannot write %s\n", path);
    return -1;
  }
  char when[32];
  time_t now = time(NULL);
  struct tm tmv;
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tmv));
  fprintf(f, "{\n  \"engine\": \"%s\",\n  \"time_s\": %u,\n  \"jobs\": %u,\n", engine, o->time_s,
          o->jobs);
  fprintf(f, "  \"finished\": \"%s\",\n  \"wall_s\": %.1f,\n  \"interrupted\": %s,\n", when,
          wall_s, campaign_interrupted ? "true" : "false");
  fprintf(f, "  \"out\": ");
  json_str(f, o->out);
  fprintf(f, ",\n  \"corpus_dir\": ");
  if (o->no_corpus)
    fprintf(f, "null");
  else
    json_str(f, o->corpus);
  fprintf(f, ",\n  \"harnesses\": [\n");
  for (size_t i = 0; i < n; i++) {
    const campaign_run_h *r = &runs[i];
    fprintf(f, "    {\"name\": ");
    json_str(f, r->name);
    fprintf(f,
            ", \"ran\": %s, \"seconds\": %.1f, \"execs\": %lld, \"execs_per_s\": %lld, "
            "\"edges\": %lld, \"seeds\": %lld, \"corpus\": %lld, \"corpus_merged\": %lld, "
            "\"findings\": %lld, \"new_regressions\": %zu,\n     ",
            r->ran ? "true" : "false", r->elapsed, r->execs, r->execs_per_s, r->edges, r->seeds,
            r->corpus, r->corpus_final, r->findings, r->new_regressions);
    if (r->trans_total > 0)
      fprintf(f, "\"transitions_covered\": %ld, \"transitions_total\": %ld, ", r->trans_covered,
              r->trans_total);
    else
      fprintf(f, "\"transitions_covered\": null, \"transitions_total\": null, ");
    if (r->has_stability)
      fprintf(f, "\"stability_pct\": %.2f, ", r->stability);
    else
      fprintf(f, "\"stability_pct\": null, ");
    fprintf(f, "\"weight\": %u,\n     \"slices\": [", r->weight);
    for (size_t k = 0; k < r->nslices; k++) {
      const campaign_slice *sl = &r->slices[k];
      fprintf(f, "%s{\"start_s\": %.1f, \"seconds\": %.1f, \"new_edges\": ", k ? ", " : "",
              sl->start_s, sl->seconds);
      json_count(f, sl->new_edges);
      fprintf(f, ", \"new_features\": ");
      json_count(f, sl->new_features);
      fprintf(f, ", \"new_inputs\": ");
      json_count(f, sl->new_inputs);
      fprintf(f, "}");
    }
    fprintf(f, "],\n     \"previous\": ");
    if (r->prev.found) {
      fprintf(f, "{\"inputs\": ");
      json_count(f, r->prev.inputs);
      fprintf(f, ", \"edges\": ");
      json_count(f, r->prev.edges);
      fprintf(f, ", \"transitions\": ");
      json_count(f, r->prev.transitions);
      fprintf(f, ", \"inputs_loaded\": %lld}", r->prev_copied);
    } else {
      fprintf(f, "null");
    }
    fprintf(f, ", \"added\": {\"inputs\": ");
    json_count(f, r->added_inputs);
    fprintf(f, ", \"edges\": ");
    json_count(f, r->added_edges);
    fprintf(f, ", \"transitions\": ");
    json_count(f, transitions_added(r));
    fprintf(f, "},\n     \"new_findings\": %zu, \"known_findings\": %zu, ", r->new_findings,
            r->known_findings);
    fprintf(f, "\"note\": ");
    json_str(f, r->note);
    fprintf(f, ", \"first_finding_s\": ");
    if (r->first_finding_s >= 0)
      fprintf(f, "%.2f, \"first_finding_harness_s\": %.2f", r->first_finding_s,
              r->first_finding_harness_s);
    else
      fprintf(f, "null, \"first_finding_harness_s\": null");
    fprintf(f, ", \"finding_reports\": [");
    for (size_t k = 0; k < r->finding_lines.n; k++) {
      fprintf(f, "%s", k ? ", " : "");
      json_str(f, r->finding_lines.v[k]);
    }
    fprintf(f, "]}%s\n", i + 1 < n ? "," : "");
  }
  fprintf(f, "  ],\n  \"server_line_coverage_pct\": ");
  if (line_cov >= 0)
    fprintf(f, "%.2f", line_cov);
  else
    fprintf(f, "null");
  fprintf(f, ",\n  \"coverage_html\": ");
  if (line_cov >= 0)
    json_str(f, html);
  else
    fprintf(f, "null");
  fprintf(f, ",\n  \"coverage_note\": ");
  json_str(f, cov_note);
  fprintf(f, ",\n  \"state_coverage_svg\": ");
  if (campaign_is_file(svg))
    json_str(f, svg);
  else
    fprintf(f, "null");
  fprintf(f, ",\n  \"state_coverage_note\": ");
  json_str(f, model_note);
  fprintf(f, "\n}\n");
  if (fclose(f) != 0) {
    fprintf(stderr, "ftpsfuzz fuzz: cannot write %s\n", path);
    return -1;
  }
  return 0;
}
