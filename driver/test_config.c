/* test_config.c - the built-in test configuration (DESIGN section 7). */
#include "test_config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftps_err.h"
#include "ftps_tls.h"

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static SSL_CTX *tls_ctx;

static void tls_build(void) {
  tls_ctx = ftps_tls_server_ctx_new_self_signed("localhost");
}

SSL_CTX *test_config_tls_ctx(void) {
  pthread_once(&tls_once, tls_build);
  return tls_ctx;
}

static ftps_vfs *fixture_vfs(void) {
  static const char hello[] = "hello\n";
  ftps_vfs *vfs = ftps_vfs_mem_new(TEST_CONFIG_VFS_MAX_BYTES, TEST_CONFIG_MTIME);
  if (vfs == NULL)
    return NULL;
  if (vfs->ops->mkdir(vfs, "/pub") != 0 || vfs->ops->mkdir(vfs, "/upload") != 0 ||
      ftps_vfs_mem_put(vfs, "/pub/hello.txt", hello, sizeof(hello) - 1) != 0) {
    ftps_vfs_free(vfs);
    return NULL;
  }
  return vfs;
}

int test_config_init(test_config *cfg) {
  static const char password[] = TEST_CONFIG_PASSWORD;
  int rc = FTPS_ERR_NOMEM;
  memset(cfg, 0, sizeof(*cfg));
  cfg->users = ftps_users_new();
  if (cfg->users == NULL)
    goto err;
  rc = ftps_users_add(cfg->users, "alice", password, sizeof(password) - 1,
                      FTPS_USERS_TEST_ITERATIONS);
  if (rc != 0)
    goto err;
  rc = FTPS_ERR_NOMEM;
  cfg->vfs = fixture_vfs();
  if (cfg->vfs == NULL)
    goto err;
  rc = FTPS_ERR_TLS;
  cfg->server.tls_ctx = test_config_tls_ctx();
  if (cfg->server.tls_ctx == NULL)
    goto err;
  cfg->server.policy = ftps_policy_default();
  cfg->server.users = cfg->users;
  cfg->server.vfs = cfg->vfs;
  cfg->server.greeting = NULL;
  return 0;
err:
  test_config_cleanup(cfg);
  return rc;
}

int test_config_reset(test_config *cfg) {
  ftps_vfs *vfs = fixture_vfs();
  if (vfs == NULL)
    return FTPS_ERR_NOMEM;
  ftps_vfs_free(cfg->vfs);
  cfg->vfs = vfs;
  cfg->server.vfs = vfs;
  return 0;
}

void test_config_cleanup(test_config *cfg) {
  ftps_vfs_free(cfg->vfs);
  ftps_users_free(cfg->users);
  memset(cfg, 0, sizeof(*cfg));
}

/* parse_switch reads "on"/"off" (|len| bytes at |v|). */
static bool parse_switch(const char *v, size_t len, bool *out) {
  if (len == 2 && memcmp(v, "on", 2) == 0) {
    *out = true;
    return true;
  }
  if (len == 3 && memcmp(v, "off", 3) == 0) {
    *out = false;
    return true;
  }
  return false;
}

static bool parse_uint(const char *v, size_t len, unsigned long max, unsigned long *out) {
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

/* apply_one applies "key=value" (|len| bytes). */
static bool apply_one(ftps_policy *p, const char *kv, size_t len) {
  const char *eq = memchr(kv, '=', len);
  if (eq == NULL)
    return false;
  size_t klen = (size_t)(eq - kv);
  const char *v = eq + 1;
  size_t vlen = len - klen - 1;
  static const struct {
    const char *key;
    size_t off;
  } switches[] = {
      {"ccc", offsetof(ftps_policy, ccc_allowed)},
      {"anonymous", offsetof(ftps_policy, anonymous)},
      {"tls_login", offsetof(ftps_policy, tls_required_login)},
      {"tls_data", offsetof(ftps_policy, tls_required_data)},
      {"tls_reuse", offsetof(ftps_policy, require_tls_reuse)},
  };
  for (size_t i = 0; i < sizeof(switches) / sizeof(switches[0]); i++)
    if (strlen(switches[i].key) == klen && memcmp(switches[i].key, kv, klen) == 0)
      return parse_switch(v, vlen, (bool *)((char *)p + switches[i].off));
  unsigned long n;
  if (klen == 12 && memcmp(kv, "max_failures", 12) == 0) {
    if (!parse_uint(v, vlen, 1000, &n) || n == 0)
      return false;
    p->max_login_failures = (unsigned)n;
    return true;
  }
  if (klen == 10 && memcmp(kv, "fail_delay", 10) == 0) {
    if (!parse_uint(v, vlen, 86400000, &n))
      return false;
    p->login_fail_delay_ms = (uint32_t)n;
    return true;
  }
  return false;
}

int test_config_apply_directives(test_config *cfg, const transcript *script, const char *name,
                                 char *err, size_t err_len) {
  static const char tag[] = "config:";
  for (size_t i = 0; i < script->n; i++) {
    const transcript_step *st = &script->steps[i];
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
      if (!apply_one(&cfg->server.policy, s + start, pos - start)) {
        snprintf(err, err_len,
                 "%s:%u: expected config directive key=value (ccc|anonymous|tls_login|"
                 "tls_data|tls_reuse=on|off, max_failures=1..1000, fail_delay=MS), got '%.*s'",
                 name, st->line, (int)(pos - start > 64 ? 64 : pos - start), s + start);
        return FTPS_ERR_INVAL;
      }
      any = true;
    }
    if (!any) {
      snprintf(err, err_len, "%s:%u: expected at least one key=value after 'config:'", name,
               st->line);
      return FTPS_ERR_INVAL;
    }
  }
  return 0;
}

int test_config_load_file(test_config *cfg, const char *path, char *err, size_t err_len) {
  (void)cfg;
  /* Hook for `--config FILE` (DESIGN section 7): a later issue defines the
   * file format; until then every caller gets a clear refusal. */
  snprintf(err, err_len, "%s: --config is not yet supported", path);
  return FTPS_ERR_INVAL;
}

model_config test_config_model(const ftps_policy *policy) {
  model_policy mp = model_policy_default();
  mp.tls_login = policy->tls_required_login;
  mp.tls_data = policy->tls_required_data;
  mp.anon = policy->anonymous;
  mp.ccc = policy->ccc_allowed;
  return model_config_make(MODEL_PROFILE_DEFAULT, &mp);
}
