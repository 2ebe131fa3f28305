/* fuzz_cmdline.c - the command-line framer and the verb/argument splitter.
 *
 * Targets: ftps_linebuf_feed, ftps_linebuf_line, ftps_linebuf_partial and
 * ftps_cmd_parse (server/ftps_cmdline.h).
 *
 * Input: byte 0 picks how the rest is cut into reads: chunk sizes are drawn
 * from 1 .. 2^(byte0 & 7) by a small generator seeded with byte0 >> 3. The
 * rest is the byte stream. The stream is framed three ways:
 *   whole    one ftps_linebuf_feed loop over the whole stream
 *   split    the same stream fed in the chosen chunks
 *   model    the oracle's framer (oracle_framer_feed, model/oracle_frame.c),
 *            the one reference reading of the contract in ftps_cmdline.h,
 *            then > FTPS_LINE_MAX is TOO_LONG, else NUL is HAS_NUL
 * and the three sequences of (status, line) must be identical (FRAMING), and
 * every finished line is checked (LINE): at most FTPS_LINE_MAX bytes, no LF,
 * no NUL; ftps_cmd_parse accepts it exactly when it starts with 3 or 4
 * letters followed by SP or the end (CMD_PARSE), and then the verb is those
 * letters upper-cased and the argument is the rest after that one SP. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftps_buf.h"
#include "ftps_cmdline.h"
#include "fuzz_driver.h"
#include "oracle.h"

/* A framed sequence is serialized as records: status byte, u32 length, line
 * bytes (OK lines only). Bounded: the input is bounded. */
#define FRAMES_MAX (64u << 20)

static const uint8_t *input_data;
static size_t input_len;
static unsigned input_seed;

static void oom(void) {
  fprintf(stderr, "fuzz_cmdline: out of memory\n");
  abort();
}

/* finding reports with the stream as a transcript (one R: step). */
static void finding(const char *invariant, const char *why) {
  transcript t;
  transcript_init(&t);
  (void)transcript_addf(&t, TRANSCRIPT_COMMENT, " fuzz_cmdline: chunk byte 0x%02x", input_seed);
  (void)transcript_add(&t, TRANSCRIPT_R, input_data, input_len);
  fuzz_finding(invariant, why, &t);
}

static void put_frame(ftps_buf *out, ftps_line_status st, const uint8_t *line, size_t len) {
  uint8_t hdr[5] = {(uint8_t)st, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                    (uint8_t)len};
  if (ftps_buf_append(out, hdr, sizeof(hdr)) != 0 || (len && ftps_buf_append(out, line, len) != 0))
    oom();
}

static bool is_alpha(uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/* check_line checks one finished line and its parse. */
static void check_line(const uint8_t *line, size_t len) {
  char why[160];
  if (line == NULL)
    finding("LINE", "ftps_linebuf_line returned NULL after FTPS_LINE_OK");
  if (len > FTPS_LINE_MAX) {
    snprintf(why, sizeof(why), "a %zu-byte line was delivered (limit %d)", len, FTPS_LINE_MAX);
    finding("LINE", why);
  }
  if (memchr(line, '\n', len) != NULL || memchr(line, '\0', len) != NULL)
    finding("LINE", "a delivered line contains LF or NUL");
  size_t n = 0;
  while (n < len && n < 5 && is_alpha(line[n]))
    n++;
  bool valid = n >= 3 && n <= 4 && (n == len || line[n] == ' ');
  ftps_cmd cmd;
  int rc = ftps_cmd_parse(line, len, &cmd);
  if ((rc == 0) != valid) {
    snprintf(why, sizeof(why), "ftps_cmd_parse %s a line whose verb run is %zu letters%s",
             rc == 0 ? "accepted" : "refused", n,
             n < len ? (line[n] == ' ' ? " then SP" : " then a non-SP byte") : " to the end");
    finding("CMD_PARSE", why);
  }
  if (rc != 0)
    return;
  if (cmd.verb[n] != '\0' || strlen(cmd.verb) != n)
    finding("CMD_PARSE", "the verb is not NUL-terminated after its letters");
  for (size_t i = 0; i < n; i++) {
    uint8_t up = (line[i] >= 'a' && line[i] <= 'z') ? (uint8_t)(line[i] - 32) : line[i];
    if ((uint8_t)cmd.verb[i] != up || up < 'A' || up > 'Z')
      finding("CMD_PARSE", "the verb is not the line's letters upper-cased");
  }
  if (n == len ? cmd.arg != NULL : (cmd.arg != line + n + 1 || cmd.arg_len != len - n - 1))
    finding("CMD_PARSE", "the argument is not everything after the verb's SP");
}

/* frame_feed runs one feed loop over |p| and records what it frames. */
static void frame_feed(ftps_linebuf *lb, const uint8_t *p, size_t n, ftps_buf *out) {
  while (n > 0) {
    ftps_line_status st = FTPS_LINE_NONE;
    size_t used = ftps_linebuf_feed(lb, p, n, &st);
    if (used == 0 || used > n)
      finding("FRAMING", "ftps_linebuf_feed consumed nothing or more than it was given");
    if (st == FTPS_LINE_NONE && used != n)
      finding("FRAMING", "ftps_linebuf_feed stopped before the end without a line");
    if (st == FTPS_LINE_OK) {
      size_t len;
      const uint8_t *line = ftps_linebuf_line(lb, &len);
      check_line(line, len);
      put_frame(out, st, line, len);
    } else if (st != FTPS_LINE_NONE) {
      put_frame(out, st, NULL, 0);
    }
    p += used;
    n -= used;
  }
}

/* The reference framer is the oracle's (model/oracle_frame.c): the one
 * reading of the framing contract in ftps_cmdline.h that the oracle also
 * judges every server with, so the harness and the oracle can never drift
 * apart from each other. Its line limit is MODEL_LINE_MAX; the server's
 * FTPS_LINE_MAX is applied on top. */
_Static_assert(MODEL_LINE_MAX >= FTPS_LINE_MAX, "the oracle framer must see every server line");

static void reference_line(void *ctx, const uint8_t *line, size_t len, bool overlong) {
  ftps_buf *out = ctx;
  if (overlong || len > FTPS_LINE_MAX)
    put_frame(out, FTPS_LINE_TOO_LONG, NULL, 0);
  else if (memchr(line, '\0', len) != NULL)
    put_frame(out, FTPS_LINE_HAS_NUL, NULL, 0);
  else
    put_frame(out, FTPS_LINE_OK, line, len);
}

static void model_frame(const uint8_t *p, size_t n, ftps_buf *out) {
  static oracle_framer f; /* large: not on the stack */
  oracle_framer_reset(&f);
  oracle_framer_feed(&f, p, n, reference_line, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  input_seed = data[0];
  input_data = data + 1;
  input_len = size - 1;
  const uint8_t *p = input_data;
  size_t n = input_len;
  size_t max_chunk = (size_t)1 << (data[0] & 7);
  uint32_t rng = (uint32_t)(data[0] >> 3) * 2654435761u + 1;

  ftps_buf whole, split, model;
  ftps_buf_init(&whole, FRAMES_MAX);
  ftps_buf_init(&split, FRAMES_MAX);
  ftps_buf_init(&model, FRAMES_MAX);
  ftps_linebuf a, b;
  ftps_linebuf_init(&a);
  ftps_linebuf_init(&b);

  frame_feed(&a, p, n, &whole);
  for (size_t off = 0; off < n;) {
    rng = rng * 1103515245u + 12345u;
    size_t k = 1 + (size_t)(rng >> 16) % max_chunk;
    if (k > n - off)
      k = n - off;
    frame_feed(&b, p + off, k, &split);
    off += k;
  }
  model_frame(p, n, &model);

  if (whole.len != split.len || (whole.len && memcmp(whole.data, split.data, whole.len) != 0))
    finding("FRAMING", "feeding the stream whole and in chunks framed different lines");
  if (ftps_linebuf_partial(&a) != ftps_linebuf_partial(&b))
    finding("FRAMING", "whole and chunked feeds disagree on a partial line at the end");
  if (whole.len != model.len || (whole.len && memcmp(whole.data, model.data, whole.len) != 0))
    finding("FRAMING", "the framed lines differ from a direct reading of ftps_cmdline.h");

  ftps_linebuf_cleanup(&a);
  ftps_linebuf_cleanup(&b);
  ftps_buf_cleanup(&whole);
  ftps_buf_cleanup(&split);
  ftps_buf_cleanup(&model);
  return 0;
}
