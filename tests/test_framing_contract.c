/* test_framing_contract.c - the framing contract of ftps_cmdline.h, fed to
 * both of its readings: the server's framer (ftps_linebuf_feed) and the
 * oracle's (oracle_framer_feed), which fuzz_cmdline uses as its reference.
 * Each corner case has the expected lines written out, so a change to either
 * framer that the other does not follow fails here before a campaign reports
 * it as a finding (issue: fuzz_cmdline's own reading had drifted). */
#include <stdio.h>
#include <string.h>

#include "ftps_buf.h"
#include "ftps_cmdline.h"
#include "oracle.h"
#include "testlib.h"

/* Lines are recorded as "O:<bytes>|" (OK), "L|" (too long), "Z|" (NUL);
 * bytes outside printable ASCII as \xHH. */
static void put_line(ftps_buf *out, ftps_line_status st, const uint8_t *p, size_t n) {
  static const char letters[] = {'-', 'O', 'L', 'Z'};
  ftps_buf_append_byte(out, (uint8_t)letters[st]);
  if (st == FTPS_LINE_OK) {
    ftps_buf_append_byte(out, ':');
    for (size_t i = 0; i < n; i++) {
      if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
        ftps_buf_append_byte(out, p[i]);
      } else {
        char hex[5];
        snprintf(hex, sizeof(hex), "\\x%02x", p[i]);
        ftps_buf_append(out, hex, 4);
      }
    }
  }
  ftps_buf_append_byte(out, '|');
}

static void server_frame(const uint8_t *in, size_t len, size_t piece, ftps_buf *out) {
  ftps_linebuf lb;
  ftps_linebuf_init(&lb);
  for (size_t off = 0; off < len;) {
    size_t n = piece && piece < len - off ? piece : len - off;
    ftps_line_status st = FTPS_LINE_NONE;
    size_t used = ftps_linebuf_feed(&lb, in + off, n, &st);
    if (st != FTPS_LINE_NONE) {
      size_t ll = 0;
      const uint8_t *line = ftps_linebuf_line(&lb, &ll);
      put_line(out, st, line, ll);
    }
    off += used;
  }
  ftps_linebuf_cleanup(&lb);
}

static void oracle_line(void *ctx, const uint8_t *line, size_t len, bool overlong) {
  ftps_buf *out = ctx;
  if (overlong || len > FTPS_LINE_MAX)
    put_line(out, FTPS_LINE_TOO_LONG, NULL, 0);
  else if (memchr(line, '\0', len))
    put_line(out, FTPS_LINE_HAS_NUL, NULL, 0);
  else
    put_line(out, FTPS_LINE_OK, line, len);
}

static void oracle_frame(const uint8_t *in, size_t len, size_t piece, ftps_buf *out) {
  static oracle_framer f;
  oracle_framer_reset(&f);
  for (size_t off = 0; off < len;) {
    size_t n = piece && piece < len - off ? piece : len - off;
    oracle_framer_feed(&f, in + off, n, oracle_line, out);
    off += n;
  }
}

typedef struct corner {
  const char *name;
  const char *in;
  size_t len;
  const char *want;
} corner;

#define C(name, lit, want) {name, lit, sizeof(lit) - 1, want}

static const corner corners[] = {
    C("crlf", "NOOP\r\n", "O:NOOP|"),
    C("bare lf", "NOOP\n", "O:NOOP|"),
    C("cr kept as data", "NO\rOP\r\n", "O:NO\\x0dOP|"),
    C("cr cr lf", "NOOP\r\r\n", "O:NOOP\\x0d|"),
    C("iac iac is 0xff", "A\xff\xff" "B\r\n", "O:A\\xffB|"),
    C("iac nop dropped", "NO\xff\xf1OP\r\n", "O:NOOP|"),
    C("iac ip dm dropped (RFC 959 ABOR)", "\xff\xf4\xff\xf2" "ABOR\r\n", "O:ABOR|"),
    C("iac will opt dropped", "NO\xff\xfb\x01OP\r\n", "O:NOOP|"),
    C("iac dont opt dropped", "NO\xff\xfe\x22OP\r\n", "O:NOOP|"),
    /* the case fuzz_cmdline's own reading got wrong: a byte below 240 */
    C("iac before a byte below 240", "NO\xff" "AOP\r\n", "O:NOAOP|"),
    C("iac before lf ends the line", "NOOP\xff\n", "O:NOOP|"),
    C("iac before cr lf", "NOOP\xff\r\n", "O:NOOP|"),
    C("iac will then lf: lf is no option", "NOOP\xff\xfb\n", "O:NOOP|"),
    C("iac will then cr lf", "NOOP\xff\xfb\r\n", "O:NOOP|"),
    C("iac between cr and lf", "NOOP\r\xff\xf1\n", "O:NOOP|"),
    C("iac will between cr and lf", "NOOP\r\xff\xfb\x05\n", "O:NOOP|"),
    C("iac iac then lf", "A\xff\xff\n", "O:A\\xff|"),
    C("iac will iac: option byte 0xff dropped", "A\xff\xfb\xff" "B\n", "O:AB|"),
    C("nul", "NO\0OP\r\n", "Z|"),
    C("iac nul", "NO\xff\0OP\r\n", "Z|"),
    C("two lines", "USER a\r\nPASS b\n", "O:USER a|O:PASS b|"),
    C("empty lines", "\r\n\n", "O:|O:|"),
    C("partial line not framed", "NOOP", ""),
};

static void check_corner(const corner *c, size_t piece) {
  ftps_buf a, b;
  ftps_buf_init(&a, 1u << 20);
  ftps_buf_init(&b, 1u << 20);
  server_frame((const uint8_t *)c->in, c->len, piece, &a);
  oracle_frame((const uint8_t *)c->in, c->len, piece, &b);
  size_t wl = strlen(c->want);
  if (a.len != wl || (wl && memcmp(a.data, c->want, wl) != 0) || b.len != wl ||
      (wl && memcmp(b.data, c->want, wl) != 0))
    fprintf(stderr, "corner '%s' (pieces of %zu): want %s\n  server %.*s\n  oracle %.*s\n",
            c->name, piece, c->want, (int)a.len, (const char *)a.data, (int)b.len,
            (const char *)b.data);
  CHECK_MEM(a.len ? a.data : (uint8_t *)"", a.len, c->want, wl);
  CHECK_MEM(b.len ? b.data : (uint8_t *)"", b.len, c->want, wl);
  ftps_buf_cleanup(&a);
  ftps_buf_cleanup(&b);
}

/* The line limit: FTPS_LINE_MAX data bytes pass, one more is too long, and
 * Telnet bytes do not count. */
static void check_limit(void) {
  static uint8_t in[FTPS_LINE_MAX + 16];
  for (int extra = 0; extra <= 1; extra++) {
    size_t n = FTPS_LINE_MAX + (size_t)extra;
    memset(in, 'a', n);
    in[n] = '\xff';
    in[n + 1] = '\xf1'; /* IAC NOP: not data */
    in[n + 2] = '\r';
    in[n + 3] = '\n';
    ftps_buf a, b;
    ftps_buf_init(&a, 1u << 20);
    ftps_buf_init(&b, 1u << 20);
    server_frame(in, n + 4, 0, &a);
    oracle_frame(in, n + 4, 0, &b);
    CHECK(a.len > 0 && a.data[0] == (extra ? 'L' : 'O'));
    CHECK_MEM(a.data, a.len, b.data, b.len);
    ftps_buf_cleanup(&a);
    ftps_buf_cleanup(&b);
  }
}

int main(void) {
  static const size_t pieces[] = {0, 1, 2, 3};
  for (size_t i = 0; i < sizeof(corners) / sizeof(corners[0]); i++)
    for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++)
      check_corner(&corners[i], pieces[k]);
  check_limit();
  return testlib_finish();
}
