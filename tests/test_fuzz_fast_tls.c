/* test_fuzz_fast_tls.c - fuzz_fast_tls (harnesses/fuzz_driver.h) makes
 * handshakes abbreviated and leaves what a script sees unchanged:
 *  - a client of tls_client_new() resumes the process's newest session
 *    against the server's shared ticket keys, over TLS 1.2;
 *  - against per-connection keys (a real server) the same offer ends in a
 *    full handshake, still "done";
 *  - a PROT P script gives the same S:/E: lines with full TLS 1.3 handshakes
 *    (sharing off, per-connection keys) and with shared sessions, first and
 *    second time: the data connection resumes the control session, which
 *    the server's require_tls_reuse accepts; the second time the runner's
 *    control connection resumes too (runner_result's handshake counts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "ftps_tls.h"
#include "fuzz_driver.h"
#include "runner.h"
#include "testlib.h"
#include "tls_client.h"

static const char kScript[] =
    "C: AUTH TLS\n"
    "T: handshake\n"
    "C: USER alice\n"
    "C: PASS wonderland\n"
    "C: PBSZ 0\n"
    "C: PROT P\n"
    "C: EPSV\n"
    "D: open\n"
    "C: RETR /pub/hello.txt\n"
    "C: QUIT\n";

/* play runs kScript on the built-in configuration into |out| (S:/E: lines
 * only, as text); |res| gets the runner's handshake counts. */
static void play(char *out, size_t out_len, runner_result *res) {
  transcript script, got;
  char err[256];
  transcript_init(&script);
  transcript_init(&got);
  CHECK(transcript_parse_text(&script, kScript, sizeof(kScript) - 1, "script", err,
                              sizeof(err)) == 0);
  test_config *cfg = fuzz_config();
  CHECK(runner_run(&cfg->server, &script, NULL, &got, res) == RUNNER_OK);
  size_t off = 0;
  out[0] = '\0';
  for (size_t i = 0; i < got.n; i++) {
    const transcript_step *st = &got.steps[i];
    if (st->kind != TRANSCRIPT_S && st->kind != TRANSCRIPT_E)
      continue;
    int n = snprintf(out + off, out_len - off, "%c: %.*s\n", st->kind == TRANSCRIPT_S ? 'S' : 'E',
                     (int)st->len, (const char *)st->data);
    if (n < 0 || (size_t)n >= out_len - off)
      break;
    off += (size_t)n;
  }
  transcript_cleanup(&script);
  transcript_cleanup(&got);
}

/* handshake runs a tls_client_new() client against a server SSL with
 * |keys| and returns whether it finished; *reused, *version as negotiated. */
static bool handshake(ftps_tls_ticket_keys *keys, bool *reused, char *version, size_t vlen) {
  test_config *cfg = fuzz_config();
  BIO *net_in, *net_out;
  SSL *srv = ftps_tls_new_server_ssl(cfg->server.tls_ctx, keys, &net_in, &net_out);
  tls_client *cli = tls_client_new();
  bool done = false;
  if (srv == NULL || cli == NULL)
    goto out;
  for (int round = 0; round < 20 && !done; round++) {
    uint8_t buf[16384];
    size_t n;
    int c = tls_client_handshake(cli);
    while (tls_client_pending(cli) > 0 && tls_client_pull(cli, buf, sizeof(buf), &n) == 0 && n > 0)
      BIO_write(net_in, buf, (int)n);
    int s = SSL_do_handshake(srv);
    int k;
    while ((k = BIO_read(net_out, buf, sizeof(buf))) > 0)
      tls_client_push(cli, buf, (size_t)k);
    done = c == TLS_CLIENT_DONE && s == 1;
    if (c == TLS_CLIENT_FAILED)
      break;
  }
  *reused = tls_client_session_reused(cli);
  snprintf(version, vlen, "%s", tls_client_version(cli));
out:
  tls_client_free(cli);
  SSL_free(srv);
  return done;
}

int main(void) {
  static char full[8192], first[8192], second[8192];
  char version[32];
  bool reused = true;
  unsetenv("FTPSFUZZ_FULL_HANDSHAKES"); /* the switch under test stays on */

  /* Before fuzz_fast_tls: full TLS 1.3 handshakes, per-connection keys. */
  runner_result r_full, r_first, r_second;
  play(full, sizeof(full), &r_full);
  /* control: full; data: resumes the control session (require_tls_reuse) */
  CHECK_EQ_INT(r_full.tls_handshakes, 2);
  CHECK_EQ_INT(r_full.tls_resumed, 1);
  CHECK(strstr(full, "E: handshake ok\n") != NULL);
  CHECK(strstr(full, "E: data tls 7 bytes" /* ASCII: CRLF */) != NULL);
  if (testlib_failures())
    fputs(full, stderr);
  CHECK(fuzz_config()->server.ticket_keys == NULL);

  fuzz_fast_tls();
  const ftps_tls_ticket_keys *shared = fuzz_config()->server.ticket_keys;
  CHECK(shared != NULL);
  play(first, sizeof(first), &r_first);    /* the process's first TLS 1.2 session */
  play(second, sizeof(second), &r_second); /* resumes it */
  CHECK_EQ_INT(r_first.tls_handshakes, 2);
  CHECK_EQ_INT(r_first.tls_resumed, 1);
  /* The runner's own control connection offers the shared session too (it
   * once made its clients with tls_client_new_resume(NULL), and every
   * fuzz_sequence input paid a full handshake: 4,700 execs/s, not 24,000). */
  CHECK_EQ_INT(r_second.tls_handshakes, 2);
  CHECK_EQ_INT(r_second.tls_resumed, 2);
  CHECK_STR(first, full);
  CHECK_STR(second, full);

  if (shared != NULL) {
    ftps_tls_ticket_keys keys = *shared;
    CHECK(handshake(&keys, &reused, version, sizeof(version)));
    CHECK(reused);
    CHECK_STR(version, "TLSv1.2");
  }

  /* A server with its own keys cannot read the ticket: a full handshake. */
  ftps_tls_ticket_keys own;
  CHECK(ftps_tls_ticket_keys_init(&own) == 0);
  CHECK(handshake(&own, &reused, version, sizeof(version)));
  CHECK(!reused);

  /* Sharing off again: nothing offered, TLS 1.3. */
  CHECK(tls_client_share_sessions(false) == 0);
  if (shared != NULL) {
    ftps_tls_ticket_keys same = *shared;
    CHECK(handshake(&same, &reused, version, sizeof(version)));
    CHECK(!reused);
    CHECK_STR(version, "TLSv1.3");
  }
  return testlib_finish();
}
