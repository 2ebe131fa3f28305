/* oracle.h - judge a transcript against the model (DESIGN sections 3 and 5).
 *
 * A monitor fed one transcript step at a time. Client bytes (C:, R:) are
 * framed into command lines the way an FTP server frames them (CRLF or bare
 * LF; several commands in one write and a line split across writes both
 * work); server lines (S:) are assembled into replies, multi-line ones too;
 * events (E:, T:) move the TLS and connection state. The oracle follows the
 * server's actual choice among the replies the model allows and records every
 * invariant it breaks, with the step (1-based index into the transcript's
 * steps, comments and blank lines included), the model state and the codes
 * that were expected.
 *
 * Sees the server only through transcripts: the same oracle judges our
 * in-process server, a live server over TCP, or a hand-written case. */
#ifndef ORACLE_H
#define ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "transcript.h"

/* ORACLE_INVARIANT(NAME, SEVERITY) - DESIGN section 5. */
#define ORACLE_INVARIANTS(X)             \
  X(AUTH_234_ONLY_FOR_AUTH, SECURITY)    \
  X(NO_PLAINTEXT_AFTER_234, SECURITY)    \
  X(NO_PIPELINED_INJECTION, SECURITY)    \
  X(NO_SECOND_234, SECURITY)             \
  X(TLS_REQUIRED_LOGIN, SECURITY)        \
  X(TLS_REQUIRED_STAYS_TLS, SECURITY)    \
  X(PROT_P_DATA_IS_TLS, SECURITY)        \
  X(PROT_LEVEL_KEPT, SECURITY)           \
  X(HANDSHAKE_FAIL_CLOSES, SECURITY)     \
  X(NO_SECRET_ECHO, SECURITY)            \
  X(REPLY_SYNTAX, CONFORMANCE)           \
  X(ONE_FINAL_REPLY, CONFORMANCE)        \
  X(ALLOWED_CODE, CONFORMANCE)           \
  X(REPLY_421_CLOSES, CONFORMANCE)       \
  X(PBSZ_BEFORE_PROT, CONFORMANCE)       \
  X(PROT_NEEDS_TLS, CONFORMANCE)

typedef enum oracle_invariant {
#define ORACLE_X_ENUM(name, sev) ORACLE_##name,
  ORACLE_INVARIANTS(ORACLE_X_ENUM)
#undef ORACLE_X_ENUM
  ORACLE_INVARIANT_COUNT
} oracle_invariant;

typedef enum oracle_severity { ORACLE_SECURITY = 1, ORACLE_CONFORMANCE = 2 } oracle_severity;

const char *oracle_invariant_name(oracle_invariant inv);
oracle_severity oracle_invariant_severity(oracle_invariant inv);
/* oracle_invariant_from_name returns the invariant or -1. */
int oracle_invariant_from_name(const char *name);

typedef struct oracle_violation {
  oracle_invariant inv;
  size_t step;         /* 1-based step index */
  char why[256];       /* what happened, e.g. "AUTH_TLS answered 503" */
  char state[160];     /* model state before the step */
  char expected[160];  /* codes the model allowed, "" if not about a code */
} oracle_violation;

typedef struct oracle oracle;

/* oracle_new makes a monitor for |cfg| (see model_config_make). |all|: keep
 * going after the first violation and record every one (up to
 * ORACLE_VIOLATIONS_MAX are stored; all are counted). Returns NULL if out of
 * memory. The greeting is expected as the first reply. */
#define ORACLE_VIOLATIONS_MAX 256
oracle *oracle_new(const model_config *cfg, bool all);
void oracle_free(oracle *o); /* accepts NULL */

/* oracle_set_secret adds the account's real password (|len| bytes) to what
 * NO_SECRET_ECHO looks for in every reply. Besides it, the argument of a
 * PASS the server accepted (2xx) is a secret from then on. A refused PASS
 * argument is not judged: it may be any word, and a server's own text can
 * hold it by chance ("PASS TLS" and "530 TLS required"). A secret the
 * client itself wrote in another command (USER <password>, MKD <password>)
 * may be named back. */
void oracle_set_secret(oracle *o, const void *secret, size_t len);

/* oracle_step feeds the next step. Returns 1 once the oracle is done (a
 * violation found and not |all|: later steps are ignored), else 0. */
int oracle_step(oracle *o, const transcript_step *st);

/* oracle_finish ends the transcript (checks what must have happened by the
 * end, e.g. an unterminated multi-line reply). Returns the violation count. */
size_t oracle_finish(oracle *o);

size_t oracle_violation_count(const oracle *o);
/* oracle_violation_at returns the i-th stored violation (NULL past the end). */
const oracle_violation *oracle_violation_at(const oracle *o, size_t i);
/* oracle_state returns the model state the oracle has reached. */
const model_state *oracle_state(const oracle *o);
/* oracle_config returns the configuration the oracle judges against. */
const model_config *oracle_config(const oracle *o);
/* oracle_state_before, inside a cover callback, returns the state the row
 * was taken from (a step may take several rows, one after another). */
const model_state *oracle_state_before(const oracle *o);

/* Coverage: the number of times each model row (transition) was taken, an
 * array of MODEL_ROW_COUNT counters owned by the oracle; and an optional
 * callback called for each row taken. */
const uint32_t *oracle_coverage(const oracle *o);
typedef void (*oracle_cover_fn)(void *ctx, const oracle *o, int row);
void oracle_set_cover_fn(oracle *o, oracle_cover_fn fn, void *ctx);

/* oracle_format_violation writes "VIOLATION NAME step N: why (state: ...;
 * expected: ...)" into |buf|. */
void oracle_format_violation(const oracle_violation *v, char *buf, size_t buf_len);

/* oracle_check_transcript judges a whole transcript. Returns the number of
 * violations (0 = OK; without |all| at most 1) or -1 out of memory; the
 * first violation is copied to |*first| if non-NULL and there is one. */
long oracle_check_transcript(const transcript *t, const model_config *cfg, bool all,
                             oracle_violation *first);

/* --- command framing (oracle_frame.c), also used by generators --- */

/* A server-side line framer, in two layers like a server's: Telnet
 * decoding first, then lines that end at LF (a CR directly before it is
 * part of the line end, any other CR is data); lines longer than
 * MODEL_LINE_MAX decoded bytes are reported as overlong (truncated). */
typedef struct oracle_framer {
  uint8_t buf[MODEL_LINE_MAX + 1];
  size_t len;
  bool overlong;
  bool pending_cr; /* a CR that ends the line if LF comes next */
  uint8_t telnet;  /* Telnet decoder state (oracle_frame.c) */
} oracle_framer;

typedef void (*oracle_line_fn)(void *ctx, const uint8_t *line, size_t len, bool overlong);

void oracle_framer_reset(oracle_framer *f);
/* oracle_framer_feed frames |len| bytes, calling |fn| per complete line with
 * Telnet IAC sequences removed (RFC 959 section 4.1.3 / RFC 854: IAC IAC is
 * a literal 0xff; IAC WILL/WONT/DO/DONT take an option byte). Returns the
 * number of complete lines. */
size_t oracle_framer_feed(oracle_framer *f, const uint8_t *data, size_t len, oracle_line_fn fn,
                          void *ctx);

#endif
