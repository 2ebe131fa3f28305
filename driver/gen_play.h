/* gen_play.h - plays generator scripts against the in-process server and
 * judges them with the oracle: the gen_play_fn (model/gen.h) behind
 * `ftpsfuzz gen` and test_gen. Lives in driver/ because it needs the server;
 * model/ never does. */
#ifndef GEN_PLAY_H
#define GEN_PLAY_H

#include "gen.h"
#include "model.h"
#include "test_config.h"
#include "transcript.h"

typedef struct gen_player {
  test_config cfg;
  model_config model;    /* what the oracle judges against */
  ftps_policy policy;    /* the server policy matching |model|'s policy */
  bool ready;
} gen_player;

/* gen_player_init builds the built-in test configuration with the policy of
 * |model| (TLS for login/data, anonymous, CCC). Returns 0 or a negative
 * FTPS_ERR_*. */
int gen_player_init(gen_player *p, const model_config *model);
void gen_player_cleanup(gen_player *p); /* accepts a zeroed player */

/* gen_player_play is a gen_play_fn (|ctx| is a gen_player): a fresh VFS and
 * the player's policy (plus the script's "# config:" lines), runner_run, then
 * the oracle over the produced transcript. If |out| is not NULL the produced
 * transcript is appended to it. */
int gen_player_play(void *ctx, const transcript *script, gen_play_result *res);
int gen_player_play_out(gen_player *p, const transcript *script, gen_play_result *res,
                        transcript *out);

#endif
