/* ftps_serve_login.c - password checks off the event loop, after the
 * back-off (ftps_serve_backoff.c).
 *
 * A PBKDF2 check costs ~15 ms of CPU (100,000 iterations): on the event
 * loop, ten addresses guessing passwords would stall every session. Under
 * login_async the core emits FTPS_EV_LOGIN_CHECK and waits; this file hands
 * the check to one of |login_workers| threads (one check per thread at a
 * time; the rest wait on a list, clean addresses first, an address with
 * failures one check at a time) and gives the verdict back to the core on the
 * loop, through an eventfd. With 0 workers the check runs on the loop (the
 * old behaviour, kept for benchmarks).
 *
 * The back-off delays the check, not the reply, so a backed-off guess costs
 * no CPU. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <openssl/mem.h>

#include "ftps_err.h"
#include "ftps_serve_int.h"
#include "ftps_users.h"

#define LOGIN_INLINE_BATCH 64      /* inline checks per loop turn (0 workers) */
#define LOGIN_NAME_MAX 64

struct serve_login_job {
  serve_login_job *next;
  serve_conn *conn;        /* NULL once the session ended: the verdict is dropped */
  const ftps_users *users;
  char user[LOGIN_NAME_MAX + 1];
  uint8_t *pw;
  size_t pw_len;
  bool ok;
};

struct serve_login {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t *threads;
  unsigned nthreads;
  bool stop;
  serve_login_job *todo, *todo_tail;   /* under |mu| */
  serve_login_job *done;               /* under |mu| */
  serve_handle ev;                     /* eventfd, readable when |done| grew */
  unsigned inflight;                   /* loop thread only */
  serve_conn *wait, *wait_tail;        /* sessions waiting for a check */
  serve_backoff *backoff;
};

static void job_free(serve_login_job *j) {
  if (!j)
    return;
  if (j->pw) {
    OPENSSL_cleanse(j->pw, j->pw_len);
    free(j->pw);
  }
  OPENSSL_cleanse(j, sizeof(*j));
  free(j);
}

static void *worker(void *arg) {
  serve_login *L = arg;
  pthread_mutex_lock(&L->mu);
  for (;;) {
    while (!L->todo && !L->stop)
      pthread_cond_wait(&L->cv, &L->mu);
    if (L->stop)
      break;
    serve_login_job *j = L->todo;
    L->todo = j->next;
    if (!L->todo)
      L->todo_tail = NULL;
    pthread_mutex_unlock(&L->mu);
    j->ok = ftps_users_check(j->users, j->user, (const char *)j->pw, j->pw_len);
    pthread_mutex_lock(&L->mu);
    j->next = L->done;
    L->done = j;
    uint64_t one = 1;
    ssize_t w = write(L->ev.fd, &one, sizeof(one));
    (void)w; /* the counter cannot overflow with a bounded queue */
  }
  pthread_mutex_unlock(&L->mu);
  return NULL;
}

/* --- the wait list and the verdicts --- */

static void wait_unlink(serve_login *L, serve_conn *c) {
  serve_conn *prev = NULL;
  for (serve_conn *w = L->wait; w; prev = w, w = w->login_next) {
    if (w != c)
      continue;
    if (prev)
      prev->login_next = c->login_next;
    else
      L->wait = c->login_next;
    if (L->wait_tail == c)
      L->wait_tail = prev;
    break;
  }
  c->login_next = NULL;
  c->login_waiting = false;
}

/* Gives |c| its verdict and lets the session go on. */
static void verdict(serve_conn *c, const char *user, bool ok) {
  uint64_t now = serve_now_ms();
  serve_backoff_record(c->srv->login->backoff, &c->peer, user, ok, now);
  ftps_session_advance(c->sess, now); /* a failure's reply is held from now */
  ftps_session_login_result(c->sess, ok);
  serve_conn_pump(c);
}

/* Starts |c|'s check: on a worker, or right here with no workers. */
static void start_check(ftps_serve *srv, serve_conn *c, uint64_t now) {
  serve_login *L = srv->login;
  const char *user;
  const uint8_t *pw;
  size_t pw_len;
  if (!ftps_session_login_pending(c->sess, &user, &pw, &pw_len))
    return;
  serve_backoff_space(L->backoff, &c->peer, user, now);
  if (L->nthreads == 0) {
    char name[LOGIN_NAME_MAX + 1];
    snprintf(name, sizeof(name), "%s", user);
    bool ok = ftps_users_check(srv->cfg.server->users, user, (const char *)pw, pw_len);
    verdict(c, name, ok);
    return;
  }
  serve_login_job *j = calloc(1, sizeof(*j));
  if (j)
    j->pw = malloc(pw_len ? pw_len : 1);
  if (!j || !j->pw) {
    job_free(j);
    serve_conn_kill(c, "out of memory");
    return;
  }
  j->conn = c;
  j->users = srv->cfg.server->users;
  snprintf(j->user, sizeof(j->user), "%s", user);
  memcpy(j->pw, pw, pw_len);
  j->pw_len = pw_len;
  c->login_job = j;
  L->inflight++;
  pthread_mutex_lock(&L->mu);
  if (L->todo_tail)
    L->todo_tail->next = j;
  else
    L->todo = j;
  L->todo_tail = j;
  pthread_cond_signal(&L->cv);
  pthread_mutex_unlock(&L->mu);
}

/* Whether another session of |c|'s address has a check on a worker. */
static bool addr_busy(const ftps_serve *srv, const serve_conn *c) {
  for (const serve_conn *o = srv->conns; o; o = o->next)
    if (o != c && o->login_job && o->peer.family == c->peer.family &&
        memcmp(o->peer.ip, c->peer.ip, 16) == 0)
      return true;
  return false;
}

/* The next session whose check may start now: due (back-off over); if its
 * address has failures on record, not while another check of that address
 * is on a worker, and not at all when |clean_only|. Sessions whose check is no longer
 * pending leave the list. |*next| gets the earliest future due time. */
static serve_conn *pick(ftps_serve *srv, uint64_t now, bool clean_only, uint64_t *next) {
  serve_login *L = srv->login;
  serve_conn *c = L->wait;
  while (c) {
    serve_conn *after = c->login_next;
    const char *user;
    const uint8_t *pw;
    size_t pw_len;
    if (!ftps_session_login_pending(c->sess, &user, &pw, &pw_len)) {
      wait_unlink(L, c);
    } else {
      uint64_t due = serve_backoff_due(L->backoff, &c->peer, user, now);
      if (due > now) {
        if (due < *next)
          *next = due;
      } else {
        bool failed = serve_backoff_addr_failed(L->backoff, &c->peer, now);
        if (!(clean_only && failed) && !(failed && L->nthreads && addr_busy(srv, c)))
          return c;
      }
    }
    c = after;
  }
  return NULL;
}

uint64_t serve_login_timer(ftps_serve *srv, uint64_t now) {
  serve_login *L = srv->login;
  if (!L)
    return UINT64_MAX;
  /* Checks go to the workers one per worker, so the choice of the next one
   * is made here, where a clean address (a legitimate user) is served
   * before addresses that failed, and one address has at most one check
   * on a worker. With no workers, at most a batch per loop turn. */
  unsigned started = 0;
  uint64_t next = UINT64_MAX;
  for (;;) {
    bool room = L->nthreads ? L->inflight < L->nthreads : started < LOGIN_INLINE_BATCH;
    if (!room) {
      if (!L->nthreads && L->wait)
        next = now; /* the rest on the next loop turn */
      break;
    }
    next = UINT64_MAX;
    serve_conn *c = pick(srv, now, true, &next);
    if (!c)
      c = pick(srv, now, false, &next);
    if (!c)
      break;
    wait_unlink(L, c);
    started++;
    start_check(srv, c, now);
  }
  return next;
}

void serve_login_request(serve_conn *c) {
  ftps_serve *srv = c->srv;
  serve_login *L = srv->login;
  if (c->login_waiting || c->login_job)
    return;
  c->login_waiting = true;
  c->login_next = NULL;
  if (L->wait_tail)
    L->wait_tail->login_next = c;
  else
    L->wait = c;
  L->wait_tail = c;
  uint64_t now = serve_now_ms();
  const char *user;
  const uint8_t *pw;
  size_t pw_len;
  if (ftps_session_login_pending(c->sess, &user, &pw, &pw_len)) {
    uint64_t due = serve_backoff_due(L->backoff, &c->peer, user, now);
    if (due > now)
      serve_log(srv, "#%lu %s login check waits %llu ms (back-off after failed logins)", c->id,
                c->peer_str, (unsigned long long)(due - now));
  }
  serve_timer_at(srv, serve_login_timer(srv, now));
}

void serve_login_event(ftps_serve *srv) {
  serve_login *L = srv->login;
  uint64_t n;
  ssize_t r = read(L->ev.fd, &n, sizeof(n));
  (void)r;
  pthread_mutex_lock(&L->mu);
  serve_login_job *done = L->done;
  L->done = NULL;
  pthread_mutex_unlock(&L->mu);
  while (done) {
    serve_login_job *j = done;
    done = j->next;
    L->inflight--;
    serve_conn *c = j->conn;
    if (c) {
      c->login_job = NULL;
      verdict(c, j->user, j->ok);
    }
    job_free(j);
  }
  serve_timer_at(srv, serve_login_timer(srv, serve_now_ms()));
}

void serve_login_forget(serve_conn *c) {
  serve_login *L = c->srv->login;
  if (!L)
    return;
  if (c->login_job) {
    c->login_job->conn = NULL; /* freed when its worker is done */
    c->login_job = NULL;
  }
  if (c->login_waiting)
    wait_unlink(L, c);
}

int serve_login_new(ftps_serve *srv) {
  serve_login *L = calloc(1, sizeof(*L));
  if (!L) {
    errno = ENOMEM;
    return FTPS_ERR_NOMEM;
  }
  srv->login = L;
  L->ev = (serve_handle){.kind = SK_LOGIN, .fd = -1, .mask = (uint32_t)-1};
  pthread_mutex_init(&L->mu, NULL);
  pthread_cond_init(&L->cv, NULL);
  L->backoff = serve_backoff_new(srv->cfg.login_backoff_max_ms);
  if (!L->backoff) {
    errno = ENOMEM;
    return FTPS_ERR_NOMEM;
  }
  unsigned n = srv->cfg.login_workers;
  if (n == 0)
    return 0;
  L->ev.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (L->ev.fd < 0 || serve_watch(srv, &L->ev, EPOLLIN) != 0)
    return FTPS_ERR_IO;
  L->threads = calloc(n, sizeof(*L->threads));
  if (!L->threads) {
    errno = ENOMEM;
    return FTPS_ERR_NOMEM;
  }
  /* Workers inherit a mask that blocks every signal: SIGINT/SIGTERM must
   * reach the loop's signalfd, never kill the process through a worker. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int e = 0;
  for (unsigned i = 0; i < n && e == 0; i++) {
    e = pthread_create(&L->threads[i], NULL, worker, L);
    if (e == 0)
      L->nthreads++;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (e != 0) {
    errno = e;
    return FTPS_ERR_IO;
  }
  return 0;
}

void serve_login_free(ftps_serve *srv) {
  serve_login *L = srv->login;
  if (!L)
    return;
  pthread_mutex_lock(&L->mu);
  L->stop = true;
  pthread_cond_broadcast(&L->cv);
  pthread_mutex_unlock(&L->mu);
  for (unsigned i = 0; i < L->nthreads; i++)
    pthread_join(L->threads[i], NULL);
  free(L->threads);
  for (serve_login_job *j = L->todo, *next; j; j = next) {
    next = j->next;
    job_free(j);
  }
  for (serve_login_job *j = L->done, *next; j; j = next) {
    next = j->next;
    job_free(j);
  }
  serve_close_handle(srv, &L->ev);
  pthread_mutex_destroy(&L->mu);
  pthread_cond_destroy(&L->cv);
  serve_backoff_free(L->backoff);
  free(L);
  srv->login = NULL;
}
