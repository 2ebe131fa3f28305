/* runner.h - play a client script against an in-process ftps_session.
 *
 * The runner is the client of DESIGN section 4: it plays the client steps of
 * a script (C R T W D) against a fresh session and produces the full
 * transcript as the client saw it. Reusable by fuzz harnesses: no exit(), no
 * stdio except the FILE* passed in, no globals besides the process-wide
 * client SSL_CTX, and every loop and buffer is bounded.
 *
 * Rules (the contract the expected S:/E: lines of scripts rely on):
 * - Clock: virtual, starting at 0. "W: n" advances it by n ms. Whenever the
 *   runner is waiting for output and the session has a wake time (a held
 *   failed-login reply), it moves the clock to that time, like a client
 *   that waits; nothing is recorded for that.
 * - Leading comment and blank lines are copied first; then the session is
 *   created and its greeting read. Every later step is copied to the output
 *   in script order, client steps followed by what they caused. S: and E:
 *   lines of the script are expectations, not copied.
 * - C: payload + CRLF in one write; R: the raw bytes in one write. While the
 *   control connection is under TLS (handshake done, client close_notify not
 *   sent) the write goes through the TLS client.
 * - After every client step the runner pumps until quiescent: it feeds the
 *   session (at most |chunk| bytes per ftps_session_feed call, keeping what
 *   was not consumed), drains output, collects session events, and repeats.
 * - Server output is split at LF into S: lines: a line ending in CRLF is
 *   recorded without it, one ending in a bare LF keeps the "\n". A line longer
 *   than RUNNER_LINE_MAX is recorded in RUNNER_LINE_MAX pieces; an
 *   unterminated tail is recorded as it is when the connection closes or the
 *   run ends.
 * - After a plaintext "234 " line the connection is switching to TLS: from
 *   then on a server byte that starts a unit (not inside a plaintext line) and
 *   looks like a TLS record (content type 0x14..0x18) starts a record that is
 *   held for the TLS client; anything else is plaintext and recorded as S:.
 * - T: handshake starts a TLS client (whatever the state: a client may send a
 *   ClientHello without AUTH), hands it the held records and pumps both sides
 *   until it is done or failed: "E: handshake ok" or "E: handshake failed
 *   <reason>" (reason: the first BoringSSL error in lower case, "eof" when the
 *   server closed, "stalled" when neither side makes progress). The event is
 *   recorded at the point of the server's byte stream where it happened.
 *   After a failure the connection is plaintext again (RFC 4217 section 10.1
 *   allows one unprotected 421). After success, records are decrypted and the
 *   plaintext is split into S: lines.
 * - T: close_notify sends the client's close_notify; later client writes are
 *   plaintext. When the server's close_notify arrives (asked for or not) the
 *   runner records "E: tls shutdown" and reads plaintext again; the client
 *   does not answer an unsolicited close_notify. A record that fails to
 *   decrypt gives "E: tls error <reason>" and the client gives up (below).
 * - T: handshake while TLS is active, or T: close_notify without TLS (or a
 *   second time), is not played: the step is copied and followed by a
 *   "# skipped: ..." comment.
 * - D: steps: data connections come in a later issue; every D: step records
 *   "E: data failed not implemented".
 * - When the session is closed and its output drained, the runner records
 *   "E: closed" once. Client steps after that (or after the client gave up on
 *   a TLS error or a runner limit) are not played and not copied; the first
 *   of them is replaced by one comment "# not played: connection closed" (or
 *   "# not played: client gave up"). Comments and blank lines are still
 *   copied.
 * - Limits: total server output RUNNER_OUTPUT_MAX, bytes waiting to be fed
 *   RUNNER_TX_MAX, pump iterations without input consumed RUNNER_IDLE_MAX,
 *   clock jumps RUNNER_WAKE_MAX, session events RUNNER_EVENTS_MAX. Hitting
 *   one records "E: limit <what>" and the client gives up.
 * - Expectations: if the script holds any S: or E: line, the sequence of S:/E:
 *   lines produced must equal the script's exactly; otherwise the run is a
 *   mismatch and a diff (expected vs got, with line numbers) goes to |diag|.
 * - Session events (ftps_session_next_event) are not printed - the transcript
 *   is the client's view - but are passed to |on_event|. */
#ifndef RUNNER_H
#define RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ftps_session.h"
#include "transcript.h"

#define RUNNER_LINE_MAX     (64u * 1024)
#define RUNNER_OUTPUT_MAX   (8u << 20)
#define RUNNER_TX_MAX       (8u << 20)
#define RUNNER_IDLE_MAX     10000u
#define RUNNER_WAKE_MAX     10000u
#define RUNNER_EVENTS_MAX   100000u

/* Return values of runner_run (negative: the run could not be done). */
enum {
  RUNNER_OK = 0,
  RUNNER_MISMATCH = 1,     /* expectations not met (diff written to |diag|) */
  RUNNER_LIMIT = 2,        /* a runner limit stopped the run; expectations, if any, held */
  RUNNER_ERR_NOMEM = -1,
  RUNNER_ERR_INVAL = -3,   /* bad arguments or a step payload the runner cannot play */
};

typedef struct runner_options {
  size_t chunk;               /* max bytes per ftps_session_feed call; 0 = all */
  const char *script_name;    /* for messages; NULL: "script" */
  FILE *diag;                 /* where the mismatch diff goes; NULL: nowhere */
  /* Called for every session event; |out_index| is the number of steps
   * already in the produced transcript when the event was taken. */
  void (*on_event)(void *ctx, const ftps_event *ev, size_t out_index);
  void *event_ctx;
} runner_options;

typedef struct runner_result {
  bool has_expectations;      /* the script holds S:/E: lines */
  bool matched;               /* ... and the produced ones equal them */
  bool closed;                /* "E: closed" was recorded */
  bool gave_up;               /* TLS error or runner limit */
  char limit[32];             /* which limit, "" if none */
  unsigned mismatch_line;     /* script line of the first mismatching expectation (0: none/end) */
  size_t steps_played;        /* client steps played */
  size_t events;              /* session events seen */
  size_t server_bytes;        /* bytes the server sent */
  uint64_t clock_ms;          /* virtual clock at the end */
} runner_result;

/* runner_options_default: chunk 0 (whole writes), no diag, no callback. */
runner_options runner_options_default(void);

/* runner_run plays |script| against a fresh session of |server| and appends
 * the produced transcript to |out| (an initialised transcript). |opt| may be
 * NULL (defaults); |res| may be NULL. Returns RUNNER_OK, RUNNER_MISMATCH,
 * RUNNER_LIMIT, or a negative RUNNER_ERR_* (|out| then holds what was
 * produced so far). */
int runner_run(const ftps_server *server, const transcript *script, const runner_options *opt,
               transcript *out, runner_result *res);

/* runner_compare checks the S:/E: lines of |got| against those of |script|.
 * Returns true if the script has none or they are equal; otherwise writes a
 * diff to |diag| (if not NULL), naming |script_name|:LINE for expected lines
 * and the output line number for produced ones, and sets |*out_line| (may be
 * NULL) to the script line of the first mismatch (0 when the script ran out). */
bool runner_compare(const transcript *script, const transcript *got, const char *script_name,
                    FILE *diag, unsigned *out_line);

/* runner_has_expectations reports whether |script| holds any S: or E: line. */
bool runner_has_expectations(const transcript *script);

#endif
