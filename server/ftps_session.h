/* ftps_session.h - one FTPS control connection, sans-IO.
 *
 * The whole interface is: feed the bytes the client sent, take the bytes to
 * send back, take events, and advance the clock. The session never touches a
 * socket, a clock, a thread or a global; TLS runs on memory BIOs; files are
 * reached only through the ftps_vfs passed in. Everything is deterministic
 * given the bytes and times fed in, and the result never depends on how the
 * byte stream was split into feed() calls.
 *
 * Typical loop (a transport, a runner or a fuzz harness):
 *   s = ftps_session_new(&server, now);
 *   loop: send(ftps_session_output(s)); ftps_session_output_consume(s, n);
 *         ftps_session_feed(s, received, len, &used);   // keep the rest
 *         while (ftps_session_next_event(s, &ev)) ...;
 *         if (now >= ftps_session_wake_time(s)) ftps_session_advance(s, now);
 *   until ftps_session_is_closed(s) and the output is drained.
 */
#ifndef FTPS_SESSION_H
#define FTPS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/base.h>

#include "ftps_users.h"
#include "ftps_vfs.h"

/* Client certificates on the control connection (RFC 4217 section 11):
 * whether the TLS context asks for one. The context itself is configured by
 * ftps_tls_server_ctx_set_client_ca(); this field records the choice. */
typedef enum ftps_client_cert {
  FTPS_CLIENT_CERT_OFF = 0,   /* no CertificateRequest */
  FTPS_CLIENT_CERT_REQUEST,   /* asked for; none is fine, a bad one fails the handshake */
  FTPS_CLIENT_CERT_REQUIRE,   /* a verified certificate is needed to complete TLS */
} ftps_client_cert;

/* The server's policy switches (the model's policy parameters). */
typedef struct ftps_policy {
  bool tls_required_login;    /* USER/PASS before TLS get 530 */
  bool tls_required_data;     /* transfers need PROT P (522 otherwise) */
  bool anonymous;             /* "anonymous"/"ftp" may log in, read-only */
  bool ccc_allowed;           /* CCC accepted after login (RFC 4217 section 12) */
  bool require_tls_reuse;     /* data-channel TLS must resume the control session */
  unsigned max_login_failures;   /* failed PASS after which the session gets 421 and closes */
  uint32_t login_fail_delay_ms;  /* a failed PASS's reply is held this long */
  ftps_client_cert client_cert;  /* default OFF */
  bool cert_login;            /* USER <the verified certificate's subject CN>, a known
                                 user, is answered 232 without PASS (RFC 2228
                                 section 4); default off */
} ftps_policy;

/* ftps_policy_default is the built-in test configuration's policy (DESIGN
 * section 7): TLS required for login and data, anonymous off, CCC off, TLS
 * reuse required, 3 failures, 1000 ms delay. */
ftps_policy ftps_policy_default(void);

/* Shared, read-only configuration of one server. It must outlive its
 * sessions. */
typedef struct ftps_server {
  ftps_policy policy;
  SSL_CTX *tls_ctx;           /* NULL: AUTH is answered 431 (no TLS configured) */
  const ftps_users *users;
  ftps_vfs *vfs;
  const char *greeting;       /* text of the 220 greeting; NULL for a default */
  /* NULL (real servers): fresh random ticket keys per control connection, so
   * a data connection can resume only its own control connection's session.
   * Set: every connection of every session uses these keys, so a client may
   * resume a session across control connections - an abbreviated TLS 1.2
   * handshake costs ~1/20 of a full one, which is what fuzz_sequence needs
   * (fuzz_driver.h, fuzz_fast_tls); require_tls_reuse then only means "a
   * session of this server". Passed in like every other outside input. */
  const struct ftps_tls_ticket_keys *ticket_keys;
  /* false (runner, harnesses): PASS is checked inline by ftps_users_check().
   * true (the TCP front end): PASS for a non-anonymous user is not checked
   * by the core: it emits FTPS_EV_LOGIN_CHECK and processes no further input
   * until the transport answers ftps_session_login_result(), so a slow hash
   * can run off the event loop. The replies and events are the same. */
  bool login_async;
} ftps_server;

typedef struct ftps_session ftps_session;

/* A network address as the core sees it (no sockaddr: the core is sans-IO). */
typedef struct ftps_addr {
  uint8_t family;         /* 4 or 6; 0 = unknown */
  uint8_t ip[16];         /* IPv4 in the first 4 bytes */
  uint16_t port;
} ftps_addr;

typedef enum ftps_event_type {
  FTPS_EV_NONE = 0,
  FTPS_EV_TLS_START,      /* 234 sent: the following bytes are TLS */
  FTPS_EV_TLS_READY,      /* control handshake complete */
  FTPS_EV_TLS_FAILED,     /* control handshake failed; the session closes */
  FTPS_EV_TLS_END,        /* CCC/REIN: control connection is plaintext again */
  FTPS_EV_LOGIN,          /* a user logged in; |detail| is the name */
  FTPS_EV_CLOSE,          /* close after the pending output is sent */
  /* Data connections: requests to the transport. */
  FTPS_EV_DATA_LISTEN,    /* PASV/EPSV: open a passive listener on the control
                             connection's local address, then call
                             ftps_session_data_listening() */
  FTPS_EV_DATA_CONNECT,   /* a transfer needs the active connection to |addr|:
                             connect, then ftps_session_data_attach() or
                             ftps_session_data_failed() */
  FTPS_EV_DATA_CLOSE,     /* close the data connection (and any passive
                             listener) once the data output is sent */
  FTPS_EV_LOGIN_CHECK,    /* PASS under login_async: take the name and password
                             with ftps_session_login_pending(), check them,
                             answer ftps_session_login_result() */
  /* Records for the operator's log (appended: the numbers above are kept). */
  FTPS_EV_LOGIN_FAILED,   /* a login was refused (PASS, or USER anonymous when
                             anonymous is off); |detail| is the name the client
                             gave ("" when unusable). Never the password, never
                             whether the name exists. */
  FTPS_EV_TRANSFER,       /* a transfer ended; |xfer| says how, |detail| is the
                             path (cut at 255 bytes, |xfer.path_cut| set) */
} ftps_event_type;

/* What FTPS_EV_TRANSFER reports. */
typedef struct ftps_transfer_info {
  char verb[5];           /* RETR, STOR, APPE, STOU, LIST, NLST, MLSD */
  bool upload;            /* client to server */
  bool path_cut;          /* the path did not fit in |detail| */
  uint64_t bytes;         /* payload bytes moved (before TYPE A conversion) */
  uint64_t ms;            /* transfer command to end, by the session clock */
  int code;               /* final reply: 226 = stored/sent; 4xx/5xx = failed */
} ftps_transfer_info;

typedef struct ftps_event {
  ftps_event_type type;
  char detail[256];       /* a reason, a name or a path, NUL-terminated, never a secret */
  ftps_addr addr;         /* FTPS_EV_DATA_CONNECT: where to connect */
  ftps_transfer_info xfer; /* FTPS_EV_TRANSFER */
} ftps_event;

/* Hard limits that bound a session's memory. */
#define FTPS_SESSION_INPUT_MAX  (64 * 1024)  /* received bytes held, plaintext or TLS */
#define FTPS_SESSION_OUTPUT_MAX (256 * 1024) /* output past this pauses input processing */

/* ftps_session_new starts a session at time |now_ms| (any monotonic origin);
 * the 220 greeting is queued as output. Returns NULL on allocation failure. */
ftps_session *ftps_session_new(const ftps_server *server, uint64_t now_ms);

/* ftps_session_free frees everything the session owns. Accepts NULL. */
void ftps_session_free(ftps_session *s);

/* ftps_session_feed hands the session bytes received from the client. It
 * takes as many as its bounded buffers allow, processes every complete
 * command it can, and sets |*out_consumed|; the caller keeps the rest and
 * feeds it again after draining output. Returns 0, or FTPS_ERR_CLOSED once the
 * session has closed (nothing is consumed), or FTPS_ERR_NOMEM (the session is
 * then closed: send the output, then close). */
int ftps_session_feed(ftps_session *s, const uint8_t *in, size_t len, size_t *out_consumed);

/* ftps_session_output returns the bytes waiting to be sent (valid until the
 * next call into the session); ftps_session_output_consume drops the first
 * |n| of them once sent. Draining output may let queued input be processed;
 * call ftps_session_feed(s, NULL, 0, ...) to continue. */
const uint8_t *ftps_session_output(const ftps_session *s, size_t *out_len);
void ftps_session_output_consume(ftps_session *s, size_t n);

/* ftps_session_next_event pops the oldest event into |out|; false when none. */
bool ftps_session_next_event(ftps_session *s, ftps_event *out);

/* ftps_session_wake_time returns the time at which the session has delayed
 * work to do (a held failed-login reply), or UINT64_MAX. */
uint64_t ftps_session_wake_time(const ftps_session *s);

/* ftps_session_advance moves the session's clock to |now_ms| (never
 * backwards) and does any work that has become due. */
void ftps_session_advance(ftps_session *s, uint64_t now_ms);

/* ftps_session_login_pending: under login_async, after FTPS_EV_LOGIN_CHECK,
 * gives the name (possibly "", a name that cannot exist: check it anyway so
 * the time taken tells nothing) and the password (|*out_pw_len| bytes, not
 * NUL-terminated) waiting for a verdict; valid until login_result() or the
 * session's end. Returns false when no check is pending. */
bool ftps_session_login_pending(const ftps_session *s, const char **out_user,
                                const uint8_t **out_pw, size_t *out_pw_len);

/* ftps_session_login_result answers the pending check: the reply (230, or a
 * held 530/421 as for an inline check) is queued and input processing
 * resumes. The password copy is wiped. Ignored when nothing is pending. */
void ftps_session_login_result(ftps_session *s, bool ok);
/* ftps_session_transfer_active: a transfer command is in progress (from its
 * 150 until its final reply is queued). A transport draining for shutdown
 * waits for this, not for an idle data connection or passive listener. */
bool ftps_session_transfer_active(const ftps_session *s);

/* ftps_session_shutdown: the transport is dropping the connection (idle
 * timeout, server stopping). A transfer in progress ends as failed
 * (FTPS_EV_TRANSFER, code 426) and the session closes without another
 * reply. Take the events, then free the session. */
void ftps_session_shutdown(ftps_session *s);

/* ftps_session_is_closed: the session will take no more input. Send the
 * remaining output, then close the connection. */
bool ftps_session_is_closed(const ftps_session *s);

/* --- Data connections (RFC 959 section 3.2, RFC 2428, RFC 4217 section 7) ---
 *
 * One data connection at a time. The core decides everything (addresses,
 * protection, TLS on the data channel, the bytes of a transfer); the
 * transport only listens, connects, accepts and carries bytes:
 *   PASV/EPSV -> FTPS_EV_DATA_LISTEN -> transport listens -> data_listening()
 *   client connects -> transport accepts -> data_attach(peer)
 *   PORT/EPRT + transfer -> FTPS_EV_DATA_CONNECT -> data_attach() / data_failed()
 *   bytes both ways: data_feed() / data_output() / data_output_consume()
 *   peer closed its side: data_eof();  FTPS_EV_DATA_CLOSE: close it.
 * Under PROT P the data connection is TLS with the core as the TLS server,
 * on memory BIOs like the control connection. */

/* ftps_session_set_addresses tells the core the control connection's peer
 * (the client) and local address. PORT/EPRT to another host than |peer| and
 * passive data connections from another host are refused (RFC 2577); the
 * PASV reply carries |local|'s IPv4 address. Without it the core assumes
 * 127.0.0.1 for both (in-process use). */
void ftps_session_set_addresses(ftps_session *s, const ftps_addr *peer, const ftps_addr *local);

/* ftps_session_data_listening answers FTPS_EV_DATA_LISTEN: |status| 0 and the
 * listening |port|, or a negative error (the client gets 425). */
void ftps_session_data_listening(ftps_session *s, int status, uint16_t port);

/* ftps_session_data_attach: a data connection is established (accepted from
 * |peer| in passive mode, or connected in active mode). Returns 0, or
 * FTPS_ERR_PERM when the core refuses it (wrong peer address, none
 * expected): the transport closes that connection and keeps listening. */
int ftps_session_data_attach(ftps_session *s, const ftps_addr *peer);

/* ftps_session_data_failed: the transport could not connect, or the data
 * connection broke. The transfer in progress fails (425/426). */
void ftps_session_data_failed(ftps_session *s, const char *why);

/* ftps_session_data_feed hands the core bytes received on the data
 * connection; semantics as ftps_session_feed (it takes what its bounded
 * buffers allow). */
int ftps_session_data_feed(ftps_session *s, const uint8_t *in, size_t len, size_t *out_consumed);

/* ftps_session_data_output returns bytes to send on the data connection;
 * ftps_session_data_output_consume drops |n| once sent, and lets the core
 * produce more (the next chunk of a download). */
const uint8_t *ftps_session_data_output(const ftps_session *s, size_t *out_len);
void ftps_session_data_output_consume(ftps_session *s, size_t n);

/* ftps_session_data_eof: the client closed its side of the data connection
 * (end of an upload). Under PROT P an upload is complete only if the client
 * sent close_notify first; otherwise it is a truncation and nothing is
 * stored. */
void ftps_session_data_eof(ftps_session *s);

/* ftps_session_data_waiting: the data side waits for the client - a passive
 * offer nobody has connected to, a connection with no transfer on it yet, a
 * transfer waiting for its connection, or a data TLS handshake - so a
 * transport can bound how long it keeps that up (a port, a socket). */
bool ftps_session_data_waiting(const ftps_session *s);

/* ftps_session_data_closed: after FTPS_EV_DATA_CLOSE the transport sent all
 * data output and closed the connection (or it was already closed). The
 * transfer command's final reply (226, or why it failed) follows it, so a
 * client never sees 226 before the last byte. */
void ftps_session_data_closed(ftps_session *s);

#endif
