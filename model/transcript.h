/* transcript.h - the one format everyone shares (DESIGN section 4).
 *
 * A transcript is one session as seen from the client side of the control
 * connection: a list of steps. Text form (.fts), one step per line:
 *   "<letter>: <content>"  with letters C R T W D S E, "# ..." comments and
 *   blank lines (kept, so text -> binary -> text is byte-identical).
 * Content escapes: \r \n \t \\ \xHH (two hex digits, either case). The printer
 * escapes '\\', CR, LF, TAB and every byte outside 0x20..0x7e (as \xHH in
 * lower case), and nothing else, so print(parse(x)) == x for canonical text.
 *
 * Step payloads, after unescaping:
 *   C  command text; the runner appends CRLF and writes it in ONE write
 *   R  raw bytes, written as they are in one write
 *   T  "handshake" | "close_notify"
 *   W  decimal milliseconds, 0..86400000
 *   D  "open" | "close" | "send <bytes>"
 *   S  one reply line without its CRLF; if the payload ends in LF the line
 *      arrived with that bare LF and no CRLF is implied
 *   E  an event: "closed", "handshake ok", "handshake failed <reason>", ...
 *      (the one list of names and its parser: transcript_event.h)
 *   #  comment text after '#' (verbatim, not unescaped)
 *   blank line: empty payload
 *
 * Binary form (corpus files): a sequence of records
 *   u16 tag (big-endian), u24 length (big-endian), payload
 * with the tags below. Tag numbers are never reused; a retired tag stays
 * listed as retired. Unknown tags are an error. */
#ifndef TRANSCRIPT_H
#define TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum transcript_kind {
  TRANSCRIPT_C = 1,        /* client command line (CRLF appended) */
  TRANSCRIPT_R = 2,        /* client raw bytes */
  TRANSCRIPT_T = 3,        /* client TLS action */
  TRANSCRIPT_W = 4,        /* clock advance */
  TRANSCRIPT_D = 5,        /* data connection action */
  TRANSCRIPT_S = 6,        /* server reply line */
  TRANSCRIPT_E = 7,        /* event seen by the runner */
  TRANSCRIPT_COMMENT = 8,  /* "# ..." */
  TRANSCRIPT_BLANK = 9,    /* empty line */
} transcript_kind;

/* The binary tag of each kind is its enum value. */
#define TRANSCRIPT_TAG_MAX 9

/* Limits that bound decoding of untrusted input. */
#define TRANSCRIPT_STEP_MAX   (1u << 20)   /* payload bytes of one step */
#define TRANSCRIPT_STEPS_MAX  100000u      /* steps in one transcript */

typedef struct transcript_step {
  transcript_kind kind;
  uint8_t *data;          /* payload, unescaped; NUL-terminated for convenience */
  size_t len;             /* payload bytes, without that NUL */
  unsigned line;          /* 1-based source line in the .fts, 0 if not from text */
} transcript_step;

typedef struct transcript {
  transcript_step *steps;
  size_t n;
  size_t cap;
} transcript;

/* transcript_init makes an empty transcript; transcript_cleanup frees all
 * steps (accepts a zeroed transcript). */
void transcript_init(transcript *t);
void transcript_cleanup(transcript *t);

/* transcript_add appends a copy of |len| bytes as a step of |kind|. Returns 0
 * or a negative error (-1 out of memory, -2 a limit: payload longer than
 * TRANSCRIPT_STEP_MAX, TRANSCRIPT_STEPS_MAX steps already, or a kind outside
 * 1..TRANSCRIPT_TAG_MAX). It does not validate the payload. */
int transcript_add(transcript *t, transcript_kind kind, const void *data, size_t len);

/* transcript_addf appends a step whose payload is formatted text. */
int transcript_addf(transcript *t, transcript_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* transcript_kind_letter returns 'C', 'R', ... ('#' for a comment, 0 for a
 * blank line). */
char transcript_kind_letter(transcript_kind kind);

/* transcript_parse_text parses .fts text and appends its steps to |out|
 * (an initialised transcript). On error returns -1, leaves |out| with the
 * steps it had, and writes "NAME:LINE: what was expected" into |err|
 * (|err_len| bytes; a bad escape is "NAME:LINE:COL: ..."); |name| is the file
 * name used in messages. Lines end in LF or CRLF. Also validates each step's
 * payload (T, W, D; a comment holds no LF and does not end in CR). */
int transcript_parse_text(transcript *out, const char *text, size_t len, const char *name,
                          char *err, size_t err_len);

/* transcript_load_file reads and parses a .fts file (errors as above; a file
 * that cannot be read is reported by name). */
int transcript_load_file(transcript *out, const char *path, char *err, size_t err_len);

/* Largest file transcript_read_file accepts (bounds memory on bad input). */
#define TRANSCRIPT_FILE_MAX (64u << 20)

/* transcript_read_file reads a whole file (text or binary) into a malloc'd
 * buffer |*out| of |*out_len| bytes, NUL-terminated for convenience; caller
 * frees. On error returns -1 and writes "PATH: why" into |err|; files larger
 * than TRANSCRIPT_FILE_MAX are refused. */
int transcript_read_file(const char *path, uint8_t **out, size_t *out_len, char *err,
                         size_t err_len);

/* transcript_print_text writes the canonical .fts text of |t| to |out|
 * (stdio). Returns 0 or -1 on a write error. */
int transcript_print_text(const transcript *t, FILE *out);

/* transcript_print_step writes one step's canonical line (with '\n'). */
int transcript_print_step(const transcript_step *st, FILE *out);

/* transcript_encode_binary appends the binary form of |t| to a malloc'd
 * buffer returned in |*out| (|*out_len| bytes; caller frees). Returns 0 or -1. */
int transcript_encode_binary(const transcript *t, uint8_t **out, size_t *out_len);

/* transcript_decode_binary parses the binary form and appends its steps to
 * |out| (an initialised transcript). On error returns -1, leaves |out| with
 * the steps it had, and writes "offset N: what was expected" into |err| (N is
 * the offset of the record at fault). Validates payloads like the text parser,
 * so a decoded transcript always prints as valid .fts. Empty input is an
 * empty transcript. */
int transcript_decode_binary(transcript *out, const uint8_t *in, size_t len, char *err,
                             size_t err_len);

#endif
