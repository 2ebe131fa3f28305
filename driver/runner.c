/* runner.c - plays client scripts against a server through a transport:
 * the script, the control connection (framing, the client's TLS) and the
 * recording. The rules are in runner.h; the data connection is in
 * runner_data.c, the transports in transport_*.c. */
#include "runner.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "ftps_buf.h"
#include "ftps_err.h"
#include "ftps_tls.h"
#include "runner_int.h"
#include "tls_client.h"
#include "transcript_event.h"

/* ---- recording ---- */

bool runner_stopped(const runner *r) {
  return r->gave_up || r->err != 0;
}

static void emit_line(runner *r, bool terminated);

void runner_rec(runner *r, transcript_kind kind, const void *data, size_t len) {
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

/* rec_client records a client-side fact (an S: line or an event) - held
 * behind a reply that waits for the data connection's close. */
static void rec_client(runner *r, transcript_kind kind, const void *data, size_t len) {
  if (r->hold) {
    if (r->err == 0 && transcript_add(&r->held_out, kind, data, len) == -1)
      r->err = RUNNER_ERR_NOMEM;
    return;
  }
  if (kind == TRANSCRIPT_S)
    runner_track_reply(r, data, len);
  runner_rec(r, kind, data, len);
}

void runner_rec_comment(runner *r, const char *text) {
  runner_rec(r, TRANSCRIPT_COMMENT, text, strlen(text));
}

__attribute__((format(printf, 4, 0)))
static void rec_vevent(runner *r, bool direct, transcript_event_kind kind, const char *fmt,
                       va_list ap) {
  char rest[TRANSCRIPT_EVENT_MAX];
  uint8_t buf[TRANSCRIPT_EVENT_MAX];
  size_t rest_len = 0;
  if (fmt != NULL) {
    int n = vsnprintf(rest, sizeof(rest), fmt, ap);
    if (n < 0)
      return;
    rest_len = (size_t)n < sizeof(rest) ? (size_t)n : sizeof(rest) - 1;
  }
  size_t len = transcript_event_format(buf, sizeof(buf), kind, rest, rest_len);
  if (direct)
    runner_rec(r, TRANSCRIPT_E, buf, len);
  else
    rec_client(r, TRANSCRIPT_E, buf, len);
}

/* runner_rec_event records an event in stream order (after held replies). */
void runner_rec_event(runner *r, transcript_event_kind kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rec_vevent(r, false, kind, fmt, ap);
  va_end(ap);
}

/* runner_rec_event_now records an event ahead of held replies (a data
 * connection's end, which the held reply follows). */
void runner_rec_event_now(runner *r, transcript_event_kind kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rec_vevent(r, true, kind, fmt, ap);
  va_end(ap);
}

void runner_release_hold(runner *r) {
  if (!r->hold)
    return;
  r->hold = false;
  transcript held = r->held_out;
  transcript_init(&r->held_out);
  /* Never held again: released at the data connection's close, the lines
   * follow it; released at quiescence (in-process), the reply was not the
   * transfer's final one after all (the 501 to a pipelined "ABOR x", which
   * runs at once) and must come before the client's next step, as it came
   * before it on the wire. */
  for (size_t i = 0; i < held.n && r->err == 0; i++) {
    const transcript_step *st = &held.steps[i];
    rec_client(r, st->kind, st->data, st->len);
  }
  transcript_cleanup(&held);
}

void runner_give_up_limit(runner *r, const char *what) {
  if (r->gave_up)
    return;
  if (r->line.len > 0 && r->line.len < r->line.max)
    emit_line(r, false); /* what the client saw before it gave up */
  runner_release_hold(r);
  runner_rec_event(r, TRANSCRIPT_EV_LIMIT, "%s", what);
  r->gave_up = true;
  snprintf(r->res->limit, sizeof(r->res->limit), "%s", what);
}

void runner_timeout(runner *r) {
  if (r->gave_up)
    return;
  if (r->line.len > 0 && r->line.len < r->line.max)
    emit_line(r, false);
  runner_release_hold(r);
  runner_rec_event(r, TRANSCRIPT_EV_TIMEOUT, NULL);
  r->gave_up = true;
  r->res->timed_out = true;
  r->res->data_tls_stalled = r->dc == DC_OPEN && r->dtls != NULL && !r->dfailed &&
                             !tls_client_handshake_done(r->dtls);
}

/* buf_add appends or gives up on the named limit. */
static bool buf_add(runner *r, ftps_buf *b, const void *p, size_t n, const char *what) {
  int rc = ftps_buf_append(b, p, n);
  if (rc == 0)
    return true;
  if (rc == FTPS_ERR_NOMEM)
    r->err = RUNNER_ERR_NOMEM;
  else
    runner_give_up_limit(r, what);
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
  if (!r->hold && runner_reply_held(r, p, len))
    r->hold = true;
  rec_client(r, TRANSCRIPT_S, p, len);
  /* RFC 4217 section 4: after 234 the client starts the TLS negotiation, so
   * the server's next bytes are TLS - unless a broken server says more. */
  if (r->mode == RX_PLAIN && len >= 4 && memcmp(p, "234 ", 4) == 0) {
    r->mode = RX_SWITCHING;
    r->drop_records = false;
  }
  if (len >= 4 && memcmp(p, "234 ", 4) == 0)
    r->saw_234 = true;
  ftps_buf_reset(&r->line);
}

/* line_add adds reply bytes, recording a line at every LF. */
static void line_add(runner *r, const uint8_t *p, size_t n) {
  while (n > 0 && !runner_stopped(r)) {
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

/* ---- the TLS client's side of the control stream ---- */

/* keep_session remembers the control connection's newest session, which
 * PROT P data connections offer (tls_client.h). */
static void keep_session(runner *r) {
  SSL_SESSION *s = r->tls != NULL ? tls_client_session(r->tls) : NULL;
  if (s == NULL || s == r->ctl_session)
    return;
  SSL_SESSION_up_ref(s);
  SSL_SESSION_free(r->ctl_session);
  r->ctl_session = s;
}

static void tls_drop(runner *r) {
  keep_session(r);
  tls_client_free(r->tls);
  r->tls = NULL;
}

tls_client *runner_tls_new(runner *r, SSL_SESSION *resume) {
  tls_client *c = tls_client_new_resume(resume);
  if (c != NULL && tls_client_set_versions(c, r->opt->tls_min, r->opt->tls_max) != 0) {
    tls_client_free(c); /* versions_ok() let only known bounds in: not reached */
    c = NULL;
  }
  return c;
}

void runner_count_handshake(runner *r, const tls_client *c) {
  r->res->tls_handshakes++;
  if (tls_client_session_reused(c))
    r->res->tls_resumed++;
}

SSL_SESSION *runner_ctl_session(runner *r) {
  keep_session(r);
  return r->ctl_session;
}

static void handshake_failed(runner *r, const char *reason) {
  /* |reason| may live in the TLS client, which tls_drop() frees. */
  bool stalled = strcmp(reason, "stalled") == 0;
  runner_rec_event(r, TRANSCRIPT_EV_HANDSHAKE_FAILED, "%s",
                   reason[0] != '\0' ? reason : "unknown");
  tls_drop(r);
  /* Whatever else of the failed handshake arrives is dropped; a plaintext
   * line (the unprotected 421 of RFC 4217 section 10.1) is still recorded. */
  r->mode = RX_SWITCHING;
  r->drop_records = true;
  /* HANDSHAKE_FAIL_CLOSES: the server's close is what is judged, so over TCP
   * the client waits for it (up to the step timeout) instead of racing it.
   * A ClientHello nobody asked for is not judged, so not waited on. */
  r->await_close = r->hs_after_234 && !stalled;
}

/* looks_like_reply: |p| starts like an FTP reply line (RFC 959 section 4.2:
 * three digits, then a space or a hyphen). */
static bool looks_like_reply(const uint8_t *p, size_t n) {
  return n >= 4 && p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
         p[2] <= '9' && (p[3] == ' ' || p[3] == '-');
}

/* rec_tls_error records why the control connection's TLS client failed.
 * When it failed on bytes that are not a record and begin like a reply,
 * the server wrote a reply in plaintext while TLS was on: "tls error
 * plaintext <first line>" (its bytes as received, without the line end, at
 * most RUNNER_PLAINTEXT_SHOWN; the text form escapes them), which the oracle
 * judges. Anything else keeps "tls error <reason>". */
static void rec_tls_error(runner *r) {
  const uint8_t *p = r->not_record;
  size_t n = r->not_record_len;
  if (p == NULL || !looks_like_reply(p, n)) {
    runner_rec_event(r, TRANSCRIPT_EV_TLS_ERROR, "%s", tls_client_reason(r->tls));
    return;
  }
  uint8_t ev[TRANSCRIPT_EVENT_MAX];
  size_t len = 0;
  while (len < n && len < RUNNER_PLAINTEXT_SHOWN && p[len] != '\r' && p[len] != '\n')
    len++;
  len = transcript_event_format(ev, sizeof(ev), TRANSCRIPT_EV_TLS_ERROR_PLAINTEXT, p, len);
  rec_client(r, TRANSCRIPT_E, ev, len);
}

/* drain_app reads decrypted application data into reply lines. */
static void drain_app(runner *r) {
  uint8_t buf[16384];
  while (r->tls != NULL && !runner_stopped(r)) {
    size_t n = 0;
    int rc = tls_client_read(r->tls, buf, sizeof(buf), &n);
    if (n > 0 && r->mode == RX_CLOSING && !r->tls_after_close) {
      /* data inside TLS after the client's close_notify (runner.h) */
      runner_rec_event(r, TRANSCRIPT_EV_TLS_AFTER_CLOSE_NOTIFY, NULL);
      r->tls_after_close = true;
    }
    if (n > 0)
      line_add(r, buf, n);
    if (rc == TLS_CLIENT_CLOSED) {
      /* The server's close_notify: the control connection is plaintext
       * again (CCC, REIN). The client does not answer an unsolicited one. */
      runner_rec_event(r, TRANSCRIPT_EV_TLS_SHUTDOWN, NULL);
      tls_drop(r);
      r->mode = RX_PLAIN;
      return;
    }
    if (rc == TLS_CLIENT_FAILED) {
      rec_tls_error(r);
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
    runner_give_up_limit(r, "tls buffer");
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
    runner_rec_event(r, TRANSCRIPT_EV_HANDSHAKE_OK, NULL);
    runner_count_handshake(r, r->tls);
    r->mode = RX_TLS;
  }
  drain_app(r);
}

/* rx_process frames the server bytes in |r->rx| by the current mode. */
static void rx_process(runner *r) {
  while (r->rx.len > 0 && !runner_stopped(r)) {
    const uint8_t *p = r->rx.data;
    size_t n = r->rx.len, take;
    size_t hdr = n < FTPS_TLS_RECORD_HEADER ? n : FTPS_TLS_RECORD_HEADER;
    bool record = ftps_tls_record_header_ok(p, hdr);
    bool plain = r->mode == RX_PLAIN ||
                 (r->mode == RX_SWITCHING && (r->line.len > 0 || !record)) ||
                 (r->mode == RX_CLOSING && !record);
    if (plain && r->mode == RX_CLOSING) {
      /* After the client's close_notify the server wrote plaintext without
       * its own close_notify: its TLS stream is over (runner.h). What it
       * left of a line inside TLS is recorded first. */
      line_flush(r);
      runner_rec_event(r, TRANSCRIPT_EV_TLS_UNTERMINATED, NULL);
      tls_drop(r);
      r->mode = RX_PLAIN;
      continue;
    }
    if (plain) {
      /* One line at a time: a 234 line changes how the next byte is read. */
      const uint8_t *lf = memchr(p, '\n', n);
      take = lf != NULL ? (size_t)(lf - p) + 1 : n;
      line_add(r, p, take);
      ftps_buf_consume(&r->rx, take);
      continue;
    }
    if (n < FTPS_TLS_RECORD_HEADER)
      return;
    size_t body = ((size_t)p[3] << 8) | p[4];
    bool not_record = r->mode == RX_TLS && !record;
    if (not_record) {
      take = n; /* not a record: the client fails on it */
    } else {
      if (n < 5 + body)
        return;
      take = 5 + body;
    }
    if (r->tls != NULL) {
      if (not_record) {
        r->not_record = p;
        r->not_record_len = take;
      }
      record_to_client(r, p, take);
      r->not_record = NULL;
      r->not_record_len = 0;
    } else if (!r->drop_records) {
      buf_add(r, &r->held, p, take, "held");
    }
    ftps_buf_consume(&r->rx, take);
  }
}

/* ---- what transports call ---- */

void runner_client_output(runner *r) {
  /* the client's TLS output (handshake messages, records, alerts) */
  while (r->tls != NULL && tls_client_pending(r->tls) > 0 && !runner_stopped(r)) {
    uint8_t buf[4096];
    size_t n = 0;
    tls_client_pull(r->tls, buf, sizeof(buf), &n);
    if (n == 0)
      break;
    r->moved += n;
    buf_add(r, &r->tx, buf, n, "tx");
  }
  runner_data_output(r);
}

void runner_on_ctl(runner *r, const uint8_t *p, size_t n) {
  if (n == 0 || runner_stopped(r))
    return;
  if (n > RUNNER_OUTPUT_MAX - r->res->server_bytes) {
    runner_give_up_limit(r, "output");
    return;
  }
  if (!buf_add(r, &r->rx, p, n, "rx"))
    return;
  r->res->server_bytes += n;
  r->moved += n;
  rx_process(r);
}

bool runner_waiting(const runner *r) {
  if (runner_stopped(r) || r->t->ops->closed(r->t))
    return false;
  if (r->tx.len > 0 || r->dtx.len > 0 || r->hold)
    return true;
  if (r->tls != NULL && !tls_client_handshake_done(r->tls))
    return true;
  if (r->await_close)
    return true;
  return runner_replies_due(r);
}

/* settle lets the transport move bytes, then notices a closed connection. */
static void settle(runner *r) {
  r->t->ops->settle(r->t, r);
  if (!r->tcp)
    runner_release_hold(r); /* quiescent: nothing will close the data connection now */
  if (!r->tcp && r->opt->stall_is_timeout && !runner_stopped(r) && runner_waiting(r))
    runner_timeout(r); /* quiescent and still waiting: it would wait forever */
  if (runner_stopped(r) || r->closed_recorded || !r->t->ops->closed(r->t))
    return;
  line_flush(r);
  runner_release_hold(r);
  runner_rec_event(r, TRANSCRIPT_EV_CLOSED, NULL);
  r->closed_recorded = true;
  r->res->closed = true;
  tls_drop(r);
}

/* client_write sends one write of the client. */
static void client_write(runner *r, const uint8_t *p, size_t n) {
  runner_track_client(r, p, n);
  if (r->tls != NULL && tls_client_handshake_done(r->tls) && !tls_client_sent_close_notify(r->tls)) {
    if (tls_client_write(r->tls, p, n) != 0) {
      runner_rec_event(r, TRANSCRIPT_EV_TLS_ERROR, "%s",
                       tls_client_reason(r->tls)[0] ? tls_client_reason(r->tls) : "write");
      tls_drop(r);
      r->gave_up = true;
    }
    return;
  }
  buf_add(r, &r->tx, p, n, "tx");
}

static void play_handshake(runner *r) {
  if (r->tls != NULL) {
    runner_rec_comment(r, " skipped: TLS already active");
    return;
  }
  /* Fuzzing shares sessions across connections (tls_client_share_sessions,
   * fuzz_fast_tls): the control connection offers the newest one, so its
   * handshake is an abbreviated one. NULL otherwise: a full handshake. */
  SSL_SESSION *shared = tls_client_shared_session();
  r->tls = runner_tls_new(r, shared);
  SSL_SESSION_free(shared);
  if (r->tls == NULL) {
    r->err = RUNNER_ERR_NOMEM;
    return;
  }
  r->hs_after_234 = r->saw_234;
  r->saw_234 = false;
  size_t pipelined = r->pipelined_tls;
  r->pipelined_tls = 0;
  runner_drop_tls_stream(r);
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
  if (r->tls == NULL || runner_stopped(r))
    return;
  r->t->ops->settle(r->t, r);
  if (r->tls != NULL && !runner_stopped(r) && tls_client_handshake_done(r->tls)) {
    /* The client pipelined command lines behind the AUTH: they were the
     * start of the TLS stream. A server that runs them answers inside TLS
     * with no command due; over TCP only a wait shows that, before the next
     * step adds a reply that is due (in-process, settle already ran the
     * server to quiescence). */
    if (pipelined > 0 && r->t->ops->listen != NULL)
      r->t->ops->listen(r->t, r);
    return;
  }
  if (r->tls == NULL || runner_stopped(r))
    return;
  /* Neither side moves any more. */
  if (r->t->ops->closed(r->t)) {
    tls_client_set_eof(r->tls);
    tls_client_handshake(r->tls);
    handshake_failed(r, tls_client_reason(r->tls)[0] ? tls_client_reason(r->tls) : "eof");
  } else {
    /* Both sides wait for bytes the other will never send (the server for
     * the rest of a record, the client for the server's flight). A real
     * client times out and drops the connection; so does this one, since
     * the server has not failed anything and there is nothing to judge. */
    handshake_failed(r, "stalled");
    r->gave_up = true;
  }
}

static void play_close_notify(runner *r) {
  if (r->tls == NULL || !tls_client_handshake_done(r->tls) ||
      tls_client_sent_close_notify(r->tls)) {
    runner_rec_comment(r, " skipped: no TLS to close");
    return;
  }
  if (tls_client_close_notify(r->tls) != 0) {
    runner_rec_event(r, TRANSCRIPT_EV_TLS_ERROR, "%s", tls_client_reason(r->tls));
    tls_drop(r);
    r->gave_up = true;
    return;
  }
  /* The server's side of TLS is still open: it may send records (a reply,
   * its close_notify) before it goes on in plaintext, if it does. */
  if (r->mode == RX_TLS)
    r->mode = RX_CLOSING;
  r->tls_after_close = false;
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
    r->t->ops->sleep(r->t, r, ms);
    break;
  }
  case TRANSCRIPT_D:
    runner_play_data(r, st->data, st->len);
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

/* comment_directive applies a "# client:" comment; other comments are
 * ignored. Returns false (and writes |diag|) when one is malformed. */
static bool comment_directive(runner *r, const transcript_step *st) {
  char err[256];
  if (runner_client_directive(r, st->data, st->len, err, sizeof(err)))
    return true;
  if (r->opt->diag != NULL)
    fprintf(r->opt->diag, "%s:%u: %s\n",
            r->opt->script_name != NULL ? r->opt->script_name : "script", st->line, err);
  return false;
}

/* writes_next: the first client step of |script| from |i| on is a write. */
static bool writes_next(const transcript *script, size_t i) {
  for (; i < script->n; i++) {
    transcript_kind k = script->steps[i].kind;
    if (is_client_step(k))
      return k == TRANSCRIPT_C || k == TRANSCRIPT_R;
  }
  return false;
}

/* play walks the script once the runner and its transport exist. */
static void play(runner *r, const transcript *script) {
  size_t i = 0;
  /* Leading comments (a script's header) come before the greeting. */
  for (; i < script->n && r->err == 0; i++) {
    const transcript_step *st = &script->steps[i];
    if (st->kind != TRANSCRIPT_COMMENT && st->kind != TRANSCRIPT_BLANK)
      break;
    if (st->kind == TRANSCRIPT_COMMENT && !comment_directive(r, st)) {
      r->err = RUNNER_ERR_INVAL;
      return;
    }
    runner_rec(r, st->kind, st->data, st->len);
  }
  if (r->opt->implicit_tls) {
    runner_rec_comment(r, " implicit TLS: handshake before the greeting");
    play_handshake(r);
  }
  r->write_next = r->opt->settle_every_step || writes_next(script, i);
  settle(r);
  for (; i < script->n && r->err == 0; i++) {
    const transcript_step *st = &script->steps[i];
    if (st->kind == TRANSCRIPT_S || st->kind == TRANSCRIPT_E)
      continue; /* expectations */
    if (!is_client_step(st->kind)) {
      if (st->kind == TRANSCRIPT_COMMENT && !comment_directive(r, st)) {
        r->err = RUNNER_ERR_INVAL;
        return;
      }
      runner_rec(r, st->kind, st->data, st->len);
      continue;
    }
    if (r->closed_recorded || r->gave_up) {
      if (!r->stop_comment_done)
        runner_rec_comment(r, r->closed_recorded ? " not played: connection closed"
                                                 : " not played: client gave up");
      r->stop_comment_done = true;
      continue;
    }
    runner_rec(r, st->kind, st->data, st->len);
    r->res->steps_played++;
    r->write_next = false; /* the settle inside a step (a handshake) waits for nothing more */
    int rc = play_step(r, st);
    if (rc != 0) {
      r->err = rc;
      return;
    }
    r->write_next = r->opt->settle_every_step || writes_next(script, i + 1);
    settle(r);
  }
  if (r->err == 0) {
    line_flush(r);
    runner_release_hold(r);
  }
}

static void runner_init(runner *r, const runner_options *opt, runner_result *res, transcript *out) {
  memset(r, 0, sizeof(*r));
  r->opt = opt;
  r->res = res;
  r->out = out;
  ftps_buf_init(&r->tx, RUNNER_TX_MAX);
  ftps_buf_init(&r->rx, RUNNER_OUTPUT_MAX);
  ftps_buf_init(&r->line, RUNNER_LINE_MAX);
  ftps_buf_init(&r->held, TLS_CLIENT_BUFFER_MAX);
  transcript_init(&r->held_out);
  runner_data_init(r);
}

int runner_tls_version_parse(const char *s, uint16_t *out) {
  if (strcmp(s, "1.2") == 0)
    *out = TLS1_2_VERSION;
  else if (strcmp(s, "1.3") == 0)
    *out = TLS1_3_VERSION;
  else
    return -1;
  return 0;
}

/* versions_ok: the options' TLS version bounds are ones the client knows. */
static bool versions_ok(const runner_options *o) {
  bool min_ok = o->tls_min == 0 || o->tls_min == TLS1_2_VERSION || o->tls_min == TLS1_3_VERSION;
  bool max_ok = o->tls_max == 0 || o->tls_max == TLS1_2_VERSION || o->tls_max == TLS1_3_VERSION;
  return min_ok && max_ok && (o->tls_min == 0 || o->tls_max == 0 || o->tls_min <= o->tls_max);
}

/* runner_finish frees the runner and judges the expectations. */
static int runner_finish(runner *r, const transcript *script) {
  r->res->gave_up = r->gave_up;
  r->res->clock_ms = r->now;
  tls_drop(r);
  runner_data_cleanup(r);
  if (r->t != NULL)
    r->t->ops->free(r->t);
  SSL_SESSION_free(r->ctl_session);
  ftps_buf_cleanup(&r->tx);
  ftps_buf_cleanup(&r->rx);
  ftps_buf_cleanup(&r->line);
  ftps_buf_cleanup(&r->held);
  transcript_cleanup(&r->held_out);
  if (r->err != 0)
    return r->err;
  r->res->has_expectations = runner_has_expectations(script);
  const char *name = r->opt->script_name != NULL ? r->opt->script_name : "script";
  r->res->matched = runner_compare(script, r->out, name, r->opt->diag, &r->res->mismatch_line);
  if (!r->res->matched)
    return RUNNER_MISMATCH;
  if (r->res->timed_out)
    return RUNNER_TIMEOUT;
  return r->res->limit[0] != '\0' ? RUNNER_LIMIT : RUNNER_OK;
}

int runner_run(const ftps_server *server, const transcript *script, const runner_options *opt,
               transcript *out, runner_result *res) {
  runner_options defaults = runner_options_default();
  runner_result local_res;
  runner r;
  if (res == NULL)
    res = &local_res;
  memset(res, 0, sizeof(*res));
  if (server == NULL || script == NULL || out == NULL || (opt != NULL && !versions_ok(opt)))
    return RUNNER_ERR_INVAL;
  runner_init(&r, opt != NULL ? opt : &defaults, res, out);
  /* The header comes before the greeting, so the session starts in play(). */
  r.t = runner_transport_inproc_new(server, &r);
  if (r.t == NULL)
    r.err = RUNNER_ERR_NOMEM;
  else
    play(&r, script);
  return runner_finish(&r, script);
}

int runner_run_tcp(const char *host, const char *port, const transcript *script,
                   const runner_options *opt, transcript *out, runner_result *res) {
  runner_options defaults = runner_options_default();
  runner_result local_res;
  runner r;
  char err[256];
  if (res == NULL)
    res = &local_res;
  memset(res, 0, sizeof(*res));
  if (host == NULL || port == NULL || script == NULL || out == NULL ||
      (opt != NULL && !versions_ok(opt)))
    return RUNNER_ERR_INVAL;
  runner_init(&r, opt != NULL ? opt : &defaults, res, out);
  r.tcp = true;
  err[0] = '\0';
  r.t = runner_transport_tcp_new(host, port, &r, err, sizeof(err));
  if (r.t == NULL) {
    if (r.opt->diag != NULL)
      fprintf(r.opt->diag, "%s\n", err[0] ? err : "out of memory");
    r.err = err[0] ? RUNNER_ERR_CONNECT : RUNNER_ERR_NOMEM;
  } else {
    play(&r, script);
  }
  return runner_finish(&r, script);
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
