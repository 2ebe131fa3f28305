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
 * Opcodes (the effect class decides what the harness may assert):
 *   0 FLIP      byte a ^= (b ? b : 1)          judged by the bytes that
 *                                               differ once the flips are
 *                                               done (they may cancel):
 *                                               TAMPER; UNCERTAIN on the
 *                                               header's version bytes or
 *                                               a CCS/alert record
 *   1 TRUNCATE  keep a | b << 8 bytes (>= 1)    TAMPER*
 *   2 SPLIT     a write boundary after byte a   BENIGN (TCP segmentation)
 *   3 REFRAME   the record's body cut into two  BENIGN for a plaintext
 *               records after body byte a + 1   handshake record (RFC 8446
 *                                               5.1 allows fragmenting),
 *                                               else TAMPER*
 *   4 MERGE     with the next record of the     BENIGN for two plaintext
 *               same write batch into one       handshake records, else
 *                                               TAMPER*
 *   5 DUP       the record twice                TAMPER*, from after the
 *                                               first copy
 *   6 DROP      the record dropped              TAMPER*
 *   7 SWAP      with the next record of the     TAMPER; UNCERTAIN if either
 *               batch                           is a CCS or an alert
 *   8 ALERT     an alert (level a, desc b)      UNCERTAIN
 *               injected before the record
 *   9 CCS       a ChangeCipherSpec injected     UNCERTAIN (TLS 1.3 peers
 *                                               must ignore one, RFC 8446 5)
 *  10 FTP       a plaintext FTP line injected   TAMPER
 *  11 SSLV2     an SSLv2-style ClientHello      TAMPER
 *  12 EMPTY     a zero-length record (type      UNCERTAIN
 *               0x14 + a % 4) injected
 *  13 HUGE      a record longer than 2^14+2048  TAMPER
 *               (type 0x16 or 0x17) injected
 *  14 REPLAY    an earlier record (a) of the    TAMPER*
 *               same direction injected
 *  15 GARBAGE   1 + a bytes injected            TAMPER
 * (*) UNCERTAIN instead when the record is a CCS or an alert: a TLS 1.3
 * peer ignores a stray CCS, and alerts are not part of the transcript.
 * An operation that changes nothing (a MERGE without a next record, a
 * REFRAME of a 1-byte body, anything on a dropped record) has no effect.
 * BENIGN: a correct peer must not notice. TAMPER: the handshake transcript
 * or the protected stream changed, so the receiver must fail from that
 * point on. UNCERTAIN: legal to accept or to refuse. */
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
  fuzz_tls_effect worst_hs; /* worst effect on a handshake-phase record */
  fuzz_tls_effect worst_app;/* worst effect on an application-phase record */
  uint64_t last_start;      /* emitted offset of the last record's bytes */
  size_t last_len;          /* its original length */
  ftps_buf history[FUZZ_TLS_HISTORY];
  unsigned history_n;
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
