/* transcript_event.h - the one list of "E:" event names (DESIGN section 4).
 *
 * The runner and the harnesses write events with transcript_event_format();
 * the oracle, the checker and every other reader take them apart with
 * transcript_event_parse(). Nobody else spells an event name.
 *
 * An event payload is its name, then, for events that carry one, a space and
 * the rest:
 *   closed                          the server closed the control connection
 *   handshake ok                    the client's control TLS handshake finished
 *   handshake failed <reason>       ... failed (BoringSSL reason, "eof",
 *                                   "stalled")
 *   tls shutdown                    the server's close_notify on the control
 *                                   connection
 *   tls error plaintext <line>      the client's TLS failed on a reply line
 *                                   the server wrote in plaintext
 *   tls error <reason>              the client's control TLS failed otherwise
 *   tls after close_notify          after the client's own close_notify the
 *                                   server's TLS stream still carries data:
 *                                   the S: lines that follow, up to the end
 *                                   of that stream, came inside TLS
 *   tls unterminated                after the client's own close_notify the
 *                                   server wrote plaintext without sending
 *                                   its close_notify: its TLS stream is over
 *   data tls <n> bytes sha256=<hex> a data connection ended; n bytes of
 *   data clear <n> bytes sha256=<hex>  plaintext received, under TLS or in clear
 *   data failed <reason>            a data connection was not established or
 *                                   its TLS failed
 *   timeout                         TCP: the server kept the client waiting
 *   limit <what>                    a runner limit stopped the client
 * Names are never reused for another meaning (transcripts are kept in
 * corpus/regressions/). */
#ifndef TRANSCRIPT_EVENT_H
#define TRANSCRIPT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transcript.h"

typedef enum transcript_event_kind {
  TRANSCRIPT_EV_UNKNOWN = 0,        /* not an event this list names */
  TRANSCRIPT_EV_CLOSED,
  TRANSCRIPT_EV_HANDSHAKE_OK,
  TRANSCRIPT_EV_HANDSHAKE_FAILED,   /* rest: reason */
  TRANSCRIPT_EV_TLS_SHUTDOWN,
  TRANSCRIPT_EV_TLS_ERROR_PLAINTEXT, /* rest: the line's first bytes */
  TRANSCRIPT_EV_TLS_ERROR,          /* rest: reason */
  TRANSCRIPT_EV_TLS_AFTER_CLOSE_NOTIFY,
  TRANSCRIPT_EV_TLS_UNTERMINATED,
  TRANSCRIPT_EV_DATA_TLS,           /* bytes, sha256 */
  TRANSCRIPT_EV_DATA_CLEAR,         /* bytes, sha256 */
  TRANSCRIPT_EV_DATA_FAILED,        /* rest: reason */
  TRANSCRIPT_EV_TIMEOUT,
  TRANSCRIPT_EV_LIMIT,              /* rest: which limit */
  TRANSCRIPT_EV_COUNT
} transcript_event_kind;

/* Longest formatted event transcript_event_format() writes. */
#define TRANSCRIPT_EVENT_MAX 256u

typedef struct transcript_event {
  transcript_event_kind kind;
  /* What follows the name and its space (empty if nothing): borrowed from
   * the step. For the data events, the text after "<n> bytes ". */
  const uint8_t *rest;
  size_t rest_len;
  /* DATA_TLS / DATA_CLEAR: the byte count. bytes_known is false when the
   * payload does not start "<decimal> bytes" (a hand-written transcript);
   * readers then treat the count as not zero. */
  uint64_t bytes;
  bool bytes_known;
  /* DATA_TLS / DATA_CLEAR: the hex after "sha256=" (borrowed), or NULL. */
  const uint8_t *sha256;
  size_t sha256_len;
} transcript_event;

/* transcript_event_name returns the event's name ("handshake failed"), or
 * "" for TRANSCRIPT_EV_UNKNOWN and out-of-range values. */
const char *transcript_event_name(transcript_event_kind kind);

/* transcript_event_parse reads |st| (an E: step; other kinds give UNKNOWN)
 * into |out|. A payload is an event when it equals a name or starts with a
 * name and a space; the longest name wins ("tls error plaintext" over "tls
 * error"). Returns 0, or -1 with out->kind TRANSCRIPT_EV_UNKNOWN. Never
 * fails on the rest's content. */
int transcript_event_parse(const transcript_step *st, transcript_event *out);

/* transcript_event_is: |st| is an E: step of |kind|. */
bool transcript_event_is(const transcript_step *st, transcript_event_kind kind);

/* transcript_event_format writes the payload of |kind| with |rest| (|rest_len|
 * bytes, any content; NULL or 0: the name alone) into |out| (|cap| bytes).
 * The result is cut to |cap| bytes (no NUL is added). Returns its length,
 * 0 for an unknown kind. */
size_t transcript_event_format(uint8_t *out, size_t cap, transcript_event_kind kind,
                               const void *rest, size_t rest_len);

/* transcript_event_format_data writes "data tls|clear <n> bytes
 * sha256=<hex of |sha256|, 32 bytes>" into |out| (at least
 * TRANSCRIPT_EVENT_MAX bytes). Returns its length. */
size_t transcript_event_format_data(uint8_t *out, bool tls, uint64_t bytes,
                                    const uint8_t sha256[32]);

#endif
