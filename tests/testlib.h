/* testlib.h - a minimal assertion layer for ctest executables.
 *
 * CHECK(cond) records a failure with file and line and goes on; a test's
 * main() ends with `return testlib_finish();`, which prints
 * "N passed, M failed" and returns non-zero if anything failed. */
#ifndef FTPS_TESTLIB_H
#define FTPS_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

void testlib_check(int ok, const char *expr, const char *file, int line);
void testlib_check_mem(const void *got, size_t got_len, const void *want, size_t want_len,
                       const char *expr, const char *file, int line);
int testlib_finish(void);
/* testlib_failures returns the number of failed checks so far. */
unsigned testlib_failures(void);
/* testlib_source_path returns "$FTPS_SOURCE_DIR/<rel>" in a static buffer. */
const char *testlib_source_path(const char *rel);

#define CHECK(cond) testlib_check(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ_INT(a, b)                                                           \
  do {                                                                               \
    long long a_ = (long long)(a), b_ = (long long)(b);                              \
    if (a_ != b_)                                                                    \
      testlib_check_int_fail(a_, b_, #a " == " #b, __FILE__, __LINE__);              \
    else                                                                             \
      testlib_check(1, #a, __FILE__, __LINE__);                                      \
  } while (0)
#define CHECK_MEM(got, got_len, want, want_len) \
  testlib_check_mem(got, got_len, want, want_len, #got, __FILE__, __LINE__)
#define CHECK_STR(got, want) \
  testlib_check_mem(got, strlen(got), want, strlen(want), #got, __FILE__, __LINE__)

void testlib_check_int_fail(long long got, long long want, const char *expr, const char *file,
                            int line);

#endif
