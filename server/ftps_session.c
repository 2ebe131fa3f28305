/* ftps_session.c - the sans-IO control-connection core (see ftps_session.h).
 *
 * Bytes flow:  feed() -> |in| (PLAIN) or |net_in| (TLS) -> framer -> command
 * table -> handler -> session_reply() -> |out| (PLAIN) or SSL_write ->
 * |net_out| -> |out|. process() is the only loop; it stops when it needs more
 * input, when a reply is held by the clock, when output is backed up, or when
 * the session closes. Nothing here depends on how the stream was split. */
#include "ftps_alloc.h"
#include "ftps_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ftps_cmdtab.h"
#include "ftps_err.h"
#include "ftps_reply.h"
#include "ftps_session_int.h"
#include "ftps_tls.h"

/* Bound on the work one process() call does before returning; only reached
 * with pathological input, and the caller simply calls again. */
#define PROCESS_STEPS_MAX 100000

static void process(ftps_session *s);

ftps_policy ftps_policy_default(void) {
  ftps_policy p = {
      .tls_required_login = true,
      .tls_required_data = true,
      .anonymous = false,
      .ccc_allowed = false,
      .require_tls_reuse = true,
      .max_login_failures = 3,
      .login_fail_delay_ms = 1000,
  };
  return p;
}

/* is_record: an event only for the operator's log, which the transport
 * needs for nothing else. */
static bool is_record(ftps_event_type t) {
  return t == FTPS_EV_LOGIN || t == FTPS_EV_LOGIN_FAILED || t == FTPS_EV_TRANSFER ||
         t == FTPS_EV_TLS_READY;
}

void session_event(ftps_session *s, ftps_event_type type, const char *detail) {
  /* A full ring drops the oldest log record, so a flood of refused logins
   * never pushes out a data-connection request; with none, the oldest event
   * (the session's own state never depends on events being taken). */
  if (s->ev_count == FTPS_EVENT_RING) {
    unsigned drop = 0;
    while (drop < s->ev_count && !is_record(s->events[(s->ev_head + drop) % FTPS_EVENT_RING].type))
      drop++;
    if (drop == s->ev_count)
      drop = 0;
    for (unsigned i = drop; i > 0; i--) /* move the older ones up over it */
      s->events[(s->ev_head + i) % FTPS_EVENT_RING] =
          s->events[(s->ev_head + i - 1) % FTPS_EVENT_RING];
    s->ev_head = (s->ev_head + 1) % FTPS_EVENT_RING;
    s->ev_count--;
  }
  ftps_event *ev = &s->events[(s->ev_head + s->ev_count) % FTPS_EVENT_RING];
  s->ev_count++;
  ev->type = type;
  snprintf(ev->detail, sizeof(ev->detail), "%s", detail ? detail : "");
}

void session_event_addr(ftps_session *s, ftps_event_type type, const ftps_addr *addr) {
  session_event(s, type, NULL);
  s->events[(s->ev_head + s->ev_count - 1) % FTPS_EVENT_RING].addr = *addr;
}

bool ftps_session_next_event(ftps_session *s, ftps_event *out) {
  if (s->ev_count == 0)
    return false;
  *out = s->events[s->ev_head];
  s->ev_head = (s->ev_head + 1) % FTPS_EVENT_RING;
  s->ev_count--;
  return true;
}

/* Moves everything the TLS engine wrote into |out|. */
static int drain_tls_output(ftps_session *s) {
  uint8_t tmp[4096];
  while (s->net_out && BIO_ctrl_pending(s->net_out) > 0) {
    int n = BIO_read(s->net_out, tmp, sizeof(tmp));
    if (n <= 0)
      break;
    int err = ftps_buf_append(&s->out, tmp, (size_t)n);
    if (err)
      return err;
  }
  return 0;
}

static void free_tls(ftps_session *s) {
  SSL_free(s->ssl); /* frees both BIOs, which it owns */
  s->ssl = NULL;
  s->net_in = s->net_out = NULL;
}

void session_close(ftps_session *s, bool graceful) {
  if (s->closed)
    return;
  if (graceful && s->ssl && s->sec == SEC_SECURE) {
    ERR_clear_error();
    SSL_shutdown(s->ssl);
    ERR_clear_error();
    (void)drain_tls_output(s);
  }
  if (data_busy(s) || s->data.attached || s->data.mode == DATA_PASSIVE)
    data_abort(s, 0, "control connection closed");
  s->closed = true;
  s->held = false;
  session_pass_release(s);
  free_tls(s);
  session_event(s, FTPS_EV_CLOSE, NULL);
}

void ftps_session_shutdown(ftps_session *s) { session_close(s, false); }

bool ftps_session_transfer_active(const ftps_session *s) { return data_busy(s); }

/* Sends reply bytes, encrypting them when the control connection is secure.
 * On failure the session closes: the output never holds half a reply. */
static void send_bytes(ftps_session *s, const uint8_t *p, size_t n) {
  if (s->closed)
    return;
  if (s->sec == SEC_PLAIN) {
    if (ftps_buf_append(&s->out, p, n) != 0)
      session_close(s, false);
    return;
  }
  /* Replies are only ever written in PLAIN or SECURE; the SHUTDOWN state is
   * entered right after the last protected reply. */
  ERR_clear_error();
  if (n > 0 && SSL_write(s->ssl, p, (int)n) != (int)n) {
    session_close(s, false);
    return;
  }
  if (drain_tls_output(s) != 0)
    session_close(s, false);
}

void session_reply(ftps_session *s, int code, const char *text) {
  ftps_buf_reset(&s->scratch);
  if (ftps_reply(&s->scratch, code, text) != 0) {
    session_close(s, false);
    return;
  }
  send_bytes(s, s->scratch.data, s->scratch.len);
}

void session_reply_lines(ftps_session *s, int code, const char *const *lines, size_t n) {
  ftps_buf_reset(&s->scratch);
  if (ftps_reply_lines(&s->scratch, code, lines, n) != 0) {
    session_close(s, false);
    return;
  }
  send_bytes(s, s->scratch.data, s->scratch.len);
}

void session_reply_held(ftps_session *s, int code, const char *text, uint32_t delay_ms,
                        bool then_close) {
  ftps_buf_reset(&s->held_reply);
  if (ftps_reply(&s->held_reply, code, text) != 0) {
    session_close(s, false);
    return;
  }
  s->held = true;
  s->held_until = s->now + delay_ms;
  s->held_then_close = then_close;
}

void session_start_tls(ftps_session *s) {
  /* RFC 4217 section 4.1: after the 234 reply "the client and server then
   * negotiate the TLS session"; bytes already received behind the AUTH line
   * are the start of the TLS stream, never commands (CVE-2011-1575). */
  s->ssl = ftps_tls_new_server_ssl(s->srv->tls_ctx, &s->ticket_keys, &s->net_in, &s->net_out);
  if (!s->ssl) {
    session_close(s, false);
    return;
  }
  if (s->in.len > 0 && BIO_write(s->net_in, s->in.data, (int)s->in.len) != (int)s->in.len) {
    session_close(s, false);
    return;
  }
  ftps_buf_reset(&s->in);
  ftps_linebuf_reset(&s->lines);
  s->sec = SEC_HANDSHAKE;
  s->pbsz = false;
  s->prot = 'C';
  session_event(s, FTPS_EV_TLS_START, NULL);
}

void session_end_tls(ftps_session *s) {
  /* The reply to CCC/REIN has gone out inside TLS; our close_notify follows
   * at once (RFC 4217 section 12: the TLS session is closed by a
   * close_notify exchange; curl waits for the server's before it goes on).
   * The client then sends its own close_notify, or - curl does - plaintext
   * straight away; step_shutdown tells the two apart. */
  ftps_linebuf_reset(&s->lines);
  s->sec = SEC_SHUTDOWN;
  s->shutdown_is_tls = false;
  ERR_clear_error();
  SSL_shutdown(s->ssl);
  ERR_clear_error();
  if (drain_tls_output(s) != 0)
    session_close(s, false);
}

/* Leaves SHUTDOWN for plaintext: bytes still held for TLS are plaintext
 * commands. */
static void finish_tls_shutdown(ftps_session *s) {
  ftps_buf_reset(&s->in);
  const uint8_t *rest;
  size_t n;
  if (BIO_mem_contents(s->net_in, &rest, &n) && n > 0 && ftps_buf_append(&s->in, rest, n) != 0) {
    session_close(s, false);
    return;
  }
  free_tls(s);
  s->sec = SEC_PLAIN;
  session_event(s, FTPS_EV_TLS_END, NULL);
}

void session_forget_login(ftps_session *s) {
  s->login = LOGIN_NONE;
  s->anonymous = false;
  s->user[0] = '\0';
  s->pbsz = false;
  s->prot = 'C';
}

void session_reset_login(ftps_session *s) {
  session_forget_login(s);
  s->ccc_done = false;
  s->type = 'A';
  s->rnfr_set = false;
  memcpy(s->cwd, "/", 2);
}

ftps_session *ftps_session_new(const ftps_server *server, uint64_t now_ms) {
  ftps_session *s = ftps_calloc(1, sizeof(*s));
  if (!s)
    return NULL;
  s->srv = server;
  s->now = now_ms;
  s->sec = SEC_PLAIN;
  ftps_buf_init(&s->in, FTPS_SESSION_INPUT_MAX);
  ftps_linebuf_init(&s->lines);
  /* Output may pass the pause threshold by one burst (a TLS flight or one
   * multi-line reply), never more. */
  ftps_buf_init(&s->out, FTPS_SESSION_OUTPUT_MAX + 64 * 1024);
  ftps_buf_init(&s->scratch, 64 * 1024);
  ftps_buf_init(&s->held_reply, 1024);
  data_init(s);
  session_reset_login(s);
  /* In-process default: both ends on 127.0.0.1 (a transport overrides it). */
  s->peer.family = s->local.family = 4;
  memcpy(s->peer.ip, (const uint8_t[]){127, 0, 0, 1}, 4);
  memcpy(s->local.ip, s->peer.ip, 4);
  if (server->ticket_keys != NULL)
    s->ticket_keys = *server->ticket_keys;
  else if (ftps_tls_ticket_keys_init(&s->ticket_keys) != 0) {
    ftps_session_free(s);
    return NULL;
  }
  /* RFC 959 section 5.4: "Connection Establishment: 120 / 220 / 421". */
  session_reply(s, 220, server->greeting ? server->greeting : "ftpsfuzz ready.");
  if (s->closed) {
    ftps_session_free(s);
    return NULL;
  }
  return s;
}

void ftps_session_free(ftps_session *s) {
  if (!s)
    return;
  free_tls(s);
  session_pass_release(s);
  data_cleanup(s);
  ftps_buf_cleanup(&s->in);
  ftps_linebuf_cleanup(&s->lines);
  ftps_buf_cleanup(&s->out);
  ftps_buf_cleanup(&s->scratch);
  ftps_buf_cleanup(&s->held_reply);
  ftps_free(s);
}

/* Runs the command table's checks, then the handler. */
static void run_command(ftps_session *s, const ftps_cmd_def *def, const ftps_cmd *cmd) {
  if (!def->handler) {
    session_reply(s, 502, "Command not implemented.");
    return;
  }
  if (s->srv->policy.tls_required_login && s->sec == SEC_PLAIN &&
      !(def->flags & FTPS_CMD_PRE_TLS)) {
    int code = def->refuse_plain ? def->refuse_plain : 530;
    session_reply(s, code, code == 530 ? "TLS required: use AUTH TLS first."
                                       : "Bad sequence: the control connection is not protected.");
    return;
  }
  if ((def->flags & FTPS_CMD_LOGIN) && s->login != LOGIN_DONE) {
    session_reply(s, 530, "Please log in with USER and PASS.");
    return;
  }
  if ((def->flags & FTPS_CMD_ARG) && !cmd->arg) {
    session_reply(s, 501, "Missing argument.");
    return;
  }
  if ((def->flags & FTPS_CMD_NOARG) && cmd->arg) {
    session_reply(s, 501, "This command takes no argument.");
    return;
  }
  def->handler(s, cmd);
}

/* cancel_pending ends what only the very next command may use, unless the
 * command's |flags| keep it. RFC 959 RNFR: "This command must be immediately
 * followed by a "rename to" command"; RFC 3659 section 5.3: REST is for the
 * transfer command that follows. Anything else cancels them - a line that
 * is refused before it is even a command too. */
static void cancel_pending(ftps_session *s, unsigned flags) {
  if (!(flags & FTPS_CMD_KEEP_RNFR))
    s->rnfr_set = false;
  if (!(flags & FTPS_CMD_KEEP_REST))
    s->data.rest_set = false;
}

/* Runs one framed line through the command table. */
static void dispatch(ftps_session *s, const uint8_t *line, size_t len) {
  ftps_cmd cmd;
  if (ftps_cmd_parse(line, len, &cmd) != 0) {
    cancel_pending(s, 0);
    session_reply(s, 500, "Syntax error, command unrecognized.");
    return;
  }
  const ftps_cmd_def *def = ftps_cmdtab_find(cmd.verb);
  cancel_pending(s, def != NULL ? def->flags : 0);
  if (!def) {
    session_reply(s, 500, "Unknown command.");
    return;
  }
  run_command(s, def, &cmd);
  /* A transfer command's final reply uses up the PASV/PORT offer, refused or
   * not (the model: data=NONE). Kept after a refusal, a connection the client
   * opened under PROT C would carry the next transfer after PROT P. */
  if ((def->flags & FTPS_CMD_XFER) && !data_busy(s))
    data_forget_mode(s, "transfer command refused");
}

/* Answers one framed line (or the framer's verdict on it). */
static void run_line(ftps_session *s, ftps_line_status st, const uint8_t *line, size_t len) {
  if (st == FTPS_LINE_TOO_LONG || st == FTPS_LINE_HAS_NUL) {
    cancel_pending(s, 0);
    session_reply(s, 500, st == FTPS_LINE_TOO_LONG ? "Command line too long."
                                                   : "Command line contains NUL.");
  } else {
    dispatch(s, line, len);
  }
}

/* During a transfer only ABOR runs at once (its 426/226 pair keeps the
 * order); any other command waits until the transfer's final reply is out,
 * so every reply still follows the command it answers. */
static bool defer_during_transfer(ftps_session *s, ftps_line_status st, const uint8_t *line,
                                  size_t len) {
  if (!data_busy(s))
    return false;
  ftps_cmd cmd;
  if (st == FTPS_LINE_OK && ftps_cmd_parse(line, len, &cmd) == 0 && !strcmp(cmd.verb, "ABOR"))
    return false;
  s->deferred_status = st;
  s->deferred_len = st == FTPS_LINE_OK ? len : 0;
  if (s->deferred_len)
    memcpy(s->deferred, line, len);
  return true;
}

/* Frames and runs at most one command from |in|. Returns true if it made
 * progress. */
static bool run_one_line(ftps_session *s) {
  if (s->deferred_status != FTPS_LINE_NONE) {
    if (data_busy(s))
      return false;
    ftps_line_status st = s->deferred_status;
    s->deferred_status = FTPS_LINE_NONE;
    run_line(s, st, s->deferred, s->deferred_len);
    return true;
  }
  if (s->in.len == 0)
    return false;
  ftps_line_status st;
  size_t used = ftps_linebuf_feed(&s->lines, s->in.data, s->in.len, &st);
  ftps_buf_consume(&s->in, used);
  if (st == FTPS_LINE_NONE)
    return used > 0;
  size_t len = 0;
  const uint8_t *line = st == FTPS_LINE_OK ? ftps_linebuf_line(&s->lines, &len) : NULL;
  if (!defer_during_transfer(s, st, line, len))
    run_line(s, st, line, len);
  return true;
}

/* The client sent close_notify without CCC: it ended TLS on its own.
 * Plaintext may not follow (that would need CCC), so the session ends. Our
 * close_notify answers its; then, unless TLS is required and the user is
 * logged in (nothing of that session may go out unprotected), one
 * unprotected 421 (RFC 4217 section 10.1) says why, since the client may
 * have sent commands behind its close_notify that now get no other reply. */
static void end_tls_without_ccc(ftps_session *s) {
  bool silent = s->srv->policy.tls_required_login && s->login == LOGIN_DONE;
  ERR_clear_error();
  SSL_shutdown(s->ssl);
  ERR_clear_error();
  (void)drain_tls_output(s);
  free_tls(s);
  s->sec = SEC_PLAIN;
  session_event(s, FTPS_EV_TLS_END, NULL);
  if (!silent)
    session_reply(s, 421, "TLS ended without CCC; closing control connection.");
  session_close(s, false);
}

/* Pulls decrypted bytes into |in|. Returns true on progress. */
static bool read_tls(ftps_session *s) {
  size_t room = ftps_buf_room(&s->in);
  if (room == 0)
    return false;
  uint8_t tmp[4096];
  size_t want = room < sizeof(tmp) ? room : sizeof(tmp);
  ERR_clear_error();
  int n = SSL_read(s->ssl, tmp, (int)want);
  if (n > 0) {
    if (ftps_buf_append(&s->in, tmp, (size_t)n) != 0)
      session_close(s, false);
    return true;
  }
  int err = SSL_get_error(s->ssl, n);
  (void)drain_tls_output(s); /* alerts, KeyUpdate acknowledgements */
  if (err == SSL_ERROR_WANT_READ)
    return false;
  if (err == SSL_ERROR_ZERO_RETURN) {
    end_tls_without_ccc(s);
    return true;
  }
  char why[96];
  ftps_tls_error_string(why, sizeof(why), "tls error");
  session_event(s, FTPS_EV_TLS_FAILED, why);
  session_close(s, false);
  return true;
}

static bool step_handshake(ftps_session *s) {
  ERR_clear_error();
  int r = SSL_do_handshake(s->ssl);
  if (drain_tls_output(s) != 0) {
    session_close(s, false);
    return true;
  }
  if (r == 1) {
    s->sec = SEC_SECURE;
    session_event(s, FTPS_EV_TLS_READY, SSL_get_version(s->ssl));
    return true;
  }
  if (SSL_get_error(s->ssl, r) == SSL_ERROR_WANT_READ)
    return false;
  /* RFC 4217 section 10.1 would allow one unprotected 421 here; we send no
   * plaintext at all after 234, only what the TLS engine wrote (an alert). */
  char why[96];
  ftps_tls_error_string(why, sizeof(why), "handshake failed");
  session_event(s, FTPS_EV_TLS_FAILED, why);
  session_close(s, false);
  return true;
}

static bool step_shutdown(ftps_session *s) {
  if (!s->shutdown_is_tls) {
    /* The first bytes decide: a TLS record (the client's close_notify is
     * an alert) or plaintext. */
    const uint8_t *peek;
    size_t avail;
    if (!BIO_mem_contents(s->net_in, &peek, &avail) || avail == 0)
      return false;
    if (!ftps_tls_record_header_ok(peek, avail)) {
      finish_tls_shutdown(s);
      return true;
    }
    s->shutdown_is_tls = true;
  }
  uint8_t tmp[256];
  ERR_clear_error();
  int n = SSL_read(s->ssl, tmp, sizeof(tmp));
  if (n > 0) {
    /* A command sent inside TLS after CCC/REIN was answered: the client
     * should have sent close_notify. Refuse to guess what it meant: say so
     * (still inside TLS, where the client listens) and close. */
    session_event(s, FTPS_EV_TLS_FAILED, "data after CCC/REIN instead of close_notify");
    session_reply(s, 421, "Expected TLS close_notify after CCC/REIN; closing.");
    session_close(s, false);
    return true;
  }
  int err = SSL_get_error(s->ssl, n);
  if (err == SSL_ERROR_WANT_READ) {
    (void)drain_tls_output(s);
    return false;
  }
  if (err != SSL_ERROR_ZERO_RETURN) {
    /* Bytes that began like a TLS record but are none: our close_notify
     * has gone out, so TLS is over either way; an unprotected 421 (RFC 4217
     * section 10.1) is the one thing the client can still read, and it may
     * be waiting for replies to plaintext commands behind those bytes. */
    char why[96];
    ftps_tls_error_string(why, sizeof(why), "tls error");
    session_event(s, FTPS_EV_TLS_FAILED, why);
    free_tls(s);
    s->sec = SEC_PLAIN;
    session_reply(s, 421, "Expected TLS close_notify or plaintext after CCC/REIN; closing.");
    session_close(s, false);
    return true;
  }
  /* The client's close_notify arrived (ours went out with the reply). The
   * bytes after it (BoringSSL reads TLS records exactly, never past them)
   * are plaintext. */
  finish_tls_shutdown(s);
  return true;
}

static void process(ftps_session *s) {
  for (int i = 0; i < PROCESS_STEPS_MAX; i++) {
    /* PASV waits for the transport's listener before the next command. */
    if (s->closed || s->held || s->pass_pending || s->out.len >= FTPS_SESSION_OUTPUT_MAX ||
        s->data.mode == DATA_PASV_WAIT)
      return;
    bool progress = false;
    switch (s->sec) {
    case SEC_PLAIN:
      progress = run_one_line(s);
      break;
    case SEC_SECURE:
      progress = run_one_line(s);
      if (!progress && !s->closed)
        progress = read_tls(s);
      break;
    case SEC_HANDSHAKE:
      progress = step_handshake(s);
      break;
    case SEC_SHUTDOWN:
      progress = step_shutdown(s);
      break;
    }
    if (!progress)
      return;
  }
}

/* Takes as many bytes as the bounded buffers allow. */
static size_t accept_input(ftps_session *s, const uint8_t *in, size_t len) {
  if (s->sec == SEC_PLAIN) {
    size_t n = ftps_buf_room(&s->in);
    if (n > len)
      n = len;
    if (n && ftps_buf_append(&s->in, in, n) != 0)
      return 0;
    return n;
  }
  size_t held = BIO_ctrl_pending(s->net_in) + s->in.len;
  if (held >= FTPS_SESSION_INPUT_MAX)
    return 0;
  size_t n = FTPS_SESSION_INPUT_MAX - held;
  if (n > len)
    n = len;
  if (n && BIO_write(s->net_in, in, (int)n) != (int)n) {
    session_close(s, false);
    return 0;
  }
  return n;
}

int ftps_session_feed(ftps_session *s, const uint8_t *in, size_t len, size_t *out_consumed) {
  *out_consumed = 0;
  if (s->closed)
    return FTPS_ERR_CLOSED;
  process(s);
  while (len > 0 && !s->closed) {
    size_t n = accept_input(s, in, len);
    if (n == 0)
      break;
    in += n;
    len -= n;
    *out_consumed += n;
    process(s);
  }
  return 0;
}

const uint8_t *ftps_session_output(const ftps_session *s, size_t *out_len) {
  *out_len = s->out.len;
  return s->out.data;
}

void ftps_session_output_consume(ftps_session *s, size_t n) {
  if (n > s->out.len)
    n = s->out.len;
  ftps_buf_consume(&s->out, n);
}

uint64_t ftps_session_wake_time(const ftps_session *s) {
  return (s->held && !s->closed) ? s->held_until : UINT64_MAX;
}

void ftps_session_advance(ftps_session *s, uint64_t now_ms) {
  if (now_ms > s->now)
    s->now = now_ms;
  if (s->closed || !s->held || s->now < s->held_until)
    return;
  s->held = false;
  send_bytes(s, s->held_reply.data, s->held_reply.len);
  ftps_buf_reset(&s->held_reply);
  if (s->held_then_close) {
    session_close(s, true);
    return;
  }
  process(s);
}

bool ftps_session_is_closed(const ftps_session *s) { return s->closed; }
