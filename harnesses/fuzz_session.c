/* fuzz_session.c - raw client bytes into one session of the built-in test
 * configuration, in plaintext or after a completed TLS handshake.
 *
 * Targets: ftps_session_new/_feed/_output/_advance and everything behind
 * them: the framer (ftps_linebuf_feed), ftps_cmd_parse, the command table and
 * handlers, the reply writer, the AUTH TLS upgrade on memory BIOs, the users
 * table and the in-memory VFS. The checks are fuzz_conn's (fuzz_conn.h).
 *
 * Input: byte 0 is flags, the rest is what the client sends.
 *   bit 0     AUTH TLS and a real handshake first (driver/tls_client.h); the
 *             rest travels inside TLS
 *   bits 1-3  feed size: 0 all at once, then 1 2 3 7 16 64 512 bytes per
 *             ftps_session_feed (and per TLS record)
 *   bit 4     one client write per line (split after each LF), the session
 *             drained between writes; otherwise one write
 *   bits 5-7  unused (ignored) */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_conn.h"
#include "fuzz_driver.h"

#define FLAG_TLS 0x01u
#define FLAG_PER_LINE 0x10u

/* Builds the process-wide state (configuration, both SSL_CTXs) before the
 * first input, so under AFL++ it happens before the fork server forks and
 * every input covers the same edges for the same bytes (stability). */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fuzz_config();
  if (tls_client_ctx() == NULL) {
    fprintf(stderr, "fuzz_session: cannot build the TLS client context\n");
    abort();
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const size_t chunks[8] = {0, 1, 2, 3, 7, 16, 64, 512};
  if (size == 0)
    return 0;
  uint8_t flags = data[0];
  const uint8_t *p = data + 1;
  size_t n = size - 1;
  test_config *cfg = fuzz_config();
  fuzz_conn c;
  fuzz_conn_open(&c, &cfg->server, chunks[(flags >> 1) & 7],
                 (flags & FLAG_TLS) ? " fuzz_session: inside TLS" : " fuzz_session: plaintext");
  if (flags & FLAG_TLS)
    fuzz_conn_start_tls(&c);
  if (flags & FLAG_PER_LINE) {
    while (n > 0) {
      const uint8_t *lf = memchr(p, '\n', n);
      size_t k = lf != NULL ? (size_t)(lf - p) + 1 : n;
      fuzz_conn_send(&c, p, k);
      p += k;
      n -= k;
    }
  } else if (n > 0) {
    fuzz_conn_send(&c, p, n);
  }
  fuzz_conn_finish(&c);
  return 0;
}
