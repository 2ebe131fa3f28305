/* fuzz_tls_attack.c - see fuzz_tls_attack.h. */
#include "fuzz_tls_attack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftps_err.h"
#include "fuzz_tls.h"

/* Write boundaries inside one record's output: one per operation at most,
 * so none is ever lost (a lost DUP boundary would blur where tampering
 * starts). */
#define CUTS_MAX (FUZZ_TLS_OPS_MAX + 1u)
/* RFC 8446 5.1: a TLSPlaintext fragment is at most 2^14 bytes. */
#define PLAINTEXT_MAX 16384u

enum {
  OP_FLIP, OP_TRUNCATE, OP_SPLIT, OP_REFRAME, OP_MERGE, OP_DUP, OP_DROP, OP_SWAP,
  OP_ALERT, OP_CCS, OP_FTP, OP_SSLV2, OP_EMPTY, OP_HUGE, OP_REPLAY, OP_GARBAGE,
};

static void oom(void) {
  fprintf(stderr, "fuzz_tls_attack: out of memory\n");
  abort();
}

static void append(ftps_buf *b, const void *p, size_t n) {
  if (n > 0 && ftps_buf_append(b, p, n) != 0)
    oom();
}

void fuzz_tls_attack_init(fuzz_tls_attack *a, const uint8_t *p, size_t n) {
  memset(a, 0, sizeof(*a));
  for (size_t i = 0; i + 4 <= n && a->n_ops < FUZZ_TLS_OPS_MAX; i += 4) {
    fuzz_tls_op *op = &a->ops[a->n_ops++];
    op->code = p[i] & 15;
    op->dir = p[i] >> 7;
    op->index = p[i + 1];
    op->a = p[i + 2];
    op->b = p[i + 3];
  }
  for (int d = 0; d < 2; d++) {
    a->dir[d].first_tamper = FUZZ_TLS_NO_TAMPER;
    ftps_buf_init(&a->dir[d].orig, FUZZ_TLS_PEER_MAX);
    ftps_buf_init(&a->dir[d].deliv, 2 * FUZZ_TLS_PEER_MAX);
    for (unsigned h = 0; h < FUZZ_TLS_HISTORY; h++)
      ftps_buf_init(&a->dir[d].history[h], FUZZ_TLS_HDR + FUZZ_TLS_RECORD_BODY_MAX);
  }
}

void fuzz_tls_attack_cleanup(fuzz_tls_attack *a) {
  for (int d = 0; d < 2; d++) {
    for (unsigned h = 0; h < FUZZ_TLS_HISTORY; h++)
      ftps_buf_cleanup(&a->dir[d].history[h]);
    ftps_buf_cleanup(&a->dir[d].orig);
    ftps_buf_cleanup(&a->dir[d].deliv);
  }
}

void fuzz_tls_writes_init(fuzz_tls_writes *w) {
  memset(w, 0, sizeof(*w));
  ftps_buf_init(&w->bytes, 2 * FUZZ_TLS_PEER_MAX);
}

void fuzz_tls_writes_reset(fuzz_tls_writes *w) {
  ftps_buf_reset(&w->bytes);
  w->n = 0;
}

void fuzz_tls_writes_cleanup(fuzz_tls_writes *w) {
  ftps_buf_cleanup(&w->bytes);
  w->n = 0;
}

/* end_write closes the write in progress (if it holds bytes). */
static void end_write(fuzz_tls_writes *w) {
  size_t last = w->n > 0 ? w->ends[w->n - 1] : 0;
  if (w->bytes.len == last)
    return;
  if (w->n == FUZZ_TLS_WRITES_MAX)
    w->ends[w->n - 1] = w->bytes.len;
  else
    w->ends[w->n++] = w->bytes.len;
}

static fuzz_tls_effect by_type(uint8_t type) {
  return (type == FUZZ_TLS_HANDSHAKE || type == FUZZ_TLS_APPDATA) ? FUZZ_TLS_TAMPER
                                                                    : FUZZ_TLS_UNCERTAIN;
}

static fuzz_tls_effect worse(fuzz_tls_effect x, fuzz_tls_effect y) { return x > y ? x : y; }

static void put_header(uint8_t *h, uint8_t type, uint8_t v0, uint8_t v1, size_t len) {
  h[0] = type;
  h[1] = v0;
  h[2] = v1;
  h[3] = (uint8_t)(len >> 8);
  h[4] = (uint8_t)len;
}

/* One record being rewritten: its bytes and the write boundaries in them. */
typedef struct work {
  ftps_buf cur;
  size_t cuts[CUTS_MAX];
  size_t n_cuts;
  bool single;              /* |cur| is still exactly one well-formed record */
  size_t orig_off, orig_len;/* where the original record's bytes are in |cur| */
} work;

static void add_cut(work *w, size_t at) {
  if (at == 0 || at >= w->cur.len)
    return;
  for (size_t i = 0; i < w->n_cuts; i++)
    if (w->cuts[i] == at)
      return;
  if (w->n_cuts < CUTS_MAX)
    w->cuts[w->n_cuts++] = at;
}

/* prefix puts |n| bytes before the record, with a write boundary between. */
static void prefix(work *w, const uint8_t *p, size_t n) {
  ftps_buf tmp;
  ftps_buf_init(&tmp, w->cur.max);
  append(&tmp, p, n);
  if (ftps_buf_append(&tmp, w->cur.data, w->cur.len) != 0) {
    ftps_buf_cleanup(&tmp);
    return; /* over the cap: nothing injected */
  }
  for (size_t i = 0; i < w->n_cuts; i++)
    w->cuts[i] += n;
  ftps_buf_cleanup(&w->cur);
  w->cur = tmp;
  w->orig_off += n;
  add_cut(w, n);
  w->single = false;
}

static int cmp_size(const void *x, const void *y) {
  size_t a = *(const size_t *)x, b = *(const size_t *)y;
  return a < b ? -1 : a > b;
}

/* inject builds the bytes of an injection op into |buf| (|*n|) and returns
 * its effect, or FUZZ_TLS_NONE if there is nothing to inject. */
static fuzz_tls_effect inject(const fuzz_tls_op *op, const fuzz_tls_dir *dir, uint8_t *buf,
                              size_t cap, size_t *n) {
  static const char *const ftp[5] = {"USER alice\r\n", "PASS wonderland\r\n", "QUIT\r\n",
                                     "AUTH TLS\r\n", "PBSZ 0\r\nPROT P\r\n"};
  /* An SSLv2-compatible ClientHello (RFC 5246 appendix E.2) offering
   * TLS 1.2 with ECDHE-GCM/ChaCha suites. */
  static const uint8_t sslv2[] = {
      0x80, 0x2e, 0x01, 0x03, 0x03, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10, 0x00, 0xc0, 0x2b,
      0x00, 0xc0, 0x2f, 0x00, 0xc0, 0x2c, 0x00, 0xc0, 0x30, 0x00, 0xcc, 0xa9, 0x00, 0xcc,
      0xa8, 0x00, 0x00, 0xff, 1,    2,    3,    4,    5,    6,    7,    8,    9,    10,
      11,   12,   13,   14,   15,   16};
  *n = 0;
  switch (op->code) {
  case OP_ALERT:
    put_header(buf, FUZZ_TLS_ALERT, 3, 3, 2);
    buf[5] = op->a;
    buf[6] = op->b;
    *n = 7;
    return FUZZ_TLS_UNCERTAIN;
  case OP_CCS:
    put_header(buf, FUZZ_TLS_CCS, 3, 3, 1);
    buf[5] = op->a < 128 ? 1 : op->a;
    *n = 6;
    return FUZZ_TLS_UNCERTAIN;
  case OP_FTP: {
    const char *line = ftp[op->a % 5];
    *n = strlen(line);
    memcpy(buf, line, *n);
    return FUZZ_TLS_TAMPER;
  }
  case OP_SSLV2:
    memcpy(buf, sslv2, sizeof(sslv2));
    *n = sizeof(sslv2);
    return FUZZ_TLS_TAMPER;
  case OP_EMPTY:
    put_header(buf, (uint8_t)(FUZZ_TLS_CCS + op->a % 4), 3, 3, 0);
    *n = FUZZ_TLS_HDR;
    return FUZZ_TLS_UNCERTAIN;
  case OP_HUGE: {
    size_t len = FUZZ_TLS_RECORD_BODY_MAX + 1u + op->b;
    if (FUZZ_TLS_HDR + len > cap)
      return FUZZ_TLS_NONE;
    put_header(buf, (uint8_t)(FUZZ_TLS_HANDSHAKE + (op->a & 1)), 3, 3, len);
    memset(buf + FUZZ_TLS_HDR, 0, len);
    *n = FUZZ_TLS_HDR + len;
    return FUZZ_TLS_TAMPER;
  }
  case OP_REPLAY: {
    if (dir->history_n == 0)
      return FUZZ_TLS_NONE;
    const ftps_buf *h = &dir->history[op->a % dir->history_n];
    if (h->len > cap || h->len == 0)
      return FUZZ_TLS_NONE;
    memcpy(buf, h->data, h->len);
    *n = h->len;
    return by_type(h->data[0]);
  }
  case OP_GARBAGE:
    for (size_t i = 0; i <= op->a; i++)
      buf[i] = (uint8_t)(op->b + i * 31u);
    *n = (size_t)op->a + 1;
    return FUZZ_TLS_TAMPER;
  default:
    return FUZZ_TLS_NONE;
  }
}

/* ignorable: a record a peer may skip or refuse without the transcript
 * changing: a CCS of 0x01 (RFC 8446 5), an alert, an empty record. */
static bool ignorable(const uint8_t *r, size_t body) {
  return body == 0 || r[0] == FUZZ_TLS_ALERT ||
         (r[0] == FUZZ_TLS_CCS && body == 1 && r[FUZZ_TLS_HDR] == 1);
}

/* stream_judge compares everything delivered in direction |dir| so far
 * with everything its sender wrote, by meaning rather than by the
 * operations that got there (operations may undo, repair or overwrite each
 * other: a record dropped and replayed later arrives intact):
 * - plaintext handshake records: the handshake bytes must be the same,
 *   however they are framed (RFC 8446 5.1), in records of at most 2^14
 *   bytes;
 * - other records must arrive byte for byte, in order;
 * - a record-layer version that differs, an ignorable record injected, an
 *   ignorable original (CCS, alert) moved or missing: UNCERTAIN;
 * - the first delivered record that fits none of this: TAMPER from its
 *   offset (*out_at). Originals not delivered (dropped, cut short) are no
 *   tampering of what was read - the receiver waits for them - but
 *   UNCERTAIN: the exchange cannot complete.
 * Returns NONE when the bytes are identical, else BENIGN, UNCERTAIN or
 * TAMPER. */
static fuzz_tls_effect stream_judge(const fuzz_tls_dir *dir, uint64_t *out_at) {
  const uint8_t *d = dir->deliv.data, *o = dir->orig.data;
  size_t dlen = dir->deliv.len, olen = dir->orig.len, off = 0;
  size_t k = 0, at = 0; /* next original record, and offset in its body */
  bool uncertain = dir->unjudged;
  if (dlen == 0)
    return olen == 0 ? FUZZ_TLS_NONE : FUZZ_TLS_UNCERTAIN; /* all dropped */
  if (dlen <= olen && memcmp(d, o, dlen) == 0)
    return dlen == olen ? FUZZ_TLS_NONE : FUZZ_TLS_UNCERTAIN; /* cut short */
  while (off < dlen) {
    const uint8_t *r = d + off;
    size_t body = 0;
    bool whole = dlen - off >= FUZZ_TLS_HDR;
    if (whole) {
      body = (size_t)r[3] << 8 | r[4];
      whole = dlen - off - FUZZ_TLS_HDR >= body;
    }
    if (!whole) {
      *out_at = off;
      return FUZZ_TLS_TAMPER;
    }
    bool matched = false;
    if (k < dir->n_orig && dir->orig_plain[k] && r[0] == FUZZ_TLS_HANDSHAKE && body > 0 &&
        body <= PLAINTEXT_MAX) {
      /* Handshake bytes across consecutive plaintext handshake originals. */
      size_t done = 0, j = k, a = at;
      matched = true;
      while (done < body && matched) {
        if (j >= dir->n_orig || !dir->orig_plain[j]) {
          matched = false;
          break;
        }
        const uint8_t *e = o + dir->orig_off[j];
        size_t ebody = ((size_t)e[3] << 8 | e[4]) - a;
        size_t n = body - done < ebody ? body - done : ebody;
        if (memcmp(r + FUZZ_TLS_HDR + done, e + FUZZ_TLS_HDR + a, n) != 0)
          matched = false;
        done += n;
        a += n;
        if (a == ((size_t)e[3] << 8 | e[4])) {
          j++;
          a = 0;
        }
      }
      if (matched) {
        if (memcmp(r + 1, o + dir->orig_off[k] + 1, 2) != 0)
          uncertain = true;
        k = j;
        at = a;
      }
    } else if (at == 0) {
      /* The next original, or a later one past ignorable originals. */
      for (size_t j = k; j < dir->n_orig; j++) {
        const uint8_t *e = o + dir->orig_off[j];
        size_t elen = FUZZ_TLS_HDR + ((size_t)e[3] << 8 | e[4]);
        if (elen == FUZZ_TLS_HDR + body && r[0] == e[0] &&
            memcmp(r + 3, e + 3, elen - 3) == 0) {
          matched = true;
          if (memcmp(r + 1, e + 1, 2) != 0 || j > k)
            uncertain = true;
          k = j + 1;
          break;
        }
        if (!ignorable(e, elen - FUZZ_TLS_HDR))
          break;
      }
    }
    if (!matched) {
      if (!ignorable(r, body)) {
        *out_at = off;
        return FUZZ_TLS_TAMPER;
      }
      uncertain = true;
    }
    off += FUZZ_TLS_HDR + body;
  }
  /* Originals that never arrived (dropped, cut short): the receiver waits,
   * which no benign operation makes it do. An ignorable one counts too: a
   * dropped close_notify at the end is a truncation the receiver must
   * notice (an upload without it is discarded). */
  if (k < dir->n_orig || at > 0)
    return FUZZ_TLS_UNCERTAIN;
  return uncertain ? FUZZ_TLS_UNCERTAIN : FUZZ_TLS_BENIGN;
}

/* apply runs one op on record |w| (original type |type|); |next| is the
 * next record of the batch or NULL; sets *took_next when it used it and
 * *tamper_rel to where tampering starts in the record's output. */
static fuzz_tls_effect apply(const fuzz_tls_op *op, fuzz_tls_dir *dir, work *w, uint8_t type,
                             bool plain_hs, const ftps_buf *next, bool next_plain_hs,
                             bool *took_next, size_t *tamper_rel) {
  static uint8_t inj[FUZZ_TLS_HDR + FUZZ_TLS_RECORD_BODY_MAX + 512];
  uint8_t *c = w->cur.data;
  size_t len = w->cur.len, n;
  *tamper_rel = 0;
  switch (op->code) {
  case OP_FLIP: {
    if (len == 0)
      return FUZZ_TLS_NONE;
    size_t off = op->a < len ? op->a : len - 1;
    c[off] ^= op->b ? op->b : 1;
    return FUZZ_TLS_TAMPER; /* a first guess: stream_judge decides */
  }
  case OP_TRUNCATE: {
    size_t keep = (size_t)op->a | (size_t)op->b << 8;
    if (keep == 0)
      keep = 1;
    if (keep >= len)
      return FUZZ_TLS_NONE;
    ftps_buf_truncate(&w->cur, keep);
    if (w->orig_off + w->orig_len > keep)
      w->orig_len = keep > w->orig_off ? keep - w->orig_off : 0;
    w->single = false;
    return by_type(type);
  }
  case OP_SPLIT:
    if (len < 2)
      return FUZZ_TLS_NONE;
    add_cut(w, op->a == 0 ? 1 : (op->a < len ? op->a : len - 1));
    return FUZZ_TLS_BENIGN;
  case OP_REFRAME: {
    if (!w->single || len < FUZZ_TLS_HDR + 2)
      return FUZZ_TLS_NONE;
    size_t body = len - FUZZ_TLS_HDR, k = (size_t)op->a + 1 < body ? (size_t)op->a + 1 : body - 1;
    ftps_buf tmp;
    uint8_t h[FUZZ_TLS_HDR];
    ftps_buf_init(&tmp, w->cur.max);
    put_header(h, c[0], c[1], c[2], k);
    append(&tmp, h, sizeof(h));
    append(&tmp, c + FUZZ_TLS_HDR, k);
    put_header(h, c[0], c[1], c[2], body - k);
    append(&tmp, h, sizeof(h));
    append(&tmp, c + FUZZ_TLS_HDR + k, body - k);
    ftps_buf_cleanup(&w->cur);
    w->cur = tmp;
    w->n_cuts = 0;
    w->single = false;
    w->orig_off = 0;
    w->orig_len = w->cur.len;
    return plain_hs ? FUZZ_TLS_BENIGN : by_type(type);
  }
  case OP_MERGE: {
    if (next == NULL || !w->single || next->len < FUZZ_TLS_HDR)
      return FUZZ_TLS_NONE;
    size_t b1 = len - FUZZ_TLS_HDR, b2 = next->len - FUZZ_TLS_HDR;
    if (b1 + b2 > 0xffff)
      return FUZZ_TLS_NONE;
    uint8_t h[FUZZ_TLS_HDR];
    put_header(h, c[0], c[1], c[2], b1 + b2);
    memcpy(w->cur.data, h, sizeof(h));
    if (ftps_buf_append(&w->cur, next->data + FUZZ_TLS_HDR, b2) != 0)
      return FUZZ_TLS_NONE;
    w->n_cuts = 0;
    w->orig_off = 0;
    w->orig_len = w->cur.len;
    *took_next = true;
    bool same = next->data[0] == type && memcmp(next->data + 1, w->cur.data + 1, 2) == 0;
    if (plain_hs && next_plain_hs && same && b1 + b2 <= PLAINTEXT_MAX)
      return FUZZ_TLS_BENIGN;
    return worse(by_type(type), by_type(next->data[0]));
  }
  case OP_DUP: {
    if (len == 0)
      return FUZZ_TLS_NONE;
    /* Not from |cur| into itself: the append may move it. */
    ftps_buf tmp;
    ftps_buf_init(&tmp, w->cur.max);
    append(&tmp, c, len);
    int rc = ftps_buf_append(&tmp, c, len);
    if (rc != 0) {
      ftps_buf_cleanup(&tmp);
      return FUZZ_TLS_NONE;
    }
    ftps_buf_cleanup(&w->cur);
    w->cur = tmp;
    add_cut(w, len);
    w->single = false;
    *tamper_rel = len;
    return by_type(type);
  }
  case OP_DROP:
    if (len == 0)
      return FUZZ_TLS_NONE;
    ftps_buf_reset(&w->cur);
    w->n_cuts = 0;
    w->single = false;
    w->orig_off = w->orig_len = 0;
    return by_type(type);
  case OP_SWAP:
    if (next == NULL || len == 0)
      return FUZZ_TLS_NONE;
    prefix(w, next->data, next->len);
    *took_next = true;
    /* Moving a CCS or an alert reorders nothing in the transcript. */
    if (by_type(type) != FUZZ_TLS_TAMPER || by_type(next->data[0]) != FUZZ_TLS_TAMPER)
      return FUZZ_TLS_UNCERTAIN;
    return FUZZ_TLS_TAMPER;
  default: {
    fuzz_tls_effect e = inject(op, dir, inj, sizeof(inj), &n);
    if (e == FUZZ_TLS_NONE || n == 0)
      return FUZZ_TLS_NONE;
    prefix(w, inj, n);
    return e;
  }
  }
}

static void remember(fuzz_tls_dir *dir, const ftps_buf *rec) {
  if (dir->history_n < FUZZ_TLS_HISTORY &&
      ftps_buf_append(&dir->history[dir->history_n], rec->data, rec->len) == 0)
    dir->history_n++;
}

void fuzz_tls_attack_batch(fuzz_tls_attack *a, int d, ftps_buf *recs, size_t n, bool app,
                           fuzz_tls_writes *out) {
  fuzz_tls_dir *dir = &a->dir[d];
  bool skip = false, changed = false;
  for (size_t j = 0; j < n; j++) {
    const ftps_buf *rec = &recs[j];
    unsigned index = dir->records++;
    /* The original, for stream_judge (also when merged or swapped). */
    uint8_t type = rec->len > 0 ? rec->data[0] : 0;
    bool plain_hs = type == FUZZ_TLS_HANDSHAKE && !dir->encrypted;
    if (dir->n_orig < FUZZ_TLS_ORIG_MAX && ftps_buf_append(&dir->orig, rec->data, rec->len) == 0) {
      dir->orig_off[dir->n_orig] = dir->orig.len - rec->len;
      dir->orig_plain[dir->n_orig++] = plain_hs;
    } else {
      dir->unjudged = true;
    }
    if (type == FUZZ_TLS_CCS || type == FUZZ_TLS_APPDATA)
      dir->encrypted = true;
    if (skip) {
      /* Merged into or swapped with the record before it. */
      remember(dir, rec);
      skip = false;
      continue;
    }
    const ftps_buf *next = j + 1 < n ? &recs[j + 1] : NULL;
    bool next_plain_hs = next != NULL && next->len > 0 && next->data[0] == FUZZ_TLS_HANDSHAKE &&
                         !dir->encrypted;
    work w;
    memset(&w, 0, sizeof(w));
    ftps_buf_init(&w.cur, 4 * (FUZZ_TLS_HDR + FUZZ_TLS_RECORD_BODY_MAX));
    append(&w.cur, rec->data, rec->len);
    w.single = true;
    w.orig_len = rec->len;
    fuzz_tls_effect worst = FUZZ_TLS_NONE;
    size_t tamper_rel = SIZE_MAX;
    size_t n_ops = 0;
    for (size_t i = 0; i < a->n_ops; i++) {
      const fuzz_tls_op *op = &a->ops[i];
      if (op->dir != d || op->index != (index & 0xff) || index > 0xff)
        continue;
      n_ops++;
      bool took = false;
      size_t rel = 0;
      fuzz_tls_effect e = apply(op, dir, &w, type, plain_hs, skip ? NULL : next, next_plain_hs,
                                &took, &rel);
      if (took)
        skip = true;
      worst = worse(worst, e);
      if (e == FUZZ_TLS_TAMPER && rel < tamper_rel)
        tamper_rel = rel;
    }
    /* Only now: REPLAY injects strictly earlier records. */
    remember(dir, rec);
    uint64_t start = dir->out;
    (void)worst;
    (void)tamper_rel;
    dir->last_start = start;
    dir->last_len = rec->len;
    /* Every record is its own delivery; SPLIT and injections cut more. */
    qsort(w.cuts, w.n_cuts, sizeof(w.cuts[0]), cmp_size);
    size_t from = 0;
    for (size_t i = 0; i <= w.n_cuts; i++) {
      size_t to = i < w.n_cuts ? w.cuts[i] : w.cur.len;
      if (to <= from || to > w.cur.len)
        continue;
      if (ftps_buf_append(&out->bytes, w.cur.data + from, to - from) != 0) {
        /* The harness's cap on queued bytes: the rest is lost, as on a
         * connection the attacker cut. */
        break;
      }
      end_write(out);
      if (ftps_buf_append(&dir->deliv, w.cur.data + from, to - from) != 0)
        dir->unjudged = true;
      dir->out += to - from;
      from = to;
    }
    if (skip || w.n_cuts > 0 || w.cur.len != rec->len ||
        (rec->len > 0 && memcmp(w.cur.data, rec->data, rec->len) != 0))
      changed = true;
    ftps_buf_cleanup(&w.cur);
  }
  /* What the receiver got so far, judged as a whole; new effects belong
   * to this batch's phase. */
  uint64_t at = FUZZ_TLS_NO_TAMPER;
  fuzz_tls_effect e = stream_judge(dir, &at);
  if (e == FUZZ_TLS_TAMPER && at < dir->first_tamper)
    dir->first_tamper = at;
  /* A batch the operations changed takes the judgement of the stream so
   * far (which may include earlier doubts: a weaker, never a wrong claim). */
  if (changed) {
    if (e < FUZZ_TLS_BENIGN)
      e = FUZZ_TLS_BENIGN;
    if (app)
      dir->worst_app = worse(dir->worst_app, e);
    else
      dir->worst_hs = worse(dir->worst_hs, e);
  }
}

fuzz_tls_effect fuzz_tls_attack_worst(const fuzz_tls_attack *a, int d, bool app) {
  fuzz_tls_effect e = FUZZ_TLS_NONE;
  for (int i = 0; i < 2; i++)
    if (d < 0 || d == i)
      e = worse(e, app ? a->dir[i].worst_app : a->dir[i].worst_hs);
  return e;
}
