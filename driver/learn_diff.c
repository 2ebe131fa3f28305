/* learn_diff.c - see learn_diff.h. */
#include "learn_diff.h"

#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "oracle.h"

void learn_diff_cleanup(learn_diff *d) {
  if (!d)
    return;
  free(d->state_label);
  free(d->post_label);
  free(d->violates);
  free(d->rows);
  memset(d, 0, sizeof(*d));
}

/* add_row records transition |c|'s violations inside the last input's part
 * (steps after |marker|). Returns 1 if there was one, 0 if not, -1 on OOM. */
static int add_row(learn_diff *d, learn_ftps *map, const judge_result *jr, size_t marker,
                   uint32_t s, learn_sym i, learn_out out, const char *replayed) {
  learn_diff_row row;
  memset(&row, 0, sizeof(row));
  size_t used = 0;
  for (size_t k = 0; k < jr->violations && k < ORACLE_VIOLATIONS_MAX; k++) {
    const oracle_violation *v = oracle_violation_at(jr->o, k);
    if (!v || v->step <= marker + 1)
      continue;
    const char *name = oracle_invariant_name(v->inv);
    if (used == 0) {
      snprintf(row.why, sizeof(row.why), "%s", v->why);
      snprintf(row.model_state, sizeof(row.model_state), "%s", v->state);
      snprintf(row.allowed, sizeof(row.allowed), "%s", v->expected);
    }
    if (oracle_invariant_severity(v->inv) == ORACLE_SECURITY)
      row.security = true;
    if (strstr(row.invariants, name)) /* already named */
      continue;
    int w = snprintf(row.invariants + used, sizeof(row.invariants) - used, "%s%s",
                     used ? " " : "", name);
    if (w > 0 && (size_t)w < sizeof(row.invariants) - used)
      used += (size_t)w;
  }
  if (used == 0)
    return 0;
  row.state = s;
  row.input = i;
  row.out = out;
  snprintf(row.replayed, sizeof(row.replayed), "%s", replayed);
  size_t first = strcspn(row.invariants, " ");
  snprintf(row.witness, sizeof(row.witness), "q%u-%s-%.*s.fts", s, learn_ftps_input_name(map, i),
           (int)(first < 48 ? first : 48), row.invariants);
  learn_diff_row *grown = realloc(d->rows, (d->n_rows + 1) * sizeof(*grown));
  if (!grown)
    return -1;
  d->rows = grown;
  d->rows[d->n_rows++] = row;
  return 1;
}

/* Replays played at once (learn_ftps_play_batch): enough to keep 16
 * connections busy, few enough to bound the transcripts held. */
#define DIFF_CHUNK 64

/* judge_replay records transition |c| (state |s|, input |i|) from its
 * played replay |job|. Returns 0 or -1 with |err| set. */
static int judge_replay(learn_diff *d, learn_ftps *map, const learn_mealy *m, size_t s,
                        learn_sym i, learn_ftps_job *job, learn_out *outs, char *err,
                        size_t err_len) {
  size_t L = job->n - 1, c = s * m->n_inputs + i;
  if (job->rc < 0) {
    snprintf(err, err_len, "%s", job->err);
    return -1;
  }
  if (!job->res.judged.o || learn_ftps_map(map, job->word, &job->got, job->n, outs) != 0) {
    snprintf(err, err_len, "replay q%zu %s: could not be judged", s,
             learn_ftps_input_name(map, i));
    return -1;
  }
  d->replays++;
  if (learn_ftps_is_sink(map, m->out[c]))
    d->unexercised++;
  const char *replayed = "";
  if (outs[L] != m->out[c]) {
    d->mismatches++;
    replayed = learn_ftps_output_name(map, outs[L]);
  }
  d->post_label[c] = *oracle_state(job->res.judged.o);
  int added = add_row(d, map, &job->res.judged, learn_ftps_marker_step(&job->got, L),
                      (uint32_t)s, i, m->out[c], replayed);
  if (added < 0) {
    snprintf(err, err_len, "out of memory (diff)");
    return -1;
  }
  d->violates[c] = added > 0;
  return 0;
}

int learn_diff_run(learn_ftps *map, const learn_mealy *m, const judge_config *jc_in,
                   learn_diff *d, char *err, size_t err_len) {
  memset(d, 0, sizeof(*d));
  size_t ns = m->n_states, ni = m->n_inputs;
  d->n_states = ns;
  d->n_inputs = ni;
  d->state_label = calloc(ns ? ns : 1, sizeof(*d->state_label));
  size_t cells = ns * ni > 0 ? ns * ni : 1;
  d->post_label = calloc(cells, sizeof(*d->post_label));
  d->violates = calloc(cells, sizeof(*d->violates));
  size_t maxlen = 0;
  for (size_t s = 0; s < ns; s++)
    maxlen = m->access_len[s] > maxlen ? m->access_len[s] : maxlen;
  /* the transitions in replay order: states by their access sequences'
   * length (a violation inside an access sequence was then listed at an
   * earlier transition), inputs in alphabet order */
  size_t *order = malloc(cells * sizeof(*order));
  learn_sym *words = malloc(DIFF_CHUNK * (maxlen + 1) * sizeof(*words));
  learn_out *outs = malloc((maxlen + 1) * sizeof(*outs));
  learn_ftps_job *jobs = calloc(DIFF_CHUNK, sizeof(*jobs));
  if (!d->state_label || !d->post_label || !d->violates || !order || !words || !outs || !jobs) {
    snprintf(err, err_len, "out of memory (diff)");
    goto fail;
  }
  size_t n_order = 0;
  for (size_t len = 0; len <= maxlen; len++)
    for (size_t s = 0; s < ns; s++)
      if (m->access_len[s] == len)
        for (size_t i = 0; i < ni; i++)
          order[n_order++] = s * ni + i;
  judge_config jc = *jc_in;
  jc.all = true;
  /* played a chunk at a time (concurrently over TCP), recorded in order */
  for (size_t at = 0; at < n_order; at += DIFF_CHUNK) {
    size_t count = n_order - at < DIFF_CHUNK ? n_order - at : DIFF_CHUNK;
    for (size_t j = 0; j < count; j++) {
      size_t s = order[at + j] / ni, L = m->access_len[s];
      learn_sym *w = words + j * (maxlen + 1);
      if (L)
        memcpy(w, m->access[s], L * sizeof(*w));
      w[L] = (learn_sym)(order[at + j] % ni);
      jobs[j].word = w;
      jobs[j].n = L + 1;
    }
    learn_ftps_play_batch(map, &jc, jobs, count);
    int rc = 0;
    for (size_t j = 0; j < count && rc == 0; j++)
      rc = judge_replay(d, map, m, order[at + j] / ni, (learn_sym)(order[at + j] % ni), &jobs[j],
                        outs, err, err_len);
    for (size_t j = 0; j < count; j++)
      learn_ftps_job_cleanup(&jobs[j]);
    if (rc != 0)
      goto fail;
  }
  /* each state's label: the model state after its access sequence */
  for (size_t s = 0; s < ns; s++) {
    size_t L = m->access_len[s];
    if (L == 0) {
      d->state_label[s] = model_initial();
      continue;
    }
    uint32_t q = 0;
    for (size_t k = 0; k + 1 < L; k++)
      q = m->next[(size_t)q * ni + m->access[s][k]];
    d->state_label[s] = d->post_label[(size_t)q * ni + m->access[s][L - 1]];
  }
  free(order);
  free(words);
  free(outs);
  free(jobs);
  return 0;
fail:
  free(order);
  free(words);
  free(outs);
  free(jobs);
  return -1;
}

static const char *view_output_name(void *ctx, learn_out o) {
  return learn_ftps_output_name(ctx, o);
}

void learn_diff_view(const learn_diff *d, learn_ftps *map, const learn_mealy *m,
                     const model_policy *policy, const char *title, const char **input_names,
                     model_event *input_events, learn_view *v) {
  size_t n;
  const learn_alpha_input *table = learn_alpha_inputs(&n);
  for (size_t i = 0; i < m->n_inputs; i++) {
    input_names[i] = learn_ftps_input_name(map, (learn_sym)i);
    int k = learn_alpha_find(input_names[i]);
    input_events[i] = k >= 0 ? table[k].event : MODEL_EV_COUNT;
  }
  memset(v, 0, sizeof(*v));
  v->m = m;
  v->input_names = input_names;
  v->input_events = input_events;
  v->output_name = view_output_name;
  v->ctx = map;
  v->state_label = d->state_label;
  v->post_label = d->post_label;
  v->violates = d->violates;
  v->policy = *policy;
  v->title = title;
}

int learn_diff_write_script(const learn_ftps *map, const learn_sym *word, size_t n,
                            const model_policy *policy, const char *header, const char *path,
                            char *err, size_t err_len) {
  transcript t;
  transcript_init(&t);
  int rc = -1;
  char tmp[4200], line[512];
  FILE *f = NULL;
  for (const char *h = header; h && *h;) {
    const char *nl = strchr(h, '\n');
    size_t l = nl ? (size_t)(nl - h) : strlen(h);
    if (l >= sizeof(line) - 1)
      l = sizeof(line) - 2;
    line[0] = ' ';
    memcpy(line + 1, h, l);
    line[l + 1] = 0;
    if (transcript_add(&t, TRANSCRIPT_COMMENT, line, strlen(line)) != 0)
      goto oom;
    h = nl ? nl + 1 : h + l;
  }
  gen_policy_comment(policy, line, sizeof(line));
  if (transcript_add(&t, TRANSCRIPT_COMMENT, line, strlen(line)) != 0 ||
      learn_ftps_script(map, word, n, &t) != 0)
    goto oom;
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  f = fopen(tmp, "w");
  if (!f || transcript_print_text(&t, f) != 0 || fclose(f) != 0) {
    f = NULL;
    snprintf(err, err_len, "%s: cannot write", tmp);
    remove(tmp);
    goto out;
  }
  f = NULL;
  if (rename(tmp, path) != 0) {
    snprintf(err, err_len, "%s: cannot rename into place", path);
    remove(tmp);
    goto out;
  }
  rc = 0;
  goto out;
oom:
  snprintf(err, err_len, "out of memory (%s)", path);
out:
  if (f)
    fclose(f);
  transcript_cleanup(&t);
  return rc;
}

void learn_diff_print_table(const learn_diff *d, learn_ftps *map, FILE *out) {
  fprintf(out, "| state | input | learned output | allowed | invariant | witness |\n"
               "|---|---|---|---|---|---|\n");
  for (size_t k = 0; k < d->n_rows; k++) {
    const learn_diff_row *r = &d->rows[k];
    fprintf(out, "| q%u (%s) | %s | %s%s%s%s | %s | %s%s | witnesses/%s |\n", r->state,
            r->model_state, learn_ftps_input_name(map, r->input),
            learn_ftps_output_name(map, r->out), r->replayed[0] ? " (replay: " : "",
            r->replayed, r->replayed[0] ? ")" : "", r->allowed[0] ? r->allowed : "-",
            r->invariants, r->security ? "" : " (conformance)", r->witness);
  }
  for (size_t k = 0; k < d->n_rows; k++)
    fprintf(out, "%s- %s: %s\n", k ? "" : "\n", d->rows[k].witness, d->rows[k].why);
}
