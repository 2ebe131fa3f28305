/* sequence_mutator.c - see sequence_mutator.h. */
#include "sequence_mutator.h"

#include <stdlib.h>
#include <string.h>

#include "mutate.h"
#include "transcript.h"

/* The payload of one step is mutated in a bounded scratch buffer. */
#define PAYLOAD_MAX 4096

/* Replaces the payload of one client step chosen by |seed| with a
 * byte-mutated copy. Returns the new encoded size, or 0 if not applicable. */
static size_t mutate_one_payload(uint8_t *data, size_t size, size_t max_size, unsigned seed,
                                 sequence_byte_mutator bytes) {
  transcript t, out;
  char err[128];
  size_t result = 0;
  uint8_t *enc = NULL;
  size_t enc_len = 0;
  transcript_init(&t);
  transcript_init(&out);
  if (transcript_decode_binary(&t, data, size, err, sizeof(err)) != 0)
    goto done;
  size_t candidates = 0;
  for (size_t i = 0; i < t.n; i++)
    candidates += t.steps[i].kind == TRANSCRIPT_C || t.steps[i].kind == TRANSCRIPT_R;
  if (candidates == 0)
    goto done;
  size_t pick = (seed >> 2) % candidates, seen = 0;
  for (size_t i = 0; i < t.n; i++) {
    transcript_step *st = &t.steps[i];
    int is_candidate = st->kind == TRANSCRIPT_C || st->kind == TRANSCRIPT_R;
    if (is_candidate && seen++ == pick) {
      uint8_t buf[PAYLOAD_MAX];
      size_t n = st->len < sizeof(buf) ? st->len : sizeof(buf);
      memcpy(buf, st->data, n);
      n = bytes(buf, n, sizeof(buf));
      /* Any bytes are valid in C: and R: payloads (the text form escapes
       * them), so the step keeps its kind. */
      if (transcript_add(&out, st->kind, buf, n) != 0)
        goto done;
    } else if (transcript_add(&out, st->kind, st->data, st->len) != 0) {
      goto done;
    }
  }
  if (transcript_encode_binary(&out, &enc, &enc_len) != 0 || enc_len > max_size)
    goto done;
  memcpy(data, enc, enc_len);
  result = enc_len;
done:
  free(enc);
  transcript_cleanup(&t);
  transcript_cleanup(&out);
  return result;
}

size_t sequence_mutate(uint8_t *data, size_t size, size_t max_size, unsigned seed,
                       sequence_byte_mutator bytes) {
  if (bytes && (seed & 3) == 0) {
    size_t n = mutate_one_payload(data, size, max_size, seed, bytes);
    if (n > 0)
      return n;
  }
  return mutate_binary(data, size, max_size, seed);
}
