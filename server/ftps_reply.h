/* ftps_reply.h - the one writer of FTP reply bytes (RFC 959 section 4.2).
 *
 * Single-line:  "CODE text\r\n"
 * Multi-line:   "CODE-first\r\n" " middle\r\n"... "CODE last\r\n"
 * Middle lines start with a space so none can be mistaken for an end line
 * (RFC 959 4.2; RFC 2389 FEAT uses the same shape). Text is sanitised: CR,
 * LF, NUL and other control bytes (except TAB) become '?', so no file name
 * or argument echoed in a reply can inject a line. */
#ifndef FTPS_REPLY_H
#define FTPS_REPLY_H

#include <stddef.h>

#include "ftps_buf.h"

/* FTPS_REPLY_TEXT_MAX caps one line's text; longer text is cut. */
#define FTPS_REPLY_TEXT_MAX 4096

/* ftps_reply writes a single-line reply. |code| must be 100..599 (anything
 * else is a bug and aborts). Returns 0 or an ftps_buf error; on error |out|
 * is unchanged. */
int ftps_reply(ftps_buf *out, int code, const char *text);

/* ftps_reply_n is ftps_reply for text that is not NUL-terminated. */
int ftps_reply_n(ftps_buf *out, int code, const char *text, size_t text_len);

/* ftps_reply_lines writes a reply of |n| >= 1 lines: lines[0] is the first
 * line's text, lines[n-1] the last's; with n == 1 it is a single-line reply.
 * On error |out| is unchanged. */
int ftps_reply_lines(ftps_buf *out, int code, const char *const *lines, size_t n);

#endif
