/* test_runner.c - the runner against the in-process server: every script in
 * examples/ and tests/scripts/ must meet its expectations, produce the same
 * transcript whatever the feed chunk size, and a wrong expectation must fail.
 * Also runs the ftpsfuzz binary ($FTPSFUZZ) for its exit statuses. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "ftps_session.h"
#include "runner.h"
#include "test_config.h"
#include "testlib.h"
#include "transcript.h"

/* print_text renders |t| as .fts text in a malloc'd string. */
static char *print_text(const transcript *t, size_t *out_len) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f == NULL)
    return NULL;
  transcript_print_text(t, f);
  fclose(f);
  *out_len = len;
  return buf;
}

/* run_script plays |script| on a fresh built-in configuration (with the
 * script's "# config:" directives). Returns runner_run's status. */
static int run_script(const transcript *script, const char *name, size_t chunk, FILE *diag,
                      transcript *out, runner_result *res) {
  test_config cfg;
  char err[512];
  if (test_config_init(&cfg) != 0)
    return -100;
  if (test_config_apply_directives(&cfg, script, name, err, sizeof(err)) != 0) {
    fprintf(stderr, "%s\n", err);
    test_config_cleanup(&cfg);
    return -101;
  }
  runner_options opt = runner_options_default();
  opt.chunk = chunk;
  opt.script_name = name;
  opt.diag = diag;
  int rc = runner_run(&cfg.server, script, &opt, out, res);
  test_config_cleanup(&cfg);
  return rc;
}

static int parse(transcript *t, const char *text) {
  char err[256];
  transcript_init(t);
  int rc = transcript_parse_text(t, text, strlen(text), "inline", err, sizeof(err));
  if (rc != 0)
    fprintf(stderr, "%s\n", err);
  return rc;
}

/* run_text runs inline script text with chunk 0 and returns the transcript
 * as text (malloc'd). */
static char *run_text(const char *text, int *out_rc, runner_result *res) {
  transcript script, out;
  size_t len;
  transcript_init(&out);
  CHECK_EQ_INT(parse(&script, text), 0);
  *out_rc = run_script(&script, "inline", 0, stderr, &out, res);
  char *s = print_text(&out, &len);
  transcript_cleanup(&script);
  transcript_cleanup(&out);
  return s;
}

static unsigned scripts_run;

static void check_script_file(const char *path) {
  transcript script;
  char err[512];
  static const size_t chunks[] = {1, 2, 3, 7};
  transcript_init(&script);
  if (transcript_load_file(&script, path, err, sizeof(err)) != 0) {
    fprintf(stderr, "%s\n", err);
    CHECK(!"script loads");
    return;
  }
  scripts_run++;
  CHECK(runner_has_expectations(&script));

  transcript whole;
  runner_result res;
  size_t whole_len = 0;
  transcript_init(&whole);
  int rc = run_script(&script, path, 0, stderr, &whole, &res);
  if (rc != RUNNER_OK)
    fprintf(stderr, "%s: runner_run returned %d\n", path, rc);
  CHECK_EQ_INT(rc, RUNNER_OK);
  CHECK(res.matched);
  char *whole_text = print_text(&whole, &whole_len);

  for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
    transcript got;
    size_t got_len = 0;
    transcript_init(&got);
    rc = run_script(&script, path, chunks[i], stderr, &got, &res);
    CHECK_EQ_INT(rc, RUNNER_OK);
    char *got_text = print_text(&got, &got_len);
    if (got_len != whole_len || memcmp(got_text, whole_text, whole_len) != 0) {
      fprintf(stderr, "%s: chunk %zu transcript differs from whole writes:\n%s\n---\n%s\n", path,
              chunks[i], got_text, whole_text);
      CHECK(!"transcript independent of chunk size");
    }
    free(got_text);
    transcript_cleanup(&got);
  }
  free(whole_text);
  transcript_cleanup(&whole);
  transcript_cleanup(&script);
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_dir(const char *rel) {
  char dirpath[4096];
  snprintf(dirpath, sizeof(dirpath), "%s", testlib_source_path(rel));
  DIR *d = opendir(dirpath);
  CHECK(d != NULL);
  if (d == NULL)
    return;
  char *names[256];
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < 256) {
    size_t len = strlen(e->d_name);
    if (len > 4 && strcmp(e->d_name + len - 4, ".fts") == 0)
      names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof(names[0]), cmp_names);
  CHECK(n > 0);
  for (size_t i = 0; i < n; i++) {
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", dirpath, names[i]);
    check_script_file(path);
    free(names[i]);
  }
}

/* A wrong expectation must make the run fail, with a diff naming the line. */
static void test_mismatch_detected(void) {
  static const char *const wrong[] = {
      /* wrong code on line 6 */
      "S: 220 ftpsfuzz ready.\nC: AUTH TLS\nS: 234 Proceed with TLS negotiation.\nT: handshake\n"
      "E: handshake ok\nS: 530 nope\nC: USER alice\n",
      /* an expected event that does not happen */
      "S: 220 ftpsfuzz ready.\nC: AUTH TLS\nS: 234 Proceed with TLS negotiation.\nT: handshake\n"
      "E: handshake failed wrong_version_number\n",
      /* one expectation too many at the end */
      "S: 220 ftpsfuzz ready.\nC: NOOP\nS: 200 NOOP ok.\nS: 200 NOOP ok.\n",
      /* one too few */
      "C: NOOP\nC: NOOP\nS: 220 ftpsfuzz ready.\nS: 200 NOOP ok.\n",
  };
  static const unsigned wrong_line[] = {6, 5, 4, 0};
  for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
    transcript script, out;
    runner_result res;
    char *diag_buf = NULL;
    size_t diag_len = 0;
    FILE *diag = open_memstream(&diag_buf, &diag_len);
    CHECK_EQ_INT(parse(&script, wrong[i]), 0);
    transcript_init(&out);
    int rc = run_script(&script, "wrong.fts", 0, diag, &out, &res);
    fclose(diag);
    CHECK_EQ_INT(rc, RUNNER_MISMATCH);
    CHECK(!res.matched);
    CHECK_EQ_INT(res.mismatch_line, wrong_line[i]);
    CHECK(strstr(diag_buf, "expectation mismatch") != NULL);
    CHECK(strstr(diag_buf, "  got      output:") != NULL ||
          strstr(diag_buf, "(end of transcript)") != NULL);
    if (wrong_line[i] == 6)
      CHECK(strstr(diag_buf, "expected wrong.fts:6: S: 530 nope") != NULL);
    free(diag_buf);
    transcript_cleanup(&script);
    transcript_cleanup(&out);
  }
  /* runner_compare on its own: equal, and a differing byte */
  transcript a, b;
  CHECK_EQ_INT(parse(&a, "C: X\nS: 200 a\nE: closed\n"), 0);
  CHECK_EQ_INT(parse(&b, "# other steps do not matter\nS: 200 a\nC: Y\nE: closed\n"), 0);
  CHECK(runner_compare(&a, &b, "a", NULL, NULL));
  transcript_cleanup(&b);
  CHECK_EQ_INT(parse(&b, "S: 200 b\nE: closed\n"), 0);
  unsigned line = 99;
  CHECK(!runner_compare(&a, &b, "a", NULL, &line));
  CHECK_EQ_INT(line, 2);
  transcript_cleanup(&a);
  transcript_cleanup(&b);
}

typedef struct event_log {
  ftps_event_type types[64];
  size_t n;
} event_log;

static void on_event(void *ctx, const ftps_event *ev, size_t out_index) {
  event_log *log = ctx;
  (void)out_index;
  if (log->n < 64)
    log->types[log->n++] = ev->type;
}

static bool has_event(const event_log *log, ftps_event_type t) {
  for (size_t i = 0; i < log->n; i++)
    if (log->types[i] == t)
      return true;
  return false;
}

static void test_events_and_clock(void) {
  transcript script, out;
  test_config cfg;
  event_log log = {{0}, 0};
  runner_result res;
  CHECK_EQ_INT(parse(&script, "C: AUTH TLS\nT: handshake\nC: USER alice\nC: PASS wonderland\n"
                              "C: QUIT\n"),
               0);
  transcript_init(&out);
  CHECK_EQ_INT(test_config_init(&cfg), 0);
  runner_options opt = runner_options_default();
  opt.on_event = on_event;
  opt.event_ctx = &log;
  CHECK_EQ_INT(runner_run(&cfg.server, &script, &opt, &out, &res), RUNNER_OK);
  CHECK(has_event(&log, FTPS_EV_TLS_START));
  CHECK(has_event(&log, FTPS_EV_TLS_READY));
  CHECK(has_event(&log, FTPS_EV_LOGIN));
  CHECK(has_event(&log, FTPS_EV_CLOSE));
  CHECK_EQ_INT(res.events, log.n);
  CHECK(res.closed);
  CHECK(!res.has_expectations && res.matched);
  CHECK_EQ_INT(res.clock_ms, 0);
  CHECK_EQ_INT(res.steps_played, 5);
  /* events are not part of the client's transcript */
  size_t len;
  char *text = print_text(&out, &len);
  CHECK(strstr(text, "E: closed\n") != NULL);
  CHECK(strstr(text, "LOGIN") == NULL);
  free(text);
  transcript_cleanup(&out);
  transcript_cleanup(&script);

  /* a failed login's 530 is held 1000 ms: the runner waits for it; W: adds */
  int rc;
  text = run_text("C: AUTH TLS\nT: handshake\nC: USER alice\nC: PASS nope\nW: 250\nC: NOOP\n", &rc,
                  &res);
  CHECK_EQ_INT(rc, RUNNER_OK);
  CHECK(strstr(text, "C: PASS nope\nS: 530 ") != NULL);
  const char *pass = strstr(text, "C: PASS nope");
  CHECK(pass != NULL && strstr(pass + 12, "nope") == NULL); /* never echoed */
  CHECK_EQ_INT(res.clock_ms, 1250);
  free(text);
  test_config_cleanup(&cfg);
}

static void test_rules(void) {
  int rc;
  runner_result res;
  /* leading comments come before the greeting; D: open with nothing offered fails;
   * closing TLS without TLS is skipped */
  char *text = run_text("# header\n\nD: open\nT: close_notify\nC: NOOP\n", &rc, &res);
  CHECK_EQ_INT(rc, RUNNER_OK);
  CHECK_STR(text, "# header\n\nS: 220 ftpsfuzz ready.\nD: open\nE: data failed no data connection offered\n"
                  "T: close_notify\n# skipped: no TLS to close\nC: NOOP\nS: 200 NOOP ok.\n");
  free(text);

  /* after E: closed client steps are not played; comments are still copied */
  text = run_text("C: QUIT\nC: NOOP\n# tail\nR: x\n", &rc, &res);
  CHECK_STR(text, "S: 220 ftpsfuzz ready.\nC: QUIT\nS: 221 Goodbye.\nE: closed\n"
                  "# not played: connection closed\n# tail\n");
  CHECK_EQ_INT(res.steps_played, 1);
  free(text);

  /* a ClientHello without AUTH: the server reads it as (bad) command text
   * and the handshake cannot finish */
  text = run_text("T: handshake\nC: NOOP\n", &rc, &res);
  CHECK_EQ_INT(rc, RUNNER_OK);
  CHECK(strstr(text, "E: handshake failed ") != NULL);
  free(text);

  /* a second T: handshake under TLS is skipped */
  text = run_text("C: AUTH TLS\nT: handshake\nT: handshake\nC: NOOP\n", &rc, &res);
  CHECK(strstr(text, "E: handshake ok\nT: handshake\n# skipped: TLS already active\n"
                     "C: NOOP\nS: 200 NOOP ok.\n") != NULL);
  free(text);

  /* the server's own close_notify is seen (QUIT under TLS) */
  text = run_text("C: AUTH TLS\nT: handshake\nC: QUIT\n", &rc, &res);
  CHECK(strstr(text, "S: 221 Goodbye.\nE: tls shutdown\nE: closed\n") != NULL);
  free(text);

  /* bad arguments */
  transcript empty, out;
  transcript_init(&empty);
  transcript_init(&out);
  CHECK_EQ_INT(runner_run(NULL, &empty, NULL, &out, NULL), RUNNER_ERR_INVAL);
  transcript_cleanup(&out);
}

#define LOGIN_P "C: AUTH TLS\nT: handshake\nC: USER alice\nC: PASS wonderland\nC: PBSZ 0\nC: PROT P\n"
#define HELLO_SHA "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct data_events {
  unsigned listen, connect, close;
} data_events;

static void count_data_events(void *ctx, const ftps_event *ev, size_t out_index) {
  data_events *d = ctx;
  (void)out_index;
  d->listen += ev->type == FTPS_EV_DATA_LISTEN;
  d->connect += ev->type == FTPS_EV_DATA_CONNECT;
  d->close += ev->type == FTPS_EV_DATA_CLOSE;
}

/* The data-connection rules of runner.h that the scripts do not show. */
static void test_data_rules(void) {
  int rc;
  runner_result res;
  /* D: send / close without a connection, and a second D: open, are
   * skipped; nothing offered gives "data failed" */
  char *text = run_text("D: send x\nD: close\n" LOGIN_P "C: EPSV\nD: open\nD: open\nC: NOOP\n",
                        &rc, &res);
  CHECK_EQ_INT(rc, RUNNER_OK);
  CHECK(strstr(text, "D: send x\n# skipped: no data connection\nD: close\n"
                     "# skipped: no data connection\n") != NULL);
  CHECK(strstr(text, "S: 229 Entering Extended Passive Mode (|||50000|)\nD: open\nD: open\n"
                     "# skipped: data connection already open\n") != NULL);
  free(text);

  /* bytes and the close queued before the transfer (and before the data
   * TLS handshake) go out once it is done; D: after D: close is skipped */
  text = run_text(LOGIN_P "C: TYPE I\nC: EPSV\nD: open\nD: send hel\nD: send lo\\n\nD: close\n"
                  "D: send more\nC: STOR /upload/q.txt\nC: EPSV\nD: open\nC: RETR /upload/q.txt\n",
                  &rc, &res);
  CHECK_EQ_INT(rc, RUNNER_OK);
  CHECK(strstr(text, "D: send more\n# skipped: data connection closed by the client\n"
                     "C: STOR /upload/q.txt\nS: 150 Ok to send data.\n"
                     "E: data tls 0 bytes sha256=" EMPTY_SHA "\nS: 226 Transfer complete.\n") != NULL);
  CHECK(strstr(text, "E: data tls 6 bytes sha256=" HELLO_SHA "\nS: 226 Transfer complete.\n") !=
        NULL);
  free(text);

  /* the PROT level is the client's view: a refused PROT keeps P, and PROT C
   * accepted turns TLS off on the data connection */
  text = run_text("# config: tls_data=off\n" LOGIN_P "C: PROT X\nC: TYPE I\nC: EPSV\nD: open\n"
                  "C: RETR /pub/hello.txt\nC: PROT C\nC: EPSV\nD: open\nC: RETR /pub/hello.txt\n",
                  &rc, &res);
  CHECK_EQ_INT(rc, RUNNER_OK);
  const char *tls = strstr(text, "E: data tls 6 bytes sha256=" HELLO_SHA);
  CHECK(tls != NULL && strstr(tls, "E: data clear 6 bytes sha256=" HELLO_SHA) != NULL);
  free(text);

  /* active mode: the session's events are answered; a held connect is
   * attached at D: open */
  test_config cfg;
  transcript script, out;
  CHECK_EQ_INT(test_config_init(&cfg), 0);
  CHECK_EQ_INT(parse(&script, LOGIN_P "C: TYPE I\nC: EPRT |1|127.0.0.1|50123|\n"
                                      "C: RETR /pub/hello.txt\nD: open\nC: EPSV\nC: EPSV\n"),
               0);
  transcript_init(&out);
  data_events de = {0, 0, 0};
  runner_options opt = runner_options_default();
  opt.on_event = count_data_events;
  opt.event_ctx = &de;
  opt.diag = stderr;
  CHECK_EQ_INT(runner_run(&cfg.server, &script, &opt, &out, &res), RUNNER_OK);
  CHECK_EQ_INT(de.connect, 1);
  CHECK_EQ_INT(de.listen, 2);
  CHECK(de.close >= 1);
  size_t len = 0;
  text = print_text(&out, &len);
  CHECK(strstr(text, "S: 150 Opening BINARY mode data connection (6 bytes).\nD: open\n"
                     "E: data tls 6 bytes sha256=" HELLO_SHA "\nS: 226 Transfer complete.\n") != NULL);
  free(text);
  transcript_cleanup(&script);
  transcript_cleanup(&out);
  test_config_cleanup(&cfg);

  /* a bad client directive names its line */
  transcript_init(&out);
  CHECK_EQ_INT(parse(&script, "C: NOOP\n# client: data_tls_reuse=maybe\n"), 0);
  FILE *diag = tmpfile();
  CHECK_EQ_INT(run_script(&script, "bad.fts", 0, diag, &out, &res), RUNNER_ERR_INVAL);
  char msg[512] = "";
  rewind(diag);
  size_t got = fread(msg, 1, sizeof(msg) - 1, diag);
  msg[got] = '\0';
  fclose(diag);
  CHECK(strstr(msg, "bad.fts:2: expected client directive") != NULL);
  transcript_cleanup(&script);
  transcript_cleanup(&out);
}

/* A TYPE A upload whose first TLS record ends in CR and whose next, full
 * 16 KiB record does not begin with LF: the held CR comes out in front of
 * the record's bytes, one more than the record (a one-byte stack overflow
 * of the decode buffer, found by UBSan in CI). The file keeps every byte. */
static void test_ascii_upload_cr_at_record_end(void) {
  enum { REC = 16384 };
  static uint8_t body[2 * REC];
  memset(body, 'a', REC - 1);
  body[REC - 1] = '\r';
  memset(body + REC, 'b', REC);
  uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256(body, sizeof(body), md);
  char hex[2 * SHA256_DIGEST_LENGTH + 1];
  for (size_t i = 0; i < sizeof(md); i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  /* the script: D: send with the CR escaped */
  size_t cap = sizeof(body) + 1024;
  char *script = malloc(cap);
  CHECK(script != NULL);
  int n = snprintf(script, cap, LOGIN_P "C: TYPE A\nC: EPSV\nD: open\nC: STOR /upload/cr.txt\nD: send ");
  memset(script + n, 'a', REC - 1);
  n += REC - 1;
  memcpy(script + n, "\\r", 2);
  n += 2;
  memset(script + n, 'b', REC);
  n += REC;
  snprintf(script + n, cap - (size_t)n,
           "\nD: close\nC: TYPE I\nC: EPSV\nD: open\nC: RETR /upload/cr.txt\n");
  int rc;
  runner_result res;
  char *text = run_text(script, &rc, &res);
  CHECK_EQ_INT(rc, RUNNER_OK);
  char want[256];
  snprintf(want, sizeof(want), "E: data tls %u bytes sha256=%s\nS: 226 Transfer complete.\n",
           (unsigned)sizeof(body), hex);
  CHECK(text != NULL && strstr(text, want) != NULL);
  free(text);
  free(script);
}

static void test_config_directives(void) {
  test_config cfg;
  transcript t;
  char err[256];
  CHECK_EQ_INT(test_config_init(&cfg), 0);
  CHECK(!cfg.server.policy.ccc_allowed);
  CHECK(cfg.server.tls_ctx == test_config_tls_ctx());
  CHECK_EQ_INT(parse(&t, "# config: ccc=on max_failures=5\n#config:  anonymous=on\nC: NOOP\n"),
               0);
  CHECK_EQ_INT(test_config_apply_directives(&cfg, &t, "t.fts", err, sizeof(err)), 0);
  CHECK(cfg.server.policy.ccc_allowed && cfg.server.policy.anonymous);
  CHECK_EQ_INT(cfg.server.policy.max_login_failures, 5);
  transcript_cleanup(&t);
  CHECK_EQ_INT(parse(&t, "C: NOOP\n# config: ccc=maybe\n"), 0);
  CHECK(test_config_apply_directives(&cfg, &t, "t.fts", err, sizeof(err)) != 0);
  CHECK(strncmp(err, "t.fts:2: expected", 17) == 0);
  transcript_cleanup(&t);
  /* a missing --config file is named (tests/test_run_config.sh covers the rest) */
  CHECK(test_config_load_file(&cfg, "/nonexistent/x.conf", NULL, err, sizeof(err)) != 0);
  CHECK(strncmp(err, "/nonexistent/x.conf: cannot open", 32) == 0);

  /* reset gives a fresh tree: a deleted file is back */
  ftps_vfs_stat st;
  CHECK_EQ_INT(cfg.vfs->ops->unlink(cfg.vfs, "/pub/hello.txt"), 0);
  CHECK(cfg.vfs->ops->stat(cfg.vfs, "/pub/hello.txt", &st) != 0);
  CHECK_EQ_INT(test_config_reset(&cfg), 0);
  CHECK_EQ_INT(cfg.vfs->ops->stat(cfg.vfs, "/pub/hello.txt", &st), 0);
  CHECK_EQ_INT(st.size, 6);
  CHECK_EQ_INT(st.mtime, TEST_CONFIG_MTIME);
  CHECK(cfg.server.vfs == cfg.vfs);
  test_config_cleanup(&cfg);
}

/* run_cli runs "$FTPSFUZZ run ARGS" and returns its exit status; stderr is
 * captured into |err| (NUL-terminated). */
static int run_cli(const char *args, char *err, size_t err_len) {
  const char *exe = getenv("FTPSFUZZ");
  char cmd[8192];
  if (exe == NULL)
    return -1;
  snprintf(cmd, sizeof(cmd), "'%s' run %s 2>&1 >/dev/null", exe, args);
  FILE *p = popen(cmd, "r");
  if (p == NULL)
    return -1;
  size_t n = fread(err, 1, err_len - 1, p);
  err[n] = '\0';
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f == NULL)
    return;
  fputs(text, f);
  fclose(f);
}

static void test_cli(void) {
  char err[4096], args[8192];
  if (getenv("FTPSFUZZ") == NULL) {
    CHECK(!"FTPSFUZZ is set by ctest");
    return;
  }
  snprintf(args, sizeof(args), "'%s'", testlib_source_path("examples/secure_session.fts"));
  CHECK_EQ_INT(run_cli(args, err, sizeof(err)), 0);
  snprintf(args, sizeof(args), "--oracle '%s'", testlib_source_path("examples/secure_session.fts"));
  CHECK_EQ_INT(run_cli(args, err, sizeof(err)), 0);
  CHECK(strstr(err, "oracle: OK") != NULL);
  snprintf(args, sizeof(args), "--chunk 1 '%s'", testlib_source_path("examples/wrong_password.fts"));
  CHECK_EQ_INT(run_cli(args, err, sizeof(err)), 0);

  char dir[] = "/tmp/test_runner.XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char mismatch[256], malformed[256];
  snprintf(mismatch, sizeof(mismatch), "%s/mismatch.fts", dir);
  snprintf(malformed, sizeof(malformed), "%s/malformed.fts", dir);
  write_file(mismatch, "C: NOOP\nS: 220 ftpsfuzz ready.\nS: 500 not what the server says\n");
  write_file(malformed, "C: NOOP\nW: soon\n");

  snprintf(args, sizeof(args), "'%s'", mismatch);
  CHECK_EQ_INT(run_cli(args, err, sizeof(err)), 1);
  CHECK(strstr(err, "mismatch.fts:3: S: 500 not what the server says") != NULL);

  snprintf(args, sizeof(args), "'%s'", malformed);
  CHECK_EQ_INT(run_cli(args, err, sizeof(err)), 2);
  CHECK(strstr(err, "malformed.fts:2:") != NULL);

  CHECK_EQ_INT(run_cli("", err, sizeof(err)), 2);
  CHECK_EQ_INT(run_cli("--chunk 0 x.fts", err, sizeof(err)), 2);
  snprintf(args, sizeof(args), "--config /nonexistent/x.conf '%s'", mismatch);
  CHECK_EQ_INT(run_cli(args, err, sizeof(err)), 2);
  CHECK(strstr(err, "/nonexistent/x.conf: cannot open the configuration file") != NULL);

  /* --connect: argument errors and a refused connection are usage errors */
  snprintf(args, sizeof(args), "--connect nohostport '%s'", mismatch);
  CHECK_EQ_INT(run_cli(args, err, sizeof(err)), 2);
  CHECK(strstr(err, "--connect expects HOST:PORT") != NULL);
  snprintf(args, sizeof(args), "--connect 127.0.0.1:70000 '%s'", mismatch);
  CHECK_EQ_INT(run_cli(args, err, sizeof(err)), 2);
  snprintf(args, sizeof(args), "--timeout 100 '%s'", mismatch);
  CHECK_EQ_INT(run_cli(args, err, sizeof(err)), 2);
  CHECK(strstr(err, "--timeout applies only with --connect") != NULL);
  snprintf(args, sizeof(args), "--connect 127.0.0.1:1 --chunk 3 '%s'", mismatch);
  CHECK_EQ_INT(run_cli(args, err, sizeof(err)), 2);
  /* port 1 on loopback: nothing listens there (connection refused) */
  snprintf(args, sizeof(args), "--connect 127.0.0.1:1 '%s'", mismatch);
  CHECK_EQ_INT(run_cli(args, err, sizeof(err)), 2);
  CHECK(strstr(err, "cannot connect to 127.0.0.1 port 1") != NULL);

  unlink(mismatch);
  unlink(malformed);
  rmdir(dir);
}

/* test_config_file: --config's tree= replaces the fixture tree, and
 * test_config_reset rebuilds it from the loaded copy; a file that fails
 * part-way changes nothing. (tests/test_run_config.sh covers the CLI.) */
static void test_config_file(void) {
  char dir[] = "/tmp/test_runner_conf.XXXXXX", path[256], conf[256], bad[256], err[512];
  test_config cfg;
  ftps_vfs_stat st;
  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof(path), "%s/t", dir);
  CHECK(mkdir(path, 0700) == 0);
  snprintf(path, sizeof(path), "%s/t/f.txt", dir);
  write_file(path, "abc");
  snprintf(conf, sizeof(conf), "%s/c.conf", dir);
  write_file(conf, "tree=t\ngreeting=Hi.\nccc=on\n");
  snprintf(bad, sizeof(bad), "%s/bad.conf", dir);
  write_file(bad, "greeting=Other.\nccc=off\nbogus\n");
  CHECK_EQ_INT(test_config_init(&cfg), 0);
  CHECK_EQ_INT(test_config_load_file(&cfg, conf, NULL, err, sizeof(err)), 0);
  CHECK_STR(cfg.server.greeting, "Hi.");
  CHECK(cfg.server.policy.ccc_allowed);
  CHECK(cfg.server.vfs == cfg.vfs);
  CHECK(cfg.vfs->ops->stat(cfg.vfs, "/pub/hello.txt", &st) != 0);
  CHECK_EQ_INT(cfg.vfs->ops->unlink(cfg.vfs, "/f.txt"), 0);
  CHECK_EQ_INT(test_config_reset(&cfg), 0);
  CHECK_EQ_INT(cfg.vfs->ops->stat(cfg.vfs, "/f.txt", &st), 0);
  CHECK_EQ_INT(st.size, 3);
  CHECK(cfg.server.vfs == cfg.vfs);
  CHECK(test_config_load_file(&cfg, bad, NULL, err, sizeof(err)) != 0);
  CHECK(strstr(err, "bad.conf:3: expected key=value") != NULL);
  CHECK_STR(cfg.server.greeting, "Hi.");
  CHECK(cfg.server.policy.ccc_allowed);
  test_config_cleanup(&cfg);
  unlink(path);
  snprintf(path, sizeof(path), "%s/t", dir);
  rmdir(path);
  unlink(conf);
  unlink(bad);
  rmdir(dir);
}

int main(void) {
  check_dir("examples");
  check_dir("tests/scripts");
  CHECK(scripts_run >= 38);
  test_mismatch_detected();
  test_events_and_clock();
  test_rules();
  test_data_rules();
  test_ascii_upload_cr_at_record_end();
  test_config_directives();
  test_config_file();
  test_cli();
  return testlib_finish();
}
