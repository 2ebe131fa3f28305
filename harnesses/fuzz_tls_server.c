/* fuzz_tls_server.c - the client's byte stream after "234", into the core.
 *
 * Targets: the AUTH TLS upgrade (ftps_cmd_auth, session_start_tls), the
 * handshake loop on memory BIOs (step_handshake, accept_input's bound on
 * buffered ciphertext, drain_tls_output) and the core's handling of every
 * way a handshake can fail: alerts, garbage, truncation, SSLv2 hellos,
 * plaintext FTP after the 234, records split in any way.
 *
 * A scripted client reads the greeting, sends AUTH and gets 234; the rest of
 * the input is what it sends next, in fuzzer-chosen chunks. The server's
 * randomness makes a recorded client flight useless after the ClientHello
 * (Debian's BoringSSL has no deterministic mode), so a handshake can never
 * complete here: the harness targets ClientHello / first-flight parsing and
 * the core's failure handling. Seeds are real ClientHellos
 * (scripts/capture-clienthellos.sh).
 *
 * Input: byte 0 flags, byte 1 chunk seed, then the client's bytes.
 *   bits 0-2  chunk sizes: 0 one write; 1..6 writes of 1 2 3 5 16 512
 *             bytes; 7 sizes 1..256 from a generator seeded by byte 1
 *   bit 3     pipelined: AUTH and the first chunk in one write (the bytes
 *             behind the AUTH line are the start of the TLS stream,
 *             RFC 4217 section 4.1; CVE-2011-1575)
 *   bits 4-5  mechanism: AUTH TLS, AUTH SSL, AUTH TLS-C, auth tls
 *   bits 6-7  unused (ignored)
 * Checks: fuzz_tls.h's, plus
 *   TLS_UPGRADE        the AUTH is answered 234
 *   HANDSHAKE_FORGED   the server never reports TLS_READY (no input can
 *                      finish a handshake without the server's keys)
 *   STABLE_WHEN_IDLE   a session still waiting when the input ends does
 *                      nothing when fed nothing more */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_driver.h"
#include "fuzz_tls.h"

#define INPUT_MAX (1u << 20)

static test_config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  cfg = fuzz_tls_init();
  return 0;
}

/* next_chunk returns the size of the next write (0: everything). */
static size_t next_chunk(unsigned mode, uint8_t *state) {
  static const size_t fixed[7] = {0, 1, 2, 3, 5, 16, 512};
  if (mode < 7)
    return fixed[mode];
  *state = (uint8_t)(*state * 73u + 41u);
  return 1u + (size_t)(*state & 0x3f) * (size_t)((*state >> 6) + 1u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const auth[4] = {"AUTH TLS\r\n", "AUTH SSL\r\n", "AUTH TLS-C\r\n",
                                      "auth tls\r\n"};
  if (size < 2)
    return 0;
  if (cfg == NULL)
    cfg = fuzz_tls_init();
  uint8_t flags = data[0], state = data[1];
  const uint8_t *p = data + 2;
  size_t n = size - 2 > INPUT_MAX ? INPUT_MAX : size - 2;
  const char *cmd = auth[(flags >> 4) & 3];
  size_t cmd_len = strlen(cmd);
  unsigned mode = flags & 7;
  transcript log;
  fuzz_tls_srv v;

  transcript_init(&log);
  fuzz_tls_logf(&log, " fuzz_tls_server: flags 0x%02x, %zu bytes after the AUTH", flags, n);
  fuzz_tls_srv_open(&v, &cfg->server, &log);
  fuzz_tls_log(&log, TRANSCRIPT_C, cmd, cmd_len - 2);
  size_t first = next_chunk(mode, &state);
  if (first == 0 || first > n)
    first = n;
  if (flags & 0x08) {
    /* One write: the AUTH line and the first chunk. */
    uint8_t buf[600];
    memcpy(buf, cmd, cmd_len);
    size_t k = first < sizeof(buf) - cmd_len ? first : sizeof(buf) - cmd_len;
    memcpy(buf + cmd_len, p, k);
    fuzz_tls_log(&log, TRANSCRIPT_R, p, k);
    fuzz_tls_srv_feed(&v, buf, cmd_len + k, 0);
    p += k;
    n -= k;
  } else {
    fuzz_tls_srv_feed(&v, (const uint8_t *)cmd, cmd_len, 0);
  }
  if (!v.after_234 || !v.tls_start)
    fuzz_finding("TLS_UPGRADE", "the AUTH was not answered 234", &log);
  size_t k = (flags & 0x08) ? next_chunk(mode, &state) : first;
  while (n > 0 && !v.closed) {
    if (k == 0 || k > n)
      k = n;
    fuzz_tls_log(&log, TRANSCRIPT_R, p, k);
    fuzz_tls_srv_feed(&v, p, k, 0);
    p += k;
    n -= k;
    k = next_chunk(mode, &state);
  }
  if (v.ready)
    fuzz_finding("HANDSHAKE_FORGED",
                 "the server completed a handshake with a client that holds no keys", &log);
  fuzz_tls_srv_quiet_check(&v);
  fuzz_tls_trace(&log);
  fuzz_tls_srv_close(&v);
  transcript_cleanup(&log);
  return 0;
}
