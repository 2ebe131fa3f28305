/* runner_data.c - the client's data connection (D: steps) and what the
 * client knows from its commands and the server's replies: the protection
 * level, the offered data connection, which replies are still due. The
 * rules are in runner.h. */
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "ftps_err.h"
#include "ftps_tls.h"
#include "runner_int.h"

static bool payload_is(const uint8_t *p, size_t n, const char *word) {
  size_t wl = strlen(word);
  return n == wl && memcmp(p, word, wl) == 0;
}

/* ---- setup ---- */

static void cmd_push(runner *r, const char *verb, char arg) {
  if (r->cmd_untracked > 0 || r->cmd_n == RUNNER_CMDS_MAX) {
    r->cmd_untracked++; /* order kept: these are newer than every tracked one */
    return;
  }
  runner_cmd *c = &r->cmds[(r->cmd_head + r->cmd_n) % RUNNER_CMDS_MAX];
  memset(c, 0, sizeof(*c));
  snprintf(c->verb, sizeof(c->verb), "%s", verb);
  c->arg = arg;
  r->cmd_n++;
}

void runner_drop_tls_stream(runner *r) {
  /* Only lines pipelined behind the AUTH are marked, and a server answers
   * in order, so they are the oldest ones. */
  while (r->cmd_n > 0 && r->cmds[r->cmd_head].tls_stream) {
    r->cmd_head = (r->cmd_head + 1) % RUNNER_CMDS_MAX;
    r->cmd_n--;
  }
}

static runner_cmd *cmd_front(runner *r) {
  return r->cmd_n > 0 ? &r->cmds[r->cmd_head] : NULL;
}

static const runner_cmd *cmd_front_const(const runner *r) {
  return r->cmd_n > 0 ? &r->cmds[r->cmd_head] : NULL;
}

/* cmd_pop removes the oldest command into |out| (verb "" if untracked);
 * false if none was waiting (an unsolicited reply). */
static bool cmd_pop(runner *r, runner_cmd *out) {
  memset(out, 0, sizeof(*out));
  if (r->cmd_n > 0) {
    *out = r->cmds[r->cmd_head];
    r->cmd_head = (r->cmd_head + 1) % RUNNER_CMDS_MAX;
    r->cmd_n--;
    return true;
  }
  if (r->cmd_untracked > 0) {
    r->cmd_untracked--;
    return true;
  }
  return false;
}

void runner_data_init(runner *r) {
  ftps_buf_init(&r->dplain, RUNNER_TX_MAX);
  ftps_buf_init(&r->dtx, RUNNER_TX_MAX);
  r->data_tls_reuse = true;
  r->data_close_notify = true;
  r->data_prot = DATA_PROT_AUTO;
  r->prot = 'C';
  r->offer = OFFER_NONE;
  r->dc = DC_NONE;
  cmd_push(r, "", 0); /* the greeting answers the connection itself */
}

static void dc_reset(runner *r) {
  tls_client_free(r->dtls);
  r->dtls = NULL;
  r->dtls_wanted = false;
  r->dc = DC_NONE;
  r->await_data_end = false;
  r->dfailed = r->dclose_wanted = r->deof_wanted = r->deof_sent = r->dpeer_closed = false;
  r->drx_seen = r->dclear = false;
  ftps_buf_reset(&r->dplain);
  ftps_buf_reset(&r->dtx);
  r->dbytes = 0;
}

void runner_data_cleanup(runner *r) {
  dc_reset(r);
  ftps_buf_cleanup(&r->dplain);
  ftps_buf_cleanup(&r->dtx);
}

/* ---- "# client:" directives ---- */

static bool set_switch(const char *v, size_t vl, bool *out) {
  if (vl == 2 && memcmp(v, "on", 2) == 0)
    *out = true;
  else if (vl == 3 && memcmp(v, "off", 3) == 0)
    *out = false;
  else
    return false;
  return true;
}

static bool set_data_prot(const char *v, size_t vl, runner_data_prot *out) {
  if (vl == 4 && memcmp(v, "auto", 4) == 0)
    *out = DATA_PROT_AUTO;
  else if (vl == 3 && memcmp(v, "tls", 3) == 0)
    *out = DATA_PROT_TLS;
  else if (vl == 5 && memcmp(v, "clear", 5) == 0)
    *out = DATA_PROT_CLEAR;
  else
    return false;
  return true;
}

static bool set_data_handshake(const char *v, size_t vl, bool *late) {
  if (vl == 5 && memcmp(v, "early", 5) == 0)
    *late = false;
  else if (vl == 4 && memcmp(v, "late", 4) == 0)
    *late = true;
  else
    return false;
  return true;
}

bool runner_client_directive(runner *r, const uint8_t *p, size_t n, char *err, size_t err_len) {
  static const char tag[] = "client:";
  const char *s = (const char *)p;
  size_t pos = 0;
  while (pos < n && s[pos] == ' ')
    pos++;
  if (n - pos < sizeof(tag) - 1 || memcmp(s + pos, tag, sizeof(tag) - 1) != 0)
    return true; /* an ordinary comment */
  pos += sizeof(tag) - 1;
  bool any = false;
  for (;;) {
    while (pos < n && s[pos] == ' ')
      pos++;
    if (pos == n)
      break;
    size_t start = pos;
    while (pos < n && s[pos] != ' ')
      pos++;
    const char *kv = s + start, *eq = memchr(kv, '=', pos - start);
    bool ok = false;
    if (eq != NULL) {
      size_t kl = (size_t)(eq - kv), vl = pos - start - kl - 1;
      if (kl == 14 && memcmp(kv, "data_tls_reuse", 14) == 0)
        ok = set_switch(eq + 1, vl, &r->data_tls_reuse);
      else if (kl == 17 && memcmp(kv, "data_close_notify", 17) == 0)
        ok = set_switch(eq + 1, vl, &r->data_close_notify);
      else if (kl == 9 && memcmp(kv, "data_prot", 9) == 0)
        ok = set_data_prot(eq + 1, vl, &r->data_prot);
      else if (kl == 14 && memcmp(kv, "data_handshake", 14) == 0)
        ok = set_data_handshake(eq + 1, vl, &r->data_hs_late);
    }
    if (!ok) {
      snprintf(err, err_len,
               "expected client directive key=value (data_tls_reuse|data_close_notify=on|off, "
               "data_prot=auto|tls|clear, data_handshake=early|late), got '%.*s'",
               (int)(pos - start > 64 ? 64 : pos - start), kv);
      return false;
    }
    any = true;
  }
  if (!any) {
    snprintf(err, err_len, "expected at least one key=value after 'client:'");
    return false;
  }
  return true;
}

static void start_dtls(runner *r);

/* ---- the client's commands and the server's replies ---- */

static void track_line(runner *r) {
  char verb[5] = "";
  char arg = 0;
  size_t i = 0, n = r->cmdline_len;
  const uint8_t *p = r->cmdline;
  while (i < n && i < 4 && ((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z'))) {
    verb[i] = (char)(p[i] & ~0x20);
    i++;
  }
  verb[i] = '\0';
  /* a verb is 3 or 4 letters ending the line or followed by one space */
  bool end = i == n || p[i] == '\r' || p[i] == '\n';
  if (i < 3 || (!end && p[i] != ' '))
    verb[0] = '\0'; /* not a verb the client tracks */
  if (!end && p[i] == ' ' && i + 1 < n && p[i + 1] != '\r' && p[i + 1] != '\n')
    arg = (char)(p[i + 1] >= 'a' && p[i + 1] <= 'z' ? p[i + 1] & ~0x20 : p[i + 1]);
  cmd_push(r, verb, arg);
}

void runner_track_client(runner *r, const uint8_t *p, size_t n) {
  /* The server splits the stream at LF (bare LF tolerated); so does this. */
  for (size_t i = 0; i < n; i++) {
    if (p[i] == '\n') {
      track_line(r);
      r->cmdline_len = 0;
    } else if (r->cmdline_len < sizeof(r->cmdline)) {
      r->cmdline[r->cmdline_len++] = p[i]; /* the verb and argument are at the start */
    }
  }
}

static bool is_verb(const runner_cmd *c, const char *v) {
  return strcmp(c->verb, v) == 0;
}

static bool is_download(const runner_cmd *c) {
  return is_verb(c, "RETR") || is_verb(c, "LIST") || is_verb(c, "NLST") || is_verb(c, "MLSD");
}

static bool is_upload(const runner_cmd *c) {
  return is_verb(c, "STOR") || is_verb(c, "APPE") || is_verb(c, "STOU");
}

/* reply_start: |p| is the first line of a reply: 3 digits then ' ', '-' or
 * the end. */
static bool reply_start(const uint8_t *p, size_t n) {
  if (n < 3)
    return false;
  for (int i = 0; i < 3; i++)
    if (p[i] < '0' || p[i] > '9')
      return false;
  return n == 3 || p[3] == ' ' || p[3] == '-';
}

/* parse_pasv takes the port of "227 ... (h1,h2,h3,h4,p1,p2)". */
static bool parse_pasv(const uint8_t *p, size_t n, uint16_t *port) {
  unsigned v[6] = {0};
  size_t i = 4;
  while (i < n && (p[i] < '0' || p[i] > '9'))
    i++;
  for (int k = 0; k < 6; k++) {
    if (i >= n || p[i] < '0' || p[i] > '9')
      return false;
    while (i < n && p[i] >= '0' && p[i] <= '9') {
      v[k] = v[k] * 10 + (unsigned)(p[i] - '0');
      if (v[k] > 255)
        return false;
      i++;
    }
    if (k < 5 && (i >= n || p[i++] != ','))
      return false;
  }
  *port = (uint16_t)(v[4] * 256 + v[5]);
  return true;
}

/* parse_epsv takes the port of "229 ... (|||port|)" (RFC 2428 section 3:
 * any delimiter, the same four times). */
static bool parse_epsv(const uint8_t *p, size_t n, uint16_t *port) {
  const uint8_t *open = memchr(p, '(', n);
  if (open == NULL)
    return false;
  size_t i = (size_t)(open - p) + 1;
  if (i + 3 > n)
    return false;
  uint8_t d = p[i];
  if (p[i + 1] != d || p[i + 2] != d)
    return false;
  i += 3;
  unsigned v = 0, digits = 0;
  while (i < n && p[i] >= '0' && p[i] <= '9' && digits < 6) {
    v = v * 10 + (unsigned)(p[i] - '0');
    digits++;
    i++;
  }
  if (digits == 0 || v == 0 || v > 65535 || i >= n || p[i] != d)
    return false;
  *port = (uint16_t)v;
  return true;
}

/* final_reply applies what a final reply to |c| means for the client. */
static void final_reply(runner *r, const runner_cmd *c, const uint8_t *p, size_t n) {
  char code[4] = {(char)p[0], (char)p[1], (char)p[2], '\0'};
  uint16_t port;
  if (is_verb(c, "PROT") && strcmp(code, "200") == 0 && (c->arg == 'C' || c->arg == 'P' ||
                                                         c->arg == 'S' || c->arg == 'E'))
    r->prot = c->arg == 'C' ? 'C' : 'P';
  else if (is_verb(c, "REIN") && code[0] == '2') {
    r->prot = 'C'; /* RFC 959 REIN: back to the state after the greeting */
    r->offer = OFFER_NONE;
  } else if (is_verb(c, "AUTH") && strcmp(code, "234") == 0 && r->tls == NULL) {
    /* RFC 2228 AUTH: "removes any state associated with prior FTP Security
     * commands" - PROT is C again. A 234 while TLS is on (a second AUTH)
     * starts nothing, so it changes nothing. */
    r->prot = 'C';
    r->offer = OFFER_NONE;
    /* RFC 4217 section 4: after 234 the client starts TLS. What it
     * pipelined behind the AUTH is the start of that TLS stream, not
     * commands: a server must not answer them, so none is due and the
     * client goes on to its handshake at once. */
    for (size_t i = 0; i < r->cmd_n; i++)
      r->cmds[(r->cmd_head + i) % RUNNER_CMDS_MAX].tls_stream = true;
    r->pipelined_tls += r->cmd_n + r->cmd_untracked;
    r->cmd_untracked = 0; /* too many to tell apart: forgotten */
  } else if (is_verb(c, "PASV") && strcmp(code, "227") == 0 && parse_pasv(p, n, &port)) {
    r->offer = OFFER_PASSIVE;
    r->offer_port = port;
  } else if (is_verb(c, "EPSV") && strcmp(code, "229") == 0 && parse_epsv(p, n, &port)) {
    r->offer = OFFER_PASSIVE;
    r->offer_port = port;
  } else if ((is_verb(c, "PORT") || is_verb(c, "EPRT")) && strcmp(code, "200") == 0) {
    r->offer = OFFER_ACTIVE;
    r->offer_port = 0;
  } else if (is_verb(c, "ABOR")) {
    r->offer = OFFER_NONE;
  }
  /* A reply that ends the open data connection: a refused transfer (no
   * 1xx came), a new offer, REIN, ABOR, AUTH. The server closes the
   * connection about when it replies; over TCP the two arrive in either
   * order, so the close is awaited before the next step (runner.h). */
  if (r->dc == DC_OPEN && ((!c->prelim && (is_download(c) || is_upload(c))) ||
                           is_verb(c, "PASV") || is_verb(c, "EPSV") || is_verb(c, "PORT") ||
                           is_verb(c, "EPRT") || is_verb(c, "REIN") || is_verb(c, "ABOR") ||
                           is_verb(c, "AUTH")))
    r->await_data_end = true;
  /* RFC 959: after 221 to QUIT, or a 421, the server closes the control
   * connection; the client waits for that. */
  if ((is_verb(c, "QUIT") && code[0] == '2') || strcmp(code, "421") == 0)
    r->expect_close = true;
}

bool runner_reply_held(const runner *r, const uint8_t *p, size_t n) {
  const runner_cmd *c = cmd_front_const(r);
  return !r->in_multi && reply_start(p, n) && p[0] >= '2' && p[0] <= '5' && c != NULL &&
         c->prelim && (is_download(c) || is_upload(c)) && r->dc == DC_OPEN;
}

void runner_track_reply(runner *r, const uint8_t *p, size_t n) {
  if (r->in_multi) {
    /* RFC 959 section 4.2: the last line starts with the same code and a
     * space. */
    if (n >= 4 && memcmp(p, r->reply_code, 3) == 0 && p[3] == ' ')
      r->in_multi = false;
    else
      return;
  } else if (!reply_start(p, n)) {
    return; /* not a reply line: nothing the client can act on */
  } else if (n > 3 && p[3] == '-') {
    memcpy(r->reply_code, p, 3);
    r->in_multi = true;
    return;
  }
  if (p[0] == '1') {
    runner_cmd *c = cmd_front(r);
    if (c != NULL)
      c->prelim = true;
    if (c != NULL && r->dtls_wanted && r->dc == DC_OPEN && (is_download(c) || is_upload(c))) {
      start_dtls(r);
      runner_data_output(r);
    }
    return;
  }
  runner_cmd c;
  cmd_pop(r, &c); /* an unsolicited reply (421) pairs with no command: verb "" */
  final_reply(r, &c, p, n);
}

bool runner_replies_due(const runner *r) {
  if (r->expect_close)
    return true;
  if (r->cmd_n + r->cmd_untracked == 0)
    return false;
  const runner_cmd *c = cmd_front_const(r);
  if (c != NULL && c->tls_stream)
    return false; /* the rest was pipelined behind it too: nothing is due */
  /* A started transfer with client work queued on its data connection (the
   * data TLS handshake, D: send bytes, a D: close): the client is busy. */
  if (c != NULL && c->prelim && (is_download(c) || is_upload(c)) && r->dc == DC_OPEN &&
      !r->dfailed &&
      ((r->dtls != NULL && !tls_client_handshake_done(r->dtls)) || r->dplain.len > 0 ||
       (r->dclose_wanted && !r->deof_sent)))
    return true;
  /* A started transfer waits for the client: for its data connection, or
   * for the end of an upload. */
  if (c != NULL && c->prelim && !c->data_done && (is_download(c) || is_upload(c)) &&
      (r->dc == DC_NONE || (is_upload(c) && !r->deof_sent)))
    return false;
  return true;
}

/* ---- the data connection ---- */

static void dtls_failed(runner *r) {
  if (r->dfailed)
    return;
  const char *why = tls_client_reason(r->dtls);
  runner_rec_event_now(r, TRANSCRIPT_EV_DATA_FAILED, "%s", why[0] != '\0' ? why : "tls");
  r->dfailed = true;
  /* A client whose data TLS failed closes that connection. */
  r->deof_wanted = true;
  ftps_buf_reset(&r->dplain);
}

/* pull_dtls moves the data TLS client's ciphertext into r->dtx. */
static void pull_dtls(runner *r) {
  while (r->dtls != NULL && tls_client_pending(r->dtls) > 0 && !runner_stopped(r)) {
    uint8_t buf[4096];
    size_t n = 0;
    tls_client_pull(r->dtls, buf, sizeof(buf), &n);
    if (n == 0)
      break;
    r->moved += n;
    if (ftps_buf_append(&r->dtx, buf, n) != 0) {
      runner_give_up_limit(r, "data tx");
      return;
    }
  }
}

void runner_data_output(runner *r) {
  if (r->dc != DC_OPEN || runner_stopped(r))
    return;
  pull_dtls(r);
  if (!r->dfailed && !r->deof_wanted) {
    bool writable = !r->dtls_wanted && (r->dtls == NULL || tls_client_handshake_done(r->dtls));
    if (r->dclear) {
      /* The server answered the client's TLS in clear: the client sends
       * nothing in clear that it meant to protect. */
      ftps_buf_reset(&r->dplain);
    }
    if (writable && r->dplain.len > 0) {
      int rc = r->dtls != NULL ? tls_client_write(r->dtls, r->dplain.data, r->dplain.len)
                               : ftps_buf_append(&r->dtx, r->dplain.data, r->dplain.len);
      if (rc != 0) {
        if (r->dtls != NULL)
          dtls_failed(r);
        else
          runner_give_up_limit(r, "data tx");
        return;
      }
      r->moved += r->dplain.len;
      ftps_buf_reset(&r->dplain);
    }
    if (writable && r->dclose_wanted && r->dplain.len == 0) {
      /* RFC 4217 section 7: the end of protected data is the TLS
       * close_notify; without it the server must treat the upload as cut
       * off (the data_close_notify=off client). */
      if (r->dtls != NULL && r->data_close_notify && tls_client_close_notify(r->dtls) != 0) {
        dtls_failed(r);
        return;
      }
      r->deof_wanted = true;
    }
    pull_dtls(r);
  }
  if (r->deof_wanted && !r->deof_sent && r->dtx.len == 0) {
    r->deof_sent = true;
    r->moved++;
    r->t->ops->data_eof(r->t, r);
  }
}

/* start_dtls: RFC 4217 section 7: under PROT P (or when told to) the
 * client starts TLS on the data connection, as client, offering the control
 * connection's session - as soon as it is established (data_handshake=
 * early), or once the transfer command got its 1xx (late). */
static void start_dtls(runner *r) {
  r->dtls_wanted = false;
  r->dtls = runner_tls_new(r, r->data_tls_reuse ? runner_ctl_session(r) : NULL);
  if (r->dtls == NULL) {
    r->err = RUNNER_ERR_NOMEM;
    return;
  }
  if (tls_client_handshake(r->dtls) == TLS_CLIENT_FAILED)
    dtls_failed(r);
}

void runner_on_data_connected(runner *r) {
  /* D: send / D: close played while waiting for an active connection stay
   * queued in dplain / dclose_wanted. */
  tls_client_free(r->dtls);
  r->dtls = NULL;
  r->dtls_wanted = false;
  r->dc = DC_OPEN;
  r->dfailed = r->deof_wanted = r->deof_sent = r->dpeer_closed = false;
  r->drx_seen = r->dclear = false;
  ftps_buf_reset(&r->dtx);
  r->dbytes = 0;
  SHA256_Init(&r->dhash);
  bool tls = r->data_prot == DATA_PROT_TLS || (r->data_prot == DATA_PROT_AUTO && r->prot == 'P');
  if (!tls) {
    runner_data_output(r);
    return;
  }
  r->dtls_wanted = true;
  const runner_cmd *c = cmd_front_const(r);
  if (!r->data_hs_late || (c != NULL && c->prelim))
    start_dtls(r);
  runner_data_output(r);
}

/* read_dtls decrypts what the data TLS client can, into the hash. */
static void read_dtls(runner *r) {
  uint8_t buf[16384];
  for (;;) {
    size_t n = 0;
    int rc = tls_client_read(r->dtls, buf, sizeof(buf), &n);
    if (n > 0) {
      SHA256_Update(&r->dhash, buf, n);
      r->dbytes += n;
    }
    if (rc == TLS_CLIENT_CLOSED) {
      /* The server's close_notify: the end of the data, even if the server
       * keeps the socket open a while (vsftpd does). */
      r->dpeer_closed = true;
      return;
    }
    if (rc == TLS_CLIENT_FAILED) {
      dtls_failed(r);
      return;
    }
    if (n == 0)
      return;
  }
}

void runner_on_data(runner *r, const uint8_t *p, size_t n) {
  if (n == 0 || runner_stopped(r))
    return;
  r->moved += n;
  if (n > RUNNER_DATA_MAX - r->data_total) {
    runner_give_up_limit(r, "data");
    return;
  }
  r->data_total += n;
  if (r->dc != DC_OPEN || r->dfailed)
    return; /* nobody reads it */
  bool first = !r->drx_seen;
  r->drx_seen = true;
  if (first && r->dtls != NULL && !tls_client_handshake_done(r->dtls) &&
      !ftps_tls_record_header_ok(p, n < FTPS_TLS_RECORD_HEADER ? n : FTPS_TLS_RECORD_HEADER)) {
    /* The client started TLS and the server's first bytes are no TLS
     * record: it is sending in clear (a listing or file under PROT P).
     * The client reads it all to the end, so what moved in clear is
     * recorded ("E: data clear") and judged (PROT_P_DATA_IS_TLS). */
    tls_client_free(r->dtls);
    r->dtls = NULL;
    r->dclear = true;
  }
  if (r->dtls == NULL) {
    SHA256_Update(&r->dhash, p, n);
    r->dbytes += n;
    return;
  }
  int rc = tls_client_push(r->dtls, p, n);
  if (rc == TLS_CLIENT_NOMEM) {
    r->err = RUNNER_ERR_NOMEM;
    return;
  }
  if (rc != 0) {
    runner_give_up_limit(r, "tls buffer");
    return;
  }
  if (!tls_client_handshake_done(r->dtls)) {
    rc = tls_client_handshake(r->dtls);
    if (rc == TLS_CLIENT_FAILED) {
      dtls_failed(r);
      return;
    }
    if (rc != TLS_CLIENT_DONE)
      return;
    runner_count_handshake(r, r->dtls);
    runner_data_output(r); /* D: send bytes waited for the handshake */
  }
  read_dtls(r);
}

void runner_on_data_closed(runner *r) {
  if (r->dc == DC_OPEN && !r->dfailed) {
    if (r->dtls != NULL && !tls_client_handshake_done(r->dtls)) {
      tls_client_set_eof(r->dtls);
      tls_client_handshake(r->dtls);
      dtls_failed(r);
    } else if (r->dtls != NULL) {
      /* Everything that arrived was read as it came. A close without
       * close_notify is not an error here: the E: line says what the
       * client received, and the transfer's reply says how it ended. */
      read_dtls(r);
    }
    if (!r->dfailed && !runner_stopped(r)) {
      uint8_t md[SHA256_DIGEST_LENGTH];
      uint8_t ev[TRANSCRIPT_EVENT_MAX];
      SHA256_Final(md, &r->dhash);
      size_t len = transcript_event_format_data(ev, r->dtls != NULL, r->dbytes, md);
      runner_rec(r, TRANSCRIPT_E, ev, len);
    }
  }
  /* The transfer's final reply is due now, however late it comes. */
  runner_cmd *c = cmd_front(r);
  if (c != NULL && c->prelim)
    c->data_done = true;
  dc_reset(r);
  /* Each transfer needs a new PASV/EPSV/PORT/EPRT (the server forgets it). */
  r->offer = OFFER_NONE;
  runner_release_hold(r);
}

void runner_play_data(runner *r, const uint8_t *p, size_t n) {
  if (payload_is(p, n, "open")) {
    if (r->dc != DC_NONE) {
      runner_rec_comment(r, " skipped: data connection already open");
      return;
    }
    if (r->offer == OFFER_NONE) {
      runner_rec_event_now(r, TRANSCRIPT_EV_DATA_FAILED, "no data connection offered");
      return;
    }
    const char *why = "refused";
    int rc = r->t->ops->data_open(r->t, r, &why);
    if (rc == TRANSPORT_DATA_OPEN)
      runner_on_data_connected(r);
    else if (rc == TRANSPORT_DATA_PENDING)
      r->dc = DC_PENDING;
    else
      runner_rec_event_now(r, TRANSCRIPT_EV_DATA_FAILED, "%s", why);
    return;
  }
  if (r->dc == DC_NONE) {
    runner_rec_comment(r, " skipped: no data connection");
    return;
  }
  if (r->dclose_wanted) {
    runner_rec_comment(r, " skipped: data connection closed by the client");
    return;
  }
  if (payload_is(p, n, "close")) {
    r->dclose_wanted = true;
  } else if (n >= 5 && memcmp(p, "send ", 5) == 0) {
    if (ftps_buf_append(&r->dplain, p + 5, n - 5) != 0) {
      runner_give_up_limit(r, "data tx");
      return;
    }
  }
  runner_data_output(r);
}
