/* check_judge.c - judge one live transcript (see check.h) with the one judge
 * (judge.h), every violation. Which invariants the sequence decided is
 * check_verdict.c's job. */
#include "check.h"

#include <stdio.h>
#include <string.h>

#include "judge.h"

long check_judge(const model_config *cfg, const char *secret, const transcript *got,
                 bool *violated, char (*why)[512]) {
  for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++) {
    violated[i] = false;
    if (why)
      why[i][0] = 0;
  }
  /* The account's password, as given; the scripts' "# config:" lines were
   * dropped by check_adapt, so the declared policy is the one judged
   * against. */
  judge_config jc = judge_config_default();
  jc.profile = cfg->profile;
  jc.policy = cfg->policy;
  jc.all = true;
  jc.implicit_tls = cfg->implicit_tls;
  if (secret != NULL) {
    jc.secret = secret;
    jc.secret_len = strlen(secret);
  }
  judge_result jr;
  char err[256];
  if (judge_transcript(&jc, got, "sequence", &jr, err, sizeof(err)) != JUDGE_OK) {
    judge_result_cleanup(&jr);
    return -1;
  }
  long n = (long)jr.violations;
  for (size_t i = 0;; i++) {
    const oracle_violation *v = oracle_violation_at(jr.o, i);
    if (!v)
      break;
    if ((unsigned)v->inv >= ORACLE_INVARIANT_COUNT)
      continue;
    if (!violated[v->inv] && why)
      oracle_format_violation(v, why[v->inv], sizeof(why[v->inv]));
    violated[v->inv] = true;
  }
  judge_result_cleanup(&jr);
  return n;
}
