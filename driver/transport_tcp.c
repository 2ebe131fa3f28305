/* transport_tcp.c - the runner's transport to a live server over TCP
 * (`ftpsfuzz run --connect HOST:PORT`, runner.h "Over TCP"). Non-blocking
 * sockets and poll(); every wait is bounded by the step timeout. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runner_int.h"

typedef struct tcp {
  runner_transport base;
  int fd;                       /* control connection */
  int dfd;                      /* data connection, -1 if none */
  bool closed;                  /* the server closed the control connection */
  struct sockaddr_storage peer; /* the control connection's server address */
  socklen_t peer_len;
  unsigned timeout_ms;
  unsigned quiet_ms;            /* the quiet wait after a handshake (runner.h) */
  unsigned settle_ms;
} tcp;

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* connect_timeout connects a non-blocking socket to |sa| within |ms|.
 * Returns the socket, or -1 with errno set. */
static int connect_timeout(const struct sockaddr *sa, socklen_t len, unsigned ms) {
  int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (connect(fd, sa, len) == 0)
    return fd;
  if (errno != EINPROGRESS)
    goto fail;
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  int n;
  do {
    n = poll(&p, 1, (int)ms);
  } while (n < 0 && errno == EINTR);
  if (n == 0) {
    errno = ETIMEDOUT;
    goto fail;
  }
  int soerr = 0;
  socklen_t sl = sizeof(soerr);
  if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
    goto fail;
  if (soerr != 0) {
    errno = soerr;
    goto fail;
  }
  return fd;
fail: {
  int e = errno;
  close(fd);
  errno = e;
  return -1;
}
}

/* send_some writes what the socket takes now. Returns false when the
 * connection is broken. */
static bool send_some(int fd, ftps_buf *b, runner *r) {
  while (b->len > 0) {
    ssize_t n = send(fd, b->data, b->len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      ftps_buf_consume(b, (size_t)n);
      r->moved += (uint64_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  return true;
}

static void data_gone(tcp *t, runner *r) {
  close(t->dfd);
  t->dfd = -1;
  runner_on_data_closed(r);
}

/* recv_some reads what is there. Returns false at end of stream or error. */
static bool recv_some(int fd, runner *r, bool data) {
  uint8_t buf[16384];
  for (int rounds = 0; rounds < 64 && !runner_stopped(r); rounds++) {
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      if (data)
        runner_on_data(r, buf, (size_t)n);
      else
        runner_on_ctl(r, buf, (size_t)n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return true;
    return false; /* 0: the server closed; <0: reset */
  }
  return true;
}

/* exchange moves bytes until |deadline|; with |settle| it returns as soon
 * as the client waits for nothing (and times out if it still does at the
 * deadline). */
static void exchange(tcp *t, runner *r, uint64_t deadline, bool settle) {
  for (;;) {
    runner_client_output(r);
    if (runner_stopped(r))
      return;
    if (!t->closed && !send_some(t->fd, &r->tx, r)) {
      t->closed = true;
      ftps_buf_reset(&r->tx);
    }
    if (t->dfd >= 0 && !send_some(t->dfd, &r->dtx, r))
      ftps_buf_reset(&r->dtx); /* the server closed it; its EOF comes in below */
    runner_client_output(r); /* a half-close may be due now */
    uint64_t now = mono_ms();
    bool wait = settle ? runner_waiting(r) : true;
    if (settle && wait && now >= deadline) {
      runner_timeout(r);
      return;
    }
    if (!settle && now >= deadline)
      return;
    struct pollfd p[2];
    nfds_t np = 0;
    int ci = -1, di = -1;
    if (!t->closed) {
      ci = (int)np;
      p[np++] = (struct pollfd){.fd = t->fd, .events = POLLIN | (r->tx.len ? POLLOUT : 0)};
    }
    if (t->dfd >= 0) {
      di = (int)np;
      p[np++] = (struct pollfd){.fd = t->dfd, .events = POLLIN | (r->dtx.len ? POLLOUT : 0)};
    }
    if (np == 0) {
      if (settle)
        return;
      struct timespec ts = {.tv_sec = (time_t)((deadline - now) / 1000),
                            .tv_nsec = (long)((deadline - now) % 1000) * 1000000L};
      nanosleep(&ts, NULL);
      return;
    }
    int n = poll(p, np, wait ? (int)(deadline - now) : 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (!wait || n < 0)
        return;
      continue; /* the deadline check above reports the timeout */
    }
    /* Data first: its close precedes the reply that reports it. */
    if (di >= 0 && (p[di].revents & (POLLIN | POLLHUP | POLLERR)) &&
        (!recv_some(t->dfd, r, true) || r->dpeer_closed))
      data_gone(t, r);
    if (ci >= 0 && (p[ci].revents & (POLLIN | POLLHUP | POLLERR)) && !recv_some(t->fd, r, false))
      t->closed = true;
  }
}

/* await_data_end reads until the data connection ends, at most the quiet
 * wait (runner.h "Over TCP": a reply that ends it). */
static void await_data_end(tcp *t, runner *r) {
  uint64_t deadline = mono_ms() + t->quiet_ms;
  while (r->await_data_end && t->dfd >= 0 && !t->closed && !runner_stopped(r)) {
    uint64_t now = mono_ms();
    if (now >= deadline)
      break;
    exchange(t, r, now + 10 < deadline ? now + 10 : deadline, false);
  }
  r->await_data_end = false;
}

static void tcp_settle(runner_transport *base, runner *r) {
  tcp *t = (tcp *)base;
  size_t before = r->res->server_bytes;
  exchange(t, r, mono_ms() + t->timeout_ms, true);
  if (r->await_data_end)
    await_data_end(t, r);
  /* Replies that come before the next command is written belong to this
   * step (a second final reply to the same command): read a little longer,
   * but only after a step the server answered and before a command. */
  if (t->settle_ms && r->write_next && !t->closed && !runner_stopped(r) &&
      r->res->server_bytes != before)
    exchange(t, r, mono_ms() + t->settle_ms, false);
}

static void tcp_sleep(runner_transport *base, runner *r, uint64_t ms) {
  tcp *t = (tcp *)base;
  if (ms > RUNNER_TCP_SLEEP_MAX) {
    char note[80];
    snprintf(note, sizeof(note), " W: slept %u ms (the cap over TCP)", RUNNER_TCP_SLEEP_MAX);
    runner_rec_comment(r, note);
    ms = RUNNER_TCP_SLEEP_MAX;
  }
  r->now += ms;
  exchange(t, r, mono_ms() + ms, false);
}

static void tcp_listen(runner_transport *base, runner *r) {
  tcp *t = (tcp *)base;
  exchange(t, r, mono_ms() + t->quiet_ms, false);
}

static int tcp_data_open(runner_transport *base, runner *r, const char **why) {
  tcp *t = (tcp *)base;
  if (r->offer != OFFER_PASSIVE) {
    *why = "active mode not supported over --connect";
    return TRANSPORT_DATA_FAILED;
  }
  /* The server's own address with the offered port (the address inside a
   * 227 reply is ignored, like curl's --ftp-skip-pasv-ip: it may be
   * another host). */
  struct sockaddr_storage sa = t->peer;
  if (sa.ss_family == AF_INET)
    ((struct sockaddr_in *)&sa)->sin_port = htons(r->offer_port);
  else
    ((struct sockaddr_in6 *)&sa)->sin6_port = htons(r->offer_port);
  int fd = connect_timeout((const struct sockaddr *)&sa, t->peer_len, t->timeout_ms);
  if (fd < 0) {
    *why = errno == ETIMEDOUT ? "timeout" : errno == ECONNREFUSED ? "connection refused"
                                                                  : "connect failed";
    return TRANSPORT_DATA_FAILED;
  }
  t->dfd = fd;
  return TRANSPORT_DATA_OPEN;
}

static void tcp_data_eof(runner_transport *base, runner *r) {
  tcp *t = (tcp *)base;
  (void)r;
  if (t->dfd >= 0)
    shutdown(t->dfd, SHUT_WR);
}

static bool tcp_closed(const runner_transport *base) {
  return ((const tcp *)base)->closed;
}

static void tcp_free(runner_transport *base) {
  tcp *t = (tcp *)base;
  if (t == NULL)
    return;
  if (t->dfd >= 0)
    close(t->dfd);
  if (t->fd >= 0)
    close(t->fd);
  free(t);
}

static const runner_transport_ops tcp_ops = {
    .settle = tcp_settle,
    .sleep = tcp_sleep,
    .listen = tcp_listen,
    .data_open = tcp_data_open,
    .data_eof = tcp_data_eof,
    .closed = tcp_closed,
    .free = tcp_free,
};

runner_transport *runner_transport_tcp_new(const char *host, const char *port, runner *r,
                                           char *err, size_t err_len) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  int gai = getaddrinfo(host, port, &hints, &res);
  if (gai != 0) {
    snprintf(err, err_len, "cannot resolve %s port %s: %s", host, port, gai_strerror(gai));
    return NULL;
  }
  tcp *t = calloc(1, sizeof(*t));
  if (t == NULL) {
    freeaddrinfo(res);
    return NULL;
  }
  t->base.ops = &tcp_ops;
  t->fd = t->dfd = -1;
  t->timeout_ms = r->opt->timeout_ms != 0 ? r->opt->timeout_ms : RUNNER_TCP_TIMEOUT_DEFAULT;
  t->quiet_ms = r->opt->quiet_ms != 0 ? r->opt->quiet_ms : RUNNER_TCP_QUIET_DEFAULT;
  t->settle_ms = r->opt->settle_ms < RUNNER_TCP_SETTLE_MAX ? r->opt->settle_ms
                                                           : RUNNER_TCP_SETTLE_MAX;
  int last = 0;
  for (struct addrinfo *ai = res; ai != NULL && t->fd < 0; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(t->peer))
      continue;
    t->fd = connect_timeout(ai->ai_addr, ai->ai_addrlen, t->timeout_ms);
    last = errno;
    if (t->fd >= 0) {
      memcpy(&t->peer, ai->ai_addr, ai->ai_addrlen);
      t->peer_len = ai->ai_addrlen;
    }
  }
  freeaddrinfo(res);
  if (t->fd < 0) {
    snprintf(err, err_len, "cannot connect to %s port %s: %s", host, port, strerror(last));
    free(t);
    return NULL;
  }
  return &t->base;
}
