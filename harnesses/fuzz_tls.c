/* fuzz_tls.c - see fuzz_tls.h. */
#include "fuzz_tls.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "ftps_err.h"

/* The session may pass its pause threshold by one burst (ftps_session.c). */
#define OUTPUT_LIMIT ((size_t)FTPS_SESSION_OUTPUT_MAX + 64 * 1024)
/* A plaintext reply line before the 234: "xyz text" + CRLF. */
#define PLAIN_LINE_MAX 512u
/* A decrypted reply line: "xyz-" + text + CRLF. */
#define TLS_LINE_MAX (4096u + 6)
/* The listening port handed to the core for PASV/EPSV. */
#define PASV_PORT 50000

static void oom(void) {
  fprintf(stderr, "fuzz_tls: out of memory\n");
  abort();
}

/* --- records --------------------------------------------------------------- */

bool fuzz_tls_walk_feed(fuzz_tls_walk *w, const uint8_t *p, size_t n, size_t *out_bad) {
  size_t i = 0;
  while (i < n) {
    if (w->body_left > 0) {
      size_t take = n - i < w->body_left ? n - i : w->body_left;
      i += take;
      w->body_left -= take;
      continue;
    }
    *out_bad = i;
    w->hdr[w->hdr_len++] = p[i++];
    if (!ftps_tls_record_header_ok(w->hdr, w->hdr_len))
      return false;
    if (w->hdr_len < FUZZ_TLS_HDR)
      continue;
    w->body_left = (size_t)w->hdr[3] << 8 | w->hdr[4];
    w->hdr_len = 0;
    w->records++;
  }
  return true;
}

bool fuzz_tls_walk_boundary(const fuzz_tls_walk *w) {
  return w->hdr_len == 0 && w->body_left == 0;
}

void fuzz_tls_framer_init(fuzz_tls_framer *f) {
  ftps_buf_init(&f->buf, FUZZ_TLS_PEER_MAX);
}

void fuzz_tls_framer_cleanup(fuzz_tls_framer *f) {
  ftps_buf_cleanup(&f->buf);
}

bool fuzz_tls_framer_push(fuzz_tls_framer *f, const uint8_t *p, size_t n) {
  int rc = ftps_buf_append(&f->buf, p, n);
  if (rc == FTPS_ERR_NOMEM)
    oom();
  return rc == 0;
}

static void take(fuzz_tls_framer *f, ftps_buf *out, size_t n) {
  ftps_buf_reset(out);
  if (ftps_buf_append(out, f->buf.data, n) != 0)
    oom();
  ftps_buf_consume(&f->buf, n);
}

bool fuzz_tls_framer_next(fuzz_tls_framer *f, ftps_buf *out) {
  if (f->buf.len < FUZZ_TLS_HDR)
    return false;
  size_t body = (size_t)f->buf.data[3] << 8 | f->buf.data[4];
  if (body > FUZZ_TLS_RECORD_BODY_MAX) {
    take(f, out, f->buf.len);
    return true;
  }
  if (f->buf.len < FUZZ_TLS_HDR + body)
    return false;
  take(f, out, FUZZ_TLS_HDR + body);
  return true;
}

bool fuzz_tls_framer_flush(fuzz_tls_framer *f, ftps_buf *out) {
  if (f->buf.len == 0)
    return false;
  take(f, out, f->buf.len);
  return true;
}

/* --- log ------------------------------------------------------------------- */

void fuzz_tls_log_event(transcript *t, transcript_event_kind kind) {
  uint8_t ev[TRANSCRIPT_EVENT_MAX];
  fuzz_tls_log(t, TRANSCRIPT_E, ev, transcript_event_format(ev, sizeof(ev), kind, NULL, 0));
}

void fuzz_tls_log(transcript *t, transcript_kind kind, const void *p, size_t n) {
  if (t == NULL || t->n >= FUZZ_TLS_LOG_STEPS)
    return;
  if (t->n + 1 == FUZZ_TLS_LOG_STEPS) {
    (void)transcript_addf(t, TRANSCRIPT_COMMENT, " (log cut here)");
    return;
  }
  (void)transcript_add(t, kind, p, n);
}

void fuzz_tls_logf(transcript *t, const char *fmt, ...) {
  char text[256];
  va_list ap;
  if (t == NULL)
    return;
  va_start(ap, fmt);
  int n = vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  fuzz_tls_log(t, TRANSCRIPT_COMMENT, text, strlen(text));
}

/* --- the server end -------------------------------------------------------- */

static bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

/* plain_line checks one plaintext reply line (ending in LF) before the 234
 * and reports whether it is the 234 that starts TLS. */
static bool plain_line(fuzz_tls_srv *v) {
  const uint8_t *p = v->line.data;
  size_t n = v->line.len;
  bool crlf = n >= 2 && p[n - 2] == '\r';
  fuzz_tls_log(v->log, TRANSCRIPT_S, p, crlf ? n - 2 : n);
  v->replies++;
  if (!crlf || n < 6 || p[0] < '1' || p[0] > '5' || !is_digit(p[1]) || !is_digit(p[2]) ||
      (p[3] != ' ' && p[3] != '-'))
    fuzz_findingf("REPLY_SYNTAX", v->log, "plaintext reply line %u is not \"xyz text\" + CRLF",
                  v->replies);
  return p[0] == '2' && p[1] == '3' && p[2] == '4' && p[3] == ' ';
}

static void srv_output(fuzz_tls_srv *v) {
  size_t n, i = 0;
  const uint8_t *out = ftps_session_output(v->s, &n);
  if (n > OUTPUT_LIMIT)
    fuzz_findingf("OUTPUT_BOUNDED", v->log, "%zu bytes of output pending (limit %zu)", n,
                  OUTPUT_LIMIT);
  while (i < n && !v->after_234) {
    const uint8_t *lf = memchr(out + i, '\n', n - i);
    size_t k = lf != NULL ? (size_t)(lf - (out + i)) + 1 : n - i;
    int rc = ftps_buf_append(&v->line, out + i, k);
    if (rc == FTPS_ERR_LIMIT)
      fuzz_findingf("REPLY_SYNTAX", v->log, "a plaintext reply line is longer than %u bytes",
                    PLAIN_LINE_MAX);
    if (rc != 0)
      oom();
    i += k;
    if (lf == NULL)
      break;
    v->after_234 = plain_line(v);
    ftps_buf_reset(&v->line);
  }
  if (i < n) {
    size_t bad;
    if (!fuzz_tls_walk_feed(&v->walk, out + i, n - i, &bad)) {
      char hex[80], text[40];
      size_t left = n - i - bad, k = left < 32 ? left : 32, t = 0;
      fuzz_hex(hex, sizeof(hex), out + i + bad, left, 32);
      for (size_t j = 0; j < k; j++)
        text[t++] = (out[i + bad + j] >= 0x20 && out[i + bad + j] < 0x7f) ? (char)out[i + bad + j]
                                                                          : '.';
      text[t] = '\0';
      fuzz_findingf("NO_PLAINTEXT_AFTER_234", v->log,
                    "after the 234 the server wrote bytes that are not a TLS record (record %lu, "
                    "header byte %zu): %s \"%s\"",
                    v->walk.records + 1, v->walk.hdr_len, hex, text);
    }
    int rc = ftps_buf_append(&v->to_peer, out + i, n - i);
    if (rc == FTPS_ERR_NOMEM)
      oom();
    if (rc != 0)
      fuzz_tls_logf(v->log, " peer queue full: %zu server bytes dropped", n - i);
  }
  ftps_session_output_consume(v->s, n);
}

static void srv_events(fuzz_tls_srv *v) {
  ftps_event ev;
  while (ftps_session_next_event(v->s, &ev)) {
    v->events++;
    if (v->closed)
      fuzz_findingf("EVENT_ORDER", v->log, "event %d after FTPS_EV_CLOSE", (int)ev.type);
    switch (ev.type) {
    case FTPS_EV_TLS_START:
      if (v->tls_start || !v->after_234)
        fuzz_finding("EVENT_ORDER", "TLS_START twice or without a plaintext 234 line", v->log);
      v->tls_start = true;
      break;
    case FTPS_EV_TLS_READY:
      if (!v->tls_start || v->ready)
        fuzz_finding("EVENT_ORDER", "TLS_READY twice or without TLS_START", v->log);
      v->ready = true;
      fuzz_tls_logf(v->log, " server: TLS ready (%s)", ev.detail);
      break;
    case FTPS_EV_TLS_FAILED:
      v->failed = true;
      snprintf(v->fail_why, sizeof(v->fail_why), "%.127s", ev.detail);
      fuzz_tls_logf(v->log, " server: TLS failed (%s)", ev.detail);
      break;
    case FTPS_EV_TLS_END:
      fuzz_finding("EVENT_ORDER", "TLS_END: the control connection went back to plaintext, "
                   "yet CCC is refused and no REIN was sent", v->log);
    case FTPS_EV_LOGIN:
      if (!v->ready)
        fuzz_findingf("TLS_REQUIRED_LOGIN", v->log,
                      "user \"%s\" logged in before the control handshake completed", ev.detail);
      v->logins++;
      break;
    case FTPS_EV_CLOSE:
      v->closed = true;
      fuzz_tls_logf(v->log, " server: close");
      break;
    case FTPS_EV_DATA_LISTEN:
      v->data_listen++;
      ftps_session_data_listening(v->s, 0, PASV_PORT);
      break;
    case FTPS_EV_DATA_CLOSE:
      v->data_close = true;
      break;
    default:
      break;
    }
  }
  if (v->failed && !ftps_session_is_closed(v->s))
    fuzz_findingf("HANDSHAKE_FAIL_CLOSES", v->log, "TLS failed (%s) but the session is open",
                  v->fail_why);
}

void fuzz_tls_srv_pump(fuzz_tls_srv *v) {
  for (unsigned round = 0;; round++) {
    if (round > FUZZ_TLS_ROUNDS_MAX)
      fuzz_findingf("BOUNDED_LOOP", v->log, "the session is not quiet after %u rounds",
                    FUZZ_TLS_ROUNDS_MAX);
    bool progress = false;
    size_t n;
    ftps_session_output(v->s, &n);
    if (n > 0) {
      srv_output(v);
      progress = true;
    }
    unsigned before = v->events;
    srv_events(v);
    if (v->events != before)
      progress = true;
    uint64_t wake = ftps_session_wake_time(v->s);
    if (wake != UINT64_MAX) {
      if (wake > v->now)
        v->now = wake;
      ftps_session_advance(v->s, v->now);
      progress = true;
    }
    if (!progress)
      return;
  }
}

void fuzz_tls_srv_open(fuzz_tls_srv *v, const ftps_server *server, transcript *log) {
  memset(v, 0, sizeof(*v));
  v->log = log;
  ftps_buf_init(&v->line, PLAIN_LINE_MAX);
  ftps_buf_init(&v->to_peer, FUZZ_TLS_PEER_MAX);
  v->s = ftps_session_new(server, v->now);
  if (v->s == NULL)
    oom();
  fuzz_tls_srv_pump(v);
}

size_t fuzz_tls_srv_feed(fuzz_tls_srv *v, const uint8_t *p, size_t n, size_t chunk) {
  size_t took = 0;
  unsigned stuck = 0;
  while (took < n && !ftps_session_is_closed(v->s)) {
    size_t want = n - took, used = 0;
    if (chunk > 0 && want > chunk)
      want = chunk;
    int rc = ftps_session_feed(v->s, p + took, want, &used);
    if (rc != 0 && rc != FTPS_ERR_CLOSED)
      fuzz_findingf("FEED_CONTRACT", v->log, "ftps_session_feed returned %d", rc);
    if (used > want || (rc == FTPS_ERR_CLOSED && used > 0))
      fuzz_findingf("FEED_CONTRACT", v->log, "ftps_session_feed took %zu of %zu bytes (rc %d)",
                    used, want, rc);
    took += used;
    v->fed += used;
    fuzz_tls_srv_pump(v);
    if (used > 0) {
      stuck = 0;
    } else if (!ftps_session_is_closed(v->s) && ++stuck > 2) {
      fuzz_findingf("NO_PROGRESS", v->log,
                    "%zu bytes offered; the session takes none, has no output, no wake time "
                    "and is not closed",
                    n - took);
    }
  }
  /* Nothing fed, e.g. a session that waited for output to drain. */
  if (n == 0 && !ftps_session_is_closed(v->s)) {
    size_t used;
    (void)ftps_session_feed(v->s, NULL, 0, &used);
    fuzz_tls_srv_pump(v);
  }
  return took;
}

void fuzz_tls_srv_quiet_check(fuzz_tls_srv *v) {
  size_t used, n;
  if (ftps_session_is_closed(v->s))
    return;
  unsigned events = v->events;
  (void)ftps_session_feed(v->s, NULL, 0, &used);
  /* No timer pending: moving the clock must do nothing. */
  if (ftps_session_wake_time(v->s) == UINT64_MAX)
    ftps_session_advance(v->s, v->now + 86400000u);
  ftps_session_output(v->s, &n);
  bool closed = ftps_session_is_closed(v->s);
  srv_events(v);
  if (n > 0 || closed || v->events != events)
    fuzz_findingf("STABLE_WHEN_IDLE", v->log,
                  "with its input exhausted the session changed when fed nothing: %zu bytes of "
                  "output, %u new events, closed %d",
                  n, v->events - events, closed);
}

void fuzz_tls_srv_close(fuzz_tls_srv *v) {
  fuzz_tls_srv_pump(v);
  if (v->after_234 && ftps_session_is_closed(v->s) && !fuzz_tls_walk_boundary(&v->walk))
    fuzz_findingf("NO_PLAINTEXT_AFTER_234", v->log,
                  "the server closed in the middle of TLS record %lu", v->walk.records + 1);
  ftps_session_free(v->s);
  ftps_buf_cleanup(&v->line);
  ftps_buf_cleanup(&v->to_peer);
  memset(v, 0, sizeof(*v));
}

/* --- the client end -------------------------------------------------------- */

void fuzz_tls_replies_init(fuzz_tls_replies *r) {
  memset(r, 0, sizeof(*r));
  ftps_buf_init(&r->line, TLS_LINE_MAX);
}

void fuzz_tls_replies_cleanup(fuzz_tls_replies *r) {
  ftps_buf_cleanup(&r->line);
}

static void reply_line(fuzz_tls_replies *r, transcript *log) {
  const uint8_t *p = r->line.data;
  size_t n = r->line.len;
  bool crlf = n >= 2 && p[n - 2] == '\r';
  fuzz_tls_log(log, TRANSCRIPT_S, p, crlf ? n - 2 : n);
  int code = -1;
  if (n >= 6 && p[0] >= '1' && p[0] <= '5' && is_digit(p[1]) && is_digit(p[2]) &&
      (p[3] == ' ' || p[3] == '-'))
    code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
  if (!crlf)
    fuzz_finding("REPLY_SYNTAX", "a reply line inside TLS does not end in CRLF", log);
  if (r->multi != 0) {
    if (code == r->multi && p[3] == ' ')
      r->multi = 0;
    else if (p[0] != ' ' && code < 0)
      fuzz_finding("REPLY_SYNTAX", "a line inside a multi-line reply inside TLS", log);
    if (r->multi != 0)
      return;
  } else if (code < 0) {
    fuzz_finding("REPLY_SYNTAX", "a reply line inside TLS is not \"xyz text\"", log);
  } else if (p[3] == '-') {
    r->multi = code;
    return;
  }
  if (code < 200) {
    r->prelim++;
    return;
  }
  if (r->n < FUZZ_TLS_CODES_MAX)
    r->codes[r->n] = code;
  r->n++;
}

void fuzz_tls_replies_feed(fuzz_tls_replies *r, const uint8_t *p, size_t n, transcript *log) {
  size_t i = 0;
  while (i < n) {
    const uint8_t *lf = memchr(p + i, '\n', n - i);
    size_t k = lf != NULL ? (size_t)(lf - (p + i)) + 1 : n - i;
    int rc = ftps_buf_append(&r->line, p + i, k);
    if (rc == FTPS_ERR_LIMIT)
      fuzz_findingf("REPLY_SYNTAX", log, "a reply line inside TLS is longer than %u bytes",
                    TLS_LINE_MAX);
    if (rc != 0)
      oom();
    i += k;
    if (lf == NULL)
      break;
    reply_line(r, log);
    ftps_buf_reset(&r->line);
  }
}

tls_client *fuzz_tls_client_new(bool tls12, SSL_SESSION *session) {
  SSL_CTX *ctx = tls_client_ctx();
  if (ctx == NULL)
    oom();
  uint16_t max = SSL_CTX_get_max_proto_version(ctx);
  if (tls12)
    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  tls_client *c = tls_client_new_resume(session);
  if (tls12)
    SSL_CTX_set_max_proto_version(ctx, max);
  if (c == NULL)
    oom();
  return c;
}

int fuzz_tls_client_read(tls_client *c, fuzz_tls_replies *r, transcript *log) {
  uint8_t buf[4096];
  for (unsigned i = 0; i < 1024; i++) {
    size_t got = 0;
    int rc = tls_client_read(c, buf, sizeof(buf), &got);
    if (got > 0)
      fuzz_tls_replies_feed(r, buf, got, log);
    if (rc != 0 || got == 0)
      return rc;
  }
  return 0;
}

static bool trace;

void fuzz_tls_trace(const transcript *log) {
  if (!trace)
    return;
  fprintf(stderr, "--- trace ---\n");
  transcript_print_text(log, stderr);
}

test_config *fuzz_tls_init(void) {
  test_config *cfg = fuzz_config();
  trace = getenv("FUZZ_TLS_TRACE") != NULL;
  if (tls_client_ctx() == NULL) {
    fprintf(stderr, "fuzz_tls: cannot build the TLS client context\n");
    abort();
  }
  return cfg;
}
