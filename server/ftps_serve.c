/* ftps_serve.c - the TCP front end's listener, event loop, timers and
 * signals (see ftps_serve.h). Sessions live in ftps_serve_conn.c, their data
 * connections in ftps_serve_data.c. */
#include "ftps_serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "ftps_err.h"
#include "ftps_reply.h"
#include "ftps_serve_int.h"

#define SERVE_EVENTS_MAX 128

ftps_serve_config ftps_serve_config_default(void) {
  ftps_serve_config c = {
      .server = NULL,
      .listen = "127.0.0.1:2121",
      .pasv_min = 61000,
      .pasv_max = 61999,
      .max_sessions = 200,
      .max_per_ip = 20,
      .idle_timeout_s = 300,
      .log = stderr,
      .max_unauth = 50,
      .max_unauth_per_ip = 10,
      .login_timeout_s = 60,
      .data_timeout_s = 30,
      .login_workers = 2,
      .login_backoff_max_ms = 10000,
      .drain_s = 10,
  };
  return c;
}

uint64_t serve_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int serve_watch(ftps_serve *srv, serve_handle *h, uint32_t mask) {
  if (h->fd < 0)
    return 0;
  if (mask == 0) {
    if (h->mask != (uint32_t)-1)
      epoll_ctl(srv->epfd, EPOLL_CTL_DEL, h->fd, NULL);
    h->mask = (uint32_t)-1;
    return 0;
  }
  if (h->mask == mask)
    return 0;
  struct epoll_event ev = {.events = mask, .data.ptr = h};
  int op = h->mask == (uint32_t)-1 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (epoll_ctl(srv->epfd, op, h->fd, &ev) != 0)
    return FTPS_ERR_IO;
  h->mask = mask;
  return 0;
}

void serve_close_handle(ftps_serve *srv, serve_handle *h) {
  if (h->fd < 0)
    return;
  serve_watch(srv, h, 0);
  close(h->fd);
  h->fd = -1;
  h->mask = (uint32_t)-1;
}

void serve_timer_at(ftps_serve *srv, uint64_t when) {
  if (when < srv->next_timer)
    srv->next_timer = when;
}

void serve_addr_from_sa(const struct sockaddr *sa, ftps_addr *out) {
  memset(out, 0, sizeof(*out));
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    out->family = 4;
    memcpy(out->ip, &in->sin_addr, 4);
    out->port = ntohs(in->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    out->port = ntohs(in6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      /* An IPv4 client on a dual-stack socket is an IPv4 client. */
      out->family = 4;
      memcpy(out->ip, in6->sin6_addr.s6_addr + 12, 4);
    } else {
      out->family = 6;
      memcpy(out->ip, &in6->sin6_addr, 16);
    }
  }
}

void serve_sa_to_string(const struct sockaddr *sa, char *out, size_t out_len) {
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    port = ntohs(in->sin_port);
    snprintf(out, out_len, "%s:%u", host, port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
    snprintf(out, out_len, "[%s]:%u", host, port);
  } else {
    snprintf(out, out_len, "?");
  }
}

int ftps_serve_parse_hostport(const char *s, struct sockaddr_storage *out, socklen_t *out_len) {
  char host[INET6_ADDRSTRLEN + 1];
  const char *port_str;
  size_t hlen;
  memset(out, 0, sizeof(*out));
  if (s == NULL)
    return FTPS_ERR_INVAL;
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (!close || close[1] != ':')
      return FTPS_ERR_INVAL;
    hlen = (size_t)(close - s - 1);
    if (hlen >= sizeof(host))
      return FTPS_ERR_INVAL;
    memcpy(host, s + 1, hlen);
    port_str = close + 2;
  } else {
    const char *colon = strrchr(s, ':');
    if (!colon || strchr(s, ':') != colon)
      return FTPS_ERR_INVAL;
    hlen = (size_t)(colon - s);
    if (hlen >= sizeof(host))
      return FTPS_ERR_INVAL;
    memcpy(host, s, hlen);
    port_str = colon + 1;
  }
  host[hlen] = '\0';
  unsigned long port = 0;
  if (port_str[0] == '\0' || strlen(port_str) > 5)
    return FTPS_ERR_INVAL;
  for (const char *p = port_str; *p; p++) {
    if (*p < '0' || *p > '9')
      return FTPS_ERR_INVAL;
    port = port * 10 + (unsigned long)(*p - '0');
  }
  if (port > 65535)
    return FTPS_ERR_INVAL;
  struct sockaddr_in *in = (struct sockaddr_in *)out;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
  if (hlen == 0 || inet_pton(AF_INET, host, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    if (hlen == 0)
      in->sin_addr.s_addr = htonl(INADDR_ANY);
    in->sin_port = htons((uint16_t)port);
    *out_len = sizeof(*in);
    return 0;
  }
  if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    *out_len = sizeof(*in6);
    return 0;
  }
  return FTPS_ERR_INVAL;
}

int ftps_serve_new(const ftps_serve_config *cfg, ftps_serve **out, char *err, size_t err_len) {
  struct sockaddr_storage sa;
  socklen_t sa_len = 0;
  int rc = FTPS_ERR_IO;
  *out = NULL;
  if (!cfg->server) {
    snprintf(err, err_len, "no server configuration");
    return FTPS_ERR_INVAL;
  }
  if (ftps_serve_parse_hostport(cfg->listen, &sa, &sa_len) != 0) {
    snprintf(err, err_len, "%s: expected HOST:PORT (an IP address and a port 0..65535)",
             cfg->listen ? cfg->listen : "(null)");
    return FTPS_ERR_INVAL;
  }
  if (cfg->pasv_min == 0 || cfg->pasv_min > cfg->pasv_max) {
    snprintf(err, err_len, "passive port range %u-%u: expected 1 <= A <= B <= 65535",
             (unsigned)cfg->pasv_min, (unsigned)cfg->pasv_max);
    return FTPS_ERR_INVAL;
  }
  if (cfg->max_sessions == 0 || cfg->max_per_ip == 0 || cfg->max_unauth == 0 ||
      cfg->max_unauth_per_ip == 0) {
    snprintf(err, err_len, "session limits must be at least 1");
    return FTPS_ERR_INVAL;
  }
  ftps_serve *srv = calloc(1, sizeof(*srv));
  if (!srv) {
    snprintf(err, err_len, "out of memory");
    return FTPS_ERR_NOMEM;
  }
  srv->cfg = *cfg;
  srv->listener = (serve_handle){.kind = SK_LISTEN, .fd = -1, .mask = (uint32_t)-1};
  srv->sig = (serve_handle){.kind = SK_SIGNAL, .fd = -1, .mask = (uint32_t)-1};
  srv->next_timer = UINT64_MAX;
  srv->pasv_cursor = cfg->pasv_min;
  srv->next_id = 1;
  srv->spare_fd = -1;
  srv->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (srv->epfd < 0) {
    snprintf(err, err_len, "epoll_create1: %s", strerror(errno));
    goto fail;
  }
  if (cfg->log_path && !(srv->log_own = fopen(cfg->log_path, "ae"))) {
    snprintf(err, err_len, "%s: %s", cfg->log_path, strerror(errno));
    goto fail;
  }
  int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(err, err_len, "%s: socket: %s", cfg->listen, strerror(errno));
    goto fail;
  }
  srv->listener.fd = fd;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, (struct sockaddr *)&sa, sa_len) != 0) {
    int e = errno;
    snprintf(err, err_len, "%s: %s", cfg->listen,
             e == EADDRINUSE ? "address already in use" : strerror(e));
    rc = e == EADDRINUSE ? FTPS_ERR_EXIST : (e == EADDRNOTAVAIL ? FTPS_ERR_INVAL : FTPS_ERR_IO);
    goto fail;
  }
  if (listen(fd, 128) != 0) {
    int e = errno;
    snprintf(err, err_len, "%s: %s", cfg->listen,
             e == EADDRINUSE ? "address already in use" : strerror(e));
    rc = e == EADDRINUSE ? FTPS_ERR_EXIST : FTPS_ERR_IO;
    goto fail;
  }
  struct sockaddr_storage bound;
  socklen_t blen = sizeof(bound);
  if (getsockname(fd, (struct sockaddr *)&bound, &blen) != 0) {
    snprintf(err, err_len, "%s: getsockname: %s", cfg->listen, strerror(errno));
    goto fail;
  }
  ftps_addr a;
  serve_addr_from_sa((struct sockaddr *)&bound, &a);
  srv->port = a.port;
  if (serve_watch(srv, &srv->listener, EPOLLIN) != 0) {
    snprintf(err, err_len, "epoll_ctl: %s", strerror(errno));
    goto fail;
  }
  if (serve_login_new(srv) != 0) {
    snprintf(err, err_len, "login workers: %s", strerror(errno));
    goto fail;
  }
  serve_admit_start(srv);
  *out = srv;
  return 0;
fail:
  ftps_serve_free(srv);
  return rc;
}

uint16_t ftps_serve_port(const ftps_serve *srv) { return srv->port; }

/* Refuses a connection before any core or TLS is involved: a plaintext 421
 * (RFC 959: "service not available, closing control connection"), formatted
 * by the one reply writer. Best effort: nothing is sent if it cannot be
 * formatted or the socket is not writable. */
void serve_refuse(ftps_serve *srv, int fd, const char *who, const char *why) {
  ftps_buf reply;
  ftps_buf_init(&reply, 64);
  if (ftps_reply(&reply, 421, "Too many connections.") == 0) {
    ssize_t w = send(fd, reply.data, reply.len, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
  }
  ftps_buf_cleanup(&reply);
  close(fd);
  serve_log(srv, "%s refused: %s", who, why);
}

static void accept_all(ftps_serve *srv) {
  for (int i = 0; i < 64; i++) {
    struct sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    int fd = accept4(srv->listener.fd, (struct sockaddr *)&peer, &plen,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      if ((e == EMFILE || e == ENFILE) && serve_admit_at_fd_limit(srv))
        continue;
      errno = e;
      if (errno == EMFILE || errno == ENFILE) {
        /* The pending connection stays queued and the listener readable:
         * stop watching it for a while instead of spinning. */
        if (!srv->accept_pause_logged)
          serve_log(srv, "accept: %s; retrying every 100 ms", strerror(errno));
        srv->accept_pause_logged = true;
        serve_watch(srv, &srv->listener, 0);
        srv->accept_paused_until = serve_now_ms() + 100;
        serve_timer_at(srv, srv->accept_paused_until);
      }
      return;
    }
    srv->accept_pause_logged = false;
    char who[64];
    ftps_addr pa;
    serve_sa_to_string((struct sockaddr *)&peer, who, sizeof(who));
    serve_addr_from_sa((struct sockaddr *)&peer, &pa);
    const char *why_not = NULL;
    if (srv->stopping) {
      close(fd);
    } else if ((why_not = serve_admit_why_not(srv, &pa)) != NULL) {
      serve_refuse(srv, fd, who, why_not);
    } else {
      serve_conn_accept(srv, fd, &peer, plen);
    }
  }
}

static void run_timers(ftps_serve *srv, uint64_t now) {
  if (now < srv->next_timer)
    return;
  srv->next_timer = UINT64_MAX;
  if (srv->accept_paused_until) {
    if (now >= srv->accept_paused_until) {
      srv->accept_paused_until = 0;
      if (serve_watch(srv, &srv->listener, EPOLLIN) != 0)
        serve_log(srv, "epoll_ctl: %s", strerror(errno));
    } else {
      serve_timer_at(srv, srv->accept_paused_until);
    }
  }
  serve_timer_at(srv, serve_login_timer(srv, now));
  serve_conn *next;
  for (serve_conn *c = srv->conns; c; c = next) {
    next = c->next; /* |c| may be killed (and unlinked) by its timer */
    uint64_t t = serve_conn_timer(c, now);
    serve_timer_at(srv, t);
  }
}

static void reap(ftps_serve *srv) {
  while (srv->dead_list) {
    serve_conn *c = srv->dead_list;
    srv->dead_list = c->dead_next;
    serve_conn_free(c);
  }
}

int ftps_serve_run(ftps_serve *srv) {
  sigset_t old;
  int rc = 0;
  if (serve_signal_open(srv, &old) != 0) {
    serve_log(srv, "signalfd: %s", strerror(errno));
    return FTPS_ERR_IO;
  }
  serve_log(srv, "listening on %s (port %u)", srv->cfg.listen, (unsigned)srv->port);
  struct epoll_event evs[SERVE_EVENTS_MAX];
  while (!srv->stopping) {
    int timeout = -1;
    uint64_t now = serve_now_ms();
    if (srv->run_list) {
      timeout = 0;
    } else if (srv->next_timer != UINT64_MAX) {
      uint64_t d = srv->next_timer > now ? srv->next_timer - now : 0;
      timeout = d > 60000 ? 60000 : (int)d;
    }
    int n = epoll_wait(srv->epfd, evs, SERVE_EVENTS_MAX, timeout);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      serve_log(srv, "epoll_wait: %s", strerror(errno));
      rc = FTPS_ERR_IO;
      break;
    }
    for (int i = 0; i < n; i++) {
      serve_handle *h = evs[i].data.ptr;
      switch (h->kind) {
      case SK_LISTEN:
        accept_all(srv);
        break;
      case SK_LOGIN:
        serve_login_event(srv);
        break;
      case SK_SIGNAL:
        serve_signal_read(srv);
        break;
      default:
        /* A session killed earlier in this batch is only freed after it. */
        if (!h->conn->dead)
          serve_conn_event(h->conn, h, evs[i].events);
        break;
      }
    }
    /* Sessions that spent their budget get another turn. */
    serve_conn *again = srv->run_list;
    srv->run_list = NULL;
    while (again) {
      serve_conn *c = again;
      again = c->run_next;
      c->run_next = NULL;
      c->on_run_list = false;
      if (!c->dead)
        serve_conn_pump(c);
    }
    run_timers(srv, serve_now_ms());
    serve_drain_step(srv);
    reap(srv);
  }
  while (srv->conns)
    serve_conn_kill(srv->conns, "server shutting down");
  srv->run_list = NULL;
  reap(srv);
  serve_close_handle(srv, &srv->sig);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return rc;
}

void ftps_serve_free(ftps_serve *srv) {
  if (!srv)
    return;
  while (srv->conns)
    serve_conn_kill(srv->conns, "server freed");
  srv->run_list = NULL;
  reap(srv);
  serve_login_free(srv);
  serve_admit_stop(srv);
  serve_close_handle(srv, &srv->listener);
  serve_close_handle(srv, &srv->sig);
  if (srv->epfd >= 0)
    close(srv->epfd);
  if (srv->log_own)
    fclose(srv->log_own);
  free(srv);
}
