/* test_failmalloc.c - fail the Nth allocation, for every N, across a full TLS
 * session (after nghttp2's tests/failmalloc_test.c): no crash, no leak
 * (LeakSanitizer in the dev preset, valgrind otherwise), and a run with no
 * failure still completes the whole flow.
 *
 * Allocations are counted through the server's ftps_alloc.h entry points
 * (strong definitions here replace the library's weak ones) and BoringSSL's
 * OPENSSL_memory_alloc hooks, so both our code and the TLS library see the
 * failure. */
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftps_alloc.h"
#include "ftps_session.h"
#include "runner.h"
#include "test_config.h"
#include "testlib.h"
#include "tls_client.h"

static long alloc_count;
static long fail_at = -1;   /* -1: never fail */
static int injected;

static int should_fail(void) {
  if (fail_at >= 0 && alloc_count == fail_at) {
    alloc_count++;
    injected = 1;
    if (getenv("FAILMALLOC_TRACE")) {
      void *bt[16];
      int n = backtrace(bt, 16);
      fprintf(stderr, "injected failure %ld:\n", fail_at);
      backtrace_symbols_fd(bt, n, 2);
    }
    return 1;
  }
  alloc_count++;
  return 0;
}

void *ftps_malloc(size_t n) { return should_fail() ? NULL : malloc(n); }
void *ftps_calloc(size_t c, size_t n) { return should_fail() ? NULL : calloc(c, n); }
void *ftps_realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n); }
void ftps_free(void *p) { free(p); }

/* BoringSSL's allocation hooks (weak symbols in libcrypto, see mem.h): a
 * size prefix serves OPENSSL_memory_get_size. */
#define PREFIX 16
void *OPENSSL_memory_alloc(size_t n);
void OPENSSL_memory_free(void *p);
size_t OPENSSL_memory_get_size(void *p);

void *OPENSSL_memory_alloc(size_t n) {
  if (should_fail() || n > SIZE_MAX - PREFIX)
    return NULL;
  unsigned char *p = malloc(n + PREFIX);
  if (!p)
    return NULL;
  memcpy(p, &n, sizeof(n));
  return p + PREFIX;
}

void OPENSSL_memory_free(void *p) {
  if (p)
    free((unsigned char *)p - PREFIX);
}

size_t OPENSSL_memory_get_size(void *p) {
  size_t n;
  memcpy(&n, (unsigned char *)p - PREFIX, sizeof(n));
  return n;
}

/* Moves bytes both ways until neither side moves any; collects decrypted
 * replies into |plain|. Bounded. */
static void pump(ftps_session *s, tls_client *c, char *plain, size_t cap, size_t *plain_len) {
  uint8_t buf[16384];
  for (int i = 0; i < 200; i++) {
    int moved = 0;
    size_t n, got, used;
    const uint8_t *o = ftps_session_output(s, &n);
    if (n) {
      if (c)
        tls_client_push(c, o, n);
      ftps_session_output_consume(s, n);
      moved = 1;
    }
    if (!c)
      return;
    if (!tls_client_handshake_done(c)) {
      if (tls_client_handshake(c) < 0)
        return;
    } else if (tls_client_read(c, buf, sizeof(buf), &got) == 0 && got) {
      if (*plain_len + got <= cap) {
        memcpy(plain + *plain_len, buf, got);
        *plain_len += got;
      }
      moved = 1;
    }
    while (tls_client_pending(c)) {
      if (tls_client_pull(c, buf, sizeof(buf), &got) != 0 || got == 0)
        break;
      ftps_session_feed(s, buf, got, &used);
      moved = 1;
    }
    if (!moved)
      return;
  }
}

/* One full session: greeting, AUTH TLS, handshake, login, PBSZ, PROT,
 * filesystem commands, QUIT. Returns 1 when the whole flow completed. */
static int run_session(const ftps_server *srv) {
  static char plain[16384];
  size_t plain_len = 0, used, n;
  int done = 0;
  tls_client *c = NULL;
  ftps_session *s = ftps_session_new(srv, 0);
  if (!s)
    return 0;
  ftps_session_output(s, &n);
  ftps_session_output_consume(s, n);
  ftps_session_feed(s, (const uint8_t *)"FEAT\r\nAUTH TLS\r\n", 16, &used);
  ftps_session_output(s, &n);
  ftps_session_output_consume(s, n);
  if (ftps_session_is_closed(s))
    goto out;
  c = tls_client_new();
  if (!c)
    goto out;
  pump(s, c, plain, sizeof(plain), &plain_len);
  if (!tls_client_handshake_done(c))
    goto out;
  static const char cmds[] = "USER alice\r\nPASS wonderland\r\nPBSZ 0\r\nPROT P\r\nMKD /upload/d\r\n"
                             "CWD /upload/d\r\nPWD\r\nRNFR /pub/hello.txt\r\nRNTO /pub/h.txt\r\n"
                             "SIZE /pub/h.txt\r\nSTAT\r\nQUIT\r\n";
  if (tls_client_write(c, (const uint8_t *)cmds, sizeof(cmds) - 1) != 0)
    goto out;
  pump(s, c, plain, sizeof(plain), &plain_len);
  static const char bye[] = "221 Goodbye.\r\n";
  done = ftps_session_is_closed(s) && plain_len >= sizeof(bye) - 1 &&
         memcmp(plain + plain_len - (sizeof(bye) - 1), bye, sizeof(bye) - 1) == 0;
out:
  tls_client_free(c);
  ftps_session_free(s);
  return done;
}

/* Plays a script with data connections (PROT P upload and download, TLS
 * resumption on the data channel) through the runner. Returns 1 when it ran
 * to the end with every expectation met. */
static int run_script(const ftps_server *srv, const transcript *script) {
  transcript out;
  transcript_init(&out);
  runner_result res;
  int rc = runner_run(srv, script, NULL, &out, &res);
  transcript_cleanup(&out);
  return rc == RUNNER_OK && res.matched;
}

/* Fails every allocation in turn while |fn| runs; returns the number of runs.
 * |total| is the allocation count of a clean run. */
static long fail_each(test_config *cfg, int (*fn)(const ftps_server *, const transcript *),
                      const transcript *script, long total) {
  long runs = 0;
  for (long n = 0; n < 10 * total + 1000; n++) {
    if (test_config_reset(cfg) != 0) {
      fprintf(stderr, "cannot reset the fixture\n");
      break;
    }
    alloc_count = 0;
    injected = 0;
    fail_at = n;
    int completed = fn(&cfg->server, script);
    fail_at = -1;
    runs++;
    if (!injected) {
      CHECK(completed);
      break;
    }
  }
  return runs;
}

static int run_session_fn(const ftps_server *srv, const transcript *unused) {
  (void)unused;
  return run_session(srv);
}

int main(void) {
  test_config cfg;
  if (test_config_init(&cfg) != 0) {
    fprintf(stderr, "cannot build the test configuration\n");
    return 1;
  }
  /* The reference run: no failure, the flow completes. */
  alloc_count = 0;
  fail_at = -1;
  CHECK(run_session(&cfg.server));
  long total = alloc_count;
  printf("a full TLS session makes %ld allocations\n", total);
  CHECK(total > 50); /* both our code and BoringSSL are counted */

  /* Every N: the session must survive; the flow cannot complete. Allocation
   * counts vary a little between runs (TLS randomness), so go on until a run
   * needs no injected failure. */
  long runs = fail_each(&cfg, run_session_fn, NULL, total);
  printf("control session: failed each allocation in turn over %ld runs\n", runs);
  CHECK(runs >= total / 2);

  /* The same across data connections: PROT P upload and download. */
  transcript script;
  transcript_init(&script);
  char err[256];
  if (transcript_load_file(&script, testlib_source_path("examples/data_stor_retr.fts"), err,
                           sizeof(err)) != 0) {
    fprintf(stderr, "%s\n", err);
    CHECK(0);
  } else {
    test_config_reset(&cfg);
    alloc_count = 0;
    CHECK(run_script(&cfg.server, &script));
    long data_total = alloc_count;
    runs = fail_each(&cfg, run_script, &script, data_total);
    printf("data transfers: %ld allocations, failed each in turn over %ld runs\n", data_total, runs);
    CHECK(runs >= data_total / 2);
  }
  transcript_cleanup(&script);
  test_config_cleanup(&cfg);
  return testlib_finish();
}
