/* ftps_serve_deadline.c - deadlines that bound what a client can hold
 * without doing anything useful: a connection that never logs in (however
 * slowly it trickles a ClientHello, a line or NOOPs, which the idle timeout
 * would forgive) and a data side left waiting (a passive port nobody
 * connects to, a data connection with no transfer, a data TLS handshake
 * that never ends). */
#include <stdint.h>
#include <sys/socket.h>

#include "ftps_buf.h"
#include "ftps_reply.h"
#include "ftps_serve_int.h"

void serve_conn_say421(serve_conn *c, const char *text) {
  size_t out_len;
  ftps_session_output(c->sess, &out_len);
  /* Only the core writes inside TLS; in plaintext, with no reply half sent,
   * tell the client why (RFC 959 421), through the one reply writer. */
  if (c->tls || out_len != 0)
    return;
  ftps_buf reply;
  ftps_buf_init(&reply, 128);
  if (ftps_reply(&reply, 421, text) == 0) {
    ssize_t w = send(c->ctl.fd, reply.data, reply.len, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
  }
  ftps_buf_cleanup(&reply);
}

static uint64_t login_deadline(const serve_conn *c) {
  uint32_t t = c->srv->cfg.login_timeout_s;
  return (!c->authed && t) ? c->started + (uint64_t)t * 1000u : UINT64_MAX;
}

static uint64_t data_deadline(const serve_conn *c) {
  uint32_t t = c->srv->cfg.data_timeout_s;
  return (c->dwait_since && t) ? c->dwait_since + (uint64_t)t * 1000u : UINT64_MAX;
}

void serve_deadline_track(serve_conn *c, uint64_t now) {
  if (!ftps_session_data_waiting(c->sess))
    c->dwait_since = 0;
  else if (!c->dwait_since)
    c->dwait_since = now;
  serve_timer_at(c->srv, login_deadline(c));
  serve_timer_at(c->srv, data_deadline(c));
}

uint64_t serve_deadline_check(serve_conn *c, uint64_t now) {
  if (now >= login_deadline(c)) {
    serve_conn_say421(c, "Login timeout; closing control connection.");
    serve_conn_kill(c, "login timeout");
    return UINT64_MAX;
  }
  if (now >= data_deadline(c)) {
    /* Restart the clock: if the core still waits (a passive offer it keeps
     * until the next command), this fires again one period later. */
    c->dwait_since = now;
    serve_data_timeout(c);
    if (c->dead)
      return UINT64_MAX;
    serve_conn_pump(c);
    if (c->dead)
      return UINT64_MAX;
  }
  uint64_t a = login_deadline(c), b = data_deadline(c);
  return a < b ? a : b;
}
