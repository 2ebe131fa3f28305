/* runner.h - play a client script against an in-process ftps_session, or
 * against a live server over TCP.
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
 *   then on server bytes that start a unit (not inside a plaintext line) and
 *   look like a TLS record header (ftps_tls_record_header_ok: content type
 *   20..23, version 3.x, a length within bounds; judged on the bytes
 *   present) start a record that is held for the TLS client; anything else
 *   is plaintext and recorded as S:.
 * - T: handshake starts a TLS client (whatever the state: a client may send a
 *   ClientHello without AUTH), hands it the held records and pumps both sides
 *   until it is done or failed: "E: handshake ok" or "E: handshake failed
 *   <reason>" (reason: the first BoringSSL error in lower case, "eof" when the
 *   server closed, "stalled" when neither side makes progress - then the
 *   client gives up, as a real one times out, and the oracle stops judging).
 *   The event is recorded at the point of the server's byte stream where it
 *   happened.
 *   After a failure the connection is plaintext again (RFC 4217 section 10.1
 *   allows one unprotected 421). After success, records are decrypted and the
 *   plaintext is split into S: lines.
 * - T: close_notify sends the client's close_notify; later client writes are
 *   plaintext. When the server's close_notify arrives (asked for or not) the
 *   runner records "E: tls shutdown" and reads plaintext again; the client
 *   does not answer an unsolicited close_notify.
 *   After the client's own close_notify the server's side of TLS is still
 *   open, so the client keeps decoding: server bytes that begin a TLS record
 *   (the record test above) are still decrypted, and the server's
 *   close_notify gives "E: tls shutdown". Before the first decrypted bytes
 *   the runner records "E: tls after close_notify" once: the S: lines from
 *   there to "E: tls shutdown" / "E: tls unterminated" / "E: closed" came
 *   inside TLS (a 221 as the server's parting word), and the oracle does not
 *   take them for plaintext. The first server byte that is not a record
 *   means the server went on in plaintext without its close_notify: the
 *   runner records what was left of a line from TLS, then "E: tls
 *   unterminated", drops its TLS and reads plaintext from then on. A record that fails to
 *   decrypt gives "E: tls error <reason>" and the client gives up (below).
 *   When what the client failed on is not a record but begins like a reply
 *   line (3 digits, then a space or '-'), the server wrote a reply in
 *   plaintext while TLS was on: the event is "E: tls error plaintext
 *   <line>", the line's first bytes as received (up to CR, LF or
 *   RUNNER_PLAINTEXT_SHOWN bytes).
 * - T: handshake while TLS is active, or T: close_notify without TLS (or a
 *   second time), is not played: the step is copied and followed by a
 *   "# skipped: ..." comment.
 * - D: steps play the client's data connection (below).
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
 * - Implicit TLS (|implicit_tls|, `ftps://`): after the leading comments the
 *   runner records the comment "# implicit TLS: handshake before the
 *   greeting" and plays a T: handshake at once (its E: line follows); the
 *   greeting and everything after it are read inside TLS. A T: handshake of
 *   the script then finds TLS active (skipped, above).
 * - Session events (ftps_session_next_event) are not printed - the transcript
 *   is the client's view - but are passed to |on_event|.
 *
 * What the client knows (both transports). The runner splits what it writes
 * (C:, R:) into lines and pairs each final reply (RFC 959 section 4.2;
 * multi-line replies count once, 1xx replies are preliminary) with the oldest
 * command still waiting; the greeting pairs with the connection itself. From
 * that it keeps, as a real client would:
 * - the protection level: P after "200" to "PROT P" ("PROT S"/"E" count as
 *   protected), C after "200" to "PROT C", a 2xx to REIN, or a 234 to an
 *   AUTH sent in plaintext (RFC 2228: AUTH resets the security state); C at
 *   the start;
 * - the data connection offered last: passive after 227 to PASV or 229 to
 *   EPSV (the port is parsed from the reply), active after 200 to PORT or
 *   EPRT, none after ABOR, REIN, or once a data connection was closed;
 * - the TLS stream: after a 234 to an AUTH sent in plaintext, the command
 *   lines pipelined behind that AUTH are the start of the TLS stream (RFC
 *   4217 section 4), not commands: no reply to them is due, so the
 *   handshake follows at once (replies to them are still paired with them
 *   until the handshake starts, then they are forgotten).
 *
 * Data connections (D: steps):
 * - "D: open" opens the offered data connection. With none offered it
 *   records "E: data failed no data connection offered"; with one already
 *   open "# skipped: data connection already open". Passive: the client
 *   connects now. Active (PORT/EPRT): the client accepts the server's
 *   connection - now if the server already asked for it (the transfer
 *   started), else as soon as it does. If the connection is refused:
 *   "E: data failed <reason>" (in-process "refused").
 * - Under protection level P the client starts TLS on the data connection
 *   as soon as it is established (RFC 4217 section 7: the client is the TLS
 *   client; "# client: data_prot=tls|clear" below overrides the level),
 *   offering the control connection's newest TLS session, which
 *   the server must resume by default (require_tls_reuse). Under TLS 1.3
 *   that session exists only after the first protected reply was read.
 * - "D: send <bytes>" queues bytes; they are written (through TLS when on)
 *   once the connection is established and its handshake done.
 * - "D: close" closes the client's side once everything queued is written:
 *   TLS close_notify first when TLS is on, then end of stream. Before the
 *   data TLS handshake is done, send and close wait for it. D: send/close
 *   without a data connection, or after D: close, are copied and followed by
 *   "# skipped: ...".
 * - The client reads everything the server sends on the data connection,
 *   decrypting under TLS. When the server closes it (in-process:
 *   FTPS_EV_DATA_CLOSE, after all data output was read) the runner records
 *   "E: data tls <n> bytes sha256=<hex>" or "E: data clear <n> bytes
 *   sha256=<hex>": n and the hash are of the plaintext the client RECEIVED on
 *   that connection (0 bytes for an upload). A failed data TLS handshake or
 *   record records "E: data failed <reason>" instead (reason as for the
 *   control connection; "eof" when the server closed during the handshake),
 *   and the client closes that connection.
 * - Clear bytes where TLS was due: when the client started TLS on a data
 *   connection and the first bytes the server sends on it do not begin a
 *   TLS record (ftps_tls_record_header_ok on the first arrival's first
 *   bytes, at most 5), the server is sending in clear (a listing or file
 *   under PROT P). The client drops its TLS, writes nothing more on that
 *   connection (queued D: send bytes are discarded; D: close still closes
 *   it), reads everything to the end and records "E: data clear <n> bytes
 *   sha256=<hex>" over all of it, as it would for clear data it expected -
 *   so the oracle judges it (PROT_P_DATA_IS_TLS, by the transfer's final
 *   reply) the same way on every path. Bytes that begin like a record and
 *   then fail give "E: data failed <reason>".
 * - A final reply to a transfer command (RETR LIST NLST MLSD STOR APPE STOU)
 *   that got a 1xx reply, arriving while the client's data connection is
 *   still open, is recorded only after that connection's close - together
 *   with everything after it - so "E: data" always precedes the 226/426 it
 *   belongs to, whatever the timing. In-process the hold also ends when
 *   everything is quiescent; over TCP when the step times out.
 * - "# client: key=value ..." comments set the client's behaviour from where
 *   they appear (they are separate from the server's "# config:" policy):
 *     data_tls_reuse=on|off     offer the control session on data TLS (on)
 *     data_close_notify=on|off  send close_notify before closing data (on);
 *                               off cuts an upload off (a truncation)
 *     data_prot=auto|tls|clear  protect data connections by the level the
 *                               client tracked (auto), or always start TLS
 *                               on them (tls), or never (clear), whatever
 *                               PROT said - to see which level a server
 *                               really uses (implicit protection after AUTH
 *                               SSL); the transcript's other lines are
 *                               unchanged, so the oracle judges as usual
 *     data_handshake=early|late start data TLS as soon as the data connection
 *                               is established (early), or only once the
 *                               transfer command got its 1xx reply (late;
 *                               D: send/close wait for it) - servers differ,
 *                               and one that expects the other order hangs
 *   A malformed one makes the run fail with RUNNER_ERR_INVAL, naming the
 *   script line on |diag|.
 *
 * In-process data connections (runner_run). The runner is the client's
 * network too: FTPS_EV_DATA_LISTEN is answered at once with
 * ftps_session_data_listening(s, 0, 50000 + n) for the n-th listener (n from
 * 0); a passive D: open calls ftps_session_data_attach() with peer
 * 127.0.0.1:40000; FTPS_EV_DATA_CONNECT is attached when the client has a
 * pending active D: open, else held for the next D: open; client data bytes
 * go through ftps_session_data_feed() (at most |chunk| per call); data output
 * is drained continuously; the client's end of stream is
 * ftps_session_data_eof(); on FTPS_EV_DATA_CLOSE the runner drains the data
 * output, records the E: line, then calls ftps_session_data_closed().
 *
 * Over TCP (runner_run_tcp, `ftpsfuzz run --connect`). The same rules, with
 * these differences:
 * - The control connection is a TCP connection; passive data connections go
 *   to the control connection's server address with the offered port (the
 *   address in a 227 reply is ignored). Active mode is not supported: a
 *   D: open after PORT/EPRT records "E: data failed active mode not
 *   supported over --connect".
 * - Waiting is by time: after each step the runner waits until no reply is
 *   due (every command answered, except a started transfer that waits for
 *   the client's data connection or upload), no TLS handshake is under way,
 *   nothing is left to send and no reply is held - at most |timeout_ms|
 *   (default RUNNER_TCP_TIMEOUT_DEFAULT). On expiry it records "E: timeout"
 *   and gives up (RUNNER_TIMEOUT). Then, if the server sent anything during
 *   the step, the next client step writes (C:, R:) and |settle_ms| is not
 *   0, it keeps reading for |settle_ms| more (at most
 *   RUNNER_TCP_SETTLE_MAX) before writing: a server that
 *   answers one command twice (530 then 500) has its second reply recorded
 *   before the next command, where the oracle blames the right command.
 *   Bytes that arrive later belong to a later step. The in-process runner
 *   needs no such wait: it runs until quiescent.
 * - A final reply that ends an open data connection (a transfer refused
 *   without a 1xx, a new PASV/EPSV/PORT/EPRT, REIN, ABOR, AUTH) comes about
 *   when the server closes that connection; the two arrive in either
 *   order. The runner keeps reading until the data connection ends, at
 *   most |quiet_ms|, before the next step: its end is recorded in the step
 *   that caused it, as in-process.
 * - W: steps are real sleeps, at most RUNNER_TCP_SLEEP_MAX ms each (a longer
 *   one is noted in a comment), during which bytes keep moving.
 * - After a handshake that follows lines pipelined behind the AUTH (see
 *   "the TLS stream" above), the runner keeps reading for |quiet_ms|
 *   (default RUNNER_TCP_QUIET_DEFAULT) before the next step: a server that
 *   ran those lines answers inside TLS with no command due, and the replies
 *   are recorded before any the next step causes (in-process the pump to
 *   quiescence does the same).
 * - Session events and |chunk| do not apply. */
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
#define RUNNER_DATA_MAX     (64ull << 20)   /* data-connection bytes received per run */
#define RUNNER_TCP_TIMEOUT_DEFAULT 5000u    /* ms a TCP step may wait */
#define RUNNER_TCP_SLEEP_MAX 10000u         /* ms of one W: step over TCP */
#define RUNNER_TCP_QUIET_DEFAULT 400u       /* ms of the quiet wait after a handshake */
#define RUNNER_TCP_SETTLE_MAX 5000u         /* ms of the settle wait after a step */
#define RUNNER_PLAINTEXT_SHOWN 80u          /* bytes of a plaintext line in "tls error plaintext" */

/* Return values of runner_run (negative: the run could not be done). */
enum {
  RUNNER_OK = 0,
  RUNNER_MISMATCH = 1,     /* expectations not met (diff written to |diag|) */
  RUNNER_LIMIT = 2,        /* a runner limit stopped the run; expectations, if any, held */
  RUNNER_TIMEOUT = 3,      /* TCP: the server kept the client waiting; expectations, if any, held */
  RUNNER_ERR_NOMEM = -1,
  RUNNER_ERR_INVAL = -3,   /* bad arguments, a step payload the runner cannot play, or a
                              bad "# client:" directive */
  RUNNER_ERR_CONNECT = -4, /* TCP: cannot resolve or connect (why: on |diag|) */
};

typedef struct runner_options {
  size_t chunk;               /* max bytes per ftps_session_feed call; 0 = all */
  const char *script_name;    /* for messages; NULL: "script" */
  FILE *diag;                 /* where the mismatch diff goes; NULL: nowhere */
  /* Called for every session event; |out_index| is the number of steps
   * already in the produced transcript when the event was taken. */
  void (*on_event)(void *ctx, const ftps_event *ev, size_t out_index);
  void *event_ctx;
  unsigned timeout_ms;        /* TCP: how long one step may wait; 0 = RUNNER_TCP_TIMEOUT_DEFAULT */
  unsigned quiet_ms;          /* TCP: the quiet wait after a handshake that follows lines
                                 written into the TLS stream; 0 = RUNNER_TCP_QUIET_DEFAULT */
  uint16_t tls_min, tls_max;  /* TLS versions the client offers on control and data
                                 (TLS1_2_VERSION, TLS1_3_VERSION); 0 = tls_client.h's */
  bool implicit_tls;          /* implicit FTPS: the client's handshake starts the
                                 connection, before the greeting (see below) */
  unsigned settle_ms;         /* TCP: once no reply is due, read this long more before
                                 the next step (0: go on at once); see "Over TCP" */
  bool settle_every_step;     /* TCP: the settle wait follows every step the server
                                 answered, also the last and one before a handshake or
                                 a data step: what a step caused does not depend on
                                 what follows it (`learn` sets it: an input's output
                                 must not depend on whether more inputs follow) */
  bool stall_is_timeout;      /* in-process: a step after which the client still waits
                                 (a reply due, a handshake under way) while the session
                                 is quiescent with no timer pending ends as over TCP
                                 when the server keeps the client waiting: "E: timeout",
                                 the client gives up. (A server stuck in a transfer that
                                 waits for a data handshake the client never starts
                                 queues every later command.) `learn` sets it, so
                                 in-process and TCP machines agree. */
} runner_options;

typedef struct runner_result {
  bool has_expectations;      /* the script holds S:/E: lines */
  bool matched;               /* ... and the produced ones equal them */
  bool closed;                /* "E: closed" was recorded */
  bool gave_up;               /* TLS error, runner limit or timeout */
  bool timed_out;             /* TCP: "E: timeout" was recorded */
  bool data_tls_stalled;      /* TCP: ... while a data TLS handshake was under way */
  char limit[32];             /* which limit, "" if none */
  unsigned mismatch_line;     /* script line of the first mismatching expectation (0: none/end) */
  size_t steps_played;        /* client steps played */
  size_t events;              /* session events seen */
  size_t server_bytes;        /* bytes the server sent */
  uint64_t clock_ms;          /* virtual clock at the end */
  unsigned tls_handshakes;    /* the client's finished handshakes (control and data) */
  unsigned tls_resumed;       /* ... of which resumed a session (no key exchange) */
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

/* runner_run_tcp plays |script| against a live server at |host| (a name or
 * address) and |port| (decimal) over TCP, with the same rules and results
 * (see "Over TCP" above), plus RUNNER_TIMEOUT and RUNNER_ERR_CONNECT. It
 * targets whatever it is given: callers restrict targets. */
int runner_run_tcp(const char *host, const char *port, const transcript *script,
                   const runner_options *opt, transcript *out, runner_result *res);

/* runner_compare checks the S:/E: lines of |got| against those of |script|.
 * Returns true if the script has none or they are equal; otherwise writes a
 * diff to |diag| (if not NULL), naming |script_name|:LINE for expected lines
 * and the output line number for produced ones, and sets |*out_line| (may be
 * NULL) to the script line of the first mismatch (0 when the script ran out). */
bool runner_compare(const transcript *script, const transcript *got, const char *script_name,
                    FILE *diag, unsigned *out_line);

/* runner_tls_version_parse reads "1.2" or "1.3" (for tls_min/tls_max)
 * into TLS1_2_VERSION / TLS1_3_VERSION. Returns 0, or -1 for anything
 * else (|*out| unchanged). */
int runner_tls_version_parse(const char *s, uint16_t *out);

/* runner_has_expectations reports whether |script| holds any S: or E: line. */
bool runner_has_expectations(const transcript *script);

#endif
