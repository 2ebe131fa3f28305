/* ftps_buf.h - the one growable byte buffer.
 *
 * Every buffer has a hard cap chosen by its owner: an append that would grow
 * it past |max| fails with FTPS_ERR_LIMIT and leaves the buffer unchanged, so
 * no input can make memory grow without bound. Length arithmetic is checked.
 * Read |data| and |len|; change them only through these functions. */
#ifndef FTPS_BUF_H
#define FTPS_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct ftps_buf {
  uint8_t *data;  /* NULL until the first append */
  size_t len;     /* bytes in use */
  size_t cap;     /* bytes allocated */
  size_t max;     /* hard cap on |len| */
} ftps_buf;

/* ftps_buf_init makes an empty buffer that may hold at most |max| bytes. It
 * allocates nothing. */
void ftps_buf_init(ftps_buf *b, size_t max);

/* ftps_buf_cleanup frees the storage; the buffer is then empty and may be
 * reused. Accepts a zeroed buffer. */
void ftps_buf_cleanup(ftps_buf *b);

/* ftps_buf_append appends |n| bytes. Returns 0, FTPS_ERR_LIMIT (would exceed
 * |max|) or FTPS_ERR_NOMEM; on failure the buffer is unchanged. */
int ftps_buf_append(ftps_buf *b, const void *p, size_t n);
int ftps_buf_append_byte(ftps_buf *b, uint8_t c);
/* ftps_buf_append_cstr appends a NUL-terminated string without its NUL. */
int ftps_buf_append_cstr(ftps_buf *b, const char *s);
/* ftps_buf_append_u64 appends |v| in decimal. */
int ftps_buf_append_u64(ftps_buf *b, uint64_t v);

/* ftps_buf_reserve makes room for |n| more bytes and points |*space| at
 * it, for a producer that writes in place (e.g. BIO_read); the bytes count
 * once ftps_buf_commit() says how many were written. Returns 0,
 * FTPS_ERR_LIMIT or FTPS_ERR_NOMEM. */
int ftps_buf_reserve(ftps_buf *b, size_t n, uint8_t **space);

/* ftps_buf_commit adds |n| bytes written into the reserved room (n must
 * not exceed what was reserved). */
void ftps_buf_commit(ftps_buf *b, size_t n);

/* ftps_buf_consume drops the first |n| bytes (n <= len; more empties it). */
void ftps_buf_consume(ftps_buf *b, size_t n);

/* ftps_buf_truncate shortens the buffer to |len| bytes (no-op if len >= the
 * current length), e.g. to roll back a partly written record. */
void ftps_buf_truncate(ftps_buf *b, size_t len);

/* ftps_buf_reset empties the buffer, keeping its storage. */
void ftps_buf_reset(ftps_buf *b);

/* ftps_buf_room returns how many more bytes may be appended. */
size_t ftps_buf_room(const ftps_buf *b);

#endif
