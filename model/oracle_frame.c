/* oracle_frame.c - frame client bytes into command lines like a server does.
 *
 * Framing never depends on how the client's writes were split: a line ends
 * at LF only (RFC 959 says CRLF; bare LF is tolerated, as by our server and
 * most others), several lines in one write are several commands, and a line
 * may span writes. */
#include "oracle.h"

#include <string.h>

void oracle_framer_reset(oracle_framer *f) {
  f->len = 0;
  f->overlong = false;
}

enum { IAC = 255, WILL = 251, WONT = 252, DO = 253, DONT = 254 };

/* strip_iac removes Telnet commands in place and returns the new length. */
static size_t strip_iac(uint8_t *p, size_t n) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] != IAC) {
      p[o++] = p[i];
      continue;
    }
    if (i + 1 >= n)
      break; /* a lone IAC at the end: dropped */
    uint8_t c = p[i + 1];
    if (c == IAC) {
      p[o++] = IAC;
      i++;
    } else if (c >= WILL && c <= DONT) {
      i += 2; /* option byte */
    } else if (c >= 240) {
      i++; /* a Telnet command (RFC 854: 240..255) */
    }
    /* else: not a Telnet command; the IAC is dropped, the byte is data (as
     * our server's framer does: a line end is never eaten by an IAC). */
  }
  return o;
}

static void emit(oracle_framer *f, oracle_line_fn fn, void *ctx) {
  size_t n = f->len;
  if (n > 0 && f->buf[n - 1] == '\r')
    n--;
  n = strip_iac(f->buf, n);
  if (fn)
    fn(ctx, f->buf, n, f->overlong);
  oracle_framer_reset(f);
}

size_t oracle_framer_feed(oracle_framer *f, const uint8_t *data, size_t len, oracle_line_fn fn,
                          void *ctx) {
  size_t lines = 0;
  for (size_t i = 0; i < len; i++) {
    if (data[i] == '\n') {
      emit(f, fn, ctx);
      lines++;
      continue;
    }
    if (f->len < sizeof(f->buf))
      f->buf[f->len++] = data[i];
    else
      f->overlong = true;
  }
  return lines;
}
