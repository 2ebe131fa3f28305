/* fuzz_data_tls.c - the PROT P data connection's TLS handshake, with and
 * without resumption of the control connection's session.
 *
 * Targets: ftps_data.c's TLS paths: start_data_tls (bytes that arrived
 * before the transfer began), step_data_handshake and the require_tls_reuse
 * decision, produce/consume under TLS, upload_complete (close_notify),
 * ftps_session_data_feed/_output/_eof/_closed, and the control connection
 * around a data connection that fails in every way.
 *
 * Per input: a control session over TLS logged in as alice with PBSZ 0,
 * PROT P, TYPE I and PASV (a real handshake each time: there is no
 * deterministic way to cache it), then one transfer whose data connection
 * the input drives, through the record-level attacker of fuzz_tls_attack.h
 * (or as raw bytes).
 *
 * Input: byte 0 flags, then the attacker's program, or for client 3 the raw
 * bytes the data client sends. A program whose length is not a multiple of 4
 * ends in a partial operation, which the attacker ignores; its first byte
 * holds more flags (so every older input keeps its meaning):
 *   bit 0     the policy's require_tls_reuse off (else on, as built in): a
 *             data connection may then use a fresh session
 *   bits 0-1  data client: 0 resumes the control connection's session;
 *             1 a fresh session (no resumption); 2 offers a session of a
 *             DIFFERENT control connection (made once per process);
 *             3 no TLS: the rest of the input in plaintext
 *   bit 2     TLS 1.2 only (control and data), else TLS 1.3
 *   bits 3-4  RETR /pub/hello.txt, STOR /upload/new.txt, LIST /pub, NLST /pub
 *   bit 5     connect the data connection after the command (else before)
 *   bits 6-7  client data deliveries in pieces of 0 (whole) 1 7 64 bytes
 * Whether the policy requires reuse follows from the input alone, never from
 * BoringSSL's randomness (see fuzz_tls_attack.h).
 * Checks: fuzz_tls.h's on the control connection, plus
 *   SETUP               the login and PASV get 331 230 200 200 200 227
 *   PROT_P_DATA_IS_TLS  every byte the server sends on the data connection
 *                       is a TLS record; a client without TLS gets 425/426
 *                       and no file is stored
 *   TLS_REUSE           under require_tls_reuse, without resumption of this
 *                       control connection's session (clients 1, 2) the
 *                       transfer gets 522 (425 or 426 when the attacker broke
 *                       the handshake), moves no data and stores nothing;
 *                       under either policy a data connection never resumes
 *                       another control connection's session (client 2)
 *   TRANSFER            with resumption, or with any session when
 *                       require_tls_reuse is off, and only benign operations
 *                       the transfer succeeds (226) with the right bytes; a
 *                       stored upload is never other than what was sent
 *   CONTROL_UNAFFECTED  afterwards NOOP gets 200 on a control connection
 *                       that is still open
 *   BOUNDED_LOOP        the exchange settles within DATA_ROUNDS */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "fuzz_driver.h"
#include "fuzz_tls.h"
#include "fuzz_tls_attack.h"

#define DATA_ROUNDS 4000u
#define DATA_GOT_MAX (1u << 20)

static const char kUpload[] = "uploaded over PROT P\n";
static test_config *cfg;
static SSL_SESSION *other_session[2]; /* [tls12]: from another control connection */

/* One control connection: the server and the built-in client, no attacker. */
typedef struct ctl {
  fuzz_tls_srv srv;
  tls_client *cli;
  fuzz_tls_replies rep;
  transcript log;
  bool done;
} ctl;

static void ctl_pump(ctl *c) {
  uint8_t buf[16384];
  for (unsigned round = 0;; round++) {
    if (round > DATA_ROUNDS)
      fuzz_findingf("BOUNDED_LOOP", &c->log, "control: no quiet state after %u rounds",
                    DATA_ROUNDS);
    bool progress = false;
    if (!c->done && tls_client_handshake(c->cli) == TLS_CLIENT_DONE) {
      c->done = true;
      fuzz_tls_log_event(&c->log, TRANSCRIPT_EV_HANDSHAKE_OK);
    }
    if (c->done) {
      unsigned before = c->rep.n + c->rep.prelim;
      (void)fuzz_tls_client_read(c->cli, &c->rep, &c->log);
      if (c->rep.n + c->rep.prelim != before)
        progress = true;
    }
    while (tls_client_pending(c->cli) > 0) {
      size_t got = 0;
      if (tls_client_pull(c->cli, buf, sizeof(buf), &got) != 0 || got == 0)
        break;
      fuzz_tls_srv_feed(&c->srv, buf, got, 0);
      progress = true;
    }
    fuzz_tls_srv_pump(&c->srv);
    if (c->srv.to_peer.len > 0) {
      (void)tls_client_push(c->cli, c->srv.to_peer.data, c->srv.to_peer.len);
      ftps_buf_reset(&c->srv.to_peer);
      progress = true;
    }
    if (!progress)
      return;
  }
}

/* ctl_cmd sends one command and returns the code of the reply it got (-1:
 * none). */
static int ctl_cmd(ctl *c, const char *cmd) {
  uint8_t line[128];
  size_t len = strlen(cmd);
  unsigned before = c->rep.n;
  memcpy(line, cmd, len);
  memcpy(line + len, "\r\n", 2);
  fuzz_tls_log(&c->log, TRANSCRIPT_C, cmd, len);
  if (c->srv.closed || tls_client_write(c->cli, line, len + 2) != 0)
    return -1;
  ctl_pump(c);
  if (c->rep.n == before || before >= FUZZ_TLS_CODES_MAX)
    return -1;
  return c->rep.codes[before];
}

/* ctl_open logs in over TLS and sets PBSZ 0, PROT P, TYPE I, PASV. */
static void ctl_open(ctl *c, bool tls12) {
  static const char *const cmds[] = {"USER alice", "PASS wonderland", "PBSZ 0", "PROT P",
                                     "TYPE I",     "PASV"};
  static const int codes[] = {331, 230, 200, 200, 200, 227};
  memset(c, 0, sizeof(*c));
  transcript_init(&c->log);
  fuzz_tls_replies_init(&c->rep);
  fuzz_tls_srv_open(&c->srv, &cfg->server, &c->log);
  fuzz_tls_log(&c->log, TRANSCRIPT_C, "AUTH TLS", 8);
  fuzz_tls_srv_feed(&c->srv, (const uint8_t *)"AUTH TLS\r\n", 10, 0);
  c->cli = fuzz_tls_client_new(tls12, NULL);
  fuzz_tls_log(&c->log, TRANSCRIPT_T, "handshake", 9);
  ctl_pump(c);
  if (!c->done || !c->srv.ready)
    fuzz_finding("SETUP", "the control handshake failed", &c->log);
  for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
    int code = ctl_cmd(c, cmds[i]);
    if (code != codes[i])
      fuzz_findingf("SETUP", &c->log, "\"%s\" got %d, expected %d", cmds[i], code, codes[i]);
  }
}

static void ctl_close(ctl *c) {
  fuzz_tls_srv_close(&c->srv);
  tls_client_free(c->cli);
  fuzz_tls_replies_cleanup(&c->rep);
  transcript_cleanup(&c->log);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  cfg = fuzz_tls_init();
  /* Sessions of other control connections, made before any input so every
   * input sees the same state (AFL++ forks after this). */
  for (int v = 0; v < 2; v++) {
    ctl c;
    ctl_open(&c, v == 1);
    other_session[v] = tls_client_session(c.cli);
    if (other_session[v] == NULL)
      fuzz_finding("SETUP", "the control connection gave the client no session", &c.log);
    SSL_SESSION_up_ref(other_session[v]);
    ctl_close(&c);
  }
  return 0;
}

/* The data connection. */
typedef struct dconn {
  ctl *c;
  int kind;
  tls_client *cli;          /* NULL for the plaintext client */
  fuzz_tls_attack atk;
  fuzz_tls_framer fr[2];
  ftps_buf recs[FUZZ_TLS_BATCH_MAX];
  fuzz_tls_writes c2s_w, s2c_q;
  size_t s2c_next, chunk;
  fuzz_tls_walk walk;       /* server data bytes: TLS records only */
  ftps_buf got;             /* application data the client read */
  bool attached, closed, eof_sent, cli_done, cli_failed, fin_sent, upload_sent;
  bool upload;
} dconn;

static void data_out(dconn *d) {
  ftps_session *s = d->c->srv.s;
  size_t n, bad;
  const uint8_t *p = ftps_session_data_output(s, &n);
  if (n == 0)
    return;
  if (!fuzz_tls_walk_feed(&d->walk, p, n, &bad)) {
    char hex[80];
    fuzz_hex(hex, sizeof(hex), p + bad, n - bad, 32);
    fuzz_findingf("PROT_P_DATA_IS_TLS", &d->c->log,
                  "under PROT P the server sent data-connection bytes that are not a TLS "
                  "record: %s",
                  hex);
  }
  if (d->cli != NULL) {
    (void)fuzz_tls_framer_push(&d->fr[FUZZ_TLS_S2C], p, n);
    size_t k = 0;
    while (k < FUZZ_TLS_BATCH_MAX && fuzz_tls_framer_next(&d->fr[FUZZ_TLS_S2C], &d->recs[k]))
      k++;
    if (k > 0)
      fuzz_tls_attack_batch(&d->atk, FUZZ_TLS_S2C, d->recs, k, d->fin_sent, &d->s2c_q);
  }
  ftps_session_data_output_consume(s, n);
}

static void data_feed(dconn *d, const uint8_t *p, size_t n) {
  ftps_session *s = d->c->srv.s;
  for (size_t off = 0; off < n && !d->closed;) {
    size_t k = n - off, used = 0;
    if (d->chunk > 0 && k > d->chunk)
      k = d->chunk;
    (void)ftps_session_data_feed(s, p + off, k, &used);
    data_out(d);
    if (used == 0)
      break; /* the core takes no more (closing, or full): the rest is lost */
    off += used;
  }
}

static bool data_client(dconn *d) {
  uint8_t buf[16384];
  bool progress = false;
  if (d->cli == NULL || d->cli_failed)
    return false;
  if (!d->cli_done) {
    int r = tls_client_handshake(d->cli);
    if (r == TLS_CLIENT_DONE) {
      d->cli_done = true;
      fuzz_tls_logf(&d->c->log, " data client: handshake ok (%s)",
                    tls_client_session_reused(d->cli) ? "resumed" : "full");
      progress = true;
    } else if (r == TLS_CLIENT_FAILED) {
      d->cli_failed = true;
      fuzz_tls_logf(&d->c->log, " data client: handshake failed %s", tls_client_reason(d->cli));
      progress = true;
    }
  }
  if (d->cli_done && !d->cli_failed) {
    if (d->upload && !d->upload_sent) {
      d->upload_sent = true;
      if (tls_client_write(d->cli, (const uint8_t *)kUpload, sizeof(kUpload) - 1) != 0 ||
          tls_client_close_notify(d->cli) != 0)
        d->cli_failed = true;
      progress = true;
    }
    size_t got = 0;
    int r = tls_client_read(d->cli, buf, sizeof(buf), &got);
    if (got > 0) {
      (void)ftps_buf_append(&d->got, buf, got);
      progress = true;
    }
    if (r == TLS_CLIENT_FAILED)
      d->cli_failed = true;
  }
  /* What the client wrote, through the attacker. */
  bool moved = false;
  while (tls_client_pending(d->cli) > 0) {
    size_t got = 0;
    if (tls_client_pull(d->cli, buf, sizeof(buf), &got) != 0 || got == 0)
      break;
    (void)fuzz_tls_framer_push(&d->fr[FUZZ_TLS_C2S], buf, got);
    moved = true;
  }
  size_t k = 0;
  while (k < FUZZ_TLS_BATCH_MAX && fuzz_tls_framer_next(&d->fr[FUZZ_TLS_C2S], &d->recs[k]))
    k++;
  if (k > 0) {
    fuzz_tls_writes_reset(&d->c2s_w);
    fuzz_tls_attack_batch(&d->atk, FUZZ_TLS_C2S, d->recs, k, d->fin_sent, &d->c2s_w);
    if (d->cli_done)
      d->fin_sent = true;
    size_t from = 0;
    for (size_t i = 0; i < d->c2s_w.n; i++) {
      if (d->attached)
        data_feed(d, d->c2s_w.bytes.data + from, d->c2s_w.ends[i] - from);
      from = d->c2s_w.ends[i];
    }
  }
  /* One pending server write to the client. */
  if (d->s2c_next < d->s2c_q.n) {
    size_t from = d->s2c_next > 0 ? d->s2c_q.ends[d->s2c_next - 1] : 0;
    size_t to = d->s2c_q.ends[d->s2c_next++];
    if (!d->cli_failed && tls_client_push(d->cli, d->s2c_q.bytes.data + from, to - from) != 0)
      d->cli_failed = true;
    progress = true;
  } else {
    fuzz_tls_writes_reset(&d->s2c_q);
    d->s2c_next = 0;
  }
  return progress || moved;
}

static void data_pump(dconn *d) {
  ctl *c = d->c;
  for (unsigned round = 0;; round++) {
    if (round > DATA_ROUNDS)
      fuzz_findingf("BOUNDED_LOOP", &c->log, "data: no quiet state after %u rounds", DATA_ROUNDS);
    bool progress = false;
    unsigned before = c->rep.n + c->rep.prelim;
    ctl_pump(c);
    if (c->rep.n + c->rep.prelim != before)
      progress = true;
    if (d->attached && !d->closed) {
      size_t n;
      ftps_session_data_output(c->srv.s, &n);
      if (n > 0) {
        data_out(d);
        progress = true;
      }
      if (data_client(d))
        progress = true;
      bool client_finished = d->cli == NULL || d->cli_failed ||
                             (d->upload && d->upload_sent && tls_client_pending(d->cli) == 0);
      if (d->upload && client_finished && !d->eof_sent &&
          (d->cli == NULL || d->s2c_next >= d->s2c_q.n)) {
        d->eof_sent = true;
        ftps_session_data_eof(c->srv.s);
        progress = true;
      } else if (!d->upload && d->cli != NULL && d->cli_failed && !d->eof_sent) {
        /* A client that gave up closes its side. */
        d->eof_sent = true;
        ftps_session_data_eof(c->srv.s);
        progress = true;
      }
    }
    if (c->srv.data_close) {
      /* The server closes once its output is sent. */
      c->srv.data_close = false;
      if (d->attached && !d->closed) {
        data_out(d);
        while (d->cli != NULL && data_client(d)) {
        }
        d->closed = true;
        fuzz_tls_logf(&c->log, " data: closed by the server, client read %zu bytes", d->got.len);
      }
      ftps_session_data_closed(c->srv.s);
      progress = true;
    }
    if (!progress)
      return;
  }
}

/* stored_upload reads /upload/new.txt into |out| (|cap| bytes); returns its
 * length, or -1 if it does not exist. */
static long stored_upload(uint8_t *out, size_t cap) {
  ftps_vfs *vfs = cfg->server.vfs;
  ftps_vfs_file *f = NULL;
  size_t total = 0, n = 0;
  if (vfs->ops->open_read(vfs, "/upload/new.txt", 0, &f) != 0)
    return -1;
  while (total < cap && vfs->ops->read(f, out + total, cap - total, &n) == 0 && n > 0)
    total += n;
  vfs->ops->close(f);
  return (long)total;
}

static void check_transfer(dconn *d, int fin, int op, bool reuse_required) {
  ctl *c = d->c;
  fuzz_tls_effect worst = fuzz_tls_attack_worst(&d->atk, -1, false);
  fuzz_tls_effect app = fuzz_tls_attack_worst(&d->atk, -1, true);
  uint8_t stored[256];
  if (app > worst)
    worst = app;
  if (!d->attached)
    fuzz_finding("SETUP", "the core refused the passive data connection", &c->log);
  if (fin < 0)
    fuzz_finding("TRANSFER", "the transfer got no final reply, even after the client closed "
                 "the data connection", &c->log);
  long up = stored_upload(stored, sizeof(stored));
  if (d->kind == 3) {
    if (fin != 425 && fin != 426)
      fuzz_findingf("PROT_P_DATA_IS_TLS", &c->log,
                    "a data client without TLS under PROT P got %d, not 425/426", fin);
    if (up >= 0)
      fuzz_findingf("PROT_P_DATA_IS_TLS", &c->log,
                    "a data client without TLS under PROT P stored %ld bytes", up);
    return;
  }
  /* Tickets are keyed per control connection (ftps_tls.h). */
  if (d->kind == 2 && d->cli_done && tls_client_session_reused(d->cli))
    fuzz_finding("TLS_REUSE", "a data connection resumed the session of a different control "
                 "connection", &c->log);
  if (d->kind != 0 && reuse_required) {
    if (fin != 522 && fin != 425 && fin != 426)
      fuzz_findingf("TLS_REUSE", &c->log, "a data connection without resumption got %d", fin);
    if (worst <= FUZZ_TLS_BENIGN && fin != 522)
      fuzz_findingf("TLS_REUSE", &c->log,
                    "a data connection without resumption and no tampering got %d, not 522", fin);
    if (d->got.len > 0)
      fuzz_findingf("TLS_REUSE", &c->log,
                    "a data connection without resumption delivered %zu bytes", d->got.len);
    if (up >= 0)
      fuzz_findingf("TLS_REUSE", &c->log,
                    "a data connection without resumption stored %ld bytes", up);
    return;
  }
  /* Resumption, or any session the policy allows: an upload stored is
   * exactly what was sent. */
  if (up >= 0 && ((size_t)up != sizeof(kUpload) - 1 || memcmp(stored, kUpload, (size_t)up) != 0))
    fuzz_findingf("TRANSFER", &c->log, "the stored upload differs from what was sent (%ld bytes)",
                  up);
  if (up >= 0 && fin != 226)
    fuzz_findingf("TRANSFER", &c->log, "the upload was stored yet the reply is %d", fin);
  if (worst > FUZZ_TLS_BENIGN)
    return;
  if (fin != 226)
    fuzz_findingf("TRANSFER", &c->log, "a %s data connection without tampering got %d",
                  d->kind == 0 ? "resumed" : "fresh (require_tls_reuse off)", fin);
  if (op == 0 && (d->got.len != 6 || memcmp(d->got.data, "hello\n", 6) != 0))
    fuzz_findingf("TRANSFER", &c->log, "RETR delivered %zu bytes, not \"hello\\n\"",
                  d->got.len);
  if (op == 1 && up < 0)
    fuzz_finding("TRANSFER", "STOR answered 226 but nothing was stored", &c->log);
  if (op >= 2 && d->got.len == 0)
    fuzz_finding("TRANSFER", "a listing of /pub delivered nothing", &c->log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const xfer[4] = {"RETR /pub/hello.txt", "STOR /upload/new.txt", "LIST /pub",
                                      "NLST /pub"};
  static const size_t chunks[4] = {0, 1, 7, 64};
  static const ftps_addr peer = {4, {127, 0, 0, 1}, 40000};
  static ctl c;
  static dconn d;
  if (size < 1)
    return 0;
  if (cfg == NULL) {
    int argc = 0;
    char **argv = NULL;
    LLVMFuzzerInitialize(&argc, &argv);
  }
  uint8_t flags = data[0];
  int kind = flags & 3, op = (flags >> 3) & 3;
  bool tls12 = flags & 4;
  size_t prog_len = size - 1, whole = prog_len - prog_len % 4;
  uint8_t more = kind != 3 && whole < prog_len ? data[1 + whole] : 0;
  cfg = fuzz_config(); /* a fresh tree: no /upload/new.txt */
  /* Per input, and put back after it: the bench links every harness into
   * one process sharing this configuration. */
  bool reuse_before = cfg->server.policy.require_tls_reuse;
  cfg->server.policy.require_tls_reuse = !(more & 0x01);
  ctl_open(&c, tls12);
  fuzz_tls_logf(&c.log, " fuzz_data_tls: flags 0x%02x 0x%02x (require_tls_reuse %s)", flags,
                more, cfg->server.policy.require_tls_reuse ? "on" : "off");

  memset(&d, 0, sizeof(d));
  d.c = &c;
  d.kind = kind;
  d.upload = op == 1;
  d.chunk = chunks[flags >> 6];
  ftps_buf_init(&d.got, DATA_GOT_MAX);
  fuzz_tls_attack_init(&d.atk, kind == 3 ? NULL : data + 1, kind == 3 ? 0 : whole);
  for (int i = 0; i < 2; i++)
    fuzz_tls_framer_init(&d.fr[i]);
  for (size_t i = 0; i < FUZZ_TLS_BATCH_MAX; i++)
    ftps_buf_init(&d.recs[i], 4 * (FUZZ_TLS_HDR + FUZZ_TLS_RECORD_BODY_MAX));
  fuzz_tls_writes_init(&d.c2s_w);
  fuzz_tls_writes_init(&d.s2c_q);
  if (kind == 0)
    d.cli = fuzz_tls_client_new(tls12, tls_client_session(c.cli));
  else if (kind == 1)
    d.cli = fuzz_tls_client_new(tls12, NULL);
  else if (kind == 2)
    d.cli = fuzz_tls_client_new(tls12, other_session[tls12]);

  unsigned before = c.rep.n;
  if (!(flags & 0x20)) {
    d.attached = ftps_session_data_attach(c.srv.s, &peer) == 0;
    fuzz_tls_log(&c.log, TRANSCRIPT_D, "open", 4);
  }
  if (kind == 3 && d.attached) {
    /* Bytes before the transfer starts are the start of its TLS stream. */
    data_feed(&d, data + 1, size - 1);
  }
  int sent = ctl_cmd(&c, xfer[op]);
  (void)sent;
  if (flags & 0x20) {
    d.attached = ftps_session_data_attach(c.srv.s, &peer) == 0;
    fuzz_tls_log(&c.log, TRANSCRIPT_D, "open", 4);
    if (kind == 3 && d.attached)
      data_feed(&d, data + 1, size - 1);
  }
  if (kind == 3 && d.attached && !d.eof_sent && !d.closed) {
    d.eof_sent = true;
    ftps_session_data_eof(c.srv.s);
  }
  data_pump(&d);

  int fin = c.rep.n > before && before < FUZZ_TLS_CODES_MAX ? c.rep.codes[before] : -1;
  if (fin < 0 && d.attached && !d.closed && !d.eof_sent) {
    /* A client that waits in vain gives up and closes its side. */
    fuzz_tls_logf(&c.log, " data client: gives up, closes the data connection");
    d.eof_sent = true;
    ftps_session_data_eof(c.srv.s);
    data_pump(&d);
    fin = c.rep.n > before && before < FUZZ_TLS_CODES_MAX ? c.rep.codes[before] : -1;
  }
  check_transfer(&d, fin, op, cfg->server.policy.require_tls_reuse);
  int noop = ctl_cmd(&c, "NOOP");
  if (noop != 200 || c.srv.closed || c.srv.failed)
    fuzz_findingf("CONTROL_UNAFFECTED", &c.log,
                  "after the transfer NOOP got %d (control closed %d, TLS failed %d)", noop,
                  c.srv.closed, c.srv.failed);
  fuzz_tls_trace(&c.log);

  ctl_close(&c);
  tls_client_free(d.cli);
  fuzz_tls_attack_cleanup(&d.atk);
  for (int i = 0; i < 2; i++)
    fuzz_tls_framer_cleanup(&d.fr[i]);
  for (size_t i = 0; i < FUZZ_TLS_BATCH_MAX; i++)
    ftps_buf_cleanup(&d.recs[i]);
  fuzz_tls_writes_cleanup(&d.c2s_w);
  fuzz_tls_writes_cleanup(&d.s2c_q);
  ftps_buf_cleanup(&d.got);
  cfg->server.policy.require_tls_reuse = reuse_before;
  return 0;
}
