/* transcript_text.c - the .fts text form: parser and canonical printer
 * (format in transcript.h, DESIGN section 4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transcript.h"
#include "transcript_internal.h"

static const char step_letters[] = "CRTWDSE";

static int kind_of_letter(unsigned char c, transcript_kind *out) {
  static const transcript_kind kinds[] = {TRANSCRIPT_C, TRANSCRIPT_R, TRANSCRIPT_T,
                                          TRANSCRIPT_W, TRANSCRIPT_D, TRANSCRIPT_S,
                                          TRANSCRIPT_E};
  for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
    if (c == (unsigned char)step_letters[i]) {
      *out = kinds[i];
      return 0;
    }
  return -1;
}

static int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* unescape decodes |n| bytes of content into |out| (at least |n| bytes).
 * On a bad escape returns -1 and sets |*bad| to the index of its backslash
 * and |*what| to what was expected. */
static int unescape(const unsigned char *s, size_t n, uint8_t *out, size_t *out_len,
                    size_t *bad, const char **what) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '\\') {
      out[o++] = s[i];
      continue;
    }
    *bad = i;
    if (i + 1 >= n) {
      *what = "'\\' at end of line; expected \\r \\n \\t \\\\ or \\xHH";
      return -1;
    }
    switch (s[i + 1]) {
    case 'r': out[o++] = '\r'; break;
    case 'n': out[o++] = '\n'; break;
    case 't': out[o++] = '\t'; break;
    case '\\': out[o++] = '\\'; break;
    case 'x': {
      int hi = i + 2 < n ? hex_value(s[i + 2]) : -1;
      int lo = i + 3 < n ? hex_value(s[i + 3]) : -1;
      if (hi < 0 || lo < 0) {
        *what = "expected two hex digits after '\\x'";
        return -1;
      }
      out[o++] = (uint8_t)(hi << 4 | lo);
      i += 2;
      break;
    }
    default:
      *what = "unknown escape; expected \\r \\n \\t \\\\ or \\xHH";
      return -1;
    }
    i++;
  }
  *out_len = o;
  return 0;
}

/* describe_byte names a byte for an error message: 'x' or byte 0xHH. */
static void describe_byte(char *buf, size_t len, unsigned char c) {
  if (c >= 0x21 && c <= 0x7e && c != '\'')
    snprintf(buf, len, "'%c'", c);
  else
    snprintf(buf, len, "byte 0x%02x", c);
}

/* parse_line adds the step of one line (without its line end). */
static int parse_line(transcript *out, const unsigned char *s, size_t n, const char *name,
                      unsigned line, char *err, size_t err_len) {
  transcript_kind kind;
  const unsigned char *content;
  size_t content_len;
  uint8_t *data = NULL;
  size_t data_len = 0;
  char msg[256];
  int rc = -1;

  if (n == 0) {
    kind = TRANSCRIPT_BLANK;
    content = s;
    content_len = 0;
  } else if (s[0] == '#') {
    kind = TRANSCRIPT_COMMENT; /* verbatim, not unescaped */
    content = s + 1;
    content_len = n - 1;
  } else if (kind_of_letter(s[0], &kind) == 0) {
    if (n < 3 || s[1] != ':' || s[2] != ' ') {
      snprintf(err, err_len, "%s:%u: expected ': ' after '%c' (a step is '%c: <content>')",
               name, line, s[0], s[0]);
      goto out;
    }
    content = s + 3;
    content_len = n - 3;
  } else {
    char b[16];
    describe_byte(b, sizeof(b), s[0]);
    snprintf(err, err_len,
             "%s:%u: unknown step letter %s; expected one of C R T W D S E followed by ': ', "
             "'#' for a comment, or a blank line",
             name, line, b);
    goto out;
  }

  data = malloc(content_len + 1);
  if (data == NULL) {
    snprintf(err, err_len, "%s:%u: out of memory", name, line);
    goto out;
  }
  if (kind == TRANSCRIPT_COMMENT || kind == TRANSCRIPT_BLANK) {
    if (content_len > 0)
      memcpy(data, content, content_len);
    data_len = content_len;
  } else {
    size_t bad = 0;
    const char *what = "";
    if (unescape(content, content_len, data, &data_len, &bad, &what) != 0) {
      /* Column of the backslash, 1-based, counting bytes of the line. */
      snprintf(err, err_len, "%s:%u:%zu: bad escape: %s", name, line,
               (size_t)(content - s) + bad + 1, what);
      goto out;
    }
  }
  data[data_len] = 0;
  if (data_len > TRANSCRIPT_STEP_MAX) {
    snprintf(err, err_len, "%s:%u: expected at most %u payload bytes in one step, got %zu",
             name, line, TRANSCRIPT_STEP_MAX, data_len);
    goto out;
  }
  if (transcript_check_payload(kind, data, data_len, msg, sizeof(msg)) != 0) {
    snprintf(err, err_len, "%s:%u: %s", name, line, msg);
    goto out;
  }
  int prc = transcript_push(out, kind, data, data_len, line);
  data = NULL; /* owned by |out| or freed */
  if (prc == -2) {
    snprintf(err, err_len, "%s:%u: expected at most %u steps in one transcript", name, line,
             TRANSCRIPT_STEPS_MAX);
    goto out;
  }
  if (prc != 0) {
    snprintf(err, err_len, "%s:%u: out of memory", name, line);
    goto out;
  }
  rc = 0;
out:
  free(data);
  return rc;
}

int transcript_parse_text(transcript *out, const char *text, size_t len, const char *name,
                          char *err, size_t err_len) {
  const unsigned char *s = (const unsigned char *)text;
  size_t n0 = out->n, pos = 0;
  unsigned line = 1;
  if (name == NULL)
    name = "<input>";
  while (pos < len) {
    const unsigned char *lf = memchr(s + pos, '\n', len - pos);
    size_t end = lf ? (size_t)(lf - s) : len;
    size_t n = end - pos;
    if (n > 0 && s[end - 1] == '\r') /* CRLF line end */
      n--;
    if (parse_line(out, s + pos, n, name, line, err, err_len) != 0) {
      transcript_truncate(out, n0);
      return -1;
    }
    pos = lf ? end + 1 : len;
    line++;
  }
  return 0;
}

int transcript_load_file(transcript *out, const char *path, char *err, size_t err_len) {
  uint8_t *buf = NULL;
  size_t len = 0;
  if (transcript_read_file(path, &buf, &len, err, err_len) != 0)
    return -1;
  int rc = transcript_parse_text(out, (const char *)buf, len, path, err, err_len);
  free(buf);
  return rc;
}

static int print_escaped(const uint8_t *p, size_t len, FILE *out) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    uint8_t c = p[i];
    char e[4];
    size_t k = 0;
    if (c == '\\')
      e[0] = '\\', e[1] = '\\', k = 2;
    else if (c == '\r')
      e[0] = '\\', e[1] = 'r', k = 2;
    else if (c == '\n')
      e[0] = '\\', e[1] = 'n', k = 2;
    else if (c == '\t')
      e[0] = '\\', e[1] = 't', k = 2;
    else if (c < 0x20 || c > 0x7e)
      e[0] = '\\', e[1] = 'x', e[2] = hex[c >> 4], e[3] = hex[c & 15], k = 4;
    if (k == 0) {
      if (putc(c, out) == EOF)
        return -1;
    } else if (fwrite(e, 1, k, out) != k) {
      return -1;
    }
  }
  return 0;
}

int transcript_print_step(const transcript_step *st, FILE *out) {
  char letter = transcript_kind_letter(st->kind);
  switch (st->kind) {
  case TRANSCRIPT_BLANK:
    break;
  case TRANSCRIPT_COMMENT:
    if (putc('#', out) == EOF || (st->len > 0 && fwrite(st->data, 1, st->len, out) != st->len))
      return -1;
    break;
  case TRANSCRIPT_C:
  case TRANSCRIPT_R:
  case TRANSCRIPT_T:
  case TRANSCRIPT_W:
  case TRANSCRIPT_D:
  case TRANSCRIPT_S:
  case TRANSCRIPT_E:
    if (putc(letter, out) == EOF || fputs(": ", out) == EOF ||
        print_escaped(st->data, st->len, out) != 0)
      return -1;
    break;
  default:
    return -1;
  }
  return putc('\n', out) == EOF ? -1 : 0;
}

int transcript_print_text(const transcript *t, FILE *out) {
  for (size_t i = 0; i < t->n; i++)
    if (transcript_print_step(&t->steps[i], out) != 0)
      return -1;
  return ferror(out) ? -1 : 0;
}
