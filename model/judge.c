/* judge.c - see judge.h. */
#include "judge.h"

#include <stdio.h>
#include <string.h>

judge_config judge_config_default(void) {
  judge_config jc;
  memset(&jc, 0, sizeof(jc));
  jc.profile = MODEL_PROFILE_DEFAULT;
  jc.policy = model_policy_default();
  return jc;
}

/* --- "# config:" items --- */

static bool parse_number(const char *v, size_t len, unsigned long max, unsigned long *out) {
  unsigned long n = 0;
  if (len == 0 || len > 9)
    return false;
  for (size_t i = 0; i < len; i++) {
    if (v[i] < '0' || v[i] > '9')
      return false;
    n = n * 10 + (unsigned long)(v[i] - '0');
  }
  if (n > max)
    return false;
  *out = n;
  return true;
}

bool judge_parse_config_item(const char *kv, size_t len, judge_config_key *key,
                             unsigned long *value) {
  static const struct {
    const char *name;
    judge_config_key key;
    unsigned long min, max; /* max 1 with min 0: on|off */
  } keys[] = {
      {"ccc", JUDGE_KEY_CCC, 0, 1},
      {"anonymous", JUDGE_KEY_ANONYMOUS, 0, 1},
      {"tls_login", JUDGE_KEY_TLS_LOGIN, 0, 1},
      {"tls_data", JUDGE_KEY_TLS_DATA, 0, 1},
      {"tls_reuse", JUDGE_KEY_TLS_REUSE, 0, 1},
      {"max_failures", JUDGE_KEY_MAX_FAILURES, 1, 1000},
      {"fail_delay", JUDGE_KEY_FAIL_DELAY, 0, 86400000},
  };
  const char *eq = memchr(kv, '=', len);
  if (eq == NULL)
    return false;
  size_t klen = (size_t)(eq - kv), vlen = len - klen - 1;
  const char *v = eq + 1;
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    if (strlen(keys[i].name) != klen || memcmp(keys[i].name, kv, klen) != 0)
      continue;
    *key = keys[i].key;
    if (keys[i].max == 1) {
      if (vlen == 2 && !memcmp(v, "on", 2))
        *value = 1;
      else if (vlen == 3 && !memcmp(v, "off", 3))
        *value = 0;
      else
        return false;
      return true;
    }
    return parse_number(v, vlen, keys[i].max, value) && *value >= keys[i].min;
  }
  return false;
}

int judge_for_each_config_item(const transcript *t, const char *name, judge_config_fn fn,
                               void *ctx, char *err, size_t err_len) {
  static const char tag[] = "config:";
  for (size_t i = 0; i < t->n; i++) {
    const transcript_step *st = &t->steps[i];
    if (st->kind != TRANSCRIPT_COMMENT)
      continue;
    const char *s = (const char *)st->data;
    size_t len = st->len, pos = 0;
    while (pos < len && s[pos] == ' ')
      pos++;
    if (len - pos < sizeof(tag) - 1 || memcmp(s + pos, tag, sizeof(tag) - 1) != 0)
      continue;
    pos += sizeof(tag) - 1;
    bool any = false;
    for (;;) {
      while (pos < len && s[pos] == ' ')
        pos++;
      if (pos == len)
        break;
      size_t start = pos;
      while (pos < len && s[pos] != ' ')
        pos++;
      judge_config_key key;
      unsigned long value;
      if (!judge_parse_config_item(s + start, pos - start, &key, &value)) {
        snprintf(err, err_len, "%s:%u: expected config directive key=value (%s), got '%.*s'",
                 name, st->line, JUDGE_CONFIG_KEYS, (int)(pos - start > 64 ? 64 : pos - start),
                 s + start);
        return JUDGE_ERR_INVAL;
      }
      int rc = fn(ctx, key, value);
      if (rc != 0)
        return rc;
      any = true;
    }
    if (!any) {
      snprintf(err, err_len, "%s:%u: expected at least one key=value after 'config:'", name,
               st->line);
      return JUDGE_ERR_INVAL;
    }
  }
  return 0;
}

static int apply_model_item(void *ctx, judge_config_key key, unsigned long value) {
  model_policy *p = ctx;
  switch (key) {
  case JUDGE_KEY_CCC: p->ccc = value != 0; break;
  case JUDGE_KEY_ANONYMOUS: p->anon = value != 0; break;
  case JUDGE_KEY_TLS_LOGIN: p->tls_login = value != 0; break;
  case JUDGE_KEY_TLS_DATA: p->tls_data = value != 0; break;
  case JUDGE_KEY_TLS_REUSE:    /* the server's choice among replies the model allows */
  case JUDGE_KEY_MAX_FAILURES: /* 421 after failures: allowed for every command */
  case JUDGE_KEY_FAIL_DELAY:   /* timing only */
    break;
  }
  return 0;
}

int judge_apply_config_lines(model_policy *p, const transcript *t, const char *name, char *err,
                             size_t err_len) {
  return judge_for_each_config_item(t, name, apply_model_item, p, err, err_len);
}

/* --- judging --- */

int judge_transcript(const judge_config *jc, const transcript *t, const char *name,
                     judge_result *r, char *err, size_t err_len) {
  memset(r, 0, sizeof(*r));
  model_policy policy = jc->policy;
  if (judge_apply_config_lines(&policy, t, name ? name : "transcript", err, err_len) != 0)
    return JUDGE_ERR_INVAL;
  r->model = model_config_make(jc->profile, &policy);
  r->model.implicit_tls = jc->implicit_tls;
  r->o = oracle_new(&r->model, jc->all);
  if (r->o == NULL) {
    snprintf(err, err_len, "%s: out of memory in the oracle", name ? name : "transcript");
    return JUDGE_ERR_NOMEM;
  }
  if (jc->secret != NULL && jc->secret_len > 0)
    oracle_set_secret(r->o, jc->secret, jc->secret_len);
  if (jc->cover_fn != NULL)
    oracle_set_cover_fn(r->o, jc->cover_fn, jc->cover_ctx);
  for (size_t i = 0; i < t->n; i++)
    if (oracle_step(r->o, &t->steps[i]) && !jc->all)
      break;
  r->violations = oracle_finish(r->o);
  return JUDGE_OK;
}

void judge_result_cleanup(judge_result *r) {
  if (r == NULL)
    return;
  oracle_free(r->o);
  r->o = NULL;
}

bool judge_first_violation(const judge_result *r, char *buf, size_t buf_len) {
  const oracle_violation *v = r->o ? oracle_violation_at(r->o, 0) : NULL;
  if (v == NULL) {
    snprintf(buf, buf_len, "OK");
    return false;
  }
  oracle_format_violation(v, buf, buf_len);
  return true;
}
