/* ftps_serve_signal.c - the TCP front end's signals, read from a signalfd
 * in the event loop (never in a handler):
 *   SIGHUP           reopen the log file (--log), else nothing; never fatal,
 *                    so a hang-up never cuts an upload (or leaves its
 *                    temporary file);
 *   SIGTERM, SIGINT  drain: close the listener (new connections are
 *                    refused), end idle sessions, let sessions with a
 *                    transfer in progress finish it and get its reply,
 *                    for up to cfg.drain_s seconds; then stop;
 *   the second SIGTERM or SIGINT stops at once. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "ftps_err.h"
#include "ftps_serve_int.h"

int serve_signal_open(ftps_serve *srv, sigset_t *old) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  if (sigprocmask(SIG_BLOCK, &set, old) != 0)
    return FTPS_ERR_IO;
  srv->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (srv->sig.fd < 0 || serve_watch(srv, &srv->sig, EPOLLIN) != 0) {
    sigprocmask(SIG_SETMASK, old, NULL);
    return FTPS_ERR_IO;
  }
  return 0;
}

static void reopen_log(ftps_serve *srv) {
  if (!srv->cfg.log_path) {
    serve_log(srv, "SIGHUP: nothing to reopen (logging to standard error); still serving");
    return;
  }
  FILE *f = fopen(srv->cfg.log_path, "ae");
  if (!f) {
    serve_log(srv, "SIGHUP: cannot reopen %s: %s; logging on to the old file",
              srv->cfg.log_path, strerror(errno));
    return;
  }
  if (srv->log_own)
    fclose(srv->log_own);
  srv->log_own = f;
  serve_log(srv, "SIGHUP: log reopened");
}

static void start_drain(ftps_serve *srv, unsigned signo) {
  srv->draining = true;
  srv->drain_until = serve_now_ms() + (uint64_t)srv->cfg.drain_s * 1000u;
  serve_timer_at(srv, srv->drain_until);
  /* Closed, not just unwatched: a new client is refused at once. */
  serve_close_handle(srv, &srv->listener);
  srv->accept_paused_until = 0;
  serve_log(srv, "signal %u: draining (no new sessions; transfers in flight get up to %u s)",
            signo, (unsigned)srv->cfg.drain_s);
}

void serve_signal_read(ftps_serve *srv) {
  struct signalfd_siginfo si;
  while (read(srv->sig.fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
    unsigned signo = si.ssi_signo;
    if (signo == SIGHUP) {
      reopen_log(srv);
    } else if (srv->draining || srv->cfg.drain_s == 0) {
      serve_log(srv, "signal %u: shutting down now", signo);
      srv->stopping = true;
    } else {
      start_drain(srv, signo);
    }
  }
}

void serve_drain_step(ftps_serve *srv) {
  if (!srv->draining || srv->stopping)
    return;
  serve_conn *next;
  for (serve_conn *c = srv->conns; c; c = next) {
    next = c->next;
    size_t out_len;
    ftps_session_output(c->sess, &out_len);
    /* No transfer, or its final reply sent: done. An idle data connection
     * or passive listener is no transfer in flight. */
    if (!ftps_session_transfer_active(c->sess) && out_len == 0)
      serve_conn_kill(c, "server shutting down");
  }
  if (srv->nconns == 0) {
    serve_log(srv, "drained: no session left; shutting down");
    srv->stopping = true;
  } else if (serve_now_ms() >= srv->drain_until) {
    serve_log(srv, "drain time over: closing %u session(s)", srv->nconns);
    srv->stopping = true;
  } else {
    serve_timer_at(srv, srv->drain_until);
  }
}
