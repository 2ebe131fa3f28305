/* transcript_binary.c - the binary tagged form of transcripts (corpus files):
 * records of u16 tag (big-endian), u24 length (big-endian), payload; the tag
 * is the step kind's enum value (cf. BoringSSL ssl/test/fuzzer_tags.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transcript.h"
#include "transcript_internal.h"

#define RECORD_HEADER_LEN 5u

int transcript_encode_binary(const transcript *t, uint8_t **out, size_t *out_len) {
  size_t total = 0;
  for (size_t i = 0; i < t->n; i++) {
    const transcript_step *st = &t->steps[i];
    if ((int)st->kind < 1 || (int)st->kind > TRANSCRIPT_TAG_MAX ||
        st->len > TRANSCRIPT_STEP_MAX || total > SIZE_MAX - RECORD_HEADER_LEN - st->len)
      return -1;
    total += RECORD_HEADER_LEN + st->len;
  }
  uint8_t *buf = malloc(total ? total : 1);
  if (buf == NULL)
    return -1;
  size_t o = 0;
  for (size_t i = 0; i < t->n; i++) {
    const transcript_step *st = &t->steps[i];
    unsigned tag = (unsigned)st->kind;
    size_t len = st->len;
    buf[o++] = (uint8_t)(tag >> 8);
    buf[o++] = (uint8_t)tag;
    buf[o++] = (uint8_t)(len >> 16);
    buf[o++] = (uint8_t)(len >> 8);
    buf[o++] = (uint8_t)len;
    if (len > 0)
      memcpy(buf + o, st->data, len);
    o += len;
  }
  *out = buf;
  *out_len = total;
  return 0;
}

static int decode_record(transcript *out, const uint8_t *in, size_t len, size_t pos,
                         size_t *next, char *err, size_t err_len) {
  char msg[256];
  size_t left = len - pos;
  if (left < RECORD_HEADER_LEN) {
    snprintf(err, err_len,
             "offset %zu: expected a %u-byte record header (u16 tag, u24 length), got %zu bytes",
             pos, RECORD_HEADER_LEN, left);
    return -1;
  }
  unsigned tag = (unsigned)in[pos] << 8 | in[pos + 1];
  size_t plen = (size_t)in[pos + 2] << 16 | (size_t)in[pos + 3] << 8 | in[pos + 4];
  if (tag < 1 || tag > TRANSCRIPT_TAG_MAX) {
    snprintf(err, err_len, "offset %zu: unknown tag %u; expected a tag 1..%d", pos, tag,
             TRANSCRIPT_TAG_MAX);
    return -1;
  }
  if (plen > TRANSCRIPT_STEP_MAX) {
    snprintf(err, err_len, "offset %zu: record length %zu; expected at most %u", pos, plen,
             TRANSCRIPT_STEP_MAX);
    return -1;
  }
  if (plen > left - RECORD_HEADER_LEN) {
    snprintf(err, err_len,
             "offset %zu: truncated record: expected %zu payload bytes, got %zu", pos, plen,
             left - RECORD_HEADER_LEN);
    return -1;
  }
  if (out->n >= TRANSCRIPT_STEPS_MAX) {
    snprintf(err, err_len, "offset %zu: expected at most %u steps in one transcript", pos,
             TRANSCRIPT_STEPS_MAX);
    return -1;
  }
  const uint8_t *payload = in + pos + RECORD_HEADER_LEN;
  if (transcript_check_payload((transcript_kind)tag, payload, plen, msg, sizeof(msg)) != 0) {
    snprintf(err, err_len, "offset %zu: %s", pos, msg);
    return -1;
  }
  uint8_t *data = malloc(plen + 1);
  if (data == NULL) {
    snprintf(err, err_len, "offset %zu: out of memory", pos);
    return -1;
  }
  if (plen > 0)
    memcpy(data, payload, plen);
  data[plen] = 0;
  if (transcript_push(out, (transcript_kind)tag, data, plen, 0) != 0) {
    snprintf(err, err_len, "offset %zu: out of memory", pos);
    return -1;
  }
  *next = pos + RECORD_HEADER_LEN + plen;
  return 0;
}

int transcript_decode_binary(transcript *out, const uint8_t *in, size_t len, char *err,
                             size_t err_len) {
  size_t n0 = out->n, pos = 0;
  while (pos < len) {
    if (decode_record(out, in, len, pos, &pos, err, err_len) != 0) {
      transcript_truncate(out, n0);
      return -1;
    }
  }
  return 0;
}
