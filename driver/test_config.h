/* test_config.h - the built-in test configuration (DESIGN section 7).
 *
 * Policy ftps_policy_default() (TLS required for login and data, anonymous
 * off, CCC off); one SSL_CTX with a self-signed "localhost" certificate, built
 * once per process and shared; one user alice / wonderland hashed with
 * FTPS_USERS_TEST_ITERATIONS; an in-memory tree holding /pub/hello.txt
 * ("hello\n") and an empty /upload/, every object stamped TEST_CONFIG_MTIME.
 *
 * Each test_config owns its users and VFS; test_config_reset() gives it a
 * fresh VFS so consecutive runs are independent.
 *
 * `--config FILE` (test_config_load_file) changes the built-in configuration.
 * The file is text, at most TEST_CONFIG_FILE_MAX bytes: one key=value per line
 * (no spaces around '='; blanks around the line are ignored), '#' comment lines
 * and blank lines ignored. Keys:
 *   ccc, anonymous, tls_login, tls_data, tls_reuse = on|off,
 *   max_failures=1..1000, fail_delay=MS (the keys of "# config:" lines);
 *   users=PATH    a users file as `ftpsfuzz passwd` writes it (ftps_users.h);
 *                 its users replace alice (several users= lines add up);
 *   tree=PATH     a directory copied at load time into the in-memory tree,
 *                 which it replaces ("/" is PATH): regular files and
 *                 directories only (symlinks and other types are skipped
 *                 with a note), at most TEST_CONFIG_VFS_MAX_BYTES of file
 *                 content and the in-memory tree's caps; every object gets
 *                 TEST_CONFIG_MTIME; the disk is only read, never written,
 *                 and uploads change only the copy; at most once;
 *   greeting=TEXT the text of the 220 greeting (1..TEST_CONFIG_GREETING_MAX
 *                 printable ASCII bytes); at most once.
 * Relative PATHs are resolved against the directory of FILE. A script's
 * "# config:" lines still apply on top. */
#ifndef TEST_CONFIG_H
#define TEST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <openssl/base.h>

#include "ftps_session.h"
#include "model.h"
#include "transcript.h"

/* The one account of the built-in configuration. */
#define TEST_CONFIG_USER "alice"
#define TEST_CONFIG_PASSWORD "wonderland"

/* 2024-01-01 00:00:00 UTC: the fixed timestamp of the in-memory tree. */
#define TEST_CONFIG_MTIME 1704067200
/* Total file content the in-memory tree accepts. */
#define TEST_CONFIG_VFS_MAX_BYTES (16u << 20)
/* Caps of a --config file: its size, one line, the greeting text. */
#define TEST_CONFIG_FILE_MAX (64u << 10)
#define TEST_CONFIG_LINE_MAX 4096u
#define TEST_CONFIG_GREETING_MAX 512u

typedef struct test_config_tree test_config_tree;

typedef struct test_config {
  ftps_server server;   /* what ftps_session_new() takes; points into the rest */
  ftps_users *users;
  ftps_vfs *vfs;
  test_config_tree *tree; /* a loaded tree= fixture; NULL: the built-in one */
  char *greeting;         /* a loaded greeting=; NULL: the server's default */
  bool users_loaded;      /* users= replaced the built-in account */
} test_config;

/* test_config_tls_ctx returns the process-wide server SSL_CTX
 * (ftps_tls_server_ctx_new_self_signed("localhost")), building it on first
 * use (thread-safe). NULL if it could not be built. Never free it. */
SSL_CTX *test_config_tls_ctx(void);

/* test_config_init fills |cfg| with the built-in configuration. Returns 0 or
 * a negative FTPS_ERR_* (|cfg| is then cleaned up). */
int test_config_init(test_config *cfg);

/* test_config_reset replaces the VFS with a fresh copy of the fixture tree
 * (the built-in one, or the one a --config file's tree= loaded; the policy
 * and users are kept). Returns 0 or a negative FTPS_ERR_*. */
int test_config_reset(test_config *cfg);

/* test_config_cleanup frees what |cfg| owns (not the shared SSL_CTX).
 * Accepts a zeroed test_config. */
void test_config_cleanup(test_config *cfg);

/* test_config_apply_directives applies "# config: key=value ..." comment lines
 * of |script| to |cfg|'s policy. Keys (values on|off unless said):
 *   ccc, anonymous, tls_login, tls_data, tls_reuse,
 *   max_failures=<1..1000>, fail_delay=<ms 0..86400000>
 * Returns 0, or FTPS_ERR_INVAL with "NAME:LINE: what was expected" in |err|
 * (|name| is the script's file name). */
int test_config_apply_directives(test_config *cfg, const transcript *script, const char *name,
                                 char *err, size_t err_len);

/* test_config_secret returns the built-in account's password (the oracle
 * looks for it in every reply, NO_SECRET_ECHO), or NULL with |*out_len| 0
 * when a users= file replaced that account (only hashes are known). */
const char *test_config_secret(const test_config *cfg, size_t *out_len);

/* test_config_model returns the model configuration (default profile) that
 * judges a server running |policy|: the model's policy parameters are the
 * server's switches. */
model_config test_config_model(const ftps_policy *policy);

/* test_config_load_file applies the configuration file |path| (format at
 * the top of this header) to |cfg|, all or nothing: on failure |cfg| is
 * unchanged. Notes (tree entries skipped) go to |notes| if not NULL.
 * Returns 0; FTPS_ERR_INVAL or FTPS_ERR_IO with "PATH:LINE: what was
 * expected" (or "PATH: why" for the file as a whole) in |err|;
 * FTPS_ERR_NOMEM. */
int test_config_load_file(test_config *cfg, const char *path, FILE *notes, char *err,
                          size_t err_len);

#endif
