/* play.c - see play.h. */
#include "play.h"

#include <stdio.h>
#include <string.h>

#include "ftps_err.h"

judge_config play_judge_config(const play_target *t) {
  judge_config jc = judge_config_default();
  if (t->server != NULL) {
    jc.policy = test_config_model(&t->server->server.policy).policy;
    jc.secret = test_config_secret(t->server, &jc.secret_len);
  }
  return jc;
}

int play_script(const play_target *t, const runner_options *opt, const judge_config *jc,
                const transcript *script, const char *name, transcript *out, play_result *res,
                char *err, size_t err_len) {
  memset(res, 0, sizeof(*res));
  if (name == NULL)
    name = "script";
  if (err_len)
    err[0] = 0;
  int rc;
  if (t->server != NULL) {
    test_config *cfg = t->server;
    const ftps_policy base = cfg->server.policy;
    if (test_config_apply_directives(cfg, script, name, err, err_len) != 0)
      return res->run_rc = RUNNER_ERR_INVAL;
    if (test_config_reset(cfg) != 0) {
      cfg->server.policy = base;
      snprintf(err, err_len, "%s: out of memory (fresh VFS)", name);
      return res->run_rc = RUNNER_ERR_NOMEM;
    }
    rc = runner_run(&cfg->server, script, opt, out, &res->run);
    cfg->server.policy = base;
  } else {
    /* The directives are checked here too: a bad one is bad input on every
     * path, not only in-process. */
    model_policy unused = model_policy_default();
    if (judge_apply_config_lines(&unused, script, name, err, err_len) != 0)
      return res->run_rc = RUNNER_ERR_INVAL;
    rc = runner_run_tcp(t->host, t->port, script, opt, out, &res->run);
  }
  res->run_rc = rc;
  if (rc < 0 || jc == NULL)
    return rc;
  int jr = judge_transcript(jc, out, name, &res->judged, err, err_len);
  if (jr == JUDGE_ERR_NOMEM)
    return res->run_rc = RUNNER_ERR_NOMEM;
  if (jr != JUDGE_OK)
    return res->run_rc = RUNNER_ERR_INVAL;
  return rc;
}

void play_result_cleanup(play_result *res) {
  if (res != NULL)
    judge_result_cleanup(&res->judged);
}
