/* oracle.c - the transcript monitor (see oracle.h). */
#include "oracle.h"
#include "transcript_event.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_MAX 1024u   /* commands awaiting a reply */
#define SECRET_MAX 256u   /* bytes of the last PASS argument kept */
#define SECRET_MIN 3u     /* shorter passwords match too much text to judge */
#define SAID_MAX (64u * 1024u) /* client command text kept to tell an echo from a leak */

/* Why the server is expected to close (state close == CLOSING). */
typedef enum close_reason {
  CLOSE_NONE = 0,
  CLOSE_QUIT,       /* 221 */
  CLOSE_421,        /* a 421 reply */
  CLOSE_HS_FAILED,  /* failed handshake */
  CLOSE_STAYS_TLS,  /* client ended TLS while logged in under a TLS policy */
  CLOSE_TLS_ERROR,  /* TLS broke on the control connection */
} close_reason;

typedef struct pending {
  model_event ev;
  bool poisoned; /* sent before the handshake finished: never to be executed */
  bool pre_seen; /* a 1xx arrived for it */
  bool stale;    /* sent inside a TLS stream the server then ended: may be dropped */
  uint32_t cand; /* PASS: its argument's generation in oracle.cands (0: none) */
} pending;

/* The argument of a PASS awaiting its reply: it becomes the secret if the
 * reply is 2xx. One per PASS, since PASS lines can be pipelined (a second
 * PASS sent before the first one's 230 must not become the secret). */
#define CAND_SLOTS 8u
typedef struct pass_cand {
  uint8_t arg[SECRET_MAX];
  size_t len;
  bool said;     /* the client itself sent these bytes in another command */
  uint32_t gen;  /* which PASS owns the slot */
} pass_cand;

struct oracle {
  model_config cfg;
  model_config permissive; /* the rfc profile: to follow a server past a violation */
  bool all, done;
  model_state st;
  model_state st_before; /* where the next row is taken from (oracle_state_before) */
  size_t step;

  pending queue[QUEUE_MAX];
  size_t q_head, q_len;
  bool q_overflow;

  oracle_framer framer;

  /* reply assembly */
  bool in_multi;
  unsigned multi_code;
  bool reply_fallback; /* a line of this reply says "fallback" */

  /* The command that got the last final reply, for a reply that answers
   * none: the server answered that one more than once. */
  model_event last_ev;
  unsigned last_code, last_answers;
  bool have_last;

  unsigned injected; /* commands sent before the handshake finished */
  /* The reply being assembled came in plaintext between 234 and the end of
   * the handshake; first_line_checks judged it (see there). */
  bool negotiating_reply;
  bool hs_failed, hs_421_seen, hs_closes_reported;
  bool server_ended_tls; /* "E: tls shutdown": the server's close_notify came */
  /* "E: tls after close_notify": after the client's close_notify, replies
   * still come inside the server's TLS stream (until "E: tls shutdown",
   * "E: tls unterminated" or the close). */
  bool tls_draining;
  close_reason closing;
  bool prot_refused_under_p; /* a PROT was refused while PROT P held */
  bool prot_kept_reported;
  /* A data connection carried bytes in clear under PROT P: a violation once
   * the transfer command gets 2xx (see the "data" event). */
  bool clear_data;

  uint8_t secret[SECRET_MAX]; /* the argument of the last PASS accepted */
  size_t secret_len;
  pass_cand cands[CAND_SLOTS]; /* PASS arguments until their replies */
  uint32_t cand_gen;
  uint8_t fixed[SECRET_MAX]; /* oracle_set_secret: the account's password */
  size_t fixed_len;
  bool fixed_said; /* the client wrote it in a command other than PASS */
  /* NO_SECRET_ECHO judges leaks, not echoes: once the client itself sent
   * the secret in another command (MKD <password>, USER <password>), the
   * server may name it back. |said| keeps the text of the non-PASS lines,
   * for a secret that a later PASS sets. */
  bool secret_said;
  uint8_t *said;
  size_t said_len, said_cap;
  bool said_lost; /* more than SAID_MAX bytes: what was said is not known */

  /* Without |all| one violation ends judging, so one slot (viol_one) does;
   * the full array (150 KB) is allocated only with |all|: zeroing it cost a
   * fuzz_sequence input more than its TLS handshake. */
  oracle_violation *viol;
  size_t viol_cap;
  oracle_violation viol_one;
  size_t n_viol;

  uint32_t cover[MODEL_ROW_COUNT];
  oracle_cover_fn cover_fn;
  void *cover_ctx;
};

/* --- invariant names --- */

static const char *const inv_names[ORACLE_INVARIANT_COUNT] = {
#define X(name, sev) [ORACLE_##name] = #name,
    ORACLE_INVARIANTS(X)
#undef X
};
static const oracle_severity inv_sev[ORACLE_INVARIANT_COUNT] = {
#define X(name, sev) [ORACLE_##name] = ORACLE_##sev,
    ORACLE_INVARIANTS(X)
#undef X
};

const char *oracle_invariant_name(oracle_invariant inv) {
  return (unsigned)inv < ORACLE_INVARIANT_COUNT ? inv_names[inv] : "?";
}

oracle_severity oracle_invariant_severity(oracle_invariant inv) {
  return (unsigned)inv < ORACLE_INVARIANT_COUNT ? inv_sev[inv] : ORACLE_CONFORMANCE;
}

int oracle_invariant_from_name(const char *name) {
  for (int i = 0; i < ORACLE_INVARIANT_COUNT; i++)
    if (!strcmp(inv_names[i], name))
      return i;
  return -1;
}

/* --- lifecycle --- */

static void queue_push(oracle *o, model_event ev) {
  if (o->q_len == QUEUE_MAX) {
    o->q_overflow = true;
    return;
  }
  pending *p = &o->queue[(o->q_head + o->q_len) % QUEUE_MAX];
  p->ev = ev;
  p->poisoned = false;
  p->pre_seen = false;
  p->stale = false;
  p->cand = 0;
  o->q_len++;
}

/* drop_stale forgets the commands the client pipelined behind a REIN or CCC
 * inside the TLS stream the server ended with it: the server owes them no
 * reply once the client has moved on (it may have dropped them with the
 * rest of that stream, or answered them before this point). */
static void drop_stale(oracle *o) {
  while (o->q_len && o->queue[o->q_head].stale) {
    o->q_head = (o->q_head + 1) % QUEUE_MAX;
    o->q_len--;
  }
}

static pending *queue_head(oracle *o) { return o->q_len ? &o->queue[o->q_head] : NULL; }

static void queue_pop(oracle *o) {
  if (o->q_len) {
    o->q_head = (o->q_head + 1) % QUEUE_MAX;
    o->q_len--;
  }
}

oracle *oracle_new(const model_config *cfg, bool all) {
  oracle *o = calloc(1, sizeof(*o));
  if (!o)
    return NULL;
  o->cfg = *cfg;
  o->permissive = model_config_make(MODEL_PROFILE_RFC, NULL);
  o->all = all;
  o->viol = &o->viol_one;
  o->viol_cap = 1;
  if (all) {
    o->viol = malloc(ORACLE_VIOLATIONS_MAX * sizeof(*o->viol));
    o->viol_cap = ORACLE_VIOLATIONS_MAX;
    if (!o->viol) {
      free(o);
      return NULL;
    }
  }
  o->st = model_initial();
  if (cfg->implicit_tls)
    o->st.sec = MODEL_SEC_SECURE; /* TLS from the first byte (implicit FTPS) */
  oracle_framer_reset(&o->framer);
  queue_push(o, MODEL_EV_GREETING); /* the greeting answers the connection */
  return o;
}

void oracle_free(oracle *o) {
  if (o) {
    free(o->said);
    if (o->viol != &o->viol_one)
      free(o->viol);
  }
  free(o);
}

size_t oracle_violation_count(const oracle *o) { return o->n_viol; }

const oracle_violation *oracle_violation_at(const oracle *o, size_t i) {
  return i < o->n_viol && i < o->viol_cap ? &o->viol[i] : NULL;
}

const model_state *oracle_state(const oracle *o) { return &o->st; }
const model_state *oracle_state_before(const oracle *o) { return &o->st_before; }
const model_config *oracle_config(const oracle *o) { return &o->cfg; }
const uint32_t *oracle_coverage(const oracle *o) { return o->cover; }

void oracle_set_cover_fn(oracle *o, oracle_cover_fn fn, void *ctx) {
  o->cover_fn = fn;
  o->cover_ctx = ctx;
}

static void covered(oracle *o, int row) {
  if (row < 0 || row >= MODEL_ROW_COUNT)
    return;
  if (o->cover[row] < UINT32_MAX)
    o->cover[row]++;
  if (o->cover_fn)
    o->cover_fn(o->cover_ctx, o, row);
  o->st_before = o->st; /* a next row in the same step starts here */
}

/* --- reporting --- */

static void violation(oracle *o, oracle_invariant inv, const model_codes *expected,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void violation(oracle *o, oracle_invariant inv, const model_codes *expected,
                      const char *fmt, ...) {
  if (o->done)
    return;
  if (o->n_viol < o->viol_cap) {
    oracle_violation *v = &o->viol[o->n_viol];
    va_list ap;
    v->inv = inv;
    v->step = o->step;
    va_start(ap, fmt);
    vsnprintf(v->why, sizeof(v->why), fmt, ap);
    va_end(ap);
    model_format_state(&o->st, v->state, sizeof(v->state));
    v->expected[0] = 0;
    if (expected)
      model_codes_format(expected, v->expected, sizeof(v->expected));
  }
  o->n_viol++;
  if (!o->all)
    o->done = true;
}

void oracle_format_violation(const oracle_violation *v, char *buf, size_t buf_len) {
  if (v->expected[0])
    snprintf(buf, buf_len, "VIOLATION %s step %zu: %s (state: %s; expected: %s)",
             oracle_invariant_name(v->inv), v->step, v->why, v->state, v->expected);
  else
    snprintf(buf, buf_len, "VIOLATION %s step %zu: %s (state: %s)",
             oracle_invariant_name(v->inv), v->step, v->why, v->state);
}

/* --- client bytes --- */

/* remember_said keeps the text of a command line other than PASS. */
static void remember_said(oracle *o, const uint8_t *line, size_t len) {
  if (o->secret_len >= SECRET_MIN && len >= o->secret_len &&
      memmem(line, len, o->secret, o->secret_len))
    o->secret_said = true;
  for (size_t i = 0; i < CAND_SLOTS; i++) {
    pass_cand *c = &o->cands[i];
    if (c->gen != 0 && c->len >= SECRET_MIN && len >= c->len && memmem(line, len, c->arg, c->len))
      c->said = true;
  }
  if (o->fixed_len >= SECRET_MIN && len >= o->fixed_len && memmem(line, len, o->fixed, o->fixed_len))
    o->fixed_said = true;
  if (o->said_lost || len == 0)
    return;
  if (len + 1 > SAID_MAX - o->said_len) {
    o->said_lost = true;
    return;
  }
  if (o->said_len + len + 1 > o->said_cap) {
    size_t cap = o->said_cap ? o->said_cap : 256;
    while (cap < o->said_len + len + 1)
      cap *= 2;
    uint8_t *p = realloc(o->said, cap);
    if (!p) {
      o->said_lost = true;
      return;
    }
    o->said = p;
    o->said_cap = cap;
  }
  uint8_t *p = o->said;
  memcpy(p + o->said_len, line, len);
  p[o->said_len + len] = '\n'; /* no match across two lines */
  o->said_len += len + 1;
}

static void on_line(void *ctx, const uint8_t *line, size_t len, bool overlong) {
  oracle *o = ctx;
  model_cmd cmd;
  model_classify_line(line, len, &cmd);
  if (overlong)
    cmd.ev = MODEL_EV_BADLINE;
  if (cmd.ev == MODEL_EV_PASS) {
    /* NO_SECRET_ECHO: the password sent becomes a secret once the server
     * accepts it (final_reply); a refused one may be any word, and a
     * server's own text ("530 TLS required") must not match it. */
    size_t n = cmd.arg ? cmd.arg_len : 0;
    if (n > SECRET_MAX)
      n = SECRET_MAX;
    uint32_t gen = ++o->cand_gen;
    if (gen == 0)
      gen = ++o->cand_gen; /* 0 means none */
    pass_cand *c = &o->cands[gen % CAND_SLOTS];
    if (n)
      memcpy(c->arg, cmd.arg, n);
    c->len = n;
    c->gen = gen;
    c->said = o->said_lost ||
              (o->said_len >= n && n > 0 && memmem(o->said, o->said_len, c->arg, n) != NULL);
    size_t before = o->q_len;
    queue_push(o, cmd.ev);
    if (o->q_len > before)
      o->queue[(o->q_head + o->q_len - 1) % QUEUE_MAX].cand = gen;
    return;
  }
  remember_said(o, line, len);
  queue_push(o, cmd.ev);
}

static void end_tls_by_close_notify(oracle *o);

static void client_bytes(oracle *o, const uint8_t *p, size_t n, bool add_crlf) {
  if (o->st.close == MODEL_CLOSED)
    return;
  drop_stale(o);
  if (o->st.sec == MODEL_SEC_NEGOTIATING) {
    /* Between 234 and the end of the handshake the client's bytes belong to
     * the TLS stream; a plaintext command line here must never run. Bytes
     * that are no TLS handshake record fail the handshake on the server's
     * side (RFC 4217 section 10.1 then allows one unprotected 421). */
    if (add_crlf || memchr(p, '\n', n))
      o->injected++;
    return;
  }
  if (o->server_ended_tls && o->st.sec == MODEL_SEC_SECURE) {
    /* The server sent its close_notify (after CCC/REIN) and the client
     * writes on without one of its own, in plaintext (curl does; so does the
     * runner, DESIGN section 4): TLS has ended as if by a close_notify
     * exchange. */
    end_tls_by_close_notify(o);
  }
  oracle_framer_feed(&o->framer, p, n, on_line, o);
  if (add_crlf)
    oracle_framer_feed(&o->framer, (const uint8_t *)"\r\n", 2, on_line, o);
}

/* poison_queue marks every command queued behind the AUTH just answered 234:
 * they were sent in plaintext before TLS and are the start of the TLS stream. */
static void poison_queue(oracle *o) {
  for (size_t i = 0; i < o->q_len; i++)
    o->queue[(o->q_head + i) % QUEUE_MAX].poisoned = true;
  oracle_framer_reset(&o->framer);
}

/* drop_poisoned removes poisoned commands once the handshake is over,
 * counting them: a reply to one of them later is an injection. */
static void drop_poisoned(oracle *o) {
  size_t kept = 0;
  pending tmp[QUEUE_MAX];
  for (size_t i = 0; i < o->q_len; i++) {
    pending *p = &o->queue[(o->q_head + i) % QUEUE_MAX];
    if (p->poisoned)
      o->injected++;
    else
      tmp[kept++] = *p;
  }
  for (size_t i = 0; i < kept; i++)
    o->queue[i] = tmp[i];
  o->q_head = 0;
  o->q_len = kept;
}

/* --- replies --- */

static bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

static bool mentions_fallback(const uint8_t *p, size_t n) {
  static const char w[] = "fallback";
  for (size_t i = 0; i + 8 <= n; i++) {
    size_t k = 0;
    while (k < 8 && (p[i + k] | 0x20) == (uint8_t)w[k])
      k++;
    if (k == 8)
      return true;
  }
  return false;
}

static bool ev_is_prot(model_event ev) {
  return ev == MODEL_EV_PROT_C || ev == MODEL_EV_PROT_P || ev == MODEL_EV_PROT_S ||
         ev == MODEL_EV_PROT_E || ev == MODEL_EV_PROT_OTHER;
}

/* classify names the invariant a disallowed (|ev|, |code|) breaks. */
static oracle_invariant classify(const oracle *o, model_event ev, unsigned code) {
  const model_state *s = &o->st;
  unsigned fl = model_event_flags(ev);
  bool auth_tls = ev == MODEL_EV_AUTH_TLS || ev == MODEL_EV_AUTH_SSL;
  bool sx = s->sec == MODEL_SEC_SECURE || s->ccc == MODEL_YES;
  if (code == 234)
    return (auth_tls && s->sec == MODEL_SEC_SECURE) ? ORACLE_NO_SECOND_234
                                                    : ORACLE_AUTH_234_ONLY_FOR_AUTH;
  if ((fl & MODEL_F_AUTHN) && code >= 200 && code < 400 && o->cfg.policy.tls_login &&
      s->sec != MODEL_SEC_SECURE)
    return ORACLE_TLS_REQUIRED_LOGIN;
  if (ev == MODEL_EV_CCC && code / 100 == 2 && o->cfg.policy.tls_login)
    return ORACLE_TLS_REQUIRED_STAYS_TLS;
  if ((ev == MODEL_EV_PBSZ || ev_is_prot(ev)) && code / 100 == 2) {
    if (!sx)
      return ORACLE_PROT_NEEDS_TLS;
    if (ev_is_prot(ev) && s->pbsz != MODEL_YES)
      return ORACLE_PBSZ_BEFORE_PROT;
  }
  return ORACLE_ALLOWED_CODE;
}

/* closing_reply judges a reply that arrives when the server should have
 * closed. Returns true if the reply is to be ignored otherwise. */
static void closing_reply(oracle *o, unsigned code) {
  switch (o->closing) {
  case CLOSE_421:
    violation(o, ORACLE_REPLY_421_CLOSES, NULL, "reply %u after a 421: the server did not close",
              code);
    break;
  case CLOSE_QUIT:
    violation(o, ORACLE_ONE_FINAL_REPLY, NULL, "reply %u after 221: the server did not close",
              code);
    break;
  case CLOSE_STAYS_TLS:
    violation(o, ORACLE_TLS_REQUIRED_STAYS_TLS, NULL,
              "reply %u in plaintext after the client ended TLS while logged in", code);
    break;
  case CLOSE_HS_FAILED: /* judged per line in server_line */
  case CLOSE_TLS_ERROR:
  case CLOSE_NONE:
    break;
  }
  /* Follow the server: it kept the session open. */
  o->closing = CLOSE_NONE;
  o->st.close = MODEL_OPEN;
}

static void after_take(oracle *o, model_event ev, unsigned code, int row, model_state before) {
  covered(o, row);
  if (o->st.close == MODEL_CLOSING && before.close == MODEL_OPEN)
    o->closing = code == 421 ? CLOSE_421 : CLOSE_QUIT;
  if (before.sec != MODEL_SEC_NEGOTIATING && o->st.sec == MODEL_SEC_NEGOTIATING)
    poison_queue(o);
  if (ev_is_prot(ev)) {
    if (code / 100 == 2) {
      o->prot_refused_under_p = false;
      o->prot_kept_reported = false;
    } else if (before.prot == MODEL_PROT_P) {
      o->prot_refused_under_p = true;
      if (o->reply_fallback && !o->prot_kept_reported) {
        o->prot_kept_reported = true;
        violation(o, ORACLE_PROT_LEVEL_KEPT, NULL,
                  "%s refused with %u announcing a fallback from PROT P", model_event_name(ev),
                  code);
      }
    }
  }
  if (before.prot != o->st.prot && !ev_is_prot(ev)) {
    o->prot_refused_under_p = false; /* AUTH/REIN reset the level */
    o->prot_kept_reported = false;
  }
}

static void clear_data_under_p(oracle *o, const char *why) {
  if (o->prot_refused_under_p && !o->prot_kept_reported) {
    o->prot_kept_reported = true;
    violation(o, ORACLE_PROT_LEVEL_KEPT, NULL,
              "data in clear after a refused PROT: the level fell back from P");
  }
  violation(o, ORACLE_PROT_P_DATA_IS_TLS, NULL, "%s", why);
}

/* abor_refused_at_once: a final reply during a transfer that answers the
 * ABOR sent right behind it, not the transfer. A server reads an ABOR while
 * the transfer runs (RFC 959 section 4.1.3: ABOR is the one command that
 * does not wait for the transfer); refusing it (500-502: "ABOR x") changes
 * nothing (RFC 959 section 4.2), so the transfer goes on and its final
 * reply comes later. Only a refusal the transfer itself could not give is
 * taken as the ABOR's: a successful ABOR ends the transfer first (426 or
 * 226, then the ABOR's 226), which the queue's order already pairs. */
static bool abor_refused_at_once(oracle *o, unsigned code) {
  pending *h = queue_head(o);
  if (h == NULL || h->poisoned || !h->pre_seen || !(model_event_flags(h->ev) & MODEL_F_XFER) ||
      o->q_len < 2 || code / 100 != 5)
    return false;
  pending *next = &o->queue[(o->q_head + 1) % QUEUE_MAX];
  if (next->ev != MODEL_EV_ABOR || next->poisoned)
    return false;
  model_codes after, abor_fin;
  model_allowed(&o->cfg, &o->st, h->ev, NULL, NULL, &after);
  if (model_codes_has(&after, code))
    return false;
  model_allowed(&o->cfg, &o->st, MODEL_EV_ABOR, NULL, &abor_fin, NULL);
  if (!model_codes_has(&abor_fin, code))
    return false;
  /* the ABOR leaves the queue; the transfer stays at its head */
  *next = *h;
  queue_pop(o);
  return true;
}

/* final_reply judges a complete final reply (2xx-5xx). */
static void final_reply(oracle *o, unsigned code) {
  if (o->closing != CLOSE_NONE && o->st.close == MODEL_CLOSING)
    closing_reply(o, code);
  if (!o->negotiating_reply && abor_refused_at_once(o, code))
    return;
  pending *h = queue_head(o);
  if (o->negotiating_reply) {
    /* judged by first_line_checks; it answers the oldest pipelined command */
    if (h && h->poisoned)
      queue_pop(o);
    return;
  }
  if (!h) {
    if (code == 421) { /* unsolicited 421: allowed, then close */
      o->st.close = MODEL_CLOSING;
      o->closing = CLOSE_421;
      return;
    }
    if (o->injected)
      violation(o, ORACLE_NO_PIPELINED_INJECTION, NULL,
                "reply %u answers a command sent before the TLS handshake finished", code);
    else if (code == 234)
      violation(o, ORACLE_AUTH_234_ONLY_FOR_AUTH, NULL, "unsolicited 234");
    else if (o->have_last && !o->q_overflow) {
      /* replies are paired in order: this one is another to the command
       * that got the previous final reply (STOU before login: 530, 500) */
      o->last_answers++;
      if (o->last_answers == 2)
        violation(o, ORACLE_ONE_FINAL_REPLY, NULL, "%s answered twice: %u then %u",
                  model_event_name(o->last_ev), o->last_code, code);
      else
        violation(o, ORACLE_ONE_FINAL_REPLY, NULL, "%s answered %u times: %u first, %u now",
                  model_event_name(o->last_ev), o->last_answers, o->last_code, code);
    } else if (!o->q_overflow)
      violation(o, ORACLE_ONE_FINAL_REPLY, NULL, "reply %u answers no command", code);
    return;
  }
  if (!h->poisoned) {
    o->have_last = true;
    o->last_ev = h->ev;
    o->last_code = code;
    o->last_answers = 1;
  }
  if (h->poisoned) {
    violation(o, ORACLE_NO_PIPELINED_INJECTION, NULL,
              "%s, pipelined behind AUTH, was answered %u", model_event_name(h->ev), code);
    queue_pop(o);
    return;
  }
  model_event ev = h->ev;
  bool pre = h->pre_seen;
  uint32_t cand = h->cand;
  queue_pop(o);
  if (o->clear_data && (model_event_flags(ev) & MODEL_F_XFER)) {
    o->clear_data = false;
    if (code / 100 == 2)
      clear_data_under_p(o, "data moved in clear under PROT P");
  }
  model_state before = o->st;
  if (before.prot == MODEL_PROT_P && o->prot_refused_under_p && !o->prot_kept_reported && !pre &&
      (model_event_flags(ev) & MODEL_F_XFER) && (code == 521 || code == 522 || code == 534)) {
    /* What a reply reveals of hidden state: a transfer refused for its
     * protection level right away, after a PROT was refused while P held,
     * says the server's level is no longer P (a refused PROT must keep the
     * level; the refusal itself may be allowed for other reasons). */
    o->prot_kept_reported = true;
    violation(o, ORACLE_PROT_LEVEL_KEPT, NULL,
              "%s refused with %u (protection level) after a refused PROT: the level fell "
              "back from P",
              model_event_name(ev), code);
  }
  int row = model_take(&o->cfg, &o->st, ev, code, pre);
  if (row < 0) {
    model_codes fin, after;
    model_allowed(&o->cfg, &before, ev, NULL, &fin, &after);
    oracle_invariant inv = classify(o, ev, code);
    if (inv == ORACLE_ALLOWED_CODE && o->injected) {
      /* e.g. PWD answered 257 with no login sent over TLS: the state was
       * set by commands pipelined behind AUTH (an injected login) */
      inv = ORACLE_NO_PIPELINED_INJECTION;
      violation(o, inv, pre ? &after : &fin,
                "%s answered %u%s, as if %u command(s) pipelined behind AUTH had run",
                model_event_name(ev), code, pre ? " after a preliminary reply" : "",
                o->injected);
    } else {
      violation(o, inv, pre ? &after : &fin, "%s answered %u%s", model_event_name(ev), code,
                pre ? " after a preliminary reply" : "");
    }
    /* Follow the server's choice where the RFCs give it a meaning. */
    row = model_take(&o->permissive, &o->st, ev, code, pre);
    if (row < 0 && code == 234)
      o->st.sec = o->st.sec == MODEL_SEC_PLAIN ? MODEL_SEC_NEGOTIATING : o->st.sec;
    if (row < 0 && code == 421)
      o->st.close = MODEL_CLOSING;
    if (row < 0 && code / 100 == 2 && ev_is_prot(ev) && ev != MODEL_EV_PROT_OTHER) {
      /* A PROT accepted out of order (without PBSZ, before TLS) still sets
       * the level the server uses from now on, as a client takes it. */
      o->st.prot = ev == MODEL_EV_PROT_C ? MODEL_PROT_C : MODEL_PROT_P;
      o->prot_refused_under_p = false;
      o->prot_kept_reported = false;
    }
    if (row >= 0)
      after_take(o, ev, code, -1, before);
    else if (o->st.close == MODEL_CLOSING && before.close == MODEL_OPEN)
      o->closing = CLOSE_421;
    else if (before.sec != MODEL_SEC_NEGOTIATING && o->st.sec == MODEL_SEC_NEGOTIATING)
      poison_queue(o);
    return;
  }
  /* A correct reply after the handshake: the server did not run what was
   * pipelined before it (unless more replies come). */
  after_take(o, ev, code, row, before);
  /* An anonymous login takes any word as its "password" (an e-mail address
   * by custom): nothing secret to leak. */
  const pass_cand *c = cand != 0 ? &o->cands[cand % CAND_SLOTS] : NULL;
  if (ev == MODEL_EV_PASS && code / 100 == 2 && c != NULL && c->gen == cand && c->len > 0 &&
      o->st.anon != MODEL_YES) {
    /* A slot taken over by the ninth PASS pipelined since is lost: no
     * secret rather than the wrong one. */
    memcpy(o->secret, c->arg, c->len);
    o->secret_len = c->len;
    o->secret_said = c->said;
  }
}

static void prelim_reply(oracle *o, unsigned code) {
  pending *h = queue_head(o);
  if (!h) {
    if (!o->negotiating_reply) /* else judged by first_line_checks */
      violation(o, ORACLE_ONE_FINAL_REPLY, NULL, "preliminary %u answers no command", code);
    return;
  }
  if (h->poisoned) {
    if (o->negotiating_reply)
      return; /* judged by first_line_checks */
    violation(o, ORACLE_NO_PIPELINED_INJECTION, NULL,
              "%s, pipelined behind AUTH, was answered %u", model_event_name(h->ev), code);
    return;
  }
  model_codes pre;
  model_allowed(&o->cfg, &o->st, h->ev, &pre, NULL, NULL);
  if (!model_codes_has(&pre, code))
    violation(o, ORACLE_ALLOWED_CODE, &pre, "%s answered preliminary %u", model_event_name(h->ev),
              code);
  h->pre_seen = true;
}

static void reply_done(oracle *o, unsigned code) {
  if (o->tls_draining) {
    /* A reply inside the server's TLS stream after the client's
     * close_notify (a 221 as its parting word): not plaintext, and not an
     * answer to the plaintext commands that may follow. Left unjudged. */
    o->reply_fallback = false;
    return;
  }
  if (o->hs_failed) {
    /* the server must be closing; first_line_checks judged this reply */
    o->reply_fallback = false;
    o->negotiating_reply = false;
    return;
  }
  if (code < 200)
    prelim_reply(o, code);
  else
    final_reply(o, code);
  o->reply_fallback = false;
  o->negotiating_reply = false;
}

static void take_event(oracle *o, model_event ev);

/* first_line_checks runs on the first line of every reply. */
static void first_line_checks(oracle *o, unsigned code) {
  if (o->st.sec == MODEL_SEC_NEGOTIATING && code == 421 && !o->hs_421_seen) {
    /* A plaintext 421 while the handshake is due: the server failed it (on
     * bytes that were no ClientHello - the client wrote plaintext, or
     * pipelined it behind AUTH - or on a ClientHello it refused, before the
     * client saw the failure) and RFC 4217 section 10.1 allows one
     * unprotected 421 before the close. From here on it is a failed
     * handshake: anything but the close breaks HANDSHAKE_FAIL_CLOSES. */
    o->hs_421_seen = true;
    drop_poisoned(o);
    take_event(o, MODEL_EV_TLS_FAIL);
    o->hs_failed = true;
    o->closing = CLOSE_HS_FAILED;
    return;
  }
  if (o->st.sec == MODEL_SEC_NEGOTIATING) {
    /* A plaintext reply between 234 and the end of the handshake. When the
     * client has bytes in the TLS stream (pipelined behind AUTH, or written
     * after the 234) and the reply is positive (1xx-3xx: started, done,
     * awaiting more), the server ran one of them as a command: the
     * injection of CVE-2011-1575, answered before the handshake instead of
     * inside it - the same bug, the same name. A negative reply (4xx/5xx)
     * changed nothing (RFC 959 section 4.2) and is what a server writes
     * when its TLS setup fails on those bytes (vsftpd's "500 OOPS: <ssl
     * error>"): a plaintext reply, not an executed command. */
    pending *h = queue_head(o);
    bool pipelined = h ? h->poisoned : o->injected > 0;
    o->negotiating_reply = true;
    if (pipelined && code < 400)
      violation(o, ORACLE_NO_PIPELINED_INJECTION, NULL,
                "plaintext reply %u, before the handshake, to %s pipelined behind AUTH: "
                "the server ran it",
                code, h ? model_event_name(h->ev) : "a command");
    violation(o, ORACLE_NO_PLAINTEXT_AFTER_234, NULL,
              "plaintext reply %u after 234, before the handshake finished", code);
    return;
  }
  if (o->hs_failed) {
    /* RFC 4217 section 10.1: a single unprotected 421 may precede the close */
    if (code == 421 && !o->hs_421_seen) {
      o->hs_421_seen = true;
      return;
    }
    violation(o, ORACLE_NO_PLAINTEXT_AFTER_234, NULL,
              "plaintext reply %u after a failed handshake", code);
    if (!o->hs_closes_reported && o->q_len > 0) {
      /* a command sent after the failure was answered: the server went on
       * with the session instead of closing */
      o->hs_closes_reported = true;
      violation(o, ORACLE_HANDSHAKE_FAIL_CLOSES, NULL,
                "reply %u to a command after a failed handshake: the server did not close",
                code);
    }
  }
}

static void server_line(oracle *o, const uint8_t *p, size_t n) {
  if (n > 0 && p[n - 1] == '\n') {
    violation(o, ORACLE_REPLY_SYNTAX, NULL, "reply line ends in a bare LF, not CRLF");
    n--;
  }
  if (o->secret_len >= SECRET_MIN && n >= o->secret_len && !o->secret_said &&
      memmem(p, n, o->secret, o->secret_len))
    violation(o, ORACLE_NO_SECRET_ECHO, NULL, "a reply contains the password PASS logged in with");
  else if (o->fixed_len >= SECRET_MIN && n >= o->fixed_len && !o->fixed_said &&
           memmem(p, n, o->fixed, o->fixed_len))
    violation(o, ORACLE_NO_SECRET_ECHO, NULL, "a reply contains the account's password");
  if (mentions_fallback(p, n))
    o->reply_fallback = true;
  bool coded = n >= 3 && is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]);
  unsigned code = coded ? (unsigned)(p[0] - '0') * 100 + (unsigned)(p[1] - '0') * 10 +
                              (unsigned)(p[2] - '0')
                        : 0;
  if (o->in_multi) {
    /* RFC 959 4.2: the last line starts with the same code and a space */
    if (coded && code == o->multi_code && (n == 3 || p[3] == ' ')) {
      if (n == 3)
        violation(o, ORACLE_REPLY_SYNTAX, NULL, "last line of a %u reply has no space", code);
      o->in_multi = false;
      reply_done(o, code);
    }
    return;
  }
  if (!coded || code < 100 || code > 599 || (n > 3 && p[3] != ' ' && p[3] != '-') || n == 3) {
    violation(o, ORACLE_REPLY_SYNTAX, NULL, "reply line is not a code followed by SP or '-': "
              "\"%.40s\"", (const char *)p);
    if (!coded || code < 100 || code > 599 || (n > 3 && p[3] != ' ' && p[3] != '-'))
      return; /* not a reply at all */
  }
  first_line_checks(o, code);
  if (n > 3 && p[3] == '-') {
    o->in_multi = true;
    o->multi_code = code;
    return;
  }
  reply_done(o, code);
}

/* --- events --- */

static void take_event(oracle *o, model_event ev) {
  int row = model_take(&o->cfg, &o->st, ev, 0, false);
  covered(o, row);
}

static void server_closed(oracle *o) {
  if (o->in_multi)
    violation(o, ORACLE_REPLY_SYNTAX, NULL, "connection closed inside a multi-line reply");
  o->in_multi = false;
  size_t waiting = 0;
  for (size_t i = 0; i < o->q_len; i++)
    if (!o->queue[(o->q_head + i) % QUEUE_MAX].poisoned &&
        !o->queue[(o->q_head + i) % QUEUE_MAX].stale)
      waiting++;
  if (waiting && o->closing == CLOSE_NONE && o->st.close == MODEL_OPEN && !o->q_overflow)
    violation(o, ORACLE_ONE_FINAL_REPLY, NULL,
              "closed without a 421 while %zu command(s) await a reply", waiting);
  take_event(o, MODEL_EV_CLOSED);
  o->st.close = MODEL_CLOSED;
}

static void event(oracle *o, const transcript_step *st) {
  transcript_event ev;
  if (transcript_event_parse(st, &ev) != 0)
    return;
  if (ev.kind == TRANSCRIPT_EV_CLOSED || ev.kind == TRANSCRIPT_EV_TLS_SHUTDOWN ||
      ev.kind == TRANSCRIPT_EV_TLS_UNTERMINATED || ev.kind == TRANSCRIPT_EV_TLS_ERROR ||
      ev.kind == TRANSCRIPT_EV_TLS_ERROR_PLAINTEXT)
    o->tls_draining = false; /* the server's TLS stream is over */
  switch (ev.kind) {
  case TRANSCRIPT_EV_TLS_AFTER_CLOSE_NOTIFY:
    o->tls_draining = true;
    break;
  case TRANSCRIPT_EV_CLOSED:
    server_closed(o);
    break;
  case TRANSCRIPT_EV_TIMEOUT:
    /* The client gave up waiting (TCP). After a 421 the server should have
     * closed (RFC 959: "closing control connection"), not kept it open. */
    if (o->closing == CLOSE_421 && o->st.close == MODEL_CLOSING)
      violation(o, ORACLE_REPLY_421_CLOSES, NULL,
                "after a 421 the server kept the connection open until the client's step "
                "timeout");
    break;
  case TRANSCRIPT_EV_TLS_SHUTDOWN:
    o->server_ended_tls = o->st.sec == MODEL_SEC_SECURE;
    /* The server ended TLS (after REIN or CCC): what is still queued came
     * in the TLS stream it ended, and the rest of a line in that stream
     * will never be completed. */
    for (size_t i = 0; i < o->q_len; i++)
      o->queue[(o->q_head + i) % QUEUE_MAX].stale = true;
    oracle_framer_reset(&o->framer);
    break;
  case TRANSCRIPT_EV_HANDSHAKE_OK:
  case TRANSCRIPT_EV_HANDSHAKE_FAILED: {
    bool ok = ev.kind == TRANSCRIPT_EV_HANDSHAKE_OK;
    if (o->hs_failed && ok) {
      o->hs_closes_reported = true;
      violation(o, ORACLE_HANDSHAKE_FAIL_CLOSES, NULL,
                "a handshake succeeded after a failed one: the session went on");
      return;
    }
    if (o->st.sec != MODEL_SEC_NEGOTIATING)
      return; /* a client-side handshake nobody asked for: not the server's act */
    drop_poisoned(o);
    oracle_framer_reset(&o->framer);
    if (ok) {
      take_event(o, MODEL_EV_TLS_OK);
      o->server_ended_tls = false;
    } else if (ev.rest_len >= 7 && !memcmp(ev.rest, "stalled", 7)) {
      /* The client gave up waiting; the server failed nothing and may still
       * be waiting for the rest of a record. Nothing after this is judged. */
      o->done = true;
    } else {
      take_event(o, MODEL_EV_TLS_FAIL);
      o->hs_failed = true;
      o->closing = CLOSE_HS_FAILED;
    }
    break;
  }
  case TRANSCRIPT_EV_TLS_ERROR_PLAINTEXT:
  case TRANSCRIPT_EV_TLS_ERROR:
    /* "tls error plaintext <line>": the server wrote a reply in plaintext
     * where a TLS record belonged. Only after a failed handshake may one
     * unprotected 421 come (RFC 4217 section 10.1, judged in
     * first_line_checks); once SECURE there is no exception. After CCC or
     * a close_notify the state is PLAIN and plaintext is expected. */
    if (o->st.sec == MODEL_SEC_SECURE && ev.kind == TRANSCRIPT_EV_TLS_ERROR_PLAINTEXT) {
      size_t shown = ev.rest_len < 60 ? ev.rest_len : 60;
      violation(o, ORACLE_NO_PLAINTEXT_AFTER_234, NULL,
                "a reply in plaintext while TLS is on: \"%.*s\"", (int)shown,
                (const char *)ev.rest);
    }
    if (o->st.sec == MODEL_SEC_SECURE || o->st.sec == MODEL_SEC_NEGOTIATING) {
      take_event(o, MODEL_EV_TLS_ERROR);
      o->closing = CLOSE_TLS_ERROR;
    }
    break;
  case TRANSCRIPT_EV_DATA_TLS:
  case TRANSCRIPT_EV_DATA_CLEAR: {
    /* "data clear <n> bytes ...": only bytes that moved count; a connection
     * opened under PROT C and closed empty after PROT P carried nothing. */
    bool moved = !ev.bytes_known || ev.bytes > 0;
    if (ev.kind == TRANSCRIPT_EV_DATA_TLS && moved && o->st.prot == MODEL_PROT_C &&
        !o->prot_kept_reported) {
      /* The mirror of clear data under P: a server that protects data
       * while PROT is C changed the level by itself (vsftpd and ProFTPD
       * after AUTH SSL / AUTH TLS-P). A compliant server sends in clear,
       * and a client that tries TLS anyway records "data failed". */
      o->prot_kept_reported = true;
      violation(o, ORACLE_PROT_LEVEL_KEPT, NULL,
                "data protected while PROT is C: the level changed without an accepted PROT");
    }
    if (ev.kind == TRANSCRIPT_EV_DATA_CLEAR && moved && o->st.prot == MODEL_PROT_P) {
      /* Judged by the transfer's final reply: bytes in clear are data the
       * server delivered or accepted only if the transfer succeeded (2xx).
       * A failed one says they were not: the server's TLS alert after a
       * failed data handshake, an upload it refused. (A server that sends
       * file data in clear and then reports failure is not caught here.) */
      o->clear_data = true;
    }
    break;
  }
  case TRANSCRIPT_EV_TLS_UNTERMINATED: /* plaintext follows; the state is PLAIN already */
  case TRANSCRIPT_EV_DATA_FAILED:
  case TRANSCRIPT_EV_LIMIT:
  case TRANSCRIPT_EV_UNKNOWN:
  case TRANSCRIPT_EV_COUNT:
    break;
  }
}

static void end_tls_by_close_notify(oracle *o) {
  model_state before = o->st;
  take_event(o, MODEL_EV_TLS_CLOSE_NOTIFY);
  o->server_ended_tls = false;
  if (o->st.close == MODEL_CLOSING && before.close == MODEL_OPEN)
    o->closing = CLOSE_STAYS_TLS;
  oracle_framer_reset(&o->framer);
}

static void tls_action(oracle *o, const transcript_step *st) {
  drop_stale(o);
  o->have_last = false; /* a reply from here on answers this, not the last command */
  if (st->len == 9 && !memcmp(st->data, "handshake", 9) && o->st.sec == MODEL_SEC_PLAIN &&
      !o->hs_failed) {
    /* A ClientHello sent into a plaintext FTP conversation: the server frames
     * bytes the transcript does not hold into "commands" of its own, so the
     * replies that follow cannot be paired with anything. Stop judging. */
    o->done = true;
    return;
  }
  if (st->len == 12 && !memcmp(st->data, "close_notify", 12) &&
      o->st.sec == MODEL_SEC_SECURE)
    end_tls_by_close_notify(o);
}

void oracle_set_secret(oracle *o, const void *secret, size_t len) {
  if (len > SECRET_MAX)
    len = SECRET_MAX;
  memcpy(o->fixed, secret, len);
  o->fixed_len = len;
  o->fixed_said = o->said_len >= len && len > 0 && memmem(o->said, o->said_len, o->fixed, len);
}

int oracle_step(oracle *o, const transcript_step *st) {
  if (o->done)
    return 1;
  o->step++;
  o->st_before = o->st;
  switch (st->kind) {
  case TRANSCRIPT_C: client_bytes(o, st->data, st->len, true); break;
  case TRANSCRIPT_R: client_bytes(o, st->data, st->len, false); break;
  case TRANSCRIPT_T: tls_action(o, st); break;
  case TRANSCRIPT_S: server_line(o, st->data, st->len); break;
  case TRANSCRIPT_E: event(o, st); break;
  case TRANSCRIPT_W:
  case TRANSCRIPT_D:
  case TRANSCRIPT_COMMENT:
  case TRANSCRIPT_BLANK:
  default: break;
  }
  return o->done ? 1 : 0;
}

size_t oracle_finish(oracle *o) {
  if (!o->done) {
    if (o->in_multi)
      violation(o, ORACLE_REPLY_SYNTAX, NULL, "transcript ends inside a multi-line reply");
    if (o->hs_failed && o->st.close != MODEL_CLOSED && !o->hs_closes_reported)
      violation(o, ORACLE_HANDSHAKE_FAIL_CLOSES, NULL,
                "the handshake failed and the server never closed the connection");
  }
  return o->n_viol;
}

long oracle_check_transcript(const transcript *t, const model_config *cfg, bool all,
                             oracle_violation *first) {
  oracle *o = oracle_new(cfg, all);
  if (!o)
    return -1;
  for (size_t i = 0; i < t->n; i++)
    if (oracle_step(o, &t->steps[i]))
      break;
  long n = (long)oracle_finish(o);
  if (first && n > 0)
    *first = o->viol[0];
  oracle_free(o);
  return n;
}
