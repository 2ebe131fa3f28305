/* fuzz_driver.c - see fuzz_driver.h. */
#include "fuzz_driver.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "ftps_tls.h"
#include "tls_client.h"

static test_config config;
static bool config_ready;

static void config_free(void) {
  test_config_cleanup(&config);
  config_ready = false;
}

test_config *fuzz_config(void) {
  if (!config_ready) {
    int rc = test_config_init(&config);
    if (rc != 0) {
      fprintf(stderr, "fuzz_driver: cannot build the built-in test configuration (error %d)\n",
              rc);
      abort();
    }
    config_ready = true;
    /* Frees at exit so valgrind and LeakSanitizer see a clean process. */
    atexit(config_free);
    return &config; /* the tree is fresh already */
  }
  int rc = test_config_reset(&config);
  if (rc != 0) {
    fprintf(stderr, "fuzz_driver: cannot reset the in-memory tree (error %d)\n", rc);
    abort();
  }
  return &config;
}

void fuzz_fast_tls(void) {
  /* One set for the process, drawn once: the outside world passed in. */
  static ftps_tls_ticket_keys keys;
  const char *full = getenv("FTPSFUZZ_FULL_HANDSHAKES");
  if (full != NULL && full[0] != '\0' && full[0] != '0')
    return;
  test_config *cfg = fuzz_config();
  if (ftps_tls_ticket_keys_init(&keys) != 0 || tls_client_share_sessions(true) != 0) {
    fprintf(stderr, "fuzz_driver: cannot switch to shared TLS sessions\n");
    abort();
  }
  cfg->server.ticket_keys = &keys;
}

void fuzz_finding(const char *invariant, const char *why, const transcript *t) {
  fprintf(stderr, "FINDING %s: %s\n", invariant, why != NULL ? why : "");
  if (t != NULL) {
    fprintf(stderr, "--- transcript ---\n");
    transcript_print_text(t, stderr);
    fprintf(stderr, "--- end of transcript ---\n");
  }
  fflush(stderr);
  abort();
}

void fuzz_findingf(const char *invariant, const transcript *t, const char *fmt, ...) {
  char why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof(why), fmt, ap);
  va_end(ap);
  fuzz_finding(invariant, why, t);
}

void fuzz_hex(char *out, size_t out_len, const uint8_t *p, size_t len, size_t max) {
  static const char digits[] = "0123456789abcdef";
  size_t o = 0;
  if (out_len == 0)
    return;
  for (size_t i = 0; i < len && i < max && o + 3 < out_len; i++) {
    out[o++] = digits[p[i] >> 4];
    out[o++] = digits[p[i] & 15];
  }
  if (len > max && o + 4 < out_len) {
    out[o++] = '.';
    out[o++] = '.';
    out[o++] = '.';
  }
  out[o] = '\0';
}
