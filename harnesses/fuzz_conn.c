/* fuzz_conn.c - see fuzz_conn.h. */
#include "fuzz_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftps_err.h"
#include "ftps_reply.h"
#include "fuzz_driver.h"
#include "transcript_event.h"

/* The session may pass its pause threshold by one burst (ftps_session.c). */
#define OUTPUT_LIMIT ((size_t)FTPS_SESSION_OUTPUT_MAX + 64 * 1024)
/* "xyz-" + text + CRLF. */
#define REPLY_LINE_CAP (FTPS_REPLY_TEXT_MAX + 6)

static void oom(void) {
  fprintf(stderr, "fuzz_conn: out of memory\n");
  abort();
}

/* log_step keeps what happened for a finding, up to FUZZ_CONN_LOG_STEPS. */
static void log_step(fuzz_conn *c, transcript_kind kind, const void *p, size_t n) {
  if (c->log_cut)
    return;
  if (c->log.n + 1 >= FUZZ_CONN_LOG_STEPS || transcript_add(&c->log, kind, p, n) != 0) {
    c->log_cut = true;
    (void)transcript_addf(&c->log, TRANSCRIPT_COMMENT, " (log cut here)");
  }
}

static void log_event(fuzz_conn *c, transcript_event_kind kind) {
  uint8_t ev[TRANSCRIPT_EVENT_MAX];
  log_step(c, TRANSCRIPT_E, ev, transcript_event_format(ev, sizeof(ev), kind, NULL, 0));
}

static void log_comment(fuzz_conn *c, const char *text) {
  log_step(c, TRANSCRIPT_COMMENT, text, strlen(text));
}

static bool tls_up(const fuzz_conn *c) {
  return c->tls != NULL && tls_client_handshake_done(c->tls);
}

static void tx_append(fuzz_conn *c, const uint8_t *p, size_t n) {
  int rc = ftps_buf_append(&c->tx, p, n);
  if (rc == FTPS_ERR_LIMIT) {
    /* The harness's own bound, not the server's: drop, say so. */
    log_comment(c, " client queue full: bytes dropped");
    return;
  }
  if (rc != 0)
    oom();
}

/* --- reply lines ------------------------------------------------------- */

static void reply_init(fuzz_reply_check *rc, const char *where) {
  memset(rc, 0, sizeof(*rc));
  rc->where = where;
  ftps_buf_init(&rc->line, REPLY_LINE_CAP);
}

static bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

/* reply_line checks one complete line (ending in LF) and reports whether it
 * was the last line of a 234 reply. */
static bool reply_line(fuzz_conn *c, fuzz_reply_check *rc) {
  const uint8_t *p = rc->line.data;
  size_t n = rc->line.len;
  bool crlf = n >= 2 && p[n - 2] == '\r';
  size_t text = crlf ? n - 2 : n - 1;
  log_step(c, TRANSCRIPT_S, p, crlf ? n - 2 : n);
  if (!crlf)
    fuzz_findingf("REPLY_SYNTAX", &c->log, "%s reply line %lu ends in a bare LF, not CRLF",
                  rc->where, rc->lines);
  for (size_t i = 0; i < text; i++) {
    /* RFC 959 4.2: the text is a Telnet string; a CR, LF or NUL inside
     * could end the line early or forge another reply. */
    if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
      fuzz_findingf("REPLY_SYNTAX", &c->log, "%s reply line %lu: control byte 0x%02x at column %zu",
                    rc->where, rc->lines, p[i], i + 1);
  }
  int code = -1;
  if (text >= 4 && p[0] >= '1' && p[0] <= '5' && is_digit(p[1]) && is_digit(p[2]) &&
      (p[3] == ' ' || p[3] == '-'))
    code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
  if (rc->multi_code == 0) {
    /* RFC 959 4.2: "three digits ... followed by Space <SP>" or, for the
     * first line of a multi-line reply, "followed immediately by Hyphen". */
    if (code < 0)
      fuzz_findingf("REPLY_SYNTAX", &c->log,
                    "%s reply line %lu is not \"[1-5][0-9][0-9] text\" nor \"[1-5][0-9][0-9]-text\"",
                    rc->where, rc->lines);
    if (p[3] == '-') {
      rc->multi_code = code;
      return false;
    }
    return code == 234;
  }
  if (code == rc->multi_code && p[3] == ' ') {
    /* "The last line will begin with the same code, followed immediately by
     * Space <SP>". */
    rc->multi_code = 0;
    return code == 234;
  }
  if (text >= 1 && p[0] == ' ')
    return false;
  fuzz_findingf("REPLY_SYNTAX", &c->log,
                "%s reply line %lu inside the multi-line %d reply neither starts with a space "
                "nor ends the reply with \"%d \"",
                rc->where, rc->lines, rc->multi_code, rc->multi_code);
}

/* reply_feed checks the bytes of one reply stream; it stops right after a
 * line ending a 234 reply (*out_234) so the caller can switch to TLS records.
 * Returns the bytes used. */
static size_t reply_feed(fuzz_conn *c, fuzz_reply_check *rc, const uint8_t *p, size_t n,
                         bool *out_234) {
  size_t i = 0;
  *out_234 = false;
  while (i < n) {
    const uint8_t *lf = memchr(p + i, '\n', n - i);
    size_t k = lf != NULL ? (size_t)(lf - (p + i)) + 1 : n - i;
    int err = ftps_buf_append(&rc->line, p + i, k);
    if (err == FTPS_ERR_LIMIT) {
      log_step(c, TRANSCRIPT_S, rc->line.data, rc->line.len);
      fuzz_findingf("REPLY_SYNTAX", &c->log, "%s reply line %lu is longer than %d bytes",
                    rc->where, rc->lines + 1, REPLY_LINE_CAP);
    }
    if (err != 0)
      oom();
    i += k;
    if (lf == NULL)
      break;
    rc->lines++;
    bool is_234 = reply_line(c, rc);
    ftps_buf_reset(&rc->line);
    if (is_234) {
      *out_234 = true;
      return i;
    }
  }
  return n;
}

static void reply_end(fuzz_conn *c, const fuzz_reply_check *rc) {
  if (rc->line.len > 0) {
    log_step(c, TRANSCRIPT_S, rc->line.data, rc->line.len);
    fuzz_findingf("REPLY_SYNTAX", &c->log, "%s output ends inside a reply line (%zu bytes)",
                  rc->where, rc->line.len);
  }
  if (rc->multi_code != 0)
    fuzz_findingf("REPLY_SYNTAX", &c->log, "%s multi-line %d reply never ended", rc->where,
                  rc->multi_code);
}

/* --- TLS records after 234 --------------------------------------------- */

static void walk_fail(fuzz_conn *c, const uint8_t *p, size_t n) {
  char hex[80], text[40];
  size_t k = n < 32 ? n : 32, t = 0;
  fuzz_hex(hex, sizeof(hex), p, n, 32);
  for (size_t i = 0; i < k && t + 1 < sizeof(text); i++)
    text[t++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '.';
  text[t] = '\0';
  fuzz_findingf("NO_PLAINTEXT_AFTER_234", &c->log,
                "after the 234 the server wrote bytes that are not a TLS record (record %lu): "
                "%s \"%s\"",
                c->walk.records + 1, hex, text);
}

static void walk_feed(fuzz_conn *c, const uint8_t *p, size_t n) {
  size_t bad = 0;
  if (!fuzz_tls_walk_feed(&c->walk, p, n, &bad))
    walk_fail(c, p + bad, n - bad);
}

/* --- the session ------------------------------------------------------- */

static void route(fuzz_conn *c, const uint8_t *p, size_t n) {
  while (n > 0 && !c->records) {
    bool is_234;
    size_t used = reply_feed(c, &c->plain, p, n, &is_234);
    p += used;
    n -= used;
    if (is_234)
      c->records = true;
  }
  if (n == 0)
    return;
  walk_feed(c, p, n);
  if (c->tls != NULL) {
    if (tls_client_push(c->tls, p, n) != 0)
      fuzz_findingf("TLS_STREAM", &c->log, "the client could not take %zu bytes of records", n);
  } else {
    char note[64];
    snprintf(note, sizeof(note), " server sent %zu bytes of TLS records", n);
    log_comment(c, note);
  }
}

static const char *event_name(ftps_event_type t) {
  switch (t) {
  case FTPS_EV_TLS_START: return "tls_start";
  case FTPS_EV_TLS_READY: return "tls_ready";
  case FTPS_EV_TLS_FAILED: return "tls_failed";
  case FTPS_EV_TLS_END: return "tls_end";
  case FTPS_EV_LOGIN: return "login";
  case FTPS_EV_LOGIN_FAILED: return "login_failed";
  case FTPS_EV_TRANSFER: return "transfer";
  case FTPS_EV_CLOSE: return "close";
  default: return "none";
  }
}

static void drain_events(fuzz_conn *c) {
  ftps_event ev;
  while (ftps_session_next_event(c->s, &ev)) {
    char note[320];
    snprintf(note, sizeof(note), " session event %s %s", event_name(ev.type), ev.detail);
    log_comment(c, note);
    if (ev.type == FTPS_EV_LOGIN && !tls_up(c))
      fuzz_findingf("TLS_REQUIRED_LOGIN", &c->log,
                    "user \"%s\" logged in while the control connection is plaintext "
                    "(the built-in policy requires TLS for login)",
                    ev.detail);
    if (ev.type == FTPS_EV_TLS_END)
      fuzz_finding("TLS_END_UNASKED", "the control connection went back to plaintext, yet the "
                   "client never sent close_notify", &c->log);
  }
}

/* client_step runs the TLS client: the handshake once the 234 arrived, then
 * decryption of the server's replies; what it wants to send is queued.
 * Returns true on progress. */
static bool client_step(fuzz_conn *c) {
  uint8_t buf[16384];
  size_t got;
  bool progress = false;
  if (c->tls == NULL || !c->records)
    return false;
  if (!tls_client_handshake_done(c->tls) &&
      tls_client_handshake(c->tls) == TLS_CLIENT_FAILED)
    fuzz_findingf("TLS_UPGRADE", &c->log, "a correct client's handshake failed: %s",
                  tls_client_reason(c->tls));
  while (tls_client_handshake_done(c->tls) && !c->tls_closed) {
    int r = tls_client_read(c->tls, buf, sizeof(buf), &got);
    if (r == TLS_CLIENT_CLOSED) {
      c->tls_closed = true;
      log_event(c, TRANSCRIPT_EV_TLS_SHUTDOWN);
      break;
    }
    if (r != 0)
      fuzz_findingf("TLS_STREAM", &c->log, "the client cannot read the server's records: %s",
                    tls_client_reason(c->tls));
    if (got == 0)
      break;
    progress = true;
    for (size_t off = 0; off < got;) {
      bool is_234;
      off += reply_feed(c, &c->secure, buf + off, got - off, &is_234);
      if (is_234)
        fuzz_finding("NO_SECOND_234", "a 234 reply inside TLS", &c->log);
    }
  }
  while (tls_client_pending(c->tls) > 0) {
    if (tls_client_pull(c->tls, buf, sizeof(buf), &got) != 0 || got == 0)
      break;
    tx_append(c, buf, got);
    progress = true;
  }
  return progress;
}

/* feed_once gives the session at most |chunk| queued bytes (or none, to let
 * it continue after output was drained) and checks the feed contract.
 * Returns true if it took bytes. */
static bool feed_once(fuzz_conn *c) {
  size_t want = c->tx.len, used = 0;
  if (c->chunk > 0 && want > c->chunk)
    want = c->chunk;
  int rc = ftps_session_feed(c->s, want ? c->tx.data : NULL, want, &used);
  if (rc != 0 && rc != FTPS_ERR_CLOSED)
    fuzz_findingf("FEED_CONTRACT", &c->log, "ftps_session_feed returned %d", rc);
  if (used > want || (rc == FTPS_ERR_CLOSED && used > 0))
    fuzz_findingf("FEED_CONTRACT", &c->log, "ftps_session_feed took %zu of %zu bytes (rc %d)",
                  used, want, rc);
  ftps_buf_consume(&c->tx, used);
  return used > 0;
}

/* pump moves bytes both ways until the session is quiet. */
static void pump(fuzz_conn *c) {
  unsigned idle = 0;
  for (;;) {
    bool progress = false, took = false;
    size_t n;
    const uint8_t *out = ftps_session_output(c->s, &n);
    if (n > OUTPUT_LIMIT)
      fuzz_findingf("OUTPUT_BOUNDED", &c->log, "%zu bytes of output pending (limit %zu)", n,
                    OUTPUT_LIMIT);
    if (n > 0) {
      route(c, out, n);
      ftps_session_output_consume(c->s, n);
      progress = true;
    }
    drain_events(c); /* after the output they came with, so the log reads in order */
    if (client_step(c))
      progress = true;
    uint64_t wake = ftps_session_wake_time(c->s);
    if (wake != UINT64_MAX) {
      /* A client that waits: the held reply is released. */
      if (wake > c->now)
        c->now = wake;
      ftps_session_advance(c->s, c->now);
      progress = true;
    }
    if (!ftps_session_is_closed(c->s)) {
      took = feed_once(c);
      ftps_session_output(c->s, &n);
      if (took || n > 0)
        progress = true;
    } else if (c->tx.len > 0) {
      char note[80];
      snprintf(note, sizeof(note), " %zu client bytes not taken: session closed", c->tx.len);
      log_comment(c, note);
      ftps_buf_reset(&c->tx);
    }
    if (took)
      idle = 0;
    else if (++idle > FUZZ_CONN_IDLE_MAX)
      fuzz_findingf("BOUNDED_LOOP", &c->log, "no quiet state after %u rounds without input",
                    FUZZ_CONN_IDLE_MAX);
    if (!progress)
      break;
  }
  drain_events(c);
  if (c->tx.len > 0 && !ftps_session_is_closed(c->s))
    fuzz_findingf("NO_PROGRESS", &c->log,
                  "%zu client bytes queued; the session takes none, has no output, no wake "
                  "time and is not closed",
                  c->tx.len);
}

void fuzz_conn_open(fuzz_conn *c, const ftps_server *server, size_t chunk, const char *label) {
  memset(c, 0, sizeof(*c));
  transcript_init(&c->log);
  c->chunk = chunk;
  ftps_buf_init(&c->tx, FUZZ_CONN_TX_MAX);
  reply_init(&c->plain, "plaintext");
  reply_init(&c->secure, "tls");
  if (label != NULL)
    log_comment(c, label);
  c->s = ftps_session_new(server, c->now);
  if (c->s == NULL)
    oom();
  pump(c);
}

void fuzz_conn_start_tls(fuzz_conn *c) {
  static const char auth[] = "AUTH TLS";
  c->tls = tls_client_new();
  if (c->tls == NULL)
    oom();
  log_step(c, TRANSCRIPT_C, auth, sizeof(auth) - 1);
  tx_append(c, (const uint8_t *)"AUTH TLS\r\n", 10);
  pump(c);
  if (!c->records)
    fuzz_finding("TLS_UPGRADE", "the first AUTH TLS was not answered 234", &c->log);
  log_step(c, TRANSCRIPT_T, "handshake", 9);
  pump(c);
  if (!tls_up(c))
    fuzz_findingf("TLS_UPGRADE", &c->log, "the handshake did not complete (%s)",
                  tls_client_reason(c->tls));
  log_event(c, TRANSCRIPT_EV_HANDSHAKE_OK);
}

void fuzz_conn_send(fuzz_conn *c, const uint8_t *data, size_t len) {
  if (ftps_session_is_closed(c->s)) {
    log_comment(c, " not played: connection closed");
    return;
  }
  log_step(c, TRANSCRIPT_R, data, len);
  if (!tls_up(c)) {
    tx_append(c, data, len);
  } else {
    /* One record per chunk, so record boundaries vary with the chunking. */
    size_t piece = c->chunk > 0 ? c->chunk : 16384;
    for (size_t off = 0; off < len; off += piece) {
      size_t k = len - off < piece ? len - off : piece;
      if (tls_client_write(c->tls, data + off, k) != 0)
        fuzz_findingf("TLS_STREAM", &c->log, "the client cannot write: %s",
                      tls_client_reason(c->tls));
      (void)client_step(c); /* moves the records into the queue */
    }
  }
  pump(c);
}

void fuzz_conn_finish(fuzz_conn *c) {
  pump(c);
  reply_end(c, &c->plain);
  if (c->records) {
    if (!fuzz_tls_walk_boundary(&c->walk))
      fuzz_findingf("TLS_STREAM", &c->log, "server output ends inside TLS record %lu",
                    c->walk.records + 1);
    reply_end(c, &c->secure);
  }
  ftps_session_free(c->s);
  tls_client_free(c->tls);
  ftps_buf_cleanup(&c->tx);
  ftps_buf_cleanup(&c->plain.line);
  ftps_buf_cleanup(&c->secure.line);
  transcript_cleanup(&c->log);
  memset(c, 0, sizeof(*c));
}
