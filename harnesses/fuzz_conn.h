/* fuzz_conn.h - one session of the built-in configuration, driven by a
 * harness and checked as it runs.
 *
 * The harness hands client bytes to fuzz_conn_send(); they are queued and fed
 * to the session in pieces of at most |chunk| bytes (0 = as much as it takes),
 * through the built-in TLS client once fuzz_conn_start_tls() has completed a
 * handshake. After every feed the connection drains the session's output and
 * events and moves the clock to any wake time, so held replies are released.
 *
 * Every check that fails calls fuzz_finding() with the transcript so far:
 *   OUTPUT_BOUNDED          ftps_session_output never holds more than
 *                           FTPS_SESSION_OUTPUT_MAX + 64 KiB
 *   REPLY_SYNTAX            every reply line, in plaintext and inside TLS, is
 *                           "[1-5][0-9][0-9][ -]text" or, inside a multi-line
 *                           reply, " text" or "<same code> text" (which ends it);
 *                           lines end in CRLF; no control byte but TAB in the
 *                           text; a line fits FTPS_REPLY_TEXT_MAX; no reply is
 *                           left unfinished once the session is quiet
 *   NO_PLAINTEXT_AFTER_234  after a plaintext "234 " line every server byte
 *                           belongs to a TLS record
 *                           (ftps_tls_record_header_ok, fuzz_tls_walk)
 *   NO_SECOND_234           no 234 reply inside TLS
 *   TLS_REQUIRED_LOGIN      no FTPS_EV_LOGIN unless the client's handshake is
 *                           complete (the built-in policy requires TLS)
 *   TLS_END_UNASKED         no FTPS_EV_TLS_END (the client never sends
 *                           close_notify, so the server may never go back to
 *                           plaintext)
 *   TLS_UPGRADE             a first AUTH TLS gets 234 and a correct client's
 *                           handshake succeeds (fuzz_conn_start_tls only)
 *   TLS_STREAM              the client can decrypt everything the server sent
 *   NO_PROGRESS             the session neither takes queued input, nor has
 *                           output, nor a wake time, yet is not closed
 *   BOUNDED_LOOP            the session quiets down within FUZZ_CONN_IDLE_MAX
 *                           rounds that take no input
 *   FEED_CONTRACT           ftps_session_feed returns 0 or FTPS_ERR_CLOSED and
 *                           never consumes more than it was given, nor anything
 *                           once closed */
#ifndef FUZZ_CONN_H
#define FUZZ_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ftps_buf.h"
#include "ftps_session.h"
#include "fuzz_tls.h"
#include "tls_client.h"
#include "transcript.h"

#define FUZZ_CONN_IDLE_MAX 10000u       /* pump rounds without input taken */
#define FUZZ_CONN_TX_MAX (4u << 20)     /* bytes queued for the session */
#define FUZZ_CONN_LOG_STEPS 2048u       /* transcript steps kept for a finding */

/* Incremental checker of one reply stream (plaintext or decrypted). */
typedef struct fuzz_reply_check {
  const char *where;      /* "plaintext" or "tls", for messages */
  ftps_buf line;          /* current line, capped */
  bool overlong;
  int multi_code;         /* code of the open multi-line reply, 0 if none */
  unsigned long lines;    /* lines checked */
} fuzz_reply_check;

typedef struct fuzz_conn {
  ftps_session *s;
  size_t chunk;
  uint64_t now;
  ftps_buf tx;            /* bytes waiting to be fed: plaintext or ciphertext */
  tls_client *tls;        /* non-NULL after fuzz_conn_start_tls() began */
  bool records;           /* a plaintext "234 " was seen: server bytes are TLS records */
  bool tls_closed;        /* the server's close_notify was read */
  fuzz_reply_check plain, secure;
  fuzz_tls_walk walk;     /* server bytes after the 234 */
  transcript log;         /* what happened, printed with a finding */
  bool log_cut;
} fuzz_conn;

/* fuzz_conn_open starts a session of |cfg|'s server (a fresh in-memory tree
 * is the caller's business: fuzz_config() gives one) and reads its greeting.
 * |label| becomes the transcript's first comment. Aborts if memory runs out. */
void fuzz_conn_open(fuzz_conn *c, const ftps_server *server, size_t chunk, const char *label);

/* fuzz_conn_start_tls sends "AUTH TLS" and completes a handshake with the
 * built-in TLS client; later fuzz_conn_send bytes travel inside TLS. Call it
 * right after fuzz_conn_open. A failure is a TLS_UPGRADE finding. */
void fuzz_conn_start_tls(fuzz_conn *c);

/* fuzz_conn_send queues |len| client bytes (encrypted when TLS is up) and
 * pumps until the session is quiet. Bytes sent after the session closed are
 * dropped, as a closed socket would. */
void fuzz_conn_send(fuzz_conn *c, const uint8_t *data, size_t len);

/* fuzz_conn_finish pumps until quiet, runs the end-of-session checks and
 * frees everything. */
void fuzz_conn_finish(fuzz_conn *c);

#endif
