/* fuzz_tls_attack.h - a fuzzer-programmed attacker between a TLS client and
 * server, working on whole TLS records (fuzz_tls_mitm, fuzz_data_tls).
 *
 * Each direction's byte stream is cut into records by their 5-byte headers;
 * the program's operations name a record by direction and index (its
 * position among the records its sender wrote), so what the attacker does
 * depends on the record structure, never on ciphertext bytes or the TLS
 * library's randomness. An offset past a record's end is clamped to it.
 *
 * Program: 4 bytes per operation, at most FUZZ_TLS_OPS_MAX:
 *   byte 0  bits 0-3 opcode, bit 7 direction (0 client->server, 1 back)
 *   byte 1  record index;  bytes 2, 3  arguments a, b
 * Opcodes:
 *   0 FLIP      byte a ^= (b ? b : 1)
 *   1 TRUNCATE  keep a | b << 8 bytes (>= 1)
 *   2 SPLIT     a write boundary after byte a (TCP segmentation)
 *   3 REFRAME   the record's body cut into two records after body byte a+1
 *   4 MERGE     with the next record of the same write batch into one
 *   5 DUP       the record twice
 *   6 DROP      the record dropped
 *   7 SWAP      with the next record of the batch
 *   8 ALERT     an alert (level a, description b) injected before it
 *   9 CCS       a ChangeCipherSpec injected before it
 *  10 FTP       a plaintext FTP line injected before it
 *  11 SSLV2     an SSLv2-style ClientHello injected before it
 *  12 EMPTY     a zero-length record (type 0x14 + a % 4) injected
 *  13 HUGE      a record longer than 2^14 + 2048 (type 0x16 or 0x17)
 *  14 REPLAY    an earlier record (a) of the same direction injected
 *  15 GARBAGE   1 + a bytes injected
 *
 * What counts as tampering is judged on what the receiver got, as a whole,
 * against what the sender wrote - never per operation, since operations
 * undo, repair and overwrite each other (two flips of one byte; a record
 * dropped and replayed later):
 *   BENIGN     the same handshake bytes in plaintext handshake records,
 *              however framed in records of at most 2^14 bytes (RFC 8446
 *              5.1), other records byte for byte; only write boundaries
 *              and record framing changed. A correct peer must not notice.
 *   UNCERTAIN  also: a record-layer version changed, an ignorable record
 *              (a CCS of 0x01, an alert, an empty record) injected, an
 *              ignorable original moved or missing (a TLS 1.3 peer ignores
 *              a stray CCS, RFC 8446 5), or originals never delivered. A
 *              peer may accept or refuse.
 *   TAMPER     a delivered record that fits none of this: the transcript
 *              or the protected stream changed from that byte on
 *              (first_tamper), so the receiver must fail from there. */
#ifndef FUZZ_TLS_ATTACK_H
#define FUZZ_TLS_ATTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ftps_buf.h"

#define FUZZ_TLS_OPS_MAX 64u
#define FUZZ_TLS_WRITES_MAX 512u
#define FUZZ_TLS_HISTORY 16u
#define FUZZ_TLS_BATCH_MAX 64u
#define FUZZ_TLS_ORIG_MAX 256u
#define FUZZ_TLS_NO_TAMPER UINT64_MAX

enum { FUZZ_TLS_C2S = 0, FUZZ_TLS_S2C = 1 };

typedef enum fuzz_tls_effect {
  FUZZ_TLS_NONE = 0,
  FUZZ_TLS_BENIGN = 1,
  FUZZ_TLS_UNCERTAIN = 2,
  FUZZ_TLS_TAMPER = 3,
} fuzz_tls_effect;

typedef struct fuzz_tls_op {
  uint8_t code, dir, index, a, b;
} fuzz_tls_op;

/* What one direction has seen and done. */
typedef struct fuzz_tls_dir {
  unsigned records;         /* original records seen */
  bool encrypted;           /* a CCS or application_data record went by */
  uint64_t out;             /* bytes emitted to the receiver */
  uint64_t first_tamper;    /* emitted offset where tampering starts */
  fuzz_tls_effect worst_hs; /* worst judgement of a changed handshake-phase batch */
  fuzz_tls_effect worst_app;/* ... of a changed application-phase batch */
  uint64_t last_start;      /* emitted offset of the last record's bytes */
  size_t last_len;          /* its original length */
  ftps_buf history[FUZZ_TLS_HISTORY];
  unsigned history_n;
  /* For judging the delivered stream as a whole. */
  ftps_buf orig;            /* every original record, in order */
  size_t orig_off[FUZZ_TLS_ORIG_MAX];
  bool orig_plain[FUZZ_TLS_ORIG_MAX]; /* a plaintext handshake record */
  size_t n_orig;
  ftps_buf deliv;           /* every byte delivered */
  bool unjudged;            /* past a cap: judged UNCERTAIN at best */
} fuzz_tls_dir;

typedef struct fuzz_tls_attack {
  fuzz_tls_op ops[FUZZ_TLS_OPS_MAX];
  size_t n_ops;
  fuzz_tls_dir dir[2];
} fuzz_tls_attack;

/* Bytes for the receiver, cut into writes (one delivery each). */
typedef struct fuzz_tls_writes {
  ftps_buf bytes;
  size_t ends[FUZZ_TLS_WRITES_MAX];
  size_t n;
} fuzz_tls_writes;

/* fuzz_tls_attack_init reads the program from |p| (|n| bytes; a trailing
 * partial operation is ignored). */
void fuzz_tls_attack_init(fuzz_tls_attack *a, const uint8_t *p, size_t n);
void fuzz_tls_attack_cleanup(fuzz_tls_attack *a);

void fuzz_tls_writes_init(fuzz_tls_writes *w);
void fuzz_tls_writes_reset(fuzz_tls_writes *w);
void fuzz_tls_writes_cleanup(fuzz_tls_writes *w);

/* fuzz_tls_attack_batch runs the program over |n| complete records that
 * direction |d|'s sender wrote in one go (|recs|, header included), in the
 * handshake phase or the application phase (|app|: both ends had finished
 * the handshake before the sender wrote them), appending the result to
 * |out|. */
void fuzz_tls_attack_batch(fuzz_tls_attack *a, int d, ftps_buf *recs, size_t n, bool app,
                           fuzz_tls_writes *out);

/* fuzz_tls_attack_worst is the worst effect on direction |d| (both
 * directions if |d| < 0) in the handshake phase (|app| false) or the
 * application phase. */
fuzz_tls_effect fuzz_tls_attack_worst(const fuzz_tls_attack *a, int d, bool app);

#endif
