/* transcript_internal.h - shared by transcript*.c only; not part of the
 * contract in transcript.h. */
#ifndef TRANSCRIPT_INTERNAL_H
#define TRANSCRIPT_INTERNAL_H

#include "transcript.h"

/* transcript_push appends a step that takes ownership of |data| (malloc'd,
 * |len| bytes plus a NUL). On failure |data| is freed; returns 0, -1 (out of
 * memory) or -2 (a limit). */
int transcript_push(transcript *t, transcript_kind kind, uint8_t *data, size_t len,
                    unsigned line);

/* transcript_truncate frees steps from index |n| on, so a failed parse can
 * leave a transcript as it was. */
void transcript_truncate(transcript *t, size_t n);

/* transcript_check_payload validates one step's payload; the text parser and
 * the binary decoder both call it, so both accept exactly the same steps.
 * Returns 0, or -1 with "X step: expected ..., got '...'" in |msg|. */
int transcript_check_payload(transcript_kind kind, const uint8_t *p, size_t len, char *msg,
                             size_t msg_len);

/* transcript_excerpt writes up to 32 bytes of |p| escaped as the printer
 * would (with "..." if cut) into |buf|, always NUL-terminated. */
void transcript_excerpt(char *buf, size_t buf_len, const uint8_t *p, size_t len);

#endif
