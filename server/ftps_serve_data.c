/* ftps_serve_data.c - the data connection of one session: passive
 * listeners, active connects, bytes both ways with backpressure, and the
 * close the core asks for (FTPS_EV_DATA_*; RFC 959 section 3.2). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ftps_err.h"
#include "ftps_serve_int.h"

static void reset_data_state(serve_conn *c) {
  free(c->d_in);
  c->d_in = NULL;
  c->d_in_len = 0;
  c->d_connecting = c->d_attached = false;
  c->d_eof_seen = c->d_eof_told = c->d_closing = false;
}

void serve_data_release(serve_conn *c) {
  serve_close_handle(c->srv, &c->dlisten);
  serve_close_handle(c->srv, &c->data);
  serve_close_handle(c->srv, &c->linger);
  reset_data_state(c);
}

bool serve_data_busy(const serve_conn *c) { return c->data.fd >= 0 || c->dlisten.fd >= 0; }

void serve_data_timeout(serve_conn *c) {
  /* A passive offer outlives its listener in the core until the next
   * command: log only when something was actually closed. */
  if (c->dlisten.fd >= 0 || c->data.fd >= 0)
    serve_log(c->srv, "#%lu %s data connection timeout: nobody connected, no transfer "
              "started or no TLS handshake finished", c->id, c->peer_str);
  serve_close_handle(c->srv, &c->dlisten);
  serve_close_handle(c->srv, &c->data);
  reset_data_state(c);
  ftps_session_data_failed(c->sess, "timeout");
}

/* Tries to bind a listener to |port| on the control connection's address. */
static int try_listen(serve_conn *c, uint16_t port) {
  struct sockaddr_storage sa = c->local_sa;
  if (sa.ss_family == AF_INET)
    ((struct sockaddr_in *)&sa)->sin_port = htons(port);
  else
    ((struct sockaddr_in6 *)&sa)->sin6_port = htons(port);
  int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, (struct sockaddr *)&sa, c->local_sa_len) != 0 || listen(fd, 4) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void serve_data_listen(serve_conn *c) {
  ftps_serve *srv = c->srv;
  serve_close_handle(srv, &c->dlisten);
  unsigned span = (unsigned)srv->cfg.pasv_max - srv->cfg.pasv_min + 1;
  /* Start where the last search ended so ports are spread and a port just
   * closed is not handed out again at once. */
  for (unsigned i = 0; i < span; i++) {
    uint16_t port = srv->pasv_cursor;
    srv->pasv_cursor = port >= srv->cfg.pasv_max ? srv->cfg.pasv_min : (uint16_t)(port + 1);
    int fd = try_listen(c, port);
    if (fd < 0)
      continue;
    c->dlisten.fd = fd;
    if (serve_watch(srv, &c->dlisten, EPOLLIN) != 0) {
      serve_close_handle(srv, &c->dlisten);
      break;
    }
    ftps_session_data_listening(c->sess, 0, port);
    return;
  }
  serve_log(srv, "#%lu %s no free passive port in %u-%u", c->id, c->peer_str,
            (unsigned)srv->cfg.pasv_min, (unsigned)srv->cfg.pasv_max);
  ftps_session_data_listening(c->sess, FTPS_ERR_IO, 0);
}

static void attach(serve_conn *c, const ftps_addr *peer) {
  if (ftps_session_data_attach(c->sess, peer) != 0) {
    serve_close_handle(c->srv, &c->data);
    reset_data_state(c);
    return;
  }
  c->d_attached = true;
}

void serve_data_connect(serve_conn *c, const ftps_addr *to) {
  ftps_serve *srv = c->srv;
  struct sockaddr_storage sa;
  socklen_t sa_len;
  memset(&sa, 0, sizeof(sa));
  if (c->data.fd >= 0) {
    /* The core asks for one connection at a time; drop a stale one. */
    serve_close_handle(srv, &c->data);
    reset_data_state(c);
  }
  if (to->family == 4) {
    struct sockaddr_in *in = (struct sockaddr_in *)&sa;
    in->sin_family = AF_INET;
    memcpy(&in->sin_addr, to->ip, 4);
    in->sin_port = htons(to->port);
    sa_len = sizeof(*in);
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
    in6->sin6_family = AF_INET6;
    memcpy(&in6->sin6_addr, to->ip, 16);
    in6->sin6_port = htons(to->port);
    sa_len = sizeof(*in6);
  }
  int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ftps_session_data_failed(c->sess, strerror(errno));
    return;
  }
  /* Connect from the control connection's address, as the client expects. */
  if (c->local_sa.ss_family == sa.ss_family) {
    struct sockaddr_storage src = c->local_sa;
    if (src.ss_family == AF_INET)
      ((struct sockaddr_in *)&src)->sin_port = 0;
    else
      ((struct sockaddr_in6 *)&src)->sin6_port = 0;
    (void)bind(fd, (struct sockaddr *)&src, c->local_sa_len);
  }
  c->data.fd = fd;
  int r = connect(fd, (struct sockaddr *)&sa, sa_len);
  if (r == 0) {
    attach(c, to);
    return;
  }
  if (errno != EINPROGRESS) {
    int e = errno;
    serve_close_handle(srv, &c->data);
    ftps_session_data_failed(c->sess, strerror(e));
    return;
  }
  c->d_connecting = true;
  if (serve_watch(srv, &c->data, EPOLLOUT) != 0) {
    serve_close_handle(srv, &c->data);
    reset_data_state(c);
    ftps_session_data_failed(c->sess, "epoll_ctl failed");
  }
}

/* Shuts the data connection down once the core's output is sent, keeps it
 * draining (unread input would turn close() into a reset that can destroy
 * the last bytes in flight), and tells the core. */
static void complete_close(serve_conn *c) {
  ftps_serve *srv = c->srv;
  serve_close_handle(srv, &c->dlisten);
  if (c->data.fd >= 0) {
    if (c->d_connecting || c->d_eof_seen) {
      serve_close_handle(srv, &c->data);
    } else {
      shutdown(c->data.fd, SHUT_WR);
      serve_close_handle(srv, &c->linger);
      serve_watch(srv, &c->data, 0);
      c->linger.fd = c->data.fd;
      c->data.fd = -1;
      c->linger_until = serve_now_ms() + SERVE_LINGER_MS;
      if (serve_watch(srv, &c->linger, EPOLLIN) != 0)
        serve_close_handle(srv, &c->linger);
    }
  }
  reset_data_state(c);
  ftps_session_data_closed(c->sess);
}

void serve_data_close_requested(serve_conn *c) {
  size_t n;
  ftps_session_data_output(c->sess, &n);
  /* The listener goes now: a new PASV may follow in the same batch. */
  serve_close_handle(c->srv, &c->dlisten);
  if (c->data.fd >= 0 && c->d_attached && n > 0) {
    c->d_closing = true; /* serve_data_step finishes it */
    return;
  }
  complete_close(c);
}

/* The connection broke: tell the core (unless it is already closing). */
static void broken(serve_conn *c, const char *why) {
  bool closing = c->d_closing;
  serve_close_handle(c->srv, &c->data);
  if (closing) {
    complete_close(c);
    return;
  }
  reset_data_state(c);
  ftps_session_data_failed(c->sess, why);
}

static void accept_data(serve_conn *c) {
  ftps_serve *srv = c->srv;
  for (int i = 0; i < 16 && c->dlisten.fd >= 0; i++) {
    struct sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    int fd = accept4(c->dlisten.fd, (struct sockaddr *)&peer, &plen,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
      /* The connection stays queued and the listener readable: drop the
       * offer instead of spinning on it; a waiting transfer fails. */
      serve_log(srv, "#%lu %s data accept: %s", c->id, c->peer_str, strerror(errno));
      serve_close_handle(srv, &c->dlisten);
      ftps_session_data_failed(c->sess, "out of file descriptors");
      return;
    }
    if (fd < 0)
      return;
    ftps_addr pa;
    serve_addr_from_sa((struct sockaddr *)&peer, &pa);
    if (c->data.fd >= 0 || ftps_session_data_attach(c->sess, &pa) != 0) {
      /* RFC 2577 section 3: a connection from another host is someone
       * stealing the transfer; refuse it and keep waiting for the client. */
      char who[64];
      serve_sa_to_string((struct sockaddr *)&peer, who, sizeof(who));
      serve_log(srv, "#%lu %s refused a data connection from %s", c->id, c->peer_str, who);
      close(fd);
      continue;
    }
    c->data.fd = fd;
    c->d_attached = true;
    c->last_active = serve_now_ms();
    /* One data connection per PASV/EPSV. */
    serve_close_handle(srv, &c->dlisten);
    return;
  }
}

static void read_data(serve_conn *c) {
  uint8_t buf[SERVE_DATA_READ];
  if (c->d_in_len || c->d_eof_seen || c->d_closing || !c->d_attached)
    return;
  ssize_t n = recv(c->data.fd, buf, sizeof(buf), 0);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      broken(c, strerror(errno));
    return;
  }
  if (n == 0) {
    c->d_eof_seen = true;
    return;
  }
  c->last_active = serve_now_ms();
  c->bytes_data += (uint64_t)n;
  size_t used = 0;
  ftps_session_data_feed(c->sess, buf, (size_t)n, &used);
  size_t rest = (size_t)n - used;
  if (rest) {
    if (!c->d_in) {
      c->d_in = malloc(SERVE_DATA_READ);
      if (!c->d_in) {
        broken(c, "out of memory");
        return;
      }
    }
    memcpy(c->d_in, buf + used, rest);
    c->d_in_len = rest;
  }
}

void serve_data_event(serve_conn *c, serve_handle *h, uint32_t events) {
  ftps_serve *srv = c->srv;
  if (h->kind == SK_DLISTEN) {
    accept_data(c);
    return;
  }
  if (h->kind == SK_LINGER) {
    uint8_t buf[4096];
    ssize_t n = recv(c->linger.fd, buf, sizeof(buf), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
      serve_close_handle(srv, &c->linger);
    return;
  }
  if (c->d_connecting) {
    int e = 0;
    socklen_t l = sizeof(e);
    if (getsockopt(c->data.fd, SOL_SOCKET, SO_ERROR, &e, &l) != 0)
      e = errno;
    if (e == 0 && !(events & (EPOLLERR | EPOLLHUP | EPOLLOUT)))
      return;
    c->d_connecting = false;
    if (e != 0) {
      serve_close_handle(srv, &c->data);
      reset_data_state(c);
      ftps_session_data_failed(c->sess, strerror(e));
      return;
    }
    serve_watch(srv, &c->data, 0);
    c->last_active = serve_now_ms();
    ftps_addr to;
    struct sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    if (getpeername(c->data.fd, (struct sockaddr *)&peer, &plen) != 0) {
      e = errno;
      serve_close_handle(srv, &c->data);
      reset_data_state(c);
      ftps_session_data_failed(c->sess, strerror(e));
      return;
    }
    serve_addr_from_sa((struct sockaddr *)&peer, &to);
    attach(c, &to);
    return;
  }
  if (events & EPOLLERR) {
    int e = 0;
    socklen_t l = sizeof(e);
    getsockopt(c->data.fd, SOL_SOCKET, SO_ERROR, &e, &l);
    broken(c, e ? strerror(e) : "connection error");
    return;
  }
  if (events & (EPOLLIN | EPOLLHUP))
    read_data(c);
  if ((events & EPOLLHUP) && c->data.fd >= 0 && !c->d_eof_seen && c->d_in_len == 0) {
    /* Both directions are gone and nothing is left to read. */
    c->d_eof_seen = true;
  }
}

bool serve_data_step(serve_conn *c, size_t *budget) {
  bool progress = false;
  if (c->data.fd >= 0 && c->d_attached && !c->d_connecting) {
    /* Download: send what the core produced; consuming lets it make more. */
    while (*budget > 0) {
      size_t n;
      const uint8_t *p = ftps_session_data_output(c->sess, &n);
      if (n == 0)
        break;
      if (n > *budget)
        n = *budget;
      ssize_t w = send(c->data.fd, p, n, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
          broken(c, strerror(errno));
        break;
      }
      ftps_session_data_output_consume(c->sess, (size_t)w);
      *budget -= (size_t)w;
      c->bytes_data += (uint64_t)w;
      c->last_active = serve_now_ms();
      progress = true;
      if ((size_t)w < n)
        break;
    }
  }
  if (c->data.fd >= 0 && c->d_attached && c->d_in_len) {
    /* Upload: bytes the core could not take before. */
    size_t used = 0;
    ftps_session_data_feed(c->sess, c->d_in, c->d_in_len, &used);
    if (used) {
      memmove(c->d_in, c->d_in + used, c->d_in_len - used);
      c->d_in_len -= used;
      progress = true;
    }
  }
  if (c->data.fd >= 0 && c->d_attached && c->d_eof_seen && !c->d_eof_told && !c->d_in_len &&
      !c->d_closing) {
    c->d_eof_told = true;
    ftps_session_data_eof(c->sess);
    progress = true;
  }
  if (c->d_closing) {
    size_t n;
    ftps_session_data_output(c->sess, &n);
    if (n == 0 || c->data.fd < 0) {
      complete_close(c);
      progress = true;
    }
  }
  return progress;
}

void serve_data_update_watch(serve_conn *c) {
  ftps_serve *srv = c->srv;
  if (c->data.fd >= 0) {
    uint32_t mask;
    if (c->d_connecting) {
      mask = EPOLLOUT;
    } else {
      size_t n;
      ftps_session_data_output(c->sess, &n);
      mask = 0;
      if (!c->d_in_len && !c->d_eof_seen && !c->d_closing)
        mask |= EPOLLIN;
      if (n)
        mask |= EPOLLOUT;
    }
    if (serve_watch(srv, &c->data, mask) != 0)
      broken(c, "epoll_ctl failed");
  }
}
