/* test_ftps_buf.c - the growable byte buffer: caps, growth, failure leaves it
 * unchanged, decimal formatting. */
#include <stdint.h>
#include <string.h>

#include "ftps_buf.h"
#include "ftps_err.h"
#include "testlib.h"

static void test_basic(void) {
  ftps_buf b;
  ftps_buf_init(&b, 100);
  CHECK(b.data == NULL);
  CHECK_EQ_INT(b.len, 0);
  CHECK_EQ_INT(ftps_buf_room(&b), 100);
  CHECK_EQ_INT(ftps_buf_append(&b, "abc", 3), 0);
  CHECK_EQ_INT(ftps_buf_append_byte(&b, 'd'), 0);
  CHECK_EQ_INT(ftps_buf_append_cstr(&b, "ef"), 0);
  CHECK_EQ_INT(ftps_buf_append(&b, NULL, 0), 0);
  CHECK_MEM(b.data, b.len, "abcdef", 6);
  CHECK_EQ_INT(ftps_buf_room(&b), 94);
  ftps_buf_consume(&b, 2);
  CHECK_MEM(b.data, b.len, "cdef", 4);
  ftps_buf_consume(&b, 4);
  CHECK_EQ_INT(b.len, 0);
  CHECK_EQ_INT(ftps_buf_append_cstr(&b, "xyz"), 0);
  ftps_buf_truncate(&b, 1);
  CHECK_MEM(b.data, b.len, "x", 1);
  ftps_buf_truncate(&b, 10); /* longer than len: no-op */
  CHECK_EQ_INT(b.len, 1);
  size_t cap = b.cap;
  ftps_buf_reset(&b);
  CHECK_EQ_INT(b.len, 0);
  CHECK_EQ_INT(b.cap, cap); /* storage kept */
  ftps_buf_cleanup(&b);
  CHECK(b.data == NULL);
  CHECK_EQ_INT(b.cap, 0);
  /* reusable after cleanup */
  CHECK_EQ_INT(ftps_buf_append_cstr(&b, "again"), 0);
  CHECK_MEM(b.data, b.len, "again", 5);
  ftps_buf_cleanup(&b);
  ftps_buf_cleanup(&b); /* twice is fine */

  ftps_buf z;
  memset(&z, 0, sizeof(z));
  ftps_buf_cleanup(&z); /* zeroed buffer accepted */
}

static void test_limit_unchanged(void) {
  ftps_buf b;
  ftps_buf_init(&b, 10);
  CHECK_EQ_INT(ftps_buf_append(&b, "0123456", 7), 0);
  uint8_t *data = b.data;
  size_t cap = b.cap;
  CHECK_EQ_INT(ftps_buf_append(&b, "abcd", 4), FTPS_ERR_LIMIT);
  CHECK_MEM(b.data, b.len, "0123456", 7);
  CHECK(b.data == data);
  CHECK_EQ_INT(b.cap, cap);
  CHECK_EQ_INT(ftps_buf_append(&b, "abc", 3), 0); /* exactly to max */
  CHECK_MEM(b.data, b.len, "0123456abc", 10);
  CHECK_EQ_INT(ftps_buf_room(&b), 0);
  CHECK_EQ_INT(ftps_buf_append_byte(&b, 'x'), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(ftps_buf_append_cstr(&b, "x"), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(ftps_buf_append_u64(&b, 0), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(ftps_buf_append(&b, "", 0), 0); /* empty append always fits */
  CHECK_MEM(b.data, b.len, "0123456abc", 10);
  CHECK(b.cap <= b.max); /* never allocates past the cap */
  ftps_buf_cleanup(&b);

  /* Overflow-checked arithmetic: len + n would wrap around SIZE_MAX. */
  ftps_buf big;
  ftps_buf_init(&big, SIZE_MAX);
  CHECK_EQ_INT(ftps_buf_append(&big, "abc", 3), 0);
  CHECK_EQ_INT(ftps_buf_append(&big, "abc", SIZE_MAX - 1), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(ftps_buf_append(&big, "abc", SIZE_MAX), FTPS_ERR_LIMIT);
  CHECK_MEM(big.data, big.len, "abc", 3);
  ftps_buf_cleanup(&big);

#ifndef __SANITIZE_ADDRESS__ /* ASan aborts on absurd sizes instead of NULL */
  /* Fits under max but cannot be allocated (2^62 bytes is past any address
   * space): NOMEM, unchanged. The cap clamps the request below 2^63, which
   * valgrind would flag as a negative size. */
  ftps_buf_init(&big, SIZE_MAX / 4 + 100);
  CHECK_EQ_INT(ftps_buf_append(&big, "abc", 3), 0);
  CHECK_EQ_INT(ftps_buf_append(&big, "abc", SIZE_MAX / 4), FTPS_ERR_NOMEM);
  CHECK_MEM(big.data, big.len, "abc", 3);
  ftps_buf_cleanup(&big);
#endif

  /* max 0: nothing fits, nothing is allocated */
  ftps_buf_init(&b, 0);
  CHECK_EQ_INT(ftps_buf_append_byte(&b, 'a'), FTPS_ERR_LIMIT);
  CHECK(b.data == NULL);
  ftps_buf_cleanup(&b);
}

static void test_growth(void) {
  ftps_buf b;
  ftps_buf_init(&b, 1000);
  size_t reallocs = 0, last_cap = 0;
  for (int i = 0; i < 1000; i++) {
    CHECK_EQ_INT(ftps_buf_append_byte(&b, (uint8_t)i), 0);
    if (b.cap != last_cap) {
      reallocs++;
      last_cap = b.cap;
    }
    CHECK(b.cap <= 1000);
    CHECK(b.cap >= b.len);
  }
  CHECK(reallocs <= 6); /* geometric: 64,128,...,1000 */
  CHECK_EQ_INT(b.cap, 1000); /* clamped to max, not 1024 */
  for (int i = 0; i < 1000; i++)
    if (b.data[i] != (uint8_t)i) {
      CHECK(!"byte mismatch");
      break;
    }
  ftps_buf_cleanup(&b);

  /* a small max is never exceeded by the minimum first allocation */
  ftps_buf_init(&b, 5);
  CHECK_EQ_INT(ftps_buf_append_byte(&b, 'a'), 0);
  CHECK(b.cap <= 5);
  ftps_buf_cleanup(&b);

  /* one big append allocates what it needs, not a doubling past max */
  ftps_buf_init(&b, 5000);
  static uint8_t blob[4097];
  CHECK_EQ_INT(ftps_buf_append(&b, blob, sizeof(blob)), 0);
  CHECK(b.cap >= 4097 && b.cap <= 5000);
  ftps_buf_cleanup(&b);
}

static void test_u64(void) {
  ftps_buf b;
  ftps_buf_init(&b, 100);
  CHECK_EQ_INT(ftps_buf_append_u64(&b, 0), 0);
  CHECK_EQ_INT(ftps_buf_append_byte(&b, ' '), 0);
  CHECK_EQ_INT(ftps_buf_append_u64(&b, 1234567890), 0);
  CHECK_EQ_INT(ftps_buf_append_byte(&b, ' '), 0);
  CHECK_EQ_INT(ftps_buf_append_u64(&b, UINT64_MAX), 0);
  const char *want = "0 1234567890 18446744073709551615";
  CHECK_MEM(b.data, b.len, want, strlen(want));
  ftps_buf_cleanup(&b);

  /* too long for the room left: unchanged */
  ftps_buf_init(&b, 4);
  CHECK_EQ_INT(ftps_buf_append_cstr(&b, "a"), 0);
  CHECK_EQ_INT(ftps_buf_append_u64(&b, 1000), FTPS_ERR_LIMIT);
  CHECK_MEM(b.data, b.len, "a", 1);
  CHECK_EQ_INT(ftps_buf_append_u64(&b, 999), 0);
  CHECK_MEM(b.data, b.len, "a999", 4);
  ftps_buf_cleanup(&b);
}

static void test_strerror(void) {
  CHECK_STR(ftps_strerror(FTPS_OK), "ok");
  CHECK_STR(ftps_strerror(FTPS_ERR_LIMIT), "size limit exceeded");
  for (int e = FTPS_ERR_AGAIN; e <= FTPS_OK; e++)
    CHECK(strcmp(ftps_strerror(e), "unknown error") != 0);
  CHECK_STR(ftps_strerror(-999), "unknown error");
  CHECK_STR(ftps_strerror(7), "unknown error");
}

/* reserve/commit: bytes written in place count only once committed, and
 * the limit holds as for append. */
static void test_reserve_commit(void) {
  ftps_buf b;
  ftps_buf_init(&b, 10);
  uint8_t *space = NULL;
  CHECK_EQ_INT(ftps_buf_append(&b, "ab", 2), 0);
  CHECK_EQ_INT(ftps_buf_reserve(&b, 5, &space), 0);
  CHECK(space == b.data + 2);
  CHECK_EQ_INT(b.len, 2); /* reserving adds nothing */
  memcpy(space, "cde", 3);
  ftps_buf_commit(&b, 3);
  CHECK_EQ_INT(b.len, 5);
  CHECK(memcmp(b.data, "abcde", 5) == 0);
  space = NULL;
  CHECK_EQ_INT(ftps_buf_reserve(&b, 6, &space), FTPS_ERR_LIMIT);
  CHECK(space == NULL);
  CHECK_EQ_INT(b.len, 5);
  CHECK_EQ_INT(ftps_buf_reserve(&b, 5, &space), 0);
  ftps_buf_commit(&b, 5);
  CHECK_EQ_INT(b.len, 10);
  CHECK_EQ_INT(ftps_buf_room(&b), 0);
  ftps_buf_cleanup(&b);
}

int main(void) {
  test_basic();
  test_limit_unchanged();
  test_growth();
  test_u64();
  test_reserve_commit();
  test_strerror();
  return testlib_finish();
}
