/* bench_session.c - sessions per second through the sans-IO core.
 *
 * Prints, measured side by side in one run on one core:
 *   plain   a plaintext script (greeting, FEAT, SYST, NOOP, USER refused,
 *           QUIT) per session                       goal >= 50,000/s
 *   tls     the TLS flow: AUTH TLS, handshake, USER, PASS, PBSZ, PROT, PWD,
 *           QUIT per session
 *   bare    a bare BoringSSL client/server handshake pair on memory BIOs
 *           with the same two SSL_CTXs
 *   ratio   tls / bare                              goal >= 0.8
 * Usage: bench_session [seconds per measurement, default 2] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>

#include "ftps_session.h"
#include "test_config.h"
#include "tls_client.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void drain(ftps_session *s) {
  size_t n;
  ftps_session_output(s, &n);
  ftps_session_output_consume(s, n);
}

static int plain_session(const ftps_server *srv) {
  static const char in[] = "FEAT\r\nSYST\r\nNOOP\r\nUSER alice\r\nQUIT\r\n";
  ftps_session *s = ftps_session_new(srv, 0);
  if (!s)
    return -1;
  size_t used;
  drain(s);
  ftps_session_feed(s, (const uint8_t *)in, sizeof(in) - 1, &used);
  drain(s);
  int ok = ftps_session_is_closed(s) && used == sizeof(in) - 1;
  ftps_session_free(s);
  return ok ? 0 : -1;
}

/* Moves bytes both ways until neither side has any to send. */
static void pump(ftps_session *s, tls_client *c) {
  uint8_t buf[16384];
  for (int i = 0; i < 64; i++) {
    int moved = 0;
    size_t n, got, used;
    const uint8_t *o = ftps_session_output(s, &n);
    if (n) {
      tls_client_push(c, o, n);
      ftps_session_output_consume(s, n);
      moved = 1;
    }
    if (!tls_client_handshake_done(c))
      tls_client_handshake(c);
    else
      while (tls_client_read(c, buf, sizeof(buf), &got) == 0 && got)
        moved = 1;
    while (tls_client_pending(c)) {
      tls_client_pull(c, buf, sizeof(buf), &got);
      ftps_session_feed(s, buf, got, &used);
      moved = 1;
    }
    if (!moved)
      return;
  }
}

static int tls_session(const ftps_server *srv) {
  static const char login[] = "USER alice\r\nPASS wonderland\r\nPBSZ 0\r\nPROT P\r\nPWD\r\nQUIT\r\n";
  ftps_session *s = ftps_session_new(srv, 0);
  tls_client *c = tls_client_new();
  int rc = -1;
  size_t used;
  if (!s || !c)
    goto out;
  drain(s);
  ftps_session_feed(s, (const uint8_t *)"AUTH TLS\r\n", 10, &used);
  drain(s); /* the 234 */
  pump(s, c);
  if (!tls_client_handshake_done(c))
    goto out;
  tls_client_write(c, (const uint8_t *)login, sizeof(login) - 1);
  pump(s, c);
  rc = ftps_session_is_closed(s) ? 0 : -1;
out:
  tls_client_free(c);
  ftps_session_free(s);
  return rc;
}

/* A bare handshake: the same SSL_CTXs, memory BIO pairs, no FTP. */
static int bare_handshake(SSL_CTX *server_ctx, SSL_CTX *client_ctx) {
  SSL *srv = SSL_new(server_ctx), *cli = SSL_new(client_ctx);
  BIO *s_in = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
  BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
  int rc = -1;
  if (!srv || !cli || !s_in || !s_out || !c_in || !c_out)
    goto out;
  BIO_set_mem_eof_return(s_in, -1);
  BIO_set_mem_eof_return(c_in, -1);
  SSL_set_bio(srv, s_in, s_out);
  SSL_set_bio(cli, c_in, c_out);
  s_in = s_out = c_in = c_out = NULL;
  SSL_set_accept_state(srv);
  SSL_set_options(srv, SSL_OP_NO_TICKET); /* the session core issues tickets with per-connection keys */
  SSL_set_connect_state(cli);
  SSL_set_tlsext_host_name(cli, "localhost");
  uint8_t buf[16384];
  for (int i = 0; i < 16; i++) {
    int cr = SSL_do_handshake(cli);
    int n;
    while ((n = BIO_read(SSL_get_wbio(cli), buf, sizeof(buf))) > 0)
      BIO_write(SSL_get_rbio(srv), buf, n);
    int sr = SSL_do_handshake(srv);
    while ((n = BIO_read(SSL_get_wbio(srv), buf, sizeof(buf))) > 0)
      BIO_write(SSL_get_rbio(cli), buf, n);
    if (cr == 1 && sr == 1) {
      rc = 0;
      break;
    }
  }
out:
  BIO_free(s_in);
  BIO_free(s_out);
  BIO_free(c_in);
  BIO_free(c_out);
  SSL_free(srv);
  SSL_free(cli);
  return rc;
}

typedef int (*bench_fn)(void *arg);

static int run_plain(void *arg) { return plain_session(arg); }
static int run_tls(void *arg) { return tls_session(arg); }
static int run_bare(void *arg) {
  (void)arg;
  return bare_handshake(test_config_tls_ctx(), tls_client_ctx());
}

static double measure(bench_fn fn, void *arg, double seconds, long *out_errors) {
  long n = 0, errors = 0;
  double start = now_s(), elapsed = 0;
  while (elapsed < seconds) {
    for (int i = 0; i < 64; i++)
      errors += fn(arg) != 0;
    n += 64;
    elapsed = now_s() - start;
  }
  *out_errors = errors;
  return (double)n / elapsed;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 2.0;
  if (seconds <= 0)
    seconds = 2.0;
  test_config cfg;
  if (test_config_init(&cfg) != 0) {
    fprintf(stderr, "bench_session: cannot build the test configuration\n");
    return 1;
  }
  long e_plain, e_tls, e_bare;
  /* Interleave short rounds so machine noise hits all three alike. */
  double plain = 0, tls = 0, bare = 0;
  for (int round = 0; round < 3; round++) {
    plain += measure(run_plain, &cfg.server, seconds / 3, &e_plain);
    tls += measure(run_tls, &cfg.server, seconds / 3, &e_tls);
    bare += measure(run_bare, NULL, seconds / 3, &e_bare);
  }
  plain /= 3;
  tls /= 3;
  bare /= 3;
  printf("bench_session (one core, %.1f s per measurement)\n", seconds);
  printf("  plain session      %10.0f sessions/s   goal >= 50000   %s\n", plain,
         plain >= 50000 ? "met" : "NOT met");
  printf("  TLS flow session   %10.0f sessions/s\n", tls);
  printf("  bare TLS handshake %10.0f pairs/s\n", bare);
  printf("  ratio TLS flow / bare handshake  %.2f   goal >= 0.80   %s\n", tls / bare,
         tls / bare >= 0.8 ? "met" : "NOT met");
  if (e_plain || e_tls || e_bare)
    printf("  errors: plain %ld, tls %ld, bare %ld\n", e_plain, e_tls, e_bare);
  test_config_cleanup(&cfg);
  return (e_plain || e_tls || e_bare) ? 1 : 0;
}
