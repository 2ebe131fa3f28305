/* transcript_event.c - the E: event names, their parser and formatter
 * (transcript_event.h). */
#include "transcript_event.h"

#include <string.h>

/* Indexed by transcript_event_kind. */
static const char *const names[TRANSCRIPT_EV_COUNT] = {
    [TRANSCRIPT_EV_UNKNOWN] = "",
    [TRANSCRIPT_EV_CLOSED] = "closed",
    [TRANSCRIPT_EV_HANDSHAKE_OK] = "handshake ok",
    [TRANSCRIPT_EV_HANDSHAKE_FAILED] = "handshake failed",
    [TRANSCRIPT_EV_TLS_SHUTDOWN] = "tls shutdown",
    [TRANSCRIPT_EV_TLS_ERROR_PLAINTEXT] = "tls error plaintext",
    [TRANSCRIPT_EV_TLS_ERROR] = "tls error",
    [TRANSCRIPT_EV_TLS_AFTER_CLOSE_NOTIFY] = "tls after close_notify",
    [TRANSCRIPT_EV_TLS_UNTERMINATED] = "tls unterminated",
    [TRANSCRIPT_EV_DATA_TLS] = "data tls",
    [TRANSCRIPT_EV_DATA_CLEAR] = "data clear",
    [TRANSCRIPT_EV_DATA_FAILED] = "data failed",
    [TRANSCRIPT_EV_TIMEOUT] = "timeout",
    [TRANSCRIPT_EV_LIMIT] = "limit",
};

const char *transcript_event_name(transcript_event_kind kind) {
  if ((unsigned)kind >= TRANSCRIPT_EV_COUNT)
    return "";
  return names[kind];
}

/* data_rest parses "<n> bytes[ sha256=<hex>]..." of a data event. */
static void data_rest(transcript_event *ev) {
  const uint8_t *p = ev->rest;
  size_t n = ev->rest_len, i = 0;
  uint64_t v = 0;
  while (i < n && p[i] >= '0' && p[i] <= '9' && i < 20) {
    uint64_t d = (uint64_t)(p[i] - '0');
    if (v > (UINT64_MAX - d) / 10)
      return;
    v = v * 10 + d;
    i++;
  }
  static const char bytes[] = " bytes";
  if (i == 0 || n - i < sizeof(bytes) - 1 || memcmp(p + i, bytes, sizeof(bytes) - 1) != 0)
    return;
  i += sizeof(bytes) - 1;
  if (i < n && p[i] != ' ')
    return;
  ev->bytes = v;
  ev->bytes_known = true;
  static const char sha[] = " sha256=";
  if (n - i >= sizeof(sha) - 1 && memcmp(p + i, sha, sizeof(sha) - 1) == 0) {
    ev->sha256 = p + i + sizeof(sha) - 1;
    size_t k = 0;
    while (i + sizeof(sha) - 1 + k < n && ev->sha256[k] != ' ')
      k++;
    ev->sha256_len = k;
  }
}

int transcript_event_parse(const transcript_step *st, transcript_event *out) {
  memset(out, 0, sizeof(*out));
  out->rest = (const uint8_t *)"";
  if (st->kind != TRANSCRIPT_E)
    return -1;
  size_t best = 0;
  for (unsigned k = 1; k < TRANSCRIPT_EV_COUNT; k++) {
    size_t nl = strlen(names[k]);
    if (nl <= best || st->len < nl || memcmp(st->data, names[k], nl) != 0)
      continue;
    if (st->len > nl && st->data[nl] != ' ')
      continue;
    best = nl;
    out->kind = (transcript_event_kind)k;
  }
  if (out->kind == TRANSCRIPT_EV_UNKNOWN)
    return -1;
  if (st->len > best) {
    out->rest = st->data + best + 1;
    out->rest_len = st->len - best - 1;
  }
  if (out->kind == TRANSCRIPT_EV_DATA_TLS || out->kind == TRANSCRIPT_EV_DATA_CLEAR)
    data_rest(out);
  return 0;
}

bool transcript_event_is(const transcript_step *st, transcript_event_kind kind) {
  transcript_event ev;
  return transcript_event_parse(st, &ev) == 0 && ev.kind == kind;
}

size_t transcript_event_format(uint8_t *out, size_t cap, transcript_event_kind kind,
                               const void *rest, size_t rest_len) {
  const char *name = transcript_event_name(kind);
  size_t nl = strlen(name), len = 0;
  if (nl == 0)
    return 0;
  if (nl > cap)
    nl = cap;
  memcpy(out, name, nl);
  len = nl;
  if (rest != NULL && rest_len > 0 && len < cap) {
    out[len++] = ' ';
    size_t take = rest_len < cap - len ? rest_len : cap - len;
    memcpy(out + len, rest, take);
    len += take;
  }
  return len;
}

size_t transcript_event_format_data(uint8_t *out, bool tls, uint64_t bytes,
                                    const uint8_t sha256[32]) {
  static const char hexd[] = "0123456789abcdef";
  char rest[128]; /* 20 digits + " bytes sha256=" + 64 hex */
  size_t k = 0;
  char digits[21];
  size_t nd = 0;
  do {
    digits[nd++] = (char)('0' + bytes % 10);
    bytes /= 10;
  } while (bytes > 0);
  while (nd > 0)
    rest[k++] = digits[--nd];
  memcpy(rest + k, " bytes sha256=", 14);
  k += 14;
  for (size_t i = 0; i < 32; i++) {
    rest[k++] = hexd[sha256[i] >> 4];
    rest[k++] = hexd[sha256[i] & 15];
  }
  return transcript_event_format(out, TRANSCRIPT_EVENT_MAX,
                                 tls ? TRANSCRIPT_EV_DATA_TLS : TRANSCRIPT_EV_DATA_CLEAR, rest, k);
}
