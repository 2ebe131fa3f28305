/* ftps_reply.c - see ftps_reply.h. */
#include "ftps_reply.h"

#include <stdlib.h>
#include <string.h>

#include "ftps_err.h"

/* check_code: a code outside 100..599 can only come from our own code, never
 * from input, so it is a broken invariant, not an error to report. */
static void check_code(int code) {
  if (code < 100 || code > 599)
    abort();
}

/* text_cut returns how many bytes of |text| fit in FTPS_REPLY_TEXT_MAX,
 * backing off so a UTF-8 sequence (RFC 2640) is not split. */
static size_t text_cut(const char *text, size_t len) {
  if (len <= FTPS_REPLY_TEXT_MAX)
    return len;
  size_t n = FTPS_REPLY_TEXT_MAX;
  for (int i = 0; i < 3 && n > 0 && ((uint8_t)text[n] & 0xC0) == 0x80; i++)
    n--;
  return n;
}

/* append_text appends sanitised text. RFC 959 4.2 ends a reply line at CRLF;
 * CR, LF, NUL and every other control byte except TAB (and DEL) becomes '?',
 * so echoed names cannot end a line early or forge another reply. */
static int append_text(ftps_buf *out, const char *text, size_t len) {
  len = text_cut(text, len);
  for (size_t i = 0; i < len; i++) {
    uint8_t c = (uint8_t)text[i];
    if ((c < 0x20 && c != '\t') || c == 0x7F)
      c = '?';
    int rc = ftps_buf_append_byte(out, c);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* append_line appends "CODE<sep>text\r\n" (sep is ' ' or '-'), or with
 * code < 0 the continuation form " text\r\n". */
static int append_line(ftps_buf *out, int code, char sep, const char *text, size_t len) {
  int rc;
  if (code >= 0) {
    char head[4] = {(char)('0' + code / 100), (char)('0' + code / 10 % 10),
                    (char)('0' + code % 10), sep};
    rc = ftps_buf_append(out, head, sizeof(head));
  } else {
    rc = ftps_buf_append_byte(out, ' ');
  }
  if (rc == 0)
    rc = append_text(out, text, len);
  if (rc == 0)
    rc = ftps_buf_append(out, "\r\n", 2);
  return rc;
}

int ftps_reply_n(ftps_buf *out, int code, const char *text, size_t text_len) {
  check_code(code);
  if (text == NULL)
    text_len = 0;
  size_t saved = out->len;
  int rc = append_line(out, code, ' ', text, text_len);
  if (rc != 0)
    ftps_buf_truncate(out, saved);
  return rc;
}

int ftps_reply(ftps_buf *out, int code, const char *text) {
  return ftps_reply_n(out, code, text, text != NULL ? strlen(text) : 0);
}

int ftps_reply_lines(ftps_buf *out, int code, const char *const *lines, size_t n) {
  check_code(code);
  if (lines == NULL || n == 0)
    return FTPS_ERR_INVAL;
  size_t saved = out->len;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const char *t = lines[i] != NULL ? lines[i] : "";
    size_t len = strlen(t);
    if (i == n - 1)
      rc = append_line(out, code, ' ', t, len);
    else if (i == 0)
      rc = append_line(out, code, '-', t, len);
    else
      rc = append_line(out, -1, 0, t, len);
  }
  if (rc != 0)
    ftps_buf_truncate(out, saved);
  return rc;
}
