/* transcript.c - step storage, payload validation and file reading for
 * transcripts (see transcript.h). The text and binary forms live in
 * transcript_text.c and transcript_binary.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transcript.h"
#include "transcript_internal.h"

/* Largest W step: one day of simulated time, in milliseconds. */
#define TRANSCRIPT_WAIT_MAX 86400000ul

void transcript_init(transcript *t) {
  t->steps = NULL;
  t->n = 0;
  t->cap = 0;
}

void transcript_truncate(transcript *t, size_t n) {
  while (t->n > n) {
    t->n--;
    free(t->steps[t->n].data);
    t->steps[t->n].data = NULL;
  }
}

void transcript_cleanup(transcript *t) {
  if (t == NULL)
    return;
  transcript_truncate(t, 0);
  free(t->steps);
  transcript_init(t);
}

int transcript_push(transcript *t, transcript_kind kind, uint8_t *data, size_t len,
                    unsigned line) {
  if ((int)kind < 1 || (int)kind > TRANSCRIPT_TAG_MAX || len > TRANSCRIPT_STEP_MAX ||
      t->n >= TRANSCRIPT_STEPS_MAX) {
    free(data);
    return -2;
  }
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    if (cap > TRANSCRIPT_STEPS_MAX)
      cap = TRANSCRIPT_STEPS_MAX;
    transcript_step *steps = realloc(t->steps, cap * sizeof(*steps));
    if (steps == NULL) {
      free(data);
      return -1;
    }
    t->steps = steps;
    t->cap = cap;
  }
  transcript_step *st = &t->steps[t->n++];
  st->kind = kind;
  st->data = data;
  st->len = len;
  st->line = line;
  return 0;
}

int transcript_add(transcript *t, transcript_kind kind, const void *data, size_t len) {
  if (len > TRANSCRIPT_STEP_MAX)
    return -2;
  uint8_t *copy = malloc(len + 1);
  if (copy == NULL)
    return -1;
  if (len > 0)
    memcpy(copy, data, len);
  copy[len] = 0;
  return transcript_push(t, kind, copy, len, 0);
}

int transcript_addf(transcript *t, transcript_kind kind, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int rc = -1;
  char *buf = NULL;
  int n = vsnprintf(NULL, 0, fmt, ap);
  if (n < 0)
    goto out;
  if ((size_t)n > TRANSCRIPT_STEP_MAX) {
    rc = -2;
    goto out;
  }
  buf = malloc((size_t)n + 1);
  if (buf == NULL)
    goto out;
  vsnprintf(buf, (size_t)n + 1, fmt, ap2);
  rc = transcript_push(t, kind, (uint8_t *)buf, (size_t)n, 0);
  buf = NULL; /* owned by the transcript, or freed by transcript_push */
out:
  free(buf);
  va_end(ap2);
  va_end(ap);
  return rc;
}

char transcript_kind_letter(transcript_kind kind) {
  switch (kind) {
  case TRANSCRIPT_C: return 'C';
  case TRANSCRIPT_R: return 'R';
  case TRANSCRIPT_T: return 'T';
  case TRANSCRIPT_W: return 'W';
  case TRANSCRIPT_D: return 'D';
  case TRANSCRIPT_S: return 'S';
  case TRANSCRIPT_E: return 'E';
  case TRANSCRIPT_COMMENT: return '#';
  case TRANSCRIPT_BLANK: return 0;
  }
  return 0;
}

void transcript_excerpt(char *buf, size_t buf_len, const uint8_t *p, size_t len) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0, i;
  if (buf_len == 0)
    return;
  for (i = 0; i < len && i < 32; i++) {
    char tmp[4];
    size_t k = 0;
    uint8_t c = p[i];
    if (c == '\\') {
      tmp[k++] = '\\', tmp[k++] = '\\';
    } else if (c == '\r') {
      tmp[k++] = '\\', tmp[k++] = 'r';
    } else if (c == '\n') {
      tmp[k++] = '\\', tmp[k++] = 'n';
    } else if (c == '\t') {
      tmp[k++] = '\\', tmp[k++] = 't';
    } else if (c < 0x20 || c > 0x7e) {
      tmp[k++] = '\\', tmp[k++] = 'x', tmp[k++] = hex[c >> 4], tmp[k++] = hex[c & 15];
    } else {
      tmp[k++] = (char)c;
    }
    if (o + k + 4 > buf_len) /* room for "..." and the NUL */
      break;
    memcpy(buf + o, tmp, k);
    o += k;
  }
  if (i < len && o + 4 <= buf_len) {
    memcpy(buf + o, "...", 3);
    o += 3;
  }
  buf[o] = 0;
}

static int payload_is(const uint8_t *p, size_t len, const char *word) {
  size_t n = strlen(word);
  return len == n && memcmp(p, word, n) == 0;
}

/* A decimal without sign or leading zeros, so each value has one spelling. */
static int payload_is_wait(const uint8_t *p, size_t len) {
  unsigned long v = 0;
  if (len == 0 || len > 8 || (len > 1 && p[0] == '0'))
    return 0;
  for (size_t i = 0; i < len; i++) {
    if (p[i] < '0' || p[i] > '9')
      return 0;
    v = v * 10 + (unsigned long)(p[i] - '0');
  }
  return v <= TRANSCRIPT_WAIT_MAX;
}

int transcript_check_payload(transcript_kind kind, const uint8_t *p, size_t len, char *msg,
                             size_t msg_len) {
  char got[160];
  const char *what = NULL;
  switch (kind) {
  case TRANSCRIPT_C:
  case TRANSCRIPT_R:
  case TRANSCRIPT_S:
  case TRANSCRIPT_E:
    return 0; /* free-form: the printer escapes every byte that needs it */
  case TRANSCRIPT_T:
    if (payload_is(p, len, "handshake") || payload_is(p, len, "close_notify"))
      return 0;
    what = "T step: expected 'handshake' or 'close_notify'";
    break;
  case TRANSCRIPT_W:
    if (payload_is_wait(p, len))
      return 0;
    what = "W step: expected milliseconds as a decimal 0..86400000 (no leading zeros)";
    break;
  case TRANSCRIPT_D:
    if (payload_is(p, len, "open") || payload_is(p, len, "close") ||
        (len >= 5 && memcmp(p, "send ", 5) == 0))
      return 0;
    what = "D step: expected 'open', 'close' or 'send <bytes>'";
    break;
  case TRANSCRIPT_COMMENT:
    /* Printed verbatim after '#': an LF would split the line and a final CR
     * would be read back as a CRLF line end. */
    if (memchr(p, '\n', len) != NULL) {
      snprintf(msg, msg_len, "comment: expected no line feed inside a comment");
      return -1;
    }
    if (len > 0 && p[len - 1] == '\r') {
      snprintf(msg, msg_len, "comment: expected no carriage return at the end of a comment");
      return -1;
    }
    return 0;
  case TRANSCRIPT_BLANK:
    if (len == 0)
      return 0;
    snprintf(msg, msg_len, "blank line: expected an empty payload, got %zu bytes", len);
    return -1;
  }
  if (what == NULL) {
    snprintf(msg, msg_len, "unknown step kind %d", (int)kind);
    return -1;
  }
  transcript_excerpt(got, sizeof(got), p, len);
  snprintf(msg, msg_len, "%s, got '%s'", what, got);
  return -1;
}

int transcript_read_file(const char *path, uint8_t **out, size_t *out_len, char *err,
                         size_t err_len) {
  int rc = -1;
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
    goto out;
  }
  for (;;) {
    if (cap - len < 4096 + 1) {
      size_t ncap = cap ? cap * 2 : 65536;
      if (ncap > (size_t)TRANSCRIPT_FILE_MAX + 4096 + 1)
        ncap = (size_t)TRANSCRIPT_FILE_MAX + 4096 + 1;
      uint8_t *nbuf = realloc(buf, ncap);
      if (nbuf == NULL) {
        snprintf(err, err_len, "%s: out of memory", path);
        goto out;
      }
      buf = nbuf;
      cap = ncap;
    }
    size_t got = fread(buf + len, 1, cap - len - 1, f);
    len += got;
    if (len > TRANSCRIPT_FILE_MAX) {
      snprintf(err, err_len, "%s: file larger than %u bytes", path, TRANSCRIPT_FILE_MAX);
      goto out;
    }
    if (got == 0) {
      if (ferror(f)) {
        snprintf(err, err_len, "%s: cannot read: %s", path, strerror(errno));
        goto out;
      }
      break;
    }
  }
  buf[len] = 0;
  *out = buf;
  *out_len = len;
  buf = NULL;
  rc = 0;
out:
  if (f != NULL)
    fclose(f);
  free(buf);
  return rc;
}
