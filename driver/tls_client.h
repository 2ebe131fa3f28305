/* tls_client.h - the runner's BoringSSL client on memory BIOs (sans-IO).
 *
 * The caller moves ciphertext: tls_client_push() hands the client bytes the
 * server sent, tls_client_pull() takes bytes the client wants to send. Nothing
 * here touches a socket or a clock.
 *
 * Configuration (one SSL_CTX per process, built on first use and kept): TLS
 * 1.2 minimum, certificate verification OFF (the test server's certificate is
 * self-signed) but the peer's leaf certificate is recorded, SNI "localhost",
 * ALPN "ftp".
 *
 * Sessions: the context caches client sessions (SSL_SESS_CACHE_CLIENT, no
 * internal store) and each client keeps the newest session the server gave it
 * through the new-session callback. Under TLS 1.3 that is the server's
 * NewSessionTicket, which BoringSSL's server sends with its first SSL_write
 * after the handshake - so a control connection has a session to offer only
 * after the first protected reply was read (DESIGN section 8). A PROT P data
 * connection offers it with tls_client_new_resume() (RFC 4217 section 7,
 * vsftpd's require_ssl_reuse).
 *
 * Failure reasons are short stable tokens: the first BoringSSL error reason in
 * lower case (e.g. "wrong_version_number", "tlsv1_alert_protocol_version"),
 * or one of "eof", "syscall", "internal" when the library queued none. */
#ifndef TLS_CLIENT_H
#define TLS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/base.h>

typedef struct tls_client tls_client;

/* Return values of tls_client_handshake / tls_client_read. */
enum {
  TLS_CLIENT_DONE = 1,        /* handshake complete */
  TLS_CLIENT_WANT = 0,        /* needs more bytes from the server (or has some to send) */
  TLS_CLIENT_FAILED = -1,     /* fatal; see tls_client_reason() */
  TLS_CLIENT_CLOSED = -2,     /* the server's close_notify was read */
  TLS_CLIENT_NOMEM = -3,      /* allocation failed */
};

/* Hard cap on ciphertext the client buffers in either direction. */
#define TLS_CLIENT_BUFFER_MAX (1u << 20)

/* tls_client_ctx returns the process-wide client SSL_CTX, building it on the
 * first call (thread-safe). NULL if it could not be built. Never free it. */
SSL_CTX *tls_client_ctx(void);

/* tls_client_new makes a client in connect state (nothing sent yet). NULL on
 * allocation failure. tls_client_free accepts NULL. */
tls_client *tls_client_new(void);
void tls_client_free(tls_client *c);

/* tls_client_new_resume is tls_client_new offering |session| for resumption
 * (NULL: offer none). The client takes its own reference; the caller keeps
 * its own. NULL on allocation failure. */
tls_client *tls_client_new_resume(SSL_SESSION *session);

/* tls_client_set_versions bounds the protocol versions |c| offers
 * (TLS1_2_VERSION, TLS1_3_VERSION; 0 keeps the context's bound: TLS 1.2
 * minimum, the library's maximum). Call before the first
 * tls_client_handshake. Returns 0, or TLS_CLIENT_FAILED for a version the
 * library refuses (|c| is unchanged then). */
int tls_client_set_versions(tls_client *c, uint16_t min_version, uint16_t max_version);

/* tls_client_session returns the newest resumable session this client
 * received (borrowed: valid until the next read or the client is freed;
 * SSL_SESSION_up_ref() it to keep it), or NULL if none yet. */
SSL_SESSION *tls_client_session(const tls_client *c);

/* tls_client_session_reused: the finished handshake resumed the offered
 * session. */
bool tls_client_session_reused(const tls_client *c);

/* tls_client_handshake runs the handshake as far as the pushed bytes allow
 * (the first call produces the ClientHello). Returns TLS_CLIENT_DONE,
 * TLS_CLIENT_WANT or TLS_CLIENT_FAILED. After DONE it keeps returning DONE. */
int tls_client_handshake(tls_client *c);

/* tls_client_set_eof tells the client the server closed the transport: once
 * the pushed bytes are used up, reads fail instead of waiting ("eof"). */
void tls_client_set_eof(tls_client *c);

/* tls_client_push hands the client |len| bytes received from the server.
 * Returns 0, or TLS_CLIENT_FAILED if more than TLS_CLIENT_BUFFER_MAX bytes
 * would be buffered (nothing is taken then), TLS_CLIENT_NOMEM. */
int tls_client_push(tls_client *c, const uint8_t *in, size_t len);

/* tls_client_pending returns how many ciphertext bytes wait to be sent;
 * tls_client_pull moves up to |cap| of them into |out| (*out_n). */
size_t tls_client_pending(const tls_client *c);
int tls_client_pull(tls_client *c, uint8_t *out, size_t cap, size_t *out_n);

/* tls_client_write encrypts |len| bytes of application data (queued for
 * tls_client_pull). Requires a finished handshake and no close_notify sent.
 * Returns 0 or TLS_CLIENT_FAILED. */
int tls_client_write(tls_client *c, const uint8_t *data, size_t len);

/* tls_client_read decrypts what it can into |out| (|cap| bytes, *out_n).
 * Returns 0 (possibly *out_n == 0: needs more bytes), TLS_CLIENT_CLOSED once
 * the server's close_notify has been read (from then on always CLOSED), or
 * TLS_CLIENT_FAILED. */
int tls_client_read(tls_client *c, uint8_t *out, size_t cap, size_t *out_n);

/* tls_client_close_notify queues the client's close_notify alert (once).
 * Returns 0 or TLS_CLIENT_FAILED. */
int tls_client_close_notify(tls_client *c);

bool tls_client_handshake_done(const tls_client *c);
bool tls_client_sent_close_notify(const tls_client *c);
bool tls_client_peer_closed(const tls_client *c);   /* server's close_notify read */

/* tls_client_reason returns the reason token of the first failure ("" if
 * none). Valid while |c| lives. */
const char *tls_client_reason(const tls_client *c);

/* tls_client_peer_cert returns the DER of the server's leaf certificate
 * recorded at the end of the handshake (NULL, *out_len 0 if none). */
const uint8_t *tls_client_peer_cert(const tls_client *c, size_t *out_len);

/* tls_client_version returns the negotiated version name ("TLSv1.3") and
 * tls_client_alpn the negotiated ALPN protocol ("" if none). */
const char *tls_client_version(const tls_client *c);
const char *tls_client_alpn(const tls_client *c);

/* tls_client_share_sessions switches the process to sessions shared across
 * connections (true) or back (false), for fuzzing: while on, every client is
 * capped at TLS 1.2, a client made by tls_client_new() offers the newest
 * session any client of the process finished a handshake with, and a
 * client whose handshake resumed keeps that session as its own
 * (tls_client_session, for its data connections). Against a server that
 * takes one set of ticket keys for all connections (ftps_server.ticket_keys)
 * nearly every handshake is then an abbreviated TLS 1.2 one: no key
 * exchange, no signature, ~18 us against ~340 us for a full TLS 1.3
 * handshake (bench/bench_harnesses.c). Still a real handshake: a server that
 * refuses the session gets a full one. tls_client_new_resume() is
 * unchanged (NULL still offers nothing). Call it before making clients.
 * Returns 0 or TLS_CLIENT_FAILED (no context). */
int tls_client_share_sessions(bool on);

/* tls_client_shared_session returns a new reference to the session a
 * tls_client_new() client would offer now (free it with SSL_SESSION_free),
 * or NULL when sessions are not shared or none is kept yet: for callers
 * that make their clients with tls_client_new_resume (the runner's control
 * connection, which sets version bounds first). */
SSL_SESSION *tls_client_shared_session(void);

/* tls_client_error_reason writes the oldest queued BoringSSL error reason in
 * lower case (or |fallback|) into |out| and clears the error queue. */
void tls_client_error_reason(char *out, size_t out_len, const char *fallback);

#endif
