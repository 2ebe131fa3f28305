/* gen_play.c - see gen_play.h. */
#include "gen_play.h"

#include <stdio.h>
#include <string.h>

#include "oracle.h"
#include "play.h"
#include "transcript_event.h"

int gen_player_init(gen_player *p, const model_config *model) {
  memset(p, 0, sizeof(*p));
  int rc = test_config_init(&p->cfg);
  if (rc != 0)
    return rc;
  p->model = *model;
  p->policy = p->cfg.server.policy;
  p->policy.tls_required_login = model->policy.tls_login;
  p->policy.tls_required_data = model->policy.tls_data;
  p->policy.anonymous = model->policy.anon;
  p->policy.ccc_allowed = model->policy.ccc;
  p->ready = true;
  return 0;
}

void gen_player_cleanup(gen_player *p) {
  if (p && p->ready)
    test_config_cleanup(&p->cfg);
  if (p)
    p->ready = false;
}

static void on_row(void *ctx, const oracle *o, int row) {
  (void)o;
  gen_play_result *res = ctx;
  if (row < 0)
    return;
  if (res->n_rows == GEN_PLAY_ROWS_MAX) {
    res->rows_truncated = true;
    return;
  }
  res->rows[res->n_rows++] = (uint16_t)row;
}

int gen_player_play_out(gen_player *p, const transcript *script, gen_play_result *res,
                        transcript *keep) {
  transcript out;
  char err[512];
  int rc = -1;
  play_result pr;
  memset(&pr, 0, sizeof(pr));
  transcript_init(&out);
  memset(res, 0, sizeof(*res));
  if (!p->ready)
    goto done;
  p->cfg.server.policy = p->policy;
  play_target t = {.server = &p->cfg};
  judge_config jc = play_judge_config(&t);
  jc.profile = p->model.profile;
  jc.cover_fn = on_row;
  jc.cover_ctx = res;
  if (play_script(&t, NULL, &jc, script, "script", &out, &pr, err, sizeof(err)) < 0)
    goto done;
  res->violations = pr.judged.violations;
  if (res->violations)
    judge_first_violation(&pr.judged, res->violation, sizeof(res->violation));
  res->state = *oracle_state(pr.judged.o);
  for (size_t i = 0; i < out.n; i++) {
    const transcript_step *st = &out.steps[i];
    if (transcript_event_is(st, TRANSCRIPT_EV_DATA_TLS) ||
        transcript_event_is(st, TRANSCRIPT_EV_DATA_CLEAR))
      res->data_moved++;
  }
  if (keep && gen_copy_steps(keep, &out) != 0)
    goto done;
  rc = 0;
done:
  play_result_cleanup(&pr);
  transcript_cleanup(&out);
  return rc;
}

int gen_player_play(void *ctx, const transcript *script, gen_play_result *res) {
  return gen_player_play_out(ctx, script, res, NULL);
}
