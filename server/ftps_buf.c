/* ftps_buf.c - see ftps_buf.h. */
#include "ftps_alloc.h"
#include "ftps_buf.h"

#include <stdlib.h>
#include <string.h>

#include "ftps_err.h"

/* The first allocation is at least this big, so tiny appends do not realloc
 * byte by byte. */
#define FTPS_BUF_MIN_CAP 64

void ftps_buf_init(ftps_buf *b, size_t max) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
}

void ftps_buf_cleanup(ftps_buf *b) {
  ftps_free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

/* ensure_room makes |cap| >= len + n. Growth is geometric (doubling) so a run
 * of appends costs amortised O(1), but the capacity is clamped to |max|: a
 * buffer never allocates more than its owner allowed it to hold. */
static int ensure_room(ftps_buf *b, size_t n) {
  if (n > b->max || b->len > b->max - n)
    return FTPS_ERR_LIMIT;
  size_t need = b->len + n;
  if (need <= b->cap)
    return 0;
  size_t cap = b->cap < FTPS_BUF_MIN_CAP ? FTPS_BUF_MIN_CAP : b->cap;
  while (cap < need) {
    if (cap > SIZE_MAX / 2) {
      cap = need;
      break;
    }
    cap *= 2;
  }
  if (cap > b->max)
    cap = b->max;
  uint8_t *p = ftps_realloc(b->data, cap);
  if (p == NULL)
    return FTPS_ERR_NOMEM;
  b->data = p;
  b->cap = cap;
  return 0;
}

int ftps_buf_append(ftps_buf *b, const void *p, size_t n) {
  if (n == 0)
    return 0;
  int rc = ensure_room(b, n);
  if (rc != 0)
    return rc;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

int ftps_buf_reserve(ftps_buf *b, size_t n, uint8_t **space) {
  int rc = ensure_room(b, n);
  if (rc != 0)
    return rc;
  *space = b->data + b->len;
  return 0;
}

void ftps_buf_commit(ftps_buf *b, size_t n) {
  if (n <= b->cap - b->len)
    b->len += n;
}

int ftps_buf_append_byte(ftps_buf *b, uint8_t c) { return ftps_buf_append(b, &c, 1); }

int ftps_buf_append_cstr(ftps_buf *b, const char *s) { return ftps_buf_append(b, s, strlen(s)); }

int ftps_buf_append_u64(ftps_buf *b, uint64_t v) {
  char tmp[20]; /* UINT64_MAX has 20 digits */
  size_t i = sizeof(tmp);
  do {
    tmp[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  return ftps_buf_append(b, tmp + i, sizeof(tmp) - i);
}

void ftps_buf_consume(ftps_buf *b, size_t n) {
  if (n >= b->len) {
    b->len = 0;
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
}

void ftps_buf_truncate(ftps_buf *b, size_t len) {
  if (len < b->len)
    b->len = len;
}

void ftps_buf_reset(ftps_buf *b) { b->len = 0; }

size_t ftps_buf_room(const ftps_buf *b) { return b->len >= b->max ? 0 : b->max - b->len; }
