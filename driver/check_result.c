/* check_result.c - what a whole `ftpsfuzz check` run showed, per invariant
 * and as the exit status (see check.h): a run that could not judge a
 * security invariant never ends "ok". */
#include "check.h"

#include <stdio.h>
#include <string.h>

/* needs_data: the invariant is decided only on a data connection, which
 * needs a login: without credentials no sequence can decide it. */
static bool needs_data(oracle_invariant i) {
  return i == ORACLE_PROT_P_DATA_IS_TLS || i == ORACLE_PROT_LEVEL_KEPT;
}

check_status check_inv_status(const check_report *r, const check_options *o, oracle_invariant i) {
  const check_inv_stats *s = &r->inv[i];
  if (s->violated)
    return CHECK_STATUS_VIOLATED;
  if (check_not_applicable(&o->model, i))
    return CHECK_STATUS_NA_POLICY;
  if (s->checked)
    return CHECK_STATUS_OK;
  if (!(o->user && o->pass) && needs_data(i))
    return CHECK_STATUS_NA_LOGIN;
  return CHECK_STATUS_NOT_JUDGED;
}

const char *check_status_name(check_status s) {
  switch (s) {
  case CHECK_STATUS_OK: return "ok";
  case CHECK_STATUS_VIOLATED: return "VIOLATED";
  case CHECK_STATUS_NOT_JUDGED: return "NOT-JUDGED";
  case CHECK_STATUS_NA_POLICY: return "n/a";
  case CHECK_STATUS_NA_LOGIN: return "n/a";
  }
  return "?";
}

/* top_reason: the commonest reason |s| was inconclusive. */
static check_reason top_reason(const check_inv_stats *s) {
  check_reason best = CHECK_REASON_NONE;
  for (size_t k = 1; k < CHECK_REASON_COUNT; k++)
    if (s->reasons[k] > (best ? s->reasons[best] : 0))
      best = (check_reason)k;
  return best;
}

int check_result(const check_report *r, const check_options *o, char *why, size_t why_len) {
  why[0] = 0;
  if (check_security_violated(r)) {
    snprintf(why, why_len, "security invariant violated");
    return CHECK_RESULT_VIOLATED;
  }
  if (r->no_greeting) {
    snprintf(why, why_len, "%s", r->setup_note);
    return CHECK_RESULT_NOT_JUDGED;
  }
  size_t n = 0, len = 0;
  for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++) {
    oracle_invariant inv = (oracle_invariant)i;
    if (oracle_invariant_severity(inv) != ORACLE_SECURITY ||
        check_inv_status(r, o, inv) != CHECK_STATUS_NOT_JUDGED)
      continue;
    const check_inv_stats *s = &r->inv[i];
    check_reason top = top_reason(s);
    char part[160];
    if (s->inconclusive)
      snprintf(part, sizeof(part), "%s%s (%zu inconclusive, mostly %s)", n ? ", " : "",
               oracle_invariant_name(inv), s->inconclusive, check_reason_name(top));
    else
      snprintf(part, sizeof(part), "%s%s (never tried)", n ? ", " : "", oracle_invariant_name(inv));
    n++;
    if (len + strlen(part) + 1 < why_len) {
      memcpy(why + len, part, strlen(part) + 1);
      len += strlen(part);
    }
  }
  if (!n)
    return CHECK_RESULT_OK;
  char head[64];
  snprintf(head, sizeof(head), "%zu security invariant%s not judged: ", n, n == 1 ? "" : "s");
  size_t hl = strlen(head);
  if (hl + len + 1 <= why_len) {
    memmove(why + hl, why, len + 1);
    memcpy(why, head, hl);
  }
  return CHECK_RESULT_NOT_JUDGED;
}
