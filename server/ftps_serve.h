/* ftps_serve.h - the TCP front end: many ftps_session cores on one epoll loop.
 *
 * One process, one thread, non-blocking sockets. The front end owns every
 * socket and only carries bytes and events between the sockets and the
 * sans-IO core (ftps_session.h): it decides nothing about the protocol.
 *
 * What it does itself:
 * - control connections: accept, ftps_session_set_addresses() from
 *   getpeername/getsockname, feed/output with backpressure (a socket is not
 *   read while the core has not taken the previous bytes);
 * - data connections on FTPS_EV_DATA_LISTEN (a listener on the control
 *   connection's local address, a free port in [pasv_min, pasv_max]) and
 *   FTPS_EV_DATA_CONNECT (a non-blocking connect from the control
 *   connection's local address); a passive connection the core refuses
 *   (RFC 2577 port stealing) is closed and the listener keeps listening;
 *   FTPS_EV_DATA_CLOSE sends the remaining data output, shuts the socket
 *   down and reports ftps_session_data_closed(); the socket then lingers,
 *   read and discarded, until the client closes it (so unread bytes never
 *   turn the close into a reset that destroys data in flight);
 * - limits: max_sessions and max_per_ip refuse a connection with
 *   "421 Too many connections." written in plaintext before any core or TLS
 *   is involved; idle_timeout_s closes a session with no traffic on its
 *   control or data connection (in a plaintext session a
 *   "421 Idle timeout; closing control connection." is written first; under
 *   TLS the connection is simply closed, since a reply can only be written
 *   by the core inside TLS); a failed-login reply is held by the core and
 *   released through ftps_session_wake_time()/advance(), never by sleeping;
 * - resources (ftps_serve_admit.c, _deadline.c, _login.c): connections not
 *   yet logged in have their own caps (max_unauth, max_unauth_per_ip) and
 *   a deadline (login_timeout_s, TLS handshake included, however slowly
 *   the bytes trickle); a data side waiting for the client is dropped after
 *   data_timeout_s; EOF or an error on the control connection ends the
 *   session at once, whatever its data side is doing; RLIMIT_NOFILE is
 *   raised to its hard limit and one spare descriptor is kept so a client
 *   is answered 421 even at the descriptor limit; passwords are checked by
 *   login_workers threads (FTPS_EV_LOGIN_CHECK), after a per-address and
 *   per-account back-off that grows with failures (login_backoff_max_ms);
 * - signals (through a signalfd, ftps_serve_signal.c): SIGINT/SIGTERM
 *   drain (no new connections; transfers in flight finish for up to
 *   drain_s seconds) and end ftps_serve_run(); a second one ends it at once;
 *   SIGHUP reopens log_path and is otherwise harmless.
 * Log lines (ftps_serve_log.c: "TIMESTAMP #SESSION CLIENT MESSAGE", one per
 * session start/end, login, failed login, transfer, TLS event, limit) go to
 * |log|; they never contain a password (the core never reports one). */
#ifndef FTPS_SERVE_H
#define FTPS_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "ftps_session.h"

typedef struct ftps_serve_config {
  const ftps_server *server;  /* the core's configuration; must outlive the server */
  const char *listen;         /* "HOST:PORT", "[V6]:PORT" or ":PORT"; port 0 = any free port */
  uint16_t pasv_min, pasv_max; /* passive port range, inclusive */
  unsigned max_sessions;      /* concurrent control connections */
  unsigned max_per_ip;        /* concurrent control connections per client address */
  uint32_t idle_timeout_s;    /* 0 = none */
  FILE *log;                  /* NULL = no log */
  /* Resource limits (ftps_serve_admit.c, ftps_serve_login.c,
   * ftps_serve_deadline.c). */
  unsigned max_unauth;        /* concurrent connections not yet logged in */
  unsigned max_unauth_per_ip; /* the same, per client address */
  uint32_t login_timeout_s;   /* from accept to login, TLS handshake included; 0 = none */
  uint32_t data_timeout_s;    /* a passive offer or data connection waiting for
                                 the client (connect, transfer, TLS handshake); 0 = none */
  unsigned login_workers;     /* threads checking passwords; 0 = on the event loop */
  uint32_t login_backoff_max_ms; /* cap of the per-address and per-account
                                    back-off after failed logins; 0 = off */
  const char *log_path;       /* set: log to this file instead (appended; reopened on SIGHUP) */
  uint32_t drain_s;           /* SIGTERM/SIGINT: transfers in flight get this long; 0 = stop at once */
} ftps_serve_config;

/* ftps_serve_config_default: listen 127.0.0.1:2121, passive ports
 * 61000-61999 (above Linux's ephemeral range 32768-60999), 200 sessions,
 * 20 per address, 50 not logged in (10 per address), 300 s idle timeout, 60 s
 * to log in, 30 s for a data connection, 2 login workers, back-off capped at
 * 10 s, log to stderr, 10 s drain; |server| must still be set. */
ftps_serve_config ftps_serve_config_default(void);

typedef struct ftps_serve ftps_serve;

/* ftps_serve_new binds and listens. Returns 0, or a negative FTPS_ERR_* with
 * a message such as "127.0.0.1:2121: address already in use" in |err|
 * (|err_len| bytes): FTPS_ERR_INVAL (bad address or range),
 * FTPS_ERR_EXIST (port busy), FTPS_ERR_IO, FTPS_ERR_NOMEM. */
int ftps_serve_new(const ftps_serve_config *cfg, ftps_serve **out, char *err, size_t err_len);

/* ftps_serve_port returns the bound TCP port (useful after port 0). */
uint16_t ftps_serve_port(const ftps_serve *srv);

/* ftps_serve_run blocks SIGINT, SIGTERM and SIGHUP, serves until SIGINT or
 * SIGTERM (after the drain), then closes every session and restores the
 * signal mask. Returns
 * 0, or FTPS_ERR_IO if the event loop itself failed (message in |log|). */
int ftps_serve_run(ftps_serve *srv);

/* ftps_serve_note writes one line about the server itself to its log
 * (start-up facts such as the sweep of stale temporary files). */
void ftps_serve_note(ftps_serve *srv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ftps_serve_free closes every socket and frees everything. Accepts NULL. */
void ftps_serve_free(ftps_serve *srv);

/* ftps_serve_parse_hostport parses |s| ("127.0.0.1:2121", "[::1]:21",
 * ":2121" = all IPv4 addresses) into |out| (a struct sockaddr_in or
 * sockaddr_in6) and |*out_len|. Returns 0 or FTPS_ERR_INVAL. */
int ftps_serve_parse_hostport(const char *s, struct sockaddr_storage *out, socklen_t *out_len);

#endif
