/* oracle_frame.c - frame client bytes into command lines like a server does.
 *
 * Two layers, as in RFC 959 section 4.1.3 over RFC 854: Telnet decoding
 * turns the byte stream into data bytes (IAC IAC is 0xff; IAC and a
 * command byte 240..255 are dropped, and after IAC WILL/WONT/DO/DONT so is
 * the option byte; IAC before a byte below 240 is dropped and the byte is
 * data), then data bytes form lines that end at LF (RFC 959 says CRLF; a
 * bare LF is tolerated, as by our server and most others). A CR directly
 * before the LF belongs to the line end even when Telnet commands stood
 * between them; a CR or LF is never taken as an option byte, so a line end
 * is never eaten. Framing never depends on how the client's writes were
 * split: the decoder's state carries over from one write to the next. */
#include "oracle.h"

#include <string.h>

enum { IAC = 255, WILL = 251, DONT = 254, TELNET_CMD_MIN = 240 };
enum { T_DATA = 0, T_IAC, T_OPTION };

void oracle_framer_reset(oracle_framer *f) {
  f->len = 0;
  f->overlong = false;
  f->pending_cr = false;
  f->telnet = T_DATA;
}

static void add(oracle_framer *f, uint8_t c) {
  if (f->len < sizeof(f->buf))
    f->buf[f->len++] = c;
  else
    f->overlong = true;
}

/* data_byte runs the line layer on one decoded byte; true when it ended a
 * line (reported through |fn|). */
static bool data_byte(oracle_framer *f, uint8_t c, oracle_line_fn fn, void *ctx) {
  if (c == '\n') {
    if (fn)
      fn(ctx, f->buf, f->len, f->overlong);
    f->len = 0;
    f->overlong = false;
    f->pending_cr = false;
    return true;
  }
  if (f->pending_cr) {
    f->pending_cr = false;
    add(f, '\r');
  }
  if (c == '\r')
    f->pending_cr = true;
  else
    add(f, c);
  return false;
}

size_t oracle_framer_feed(oracle_framer *f, const uint8_t *data, size_t len, oracle_line_fn fn,
                          void *ctx) {
  size_t lines = 0;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = data[i];
    switch (f->telnet) {
    case T_IAC:
      f->telnet = T_DATA;
      if (c >= TELNET_CMD_MIN && c != IAC) {
        if (c >= WILL && c <= DONT)
          f->telnet = T_OPTION;
        continue; /* a Telnet command */
      }
      break; /* IAC IAC: 0xff; IAC before a byte below 240: the byte */
    case T_OPTION:
      f->telnet = T_DATA;
      if (c != '\r' && c != '\n')
        continue; /* the option byte */
      break;
    default:
      if (c == IAC) {
        f->telnet = T_IAC;
        continue;
      }
      break;
    }
    lines += data_byte(f, c, fn, ctx) ? 1 : 0;
  }
  return lines;
}
