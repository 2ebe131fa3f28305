/* check_judge.c - judge one live transcript and say which invariants it
 * exercised (see check.h). The oracle decides violations; "applies" only
 * makes the table's "checked" column honest: an invariant about a second
 * AUTH is not counted as checked by a sequence that never sent one. */
#include "check.h"

#include <stdio.h>
#include <string.h>

#include "judge.h"
#include "transcript_event.h"

typedef struct seen {
  bool tls;            /* the client believes the control connection is under TLS */
  bool prot_p_sent;    /* a PROT P was sent (and no REIN/AUTH since) */
  bool saw_234, pipelined, auth_under_tls, plain_login, ccc_under_tls, prot_p_data;
  bool prot_after_p, hs_failed, pass_sent, saw_421, prot_sent, sec_sent;
  bool data_tls_forced; /* "# client: data_prot=tls" in effect */
  bool forced_data;     /* a data connection under it: the level was tested */
} seen;

static void on_line(void *ctx, const uint8_t *line, size_t len, bool overlong) {
  seen *s = ctx;
  model_cmd cmd;
  (void)overlong;
  model_classify_line(line, len, &cmd);
  unsigned fl = model_event_flags(cmd.ev);
  switch (cmd.ev) {
  case MODEL_EV_AUTH_TLS:
  case MODEL_EV_AUTH_SSL:
  case MODEL_EV_AUTH_OTHER:
    if (s->tls)
      s->auth_under_tls = true;
    s->prot_p_sent = false;
    break;
  case MODEL_EV_REIN: s->prot_p_sent = false; break;
  case MODEL_EV_CCC:
    if (s->tls)
      s->ccc_under_tls = true;
    break;
  case MODEL_EV_PBSZ: s->sec_sent = true; break;
  case MODEL_EV_PROT_C:
  case MODEL_EV_PROT_P:
  case MODEL_EV_PROT_S:
  case MODEL_EV_PROT_E:
  case MODEL_EV_PROT_OTHER:
    s->sec_sent = true;
    s->prot_sent = true;
    if (s->prot_p_sent)
      s->prot_after_p = true;
    if (cmd.ev == MODEL_EV_PROT_P)
      s->prot_p_sent = true;
    break;
  default: break;
  }
  if ((fl & MODEL_F_AUTHN) && !s->tls)
    s->plain_login = true;
  if (cmd.ev == MODEL_EV_PASS)
    s->pass_sent = true;
}

static bool step_is(const transcript_step *st, const char *w) {
  size_t n = strlen(w);
  return st->len >= n && !memcmp(st->data, w, n);
}

/* has_auth_then_more: a write holding an AUTH line and more bytes after it. */
static bool has_auth_then_more(const transcript_step *st) {
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

static void note_applies(const model_config *cfg, const transcript *got, bool *applies) {
  seen s;
  oracle_framer f;
  memset(&s, 0, sizeof(s));
  oracle_framer_reset(&f);
  for (size_t i = 0; i < got->n; i++) {
    const transcript_step *st = &got->steps[i];
    switch (st->kind) {
    case TRANSCRIPT_C:
    case TRANSCRIPT_R:
      if (has_auth_then_more(st))
        s.pipelined = true;
      oracle_framer_feed(&f, st->data, st->len, on_line, &s);
      if (st->kind == TRANSCRIPT_C)
        oracle_framer_feed(&f, (const uint8_t *)"\r\n", 2, on_line, &s);
      break;
    case TRANSCRIPT_T:
      if (step_is(st, "close_notify")) {
        if (s.tls)
          s.ccc_under_tls = true;
        s.tls = false;
      }
      oracle_framer_reset(&f);
      break;
    case TRANSCRIPT_S:
      if (step_is(st, "234"))
        s.saw_234 = true;
      if (step_is(st, "421"))
        s.saw_421 = true;
      break;
    case TRANSCRIPT_COMMENT:
      /* the runner's directive (runner.h); the last one in effect counts */
      if (st->len > 9 && memmem(st->data, st->len, "client:", 7) != NULL &&
          memmem(st->data, st->len, "data_prot=", 10) != NULL)
        s.data_tls_forced = memmem(st->data, st->len, "data_prot=tls", 13) != NULL;
      break;
    case TRANSCRIPT_E:
    {
      transcript_event ev;
      transcript_event_parse(st, &ev);
      bool data_ev = ev.kind == TRANSCRIPT_EV_DATA_TLS || ev.kind == TRANSCRIPT_EV_DATA_CLEAR;
      if ((data_ev || ev.kind == TRANSCRIPT_EV_DATA_FAILED) && s.data_tls_forced &&
          !s.prot_p_sent)
        s.forced_data = true;
      if (ev.kind == TRANSCRIPT_EV_HANDSHAKE_OK)
        s.tls = true;
      else if (ev.kind == TRANSCRIPT_EV_HANDSHAKE_FAILED)
        s.hs_failed = true;
      else if (ev.kind == TRANSCRIPT_EV_TLS_SHUTDOWN)
        s.tls = false;
      else if (data_ev && s.prot_p_sent)
        s.prot_p_data = true;
      break;
    }
    default: break;
    }
  }
  applies[ORACLE_AUTH_234_ONLY_FOR_AUTH] = true;
  applies[ORACLE_REPLY_SYNTAX] = true;
  applies[ORACLE_ONE_FINAL_REPLY] = true;
  applies[ORACLE_ALLOWED_CODE] = true;
  applies[ORACLE_NO_PLAINTEXT_AFTER_234] = s.saw_234;
  applies[ORACLE_NO_PIPELINED_INJECTION] = s.pipelined;
  applies[ORACLE_NO_SECOND_234] = s.auth_under_tls;
  applies[ORACLE_TLS_REQUIRED_LOGIN] = cfg->policy.tls_login && s.plain_login;
  applies[ORACLE_TLS_REQUIRED_STAYS_TLS] = cfg->policy.tls_login && s.ccc_under_tls;
  applies[ORACLE_PROT_P_DATA_IS_TLS] = s.prot_p_data;
  /* a refused PROT after P, or data protection forced under C */
  applies[ORACLE_PROT_LEVEL_KEPT] = s.prot_after_p || s.forced_data;
  applies[ORACLE_HANDSHAKE_FAIL_CLOSES] = s.hs_failed;
  applies[ORACLE_NO_SECRET_ECHO] = s.pass_sent;
  applies[ORACLE_REPLY_421_CLOSES] = s.saw_421;
  applies[ORACLE_PBSZ_BEFORE_PROT] = s.prot_sent;
  applies[ORACLE_PROT_NEEDS_TLS] = s.sec_sent;
}

long check_judge(const model_config *cfg, const transcript *got, bool *applies, bool *violated,
                 char (*why)[512]) {
  for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++) {
    applies[i] = false;
    violated[i] = false;
    if (why)
      why[i][0] = 0;
  }
  /* The one judge (judge.h), every violation; the password the client
   * logged in with is a secret from its acceptance on. */
  judge_config jc = judge_config_default();
  jc.profile = cfg->profile;
  jc.policy = cfg->policy;
  jc.all = true;
  jc.implicit_tls = cfg->implicit_tls;
  judge_result jr;
  char err[256];
  if (judge_transcript(&jc, got, "sequence", &jr, err, sizeof(err)) != JUDGE_OK) {
    judge_result_cleanup(&jr);
    return -1;
  }
  const oracle *o = jr.o;
  long n = (long)jr.violations;
  for (size_t i = 0;; i++) {
    const oracle_violation *v = oracle_violation_at(o, i);
    if (!v)
      break;
    if ((unsigned)v->inv >= ORACLE_INVARIANT_COUNT)
      continue;
    if (!violated[v->inv] && why)
      oracle_format_violation(v, why[v->inv], sizeof(why[v->inv]));
    violated[v->inv] = true;
  }
  judge_result_cleanup(&jr);
  note_applies(cfg, got, applies);
  for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++)
    if (violated[i])
      applies[i] = true;
  return n;
}
