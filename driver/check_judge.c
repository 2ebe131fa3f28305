/* check_judge.c - judge one live transcript (see check.h): the oracle
 * decides violations, with the few live-server readings below. Which
 * invariants the sequence decided is check_verdict.c's job. */
#include "check.h"

#include <stdio.h>
#include <string.h>

static bool step_is(const transcript_step *st, const char *w) {
  size_t n = strlen(w);
  return st->len >= n && !memcmp(st->data, w, n);
}

/* failed_handshake_421: the plaintext reply at |step| is a 421 after which
 * the server closed. RFC 4217 section 10.1 allows one unprotected 421 when
 * the handshake failed; a server that failed it on the client's first bytes
 * (ProFTPD's "421 TLS handshake failed") sends it before the client's own
 * handshake step, so no "E: handshake failed" precedes it. */
static bool failed_handshake_421(const transcript *got, size_t step) {
  if (step == 0 || step > got->n || !step_is(&got->steps[step - 1], "421 "))
    return false;
  for (size_t i = step; i < got->n; i++) {
    const transcript_step *st = &got->steps[i];
    if (st->kind == TRANSCRIPT_S)
      return false;
    if (st->kind == TRANSCRIPT_E && step_is(st, "handshake failed"))
      continue; /* the client saw the failure after the 421 */
    if (st->kind == TRANSCRIPT_E)
      return step_is(st, "closed");
  }
  return false;
}

static bool same_step_plaintext(const oracle *o, size_t step) {
  for (size_t i = 0;; i++) {
    const oracle_violation *v = oracle_violation_at(o, i);
    if (!v)
      return false;
    if (v->inv == ORACLE_NO_PLAINTEXT_AFTER_234 && v->step == step)
      return true;
  }
}

long check_judge(const model_config *cfg, const transcript *got, bool *violated,
                 char (*why)[512]) {
  oracle *o = oracle_new(cfg, true);
  if (!o)
    return -1;
  for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++) {
    violated[i] = false;
    if (why)
      why[i][0] = 0;
  }
  bool clear_under_p = false;
  for (size_t i = 0; i < got->n; i++) {
    const transcript_step *st = &got->steps[i];
    /* The client started TLS on a PROT P data connection and the server's
     * first bytes were not a TLS record: the server sent the data in clear
     * (Pure-FTPd after "534 Fallback to [C]"). The runner records that as
     * "data failed wrong_version_number", which the oracle does not judge. */
    if (st->kind == TRANSCRIPT_E && oracle_state(o)->prot == MODEL_PROT_P &&
        step_is(st, "data failed wrong_version_number") && !clear_under_p) {
      clear_under_p = true;
      if (why)
        snprintf(why[ORACLE_PROT_P_DATA_IS_TLS], sizeof(why[0]),
                 "VIOLATION PROT_P_DATA_IS_TLS step %zu: the server answered the data "
                 "connection's ClientHello with non-TLS bytes under PROT P (data in clear)",
                 i + 1);
    }
    oracle_step(o, st);
  }
  long n = (long)oracle_finish(o);
  for (size_t i = 0;; i++) {
    const oracle_violation *v = oracle_violation_at(o, i);
    if (!v)
      break;
    if ((unsigned)v->inv >= ORACLE_INVARIANT_COUNT)
      continue;
    /* A plaintext reply between 234 and the end of the handshake (vsftpd's
     * "500 OOPS: <TLS error>") is NO_PLAINTEXT_AFTER_234; the oracle also
     * pairs it with the bytes the client sent meanwhile and calls it an
     * injection. The server did not run them (it failed the handshake on
     * them), so the same reply is not counted twice. */
    if (v->inv == ORACLE_NO_PIPELINED_INJECTION && same_step_plaintext(o, v->step))
      continue;
    if (v->inv == ORACLE_NO_PLAINTEXT_AFTER_234 && failed_handshake_421(got, v->step))
      continue;
    if (!violated[v->inv] && why)
      oracle_format_violation(v, why[v->inv], sizeof(why[v->inv]));
    violated[v->inv] = true;
  }
  oracle_free(o);
  /* A 421 and then silence until the step timeout: the server did not
   * close (RFC 959: 421 "closing control connection"); the oracle judges
   * only replies, so the runner's "E: timeout" is read here. */
  for (size_t i = 0; i < got->n && !violated[ORACLE_REPLY_421_CLOSES]; i++) {
    if (got->steps[i].kind != TRANSCRIPT_S || !step_is(&got->steps[i], "421 "))
      continue;
    for (size_t k = i + 1; k < got->n; k++) {
      const transcript_step *st = &got->steps[k];
      if (st->kind == TRANSCRIPT_S || (st->kind == TRANSCRIPT_E && step_is(st, "closed")))
        break;
      if (st->kind == TRANSCRIPT_E && step_is(st, "timeout")) {
        violated[ORACLE_REPLY_421_CLOSES] = true;
        n++;
        if (why)
          snprintf(why[ORACLE_REPLY_421_CLOSES], sizeof(why[0]),
                   "VIOLATION REPLY_421_CLOSES step %zu: after a 421 the server kept the "
                   "connection open until the client's step timeout",
                   i + 1);
        break;
      }
    }
  }
  if (clear_under_p && !violated[ORACLE_PROT_P_DATA_IS_TLS]) {
    violated[ORACLE_PROT_P_DATA_IS_TLS] = true;
    n++;
  }
  return n;
}
