/* check_verdict.c - three outcomes per invariant and sequence (see check.h):
 * passed or violated only when the step that decides the invariant was
 * reached and judged, inconclusive (with the reason) when the sequence set
 * out to exercise it and never got there.
 *
 * Two walks: one over the client script (what the sequence tried: its
 * intent, assuming every handshake succeeds), one over the transcript
 * (what was decided: the command whose reply decides the invariant got its
 * final reply, the data connection carried bytes, the handshake ended). */
#include "check.h"

#include <stdlib.h>
#include <string.h>

#include "transcript_event.h"

#define VQ_MAX 64u /* commands awaiting a reply; more are not told apart */

/* --- the transcript's E: lines (one place to map them) --- */

typedef enum vev {
  VEV_OTHER,
  VEV_TIMEOUT,
  VEV_CLOSED,
  VEV_HS_OK,
  VEV_HS_STALLED,
  VEV_HS_FAILED,
  VEV_TLS_SHUTDOWN,
  VEV_TLS_ERROR,
  VEV_DATA_TLS,
  VEV_DATA_CLEAR,
  VEV_DATA_FAILED_PLAIN, /* the server answered the data ClientHello with non-TLS bytes */
  VEV_DATA_FAILED,
} vev;

static bool has_prefix(const transcript_step *st, const char *w) {
  size_t n = strlen(w);
  return st->len >= n && !memcmp(st->data, w, n);
}

/* event_kind maps an E: step to what the verdict needs, through the one
 * list of event names (transcript_event.h). */
static vev event_kind(const transcript_step *st, unsigned long long *bytes) {
  transcript_event ev;
  *bytes = 0;
  if (transcript_event_parse(st, &ev) != 0)
    return VEV_OTHER;
  switch (ev.kind) {
  case TRANSCRIPT_EV_TIMEOUT: return VEV_TIMEOUT;
  case TRANSCRIPT_EV_CLOSED: return VEV_CLOSED;
  case TRANSCRIPT_EV_HANDSHAKE_OK: return VEV_HS_OK;
  case TRANSCRIPT_EV_HANDSHAKE_FAILED:
    return ev.rest_len == 7 && !memcmp(ev.rest, "stalled", 7) ? VEV_HS_STALLED : VEV_HS_FAILED;
  case TRANSCRIPT_EV_TLS_SHUTDOWN: return VEV_TLS_SHUTDOWN;
  case TRANSCRIPT_EV_TLS_ERROR:
  case TRANSCRIPT_EV_TLS_ERROR_PLAINTEXT: return VEV_TLS_ERROR;
  case TRANSCRIPT_EV_DATA_FAILED:
    return ev.rest_len >= 20 && !memcmp(ev.rest, "wrong_version_number", 20)
               ? VEV_DATA_FAILED_PLAIN
               : VEV_DATA_FAILED;
  case TRANSCRIPT_EV_DATA_TLS:
  case TRANSCRIPT_EV_DATA_CLEAR:
    *bytes = ev.bytes_known ? ev.bytes : 1;
    return ev.kind == TRANSCRIPT_EV_DATA_TLS ? VEV_DATA_TLS : VEV_DATA_CLEAR;
  default: return VEV_OTHER;
  }
}

/* auth_then_more: a write holding an AUTH line and more bytes after it. */
static bool auth_then_more(const transcript_step *st) {
  for (size_t i = 0; i + 4 <= st->len; i++) {
    if ((i == 0 || st->data[i - 1] == '\n') && (st->data[i] | 0x20) == 'a' &&
        (st->data[i + 1] | 0x20) == 'u' && (st->data[i + 2] | 0x20) == 't' &&
        (st->data[i + 3] | 0x20) == 'h') {
      const uint8_t *lf = memchr(st->data + i, '\n', st->len - i);
      if (lf && (size_t)(lf - st->data) + 1 < st->len)
        return true;
    }
  }
  return false;
}

/* data_prot_tls: a "# client: ... data_prot=X" comment; returns 1 for tls,
 * 0 for another value, -1 when the comment sets no data_prot. */
static int data_prot_tls(const transcript_step *st) {
  if (!memmem(st->data, st->len, "client:", 7))
    return -1;
  const uint8_t *p = memmem(st->data, st->len, "data_prot=", 10);
  if (!p)
    return -1;
  size_t rest = st->len - (size_t)(p - st->data) - 10;
  return rest >= 3 && !memcmp(p + 10, "tls", 3);
}

static bool is_auth(model_event ev) {
  return ev == MODEL_EV_AUTH_TLS || ev == MODEL_EV_AUTH_SSL;
}

static bool is_prot(model_event ev) {
  return ev == MODEL_EV_PROT_C || ev == MODEL_EV_PROT_P || ev == MODEL_EV_PROT_S ||
         ev == MODEL_EV_PROT_E || ev == MODEL_EV_PROT_OTHER;
}

/* --- intent: what the script set out to exercise --- */

typedef struct intent {
  bool tls, auth_plain, prot_p, prot_after_p, pbsz, forced;
  bool *tried;
} intent;

static void intent_line(void *ctx, const uint8_t *line, size_t len, bool overlong) {
  intent *s = ctx;
  model_cmd cmd;
  (void)overlong;
  model_classify_line(line, len, &cmd);
  bool *t = s->tried;
  t[ORACLE_REPLY_SYNTAX] = t[ORACLE_ONE_FINAL_REPLY] = t[ORACLE_ALLOWED_CODE] = true;
  t[ORACLE_AUTH_234_ONLY_FOR_AUTH] = true;
  if (is_auth(cmd.ev)) {
    if (s->tls)
      t[ORACLE_NO_SECOND_234] = true;
    else {
      t[ORACLE_NO_PLAINTEXT_AFTER_234] = true;
      s->auth_plain = true;
    }
    s->prot_p = s->pbsz = false;
  }
  if (cmd.ev == MODEL_EV_REIN)
    s->prot_p = s->pbsz = false;
  if (cmd.ev == MODEL_EV_CCC && s->tls)
    t[ORACLE_TLS_REQUIRED_STAYS_TLS] = true;
  if ((model_event_flags(cmd.ev) & MODEL_F_AUTHN) && !s->tls)
    t[ORACLE_TLS_REQUIRED_LOGIN] = true;
  if (cmd.ev == MODEL_EV_PASS)
    t[ORACLE_NO_SECRET_ECHO] = true;
  if (cmd.ev == MODEL_EV_PBSZ) {
    s->pbsz = true;
    if (!s->tls)
      t[ORACLE_PROT_NEEDS_TLS] = true;
  }
  if (is_prot(cmd.ev)) {
    if (!s->tls)
      t[ORACLE_PROT_NEEDS_TLS] = true;
    if (!s->pbsz)
      t[ORACLE_PBSZ_BEFORE_PROT] = true;
    if (s->prot_p)
      s->prot_after_p = true;
    s->prot_p = cmd.ev == MODEL_EV_PROT_P || (s->prot_p && cmd.ev != MODEL_EV_PROT_C);
  }
}

static void note_intent(const transcript *script, bool *tried) {
  intent s;
  oracle_framer f;
  memset(&s, 0, sizeof(s));
  s.tried = tried;
  oracle_framer_reset(&f);
  for (size_t i = 0; i < script->n; i++) {
    const transcript_step *st = &script->steps[i];
    switch (st->kind) {
    case TRANSCRIPT_C:
    case TRANSCRIPT_R: {
      bool pending = s.auth_plain && !s.tls;
      if (pending) /* bytes after AUTH, before the handshake: not a ClientHello */
        tried[ORACLE_HANDSHAKE_FAIL_CLOSES] = true;
      if (auth_then_more(st))
        tried[ORACLE_NO_PIPELINED_INJECTION] = true;
      oracle_framer_feed(&f, st->data, st->len, intent_line, &s);
      if (st->kind == TRANSCRIPT_C)
        oracle_framer_feed(&f, (const uint8_t *)"\r\n", 2, intent_line, &s);
      break;
    }
    case TRANSCRIPT_T:
      if (has_prefix(st, "handshake")) {
        s.tls = true;
        s.auth_plain = false;
      } else if (has_prefix(st, "close_notify")) {
        if (s.tls)
          tried[ORACLE_TLS_REQUIRED_STAYS_TLS] = true;
        s.tls = false;
      }
      oracle_framer_reset(&f);
      break;
    case TRANSCRIPT_D:
      if (has_prefix(st, "open")) {
        if (s.prot_p)
          tried[ORACLE_PROT_P_DATA_IS_TLS] = true;
        if (s.prot_after_p || (s.forced && !s.prot_p))
          tried[ORACLE_PROT_LEVEL_KEPT] = true;
      }
      break;
    case TRANSCRIPT_COMMENT: {
      int d = data_prot_tls(st);
      if (d >= 0)
        s.forced = d == 1;
      break;
    }
    default: break;
    }
  }
}

/* --- what the transcript decided --- */

typedef struct vcmd {
  model_event ev;
  bool tls;     /* sent over TLS */
  bool pbsz_ok; /* an accepted PBSZ came before it (since AUTH/REIN) */
} vcmd;

typedef struct track {
  const model_config *cfg;
  bool *d; /* decided[] */
  bool tls, pbsz_ok, forced, in_multi;
  char prot; /* 'C' or 'P', as the client tracks it (runner.h) */
  unsigned multi_code;
  vcmd q[VQ_MAX];
  size_t qh, qn;
  bool after_234;        /* 234 came, the handshake has not ended */
  bool garbage;          /* client bytes after the 234, before the handshake */
  bool pipelined;        /* a write held more behind AUTH */
  bool pipelined_hs_ok;  /* ... and a handshake completed after it */
  bool refused_under_p;  /* a PROT refused while the level was P */
  bool empty_tls_data;   /* a data connection under TLS with 0 bytes received */
  bool client_cn;        /* the client sent close_notify: the server's reaction decides */
  bool pending_421;
  /* facts for the reason */
  bool timeout, stalled, hs_failed, login_refused, auth_refused, setup_refused, no_data,
      closed_early;
} track;

static void decide_general(bool *d) {
  d[ORACLE_REPLY_SYNTAX] = d[ORACLE_ONE_FINAL_REPLY] = d[ORACLE_ALLOWED_CODE] = true;
  d[ORACLE_AUTH_234_ONLY_FOR_AUTH] = true;
}

static void track_line(void *ctx, const uint8_t *line, size_t len, bool overlong) {
  track *t = ctx;
  model_cmd cmd;
  (void)overlong;
  model_classify_line(line, len, &cmd);
  if (t->after_234 && !t->tls)
    return; /* part of what should have been the TLS stream: no command */
  if (t->qn == VQ_MAX)
    return;
  vcmd *c = &t->q[(t->qh + t->qn++) % VQ_MAX];
  c->ev = cmd.ev;
  c->tls = t->tls;
  c->pbsz_ok = t->pbsz_ok;
}

/* data_decides: a data connection carried bytes (or completed a TLS
 * transfer): PROT_P_DATA_IS_TLS / PROT_LEVEL_KEPT were judged on it. */
static void data_decides(track *t) {
  if (t->prot == 'P')
    t->d[ORACLE_PROT_P_DATA_IS_TLS] = true;
  if (t->refused_under_p || (t->forced && t->prot == 'C'))
    t->d[ORACLE_PROT_LEVEL_KEPT] = true;
}

static void track_final(track *t, unsigned code) {
  if (t->pending_421) {
    t->d[ORACLE_REPLY_421_CLOSES] = true;
    t->pending_421 = false;
  }
  if (code == 421)
    t->pending_421 = true;
  if (t->qn == 0)
    return; /* an extra reply: the oracle judges it */
  vcmd c = t->q[t->qh];
  t->qh = (t->qh + 1) % VQ_MAX;
  t->qn--;
  if (c.ev == MODEL_EV_GREETING)
    return;
  bool ok = code / 100 == 2, refused = code >= 400;
  unsigned fl = model_event_flags(c.ev);
  bool *d = t->d;
  decide_general(d);
  if (t->pipelined_hs_ok && c.tls)
    d[ORACLE_NO_PIPELINED_INJECTION] = true;
  if (is_auth(c.ev)) {
    if (c.tls)
      d[ORACLE_NO_SECOND_234] = true;
    else if (code == 234) {
      t->after_234 = true;
      t->prot = 'C';
      t->pbsz_ok = false;
      t->qn = 0; /* pipelined behind it: never to be answered */
    } else {
      t->auth_refused = true;
    }
  }
  if (fl & MODEL_F_AUTHN) {
    if (!c.tls && (c.ev != MODEL_EV_USER || code / 100 != 3))
      d[ORACLE_TLS_REQUIRED_LOGIN] = true; /* the plaintext login got its answer */
    /* the given credentials go over TLS (or anywhere without tls-login);
     * a refused anonymous login is the model's business, not a reason */
    if (refused && c.ev != MODEL_EV_USER_ANON && (c.tls || !t->cfg->policy.tls_login))
      t->login_refused = true;
  }
  if (c.ev == MODEL_EV_PASS)
    d[ORACLE_NO_SECRET_ECHO] = true;
  if (c.ev == MODEL_EV_CCC && c.tls)
    d[ORACLE_TLS_REQUIRED_STAYS_TLS] = true;
  if (c.ev == MODEL_EV_PBSZ || is_prot(c.ev)) {
    if (!c.tls)
      d[ORACLE_PROT_NEEDS_TLS] = true;
    else if (refused)
      t->setup_refused = true;
  }
  if (c.ev == MODEL_EV_PBSZ && ok)
    t->pbsz_ok = true;
  if (is_prot(c.ev)) {
    if (!c.pbsz_ok)
      d[ORACLE_PBSZ_BEFORE_PROT] = true;
    if (ok && c.ev != MODEL_EV_PROT_OTHER)
      t->prot = c.ev == MODEL_EV_PROT_C ? 'C' : 'P';
    if (ok)
      t->refused_under_p = false;
    else if (t->prot == 'P')
      t->refused_under_p = true;
  }
  if (c.ev == MODEL_EV_REIN && ok) {
    t->prot = 'C';
    t->pbsz_ok = false;
  }
  if (fl & MODEL_F_XFER) {
    if (ok && t->empty_tls_data)
      data_decides(t);
    if (code == 425 || code == 426)
      t->no_data = true;
    t->empty_tls_data = false;
  }
}

static void track_server_line(track *t, const transcript_step *st) {
  const uint8_t *p = st->data;
  size_t n = st->len;
  if (t->client_cn)
    t->d[ORACLE_TLS_REQUIRED_STAYS_TLS] = true; /* the server's answer to it */
  bool coded = n >= 3 && p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' &&
               p[2] >= '0' && p[2] <= '9';
  unsigned code = coded ? (unsigned)(p[0] - '0') * 100 + (unsigned)(p[1] - '0') * 10 +
                              (unsigned)(p[2] - '0')
                        : 0;
  if (t->in_multi) {
    if (coded && code == t->multi_code && (n == 3 || p[3] == ' ')) {
      t->in_multi = false;
      if (code >= 200)
        track_final(t, code);
    }
    return;
  }
  if (!coded)
    return;
  if (n > 3 && p[3] == '-') {
    t->in_multi = true;
    t->multi_code = code;
    return;
  }
  if (code >= 200)
    track_final(t, code);
}

static void track_event(track *t, const transcript_step *st) {
  unsigned long long bytes;
  bool *d = t->d;
  vev k = event_kind(st, &bytes);
  if (t->pending_421 && (k == VEV_CLOSED || k == VEV_TIMEOUT))
    d[ORACLE_REPLY_421_CLOSES] = true;
  switch (k) {
  case VEV_TIMEOUT: t->timeout = true; break;
  case VEV_CLOSED:
    if (t->after_234) /* the server's answer to the bytes after 234 was to close */
      d[ORACLE_NO_PLAINTEXT_AFTER_234] = true;
    if (t->after_234 && t->pipelined) /* it refused what came behind AUTH: nothing ran */
      d[ORACLE_NO_PIPELINED_INJECTION] = true;
    if (t->after_234 && t->garbage)
      d[ORACLE_HANDSHAKE_FAIL_CLOSES] = true;
    if (t->client_cn)
      d[ORACLE_TLS_REQUIRED_STAYS_TLS] = true;
    break;
  case VEV_HS_OK:
    if (t->after_234)
      d[ORACLE_NO_PLAINTEXT_AFTER_234] = true;
    t->after_234 = false;
    t->tls = true;
    if (t->pipelined)
      t->pipelined_hs_ok = true;
    break;
  case VEV_HS_STALLED: t->stalled = true; break;
  case VEV_HS_FAILED:
    if (t->after_234)
      d[ORACLE_NO_PLAINTEXT_AFTER_234] = true;
    /* The client's ClientHello was clean: a handshake that fails right
     * after a pipelined AUTH failed on the pipelined bytes, which the server
     * took as TLS (vsftpd: "wrong version number"), so they never ran as a
     * command. (A stalled one decides nothing: handshake timeout.) */
    if (t->after_234 && t->pipelined)
      d[ORACLE_NO_PIPELINED_INJECTION] = true;
    d[ORACLE_HANDSHAKE_FAIL_CLOSES] = true;
    t->hs_failed = true;
    t->after_234 = false;
    t->tls = false;
    break;
  case VEV_TLS_SHUTDOWN:
    if (t->client_cn)
      d[ORACLE_TLS_REQUIRED_STAYS_TLS] = true;
    t->tls = false;
    break;
  case VEV_TLS_ERROR: t->tls = false; break;
  case VEV_DATA_TLS:
    if (bytes > 0)
      data_decides(t);
    else
      t->empty_tls_data = true;
    break;
  case VEV_DATA_CLEAR:
    if (bytes > 0)
      data_decides(t);
    else
      t->no_data = true;
    break;
  case VEV_DATA_FAILED_PLAIN: /* non-TLS bytes on a TLS data connection */
    data_decides(t);
    break;
  case VEV_DATA_FAILED: t->no_data = true; break;
  case VEV_OTHER: break;
  }
}

static check_reason note_decided(const model_config *cfg, const transcript *got, bool *decided) {
  track t;
  oracle_framer f;
  memset(&t, 0, sizeof(t));
  t.cfg = cfg;
  t.d = decided;
  t.prot = 'C';
  t.q[0].ev = MODEL_EV_GREETING; /* the greeting answers the connection */
  t.qn = 1;
  oracle_framer_reset(&f);
  for (size_t i = 0; i < got->n; i++) {
    const transcript_step *st = &got->steps[i];
    switch (st->kind) {
    case TRANSCRIPT_C:
    case TRANSCRIPT_R:
      if (auth_then_more(st) && !t.tls)
        t.pipelined = true;
      if (t.after_234 && !t.tls)
        t.garbage = true; /* bytes where the ClientHello belongs, whole lines or not */
      oracle_framer_feed(&f, st->data, st->len, track_line, &t);
      if (st->kind == TRANSCRIPT_C)
        oracle_framer_feed(&f, (const uint8_t *)"\r\n", 2, track_line, &t);
      break;
    case TRANSCRIPT_T:
      if (has_prefix(st, "close_notify")) {
        if (t.tls)
          t.client_cn = true;
        t.tls = false;
      }
      oracle_framer_reset(&f);
      break;
    case TRANSCRIPT_S: track_server_line(&t, st); break;
    case TRANSCRIPT_E: track_event(&t, st); break;
    case TRANSCRIPT_COMMENT: {
      int dp = data_prot_tls(st);
      if (dp >= 0)
        t.forced = dp == 1;
      if (has_prefix(st, " not played: connection closed"))
        t.closed_early = true;
      break;
    }
    default: break;
    }
  }
  /* why the undecided ones were not reached, the most telling first */
  return t.stalled         ? CHECK_REASON_HANDSHAKE_TIMEOUT
         : t.timeout       ? CHECK_REASON_TIMEOUT
         : t.hs_failed     ? CHECK_REASON_HANDSHAKE_FAILED
         : t.login_refused ? CHECK_REASON_LOGIN_REFUSED
         : t.auth_refused  ? CHECK_REASON_AUTH_REFUSED
         : t.setup_refused ? CHECK_REASON_SETUP_FAILED
         : t.no_data       ? CHECK_REASON_NO_DATA
         : t.closed_early  ? CHECK_REASON_CLOSED_EARLY
                           : CHECK_REASON_NOT_REACHED;
}

bool check_not_applicable(const model_config *cfg, oracle_invariant inv) {
  /* without a TLS-required policy these two state nothing */
  return !cfg->policy.tls_login &&
         (inv == ORACLE_TLS_REQUIRED_LOGIN || inv == ORACLE_TLS_REQUIRED_STAYS_TLS);
}

void check_verdicts(const model_config *cfg, const transcript *script, const transcript *got,
                    const bool *violated, check_verdict *v, check_reason *why) {
  bool tried[ORACLE_INVARIANT_COUNT], decided[ORACLE_INVARIANT_COUNT];
  memset(tried, 0, sizeof(tried));
  memset(decided, 0, sizeof(decided));
  note_intent(script, tried);
  check_reason r = note_decided(cfg, got, decided);
  for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++) {
    why[i] = CHECK_REASON_NONE;
    if (violated[i])
      v[i] = CHECK_VERDICT_VIOLATED;
    else if (check_not_applicable(cfg, (oracle_invariant)i))
      v[i] = CHECK_VERDICT_NONE;
    else if (decided[i])
      v[i] = CHECK_VERDICT_PASSED;
    else if (tried[i]) {
      v[i] = CHECK_VERDICT_INCONCLUSIVE;
      why[i] = r;
    } else
      v[i] = CHECK_VERDICT_NONE;
  }
}

const char *check_reason_name(check_reason r) {
  switch (r) {
  case CHECK_REASON_NONE: return "";
  case CHECK_REASON_TIMEOUT: return "timeout";
  case CHECK_REASON_LOGIN_REFUSED: return "login refused";
  case CHECK_REASON_SETUP_FAILED: return "setup failed";
  case CHECK_REASON_NO_DATA: return "no data moved";
  case CHECK_REASON_HANDSHAKE_FAILED: return "handshake failed";
  case CHECK_REASON_HANDSHAKE_TIMEOUT: return "handshake timeout";
  case CHECK_REASON_CLOSED_EARLY: return "connection closed early";
  case CHECK_REASON_AUTH_REFUSED: return "AUTH refused";
  case CHECK_REASON_NO_CONNECTION: return "no connection";
  case CHECK_REASON_NOT_REACHED: return "not reached";
  case CHECK_REASON_COUNT: break;
  }
  return "?";
}

const char *check_verdict_name(check_verdict v) {
  switch (v) {
  case CHECK_VERDICT_NONE: return "none";
  case CHECK_VERDICT_PASSED: return "passed";
  case CHECK_VERDICT_VIOLATED: return "violated";
  case CHECK_VERDICT_INCONCLUSIVE: return "inconclusive";
  }
  return "?";
}
