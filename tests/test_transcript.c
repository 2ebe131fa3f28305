/* test_transcript.c - model/transcript: the .fts text form, the binary tagged
 * form, and the `ftpsfuzz encode` / `decode` subcommands. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "transcript.h"
#include "transcript_event.h"

/* ---- helpers ---- */

/* print_to_string returns the canonical text of |t| (malloc'd) or NULL. */
static char *print_to_string(const transcript *t, size_t *len) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  if (f == NULL)
    return NULL;
  int rc = transcript_print_text(t, f);
  fclose(f);
  if (rc != 0) {
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

static int parse(transcript *t, const char *text, size_t len, char *err, size_t err_len) {
  transcript_init(t);
  return transcript_parse_text(t, text, len, "t.fts", err, err_len);
}

/* expect_step checks step |i| of |t|: kind, payload, NUL terminator, line. */
static void expect_step(const transcript *t, size_t i, transcript_kind kind, const void *data,
                        size_t len, unsigned line) {
  CHECK(i < t->n);
  if (i >= t->n)
    return;
  const transcript_step *st = &t->steps[i];
  CHECK_EQ_INT(st->kind, kind);
  CHECK_MEM(st->data, st->len, data, len);
  CHECK(st->data != NULL && st->data[st->len] == 0);
  CHECK_EQ_INT(st->line, line);
}

/* roundtrip checks print(parse(x)) == x and print(decode(encode(parse(x)))) == x
 * and that re-encoding the decoded transcript gives the same bytes. */
static void roundtrip(const char *name, const char *text, size_t len) {
  transcript t, d;
  char err[512] = "";
  uint8_t *bin = NULL, *bin2 = NULL;
  size_t bin_len = 0, bin2_len = 0, out_len = 0;
  char *out = NULL;
  transcript_init(&d);
  int rc = parse(&t, text, len, err, sizeof(err));
  if (rc != 0)
    fprintf(stderr, "%s: unexpected parse error: %s\n", name, err);
  CHECK_EQ_INT(rc, 0);
  out = print_to_string(&t, &out_len);
  CHECK(out != NULL);
  if (out != NULL)
    CHECK_MEM(out, out_len, text, len);
  free(out);
  out = NULL;
  CHECK_EQ_INT(transcript_encode_binary(&t, &bin, &bin_len), 0);
  rc = transcript_decode_binary(&d, bin, bin_len, err, sizeof(err));
  if (rc != 0)
    fprintf(stderr, "%s: unexpected decode error: %s\n", name, err);
  CHECK_EQ_INT(rc, 0);
  CHECK_EQ_INT(d.n, t.n);
  out = print_to_string(&d, &out_len);
  CHECK(out != NULL);
  if (out != NULL)
    CHECK_MEM(out, out_len, text, len);
  CHECK_EQ_INT(transcript_encode_binary(&d, &bin2, &bin2_len), 0);
  CHECK_MEM(bin2, bin2_len, bin, bin_len);
  free(out);
  free(bin);
  free(bin2);
  transcript_cleanup(&t);
  transcript_cleanup(&d);
}

/* ---- tags and letters stay in sync with the format ---- */

static void test_tags(void) {
  static const struct {
    transcript_kind kind;
    int tag;
    char letter;
  } want[] = {
      {TRANSCRIPT_C, 1, 'C'},       {TRANSCRIPT_R, 2, 'R'}, {TRANSCRIPT_T, 3, 'T'},
      {TRANSCRIPT_W, 4, 'W'},       {TRANSCRIPT_D, 5, 'D'}, {TRANSCRIPT_S, 6, 'S'},
      {TRANSCRIPT_E, 7, 'E'},       {TRANSCRIPT_COMMENT, 8, '#'},
      {TRANSCRIPT_BLANK, 9, 0},
  };
  /* Tag numbers are on disk in every corpus file: never renumber. */
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    CHECK_EQ_INT(want[i].kind, want[i].tag);
    CHECK_EQ_INT(transcript_kind_letter(want[i].kind), want[i].letter);
  }
  CHECK_EQ_INT(TRANSCRIPT_TAG_MAX, 9);
}

/* ---- storage ---- */

static void test_storage(void) {
  transcript t;
  transcript_init(&t);
  CHECK_EQ_INT(transcript_add(&t, TRANSCRIPT_R, "\0ab", 3), 0);
  CHECK_EQ_INT(transcript_addf(&t, TRANSCRIPT_W, "%d", 250), 0);
  CHECK_EQ_INT(transcript_add(&t, TRANSCRIPT_BLANK, NULL, 0), 0);
  expect_step(&t, 0, TRANSCRIPT_R, "\0ab", 3, 0);
  expect_step(&t, 1, TRANSCRIPT_W, "250", 3, 0);
  expect_step(&t, 2, TRANSCRIPT_BLANK, "", 0, 0);
  CHECK_EQ_INT(transcript_add(&t, (transcript_kind)0, "x", 1), -2);
  CHECK_EQ_INT(transcript_add(&t, (transcript_kind)10, "x", 1), -2);
  char *big = malloc(TRANSCRIPT_STEP_MAX + 1);
  CHECK(big != NULL);
  if (big != NULL) {
    memset(big, 'a', TRANSCRIPT_STEP_MAX + 1);
    CHECK_EQ_INT(transcript_add(&t, TRANSCRIPT_R, big, TRANSCRIPT_STEP_MAX + 1), -2);
    CHECK_EQ_INT(transcript_add(&t, TRANSCRIPT_R, big, TRANSCRIPT_STEP_MAX), 0);
    free(big);
  }
  CHECK_EQ_INT(t.n, 4);
  transcript_cleanup(&t);
  CHECK(t.n == 0 && t.steps == NULL);
  transcript_cleanup(&t); /* twice is fine */

  /* The step limit. */
  transcript_init(&t);
  int rc = 0;
  for (unsigned i = 0; i < TRANSCRIPT_STEPS_MAX && rc == 0; i++)
    rc = transcript_add(&t, TRANSCRIPT_BLANK, "", 0);
  CHECK_EQ_INT(rc, 0);
  CHECK_EQ_INT(transcript_add(&t, TRANSCRIPT_BLANK, "", 0), -2);
  CHECK_EQ_INT(t.n, TRANSCRIPT_STEPS_MAX);
  transcript_cleanup(&t);
}

/* ---- parsing ---- */

static void test_parse_kinds(void) {
  static const char text[] =
      "# a comment\n"
      "C: AUTH TLS\n"
      "\n"
      "S: 234 Proceed.\n"
      "T: handshake\n"
      "E: handshake ok\n"
      "C: FEAT\n"
      "S: 211-Features:\n"
      "S:  AUTH TLS\n"
      "S: 211 End\n"
      "R: \\x16\\x03\\x01\n"
      "W: 50\n"
      "D: open\n"
      "D: send hello\\n\n"
      "D: close\n"
      "T: close_notify\n"
      "C: \n"
      "#\n"
      "E: closed\n";
  transcript t;
  char err[512] = "";
  CHECK_EQ_INT(parse(&t, text, strlen(text), err, sizeof(err)), 0);
  CHECK_EQ_INT(t.n, 19);
  expect_step(&t, 0, TRANSCRIPT_COMMENT, " a comment", 10, 1);
  expect_step(&t, 1, TRANSCRIPT_C, "AUTH TLS", 8, 2);
  expect_step(&t, 2, TRANSCRIPT_BLANK, "", 0, 3);
  expect_step(&t, 3, TRANSCRIPT_S, "234 Proceed.", 12, 4);
  expect_step(&t, 4, TRANSCRIPT_T, "handshake", 9, 5);
  expect_step(&t, 5, TRANSCRIPT_E, "handshake ok", 12, 6);
  expect_step(&t, 8, TRANSCRIPT_S, " AUTH TLS", 9, 9); /* FEAT continuation line */
  expect_step(&t, 10, TRANSCRIPT_R, "\x16\x03\x01", 3, 11);
  expect_step(&t, 11, TRANSCRIPT_W, "50", 2, 12);
  expect_step(&t, 12, TRANSCRIPT_D, "open", 4, 13);
  expect_step(&t, 13, TRANSCRIPT_D, "send hello\n", 11, 14);
  expect_step(&t, 14, TRANSCRIPT_D, "close", 5, 15);
  expect_step(&t, 15, TRANSCRIPT_T, "close_notify", 12, 16);
  expect_step(&t, 16, TRANSCRIPT_C, "", 0, 17); /* "C: " is an empty command */
  expect_step(&t, 17, TRANSCRIPT_COMMENT, "", 0, 18);
  expect_step(&t, 18, TRANSCRIPT_E, "closed", 6, 19);
  transcript_cleanup(&t);
  roundtrip("kinds", text, strlen(text));
}

static void test_parse_escapes(void) {
  static const char text[] = "C: a\\r\\n\\t\\\\\\x41\\xfF\\x00z \\x5c\n";
  transcript t;
  char err[512] = "";
  CHECK_EQ_INT(parse(&t, text, strlen(text), err, sizeof(err)), 0);
  CHECK_EQ_INT(t.n, 1);
  expect_step(&t, 0, TRANSCRIPT_C, "a\r\n\t\\A\xff\0z \\", 11, 1);
  transcript_cleanup(&t);

  /* Two commands in one write; comments are verbatim, never unescaped. */
  static const char text2[] = "C: AUTH TLS\\r\\nNOOP\n#\\x41\\q\n";
  CHECK_EQ_INT(parse(&t, text2, strlen(text2), err, sizeof(err)), 0);
  expect_step(&t, 0, TRANSCRIPT_C, "AUTH TLS\r\nNOOP", 14, 1);
  expect_step(&t, 1, TRANSCRIPT_COMMENT, "\\x41\\q", 6, 2);
  transcript_cleanup(&t);
  roundtrip("escapes2", text2, strlen(text2));
}

static void test_parse_line_ends(void) {
  transcript t;
  char err[512] = "";
  size_t len = 0;
  /* CRLF line ends, and a last line without a line end. */
  static const char crlf[] = "C: NOOP\r\n\r\n# x\r\nS: 200 ok";
  CHECK_EQ_INT(parse(&t, crlf, strlen(crlf), err, sizeof(err)), 0);
  CHECK_EQ_INT(t.n, 4);
  expect_step(&t, 0, TRANSCRIPT_C, "NOOP", 4, 1);
  expect_step(&t, 1, TRANSCRIPT_BLANK, "", 0, 2);
  expect_step(&t, 2, TRANSCRIPT_COMMENT, " x", 2, 3);
  expect_step(&t, 3, TRANSCRIPT_S, "200 ok", 6, 4);
  char *out = print_to_string(&t, &len);
  static const char canon[] = "C: NOOP\n\n# x\nS: 200 ok\n";
  CHECK(out != NULL);
  if (out != NULL)
    CHECK_MEM(out, len, canon, strlen(canon));
  free(out);
  transcript_cleanup(&t);

  /* A raw CR inside content is data (escaped on output); only the one before
   * LF ends the line. */
  static const char rawcr[] = "S: 200 ok\r\r\n";
  CHECK_EQ_INT(parse(&t, rawcr, strlen(rawcr), err, sizeof(err)), 0);
  expect_step(&t, 0, TRANSCRIPT_S, "200 ok\r", 7, 1);
  transcript_cleanup(&t);

  /* Empty text is an empty transcript; "\n" is one blank line. */
  CHECK_EQ_INT(parse(&t, "", 0, err, sizeof(err)), 0);
  CHECK_EQ_INT(t.n, 0);
  transcript_cleanup(&t);
  CHECK_EQ_INT(parse(&t, "\n", 1, err, sizeof(err)), 0);
  CHECK_EQ_INT(t.n, 1);
  transcript_cleanup(&t);

  /* Parsing appends to what is already there. */
  transcript_init(&t);
  CHECK_EQ_INT(transcript_add(&t, TRANSCRIPT_C, "USER x", 6), 0);
  CHECK_EQ_INT(transcript_parse_text(&t, "W: 5\n", 5, "t.fts", err, sizeof(err)), 0);
  CHECK_EQ_INT(t.n, 2);
  expect_step(&t, 1, TRANSCRIPT_W, "5", 1, 1);
  transcript_cleanup(&t);
}

static void test_parse_errors(void) {
  static const struct {
    const char *text;
    const char *err;
  } cases[] = {
      {"C: ok\nX: bad\n",
       "t.fts:2: unknown step letter 'X'; expected one of C R T W D S E followed by ': ', '#' "
       "for a comment, or a blank line"},
      {"c: lower\n",
       "t.fts:1: unknown step letter 'c'; expected one of C R T W D S E followed by ': ', '#' "
       "for a comment, or a blank line"},
      {"\n  C: indented\n",
       "t.fts:2: unknown step letter byte 0x20; expected one of C R T W D S E followed by ': ', "
       "'#' for a comment, or a blank line"},
      {"\x01", "t.fts:1: unknown step letter byte 0x01; expected one of C R T W D S E followed "
               "by ': ', '#' for a comment, or a blank line"},
      {"C:\n", "t.fts:1: expected ': ' after 'C' (a step is 'C: <content>')"},
      {"S:200 ok\n", "t.fts:1: expected ': ' after 'S' (a step is 'S: <content>')"},
      {"E\n", "t.fts:1: expected ': ' after 'E' (a step is 'E: <content>')"},
      {"\n\nC: a\\q\n", "t.fts:3:5: bad escape: unknown escape; expected \\r \\n \\t \\\\ or \\xHH"},
      {"C: ab\\\n", "t.fts:1:6: bad escape: '\\' at end of line; expected \\r \\n \\t \\\\ or \\xHH"},
      {"R: \\x4\n", "t.fts:1:4: bad escape: expected two hex digits after '\\x'"},
      {"R: ok\\xg0\n", "t.fts:1:6: bad escape: expected two hex digits after '\\x'"},
      {"R: \\X41\n", "t.fts:1:4: bad escape: unknown escape; expected \\r \\n \\t \\\\ or \\xHH"},
      {"T: handshak\n", "t.fts:1: T step: expected 'handshake' or 'close_notify', got 'handshak'"},
      {"T: \n", "t.fts:1: T step: expected 'handshake' or 'close_notify', got ''"},
      {"T: handshake \n",
       "t.fts:1: T step: expected 'handshake' or 'close_notify', got 'handshake '"},
      {"W: 86400001\n", "t.fts:1: W step: expected milliseconds as a decimal 0..86400000 (no "
                        "leading zeros), got '86400001'"},
      {"W: -1\n", "t.fts:1: W step: expected milliseconds as a decimal 0..86400000 (no leading "
                  "zeros), got '-1'"},
      {"W: 01\n", "t.fts:1: W step: expected milliseconds as a decimal 0..86400000 (no leading "
                  "zeros), got '01'"},
      {"W: \n", "t.fts:1: W step: expected milliseconds as a decimal 0..86400000 (no leading "
                "zeros), got ''"},
      {"W: 999999999999999999999\n",
       "t.fts:1: W step: expected milliseconds as a decimal 0..86400000 (no leading zeros), got "
       "'999999999999999999999'"},
      {"D: sendx\n", "t.fts:1: D step: expected 'open', 'close' or 'send <bytes>', got 'sendx'"},
      {"D: send\n", "t.fts:1: D step: expected 'open', 'close' or 'send <bytes>', got 'send'"},
      {"D: \\x00\n", "t.fts:1: D step: expected 'open', 'close' or 'send <bytes>', got '\\x00'"},
      {"#ok\n#bad\r\r\n",
       "t.fts:2: comment: expected no carriage return at the end of a comment"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    transcript t;
    char err[512] = "";
    transcript_init(&t);
    CHECK_EQ_INT(transcript_add(&t, TRANSCRIPT_C, "KEEP", 4), 0);
    int rc = transcript_parse_text(&t, cases[i].text, strlen(cases[i].text), "t.fts", err,
                                   sizeof(err));
    CHECK_EQ_INT(rc, -1);
    CHECK_STR(err, cases[i].err);
    /* A failed parse leaves the transcript as it was. */
    CHECK_EQ_INT(t.n, 1);
    expect_step(&t, 0, TRANSCRIPT_C, "KEEP", 4, 0);
    transcript_cleanup(&t);
  }

  /* Valid boundary values. */
  static const char ok[] = "W: 0\nW: 86400000\nD: send \nD: send \\x00\n";
  roundtrip("boundaries", ok, strlen(ok));

  /* The step limit, by line. */
  size_t n = TRANSCRIPT_STEPS_MAX + 1;
  char *many = malloc(n);
  CHECK(many != NULL);
  if (many != NULL) {
    transcript t;
    char err[512] = "";
    char want[128];
    memset(many, '\n', n);
    CHECK_EQ_INT(parse(&t, many, n - 1, err, sizeof(err)), 0);
    CHECK_EQ_INT(t.n, TRANSCRIPT_STEPS_MAX);
    transcript_cleanup(&t);
    CHECK_EQ_INT(parse(&t, many, n, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "t.fts:%zu: expected at most %u steps in one transcript", n,
             TRANSCRIPT_STEPS_MAX);
    CHECK_STR(err, want);
    CHECK_EQ_INT(t.n, 0);
    transcript_cleanup(&t);
    free(many);
  }

  /* The payload limit applies after unescaping. */
  size_t big_len = 3 + TRANSCRIPT_STEP_MAX + 1;
  char *big = malloc(big_len + 4);
  CHECK(big != NULL);
  if (big != NULL) {
    transcript t;
    char err[512] = "";
    memcpy(big, "R: ", 3);
    memset(big + 3, 'a', big_len - 3);
    CHECK_EQ_INT(parse(&t, big, big_len, err, sizeof(err)), -1);
    CHECK_STR(err, "t.fts:1: expected at most 1048576 payload bytes in one step, got 1048577");
    transcript_cleanup(&t);
    CHECK_EQ_INT(parse(&t, big, big_len - 1, err, sizeof(err)), 0);
    CHECK_EQ_INT(t.n, 1);
    transcript_cleanup(&t);
    free(big);
  }

  /* A file that cannot be read is reported by name. */
  transcript t;
  char err[512] = "";
  transcript_init(&t);
  CHECK_EQ_INT(transcript_load_file(&t, "/nonexistent/x.fts", err, sizeof(err)), -1);
  CHECK_STR(err, "/nonexistent/x.fts: cannot open: No such file or directory");
  transcript_cleanup(&t);
}

/* ---- printing ---- */

static void test_print_canonical(void) {
  uint8_t all[256];
  for (int i = 0; i < 256; i++)
    all[i] = (uint8_t)i;
  transcript t;
  transcript_init(&t);
  CHECK_EQ_INT(transcript_add(&t, TRANSCRIPT_R, all, sizeof(all)), 0);
  size_t len = 0;
  char *out = print_to_string(&t, &len);
  /* Build the expected line: escapes for \\ CR LF TAB, \xHH (lower case) for
   * every byte outside 0x20..0x7e, everything else as is. */
  char want[4 + 256 * 4 + 2];
  size_t o = 0;
  memcpy(want, "R: ", 3);
  o = 3;
  for (int i = 0; i < 256; i++) {
    if (i == '\\')
      o += (size_t)snprintf(want + o, sizeof(want) - o, "\\\\");
    else if (i == '\r')
      o += (size_t)snprintf(want + o, sizeof(want) - o, "\\r");
    else if (i == '\n')
      o += (size_t)snprintf(want + o, sizeof(want) - o, "\\n");
    else if (i == '\t')
      o += (size_t)snprintf(want + o, sizeof(want) - o, "\\t");
    else if (i < 0x20 || i > 0x7e)
      o += (size_t)snprintf(want + o, sizeof(want) - o, "\\x%02x", i);
    else
      want[o++] = (char)i;
  }
  want[o++] = '\n';
  CHECK(out != NULL);
  if (out != NULL)
    CHECK_MEM(out, len, want, o);
  free(out);
  transcript_cleanup(&t);
  roundtrip("all bytes", want, o);

  /* One step, and a kind that is not a kind. */
  transcript_step st = {TRANSCRIPT_S, (uint8_t *)" AUTH TLS", 9, 0};
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  CHECK(f != NULL);
  if (f != NULL) {
    CHECK_EQ_INT(transcript_print_step(&st, f), 0);
    st.kind = (transcript_kind)42;
    CHECK_EQ_INT(transcript_print_step(&st, f), -1);
    fclose(f);
    CHECK_MEM(buf, n, "S:  AUTH TLS\n", 13);
    free(buf);
  }
}

/* ---- text -> binary -> text ---- */

static const char *const samples[] = {
    "",
    "\n",
    "\n\n\n",
    "#\n",
    "# client script: explicit FTPS login\n"
    "C: AUTH TLS\n"
    "T: handshake\n"
    "C: USER alice\n"
    "C: PASS wonderland\n"
    "C: PBSZ 0\n"
    "C: PROT P\n"
    "C: PASV\n"
    "D: open\n"
    "C: RETR /pub/hello.txt\n"
    "W: 100\n"
    "D: close\n"
    "C: QUIT\n",
    "S: 220 ftpsfuzz ready\n"
    "C: AUTH TLS\\r\\nUSER evil\n"
    "S: 234 Proceed.\n"
    "T: handshake\n"
    "E: handshake ok\n"
    "S: 503 Bad sequence of commands.\n"
    "E: data tls 6 bytes sha256=5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\n"
    "E: handshake failed \\x00\\xff wrong version\n"
    "E: closed\n",
    "R: \\x16\\x03\\x01\\x00\\x05\\x01\\x00\\x00\\x01\\x00\n"
    "R: \n"
    "C: \n"
    "C:  leading and trailing spaces  \n"
    "S: 211-Features:\n"
    "S:  AUTH TLS\n"
    "S:  PBSZ\n"
    "S: 211 End\n"
    "S: 200 bare lf\\n\n"
    "D: send \\\\x41 is not an escape here\\t\\r\\n\n"
    "#   comment with \\ backslash and \\x41 kept verbatim  \n"
    "# caf\xc3\xa9 (UTF-8 in a comment is verbatim)\n"
    "T: close_notify\n"
    "W: 0\n"
    "W: 86400000\n"
    "\n",
};

static void test_roundtrip_samples(void) {
  for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
    char name[32];
    snprintf(name, sizeof(name), "sample %zu", i);
    roundtrip(name, samples[i], strlen(samples[i]));
  }
}

static int has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* check_fts_file: files under examples/ and corpus/seeds/ must be valid
 * canonical .fts and round trip byte-identically; under tests/ (and
 * corpus/regressions/) a file may be a deliberately bad or non-canonical
 * input, so only what parses is checked through binary. */
static void check_fts_file(const char *path, int strict, unsigned *count) {
  uint8_t *buf = NULL;
  size_t len = 0;
  char err[512] = "";
  transcript t;
  transcript_init(&t);
  (*count)++;
  if (transcript_read_file(path, &buf, &len, err, sizeof(err)) != 0) {
    fprintf(stderr, "%s\n", err);
    CHECK(0);
    return;
  }
  if (transcript_parse_text(&t, (const char *)buf, len, path, err, sizeof(err)) != 0) {
    if (strict) {
      fprintf(stderr, "does not parse (examples/ and corpus/seeds/ must): %s\n", err);
      CHECK(0);
    } else {
      printf("note: skipping %s (does not parse: %s)\n", path, err);
    }
    goto out;
  }
  size_t plen = 0;
  char *printed = print_to_string(&t, &plen);
  CHECK(printed != NULL);
  if (printed == NULL)
    goto out;
  if (plen == len && memcmp(printed, buf, len) == 0) {
    roundtrip(path, (const char *)buf, len);
  } else if (strict) {
    fprintf(stderr, "not canonical .fts (examples/ and corpus/seeds/ must be): %s\n", path);
    CHECK_MEM(printed, plen, buf, len);
  } else {
    printf("note: %s is not canonical; checking its canonical form\n", path);
    roundtrip(path, printed, plen);
  }
  free(printed);
out:
  free(buf);
  transcript_cleanup(&t);
}

static void walk_fts(const char *dir, int strict, int depth, unsigned *count) {
  if (depth > 16)
    return;
  DIR *d = opendir(dir);
  if (d == NULL)
    return; /* the directory may not exist yet */
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char path[4096];
    struct stat sb;
    if (e->d_name[0] == '.')
      continue;
    if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
      continue;
    if (lstat(path, &sb) != 0)
      continue;
    if (S_ISDIR(sb.st_mode))
      walk_fts(path, strict, depth + 1, count);
    else if (S_ISREG(sb.st_mode) && has_suffix(e->d_name, ".fts"))
      check_fts_file(path, strict, count);
  }
  closedir(d);
}

static void test_roundtrip_files(void) {
  unsigned count = 0;
  char dir[4096];
  snprintf(dir, sizeof(dir), "%s", testlib_source_path("examples"));
  walk_fts(dir, 1, 0, &count);
  snprintf(dir, sizeof(dir), "%s", testlib_source_path("tests"));
  walk_fts(dir, 0, 0, &count);
  /* corpus/seeds/ holds generated (so canonical) scripts, e.g. the committed
   * cover set in corpus/seeds/scripts/; regressions may be odd inputs. */
  unsigned seeds = 0;
  snprintf(dir, sizeof(dir), "%s", testlib_source_path("corpus/seeds"));
  walk_fts(dir, 1, 0, &seeds);
  CHECK(seeds > 0);
  count += seeds;
  snprintf(dir, sizeof(dir), "%s", testlib_source_path("corpus/regressions"));
  walk_fts(dir, 0, 0, &count);
  snprintf(dir, sizeof(dir), "%s", testlib_source_path("corpus/open"));
  walk_fts(dir, 0, 0, &count);
  printf("round-tripped %u .fts files from examples/, tests/ and corpus/ (%u seeds)\n", count,
         seeds);
}

/* ---- binary decoding of bad input ---- */

static void expect_decode_error(const void *in, size_t len, const char *want) {
  transcript t;
  char err[512] = "";
  transcript_init(&t);
  CHECK_EQ_INT(transcript_decode_binary(&t, in, len, err, sizeof(err)), -1);
  CHECK_STR(err, want);
  CHECK_EQ_INT(t.n, 0);
  transcript_cleanup(&t);
}

static void test_decode_errors(void) {
  transcript t;
  char err[512] = "";
  transcript_init(&t);
  CHECK_EQ_INT(transcript_decode_binary(&t, (const uint8_t *)"", 0, err, sizeof(err)), 0);
  CHECK_EQ_INT(t.n, 0);
  transcript_cleanup(&t);

  expect_decode_error("\x00", 1,
                      "offset 0: expected a 5-byte record header (u16 tag, u24 length), got 1 bytes");
  expect_decode_error("\x00\x09\x00\x00\x00\x00\x01\x00", 8,
                      "offset 5: expected a 5-byte record header (u16 tag, u24 length), got 3 bytes");
  expect_decode_error("\x00\x00\x00\x00\x00", 5, "offset 0: unknown tag 0; expected a tag 1..9");
  expect_decode_error("\x00\x0a\x00\x00\x00", 5, "offset 0: unknown tag 10; expected a tag 1..9");
  expect_decode_error("\x01\x01\x00\x00\x00", 5, "offset 0: unknown tag 257; expected a tag 1..9");
  expect_decode_error("\x00\x02\x10\x00\x01", 5,
                      "offset 0: record length 1048577; expected at most 1048576");
  expect_decode_error("\x00\x02\xff\xff\xff", 5,
                      "offset 0: record length 16777215; expected at most 1048576");
  expect_decode_error("\x00\x01\x00\x00\x04NOO", 8,
                      "offset 0: truncated record: expected 4 payload bytes, got 3");
  expect_decode_error("\x00\x03\x00\x00\x03yes", 8,
                      "offset 0: T step: expected 'handshake' or 'close_notify', got 'yes'");
  expect_decode_error("\x00\x09\x00\x00\x00\x00\x04\x00\x00\x02\x30\x30", 12,
                      "offset 5: W step: expected milliseconds as a decimal 0..86400000 (no "
                      "leading zeros), got '00'");
  expect_decode_error("\x00\x05\x00\x00\x04send", 9,
                      "offset 0: D step: expected 'open', 'close' or 'send <bytes>', got 'send'");
  expect_decode_error("\x00\x09\x00\x00\x01x", 6,
                      "offset 0: blank line: expected an empty payload, got 1 bytes");
  expect_decode_error("\x00\x08\x00\x00\x03\x61\x0a\x62", 8,
                      "offset 0: comment: expected no line feed inside a comment");
  expect_decode_error("\x00\x08\x00\x00\x02\x61\x0d", 7,
                      "offset 0: comment: expected no carriage return at the end of a comment");

  /* The step limit: TRANSCRIPT_STEPS_MAX blank records decode, one more does not. */
  size_t n = (size_t)TRANSCRIPT_STEPS_MAX + 1;
  uint8_t *many = calloc(n, 5);
  CHECK(many != NULL);
  if (many != NULL) {
    char want[128];
    for (size_t i = 0; i < n; i++)
      many[i * 5 + 1] = TRANSCRIPT_BLANK;
    CHECK_EQ_INT(transcript_decode_binary(&t, many, (n - 1) * 5, err, sizeof(err)), 0);
    CHECK_EQ_INT(t.n, TRANSCRIPT_STEPS_MAX);
    transcript_cleanup(&t);
    snprintf(want, sizeof(want), "offset %zu: expected at most %u steps in one transcript",
             (n - 1) * 5, TRANSCRIPT_STEPS_MAX);
    expect_decode_error(many, n * 5, want);
    free(many);
  }

  /* Decoding appends; a failure keeps what was there. */
  CHECK_EQ_INT(transcript_add(&t, TRANSCRIPT_C, "KEEP", 4), 0);
  CHECK_EQ_INT(transcript_decode_binary(&t, (const uint8_t *)"\x00\x04\x00\x00\x01\x37", 6, err,
                                        sizeof(err)),
               0);
  CHECK_EQ_INT(t.n, 2);
  expect_step(&t, 1, TRANSCRIPT_W, "7", 1, 0);
  CHECK_EQ_INT(transcript_decode_binary(&t, (const uint8_t *)"\x00\x04\x00\x00\x01\x37\x00", 7,
                                        err, sizeof(err)),
               -1);
  CHECK_EQ_INT(t.n, 2);
  transcript_cleanup(&t);
}

/* decode_property: decoding |in| either fails with an "offset N: " message
 * and no steps, or succeeds, re-encodes to exactly |in|, and prints as .fts
 * that parses back to the same binary. Returns 1 on a successful decode. */
static int decode_property(const uint8_t *in, size_t len) {
  transcript t, p;
  char err[512] = "";
  uint8_t *bin = NULL, *bin2 = NULL;
  size_t bin_len = 0, bin2_len = 0, text_len = 0;
  char *text = NULL;
  int ok = 0;
  transcript_init(&t);
  transcript_init(&p);
  if (transcript_decode_binary(&t, in, len, err, sizeof(err)) != 0) {
    CHECK(strncmp(err, "offset ", 7) == 0);
    CHECK_EQ_INT(t.n, 0);
    goto out;
  }
  ok = 1;
  CHECK_EQ_INT(transcript_encode_binary(&t, &bin, &bin_len), 0);
  CHECK_MEM(bin, bin_len, in, len);
  text = print_to_string(&t, &text_len);
  CHECK(text != NULL);
  if (text == NULL)
    goto out;
  int rc = transcript_parse_text(&p, text, text_len, "decoded.fts", err, sizeof(err));
  if (rc != 0)
    fprintf(stderr, "decoded transcript does not parse: %s\n", err);
  CHECK_EQ_INT(rc, 0);
  CHECK_EQ_INT(transcript_encode_binary(&p, &bin2, &bin2_len), 0);
  CHECK_MEM(bin2, bin2_len, in, len);
out:
  free(text);
  free(bin);
  free(bin2);
  transcript_cleanup(&t);
  transcript_cleanup(&p);
  return ok;
}

static void test_decode_truncations(void) {
  const char *text = samples[6];
  transcript t;
  char err[512] = "";
  uint8_t *bin = NULL;
  size_t bin_len = 0;
  CHECK_EQ_INT(parse(&t, text, strlen(text), err, sizeof(err)), 0);
  CHECK_EQ_INT(transcript_encode_binary(&t, &bin, &bin_len), 0);
  /* Record boundaries: a prefix decodes exactly when it ends on one. */
  unsigned char *boundary = calloc(bin_len + 1, 1);
  CHECK(boundary != NULL);
  if (boundary != NULL && bin != NULL) {
    size_t pos = 0;
    boundary[0] = 1;
    for (size_t i = 0; i < t.n; i++) {
      pos += 5 + t.steps[i].len;
      boundary[pos] = 1;
    }
    CHECK_EQ_INT(pos, bin_len);
    for (size_t cut = 0; cut <= bin_len; cut++) {
      uint8_t *copy = malloc(cut ? cut : 1); /* exact size, so ASan sees overreads */
      if (cut)
        memcpy(copy, bin, cut);
      CHECK_EQ_INT(decode_property(copy, cut), boundary[cut]);
      free(copy);
    }
  }
  free(boundary);
  free(bin);
  transcript_cleanup(&t);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rng(void) {
  /* xorshift64*: deterministic, so a failure reproduces. */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static void test_decode_random(void) {
  static const char *const words[] = {"handshake", "close_notify", "open", "close",
                                      "send x",    "0",            "86400000", "123",
                                      "a\nb",      "a\r",          "",         "\\x00"};
  unsigned successes = 0;
  for (int iter = 0; iter < 4000; iter++) {
    uint8_t buf[256];
    size_t len = 0;
    if (iter % 2 == 0) {
      /* Raw random bytes, short. */
      len = rng() % 48;
      for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rng();
    } else {
      /* Plausible records with occasional damage. */
      int records = (int)(rng() % 6);
      for (int r = 0; r < records; r++) {
        unsigned tag = rng() % 11;
        const char *w = words[rng() % (sizeof(words) / sizeof(words[0]))];
        size_t wl = strlen(w);
        size_t plen = wl;
        if (rng() % 8 == 0)
          plen = rng() % 40; /* length that may not match */
        if (len + 5 + wl > sizeof(buf))
          break;
        buf[len++] = 0;
        buf[len++] = (uint8_t)tag;
        buf[len++] = 0;
        buf[len++] = (uint8_t)(plen >> 8);
        buf[len++] = (uint8_t)plen;
        memcpy(buf + len, w, wl);
        len += wl;
      }
      if (len > 0 && rng() % 4 == 0)
        buf[rng() % len] ^= (uint8_t)(1u << (rng() % 8));
      if (len > 0 && rng() % 4 == 0)
        len -= rng() % len;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (len)
      memcpy(copy, buf, len);
    successes += (unsigned)decode_property(copy, len);
    free(copy);
  }
  /* The generator must exercise both outcomes, or the test proves little. */
  printf("random decode: %u of 4000 inputs decoded\n", successes);
  CHECK(successes > 200);
  CHECK(successes < 3800);
}

/* ---- the CLI, through the built ftpsfuzz binary ---- */

/* run_cli runs |argv| with stdout/stderr to files; returns the exit status
 * or -1. */
static int run_cli(char *const argv[], const char *out_path, const char *err_path) {
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
      _exit(127);
    execv(argv[0], argv);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *slurp(const char *path, size_t *len) {
  uint8_t *buf = NULL;
  char err[512];
  if (transcript_read_file(path, &buf, len, err, sizeof(err)) != 0)
    return NULL;
  return (char *)buf;
}

static int write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (f == NULL)
    return -1;
  size_t w = fwrite(data, 1, len, f);
  return (fclose(f) == 0 && w == len) ? 0 : -1;
}

static int file_exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

static unsigned count_dir_entries(const char *dir) {
  unsigned n = 0;
  DIR *d = opendir(dir);
  if (d == NULL)
    return 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      n++;
  closedir(d);
  return n;
}

static void test_cli(void) {
  const char *exe = getenv("FTPSFUZZ");
  CHECK(exe != NULL);
  if (exe == NULL)
    return;
  char dir[] = "/tmp/test_transcript.XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char in[512], bin[512], back[512], out[512], errf[512], bad[512], badbin[512], none[512];
  snprintf(in, sizeof(in), "%s/in.fts", dir);
  snprintf(bin, sizeof(bin), "%s/in.bin", dir);
  snprintf(back, sizeof(back), "%s/back.fts", dir);
  snprintf(out, sizeof(out), "%s/stdout", dir);
  snprintf(errf, sizeof(errf), "%s/stderr", dir);
  snprintf(bad, sizeof(bad), "%s/bad.fts", dir);
  snprintf(badbin, sizeof(badbin), "%s/bad.bin", dir);
  snprintf(none, sizeof(none), "%s/none.out", dir);
  const char *text = samples[6];
  size_t text_len = strlen(text), len = 0;
  char *got;
  CHECK_EQ_INT(write_file(in, text, text_len), 0);

  /* encode, compared with the library's encoding. */
  {
    char *argv[] = {(char *)exe, "encode", in, "-o", bin, NULL};
    CHECK_EQ_INT(run_cli(argv, out, errf), 0);
    transcript t;
    char err[512];
    uint8_t *want = NULL;
    size_t want_len = 0;
    CHECK_EQ_INT(parse(&t, text, text_len, err, sizeof(err)), 0);
    CHECK_EQ_INT(transcript_encode_binary(&t, &want, &want_len), 0);
    got = slurp(bin, &len);
    CHECK(got != NULL);
    if (got != NULL)
      CHECK_MEM(got, len, want, want_len);
    free(got);
    free(want);
    transcript_cleanup(&t);
  }
  /* decode -o FILE and decode to stdout both give back the text. */
  {
    char *argv[] = {(char *)exe, "decode", bin, "-o", back, NULL};
    CHECK_EQ_INT(run_cli(argv, out, errf), 0);
    got = slurp(back, &len);
    CHECK(got != NULL);
    if (got != NULL)
      CHECK_MEM(got, len, text, text_len);
    free(got);
    char *argv2[] = {(char *)exe, "decode", bin, NULL};
    CHECK_EQ_INT(run_cli(argv2, out, errf), 0);
    got = slurp(out, &len);
    CHECK(got != NULL);
    if (got != NULL)
      CHECK_MEM(got, len, text, text_len);
    free(got);
  }
  /* A bad .fts: exit 2, FILE:LINE: what was expected, no output file. */
  {
    static const char badtext[] = "C: USER alice\n\nW: soon\n";
    CHECK_EQ_INT(write_file(bad, badtext, strlen(badtext)), 0);
    char *argv[] = {(char *)exe, "encode", bad, "-o", none, NULL};
    CHECK_EQ_INT(run_cli(argv, out, errf), 2);
    got = slurp(errf, &len);
    char want[1024];
    snprintf(want, sizeof(want),
             "%s:3: W step: expected milliseconds as a decimal 0..86400000 (no leading zeros), "
             "got 'soon'\n",
             bad);
    CHECK(got != NULL);
    if (got != NULL)
      CHECK_MEM(got, len, want, strlen(want));
    free(got);
    CHECK(!file_exists(none));
  }
  /* A truncated binary: exit 2, FILE: offset N: ..., no output file. */
  {
    CHECK_EQ_INT(write_file(badbin, "\x00\x01\x00\x00\x09QUIT", 9), 0);
    char *argv[] = {(char *)exe, "decode", badbin, "-o", none, NULL};
    CHECK_EQ_INT(run_cli(argv, out, errf), 2);
    got = slurp(errf, &len);
    char want[1024];
    snprintf(want, sizeof(want),
             "%s: offset 0: truncated record: expected 9 payload bytes, got 4\n", badbin);
    CHECK(got != NULL);
    if (got != NULL)
      CHECK_MEM(got, len, want, strlen(want));
    free(got);
    CHECK(!file_exists(none));
  }
  /* A failed encode does not clobber an existing output file. */
  {
    char *argv[] = {(char *)exe, "encode", bad, "-o", back, NULL};
    CHECK_EQ_INT(run_cli(argv, out, errf), 2);
    got = slurp(back, &len);
    CHECK(got != NULL);
    if (got != NULL)
      CHECK_MEM(got, len, text, text_len);
    free(got);
  }
  /* Usage: --help is 0 and prints usage; a missing -o or input is 2. */
  {
    char *argv[] = {(char *)exe, "encode", "--help", NULL};
    CHECK_EQ_INT(run_cli(argv, out, errf), 0);
    got = slurp(out, &len);
    CHECK(got != NULL && strstr(got, "usage: ftpsfuzz encode") != NULL);
    free(got);
    char *argv2[] = {(char *)exe, "decode", "--help", NULL};
    CHECK_EQ_INT(run_cli(argv2, out, errf), 0);
    got = slurp(out, &len);
    CHECK(got != NULL && strstr(got, "usage: ftpsfuzz decode") != NULL);
    free(got);
    char *argv3[] = {(char *)exe, "encode", in, NULL};
    CHECK_EQ_INT(run_cli(argv3, out, errf), 2);
    char *argv4[] = {(char *)exe, "decode", NULL};
    CHECK_EQ_INT(run_cli(argv4, out, errf), 2);
    char *argv5[] = {(char *)exe, "decode", bin, "--bogus", NULL};
    CHECK_EQ_INT(run_cli(argv5, out, errf), 2);
    char *argv6[] = {(char *)exe, "decode", none, NULL};
    CHECK_EQ_INT(run_cli(argv6, out, errf), 2);
  }
  /* Only the files made above remain: no temp files left behind. */
  CHECK_EQ_INT(count_dir_entries(dir), 7);

  const char *files[] = {in, bin, back, out, errf, bad, badbin};
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
    unlink(files[i]);
  CHECK_EQ_INT(rmdir(dir), 0);
}

/* Every E: name parses back to its kind, the longest name wins, the rest
 * and a data event's count and hash are taken apart, and near misses are
 * not events. */
static void test_events(void) {
  transcript_step st;
  transcript_event ev;
  uint8_t buf[TRANSCRIPT_EVENT_MAX];
  memset(&st, 0, sizeof(st));
  st.kind = TRANSCRIPT_E;
  for (unsigned k = 1; k < TRANSCRIPT_EV_COUNT; k++) {
    const char *name = transcript_event_name((transcript_event_kind)k);
    CHECK(name[0] != '\0');
    st.len = transcript_event_format(buf, sizeof(buf), (transcript_event_kind)k, "why", 3);
    st.data = buf;
    CHECK_EQ_INT(st.len, strlen(name) + 4);
    CHECK_EQ_INT(transcript_event_parse(&st, &ev), 0);
    CHECK_EQ_INT(ev.kind, k);
    CHECK_MEM(ev.rest, ev.rest_len, "why", 3);
    st.len = transcript_event_format(buf, sizeof(buf), (transcript_event_kind)k, NULL, 0);
    CHECK_MEM(buf, st.len, name, strlen(name));
    CHECK(transcript_event_is(&st, (transcript_event_kind)k));
    CHECK_EQ_INT(ev.kind, k);
  }
  CHECK_STR(transcript_event_name(TRANSCRIPT_EV_COUNT), "");
  CHECK_EQ_INT(transcript_event_format(buf, sizeof(buf), TRANSCRIPT_EV_UNKNOWN, "x", 1), 0);

  static const struct {
    const char *text;
    transcript_event_kind kind;
    const char *rest;
  } cases[] = {
      {"tls error plaintext 211-x", TRANSCRIPT_EV_TLS_ERROR_PLAINTEXT, "211-x"},
      {"tls error plaintextual", TRANSCRIPT_EV_TLS_ERROR, "plaintextual"},
      {"tls error bad_record_mac", TRANSCRIPT_EV_TLS_ERROR, "bad_record_mac"},
      {"handshake failed stalled", TRANSCRIPT_EV_HANDSHAKE_FAILED, "stalled"},
      {"closed", TRANSCRIPT_EV_CLOSED, ""},
      {"closedx", TRANSCRIPT_EV_UNKNOWN, ""},
      {"handshake", TRANSCRIPT_EV_UNKNOWN, ""},
      {"data", TRANSCRIPT_EV_UNKNOWN, ""},
      {"limit output", TRANSCRIPT_EV_LIMIT, "output"},
      {"", TRANSCRIPT_EV_UNKNOWN, ""},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    st.data = (uint8_t *)cases[i].text;
    st.len = strlen(cases[i].text);
    CHECK_EQ_INT(transcript_event_parse(&st, &ev), cases[i].kind ? 0 : -1);
    CHECK_EQ_INT(ev.kind, cases[i].kind);
    CHECK_MEM(ev.rest, ev.rest_len, cases[i].rest, strlen(cases[i].rest));
  }
  st.kind = TRANSCRIPT_S; /* only E: steps are events */
  st.data = (uint8_t *)"closed";
  st.len = 6;
  CHECK_EQ_INT(transcript_event_parse(&st, &ev), -1);
  st.kind = TRANSCRIPT_E;

  /* data events: count and hash */
  uint8_t md[32];
  for (int i = 0; i < 32; i++)
    md[i] = (uint8_t)(i * 7 + 1);
  st.len = transcript_event_format_data(buf, false, 18446744073709551615ull, md);
  st.data = buf;
  CHECK_EQ_INT(transcript_event_parse(&st, &ev), 0);
  CHECK_EQ_INT(ev.kind, TRANSCRIPT_EV_DATA_CLEAR);
  CHECK(ev.bytes_known && ev.bytes == 18446744073709551615ull);
  CHECK_MEM(buf, 37, "data clear 18446744073709551615 bytes", 37);
  CHECK_EQ_INT(ev.sha256_len, 64);
  CHECK_MEM(ev.sha256, 8, "01080f16", 8);
  st.len = transcript_event_format_data(buf, true, 0, md);
  CHECK_EQ_INT(transcript_event_parse(&st, &ev), 0);
  CHECK_EQ_INT(ev.kind, TRANSCRIPT_EV_DATA_TLS);
  CHECK(ev.bytes_known && ev.bytes == 0);
  /* hand-written forms: a short hash, or no count at all */
  st.data = (uint8_t *)"data tls 42 bytes sha256=00";
  st.len = strlen((char *)st.data);
  CHECK_EQ_INT(transcript_event_parse(&st, &ev), 0);
  CHECK(ev.bytes_known && ev.bytes == 42);
  CHECK_MEM(ev.sha256, ev.sha256_len, "00", 2);
  st.data = (uint8_t *)"data clear lots";
  st.len = strlen((char *)st.data);
  CHECK_EQ_INT(transcript_event_parse(&st, &ev), 0);
  CHECK(!ev.bytes_known);
  st.data = (uint8_t *)"data clear 99999999999999999999 bytes";
  st.len = strlen((char *)st.data);
  CHECK_EQ_INT(transcript_event_parse(&st, &ev), 0);
  CHECK(!ev.bytes_known); /* does not fit in 64 bits */
}

int main(void) {
  test_tags();
  test_storage();
  test_parse_kinds();
  test_parse_escapes();
  test_parse_line_ends();
  test_parse_errors();
  test_print_canonical();
  test_roundtrip_samples();
  test_roundtrip_files();
  test_decode_errors();
  test_decode_truncations();
  test_decode_random();
  test_cli();
  test_events();
  return testlib_finish();
}
