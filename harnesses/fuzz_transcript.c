/* fuzz_transcript.c - the transcript codecs.
 *
 * Targets: transcript_decode_binary, transcript_encode_binary,
 * transcript_parse_text, transcript_print_text (model/transcript.h).
 *
 * Input: byte 0 picks the decoder (even: binary form, odd: .fts text); the
 * rest is decoded. When it decodes, both round trips must hold:
 *   binary   encode(decode(x)) == x byte for byte (the form is canonical),
 *            and decode(encode(t)) == t
 *   text     parse(print(t)) == t and print(parse(print(t))) == print(t)
 * and, whatever the source, the decoded transcript prints as .fts that parses
 * back to the same steps (transcript.h: "a decoded transcript always prints
 * as valid .fts"). A failure is a ROUNDTRIP finding. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_driver.h"
#include "transcript.h"

static void oom(void) {
  fprintf(stderr, "fuzz_transcript: out of memory\n");
  abort();
}

/* same_steps compares kinds and payloads (not source line numbers). */
static bool same_steps(const transcript *a, const transcript *b, size_t *out_at) {
  size_t n = a->n < b->n ? a->n : b->n;
  for (size_t i = 0; i < n; i++) {
    const transcript_step *x = &a->steps[i], *y = &b->steps[i];
    if (x->kind != y->kind || x->len != y->len ||
        (x->len > 0 && memcmp(x->data, y->data, x->len) != 0)) {
      *out_at = i;
      return false;
    }
  }
  *out_at = n;
  return a->n == b->n;
}

/* print_mem prints |t| as .fts text into a malloc'd buffer. */
static char *print_mem(const transcript *t, size_t *out_len) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f == NULL)
    oom();
  int rc = transcript_print_text(t, f);
  if (fclose(f) != 0 || buf == NULL)
    oom();
  if (rc != 0)
    fuzz_finding("ROUNDTRIP", "transcript_print_text failed on a decoded transcript", t);
  *out_len = len;
  return buf;
}

/* text_roundtrip: print(t) parses back to t, and printing that again gives
 * the same text. */
static void text_roundtrip(const transcript *t) {
  char err[512];
  size_t len, len2, at;
  transcript back;
  char *text = print_mem(t, &len);
  transcript_init(&back);
  if (transcript_parse_text(&back, text, len, "printed", err, sizeof(err)) != 0)
    fuzz_findingf("ROUNDTRIP", t, "the printed text does not parse: %s", err);
  if (!same_steps(t, &back, &at))
    fuzz_findingf("ROUNDTRIP", t, "print then parse changed step %zu (%zu steps vs %zu)", at + 1,
                  t->n, back.n);
  char *text2 = print_mem(&back, &len2);
  if (len2 != len || memcmp(text, text2, len) != 0)
    fuzz_finding("ROUNDTRIP", "printing the re-parsed transcript gives different text", t);
  free(text2);
  free(text);
  transcript_cleanup(&back);
}

/* binary_roundtrip: decode(encode(t)) == t; with |src| (the decoded input)
 * also encode(t) == src. */
static void binary_roundtrip(const transcript *t, const uint8_t *src, size_t src_len) {
  char err[512];
  uint8_t *bin = NULL;
  size_t bin_len = 0, at;
  transcript back;
  if (transcript_encode_binary(t, &bin, &bin_len) != 0)
    fuzz_finding("ROUNDTRIP", "transcript_encode_binary failed on a decoded transcript", t);
  if (src != NULL && (bin_len != src_len || (bin_len > 0 && memcmp(bin, src, bin_len) != 0)))
    fuzz_findingf("ROUNDTRIP", t,
                  "encode(decode(x)) differs from x (%zu bytes vs %zu): the binary form should "
                  "be canonical",
                  bin_len, src_len);
  transcript_init(&back);
  if (transcript_decode_binary(&back, bin, bin_len, err, sizeof(err)) != 0)
    fuzz_findingf("ROUNDTRIP", t, "the encoded form does not decode: %s", err);
  if (!same_steps(t, &back, &at))
    fuzz_findingf("ROUNDTRIP", t, "encode then decode changed step %zu", at + 1);
  transcript_cleanup(&back);
  free(bin);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[512];
  transcript t;
  if (size == 0)
    return 0;
  bool text = data[0] & 1;
  const uint8_t *p = data + 1;
  size_t n = size - 1;
  transcript_init(&t);
  err[0] = '\0';
  int rc = text ? transcript_parse_text(&t, (const char *)p, n, "input", err, sizeof(err))
                : transcript_decode_binary(&t, p, n, err, sizeof(err));
  if (rc == 0) {
    binary_roundtrip(&t, text ? NULL : p, n);
    text_roundtrip(&t);
  } else if (err[0] == '\0') {
    fuzz_finding("ERROR_MESSAGE", "a decoder refused the input without saying why", &t);
  }
  transcript_cleanup(&t);
  return 0;
}
