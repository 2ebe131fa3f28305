/* test_check_verdict.c - the checker's three outcomes (driver/check_verdict.c,
 * check_result.c) on hand-written live transcripts, and the oracle's blame
 * for a command answered twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "oracle.h"
#include "testlib.h"
#include "transcript.h"

#define INV(x) ORACLE_##x

static model_config cfg_required(void) {
  model_policy p = model_policy_default(); /* tls-login=on,tls-data=on */
  return model_config_make(MODEL_PROFILE_DEFAULT, &p);
}

static void parse(transcript *t, const char *text) {
  char err[256];
  transcript_init(t);
  if (transcript_parse_text(t, text, strlen(text), "case", err, sizeof(err)) != 0) {
    fprintf(stderr, "parse: %s\n", err);
    CHECK(0);
  }
}

/* judge: verdicts of |got| played from |script|, nothing violated. */
static void judge(const model_config *cfg, const char *script, const char *got,
                  check_verdict *v, check_reason *why) {
  transcript s, g;
  bool violated[ORACLE_INVARIANT_COUNT] = {false};
  parse(&s, script);
  parse(&g, got);
  check_verdicts(cfg, &s, &g, violated, v, why);
  transcript_cleanup(&s);
  transcript_cleanup(&g);
}

static void show(const char *name, const check_verdict *v, const check_reason *why) {
  if (!testlib_failures())
    return;
  fprintf(stderr, "%s:\n", name);
  for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++)
    if (v[i] != CHECK_VERDICT_NONE)
      fprintf(stderr, "  %s %s %s\n", oracle_invariant_name((oracle_invariant)i),
              check_verdict_name(v[i]), check_reason_name(why[i]));
}

#define LOGIN_DATA                                                                        \
  "C: AUTH TLS\nT: handshake\nC: USER alice\nC: PASS wonderland\nC: PBSZ 0\nC: PROT P\n" \
  "C: PASV\nD: open\nC: LIST /pub\n"

/* A server that greets and then times out decides nothing. */
static void test_timeout_decides_nothing(void) {
  model_config cfg = cfg_required();
  check_verdict v[ORACLE_INVARIANT_COUNT];
  check_reason why[ORACLE_INVARIANT_COUNT];
  judge(&cfg, LOGIN_DATA, "S: 220 hi\nC: AUTH TLS\nE: timeout\n# not played: client gave up\n", v,
        why);
  size_t inconclusive = 0;
  for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++) {
    CHECK(v[i] != CHECK_VERDICT_PASSED);
    if (v[i] == CHECK_VERDICT_INCONCLUSIVE) {
      CHECK_EQ_INT(why[i], CHECK_REASON_TIMEOUT);
      inconclusive++;
    }
  }
  CHECK_EQ_INT(v[INV(PROT_P_DATA_IS_TLS)], CHECK_VERDICT_INCONCLUSIVE);
  CHECK_EQ_INT(v[INV(NO_SECRET_ECHO)], CHECK_VERDICT_INCONCLUSIVE);
  CHECK_EQ_INT(v[INV(NO_PLAINTEXT_AFTER_234)], CHECK_VERDICT_INCONCLUSIVE);
  CHECK(inconclusive >= 6);
  show("timeout", v, why);
}

/* The full exchange decides what it set out to decide. */
static void test_full_exchange_passes(void) {
  model_config cfg = cfg_required();
  check_verdict v[ORACLE_INVARIANT_COUNT];
  check_reason why[ORACLE_INVARIANT_COUNT];
  judge(&cfg, LOGIN_DATA,
        "S: 220 hi\nC: AUTH TLS\nS: 234 go\nT: handshake\nE: handshake ok\nC: USER alice\n"
        "S: 331 pw\nC: PASS wonderland\nS: 230 in\nC: PBSZ 0\nS: 200 ok\nC: PROT P\n"
        "S: 200 ok\nC: PASV\nS: 227 (127,0,0,1,1,2)\nD: open\nC: LIST /pub\nS: 150 here\n"
        "E: data tls 0 bytes sha256=00\nS: 226 done\n",
        v, why);
  CHECK_EQ_INT(v[INV(PROT_P_DATA_IS_TLS)], CHECK_VERDICT_PASSED); /* 0 bytes, but 226 over TLS */
  CHECK_EQ_INT(v[INV(NO_SECRET_ECHO)], CHECK_VERDICT_PASSED);
  CHECK_EQ_INT(v[INV(NO_PLAINTEXT_AFTER_234)], CHECK_VERDICT_PASSED);
  CHECK_EQ_INT(v[INV(ALLOWED_CODE)], CHECK_VERDICT_PASSED);
  CHECK_EQ_INT(v[INV(TLS_REQUIRED_LOGIN)], CHECK_VERDICT_NONE); /* the login went over TLS */
  CHECK_EQ_INT(v[INV(NO_PIPELINED_INJECTION)], CHECK_VERDICT_NONE);
  show("full", v, why);
  /* the same with the transfer refused: no data moved */
  judge(&cfg, LOGIN_DATA,
        "S: 220 hi\nC: AUTH TLS\nS: 234 go\nT: handshake\nE: handshake ok\nC: USER alice\n"
        "S: 331 pw\nC: PASS wonderland\nS: 230 in\nC: PBSZ 0\nS: 200 ok\nC: PROT P\n"
        "S: 200 ok\nC: PASV\nS: 227 (127,0,0,1,1,2)\nD: open\nC: LIST /pub\n"
        "E: data failed eof\nS: 425 no\n",
        v, why);
  CHECK_EQ_INT(v[INV(PROT_P_DATA_IS_TLS)], CHECK_VERDICT_INCONCLUSIVE);
  CHECK_EQ_INT(why[INV(PROT_P_DATA_IS_TLS)], CHECK_REASON_NO_DATA);
  show("no data", v, why);
}

/* A refused login leaves what needs it inconclusive, not passed. */
static void test_login_refused(void) {
  model_config cfg = cfg_required();
  check_verdict v[ORACLE_INVARIANT_COUNT];
  check_reason why[ORACLE_INVARIANT_COUNT];
  judge(&cfg, LOGIN_DATA,
        "S: 220 hi\nC: AUTH TLS\nS: 234 go\nT: handshake\nE: handshake ok\nC: USER alice\n"
        "S: 331 pw\nC: PASS wonderland\nS: 530 no\nC: PBSZ 0\nS: 530 no\nC: PROT P\n"
        "S: 530 no\nC: PASV\nS: 530 no\nD: open\nE: data failed no data connection offered\n"
        "C: LIST /pub\nS: 530 no\n",
        v, why);
  CHECK_EQ_INT(v[INV(PROT_P_DATA_IS_TLS)], CHECK_VERDICT_INCONCLUSIVE);
  CHECK_EQ_INT(why[INV(PROT_P_DATA_IS_TLS)], CHECK_REASON_LOGIN_REFUSED);
  CHECK_EQ_INT(v[INV(NO_SECRET_ECHO)], CHECK_VERDICT_PASSED); /* the PASS got its reply */
  show("login refused", v, why);
}

/* NO_PIPELINED_INJECTION: decided by the reply after the handshake, by a
 * close, or by a handshake that failed on the pipelined bytes; a timeout
 * before the handshake decides nothing (the probe never got there). */
static void test_pipelined(void) {
  model_config cfg = cfg_required();
  check_verdict v[ORACLE_INVARIANT_COUNT];
  check_reason why[ORACLE_INVARIANT_COUNT];
  const char *script = "C: AUTH TLS\\r\\nSYST\nT: handshake\nC: NOOP\n";
  judge(&cfg, script, "S: 220 hi\nC: AUTH TLS\\r\\nSYST\nS: 234 go\nE: timeout\n", v, why);
  CHECK_EQ_INT(v[INV(NO_PIPELINED_INJECTION)], CHECK_VERDICT_INCONCLUSIVE);
  CHECK_EQ_INT(why[INV(NO_PIPELINED_INJECTION)], CHECK_REASON_TIMEOUT);
  judge(&cfg, script,
        "S: 220 hi\nC: AUTH TLS\\r\\nSYST\nS: 234 go\nT: handshake\nE: handshake ok\n"
        "C: NOOP\nS: 200 ok\n",
        v, why);
  CHECK_EQ_INT(v[INV(NO_PIPELINED_INJECTION)], CHECK_VERDICT_PASSED);
  judge(&cfg, script, "S: 220 hi\nC: AUTH TLS\\r\\nSYST\nS: 234 go\nE: closed\n", v, why);
  CHECK_EQ_INT(v[INV(NO_PIPELINED_INJECTION)], CHECK_VERDICT_PASSED);
  judge(&cfg, script,
        "S: 220 hi\nC: AUTH TLS\\r\\nSYST\nS: 234 go\nT: handshake\n"
        "E: handshake failed stalled\n",
        v, why);
  CHECK_EQ_INT(v[INV(NO_PIPELINED_INJECTION)], CHECK_VERDICT_INCONCLUSIVE);
  CHECK_EQ_INT(why[INV(NO_PIPELINED_INJECTION)], CHECK_REASON_HANDSHAKE_TIMEOUT);
  show("pipelined", v, why);
}

/* Policy: without tls-login TLS_REQUIRED_LOGIN states nothing; a violation
 * is a violation whatever was reached. */
static void test_policy_and_violation(void) {
  model_policy p = model_policy_default();
  p.tls_login = false;
  model_config off = model_config_make(MODEL_PROFILE_DEFAULT, &p);
  model_config on = cfg_required();
  check_verdict v[ORACLE_INVARIANT_COUNT];
  check_reason why[ORACLE_INVARIANT_COUNT];
  const char *script = "C: USER alice\nC: PASS bad\n";
  const char *got = "S: 220 hi\nC: USER alice\nS: 530 TLS first\nC: PASS bad\nS: 503 no\n";
  judge(&off, script, got, v, why);
  CHECK_EQ_INT(v[INV(TLS_REQUIRED_LOGIN)], CHECK_VERDICT_NONE);
  CHECK(check_not_applicable(&off, INV(TLS_REQUIRED_LOGIN)));
  judge(&on, script, got, v, why);
  CHECK_EQ_INT(v[INV(TLS_REQUIRED_LOGIN)], CHECK_VERDICT_PASSED);
  transcript s, g;
  bool violated[ORACLE_INVARIANT_COUNT] = {false};
  violated[INV(PROT_LEVEL_KEPT)] = true;
  parse(&s, script);
  parse(&g, "S: 220 hi\nE: timeout\n");
  check_verdicts(&on, &s, &g, violated, v, why);
  CHECK_EQ_INT(v[INV(PROT_LEVEL_KEPT)], CHECK_VERDICT_VIOLATED);
  CHECK_EQ_INT(v[INV(TLS_REQUIRED_LOGIN)], CHECK_VERDICT_INCONCLUSIVE);
  transcript_cleanup(&s);
  transcript_cleanup(&g);
}

/* The exit status: 0 only when every applicable security invariant was
 * decided; 3 (with the invariants named) when one was not; 1 on a
 * violation; n/a ones are not required. */
static void test_result(void) {
  check_report *r = calloc(1, sizeof(*r));
  check_options o;
  char why[1024];
  memset(&o, 0, sizeof(o));
  o.user = "u";
  o.pass = "p";
  model_policy p = model_policy_default();
  p.tls_login = false;
  o.model = model_config_make(MODEL_PROFILE_DEFAULT, &p);
  check_report_init(r);
  for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++)
    if (!check_not_applicable(&o.model, (oracle_invariant)i))
      r->inv[i].checked = 1;
  CHECK_EQ_INT(check_result(r, &o, why, sizeof(why)), CHECK_RESULT_OK);
  r->inv[INV(NO_PIPELINED_INJECTION)].checked = 0;
  r->inv[INV(NO_PIPELINED_INJECTION)].inconclusive = 2;
  r->inv[INV(NO_PIPELINED_INJECTION)].reasons[CHECK_REASON_TIMEOUT] = 2;
  CHECK_EQ_INT(check_result(r, &o, why, sizeof(why)), CHECK_RESULT_NOT_JUDGED);
  CHECK_STR(why, "1 security invariant not judged: NO_PIPELINED_INJECTION (2 inconclusive, "
                 "mostly timeout)");
  /* a conformance invariant not judged does not matter */
  r->inv[INV(NO_PIPELINED_INJECTION)].checked = 1;
  r->inv[INV(REPLY_421_CLOSES)].checked = 0;
  CHECK_EQ_INT(check_result(r, &o, why, sizeof(why)), CHECK_RESULT_OK);
  /* without credentials the data invariants are n/a, the others are not */
  o.user = o.pass = NULL;
  r->inv[INV(PROT_P_DATA_IS_TLS)].checked = 0;
  CHECK_EQ_INT(check_inv_status(r, &o, INV(PROT_P_DATA_IS_TLS)), CHECK_STATUS_NA_LOGIN);
  CHECK_EQ_INT(check_result(r, &o, why, sizeof(why)), CHECK_RESULT_OK);
  r->inv[INV(NO_SECRET_ECHO)].checked = 0;
  CHECK_EQ_INT(check_result(r, &o, why, sizeof(why)), CHECK_RESULT_NOT_JUDGED);
  r->inv[INV(NO_SECOND_234)].violated = 1;
  r->inv[INV(NO_SECOND_234)].checked = 1;
  CHECK_EQ_INT(check_result(r, &o, why, sizeof(why)), CHECK_RESULT_VIOLATED);
  /* no greeting: never ok */
  memset(r->inv, 0, sizeof(r->inv));
  r->no_greeting = true;
  snprintf(r->setup_note, sizeof(r->setup_note), "no FTP greeting in 5.0 s: implicit TLS?");
  CHECK_EQ_INT(check_result(r, &o, why, sizeof(why)), CHECK_RESULT_NOT_JUDGED);
  CHECK_STR(why, "no FTP greeting in 5.0 s: implicit TLS?");
  check_report_cleanup(r);
  free(r);
}

/* The oracle blames an extra final reply on the command that got the one
 * before it, once it arrives before the next command. */
static void test_answered_twice(void) {
  model_config cfg = cfg_required();
  transcript t;
  oracle_violation v;
  parse(&t, "S: 220 hi\nC: STOU\nS: 530 login first\nS: 500 what\nC: NOOP\nS: 200 ok\n");
  CHECK_EQ_INT(oracle_check_transcript(&t, &cfg, true, &v), 1);
  CHECK_EQ_INT(v.inv, ORACLE_ONE_FINAL_REPLY);
  CHECK_STR(v.why, "STOU answered twice: 530 then 500");
  transcript_cleanup(&t);
  parse(&t, "S: 220 hi\nC: FEAT\nS: 500 a\nS: 500 b\nS: 502 c\n");
  oracle *o = oracle_new(&cfg, true);
  for (size_t i = 0; o && i < t.n; i++)
    oracle_step(o, &t.steps[i]);
  CHECK(o && oracle_finish(o) == 2);
  CHECK(o && !strcmp(oracle_violation_at(o, 1)->why, "FEAT answered 3 times: 500 first, 502 now"));
  oracle_free(o);
  transcript_cleanup(&t);
  /* a reply after the client's close_notify is no second answer to CCC */
  parse(&t, "S: 220 hi\nC: AUTH TLS\nS: 234 go\nT: handshake\nE: handshake ok\nC: CCC\n"
            "S: 534 not now\nT: close_notify\nS: 534 Logout.\n");
  CHECK_EQ_INT(oracle_check_transcript(&t, &cfg, true, &v), 1);
  CHECK_STR(v.why, "reply 534 answers no command");
  transcript_cleanup(&t);
}

int main(void) {
  test_timeout_decides_nothing();
  test_full_exchange_passes();
  test_login_refused();
  test_pipelined();
  test_policy_and_violation();
  test_result();
  test_answered_twice();
  return testlib_finish();
}
