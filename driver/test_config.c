/* test_config.c - the built-in test configuration (DESIGN section 7), the
 * "# config:" script directives and `--config FILE` (format: test_config.h). */
#include "test_config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftps_err.h"
#include "ftps_tls.h"
#include "judge.h"
#include "test_config_int.h"

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
  ftps_vfs *vfs = cfg->tree != NULL ? test_config_tree_vfs(cfg->tree) : fixture_vfs();
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
  test_config_tree_free(cfg->tree);
  free(cfg->greeting);
  memset(cfg, 0, sizeof(*cfg));
}

/* apply_item applies one parsed "key=value" (judge.h: one parser of the
 * keys for the server and the oracle) to a server policy. */
static int apply_item(void *ctx, judge_config_key key, unsigned long value) {
  ftps_policy *p = ctx;
  switch (key) {
  case JUDGE_KEY_CCC: p->ccc_allowed = value != 0; break;
  case JUDGE_KEY_ANONYMOUS: p->anonymous = value != 0; break;
  case JUDGE_KEY_TLS_LOGIN: p->tls_required_login = value != 0; break;
  case JUDGE_KEY_TLS_DATA: p->tls_required_data = value != 0; break;
  case JUDGE_KEY_TLS_REUSE: p->require_tls_reuse = value != 0; break;
  case JUDGE_KEY_MAX_FAILURES: p->max_login_failures = (unsigned)value; break;
  case JUDGE_KEY_FAIL_DELAY: p->login_fail_delay_ms = (uint32_t)value; break;
  }
  return 0;
}

/* apply_one applies "key=value" (|len| bytes). */
static bool apply_one(ftps_policy *p, const char *kv, size_t len) {
  judge_config_key key;
  unsigned long value;
  if (!judge_parse_config_item(kv, len, &key, &value))
    return false;
  apply_item(p, key, value);
  return true;
}

int test_config_apply_directives(test_config *cfg, const transcript *script, const char *name,
                                 char *err, size_t err_len) {
  ftps_policy p = cfg->server.policy;
  if (judge_for_each_config_item(script, name, apply_item, &p, err, err_len) != 0)
    return FTPS_ERR_INVAL;
  cfg->server.policy = p; /* all or nothing */
  return 0;
}

/* --- `--config FILE` (format: test_config.h) --- */

/* config_load is one configuration file being read: what it sets is kept
 * aside and given to the test_config only once the whole file is good. */
typedef struct config_load {
  const char *path;
  FILE *notes;
  char *err;
  size_t err_len;
  ftps_policy policy;
  ftps_users *users;      /* users= given: replaces the built-in store */
  test_config_tree *tree; /* tree= given, with its first VFS */
  ftps_vfs *vfs;
  char *greeting;
  unsigned tree_line, greeting_line;
} config_load;

static void config_load_free(config_load *l) {
  ftps_users_free(l->users);
  test_config_tree_free(l->tree);
  ftps_vfs_free(l->vfs);
  free(l->greeting);
}

static bool key_is(const char *k, size_t klen, const char *key) {
  return strlen(key) == klen && memcmp(k, key, klen) == 0;
}

/* resolve_path writes |v| (|vlen| bytes) into |out|: as given when absolute,
 * else relative to the directory of the configuration file |conf|. */
static bool resolve_path(const char *conf, const char *v, size_t vlen, char *out,
                         size_t out_len) {
  size_t dlen = 0;
  if (v[0] != '/') {
    const char *slash = strrchr(conf, '/');
    if (slash != NULL)
      dlen = (size_t)(slash - conf) + 1;
  }
  if (dlen + vlen >= out_len)
    return false;
  memcpy(out, conf, dlen);
  memcpy(out + dlen, v, vlen);
  out[dlen + vlen] = '\0';
  return true;
}

/* path_value checks and resolves the PATH of "key=PATH" on line |ln|. */
static int path_value(config_load *l, unsigned ln, const char *key, const char *v, size_t vlen,
                      char *out, size_t out_len) {
  if (vlen == 0) {
    snprintf(l->err, l->err_len, "%s:%u: expected %s=PATH, got an empty PATH", l->path, ln, key);
    return FTPS_ERR_INVAL;
  }
  if (!resolve_path(l->path, v, vlen, out, out_len)) {
    snprintf(l->err, l->err_len, "%s:%u: expected a %s=PATH shorter than %zu bytes", l->path, ln,
             key, out_len);
    return FTPS_ERR_INVAL;
  }
  return 0;
}

static int load_users(config_load *l, unsigned ln, const char *v, size_t vlen) {
  char full[PATH_MAX], uerr[512] = "out of memory";
  int rc = path_value(l, ln, "users", v, vlen, full, sizeof(full));
  if (rc != 0)
    return rc;
  if (l->users == NULL && (l->users = ftps_users_new()) == NULL) {
    snprintf(l->err, l->err_len, "%s:%u: out of memory", l->path, ln);
    return FTPS_ERR_NOMEM;
  }
  rc = ftps_users_load(l->users, full, uerr, sizeof(uerr));
  if (rc != 0)
    snprintf(l->err, l->err_len, "%s:%u: users=%.*s: %s", l->path, ln, (int)vlen, v, uerr);
  return rc;
}

static int load_tree(config_load *l, unsigned ln, const char *v, size_t vlen) {
  char full[PATH_MAX], where[512];
  if (l->tree != NULL) {
    snprintf(l->err, l->err_len, "%s:%u: expected tree= at most once (already on line %u)",
             l->path, ln, l->tree_line);
    return FTPS_ERR_INVAL;
  }
  int rc = path_value(l, ln, "tree", v, vlen, full, sizeof(full));
  if (rc != 0)
    return rc;
  snprintf(where, sizeof(where), "%s:%u: tree=%.*s", l->path, ln, (int)(vlen > 256 ? 256 : vlen),
           v);
  rc = test_config_tree_load(&l->tree, &l->vfs, full, where, l->notes, l->err, l->err_len);
  l->tree_line = ln;
  return rc;
}

static int load_greeting(config_load *l, unsigned ln, const char *v, size_t vlen) {
  if (l->greeting != NULL) {
    snprintf(l->err, l->err_len, "%s:%u: expected greeting= at most once (already on line %u)",
             l->path, ln, l->greeting_line);
    return FTPS_ERR_INVAL;
  }
  bool printable = vlen > 0 && vlen <= TEST_CONFIG_GREETING_MAX;
  for (size_t i = 0; printable && i < vlen; i++)
    printable = v[i] >= 0x20 && v[i] <= 0x7e;
  if (!printable) {
    snprintf(l->err, l->err_len, "%s:%u: expected greeting=TEXT, 1..%u printable ASCII bytes",
             l->path, ln, TEST_CONFIG_GREETING_MAX);
    return FTPS_ERR_INVAL;
  }
  if ((l->greeting = malloc(vlen + 1)) == NULL) {
    snprintf(l->err, l->err_len, "%s:%u: out of memory", l->path, ln);
    return FTPS_ERR_NOMEM;
  }
  memcpy(l->greeting, v, vlen);
  l->greeting[vlen] = '\0';
  l->greeting_line = ln;
  return 0;
}

/* load_line applies one "key=value" line (|len| bytes, trimmed). */
static int load_line(config_load *l, unsigned ln, const char *line, size_t len) {
  const char *eq = memchr(line, '=', len);
  if (eq != NULL) {
    size_t klen = (size_t)(eq - line);
    const char *v = eq + 1;
    size_t vlen = len - klen - 1;
    if (key_is(line, klen, "users"))
      return load_users(l, ln, v, vlen);
    if (key_is(line, klen, "tree"))
      return load_tree(l, ln, v, vlen);
    if (key_is(line, klen, "greeting"))
      return load_greeting(l, ln, v, vlen);
    if (apply_one(&l->policy, line, len))
      return 0;
  }
  snprintf(l->err, l->err_len,
           "%s:%u: expected key=value (%s, users=PATH, tree=PATH, greeting=TEXT), got '%.*s'",
           l->path, ln, JUDGE_CONFIG_KEYS, (int)(len > 64 ? 64 : len), line);
  return FTPS_ERR_INVAL;
}

/* read_config reads the whole file |path| (at most TEST_CONFIG_FILE_MAX
 * bytes) into a malloc'd |*out|. */
static int read_config(const char *path, char **out, size_t *out_len, char *err,
                       size_t err_len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(err, err_len, "%s: cannot open the configuration file: %s", path, strerror(errno));
    return FTPS_ERR_IO;
  }
  char *buf = malloc(TEST_CONFIG_FILE_MAX + 1);
  if (buf == NULL) {
    fclose(f);
    snprintf(err, err_len, "%s: out of memory", path);
    return FTPS_ERR_NOMEM;
  }
  size_t n = fread(buf, 1, TEST_CONFIG_FILE_MAX + 1, f);
  int rc = 0;
  if (ferror(f)) {
    snprintf(err, err_len, "%s: cannot read the configuration file: %s", path, strerror(errno));
    rc = FTPS_ERR_IO;
  } else if (n > TEST_CONFIG_FILE_MAX) {
    snprintf(err, err_len, "%s: expected a configuration file of at most %u bytes", path,
             TEST_CONFIG_FILE_MAX);
    rc = FTPS_ERR_INVAL;
  }
  fclose(f);
  if (rc != 0) {
    free(buf);
    return rc;
  }
  *out = buf;
  *out_len = n;
  return 0;
}

int test_config_load_file(test_config *cfg, const char *path, FILE *notes, char *err,
                          size_t err_len) {
  config_load l = {.path = path, .notes = notes, .err = err, .err_len = err_len,
                   .policy = cfg->server.policy};
  char *buf;
  size_t len, pos = 0;
  unsigned ln = 0;
  int rc = read_config(path, &buf, &len, err, err_len);
  if (rc != 0)
    return rc;
  while (rc == 0 && pos < len) {
    const char *line = buf + pos;
    const char *nl = memchr(line, '\n', len - pos);
    size_t llen = nl != NULL ? (size_t)(nl - line) : len - pos;
    pos += llen + (nl != NULL);
    ln++;
    if (llen > TEST_CONFIG_LINE_MAX) {
      snprintf(err, err_len, "%s:%u: expected a line of at most %u bytes", path, ln,
               TEST_CONFIG_LINE_MAX);
      rc = FTPS_ERR_INVAL;
    } else if (memchr(line, '\0', llen) != NULL) {
      snprintf(err, err_len, "%s:%u: expected text, got a NUL byte", path, ln);
      rc = FTPS_ERR_INVAL;
    } else {
      while (llen > 0 && (line[llen - 1] == '\r' || line[llen - 1] == ' ' || line[llen - 1] == '\t'))
        llen--;
      while (llen > 0 && (line[0] == ' ' || line[0] == '\t')) {
        line++;
        llen--;
      }
      if (llen > 0 && line[0] != '#')
        rc = load_line(&l, ln, line, llen);
    }
  }
  free(buf);
  if (rc != 0) {
    config_load_free(&l);
    return rc;
  }
  cfg->server.policy = l.policy;
  if (l.users != NULL) {
    ftps_users_free(cfg->users);
    cfg->users = l.users;
    cfg->users_loaded = true;
    cfg->server.users = l.users;
  }
  if (l.tree != NULL) {
    test_config_tree_free(cfg->tree);
    ftps_vfs_free(cfg->vfs);
    cfg->tree = l.tree;
    cfg->vfs = l.vfs;
    cfg->server.vfs = l.vfs;
  }
  if (l.greeting != NULL) {
    free(cfg->greeting);
    cfg->greeting = l.greeting;
    cfg->server.greeting = l.greeting;
  }
  return 0;
}

model_config test_config_model(const ftps_policy *policy) {
  model_policy mp = model_policy_default();
  mp.tls_login = policy->tls_required_login;
  mp.tls_data = policy->tls_required_data;
  mp.anon = policy->anonymous;
  mp.ccc = policy->ccc_allowed;
  return model_config_make(MODEL_PROFILE_DEFAULT, &mp);
}

const char *test_config_secret(const test_config *cfg, size_t *out_len) {
  if (cfg->users_loaded) {
    *out_len = 0;
    return NULL; /* only hashes are known */
  }
  *out_len = sizeof(TEST_CONFIG_PASSWORD) - 1;
  return TEST_CONFIG_PASSWORD;
}
