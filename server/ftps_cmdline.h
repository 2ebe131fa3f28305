/* ftps_cmdline.h - framing control-connection bytes into command lines, and
 * splitting a line into verb and argument.
 *
 * THE FRAMING CONTRACT. Every reading of client bytes into command lines
 * follows it: this framer, the oracle's (model/oracle_frame.c, which
 * fuzz_cmdline uses as its reference) and tests/test_framing_contract.c,
 * which feeds the corner cases to both. Framing depends only on the byte
 * stream, never on how it was split into reads. Two layers:
 *   1. Telnet (RFC 854) first, giving data bytes:
 *      - IAC IAC is the data byte 0xFF;
 *      - IAC followed by a command byte 240..254 drops both; after IAC
 *        WILL/WONT/DO/DONT (251..254) the next byte, the option, is dropped
 *        too, unless it is CR or LF: a line end is never eaten as an option
 *        (it is then data for layer 2);
 *      - IAC followed by a byte below 240 (no Telnet command) drops the IAC
 *        and keeps the byte as data, so IAC never eats a line end either.
 *   2. Lines of data bytes: LF ends a line; a CR directly before that LF
 *      (in data bytes, so Telnet commands between them do not count) is
 *      part of the line end; any other CR is data (RFC 959 4.1.3 reserves
 *      CR LF as the end of line; a bare LF is tolerated).
 * A line longer than FTPS_LINE_MAX data bytes is FTPS_LINE_TOO_LONG, else a
 * line holding NUL is FTPS_LINE_HAS_NUL. */
#ifndef FTPS_CMDLINE_H
#define FTPS_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ftps_buf.h"

/* FTPS_LINE_MAX is the longest command line accepted, in bytes after IAC
 * removal and without the line end. Longer lines are answered 500; RFC 959
 * sets no limit, 2048 covers any path a client legitimately sends. */
#define FTPS_LINE_MAX 2048

typedef enum ftps_line_status {
  FTPS_LINE_NONE = 0,   /* no complete line yet: feed more bytes */
  FTPS_LINE_OK,         /* a line is ready in ftps_linebuf_line() */
  FTPS_LINE_TOO_LONG,   /* a line longer than FTPS_LINE_MAX ended; its bytes were dropped */
  FTPS_LINE_HAS_NUL,    /* a line containing NUL ended; its bytes were dropped */
} ftps_line_status;
/* A line both too long and holding NUL is reported FTPS_LINE_TOO_LONG. */

typedef struct ftps_linebuf {
  ftps_buf line;        /* the line being assembled (capped at FTPS_LINE_MAX) */
  uint8_t iac_state;    /* Telnet parser state across reads */
  bool pending_cr;      /* last data byte was CR */
  bool overlong;        /* the current line exceeded the limit */
  bool has_nul;         /* the current line contains NUL */
  bool ready;           /* a finished line is waiting in |line| */
} ftps_linebuf;

void ftps_linebuf_init(ftps_linebuf *lb);
void ftps_linebuf_cleanup(ftps_linebuf *lb);

/* ftps_linebuf_feed consumes bytes from |in| up to and including the end of
 * the first complete line, and no further, so the caller can act on that line
 * (AUTH TLS switches the rest of the stream to TLS) before the next byte is
 * read. Returns the number of bytes consumed and sets |*out_status|. After
 * FTPS_LINE_OK the line stays available until the next feed. Never fails:
 * memory is bounded by FTPS_LINE_MAX. */
size_t ftps_linebuf_feed(ftps_linebuf *lb, const uint8_t *in, size_t len,
                         ftps_line_status *out_status);

/* ftps_linebuf_line returns the finished line (without its line end) after
 * FTPS_LINE_OK. The bytes are valid until the next feed or reset. */
const uint8_t *ftps_linebuf_line(const ftps_linebuf *lb, size_t *out_len);

/* ftps_linebuf_reset forgets any partial line and Telnet state. */
void ftps_linebuf_reset(ftps_linebuf *lb);

/* ftps_linebuf_partial reports whether bytes of an unfinished line are held. */
bool ftps_linebuf_partial(const ftps_linebuf *lb);

/* A command split into verb and argument. */
typedef struct ftps_cmd {
  char verb[5];          /* upper-cased, NUL-terminated, 3 or 4 letters */
  const uint8_t *arg;    /* points into the line; NULL when there is no argument */
  size_t arg_len;        /* bytes of |arg| (may be 0 for "VERB ") */
} ftps_cmd;

/* ftps_cmd_parse splits |line| into verb and argument. The verb is the run of
 * ASCII letters before the first SP or the end of the line; it must be 3 or 4
 * letters (RFC 959 5.3.1: "four or fewer alphabetic characters") and be
 * followed by SP or the end. The argument is everything after that one SP,
 * verbatim. Returns 0, or FTPS_ERR_INVAL when there is no valid verb. */
int ftps_cmd_parse(const uint8_t *line, size_t len, ftps_cmd *out);

#endif
