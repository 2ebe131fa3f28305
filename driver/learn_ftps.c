/* learn_ftps.c - see learn_ftps.h. */
#include "learn_ftps.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen.h"
#include "transcript_event.h"

#define MARKER " learn: input "

/* The concrete form of each input (learn_alphabet.c), as .fts client steps.
 * {U} {P} the account, {R} the file read, {S} the file written. */
static const struct {
  const char *name;
  const char *steps;
} concrete[] = {
    {"AUTH_TLS", "C: AUTH TLS"},
    {"HANDSHAKE", "T: handshake"},
    {"USER_OK", "C: USER {U}"},
    {"PASS_OK", "C: PASS {P}"},
    {"PBSZ_0", "C: PBSZ 0"},
    {"PROT_P", "C: PROT P"},
    {"PASV", "C: PASV\nD: open"},
    {"LIST", "C: LIST"},
    {"AUTH_SSL", "C: AUTH SSL"},
    {"AUTH_TLS_PIPELINED", "C: AUTH TLS\\r\\nNOOP"},
    {"CLOSE_NOTIFY", "T: close_notify"},
    {"PASS_BAD", "C: PASS ftpsfuzz-wrong-password"},
    {"PROT_C", "C: PROT C"},
    {"PROT_X", "C: PROT X"},
    {"CCC", "C: CCC"},
    {"REIN", "C: REIN"},
    {"RETR", "C: RETR {R}"},
    {"PASV_DATA_TLS", "C: PASV\n# client: data_prot=tls\nD: open\n# client: data_prot=auto"},
    {"PASV_DATA_CLEAR", "C: PASV\n# client: data_prot=clear\nD: open\n"
                        "D: send not a TLS handshake\\r\\n\n# client: data_prot=auto"},
    {"USER_UNKNOWN", "C: USER ftpsfuzz-nobody"},
    {"EPSV", "C: EPSV\nD: open"},
    {"STOR", "C: STOR {S}\nD: send hello\\n\nD: close"},
    {"RNFR", "C: RNFR {R}"},
    {"REST", "C: REST 0"},
    {"NOOP", "C: NOOP"},
    {"QUIT", "C: QUIT"},
};
#define N_CONCRETE (sizeof(concrete) / sizeof(concrete[0]))

struct learn_ftps {
  learn_ftps_options o;
  transcript steps[LEARN_ALPHA_MAX]; /* per alphabet input, parsed once */
  char **outputs;
  size_t n_outputs;
  pthread_mutex_t mu;                /* guards plays and next_slot (batch threads) */
  size_t plays;
  double next_slot;                  /* TCP pacing (monotonic seconds) */
  learn_out closed_id, gave_up_id;
  learn_sym handshake_sym;           /* the HANDSHAKE input, or LEARN_ALPHA_MAX */
};

static const char *concrete_steps(const char *name) {
  for (size_t i = 0; i < N_CONCRETE; i++)
    if (!strcmp(concrete[i].name, name))
      return concrete[i].steps;
  return NULL;
}

bool learn_ftps_has_steps(const char *name) { return concrete_steps(name) != NULL; }

/* append_escaped writes |s| in .fts escaping (transcript.h). */
static int append_escaped(char *buf, size_t cap, size_t *used, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    char tmp[8];
    if (c == '\\')
      snprintf(tmp, sizeof(tmp), "\\\\");
    else if (c < 0x20 || c > 0x7e)
      snprintf(tmp, sizeof(tmp), "\\x%02x", c);
    else
      snprintf(tmp, sizeof(tmp), "%c", c);
    size_t l = strlen(tmp);
    if (*used + l >= cap)
      return -1;
    memcpy(buf + *used, tmp, l);
    *used += l;
  }
  return 0;
}

/* expand fills the placeholders of |tmpl| into |buf|. */
static int expand(const learn_ftps *m, const char *tmpl, char *buf, size_t cap) {
  bool tcp = m->o.target.server == NULL;
  size_t used = 0;
  for (const char *p = tmpl; *p; p++) {
    if (*p == '{' && p[1] && p[2] == '}') {
      const char *v = NULL;
      switch (p[1]) {
      case 'U': v = m->o.user ? m->o.user : TEST_CONFIG_USER; break;
      case 'P': v = m->o.pass ? m->o.pass : TEST_CONFIG_PASSWORD; break;
      case 'R': v = tcp ? "pub/hello.txt" : "/pub/hello.txt"; break;
      case 'S': v = tcp ? "ftpsfuzz-learn.txt" : "/upload/learn.txt"; break;
      default: return -1;
      }
      if (append_escaped(buf, cap, &used, v) != 0)
        return -1;
      p += 2;
      continue;
    }
    if (used + 1 >= cap)
      return -1;
    buf[used++] = *p;
  }
  buf[used] = 0;
  return 0;
}

static int intern(learn_ftps *m, const char *name, learn_out *out) {
  for (size_t i = 0; i < m->n_outputs; i++)
    if (!strcmp(m->outputs[i], name)) {
      *out = (learn_out)i;
      return 0;
    }
  if (m->n_outputs >= LEARN_FTPS_OUTPUTS_MAX)
    return -1;
  if ((m->n_outputs & (m->n_outputs - 1)) == 0) { /* grow at powers of two */
    size_t cap = m->n_outputs ? m->n_outputs * 2 : 16;
    char **o = realloc(m->outputs, cap * sizeof(*o));
    if (!o)
      return -1;
    m->outputs = o;
  }
  char *copy = strdup(name);
  if (!copy)
    return -1;
  m->outputs[m->n_outputs] = copy;
  *out = (learn_out)m->n_outputs++;
  return 0;
}

learn_ftps *learn_ftps_new(const learn_ftps_options *o) {
  learn_ftps *m = calloc(1, sizeof(*m));
  if (!m)
    return NULL;
  m->o = *o;
  /* in-process, a client left waiting gives up as over TCP (runner.h) */
  m->o.run.stall_is_timeout = true;
  /* over TCP, the late bytes of an input's step are its own, whatever
   * follows it (runner.h) */
  m->o.run.settle_every_step = true;
  pthread_mutex_init(&m->mu, NULL);
  size_t n_table;
  const learn_alpha_input *table = learn_alpha_inputs(&n_table);
  for (size_t i = 0; i < LEARN_ALPHA_MAX; i++)
    transcript_init(&m->steps[i]);
  for (size_t i = 0; i < o->alphabet->n; i++) {
    const char *tmpl = concrete_steps(table[o->alphabet->idx[i]].name);
    char text[2048], err[256];
    if (!tmpl || expand(m, tmpl, text, sizeof(text)) != 0 ||
        transcript_parse_text(&m->steps[i], text, strlen(text), "alphabet", err, sizeof(err)) !=
            0)
      goto fail;
  }
  m->handshake_sym = LEARN_ALPHA_MAX;
  for (size_t i = 0; i < o->alphabet->n; i++)
    if (!strcmp(table[o->alphabet->idx[i]].name, "HANDSHAKE"))
      m->handshake_sym = (learn_sym)i;
  if (intern(m, "closed", &m->closed_id) != 0 || intern(m, "gave_up", &m->gave_up_id) != 0)
    goto fail;
  return m;
fail:
  learn_ftps_free(m);
  return NULL;
}

void learn_ftps_free(learn_ftps *m) {
  if (!m)
    return;
  for (size_t i = 0; i < LEARN_ALPHA_MAX; i++)
    transcript_cleanup(&m->steps[i]);
  for (size_t i = 0; i < m->n_outputs; i++)
    free(m->outputs[i]);
  free(m->outputs);
  pthread_mutex_destroy(&m->mu);
  free(m);
}

int learn_ftps_script(const learn_ftps *m, const learn_sym *word, size_t n, transcript *out) {
  for (size_t k = 0; k < n; k++) {
    if (word[k] >= m->o.alphabet->n)
      return -1;
    if (transcript_addf(out, TRANSCRIPT_COMMENT, MARKER "%zu", k) != 0 ||
        gen_copy_steps(out, &m->steps[word[k]]) != 0)
      return -1;
  }
  return 0;
}

/* marker_index: the input number of a marker comment, or -1. */
static long marker_index(const transcript_step *st) {
  size_t ml = strlen(MARKER);
  if (st->kind != TRANSCRIPT_COMMENT || st->len <= ml || memcmp(st->data, MARKER, ml) != 0)
    return -1;
  char *end = NULL;
  long v = strtol((const char *)st->data + ml, &end, 10);
  return (end && *end == 0 && v >= 0) ? v : -1;
}

size_t learn_ftps_marker_step(const transcript *got, size_t k) {
  for (size_t i = 0; i < got->n; i++)
    if (marker_index(&got->steps[i]) == (long)k)
      return i;
  return got->n;
}

static bool is_client(transcript_kind k) {
  return k == TRANSCRIPT_C || k == TRANSCRIPT_R || k == TRANSCRIPT_T || k == TRANSCRIPT_W ||
         k == TRANSCRIPT_D;
}

/* The token of an event, NULL for the ones left out. |*dead| becomes 1 on a
 * close, 2 when the client gave up. */
static bool is_data_token(const char *tok) { return !strncmp(tok, "data_", 5); }

static const char *event_token(const transcript_step *st, int *dead) {
  transcript_event ev;
  transcript_event_parse(st, &ev);
  switch (ev.kind) {
  case TRANSCRIPT_EV_CLOSED:
    /* shown by the next input ("closed"), not by this one: over TCP whether
     * the close arrives before a query ends is a matter of timing */
    *dead = *dead ? *dead : 1;
    return NULL;
  case TRANSCRIPT_EV_HANDSHAKE_OK: return "hs_ok";
  case TRANSCRIPT_EV_HANDSHAKE_FAILED:
    if (ev.rest_len == 7 && !memcmp(ev.rest, "stalled", 7)) {
      /* in-process, the server went quiet in the middle of the handshake
       * (it reads the ClientHello as a line and waits for its end): over
       * TCP the same is a step timeout, and both must look alike */
      *dead = *dead ? *dead : 2;
      return "timeout";
    }
    return "hs_fail";
  case TRANSCRIPT_EV_TLS_SHUTDOWN: return "tls_shutdown";
  case TRANSCRIPT_EV_TLS_ERROR_PLAINTEXT: *dead = *dead ? *dead : 2; return "tls_plain";
  case TRANSCRIPT_EV_TLS_ERROR: *dead = *dead ? *dead : 2; return "tls_error";
  case TRANSCRIPT_EV_TLS_UNTERMINATED: return "tls_unterm";
  case TRANSCRIPT_EV_DATA_TLS: return "data_tls";
  case TRANSCRIPT_EV_DATA_CLEAR: return "data_clear";
  case TRANSCRIPT_EV_DATA_FAILED: return "data_fail";
  case TRANSCRIPT_EV_TIMEOUT: *dead = *dead ? *dead : 2; return "timeout";
  case TRANSCRIPT_EV_LIMIT: *dead = *dead ? *dead : 2; return "limit";
  default: return NULL; /* tls after close_notify: framing, not behaviour */
  }
}

typedef struct seg {
  char text[LEARN_FTPS_OUTPUT_LEN + 4];
  size_t len;
  bool cut;
  bool hs_done; /* a HANDSHAKE input's handshake ended */
  /* data-connection events, shown after the control stream's tokens: the
   * data connection is another TCP connection, so where its end falls
   * among the replies is timing, not behaviour */
  const char *data[4];
  size_t n_data;
} seg;

static void seg_add(seg *s, char sep, const char *tok) {
  char piece[64];
  snprintf(piece, sizeof(piece), "%s%s", s->len ? (char[]){sep, 0} : "", tok);
  size_t l = strlen(piece);
  if (s->cut || s->len + l > LEARN_FTPS_OUTPUT_LEN) {
    if (!s->cut)
      memcpy(s->text + s->len, "...", 4);
    s->cut = true;
    return;
  }
  memcpy(s->text + s->len, piece, l + 1);
  s->len += l;
}

int learn_ftps_map(learn_ftps *m, const learn_sym *word, const transcript *got, size_t n,
                   learn_out *out) {
  long k = -1;
  int dead = 0;           /* 0 alive, 1 closed, 2 gave up */
  int dead_from = -1;     /* first input after the one that ended it */
  bool any_client = false;
  unsigned multi = 0;     /* code of a multi-line reply under way */
  seg *segs = calloc(n ? n : 1, sizeof(*segs));
  if (!segs)
    return -1;
  for (size_t i = 0; i < got->n; i++) {
    const transcript_step *st = &got->steps[i];
    long mk = marker_index(st);
    if (mk >= 0) {
      k = mk;
      if (dead && dead_from < 0)
        dead_from = (int)k;
      continue;
    }
    if (is_client(st->kind))
      any_client = true;
    if (k < 0 || (size_t)k >= n)
      continue;
    seg *s = &segs[k];
    bool hs_input = word[k] == m->handshake_sym;
    if (hs_input && st->kind == TRANSCRIPT_E &&
        (transcript_event_is(st, TRANSCRIPT_EV_HANDSHAKE_OK) ||
         transcript_event_is(st, TRANSCRIPT_EV_HANDSHAKE_FAILED)))
      s->hs_done = true;
    if (st->kind == TRANSCRIPT_S) {
      const uint8_t *d = st->data;
      bool code = st->len >= 3 && d[0] >= '1' && d[0] <= '5' && d[1] >= '0' && d[1] <= '9' &&
                  d[2] >= '0' && d[2] <= '9';
      unsigned c = code ? (unsigned)((d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0')) : 0;
      if (multi) { /* inside a multi-line reply: only its end matters */
        if (code && c == multi && st->len >= 4 && d[3] == ' ')
          multi = 0;
        continue;
      }
      bool opens_multi = code && st->len > 3 && d[3] == '-';
      if (!any_client || (hs_input && !s->hs_done)) {
        /* the greeting; or the ClientHello's bytes read as commands (see
         * learn_ftps.h) */
        multi = opens_multi ? c : 0;
        continue;
      }
      if (!code || (st->len > 3 && d[3] != ' ' && d[3] != '-')) {
        seg_add(s, '.', "?");
        continue;
      }
      if (opens_multi)
        multi = c;
      char tok[8];
      snprintf(tok, sizeof(tok), "%03u", c);
      seg_add(s, '.', tok);
    } else if (st->kind == TRANSCRIPT_E) {
      int was_dead = dead;
      const char *tok = event_token(st, &dead);
      if (tok && is_data_token(tok) && was_dead) {
        /* the data connection's end after the control connection's (or
         * after the client gave up) is teardown, recorded or not as the
         * timing goes */
      } else if (tok && is_data_token(tok)) {
        if (s->n_data < sizeof(s->data) / sizeof(s->data[0]))
          s->data[s->n_data++] = tok;
        else
          s->data[s->n_data - 1] = "data_more";
      } else if (tok) {
        seg_add(s, '+', tok);
      }
    }
  }
  int rc = 0;
  for (size_t j = 0; j < n; j++)
    for (size_t d = 0; d < segs[j].n_data; d++)
      seg_add(&segs[j], '+', segs[j].data[d]);
  for (size_t j = 0; j < n && rc == 0; j++) {
    if (dead_from >= 0 && (int)j >= dead_from && segs[j].len == 0) {
      out[j] = dead == 1 ? m->closed_id : m->gave_up_id;
      continue;
    }
    rc = intern(m, segs[j].len ? segs[j].text : "-", &out[j]);
  }
  free(segs);
  return rc;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* pace takes the next connection slot (shared by all threads) and waits
 * for it (TCP, |rate| > 0); counts the play. */
static void pace(learn_ftps *m) {
  bool paced = m->o.target.server == NULL && m->o.rate > 0;
  pthread_mutex_lock(&m->mu);
  m->plays++;
  double t = paced ? now_s() : 0, slot = t;
  if (paced) {
    if (m->next_slot > t)
      slot = m->next_slot;
    m->next_slot = slot + 1.0 / m->o.rate;
  }
  pthread_mutex_unlock(&m->mu);
  if (slot > t) {
    double d = slot - t;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    nanosleep(&ts, NULL);
  }
}

int learn_ftps_play(learn_ftps *m, const learn_sym *word, size_t n, const judge_config *jc,
                    transcript *got, play_result *res, char *err, size_t err_len) {
  memset(res, 0, sizeof(*res));
  transcript script;
  transcript_init(&script);
  int rc;
  if (learn_ftps_script(m, word, n, &script) != 0) {
    snprintf(err, err_len, "out of memory (query script)");
    rc = res->run_rc = RUNNER_ERR_NOMEM;
  } else {
    pace(m);
    rc = play_script(&m->o.target, &m->o.run, jc, &script, "query", got, res, err, err_len);
    if (rc < 0 && err_len && !err[0])
      snprintf(err, err_len, "%s",
               rc == RUNNER_ERR_CONNECT ? "cannot connect" : "the query could not be played");
  }
  transcript_cleanup(&script);
  return rc;
}

static int sul_query(void *ctx, const learn_sym *word, size_t n, learn_out *out, char *err,
                     size_t err_len) {
  learn_ftps *m = ctx;
  if (n == 0)
    return 0;
  if (err_len)
    err[0] = 0;
  transcript got;
  transcript_init(&got);
  play_result res;
  int rc = -1;
  if (learn_ftps_play(m, word, n, NULL, &got, &res, err, err_len) < 0)
    goto out;
  if (learn_ftps_map(m, word, &got, n, out) != 0) {
    snprintf(err, err_len, "more than %u distinct outputs (or out of memory)",
             LEARN_FTPS_OUTPUTS_MAX);
    goto out;
  }
  rc = 0;
out:
  play_result_cleanup(&res);
  transcript_cleanup(&got);
  return rc;
}

const char *learn_ftps_output_name(const learn_ftps *m, learn_out o) {
  return o < m->n_outputs ? m->outputs[o] : "";
}

const char *learn_ftps_input_name(const learn_ftps *m, learn_sym i) {
  size_t n;
  const learn_alpha_input *t = learn_alpha_inputs(&n);
  return i < m->o.alphabet->n ? t[m->o.alphabet->idx[i]].name : "";
}

size_t learn_ftps_plays(const learn_ftps *m) {
  learn_ftps *mm = (learn_ftps *)m; /* the lock only */
  pthread_mutex_lock(&mm->mu);
  size_t n = m->plays;
  pthread_mutex_unlock(&mm->mu);
  return n;
}

/* A batch: threads take the next job and play it into the job's own
 * transcript and result; nothing else is written by them but the mapper's
 * pacing and play count (under its lock). */
typedef struct batch_job {
  learn_ftps *m;
  const judge_config *jc;
  learn_ftps_job *jobs;
  size_t count;
  pthread_mutex_t mu;
  size_t next;
} batch_job;

static void *batch_worker(void *arg) {
  batch_job *b = arg;
  for (;;) {
    pthread_mutex_lock(&b->mu);
    size_t j = b->next < b->count ? b->next++ : SIZE_MAX;
    pthread_mutex_unlock(&b->mu);
    if (j == SIZE_MAX)
      return NULL;
    learn_ftps_job *job = &b->jobs[j];
    if (job->n == 0)
      continue;
    job->rc = learn_ftps_play(b->m, job->word, job->n, b->jc, &job->got, &job->res, job->err,
                              sizeof(job->err));
  }
}

void learn_ftps_play_batch(learn_ftps *m, const judge_config *jc, learn_ftps_job *jobs,
                           size_t count) {
  for (size_t j = 0; j < count; j++) {
    transcript_init(&jobs[j].got);
    memset(&jobs[j].res, 0, sizeof(jobs[j].res));
    jobs[j].rc = 0;
    jobs[j].err[0] = 0;
  }
  batch_job b = {.m = m, .jc = jc, .jobs = jobs, .count = count};
  pthread_mutex_init(&b.mu, NULL);
  unsigned n_th = m->o.concurrency;
  if (n_th > LEARN_FTPS_CONCURRENCY_MAX)
    n_th = LEARN_FTPS_CONCURRENCY_MAX;
  if (m->o.target.server != NULL)
    n_th = 1; /* in-process the server (test_config) is one, reset for every play */
  if (n_th > count)
    n_th = (unsigned)count;
  pthread_t th[LEARN_FTPS_CONCURRENCY_MAX];
  unsigned started = 0;
  while (n_th > 1 && started < n_th && pthread_create(&th[started], NULL, batch_worker, &b) == 0)
    started++;
  if (started == 0)
    batch_worker(&b); /* one at a time, or no thread to be had: play them here */
  for (unsigned i = 0; i < started; i++)
    pthread_join(th[i], NULL);
  pthread_mutex_destroy(&b.mu);
}

void learn_ftps_job_cleanup(learn_ftps_job *j) {
  play_result_cleanup(&j->res);
  transcript_cleanup(&j->got);
}

/* sul_query_batch plays the batch, then maps the answers in the batch's
 * order, so output ids do not depend on which connection finished first. */
static int sul_query_batch(void *ctx, size_t count, const learn_sym *const *words,
                           const size_t *lens, learn_out *const *outs, char *err,
                           size_t err_len) {
  learn_ftps *m = ctx;
  learn_ftps_job *jobs = calloc(count ? count : 1, sizeof(*jobs));
  if (!jobs) {
    snprintf(err, err_len, "out of memory (query batch)");
    return -1;
  }
  for (size_t j = 0; j < count; j++) {
    jobs[j].word = words[j];
    jobs[j].n = lens[j];
  }
  learn_ftps_play_batch(m, NULL, jobs, count);
  int rc = 0;
  for (size_t j = 0; j < count && rc == 0; j++) {
    if (lens[j] == 0)
      continue;
    if (jobs[j].rc < 0) {
      snprintf(err, err_len, "%s", jobs[j].err);
      rc = -1;
    } else if (learn_ftps_map(m, words[j], &jobs[j].got, lens[j], outs[j]) != 0) {
      snprintf(err, err_len, "more than %u distinct outputs (or out of memory)",
               LEARN_FTPS_OUTPUTS_MAX);
      rc = -1;
    }
  }
  for (size_t j = 0; j < count; j++)
    learn_ftps_job_cleanup(&jobs[j]);
  free(jobs);
  return rc;
}

static const char *sul_input_name(void *ctx, learn_sym i) { return learn_ftps_input_name(ctx, i); }
static const char *sul_output_name(void *ctx, learn_out o) {
  return learn_ftps_output_name(ctx, o);
}
bool learn_ftps_is_sink(const learn_ftps *m, learn_out o) {
  return o == m->closed_id || o == m->gave_up_id;
}

static bool sul_is_sink(void *ctx, learn_out o) { return learn_ftps_is_sink(ctx, o); }

static int sul_output_id(void *ctx, const char *name, learn_out *o) {
  size_t l = strlen(name);
  if (l == 0 || l > LEARN_FTPS_OUTPUT_LEN + 3)
    return -1;
  for (size_t i = 0; i < l; i++)
    if (name[i] <= 0x20 || name[i] >= 0x7f)
      return -1;
  return intern(ctx, name, o);
}

learn_sul learn_ftps_sul(learn_ftps *m) {
  learn_sul s;
  memset(&s, 0, sizeof(s));
  s.ctx = m;
  s.n_inputs = m->o.alphabet->n;
  s.input_name = sul_input_name;
  s.output_name = sul_output_name;
  s.query = sul_query;
  s.is_sink_output = sul_is_sink;
  s.output_id = sul_output_id;
  if (m->o.target.server == NULL && m->o.concurrency > 1)
    s.query_batch = sul_query_batch;
  return s;
}
