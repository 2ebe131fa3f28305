/* judge.h - the one way a transcript is judged.
 *
 * Every verdict of the toolkit comes from judge_transcript: `ftpsfuzz
 * oracle`, `run --oracle` (in-process and --connect), `gen`, `model
 * --coverage`, the fuzz_sequence harness and `check` (through driver/play.h
 * where a script is played first). So the same transcript gets the same
 * verdict from every command.
 *
 * What it does, in order:
 * - the model configuration is |profile| and |policy|, then the transcript's
 *   own "# config: key=value" lines (judge_apply_config_lines), so a
 *   transcript carries the policy it was played under;
 * - the oracle (oracle.h) is fed every step; |secret|, when given, is the
 *   account's real password for NO_SECRET_ECHO (PASS arguments are judged
 *   too, always);
 * - |cover_fn| sees every transition taken.
 * The oracle is kept in the result for the caller's questions (violations,
 * state, coverage) until judge_result_cleanup. */
#ifndef JUDGE_H
#define JUDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "oracle.h"
#include "transcript.h"

/* Errors (one space with model/'s other functions: negative). */
enum { JUDGE_OK = 0, JUDGE_ERR_NOMEM = -1, JUDGE_ERR_INVAL = -2 };

#define JUDGE_SECRET_MAX 256u

typedef struct judge_config {
  model_profile profile;
  model_policy policy;       /* before the transcript's "# config:" lines */
  bool all;                  /* record every violation, not only the first */
  bool implicit_tls;         /* the connection was TLS from the first byte (ftps://) */
  const void *secret;        /* the account's password, or NULL */
  size_t secret_len;
  oracle_cover_fn cover_fn;  /* may be NULL */
  void *cover_ctx;
} judge_config;

typedef struct judge_result {
  oracle *o;                 /* after oracle_finish; owned, NULL on error */
  model_config model;        /* what was judged against */
  size_t violations;         /* oracle_violation_count */
} judge_result;

/* judge_config_default: the default profile and the built-in policy
 * (model_policy_default), first violation only, no secret, no coverage. */
judge_config judge_config_default(void);

/* judge_transcript judges |t| as described above and fills |*r| (always
 * initialised; call judge_result_cleanup). Returns JUDGE_OK,
 * JUDGE_ERR_INVAL with "NAME:LINE: why" in |err| for a malformed
 * "# config:" line (|name| names the transcript), or JUDGE_ERR_NOMEM. */
int judge_transcript(const judge_config *jc, const transcript *t, const char *name,
                     judge_result *r, char *err, size_t err_len);

void judge_result_cleanup(judge_result *r); /* accepts a zeroed result */

/* judge_first_violation formats the first violation ("VIOLATION ...") into
 * |buf|; returns false (and "OK") when there is none. */
bool judge_first_violation(const judge_result *r, char *buf, size_t buf_len);

/* --- "# config:" lines (DESIGN section 4) ---
 * The keys and their values: ccc, anonymous, tls_login, tls_data,
 * tls_reuse = on|off; max_failures = 1..1000; fail_delay = 0..86400000 (ms).
 * The model has parameters for the first four; the others configure only
 * the server and are checked here, then left to it. */
#define JUDGE_CONFIG_KEYS \
  "ccc|anonymous|tls_login|tls_data|tls_reuse=on|off, max_failures=1..1000, fail_delay=MS"

/* A key's place in the model policy, or where a server-only value goes. */
typedef enum judge_config_key {
  JUDGE_KEY_CCC,
  JUDGE_KEY_ANONYMOUS,
  JUDGE_KEY_TLS_LOGIN,
  JUDGE_KEY_TLS_DATA,
  JUDGE_KEY_TLS_REUSE,
  JUDGE_KEY_MAX_FAILURES,
  JUDGE_KEY_FAIL_DELAY,
} judge_config_key;

/* judge_parse_config_item parses one "key=value" (|len| bytes): the key into
 * |*key| and its value into |*value| (on = 1, off = 0, numbers as they are).
 * Returns false if the key is unknown or the value out of range. Used by
 * the server configuration too (driver/test_config.c), so both read the
 * same keys the same way. */
bool judge_parse_config_item(const char *kv, size_t len, judge_config_key *key,
                             unsigned long *value);

/* judge_for_each_config_item calls |fn| for each key=value of every
 * "# config:" comment of |t|, in order. Returns 0, the first non-zero
 * value |fn| returns, or JUDGE_ERR_INVAL with "NAME:LINE: why" in |err| for
 * a malformed item or an empty "config:" line. */
typedef int (*judge_config_fn)(void *ctx, judge_config_key key, unsigned long value);
int judge_for_each_config_item(const transcript *t, const char *name, judge_config_fn fn,
                               void *ctx, char *err, size_t err_len);

/* judge_apply_config_lines applies |t|'s "# config:" lines to |*p| (the
 * model's four parameters). Returns 0 or JUDGE_ERR_INVAL (|err| as above). */
int judge_apply_config_lines(model_policy *p, const transcript *t, const char *name, char *err,
                             size_t err_len);

#endif
