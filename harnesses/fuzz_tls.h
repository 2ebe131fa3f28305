/* fuzz_tls.h - what the TLS harnesses (fuzz_tls_server, fuzz_tls_mitm,
 * fuzz_data_tls) share: a TLS record walker and framer, the server end of a
 * control connection driven byte by byte with its checks, and a client end
 * (the built-in BoringSSL client, driver/tls_client.h) that reads replies.
 *
 * Every violated check calls fuzz_finding()/fuzz_findingf() with the log
 * kept so far:
 *   NO_PLAINTEXT_AFTER_234  after the plaintext "234 " line every server byte
 *                           belongs to a TLS record
 *                           (ftps_tls_record_header_ok: types 20..23,
 *                           version 3.x, length <= 2^14 + 2048); output ends
 *                           on a record boundary
 *   REPLY_SYNTAX            a plaintext reply line before the 234 is
 *                           "[1-5][0-9][0-9][ -]..." + CRLF, at most 512 bytes
 *   OUTPUT_BOUNDED          ftps_session_output never holds more than
 *                           FTPS_SESSION_OUTPUT_MAX + 64 KiB
 *   FEED_CONTRACT           ftps_session_feed returns 0 or FTPS_ERR_CLOSED,
 *                           never takes more than offered nor anything once
 *                           closed
 *   NO_PROGRESS             the session takes no input, has no output, no
 *                           wake time, no data connection to wait for, and
 *                           is not closed
 *   BOUNDED_LOOP            a feed settles within FUZZ_TLS_ROUNDS_MAX rounds
 *   HANDSHAKE_FAIL_CLOSES   FTPS_EV_TLS_FAILED is followed by the close
 *   EVENT_ORDER             TLS_READY at most once and only after TLS_START;
 *                           no event after FTPS_EV_CLOSE; no TLS_END (the
 *                           built-in policy refuses CCC, and these harnesses
 *                           never send REIN)
 *   TLS_REQUIRED_LOGIN      no FTPS_EV_LOGIN before TLS_READY */
#ifndef FUZZ_TLS_H
#define FUZZ_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ftps_buf.h"
#include "ftps_session.h"
#include "ftps_tls.h"
#include "fuzz_driver.h"
#include "tls_client.h"
#include "transcript.h"
#include "transcript_event.h"

/* The record header and body bounds (server/ftps_tls.h). */
#define FUZZ_TLS_RECORD_BODY_MAX FTPS_TLS_RECORD_BODY_MAX
#define FUZZ_TLS_HDR FTPS_TLS_RECORD_HEADER
/* Rounds of one feed/pump before BOUNDED_LOOP. */
#define FUZZ_TLS_ROUNDS_MAX 4096u
/* Server bytes kept for the peer (the peer reads them as they come). */
#define FUZZ_TLS_PEER_MAX (4u << 20)
/* Log steps kept for a finding. */
#define FUZZ_TLS_LOG_STEPS 512u

/* Record types (RFC 8446 5.1). */
enum {
  FUZZ_TLS_CCS = 0x14,
  FUZZ_TLS_ALERT = 0x15,
  FUZZ_TLS_HANDSHAKE = 0x16,
  FUZZ_TLS_APPDATA = 0x17,
};

/* --- the record walker: checks a byte stream is TLS records ------------ */

typedef struct fuzz_tls_walk {
  uint8_t hdr[FUZZ_TLS_HDR];
  size_t hdr_len;
  size_t body_left;
  unsigned long records;
} fuzz_tls_walk;

/* fuzz_tls_walk_feed walks |n| more bytes. Returns true if they continue
 * well-formed records; false at the first byte that cannot (*out_bad: its
 * offset in |p|). */
bool fuzz_tls_walk_feed(fuzz_tls_walk *w, const uint8_t *p, size_t n, size_t *out_bad);

/* fuzz_tls_walk_boundary: the bytes walked end exactly after a record. */
bool fuzz_tls_walk_boundary(const fuzz_tls_walk *w);

/* --- the record framer: cuts a peer's byte stream into records --------- */

typedef struct fuzz_tls_framer {
  ftps_buf buf;
} fuzz_tls_framer;

void fuzz_tls_framer_init(fuzz_tls_framer *f);
void fuzz_tls_framer_cleanup(fuzz_tls_framer *f);
/* fuzz_tls_framer_push appends bytes (aborts if memory runs out; bytes past
 * FUZZ_TLS_PEER_MAX are dropped and false is returned). */
bool fuzz_tls_framer_push(fuzz_tls_framer *f, const uint8_t *p, size_t n);
/* fuzz_tls_framer_next copies the next complete record (header included)
 * into |out| (reset first) and returns true; false if none is complete. A
 * header announcing more than FUZZ_TLS_RECORD_BODY_MAX bytes makes the rest
 * of the buffer one "record" so a broken peer cannot stall the framer. */
bool fuzz_tls_framer_next(fuzz_tls_framer *f, ftps_buf *out);
/* fuzz_tls_framer_flush moves what is left (an incomplete record) into
 * |out|; false if nothing was left. */
bool fuzz_tls_framer_flush(fuzz_tls_framer *f, ftps_buf *out);

/* --- the log ------------------------------------------------------------ */

/* fuzz_tls_log adds a step to |t| (ignored once FUZZ_TLS_LOG_STEPS are kept;
 * |t| may be NULL); fuzz_tls_logf adds a formatted comment. */
void fuzz_tls_log(transcript *t, transcript_kind kind, const void *p, size_t n);
void fuzz_tls_logf(transcript *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* fuzz_tls_log_event adds the E: event |kind| (transcript_event.h, no rest). */
void fuzz_tls_log_event(transcript *t, transcript_event_kind kind);

/* --- the server end ------------------------------------------------------ */

typedef struct fuzz_tls_srv {
  ftps_session *s;
  uint64_t now;
  transcript *log;        /* borrowed, may be NULL */
  bool after_234;         /* server bytes are TLS records from here on */
  ftps_buf line;          /* plaintext reply line being assembled */
  fuzz_tls_walk walk;
  ftps_buf to_peer;       /* server bytes after the 234 not yet taken */
  uint64_t fed;           /* control bytes the session took, in total */
  unsigned events;        /* events seen */
  bool tls_start, ready, failed, closed;
  unsigned logins;
  unsigned replies;       /* plaintext reply lines seen (greeting, 234, ...) */
  /* Data connection requests, for the harness to answer. */
  unsigned data_listen;   /* FTPS_EV_DATA_LISTEN seen (answered at once) */
  bool data_close;        /* FTPS_EV_DATA_CLOSE seen and not yet taken */
  char fail_why[128];
} fuzz_tls_srv;

/* fuzz_tls_srv_open starts a session of |server| at time 0 and takes its
 * greeting. A FTPS_EV_DATA_LISTEN is answered with
 * ftps_session_data_listening(s, 0, 50000). */
void fuzz_tls_srv_open(fuzz_tls_srv *v, const ftps_server *server, transcript *log);

/* fuzz_tls_srv_feed feeds |n| control bytes in pieces of at most |chunk|
 * (0: any), draining output and events after every piece, moving the clock
 * to any wake time. Returns the bytes the session took (all of them unless
 * it closed). */
size_t fuzz_tls_srv_feed(fuzz_tls_srv *v, const uint8_t *p, size_t n, size_t chunk);

/* fuzz_tls_srv_pump drains output and events (and feeds nothing) until the
 * session is quiet. */
void fuzz_tls_srv_pump(fuzz_tls_srv *v);

/* fuzz_tls_srv_quiet_check: the input is exhausted and the session waits.
 * Feeding nothing more and letting a day pass must change nothing: no
 * output, no event, no close (STABLE_WHEN_IDLE otherwise). */
void fuzz_tls_srv_quiet_check(fuzz_tls_srv *v);

/* fuzz_tls_srv_close checks the output ended on a record boundary (when it
 * is closed) and frees the session. */
void fuzz_tls_srv_close(fuzz_tls_srv *v);

/* --- the client end ------------------------------------------------------ */

/* Reply codes read by a client, in order. */
#define FUZZ_TLS_CODES_MAX 64

typedef struct fuzz_tls_replies {
  ftps_buf line;          /* current decrypted line */
  int multi;              /* code of an open multi-line reply, 0 if none */
  int codes[FUZZ_TLS_CODES_MAX];
  unsigned n;             /* final replies read (1xx not counted) */
  unsigned prelim;        /* 1xx replies read */
} fuzz_tls_replies;

void fuzz_tls_replies_init(fuzz_tls_replies *r);
void fuzz_tls_replies_cleanup(fuzz_tls_replies *r);
/* fuzz_tls_replies_feed splits decrypted bytes into reply lines, logs them
 * and counts final replies. A malformed line inside TLS is REPLY_SYNTAX. */
void fuzz_tls_replies_feed(fuzz_tls_replies *r, const uint8_t *p, size_t n, transcript *log);

/* fuzz_tls_client_new makes the built-in client (tls_client_new_resume)
 * limited to TLS 1.2 when |tls12|, else up to TLS 1.3. The process-wide
 * client SSL_CTX's maximum version is set for the SSL_new and restored:
 * BoringSSL copies it into each SSL. Aborts if memory runs out. */
tls_client *fuzz_tls_client_new(bool tls12, SSL_SESSION *session);

/* fuzz_tls_client_read decrypts what |c| can read into |r|. Returns
 * TLS_CLIENT_* of the last tls_client_read (0, CLOSED or FAILED). */
int fuzz_tls_client_read(tls_client *c, fuzz_tls_replies *r, transcript *log);

/* fuzz_tls_init builds the process-wide state every TLS harness needs (the
 * configuration, both SSL_CTXs) and returns the configuration. Call it from
 * LLVMFuzzerInitialize so AFL++'s fork server starts with it built. */
test_config *fuzz_tls_init(void);

/* fuzz_tls_trace prints |log| to stderr when the environment variable
 * FUZZ_TLS_TRACE is set (read once, by fuzz_tls_init): to see what an input
 * does without a finding. */
void fuzz_tls_trace(const transcript *log);

#endif
