/* check.c - `ftpsfuzz check`: plan, adapt, play, judge (see check.h). */
#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "check_site.h"
#include "gen_play.h"
#include "mutate.h"
#include "runner.h"
#include "transcript_event.h"

const char *check_origin_name(check_origin o) {
  switch (o) {
  case CHECK_PROBE: return "probe";
  case CHECK_COVER: return "cover";
  case CHECK_WALK: return "walk";
  case CHECK_MUTANT: return "mutant";
  }
  return "?";
}

void check_report_init(check_report *r) {
  memset(r, 0, sizeof(*r));
  for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++) {
    transcript_init(&r->inv[i].example.script);
    transcript_init(&r->inv[i].example.got);
  }
}

void check_report_cleanup(check_report *r) {
  if (!r)
    return;
  for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++) {
    transcript_cleanup(&r->inv[i].example.script);
    transcript_cleanup(&r->inv[i].example.got);
  }
  free(r->seqs);
  r->seqs = NULL;
}

bool check_security_violated(const check_report *r) {
  for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++)
    if (r->inv[i].violated && oracle_invariant_severity((oracle_invariant)i) == ORACLE_SECURITY)
      return true;
  return false;
}

/* --- the plan --- */

typedef struct item {
  check_origin origin;
  char name[64];
  transcript script; /* adapted */
  bool touches;      /* restore the fixture afterwards */
} item;

typedef struct plan {
  item *items;
  size_t n, cap;
} plan;

static void plan_cleanup(plan *p) {
  for (size_t i = 0; i < p->n; i++)
    transcript_cleanup(&p->items[i].script);
  free(p->items);
}

/* plan_add adapts |t| and appends it. 0, 1 (dropped: needs a login), -1. */
static int plan_add(plan *p, const check_adapt_ctx *ac, check_origin origin, const char *name,
                    const transcript *t) {
  if (p->n == CHECK_SEQUENCES_MAX)
    return 1;
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64;
    item *n = realloc(p->items, cap * sizeof(*n));
    if (!n)
      return -1;
    p->items = n;
    p->cap = cap;
  }
  item *it = &p->items[p->n];
  memset(it, 0, sizeof(*it));
  it->origin = origin;
  snprintf(it->name, sizeof(it->name), "%s", name);
  transcript_init(&it->script);
  int r = check_adapt(ac, t, &it->script, &it->touches);
  if (r != 0) {
    transcript_cleanup(&it->script);
    return r;
  }
  p->n++;
  return 0;
}

static int build_plan(const check_options *o, const check_adapt_ctx *ac, plan *p,
                      check_report *r) {
  gen_set probes, cover, extra;
  gen_player player;
  const char *names[CHECK_PROBES_MAX];
  gen_cover_stats *st = calloc(1, sizeof(*st));
  int rc = -1;
  char name[64];
  gen_set_init(&probes);
  gen_set_init(&cover);
  gen_set_init(&extra);
  memset(&player, 0, sizeof(player));
  if (!st)
    goto out;
  long np = check_probes(&probes, names);
  if (np < 0)
    goto out;
  /* The cover set, found against the in-process server given the target's
   * declared policy (the same scripts `ftpsfuzz gen --cover` writes). */
  if (o->log)
    fprintf(o->log, "check: generating the cover set for the declared policy...\n");
  if (gen_player_init(&player, &o->model) != 0 ||
      gen_cover(&o->model, gen_player_play, &player, &cover, st) != 0)
    goto out;
  if (o->walks && gen_walks(&o->model, o->walks, o->seed, &extra) != 0)
    goto out;
  for (size_t i = 0; i < o->mutants && cover.n; i++) {
    transcript t;
    transcript_init(&t);
    if (gen_copy_steps(&t, &cover.items[i % cover.n]) != 0 ||
        mutate_transcript(&t, o->seed * 1000003u + i, &cover.items[(i + 1) % cover.n]) < 0 ||
        gen_set_add(&extra, &t) != 0) {
      transcript_cleanup(&t);
      goto out;
    }
    transcript_cleanup(&t);
  }
  for (size_t i = 0; i < probes.n; i++) {
    int a = plan_add(p, ac, CHECK_PROBE, names[i], &probes.items[i]);
    if (a < 0)
      goto out;
    r->dropped_login += a == 1;
    r->dropped_implicit += a == 2;
  }
  for (size_t i = 0; i < cover.n; i++) {
    snprintf(name, sizeof(name), "cover-%zu", i + 1);
    int a = plan_add(p, ac, CHECK_COVER, name, &cover.items[i]);
    if (a < 0)
      goto out;
    r->dropped_login += a == 1;
    r->dropped_implicit += a == 2;
  }
  for (size_t i = 0; i < extra.n; i++) {
    bool walk = i < o->walks;
    snprintf(name, sizeof(name), "%s-%zu", walk ? "walk" : "mutant",
             walk ? i + 1 : i - o->walks + 1);
    int a = plan_add(p, ac, walk ? CHECK_WALK : CHECK_MUTANT, name, &extra.items[i]);
    if (a < 0)
      goto out;
    r->dropped_login += a == 1;
    r->dropped_implicit += a == 2;
  }
  rc = 0;
out:
  gen_player_cleanup(&player);
  gen_set_cleanup(&probes);
  gen_set_cleanup(&cover);
  gen_set_cleanup(&extra);
  free(st);
  return rc;
}

/* --- playing --- */

typedef struct shared {
  const check_options *o;
  plan *p;
  check_report *r;
  check_site *site;
  pthread_mutex_t mu;
  size_t next;
  double next_slot; /* monotonic seconds of the next allowed connection */
  int err;
} shared;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* pace waits for the rate limit's next slot (called for every connection). */
static void pace(shared *sh) {
  if (sh->o->rate <= 0)
    return;
  pthread_mutex_lock(&sh->mu);
  double t = now_s();
  double at = sh->next_slot > t ? sh->next_slot : t;
  sh->next_slot = at + 1.0 / sh->o->rate;
  pthread_mutex_unlock(&sh->mu);
  double wait = at - t;
  if (wait > 0) {
    struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
    nanosleep(&ts, NULL);
  }
}

static void record(shared *sh, size_t idx, const item *it, const transcript *got,
                   const runner_result *res, int rr, const check_verdict *verdict,
                   const check_reason *reason, char (*why)[512]) {
  check_report *r = sh->r;
  pthread_mutex_lock(&sh->mu);
  r->played++;
  r->by_origin[it->origin]++;
  if (rr == RUNNER_ERR_CONNECT)
    r->connect_failures++;
  if (res->timed_out) {
    if (!r->timeouts)
      snprintf(r->first_timeout, sizeof(r->first_timeout), "%s", it->name);
    r->timeouts++;
  }
  if (rr == RUNNER_LIMIT)
    r->limits++;
  size_t len = check_client_steps(&it->script);
  check_seq *q = r->seqs ? &r->seqs[idx] : NULL;
  if (q) {
    snprintf(q->name, sizeof(q->name), "%s", it->name);
    q->origin = it->origin;
    q->timed_out = res->timed_out;
    q->connect_failed = rr == RUNNER_ERR_CONNECT;
  }
  for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++) {
    check_inv_stats *s = &r->inv[i];
    check_verdict v = verdict[i];
    check_reason why_not = reason[i];
    if (rr == RUNNER_ERR_CONNECT && v != CHECK_VERDICT_NONE) {
      v = CHECK_VERDICT_INCONCLUSIVE; /* nothing was judged */
      why_not = CHECK_REASON_NO_CONNECTION;
    }
    if (q) {
      q->verdict[i] = (unsigned char)v;
      q->reason[i] = (unsigned char)why_not;
    }
    if (v == CHECK_VERDICT_INCONCLUSIVE) {
      s->inconclusive++;
      s->reasons[why_not < CHECK_REASON_COUNT ? why_not : CHECK_REASON_NOT_REACHED]++;
      continue;
    }
    if (v == CHECK_VERDICT_NONE)
      continue;
    s->checked++;
    if (v != CHECK_VERDICT_VIOLATED)
      continue;
    s->violated++;
    check_example *e = &s->example;
    if (e->have && (e->client_steps < len || (e->client_steps == len && e->seq < idx)))
      continue;
    transcript_cleanup(&e->script);
    transcript_cleanup(&e->got);
    transcript_init(&e->script);
    transcript_init(&e->got);
    if (gen_copy_steps(&e->script, &it->script) != 0 || gen_copy_steps(&e->got, got) != 0) {
      sh->err = CHECK_ERR_NOMEM;
      e->have = false;
      continue;
    }
    e->have = true;
    e->seq = idx;
    e->client_steps = len;
    snprintf(e->name, sizeof(e->name), "%s", it->name);
    snprintf(e->why, sizeof(e->why), "%s", why[i]);
  }
  if (sh->site)
    check_site_note_names(sh->site, got);
  if (sh->o->transcripts_dir) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.fts", sh->o->transcripts_dir, it->name);
    FILE *f = fopen(path, "w");
    if (f) {
      transcript_print_text(got, f);
      fclose(f);
    }
  }
  if (sh->o->log) {
    size_t nv = 0;
    for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++)
      nv += verdict[i] == CHECK_VERDICT_VIOLATED;
    fprintf(sh->o->log, "[%zu/%zu] %-36s %s", idx + 1, sh->p->n, it->name,
            rr == RUNNER_ERR_CONNECT ? "NO CONNECTION"
            : res->timed_out         ? "timeout"
            : nv                     ? "VIOLATION"
                                     : "ok");
    for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++)
      if (verdict[i] == CHECK_VERDICT_VIOLATED)
        fprintf(sh->o->log, " %s", oracle_invariant_name((oracle_invariant)i));
    fprintf(sh->o->log, "\n");
  }
  pthread_mutex_unlock(&sh->mu);
}

static void *worker(void *arg) {
  shared *sh = arg;
  bool violated[ORACLE_INVARIANT_COUNT];
  check_verdict verdict[ORACLE_INVARIANT_COUNT];
  check_reason reason[ORACLE_INVARIANT_COUNT];
  char(*why)[512] = calloc(ORACLE_INVARIANT_COUNT, sizeof(*why));
  if (!why) {
    sh->err = CHECK_ERR_NOMEM;
    return NULL;
  }
  for (;;) {
    pthread_mutex_lock(&sh->mu);
    size_t idx = sh->next < sh->p->n && !sh->err ? sh->next++ : SIZE_MAX;
    pthread_mutex_unlock(&sh->mu);
    if (idx == SIZE_MAX)
      break;
    const item *it = &sh->p->items[idx];
    transcript got;
    runner_result res;
    runner_options opt = check_conn_runner_options(sh->o);
    opt.script_name = it->name;
    memset(&res, 0, sizeof(res));
    transcript_init(&got);
    pace(sh);
    int retry = 0;
    int rr = check_conn_play(sh->o, &it->script, &opt, &got, &res, &retry);
    if (retry) {
      pthread_mutex_lock(&sh->mu);
      sh->r->data_retries++;
      sh->r->data_retry_ok += retry == 2;
      pthread_mutex_unlock(&sh->mu);
    }
    if (rr == RUNNER_ERR_NOMEM || rr == RUNNER_ERR_INVAL) {
      transcript_cleanup(&got);
      sh->err = CHECK_ERR_NOMEM;
      break;
    }
    model_config judged_as = sh->o->model;
    judged_as.implicit_tls = sh->o->conn.implicit; /* the oracle starts SECURE */
    if (check_judge(&judged_as, sh->o->pass, &got, violated, why) < 0) {
      transcript_cleanup(&got);
      sh->err = CHECK_ERR_NOMEM;
      break;
    }
    check_verdicts(&sh->o->model, &it->script, &got, violated, verdict, reason);
    record(sh, idx, it, &got, &res, rr, verdict, reason, why);
    transcript_cleanup(&got);
    if (it->touches && sh->site && sh->site->base[0]) {
      pace(sh);
      check_site_restore(sh->site);
    }
  }
  free(why);
  return NULL;
}

/* local_address finds the address this host uses to reach the target (a UDP
 * connect sends nothing), for PORT/EPRT. */
static void local_address(const char *host, const char *port, char *out, size_t out_len,
                          bool *ipv6) {
  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  out[0] = 0;
  if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
    return;
  *ipv6 = ai->ai_family == AF_INET6;
  int fd = socket(ai->ai_family, SOCK_DGRAM, 0);
  if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
      const void *a = ss.ss_family == AF_INET6
                          ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
                          : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
      if (!inet_ntop(ss.ss_family, a, out, (socklen_t)out_len))
        out[0] = 0;
    }
  }
  if (fd >= 0)
    close(fd);
  freeaddrinfo(ai);
}

/* reachable plays "QUIT" once: can the target be reached at all, and does
 * it speak FTP first? Returns 0 (a greeting came), -1 (no connection), or
 * 1 (no greeting: |note| says what happened instead). */
static int reachable(const check_options *o, char *note, size_t note_len) {
  transcript s, got;
  runner_options opt = check_conn_runner_options(o);
  runner_result res;
  transcript_init(&s);
  transcript_init(&got);
  memset(&res, 0, sizeof(res));
  int rc = -1;
  if (transcript_add(&s, TRANSCRIPT_C, "QUIT", 4) == 0 &&
      runner_run_tcp(o->host, o->port, &s, &opt, &got, &res) != RUNNER_ERR_CONNECT) {
    rc = 1;
    for (size_t i = 0; i < got.n && rc; i++) {
      const transcript_step *st = &got.steps[i];
      if (st->kind == TRANSCRIPT_S && st->len >= 3 && st->data[0] >= '1' && st->data[0] <= '5' &&
          st->data[1] >= '0' && st->data[1] <= '9' && st->data[2] >= '0' && st->data[2] <= '9')
        rc = 0;
      else if (o->conn.implicit && transcript_event_is(st, TRANSCRIPT_EV_HANDSHAKE_OK))
        continue; /* implicit TLS: the greeting comes inside it */
      else if (st->kind == TRANSCRIPT_S || st->kind == TRANSCRIPT_E)
        break; /* the first thing the server did was something else */
    }
    unsigned t = o->timeout_ms ? o->timeout_ms : RUNNER_TCP_TIMEOUT_DEFAULT;
    if (rc && res.timed_out && res.server_bytes == 0)
      snprintf(note, note_len, "no FTP greeting in %.1f s: implicit TLS? try ftps://%s%s%s:%s",
               t / 1000.0, strchr(o->host, ':') ? "[" : "", o->host,
               strchr(o->host, ':') ? "]" : "", o->port);
    else if (rc && res.server_bytes == 0)
      snprintf(note, note_len, "the server closed the connection without an FTP greeting");
    else if (rc)
      snprintf(note, note_len,
               "the server's first bytes are no FTP greeting (implicit TLS? another protocol?)");
  }
  transcript_cleanup(&s);
  transcript_cleanup(&got);
  return rc;
}

int check_run(const check_options *o, check_report *r) {
  plan p;
  check_site *site = NULL;
  check_adapt_ctx ac;
  shared sh;
  pthread_t th[CHECK_CONCURRENCY_MAX];
  size_t n_th = 0;
  int rc = CHECK_ERR_NOMEM;
  double t0 = now_s();
  memset(&p, 0, sizeof(p));
  memset(&ac, 0, sizeof(ac));
  memset(&sh, 0, sizeof(sh));
  pthread_mutex_init(&sh.mu, NULL);
  sh.o = o;

  int reach = reachable(o, r->setup_note, sizeof(r->setup_note));
  if (reach < 0) {
    snprintf(r->setup_note, sizeof(r->setup_note), "cannot connect to %s port %s", o->host,
             o->port);
    rc = CHECK_ERR_CONNECT;
    goto out;
  }
  if (reach > 0) {
    /* Nothing to judge: every sequence would only time out. */
    r->no_greeting = true;
    rc = CHECK_OK;
    goto out;
  }
  if (!o->conn.implicit && check_conn_auth_ssl_only(o)) {
    r->auth_ssl = true;
    if (o->log)
      fprintf(o->log, "check: AUTH TLS refused, AUTH SSL accepted: the sequences use AUTH SSL\n");
  }
  ac.user = o->user;
  ac.pass = o->pass;
  ac.auth_ssl = r->auth_ssl;
  ac.base = "";
  ac.no_plain_secret = o->model.policy.tls_login;
  ac.implicit = o->conn.implicit;
  local_address(o->host, o->port, ac.local_ip, sizeof(ac.local_ip), &ac.ipv6);
  if (o->user && o->pass) {
    site = calloc(1, sizeof(*site));
    if (!site)
      goto out;
    site->host = o->host;
    site->port = o->port;
    site->user = o->user;
    site->pass = o->pass;
    site->opt = check_conn_runner_options(o);
    site->auth_ssl = r->auth_ssl;
    site->plain_ok = !o->model.policy.tls_login;
    uint8_t rnd[4];
    char dirname[64];
    RAND_bytes(rnd, sizeof(rnd));
    snprintf(dirname, sizeof(dirname), "ftpsfuzz-check-%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
             rnd[3]);
    int s = check_site_setup(site, dirname, r->setup_note, sizeof(r->setup_note));
    if (s == -2) {
      rc = CHECK_ERR_CONNECT;
      goto out;
    }
    r->setup_ok = s == 0;
    if (s == 0) {
      ac.base = site->base;
      snprintf(r->base, sizeof(r->base), "%s", site->base);
    }
    r->logged_in = s == 0;
  } else {
    snprintf(r->setup_note, sizeof(r->setup_note),
             "no credentials: only sequences that need no login were played");
  }
  if (o->log && r->setup_note[0])
    fprintf(o->log, "check: %s\n", r->setup_note);
  if (o->log && r->base[0])
    fprintf(o->log, "check: working directory %s\n", r->base);
  if (build_plan(o, &ac, &p, r) != 0)
    goto cleanup;
  r->planned = p.n;
  r->seqs = p.n ? calloc(p.n, sizeof(*r->seqs)) : NULL;
  if (p.n && !r->seqs)
    goto cleanup;
  sh.o = o;
  sh.p = &p;
  sh.r = r;
  sh.site = site && site->base[0] ? site : NULL;
  unsigned conc = o->concurrency ? o->concurrency : 1;
  if (conc > CHECK_CONCURRENCY_MAX)
    conc = CHECK_CONCURRENCY_MAX;
  for (unsigned i = 0; i < conc; i++) {
    if (pthread_create(&th[n_th], NULL, worker, &sh) != 0)
      break;
    n_th++;
  }
  if (!n_th)
    worker(&sh);
  for (size_t i = 0; i < n_th; i++)
    pthread_join(th[i], NULL);
  rc = sh.err ? sh.err : CHECK_OK;
cleanup:
  if (site && site->base[0]) {
    pace(&sh);
    r->cleanup_ok = check_site_cleanup(site) == 0;
    if (!r->cleanup_ok && o->log)
      fprintf(o->log, "check: could not remove %s from the server completely\n", site->base);
  }
out:
  r->seconds = now_s() - t0;
  plan_cleanup(&p);
  free(site);
  pthread_mutex_destroy(&sh.mu);
  return rc;
}
