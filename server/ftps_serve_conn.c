/* ftps_serve_conn.c - one control connection of the TCP front end: bytes
 * between the socket and the core, the core's events, timers, the end of a
 * session. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ftps_err.h"
#include "ftps_reply.h"
#include "ftps_serve_int.h"

static void init_handle(serve_handle *h, serve_kind kind, serve_conn *c) {
  h->kind = kind;
  h->conn = c;
  h->fd = -1;
  h->mask = (uint32_t)-1;
}

void serve_conn_schedule(serve_conn *c) {
  if (c->on_run_list || c->dead)
    return;
  c->on_run_list = true;
  c->run_next = c->srv->run_list;
  c->srv->run_list = c;
}

static void unschedule(serve_conn *c) {
  if (!c->on_run_list)
    return;
  for (serve_conn **pp = &c->srv->run_list; *pp; pp = &(*pp)->run_next) {
    if (*pp == c) {
      *pp = c->run_next;
      break;
    }
  }
  c->on_run_list = false;
  c->run_next = NULL;
}

void serve_conn_accept(ftps_serve *srv, int fd, const struct sockaddr_storage *peer,
                       socklen_t peer_len) {
  (void)peer_len;
  char who[64];
  serve_sa_to_string((const struct sockaddr *)peer, who, sizeof(who));
  serve_conn *c = calloc(1, sizeof(*c));
  if (!c) {
    close(fd);
    serve_log(srv, "%s refused: out of memory", who);
    return;
  }
  c->srv = srv;
  c->id = srv->next_id++;
  init_handle(&c->ctl, SK_CTL, c);
  init_handle(&c->dlisten, SK_DLISTEN, c);
  init_handle(&c->data, SK_DATA, c);
  init_handle(&c->linger, SK_LINGER, c);
  c->ctl.fd = fd;
  snprintf(c->peer_str, sizeof(c->peer_str), "%s", who);
  c->local_sa_len = sizeof(c->local_sa);
  if (getsockname(fd, (struct sockaddr *)&c->local_sa, &c->local_sa_len) != 0) {
    serve_log(srv, "%s refused: getsockname: %s", who, strerror(errno));
    close(fd);
    free(c);
    return;
  }
  serve_addr_from_sa((const struct sockaddr *)peer, &c->peer);
  serve_addr_from_sa((const struct sockaddr *)&c->local_sa, &c->local);
  /* Replies are small and answer a request: do not let Nagle hold them. */
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c->started = c->last_active = serve_now_ms();
  c->sess = ftps_session_new(srv->cfg.server, c->started);
  if (!c->sess) {
    serve_log(srv, "%s refused: out of memory", who);
    close(fd);
    free(c);
    return;
  }
  ftps_session_set_addresses(c->sess, &c->peer, &c->local);
  c->next = srv->conns;
  if (srv->conns)
    srv->conns->prev = c;
  srv->conns = c;
  srv->nconns++;
  srv->nunauth++;
  serve_log(srv, "#%lu %s session start (%u open)", c->id, who, srv->nconns);
  serve_conn_pump(c);
}

void serve_conn_kill(serve_conn *c, const char *why) {
  if (c->dead)
    return;
  ftps_serve *srv = c->srv;
  /* A transfer cut short here still gets its log line. */
  if (c->sess) {
    ftps_session_shutdown(c->sess);
    ftps_event ev;
    while (ftps_session_next_event(c->sess, &ev))
      serve_log_event(c, &ev);
  }
  uint64_t now = serve_now_ms();
  serve_log(srv, "#%lu %s session end: %s (%llu ms, %llu control bytes, %llu data bytes)",
            c->id, c->peer_str, why, (unsigned long long)(now - c->started),
            (unsigned long long)c->bytes_ctl, (unsigned long long)c->bytes_data);
  serve_data_release(c);
  serve_login_forget(c);
  serve_admit_gone(c);
  serve_close_handle(srv, &c->ctl);
  ftps_session_free(c->sess);
  c->sess = NULL;
  free(c->ctl_in);
  c->ctl_in = NULL;
  c->ctl_in_len = 0;
  if (c->prev)
    c->prev->next = c->next;
  else
    srv->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  c->prev = c->next = NULL;
  srv->nconns--;
  unschedule(c);
  c->dead = true;
  c->dead_next = srv->dead_list;
  srv->dead_list = c;
}

void serve_conn_free(serve_conn *c) { free(c); }

/* Keeps the bytes the core did not take, at most one read's worth. */
static int keep_ctl_input(serve_conn *c, const uint8_t *p, size_t n) {
  if (n == 0)
    return 0;
  if (!c->ctl_in) {
    c->ctl_in = malloc(SERVE_CTL_READ);
    if (!c->ctl_in)
      return FTPS_ERR_NOMEM;
  }
  memmove(c->ctl_in, p, n);
  c->ctl_in_len = n;
  return 0;
}

static void read_ctl(serve_conn *c) {
  uint8_t buf[SERVE_CTL_READ];
  if (c->ctl_in_len || c->ctl_eof)
    return;
  ssize_t n = recv(c->ctl.fd, buf, sizeof(buf), 0);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      serve_conn_kill(c, strerror(errno));
    return;
  }
  if (n == 0) {
    c->ctl_eof = true;
    return;
  }
  c->last_active = serve_now_ms();
  c->bytes_ctl += (uint64_t)n;
  size_t used = 0;
  ftps_session_feed(c->sess, buf, (size_t)n, &used);
  if (keep_ctl_input(c, buf + used, (size_t)n - used) != 0)
    serve_conn_kill(c, "out of memory");
}

void serve_conn_event(serve_conn *c, serve_handle *h, uint32_t events) {
  if (h->kind == SK_CTL) {
    if (events & EPOLLERR) {
      int e = 0;
      socklen_t l = sizeof(e);
      getsockopt(c->ctl.fd, SOL_SOCKET, SO_ERROR, &e, &l);
      serve_conn_kill(c, e ? strerror(e) : "connection error");
      return;
    }
    if (events & (EPOLLIN | EPOLLHUP))
      read_ctl(c);
    if (c->dead)
      return;
    if ((events & EPOLLHUP) && !c->ctl_in_len) {
      serve_conn_kill(c, "client closed the connection");
      return;
    }
  } else {
    serve_data_event(c, h, events);
    if (c->dead)
      return;
  }
  serve_conn_pump(c);
}

static bool handle_events(serve_conn *c) {
  bool any = false;
  ftps_event ev;
  while (!c->dead && ftps_session_next_event(c->sess, &ev)) {
    any = true;
    switch (ev.type) {
    case FTPS_EV_DATA_LISTEN:
      serve_data_listen(c);
      break;
    case FTPS_EV_DATA_CONNECT:
      serve_data_connect(c, &ev.addr);
      break;
    case FTPS_EV_DATA_CLOSE:
      serve_data_close_requested(c);
      break;
    case FTPS_EV_LOGIN_CHECK:
      serve_login_request(c);
      break;
    case FTPS_EV_CLOSE: /* handled below, once the output is sent */
      break;
    case FTPS_EV_TLS_START:
      c->tls = true;
      serve_log_event(c, &ev);
      break;
    case FTPS_EV_TLS_END:
      c->tls = false;
      serve_log_event(c, &ev);
      break;
    case FTPS_EV_LOGIN:
      serve_admit_authed(c); /* out of the not-logged-in caps and deadline */
      serve_log_event(c, &ev);
      break;
    default:
      serve_log_event(c, &ev);
      break;
    }
  }
  return any;
}

/* Sends control output; returns true if bytes went out. */
static bool flush_ctl(serve_conn *c) {
  bool any = false;
  for (;;) {
    size_t n;
    const uint8_t *p = ftps_session_output(c->sess, &n);
    if (n == 0)
      return any;
    ssize_t w = send(c->ctl.fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        serve_conn_kill(c, strerror(errno));
      return any;
    }
    ftps_session_output_consume(c->sess, (size_t)w);
    c->bytes_ctl += (uint64_t)w;
    c->last_active = serve_now_ms();
    any = true;
    /* Output drained: input held back by a full output buffer may run. */
    size_t used;
    ftps_session_feed(c->sess, NULL, 0, &used);
    if ((size_t)w < n)
      return any;
  }
}

static void update_watch(serve_conn *c) {
  size_t out_len;
  ftps_session_output(c->sess, &out_len);
  uint32_t mask = 0;
  if (!c->ctl_in_len && !c->ctl_eof && !ftps_session_is_closed(c->sess))
    mask |= EPOLLIN;
  if (out_len)
    mask |= EPOLLOUT;
  if (serve_watch(c->srv, &c->ctl, mask) != 0) {
    serve_conn_kill(c, "epoll_ctl failed");
    return;
  }
  serve_data_update_watch(c);
  if (c->dead)
    return;
  ftps_serve *srv = c->srv;
  serve_deadline_track(c, serve_now_ms());
  serve_timer_at(srv, ftps_session_wake_time(c->sess));
  if (srv->cfg.idle_timeout_s)
    serve_timer_at(srv, c->last_active + (uint64_t)srv->cfg.idle_timeout_s * 1000u);
  if (c->linger.fd >= 0)
    serve_timer_at(srv, c->linger_until);
}

void serve_conn_pump(serve_conn *c) {
  size_t budget = SERVE_PUMP_BUDGET;
  /* The core reads no clock: give it the time before it handles anything
   * (a failed login's reply is held from "now"). */
  ftps_session_advance(c->sess, serve_now_ms());
  for (int round = 0; round < 64 && !c->dead; round++) {
    bool progress = flush_ctl(c);
    if (c->dead)
      return;
    if (c->ctl_in_len) {
      size_t used = 0;
      ftps_session_feed(c->sess, c->ctl_in, c->ctl_in_len, &used);
      if (used) {
        memmove(c->ctl_in, c->ctl_in + used, c->ctl_in_len - used);
        c->ctl_in_len -= used;
        progress = true;
      }
    }
    if (handle_events(c))
      progress = true;
    if (c->dead)
      return;
    if (serve_data_step(c, &budget))
      progress = true;
    if (c->dead)
      return;
    if (budget == 0) {
      serve_conn_schedule(c);
      break;
    }
    if (!progress)
      break;
  }
  if (c->dead)
    return;
  size_t out_len;
  ftps_session_output(c->sess, &out_len);
  if (ftps_session_is_closed(c->sess) && out_len == 0 && !serve_data_busy(c)) {
    serve_conn_kill(c, "session closed");
    return;
  }
  /* The client is gone: whatever the data side does, the session ends now
   * and frees its passive port, its slot and its per-address count. */
  if (c->ctl_eof) {
    serve_conn_kill(c, "client closed the connection");
    return;
  }
  update_watch(c);
}

uint64_t serve_conn_timer(serve_conn *c, uint64_t now) {
  ftps_serve *srv = c->srv;
  uint64_t next = UINT64_MAX;
  if (c->linger.fd >= 0 && now >= c->linger_until)
    serve_close_handle(srv, &c->linger);
  if (srv->cfg.idle_timeout_s) {
    uint64_t deadline = c->last_active + (uint64_t)srv->cfg.idle_timeout_s * 1000u;
    if (now >= deadline) {
      serve_conn_say421(c, "Idle timeout; closing control connection.");
      serve_conn_kill(c, "idle timeout");
      return UINT64_MAX;
    }
    next = deadline;
  }
  uint64_t dl = serve_deadline_check(c, now);
  if (c->dead)
    return UINT64_MAX;
  if (dl < next)
    next = dl;
  uint64_t wake = ftps_session_wake_time(c->sess);
  if (now >= wake) {
    ftps_session_advance(c->sess, now);
    serve_conn_pump(c);
    if (c->dead)
      return UINT64_MAX;
    wake = ftps_session_wake_time(c->sess);
  }
  if (wake < next)
    next = wake;
  if (c->linger.fd >= 0 && c->linger_until < next)
    next = c->linger_until;
  return next;
}
