/* runner.c - plays client scripts against an in-process ftps_session.
 * The rules are in runner.h; this file only implements them. */
#include "runner.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ftps_buf.h"
#include "ftps_err.h"
#include "tls_client.h"

/* Largest TLSCiphertext.length (RFC 8446 section 5.2: 2^14 + 256; TLS 1.2
 * allows 2^14 + 2048). A header claiming more is not a record. */
#define RECORD_BODY_MAX (16384 + 2048)

typedef enum rx_mode {
  RX_PLAIN,       /* server bytes are reply lines */
  RX_SWITCHING,   /* after 234: TLS records or plaintext lines */
  RX_TLS,         /* handshake done: every byte belongs to a record */
} rx_mode;

typedef struct runner {
  const runner_options *opt;
  runner_result *res;
  transcript *out;
  ftps_session *s;
  uint64_t now;
  ftps_buf tx;            /* client bytes not yet taken by the session */
  ftps_buf rx;            /* server bytes not yet framed (a partial record) */
  ftps_buf line;          /* the S: line being assembled */
  ftps_buf held;          /* records after 234, before T: handshake */
  rx_mode mode;
  bool drop_records;      /* after a failed handshake: records are discarded */
  tls_client *tls;        /* exists from T: handshake until TLS ends or fails */
  bool closed_recorded;
  bool gave_up;
  bool stop_comment_done;
  int err;                /* sticky RUNNER_ERR_* */
  uint64_t moved;         /* progress counter: bytes and events moved */
} runner;

static bool is_record_type(uint8_t b) {
  /* change_cipher_spec(20) alert(21) handshake(22) application_data(23)
   * heartbeat(24) */
  return b >= 0x14 && b <= 0x18;
}

/* ---- recording ---- */

static bool stopped(const runner *r) {
  return r->gave_up || r->err != 0;
}

static void give_up_limit(runner *r, const char *what);
static void emit_line(runner *r, bool terminated);

static void rec(runner *r, transcript_kind kind, const void *data, size_t len) {
  if (r->err != 0)
    return;
  int rc = transcript_add(r->out, kind, data, len);
  if (rc == -1) {
    r->err = RUNNER_ERR_NOMEM;
  } else if (rc != 0 && !r->gave_up) {
    /* TRANSCRIPT_STEPS_MAX: nothing more can be recorded, not even why. */
    r->gave_up = true;
    snprintf(r->res->limit, sizeof(r->res->limit), "%s", "steps");
  }
}

static void rec_str(runner *r, transcript_kind kind, const char *s) {
  rec(r, kind, s, strlen(s));
}

static void rec_event(runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rec_event(runner *r, const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  rec(r, TRANSCRIPT_E, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void give_up_limit(runner *r, const char *what) {
  if (r->gave_up)
    return;
  if (r->line.len > 0 && r->line.len < r->line.max)
    emit_line(r, false); /* what the client saw before it gave up */
  rec_event(r, "limit %s", what);
  r->gave_up = true;
  snprintf(r->res->limit, sizeof(r->res->limit), "%s", what);
}

/* buf_add appends or gives up on the named limit. */
static bool buf_add(runner *r, ftps_buf *b, const void *p, size_t n, const char *what) {
  int rc = ftps_buf_append(b, p, n);
  if (rc == 0)
    return true;
  if (rc == FTPS_ERR_NOMEM)
    r->err = RUNNER_ERR_NOMEM;
  else
    give_up_limit(r, what);
  return false;
}

/* ---- server reply lines ---- */

/* emit_line records the assembled line. |terminated|: it ended in LF. */
static void emit_line(runner *r, bool terminated) {
  size_t len = r->line.len;
  const uint8_t *p = r->line.data;
  /* A CRLF-terminated line is recorded without its CRLF; a bare LF stays in
   * the payload (transcript.h). */
  if (terminated && len >= 2 && p[len - 2] == '\r')
    len -= 2;
  rec(r, TRANSCRIPT_S, p, len);
  /* RFC 4217 section 4: after 234 the client starts the TLS negotiation, so
   * the server's next bytes are TLS - unless a broken server says more. */
  if (r->mode == RX_PLAIN && len >= 4 && memcmp(p, "234 ", 4) == 0) {
    r->mode = RX_SWITCHING;
    r->drop_records = false;
  }
  ftps_buf_reset(&r->line);
}

/* line_add adds reply bytes, recording a line at every LF. */
static void line_add(runner *r, const uint8_t *p, size_t n) {
  while (n > 0 && !stopped(r)) {
    const uint8_t *lf = memchr(p, '\n', n);
    size_t take = lf != NULL ? (size_t)(lf - p) + 1 : n;
    size_t room = ftps_buf_room(&r->line);
    bool full = take > room;
    if (full)
      take = room;
    if (!buf_add(r, &r->line, p, take, "line"))
      return;
    p += take;
    n -= take;
    if (full || (take > 0 && p[-1] == '\n'))
      emit_line(r, !full);
  }
}

static void line_flush(runner *r) {
  if (r->line.len > 0)
    emit_line(r, false);
}

/* ---- the TLS client's side of the stream ---- */

static void tls_drop(runner *r) {
  tls_client_free(r->tls);
  r->tls = NULL;
}

static void handshake_failed(runner *r, const char *reason) {
  rec_event(r, "handshake failed %s", reason[0] != '\0' ? reason : "unknown");
  tls_drop(r);
  /* Whatever else of the failed handshake arrives is dropped; a plaintext
   * line (the unprotected 421 of RFC 4217 section 10.1) is still recorded. */
  r->mode = RX_SWITCHING;
  r->drop_records = true;
}

/* drain_app reads decrypted application data into reply lines. */
static void drain_app(runner *r) {
  uint8_t buf[16384];
  while (r->tls != NULL && !stopped(r)) {
    size_t n = 0;
    int rc = tls_client_read(r->tls, buf, sizeof(buf), &n);
    if (n > 0)
      line_add(r, buf, n);
    if (rc == TLS_CLIENT_CLOSED) {
      /* The server's close_notify: the control connection is plaintext
       * again (CCC, REIN). The client does not answer an unsolicited one. */
      rec_event(r, "tls shutdown");
      tls_drop(r);
      r->mode = RX_PLAIN;
      return;
    }
    if (rc == TLS_CLIENT_FAILED) {
      rec_event(r, "tls error %s", tls_client_reason(r->tls));
      tls_drop(r);
      r->gave_up = true; /* a real client drops the connection */
      return;
    }
    if (n == 0)
      return;
  }
}

/* record_to_client hands one record (or, under TLS, undecodable bytes) to
 * the TLS client and steps it. */
static void record_to_client(runner *r, const uint8_t *p, size_t n) {
  int rc = tls_client_push(r->tls, p, n);
  if (rc == TLS_CLIENT_NOMEM) {
    r->err = RUNNER_ERR_NOMEM;
    return;
  }
  if (rc != 0) {
    give_up_limit(r, "tls buffer");
    return;
  }
  if (!tls_client_handshake_done(r->tls)) {
    rc = tls_client_handshake(r->tls);
    if (rc == TLS_CLIENT_FAILED) {
      handshake_failed(r, tls_client_reason(r->tls));
      return;
    }
    if (rc != TLS_CLIENT_DONE)
      return;
    rec_event(r, "handshake ok");
    r->mode = RX_TLS;
  }
  drain_app(r);
}

/* rx_process frames the server bytes in |r->rx| by the current mode. */
static void rx_process(runner *r) {
  while (r->rx.len > 0 && !stopped(r)) {
    const uint8_t *p = r->rx.data;
    size_t n = r->rx.len, take;
    bool plain = r->mode == RX_PLAIN ||
                 (r->mode == RX_SWITCHING && (r->line.len > 0 || !is_record_type(p[0])));
    if (plain) {
      /* One line at a time: a 234 line changes how the next byte is read. */
      const uint8_t *lf = memchr(p, '\n', n);
      take = lf != NULL ? (size_t)(lf - p) + 1 : n;
      line_add(r, p, take);
      ftps_buf_consume(&r->rx, take);
      continue;
    }
    if (n < 5)
      return;
    size_t body = ((size_t)p[3] << 8) | p[4];
    if (r->mode == RX_TLS && (!is_record_type(p[0]) || body > RECORD_BODY_MAX)) {
      take = n; /* not a record: the client fails on it */
    } else {
      if (n < 5 + body)
        return;
      take = 5 + body;
    }
    if (r->tls != NULL)
      record_to_client(r, p, take);
    else if (!r->drop_records)
      buf_add(r, &r->held, p, take, "held");
    ftps_buf_consume(&r->rx, take);
  }
}

/* ---- driving the session ---- */

static void take_events(runner *r) {
  ftps_event ev;
  while (!stopped(r) && ftps_session_next_event(r->s, &ev)) {
    r->moved++;
    if (++r->res->events > RUNNER_EVENTS_MAX) {
      give_up_limit(r, "events");
      return;
    }
    if (r->opt->on_event != NULL)
      r->opt->on_event(r->opt->event_ctx, &ev, r->out->n);
  }
}

/* pump moves bytes both ways until nothing more happens. */
static void pump(runner *r) {
  unsigned idle = 0, wakes = 0;
  while (!stopped(r)) {
    uint64_t before = r->moved;
    bool fed = false;
    /* the client's TLS output (handshake messages, records, alerts) */
    while (r->tls != NULL && tls_client_pending(r->tls) > 0 && !stopped(r)) {
      uint8_t buf[4096];
      size_t n = 0;
      tls_client_pull(r->tls, buf, sizeof(buf), &n);
      if (n == 0)
        break;
      r->moved += n;
      buf_add(r, &r->tx, buf, n, "tx");
    }
    if (stopped(r))
      return;
    if (!ftps_session_is_closed(r->s)) {
      size_t n = r->tx.len, used = 0;
      if (r->opt->chunk > 0 && n > r->opt->chunk)
        n = r->opt->chunk;
      /* With nothing to feed, feed(NULL, 0) lets the session continue
       * with input it queued while its output was full. */
      ftps_session_feed(r->s, n > 0 ? r->tx.data : NULL, n, &used);
      if (used > n)
        used = n;
      ftps_buf_consume(&r->tx, used);
      r->moved += used;
      fed = used > 0;
    } else {
      ftps_buf_reset(&r->tx); /* a closed session takes nothing more */
    }
    size_t olen = 0;
    const uint8_t *o = ftps_session_output(r->s, &olen);
    if (olen > 0) {
      if (olen > RUNNER_OUTPUT_MAX - r->res->server_bytes) {
        give_up_limit(r, "output");
        return;
      }
      if (!buf_add(r, &r->rx, o, olen, "rx"))
        return;
      ftps_session_output_consume(r->s, olen);
      r->res->server_bytes += olen;
      r->moved += olen;
      rx_process(r);
    }
    take_events(r);
    if (r->moved != before) {
      if (!fed && ++idle > RUNNER_IDLE_MAX) {
        give_up_limit(r, "pump");
        return;
      }
      continue;
    }
    /* Quiescent. A client waiting for a reply lets time pass until the
     * session's delayed work (a held failed-login reply) is due. */
    uint64_t wake = ftps_session_wake_time(r->s);
    if (wake == UINT64_MAX || ftps_session_is_closed(r->s))
      return;
    if (++wakes > RUNNER_WAKE_MAX) {
      give_up_limit(r, "wake");
      return;
    }
    if (wake > r->now)
      r->now = wake;
    ftps_session_advance(r->s, r->now);
    r->moved++;
  }
}

/* settle pumps, then notices a closed session. */
static void settle(runner *r) {
  pump(r);
  if (stopped(r) || r->closed_recorded || !ftps_session_is_closed(r->s))
    return;
  size_t olen = 0;
  ftps_session_output(r->s, &olen);
  if (olen > 0)
    return;
  line_flush(r);
  rec_event(r, "closed");
  r->closed_recorded = true;
  r->res->closed = true;
  tls_drop(r);
}

/* client_write sends one write of the client. */
static void client_write(runner *r, const uint8_t *p, size_t n) {
  if (r->tls != NULL && tls_client_handshake_done(r->tls) && !tls_client_sent_close_notify(r->tls)) {
    if (tls_client_write(r->tls, p, n) != 0) {
      rec_event(r, "tls error %s", tls_client_reason(r->tls)[0] ? tls_client_reason(r->tls)
                                                                : "write");
      tls_drop(r);
      r->gave_up = true;
    }
    return;
  }
  buf_add(r, &r->tx, p, n, "tx");
}

static void play_handshake(runner *r) {
  if (r->tls != NULL) {
    rec_str(r, TRANSCRIPT_COMMENT, " skipped: TLS already active");
    return;
  }
  r->tls = tls_client_new();
  if (r->tls == NULL) {
    r->err = RUNNER_ERR_NOMEM;
    return;
  }
  if (r->mode == RX_PLAIN && r->line.len == 0)
    r->mode = RX_SWITCHING; /* a ClientHello without AUTH expects TLS back */
  r->drop_records = false;
  if (tls_client_handshake(r->tls) == TLS_CLIENT_FAILED) {
    handshake_failed(r, tls_client_reason(r->tls));
    return;
  }
  /* Records held since the 234 come first in the stream: put them in front
   * of whatever partial record is waiting and frame again. */
  if (r->held.len > 0) {
    ftps_buf joined;
    ftps_buf_init(&joined, RUNNER_OUTPUT_MAX);
    if (ftps_buf_append(&joined, r->held.data, r->held.len) != 0 ||
        ftps_buf_append(&joined, r->rx.data, r->rx.len) != 0) {
      ftps_buf_cleanup(&joined);
      r->err = RUNNER_ERR_NOMEM;
      return;
    }
    ftps_buf_cleanup(&r->rx);
    r->rx = joined;
    ftps_buf_reset(&r->held);
    rx_process(r);
  }
  if (r->tls == NULL || stopped(r))
    return;
  pump(r);
  if (r->tls == NULL || stopped(r) || tls_client_handshake_done(r->tls))
    return;
  /* Neither side moves any more. */
  if (ftps_session_is_closed(r->s)) {
    tls_client_set_eof(r->tls);
    tls_client_handshake(r->tls);
    handshake_failed(r, tls_client_reason(r->tls)[0] ? tls_client_reason(r->tls) : "eof");
  } else {
    handshake_failed(r, "stalled");
  }
}

static void play_close_notify(runner *r) {
  if (r->tls == NULL || !tls_client_handshake_done(r->tls) ||
      tls_client_sent_close_notify(r->tls)) {
    rec_str(r, TRANSCRIPT_COMMENT, " skipped: no TLS to close");
    return;
  }
  if (tls_client_close_notify(r->tls) != 0) {
    rec_event(r, "tls error %s", tls_client_reason(r->tls));
    tls_drop(r);
    r->gave_up = true;
  }
}

static int play_step(runner *r, const transcript_step *st) {
  switch (st->kind) {
  case TRANSCRIPT_C: {
    uint8_t *line = malloc(st->len + 2);
    if (line == NULL)
      return RUNNER_ERR_NOMEM;
    if (st->len > 0)
      memcpy(line, st->data, st->len);
    line[st->len] = '\r';
    line[st->len + 1] = '\n';
    client_write(r, line, st->len + 2);
    free(line);
    break;
  }
  case TRANSCRIPT_R:
    client_write(r, st->data, st->len);
    break;
  case TRANSCRIPT_T:
    if (st->len == 9 && memcmp(st->data, "handshake", 9) == 0)
      play_handshake(r);
    else if (st->len == 12 && memcmp(st->data, "close_notify", 12) == 0)
      play_close_notify(r);
    else
      return RUNNER_ERR_INVAL;
    break;
  case TRANSCRIPT_W: {
    uint64_t ms = 0;
    if (st->len == 0 || st->len > 8)
      return RUNNER_ERR_INVAL;
    for (size_t i = 0; i < st->len; i++) {
      if (st->data[i] < '0' || st->data[i] > '9')
        return RUNNER_ERR_INVAL;
      ms = ms * 10 + (uint64_t)(st->data[i] - '0');
    }
    r->now += ms;
    ftps_session_advance(r->s, r->now);
    break;
  }
  case TRANSCRIPT_D:
    /* Data connections come in a later issue. */
    rec_event(r, "data failed not implemented");
    break;
  default:
    return RUNNER_ERR_INVAL;
  }
  return 0;
}

static bool is_client_step(transcript_kind k) {
  return k == TRANSCRIPT_C || k == TRANSCRIPT_R || k == TRANSCRIPT_T || k == TRANSCRIPT_W ||
         k == TRANSCRIPT_D;
}

runner_options runner_options_default(void) {
  runner_options o;
  memset(&o, 0, sizeof(o));
  return o;
}

int runner_run(const ftps_server *server, const transcript *script, const runner_options *opt,
               transcript *out, runner_result *res) {
  runner_options defaults = runner_options_default();
  runner_result local_res;
  runner r;
  size_t i = 0;
  if (res == NULL)
    res = &local_res;
  memset(res, 0, sizeof(*res));
  if (server == NULL || script == NULL || out == NULL)
    return RUNNER_ERR_INVAL;
  memset(&r, 0, sizeof(r));
  r.opt = opt != NULL ? opt : &defaults;
  r.res = res;
  r.out = out;
  ftps_buf_init(&r.tx, RUNNER_TX_MAX);
  ftps_buf_init(&r.rx, RUNNER_OUTPUT_MAX);
  ftps_buf_init(&r.line, RUNNER_LINE_MAX);
  ftps_buf_init(&r.held, TLS_CLIENT_BUFFER_MAX);

  /* Leading comments (a script's header) come before the greeting. */
  for (; i < script->n; i++) {
    const transcript_step *st = &script->steps[i];
    if (st->kind != TRANSCRIPT_COMMENT && st->kind != TRANSCRIPT_BLANK)
      break;
    rec(&r, st->kind, st->data, st->len);
  }
  r.s = ftps_session_new(server, r.now);
  if (r.s == NULL) {
    r.err = RUNNER_ERR_NOMEM;
    goto out;
  }
  settle(&r);
  for (; i < script->n && r.err == 0; i++) {
    const transcript_step *st = &script->steps[i];
    if (st->kind == TRANSCRIPT_S || st->kind == TRANSCRIPT_E)
      continue; /* expectations */
    if (!is_client_step(st->kind)) {
      rec(&r, st->kind, st->data, st->len);
      continue;
    }
    if (r.closed_recorded || r.gave_up) {
      if (!r.stop_comment_done)
        rec_str(&r, TRANSCRIPT_COMMENT, r.closed_recorded ? " not played: connection closed"
                                                          : " not played: client gave up");
      r.stop_comment_done = true;
      continue;
    }
    rec(&r, st->kind, st->data, st->len);
    res->steps_played++;
    int rc = play_step(&r, st);
    if (rc != 0) {
      r.err = rc;
      break;
    }
    settle(&r);
  }
  if (r.err == 0)
    line_flush(&r);
out:
  res->gave_up = r.gave_up;
  res->clock_ms = r.now;
  tls_drop(&r);
  ftps_session_free(r.s);
  ftps_buf_cleanup(&r.tx);
  ftps_buf_cleanup(&r.rx);
  ftps_buf_cleanup(&r.line);
  ftps_buf_cleanup(&r.held);
  if (r.err != 0)
    return r.err;
  res->has_expectations = runner_has_expectations(script);
  const char *name = r.opt->script_name != NULL ? r.opt->script_name : "script";
  res->matched = runner_compare(script, out, name, r.opt->diag, &res->mismatch_line);
  if (!res->matched)
    return RUNNER_MISMATCH;
  return res->limit[0] != '\0' ? RUNNER_LIMIT : RUNNER_OK;
}

/* ---- expectations ---- */

static bool is_expectation(transcript_kind k) {
  return k == TRANSCRIPT_S || k == TRANSCRIPT_E;
}

bool runner_has_expectations(const transcript *script) {
  for (size_t i = 0; i < script->n; i++)
    if (is_expectation(script->steps[i].kind))
      return true;
  return false;
}

static size_t next_expectation(const transcript *t, size_t i) {
  while (i < t->n && !is_expectation(t->steps[i].kind))
    i++;
  return i;
}

static bool same_step(const transcript_step *a, const transcript_step *b) {
  return a->kind == b->kind && a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

bool runner_compare(const transcript *script, const transcript *got, const char *script_name,
                    FILE *diag, unsigned *out_line) {
  if (out_line != NULL)
    *out_line = 0;
  if (!runner_has_expectations(script))
    return true;
  size_t a = next_expectation(script, 0), b = next_expectation(got, 0);
  unsigned k = 1;
  for (;; k++) {
    bool a_end = a >= script->n, b_end = b >= got->n;
    if (a_end && b_end)
      return true;
    if (!a_end && !b_end && same_step(&script->steps[a], &got->steps[b])) {
      a = next_expectation(script, a + 1);
      b = next_expectation(got, b + 1);
      continue;
    }
    break;
  }
  if (out_line != NULL && a < script->n)
    *out_line = script->steps[a].line;
  if (diag == NULL)
    return false;
  fprintf(diag, "%s: expectation mismatch at reply/event #%u (S:/E: lines only)\n", script_name, k);
  /* The first difference and a few lines of each side after it. */
  for (int shown = 0; shown < 6 && (a < script->n || b < got->n); shown++) {
    if (a < script->n) {
      fprintf(diag, "  expected %s:%u: ", script_name, script->steps[a].line);
      transcript_print_step(&script->steps[a], diag);
      a = next_expectation(script, a + 1);
    } else if (shown == 0) {
      fprintf(diag, "  expected %s: (end of expectations)\n", script_name);
    }
    if (b < got->n) {
      fprintf(diag, "  got      output:%zu: ", b + 1);
      transcript_print_step(&got->steps[b], diag);
      b = next_expectation(got, b + 1);
    } else if (shown == 0) {
      fprintf(diag, "  got      (end of transcript)\n");
    }
  }
  return false;
}
