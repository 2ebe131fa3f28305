/* test_ftps_cmdline.c - command-line framing and verb parsing.
 *
 * The central property: framing depends only on the byte stream. Every stream
 * is fed whole, one byte at a time, split at every single point and in random
 * pieces, and each run must produce the same lines and statuses as the
 * expected list. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftps_cmdline.h"
#include "ftps_err.h"
#include "testlib.h"

/* The recorded outcome of a run: for every completed line, one status
 * letter, its length in decimal, ':', its bytes, '\n'; then 'P' if a partial
 * line remained. */
static void record(ftps_buf *out, ftps_line_status st, const ftps_linebuf *lb) {
  static const char letters[] = {'-', 'O', 'L', 'Z'};
  size_t n = 0;
  const uint8_t *line = ftps_linebuf_line(lb, &n);
  if (st == FTPS_LINE_OK) {
    CHECK(line != NULL);
  } else {
    CHECK(line == NULL);
    CHECK_EQ_INT(n, 0);
  }
  ftps_buf_append_byte(out, (uint8_t)letters[st]);
  ftps_buf_append_u64(out, n);
  ftps_buf_append_byte(out, ':');
  ftps_buf_append(out, line, n);
  ftps_buf_append_byte(out, '\n');
}

/* split_fn returns the size of the next piece (>= 1). */
typedef size_t (*split_fn)(void *ctx, size_t remaining);

static void run(ftps_buf *out, const uint8_t *in, size_t len, split_fn split, void *ctx) {
  ftps_linebuf lb;
  ftps_linebuf_init(&lb);
  ftps_buf_init(out, 1 << 20);
  size_t off = 0;
  while (off < len) {
    size_t piece = split(ctx, len - off);
    if (piece > len - off)
      piece = len - off;
    size_t done = 0;
    while (done < piece) {
      ftps_line_status st = (ftps_line_status)99;
      size_t n = ftps_linebuf_feed(&lb, in + off + done, piece - done, &st);
      CHECK(n <= piece - done);
      if (st == FTPS_LINE_NONE) {
        CHECK_EQ_INT(n, piece - done); /* no line: everything consumed */
      } else {
        CHECK(n >= 1);
        /* the consumed bytes end with the line's LF and no further */
        CHECK_EQ_INT(in[off + done + n - 1], '\n');
        record(out, st, &lb);
      }
      if (n == 0)
        break;
      done += n;
    }
    off += piece;
  }
  if (ftps_linebuf_partial(&lb))
    ftps_buf_append_byte(out, 'P');
  CHECK(lb.line.cap <= FTPS_LINE_MAX);
  ftps_linebuf_cleanup(&lb);
}

static size_t split_whole(void *ctx, size_t remaining) {
  (void)ctx;
  return remaining;
}
static size_t split_one(void *ctx, size_t remaining) {
  (void)ctx;
  (void)remaining;
  return 1;
}
/* split_at: one split at *(size_t *)ctx, then the rest whole. */
static size_t split_at(void *ctx, size_t remaining) {
  size_t *at = ctx;
  size_t n = *at > 0 ? *at : remaining;
  *at = 0;
  return n;
}
static size_t split_random(void *ctx, size_t remaining) {
  uint64_t *s = ctx;
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  size_t max = remaining < 9 ? remaining : 9;
  return 1 + (size_t)(*s % max);
}

/* check_stream runs |in| under every split strategy; each must give |want|. */
static void check_stream(const uint8_t *in, size_t len, const char *want, size_t want_len) {
  ftps_buf got;
  run(&got, in, len, split_whole, NULL);
  CHECK_MEM(got.data, got.len, want, want_len);
  ftps_buf_cleanup(&got);

  run(&got, in, len, split_one, NULL);
  CHECK_MEM(got.data, got.len, want, want_len);
  ftps_buf_cleanup(&got);

  unsigned bad = 0;
  for (size_t at = 1; at < len; at++) {
    size_t cut = at;
    run(&got, in, len, split_at, &cut);
    if (got.len != want_len || memcmp(got.data, want, want_len) != 0) {
      if (bad++ == 0)
        CHECK_MEM(got.data, got.len, want, want_len); /* print the first */
    }
    ftps_buf_cleanup(&got);
  }
  CHECK_EQ_INT(bad, 0);

  for (uint64_t seed = 1; seed <= 50; seed++) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull;
    run(&got, in, len, split_random, &s);
    if (got.len != want_len || memcmp(got.data, want, want_len) != 0) {
      CHECK_MEM(got.data, got.len, want, want_len);
      ftps_buf_cleanup(&got);
      break;
    }
    ftps_buf_cleanup(&got);
  }
}

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1
#define W(lit) lit, sizeof(lit) - 1

static void test_line_ends(void) {
  check_stream(S("USER alice\r\n"), W("O10:USER alice\n"));
  check_stream(S("NOOP\n"), W("O4:NOOP\n"));          /* bare LF tolerated */
  check_stream(S("A\rB\r\n"), W("O3:A\rB\n"));        /* lone CR is data */
  check_stream(S("X\r\r\n"), W("O2:X\r\n"));          /* CR CR LF: first CR is data */
  check_stream(S("\r\n\n"), W("O0:\nO0:\n"));         /* empty lines */
  check_stream(S("QUIT"), W("P"));                    /* no line end yet */
  check_stream(S("QUIT\r"), W("P"));                  /* CR held, line not ended */
  check_stream(S("A\r\nB\nC\r\rD\r\n"), W("O1:A\nO1:B\nO4:C\r\rD\n"));
}

static void test_telnet(void) {
  /* IAC IAC is one data byte 0xFF */
  check_stream(S("PA\xff\xffSS\r\n"), W("O5:PA\xffSS\n"));
  /* IAC IP (244) dropped */
  check_stream(S("NO\xff\xf4OP\r\n"), W("O4:NOOP\n"));
  /* IAC WILL/WONT/DO/DONT <opt> dropped, even when opt is 255; a CR or LF
   * where the option should be is a line end, never an option byte */
  check_stream(S("A\xff\xfb\x01" "B\xff\xfc\x03" "C\xff\xfd\xff" "D\xff\xfe\nE\r\n"), W("O4:ABCD\nO1:E\n"));
  /* IAC before CR/LF: the Telnet layer removes IAC NOP, CR LF still ends */
  check_stream(S("E\r\xff\xf1\nF\r\n"), W("O1:E\nO1:F\n"));
  /* IAC <LF>: LF is not a Telnet command (RFC 854: 240..255), so the IAC
   * is dropped and the LF ends the line (the oracle frames it the same) */
  check_stream(S("G\xff\nH\r\n"), W("O1:G\nO1:H\n"));
  /* IAC <letter>: the letter is data */
  check_stream(S("N\xffOOP\r\n"), W("O4:NOOP\n"));
  /* IAC at the very end: state held, reported as partial */
  check_stream(S("I\r\n\xff"), W("O1:I\nP"));
  /* five 0xFF: IAC IAC twice gives two data bytes, then IAC CR keeps the CR
   * as data; CR LF ends the line */
  check_stream(S("\xff\xff\xff\xff\xff\r\n"), W("O2:\xff\xff\n"));
}

static void fill(uint8_t *p, uint8_t c, size_t n) { memset(p, c, n); }

static void test_limits(void) {
  enum { BIG = 3000 };
  static uint8_t in[8 * BIG];
  static char want[4 * BIG];
  size_t n, w;

  /* NUL line, then a normal line */
  check_stream(S("US\0ER x\r\nNOOP\r\n"), W("Z0:\nO4:NOOP\n"));
  check_stream(S("\0\nNOOP\n"), W("Z0:\nO4:NOOP\n"));
  /* CR NUL (RFC 854 bare CR) is still a NUL line */
  check_stream(S("A\r\0B\r\nC\n"), W("Z0:\nO1:C\n"));

  /* overlong line, then a normal line */
  n = 0;
  fill(in, 'a', BIG);
  n += BIG;
  memcpy(in + n, "\r\nNOOP\r\n", 8);
  n += 8;
  check_stream(in, n, W("L0:\nO4:NOOP\n"));

  /* exactly FTPS_LINE_MAX is accepted, one more is not */
  n = 0;
  fill(in, 'b', FTPS_LINE_MAX);
  n += FTPS_LINE_MAX;
  memcpy(in + n, "\r\n", 2);
  n += 2;
  fill(in + n, 'c', FTPS_LINE_MAX + 1);
  n += FTPS_LINE_MAX + 1;
  memcpy(in + n, "\r\n", 2);
  n += 2;
  /* MAX-1 data bytes + a data CR = MAX: accepted */
  fill(in + n, 'd', FTPS_LINE_MAX - 1);
  n += FTPS_LINE_MAX - 1;
  memcpy(in + n, "\r\r\n", 3);
  n += 3;
  /* MAX data bytes + a data CR = MAX+1: too long */
  fill(in + n, 'e', FTPS_LINE_MAX);
  n += FTPS_LINE_MAX;
  memcpy(in + n, "\rX\n", 3);
  n += 3;
  /* IAC bytes do not count toward the limit */
  for (size_t i = 0; i < FTPS_LINE_MAX; i++) {
    in[n++] = 0xff;
    in[n++] = 0xf1; /* IAC NOP */
    in[n++] = 'f';
  }
  memcpy(in + n, "\n", 1);
  n += 1;

  w = 0;
  w += (size_t)snprintf(want + w, sizeof(want) - w, "O%d:", FTPS_LINE_MAX);
  memset(want + w, 'b', FTPS_LINE_MAX);
  w += FTPS_LINE_MAX;
  want[w++] = '\n';
  memcpy(want + w, "L0:\n", 4);
  w += 4;
  w += (size_t)snprintf(want + w, sizeof(want) - w, "O%d:", FTPS_LINE_MAX);
  memset(want + w, 'd', FTPS_LINE_MAX - 1);
  w += FTPS_LINE_MAX - 1;
  memcpy(want + w, "\r\n", 2);
  w += 2;
  memcpy(want + w, "L0:\n", 4);
  w += 4;
  w += (size_t)snprintf(want + w, sizeof(want) - w, "O%d:", FTPS_LINE_MAX);
  memset(want + w, 'f', FTPS_LINE_MAX);
  w += FTPS_LINE_MAX;
  want[w++] = '\n';

  ftps_buf got;
  run(&got, in, n, split_whole, NULL);
  CHECK_MEM(got.data, got.len, want, w);
  ftps_buf_cleanup(&got);
  run(&got, in, n, split_one, NULL);
  CHECK_MEM(got.data, got.len, want, w);
  ftps_buf_cleanup(&got);
  uint64_t s = 77;
  run(&got, in, n, split_random, &s);
  CHECK_MEM(got.data, got.len, want, w);
  ftps_buf_cleanup(&got);

  /* overlong and NUL: reported once, as too long */
  n = 0;
  in[n++] = 0;
  fill(in + n, 'g', BIG);
  n += BIG;
  memcpy(in + n, "\nOK\n", 4);
  n += 4;
  run(&got, in, n, split_whole, NULL);
  CHECK_MEM(got.data, got.len, "L0:\nO2:OK\n", 10);
  ftps_buf_cleanup(&got);
}

/* 10 MB without a line end: every feed consumes all and reports nothing, the
 * buffer never grows past FTPS_LINE_MAX, then the line is refused once. */
static void test_memory_bound(void) {
  static uint8_t chunk[65536];
  ftps_linebuf lb;
  ftps_linebuf_init(&lb);
  memset(chunk, 'a', sizeof(chunk));
  chunk[100] = 0; /* a NUL in there too */
  chunk[5000] = 0xff;
  chunk[5001] = 0xf1;
  size_t total = 0, bad = 0;
  while (total < 10u * 1024 * 1024) {
    ftps_line_status st;
    size_t n = ftps_linebuf_feed(&lb, chunk, sizeof(chunk), &st);
    if (n != sizeof(chunk) || st != FTPS_LINE_NONE || lb.line.cap > FTPS_LINE_MAX ||
        lb.line.len > FTPS_LINE_MAX)
      bad++;
    total += sizeof(chunk);
  }
  CHECK_EQ_INT(bad, 0);
  CHECK(lb.line.cap <= FTPS_LINE_MAX);
  CHECK(ftps_linebuf_partial(&lb));
  ftps_line_status st;
  const uint8_t tail[] = "\r\nNOOP\r\n";
  size_t n = ftps_linebuf_feed(&lb, tail, sizeof(tail) - 1, &st);
  CHECK_EQ_INT(n, 2);
  CHECK_EQ_INT(st, FTPS_LINE_TOO_LONG);
  CHECK(!ftps_linebuf_partial(&lb));
  n = ftps_linebuf_feed(&lb, tail + 2, sizeof(tail) - 3, &st);
  CHECK_EQ_INT(n, 6);
  CHECK_EQ_INT(st, FTPS_LINE_OK);
  size_t ll;
  const uint8_t *line = ftps_linebuf_line(&lb, &ll);
  CHECK_MEM(line, ll, "NOOP", 4);
  ftps_linebuf_cleanup(&lb);
}

static void test_feed_stops(void) {
  ftps_linebuf lb;
  ftps_linebuf_init(&lb);
  ftps_line_status st;
  size_t ll;
  const uint8_t in[] = "AUTH TLS\r\n\x16\x03\x01";
  size_t n = ftps_linebuf_feed(&lb, in, sizeof(in) - 1, &st);
  CHECK_EQ_INT(n, 10); /* stops after the LF: the TLS bytes are not eaten */
  CHECK_EQ_INT(st, FTPS_LINE_OK);
  CHECK(!ftps_linebuf_partial(&lb));
  const uint8_t *line = ftps_linebuf_line(&lb, &ll);
  CHECK_MEM(line, ll, "AUTH TLS", 8);
  /* still there on a second look */
  line = ftps_linebuf_line(&lb, &ll);
  CHECK_MEM(line, ll, "AUTH TLS", 8);
  /* the next feed forgets it */
  n = ftps_linebuf_feed(&lb, in, 0, &st);
  CHECK_EQ_INT(n, 0);
  CHECK_EQ_INT(st, FTPS_LINE_NONE);
  CHECK(ftps_linebuf_line(&lb, &ll) == NULL);
  CHECK_EQ_INT(ll, 0);

  /* reset forgets a partial line and a pending IAC */
  n = ftps_linebuf_feed(&lb, (const uint8_t *)"GARBAGE\r\xff", 9, &st);
  CHECK_EQ_INT(n, 9);
  CHECK(ftps_linebuf_partial(&lb));
  ftps_linebuf_reset(&lb);
  CHECK(!ftps_linebuf_partial(&lb));
  n = ftps_linebuf_feed(&lb, (const uint8_t *)"\nAB\r\n", 5, &st);
  CHECK_EQ_INT(n, 1);
  CHECK_EQ_INT(st, FTPS_LINE_OK);
  line = ftps_linebuf_line(&lb, &ll);
  CHECK_EQ_INT(ll, 0);
  CHECK(line != NULL);
  n = ftps_linebuf_feed(&lb, (const uint8_t *)"AB\r\n", 4, &st);
  CHECK_EQ_INT(st, FTPS_LINE_OK);
  line = ftps_linebuf_line(&lb, &ll);
  CHECK_MEM(line, ll, "AB", 2);
  ftps_linebuf_cleanup(&lb);
}

static void check_parse(const char *line, int want_rc, const char *verb, const char *arg) {
  ftps_cmd c;
  int rc = ftps_cmd_parse((const uint8_t *)line, strlen(line), &c);
  CHECK_EQ_INT(rc, want_rc);
  if (rc != 0)
    return;
  CHECK_STR(c.verb, verb);
  if (arg == NULL) {
    CHECK(c.arg == NULL);
    CHECK_EQ_INT(c.arg_len, 0);
  } else {
    CHECK(c.arg != NULL);
    if (c.arg != NULL)
      CHECK_MEM(c.arg, c.arg_len, arg, strlen(arg));
  }
}

static void test_parse(void) {
  check_parse("USER alice", 0, "USER", "alice");
  check_parse("user alice", 0, "USER", "alice");
  check_parse("uSeR alice", 0, "USER", "alice");
  check_parse("USER", 0, "USER", NULL);
  check_parse("USER ", 0, "USER", "");
  check_parse("PWD", 0, "PWD", NULL);
  check_parse("CWD  /a b ", 0, "CWD", " /a b "); /* argument verbatim */
  check_parse("STOR a\r", 0, "STOR", "a\r");
  check_parse("USERX alice", FTPS_ERR_INVAL, NULL, NULL); /* no prefix match */
  check_parse("USERX", FTPS_ERR_INVAL, NULL, NULL);
  check_parse("US3R x", FTPS_ERR_INVAL, NULL, NULL);
  check_parse(" USER x", FTPS_ERR_INVAL, NULL, NULL);
  check_parse("", FTPS_ERR_INVAL, NULL, NULL);
  check_parse("AB", FTPS_ERR_INVAL, NULL, NULL);
  check_parse("AB x", FTPS_ERR_INVAL, NULL, NULL);
  check_parse("NOOP\t", FTPS_ERR_INVAL, NULL, NULL);
  check_parse("NO-OP", FTPS_ERR_INVAL, NULL, NULL);
  check_parse("\xc3\x9cSER x", FTPS_ERR_INVAL, NULL, NULL);

  /* embedded NUL in the argument is the framer's job; the parser keeps the
   * explicit length and does not stop at it */
  ftps_cmd c;
  CHECK_EQ_INT(ftps_cmd_parse((const uint8_t *)"RETR a\0b", 8, &c), 0);
  CHECK_MEM(c.arg, c.arg_len, "a\0b", 3);
  CHECK_EQ_INT(ftps_cmd_parse(NULL, 0, &c), FTPS_ERR_INVAL);
  /* only |len| bytes are read: "USERX" cut to 4 is "USER" */
  CHECK_EQ_INT(ftps_cmd_parse((const uint8_t *)"USERX", 4, &c), 0);
  CHECK_STR(c.verb, "USER");
  CHECK(c.arg == NULL);
}

int main(void) {
  test_line_ends();
  test_telnet();
  test_limits();
  test_memory_bound();
  test_feed_stops();
  test_parse();
  return testlib_finish();
}
