/* testlib.c - see testlib.h. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned passed, failed;

void testlib_check(int ok, const char *expr, const char *file, int line) {
  if (ok) {
    passed++;
    return;
  }
  failed++;
  fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
}

void testlib_check_int_fail(long long got, long long want, const char *expr, const char *file,
                            int line) {
  failed++;
  fprintf(stderr, "%s:%d: check failed: %s (got %lld, want %lld)\n", file, line, expr, got, want);
}

static void print_escaped(const void *p, size_t n) {
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\n')
      fputs("\\n", stderr);
    else if (s[i] == '\r')
      fputs("\\r", stderr);
    else if (s[i] == '\\')
      fputs("\\\\", stderr);
    else if (s[i] < 0x20 || s[i] > 0x7e)
      fprintf(stderr, "\\x%02x", s[i]);
    else
      fputc(s[i], stderr);
  }
}

void testlib_check_mem(const void *got, size_t got_len, const void *want, size_t want_len,
                       const char *expr, const char *file, int line) {
  if (got_len == want_len && (want_len == 0 || memcmp(got, want, want_len) == 0)) {
    passed++;
    return;
  }
  failed++;
  fprintf(stderr, "%s:%d: check failed: %s\n  got:  \"", file, line, expr);
  print_escaped(got, got_len);
  fputs("\"\n  want: \"", stderr);
  print_escaped(want, want_len);
  fputs("\"\n", stderr);
}

unsigned testlib_failures(void) { return failed; }

int testlib_finish(void) {
  printf("%u passed, %u failed\n", passed, failed);
  return failed ? 1 : 0;
}

const char *testlib_source_path(const char *rel) {
  static char buf[4096];
  const char *dir = getenv("FTPS_SOURCE_DIR");
  snprintf(buf, sizeof(buf), "%s/%s", dir ? dir : ".", rel);
  return buf;
}
