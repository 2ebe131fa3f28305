/* fuzz_tls_mitm.c - our server and the built-in BoringSSL client with a
 * fuzzer-programmed attacker in the middle.
 *
 * Targets: the core's TLS paths under an active attacker: the handshake
 * loop (step_handshake) fed records split, merged, reordered, duplicated,
 * dropped or injected; the protected command path (read_tls, the framer
 * behind it) when records are tampered with after the handshake; and the
 * failure handling (TLS_FAILED, close, no plaintext).
 *
 * The client reads the greeting and sends AUTH TLS in plaintext (no attack
 * there); after the 234 both directions pass through the attacker
 * (fuzz_tls_attack.h), which works on whole records, so what it does never
 * depends on ciphertext bytes or on the TLS library's randomness. Each
 * record is its own delivery to the receiver (SPLIT cuts more). After a
 * handshake the client logs in: USER PASS PBSZ PROT PWD QUIT, one command
 * at a time.
 *
 * Input: byte 0 flags, then the attacker's program (fuzz_tls_attack.h).
 *   bit 0     the client offers TLS 1.2 only (else TLS 1.2 and 1.3)
 *   bits 1-3  client->server deliveries fed in pieces of 0 (whole) 1 2 3 7
 *             16 64 512 bytes
 *   bits 4-7  unused (ignored)
 * Checks: fuzz_tls.h's on the server (no plaintext after 234, bounded,
 * events), plus
 *   HANDSHAKE_TAMPER_ACCEPTED  the server reports TLS_READY although bytes
 *                              it had read by then were tampered with
 *                              (client->server), or the client's Finished
 *                              was made after reading tampered server
 *                              bytes (server->client)
 *   HANDSHAKE_BENIGN_FAILED    with only benign operations (split writes,
 *                              plaintext handshake records refragmented or
 *                              coalesced) the handshake must succeed
 *   CONVERSATION_CHANGED       after a handshake, when every change the
 *                              attacker made was benign, the replies are
 *                              exactly 331 230 200 200 257 221
 *   TAMPERED_COMMAND_RUN       the client never reads a reply to a command
 *                              whose record was tampered with (or to any
 *                              command after it)
 *   BOUNDED_LOOP               the exchange settles within MITM_ROUNDS */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_driver.h"
#include "fuzz_tls.h"
#include "fuzz_tls_attack.h"

#define MITM_ROUNDS 2000u

static test_config *cfg;

typedef struct mitm {
  fuzz_tls_srv srv;
  tls_client *cli;
  fuzz_tls_attack atk;
  fuzz_tls_framer fr[2];
  ftps_buf recs[FUZZ_TLS_BATCH_MAX];
  fuzz_tls_writes c2s_w, s2c_q;
  size_t s2c_next;          /* next write of s2c_q to deliver */
  fuzz_tls_replies rep;
  transcript log;
  size_t chunk;
  uint64_t c2s_fed;         /* client->server bytes delivered (emitted offsets) */
  uint64_t s2c_pushed;      /* server->client bytes delivered */
  bool cli_done, cli_failed, ready_seen;
} mitm;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  cfg = fuzz_tls_init();
  return 0;
}

static size_t take_batch(mitm *m, int d) {
  size_t n = 0;
  while (n < FUZZ_TLS_BATCH_MAX && fuzz_tls_framer_next(&m->fr[d], &m->recs[n]))
    n++;
  return n;
}

/* log_batch notes the records of a batch: direction, index, type, length. */
static void log_batch(mitm *m, int d, size_t n) {
  char text[200];
  size_t o = 0;
  unsigned first = m->atk.dir[d].records;
  for (size_t i = 0; i < n && o + 24 < sizeof(text); i++)
    o += (size_t)snprintf(text + o, sizeof(text) - o, " #%u:%02x/%zu", first + (unsigned)i,
                          m->recs[i].data[0], m->recs[i].len);
  text[o] = '\0';
  fuzz_tls_logf(&m->log, " %s records%s", d == FUZZ_TLS_C2S ? "c2s" : "s2c", text);
}

static void check_ready(mitm *m, uint64_t s2c_seen) {
  if (!m->srv.ready || m->ready_seen)
    return;
  m->ready_seen = true;
  const fuzz_tls_dir *c2s = &m->atk.dir[FUZZ_TLS_C2S], *s2c = &m->atk.dir[FUZZ_TLS_S2C];
  if (c2s->first_tamper < m->c2s_fed)
    fuzz_findingf("HANDSHAKE_TAMPER_ACCEPTED", &m->log,
                  "TLS_READY after %llu client bytes, but the attacker changed them from byte "
                  "%llu on",
                  (unsigned long long)m->c2s_fed, (unsigned long long)c2s->first_tamper);
  if (s2c->first_tamper < s2c_seen)
    fuzz_findingf("HANDSHAKE_TAMPER_ACCEPTED", &m->log,
                  "TLS_READY on a client flight made after reading %llu server bytes, tampered "
                  "from byte %llu on",
                  (unsigned long long)s2c_seen, (unsigned long long)s2c->first_tamper);
}

/* c2s moves what the client wrote through the attacker into the server. */
static bool c2s(mitm *m) {
  uint8_t buf[16384];
  bool moved = false;
  while (tls_client_pending(m->cli) > 0) {
    size_t got = 0;
    if (tls_client_pull(m->cli, buf, sizeof(buf), &got) != 0 || got == 0)
      break;
    (void)fuzz_tls_framer_push(&m->fr[FUZZ_TLS_C2S], buf, got);
    moved = true;
  }
  size_t n = take_batch(m, FUZZ_TLS_C2S);
  if (n == 0)
    return moved;
  uint64_t s2c_seen = m->s2c_pushed;
  log_batch(m, FUZZ_TLS_C2S, n);
  fuzz_tls_writes_reset(&m->c2s_w);
  fuzz_tls_attack_batch(&m->atk, FUZZ_TLS_C2S, m->recs, n, m->cli_done && m->srv.ready,
                        &m->c2s_w);
  size_t from = 0;
  for (size_t i = 0; i < m->c2s_w.n; i++) {
    size_t to = m->c2s_w.ends[i];
    for (size_t off = from; off < to;) {
      size_t k = to - off;
      if (m->chunk > 0 && k > m->chunk)
        k = m->chunk;
      fuzz_tls_srv_feed(&m->srv, m->c2s_w.bytes.data + off, k, 0);
      off += k;
      m->c2s_fed += k;
      check_ready(m, s2c_seen);
    }
    from = to;
  }
  return true;
}

/* s2c_frame runs the server's new records through the attacker. */
static bool s2c_frame(mitm *m) {
  ftps_buf *tp = &m->srv.to_peer;
  if (tp->len == 0)
    return false;
  (void)fuzz_tls_framer_push(&m->fr[FUZZ_TLS_S2C], tp->data, tp->len);
  ftps_buf_reset(tp);
  size_t n = take_batch(m, FUZZ_TLS_S2C);
  if (n > 0)
    log_batch(m, FUZZ_TLS_S2C, n);
  if (n > 0)
    fuzz_tls_attack_batch(&m->atk, FUZZ_TLS_S2C, m->recs, n, m->cli_done && m->srv.ready,
                          &m->s2c_q);
  return true;
}

/* s2c_deliver hands the client one pending write. */
static bool s2c_deliver(mitm *m) {
  if (m->s2c_next >= m->s2c_q.n) {
    fuzz_tls_writes_reset(&m->s2c_q);
    m->s2c_next = 0;
    if (m->srv.closed)
      tls_client_set_eof(m->cli);
    return false;
  }
  size_t from = m->s2c_next > 0 ? m->s2c_q.ends[m->s2c_next - 1] : 0;
  size_t to = m->s2c_q.ends[m->s2c_next++];
  if (!m->cli_failed && tls_client_push(m->cli, m->s2c_q.bytes.data + from, to - from) != 0)
    m->cli_failed = true;
  m->s2c_pushed += to - from;
  return true;
}

static bool client_step(mitm *m) {
  if (m->cli_failed)
    return false;
  if (!m->cli_done) {
    int r = tls_client_handshake(m->cli);
    if (r == TLS_CLIENT_DONE) {
      m->cli_done = true;
      fuzz_tls_log_event(&m->log, TRANSCRIPT_EV_HANDSHAKE_OK);
      return true;
    }
    if (r == TLS_CLIENT_FAILED) {
      m->cli_failed = true;
      fuzz_tls_logf(&m->log, " client: handshake failed %s", tls_client_reason(m->cli));
      return true;
    }
    return false;
  }
  unsigned before = m->rep.n;
  if (fuzz_tls_client_read(m->cli, &m->rep, &m->log) == TLS_CLIENT_FAILED) {
    m->cli_failed = true;
    fuzz_tls_logf(&m->log, " client: tls error %s", tls_client_reason(m->cli));
    return true;
  }
  return m->rep.n != before;
}

static void pump(mitm *m) {
  for (unsigned round = 0;; round++) {
    if (round > MITM_ROUNDS)
      fuzz_findingf("BOUNDED_LOOP", &m->log, "no quiet state after %u rounds", MITM_ROUNDS);
    bool progress = client_step(m);
    if (c2s(m))
      progress = true;
    if (s2c_frame(m))
      progress = true;
    if (s2c_deliver(m))
      progress = true;
    if (!progress)
      return;
  }
}

static void converse(mitm *m) {
  static const char *const cmds[] = {"USER alice", "PASS wonderland", "PBSZ 0",
                                     "PROT P",     "PWD",             "QUIT"};
  static const int codes[] = {331, 230, 200, 200, 257, 221};
  unsigned base = m->rep.n, intact = 0;
  bool all_intact = true;
  for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++) {
    if (m->srv.closed || m->cli_failed)
      return;
    uint8_t line[32];
    size_t len = strlen(cmds[k]);
    memcpy(line, cmds[k], len);
    memcpy(line + len, "\r\n", 2);
    fuzz_tls_log(&m->log, TRANSCRIPT_C, cmds[k], len);
    if (tls_client_write(m->cli, line, len + 2) != 0)
      return;
    /* The command's record goes through the attacker first, alone. */
    unsigned records = m->atk.dir[FUZZ_TLS_C2S].records;
    (void)c2s(m);
    const fuzz_tls_dir *d = &m->atk.dir[FUZZ_TLS_C2S];
    if (d->records == records + 1 && all_intact && d->last_start + d->last_len <= d->first_tamper)
      intact++;
    else
      all_intact = false;
    pump(m);
    unsigned got = m->rep.n - base;
    /* Exact replies only when nothing but benign changes happened at all:
     * a doubtful change during the handshake (a stray byte left behind
     * the client Finished) may still break the protected stream later. */
    if (fuzz_tls_attack_worst(&m->atk, -1, true) <= FUZZ_TLS_BENIGN &&
        fuzz_tls_attack_worst(&m->atk, -1, false) <= FUZZ_TLS_BENIGN &&
        (got != k + 1 || m->rep.codes[base + k] != codes[k]))
      fuzz_findingf("CONVERSATION_CHANGED", &m->log,
                    "after \"%s\" the client read %u replies (last %d), expected %zu (last %d), "
                    "and every change was benign",
                    cmds[k], got, got > 0 && base + got - 1 < FUZZ_TLS_CODES_MAX
                                       ? m->rep.codes[base + got - 1] : -1,
                    k + 1, codes[k]);
    if (got > intact)
      fuzz_findingf("TAMPERED_COMMAND_RUN", &m->log,
                    "the client read %u replies but only %u commands reached the server "
                    "untampered",
                    got, intact);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const size_t chunks[8] = {0, 1, 2, 3, 7, 16, 64, 512};
  static mitm m;
  if (size < 1)
    return 0;
  if (cfg == NULL)
    cfg = fuzz_tls_init();
  uint8_t flags = data[0];
  memset(&m, 0, sizeof(m));
  m.chunk = chunks[(flags >> 1) & 7];
  transcript_init(&m.log);
  fuzz_tls_logf(&m.log, " fuzz_tls_mitm: flags 0x%02x, %zu operations", flags, (size - 1) / 4);
  fuzz_tls_attack_init(&m.atk, data + 1, size - 1);
  for (int d = 0; d < 2; d++)
    fuzz_tls_framer_init(&m.fr[d]);
  for (size_t i = 0; i < FUZZ_TLS_BATCH_MAX; i++)
    ftps_buf_init(&m.recs[i], 4 * (FUZZ_TLS_HDR + FUZZ_TLS_RECORD_BODY_MAX));
  fuzz_tls_writes_init(&m.c2s_w);
  fuzz_tls_writes_init(&m.s2c_q);
  fuzz_tls_replies_init(&m.rep);

  fuzz_tls_srv_open(&m.srv, &cfg->server, &m.log);
  fuzz_tls_log(&m.log, TRANSCRIPT_C, "AUTH TLS", 8);
  fuzz_tls_srv_feed(&m.srv, (const uint8_t *)"AUTH TLS\r\n", 10, 0);
  if (!m.srv.after_234)
    fuzz_finding("TLS_UPGRADE", "AUTH TLS was not answered 234", &m.log);
  m.cli = fuzz_tls_client_new(flags & 1, NULL);
  fuzz_tls_log(&m.log, TRANSCRIPT_T, "handshake", 9);
  pump(&m);
  if (fuzz_tls_attack_worst(&m.atk, -1, false) <= FUZZ_TLS_BENIGN &&
      (!m.cli_done || !m.srv.ready))
    fuzz_findingf("HANDSHAKE_BENIGN_FAILED", &m.log,
                  "only benign operations, yet the handshake did not complete (client %s%s, "
                  "server %s%s)",
                  m.cli_done ? "done" : "not done ", tls_client_reason(m.cli),
                  m.srv.ready ? "ready" : "not ready ", m.srv.fail_why);
  if (m.cli_done && m.srv.ready)
    converse(&m);
  fuzz_tls_trace(&m.log);
  fuzz_tls_srv_close(&m.srv);
  tls_client_free(m.cli);
  fuzz_tls_attack_cleanup(&m.atk);
  for (int d = 0; d < 2; d++)
    fuzz_tls_framer_cleanup(&m.fr[d]);
  for (size_t i = 0; i < FUZZ_TLS_BATCH_MAX; i++)
    ftps_buf_cleanup(&m.recs[i]);
  fuzz_tls_writes_cleanup(&m.c2s_w);
  fuzz_tls_writes_cleanup(&m.s2c_q);
  fuzz_tls_replies_cleanup(&m.rep);
  transcript_cleanup(&m.log);
  return 0;
}
