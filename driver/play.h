/* play.h - play a client script and judge what happened: the one path.
 *
 * `run --oracle` (in-process and --connect), `gen`, `model --coverage`, the
 * fuzz_sequence harness and `check` all come through play_script, and
 * `ftpsfuzz oracle` through judge_transcript (model/judge.h) directly, so a
 * transcript gets the same verdict whichever command judged it:
 * - the script's "# config:" lines set the in-process server's policy for
 *   this play (restored afterwards) and, because the runner copies them into
 *   the transcript, the model policy the judge uses; over TCP they only tell
 *   the judge the server's declared policy;
 * - "# client:" lines steer the runner (runner.h);
 * - in-process, each play gets a fresh VFS and the judge's base policy is
 *   the model policy matching the server's (test_config_model), with the
 *   built-in account's password as the secret (test_config_secret);
 * - the transport is the in-process runner (runner_run) or TCP
 *   (runner_run_tcp), chosen by the target. */
#ifndef PLAY_H
#define PLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "judge.h"
#include "runner.h"
#include "test_config.h"
#include "transcript.h"

typedef struct play_target {
  test_config *server;     /* in-process target, or NULL for host/port */
  const char *host, *port; /* TCP target (numeric or a name; callers restrict it) */
} play_target;

typedef struct play_result {
  int run_rc;              /* what the runner returned (RUNNER_*) */
  runner_result run;
  judge_result judged;     /* judged.o is NULL when no judge was asked for */
} play_result;

/* play_judge_config returns the judge configuration that matches |t|:
 * in-process, the model policy of the server's policy and the built-in
 * account's secret; over TCP, judge_config_default(). Callers change fields
 * (all, cover_fn, secret) before play_script. */
judge_config play_judge_config(const play_target *t);

/* play_script plays |script| on |t| and, when |jc| is not NULL, judges the
 * produced transcript (appended to |out|) with it. |opt| may be NULL. Fills
 * |*res| (always; release with play_result_cleanup). Returns the runner's
 * value (RUNNER_OK, RUNNER_MISMATCH, RUNNER_LIMIT, RUNNER_TIMEOUT) when the
 * script was played, or a negative RUNNER_ERR_*: RUNNER_ERR_INVAL with
 * "NAME:LINE: why" in |err| for a bad "# config:" line, RUNNER_ERR_NOMEM,
 * RUNNER_ERR_CONNECT. The judge runs whenever the script was played. */
int play_script(const play_target *t, const runner_options *opt, const judge_config *jc,
                const transcript *script, const char *name, transcript *out, play_result *res,
                char *err, size_t err_len);

void play_result_cleanup(play_result *res); /* accepts a zeroed result */

#endif
