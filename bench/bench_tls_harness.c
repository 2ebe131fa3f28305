/* bench_tls_harness.c - execs/s of the TLS fuzz harnesses next to the bare
 * BoringSSL rates that bound them, measured by this one binary in one run.
 *
 * Prints (one line each, then the ratios):
 *   bare_handshake     a full TLS 1.3 handshake, BoringSSL client and server
 *                      on memory BIOs, the harnesses' two SSL_CTXs
 *   bare_clienthello   the server side of one ClientHello: SSL_new, the
 *                      hello in, the server's first flight out, SSL_free
 *   bare_rejected      the same with a malformed hello (handshake fails)
 *   tls_server_hello   fuzz_tls_server on that ClientHello    goal >= 0.8 x bare_clienthello
 *   tls_server_reject  fuzz_tls_server on the malformed one   goal >= 100,000/s
 *   tls_mitm_clean     fuzz_tls_mitm, no attack (handshake + 6 commands)
 *   tls_mitm_flip      fuzz_tls_mitm, the ClientHello tampered with
 *   data_tls_resume    fuzz_data_tls, RETR over a resumed data connection
 *                      (two handshakes and a login per input)
 * The harness files are compiled in with their entry points renamed
 * (bench/CMakeLists.txt). Build with the release preset (no sanitizers).
 * usage: bench_tls_harness [seconds per measurement, default 1] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ftps_tls.h"
#include "test_config.h"
#include "tls_client.h"

int bench_tls_server_init(int *argc, char ***argv);
int bench_tls_server_one(const uint8_t *data, size_t size);
int bench_tls_mitm_init(int *argc, char ***argv);
int bench_tls_mitm_one(const uint8_t *data, size_t size);
int bench_data_tls_init(int *argc, char ***argv);
int bench_data_tls_one(const uint8_t *data, size_t size);

static double seconds = 1.0;
static uint8_t hello[4096];
static size_t hello_len;
static const uint8_t kRejected[] = {0x16, 0x03, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef int (*bench_fn)(const void *arg);

/* rate runs |fn| for |seconds| and returns calls per second (0 on failure). */
static double rate(bench_fn fn, const void *arg) {
  double t0 = now_s(), t;
  unsigned long n = 0;
  do {
    for (int i = 0; i < 16; i++, n++)
      if (fn(arg) != 0)
        return 0;
    t = now_s();
  } while (t - t0 < seconds);
  return (double)n / (t - t0);
}

static SSL *server_ssl(ftps_tls_ticket_keys *keys) {
  BIO *in, *out;
  return ftps_tls_new_server_ssl(test_config_tls_ctx(), keys, &in, &out);
}

static int bare_handshake(const void *arg) {
  (void)arg;
  ftps_tls_ticket_keys keys;
  uint8_t buf[16384];
  int rc = -1;
  if (ftps_tls_ticket_keys_init(&keys) != 0)
    return -1;
  SSL *s = server_ssl(&keys);
  tls_client *c = tls_client_new();
  if (s == NULL || c == NULL)
    goto out;
  for (int round = 0; round < 16; round++) {
    int cr = tls_client_handshake(c);
    size_t got;
    while (tls_client_pull(c, buf, sizeof(buf), &got) == 0 && got > 0)
      BIO_write(SSL_get_rbio(s), buf, (int)got);
    int sr = SSL_do_handshake(s);
    int n;
    while ((n = BIO_read(SSL_get_wbio(s), buf, sizeof(buf))) > 0)
      tls_client_push(c, buf, (size_t)n);
    if (cr == TLS_CLIENT_DONE && sr == 1) {
      rc = 0;
      break;
    }
  }
out:
  ERR_clear_error();
  SSL_free(s);
  tls_client_free(c);
  return rc;
}

/* server_first_flight: one ClientHello in, the server's flight out. */
static int server_first_flight(const void *arg) {
  const int reject = *(const int *)arg;
  ftps_tls_ticket_keys keys;
  uint8_t buf[8192];
  if (ftps_tls_ticket_keys_init(&keys) != 0)
    return -1;
  SSL *s = server_ssl(&keys);
  if (s == NULL)
    return -1;
  if (reject)
    BIO_write(SSL_get_rbio(s), kRejected, sizeof(kRejected));
  else
    BIO_write(SSL_get_rbio(s), hello, (int)hello_len);
  int r = SSL_do_handshake(s);
  int err = SSL_get_error(s, r);
  while (BIO_read(SSL_get_wbio(s), buf, sizeof(buf)) > 0) {
  }
  ERR_clear_error();
  SSL_free(s);
  /* A good hello leaves the server waiting; a bad one fails it. */
  return (reject ? r != 1 && err != SSL_ERROR_WANT_READ : err == SSL_ERROR_WANT_READ) ? 0 : -1;
}

typedef struct harness_arg {
  int (*one)(const uint8_t *, size_t);
  const uint8_t *data;
  size_t len;
} harness_arg;

static int harness(const void *arg) {
  const harness_arg *h = arg;
  h->one(h->data, h->len);
  return 0;
}

static int make_hello(void) {
  tls_client *c = tls_client_new();
  size_t got = 0;
  if (c == NULL || tls_client_handshake(c) != TLS_CLIENT_WANT ||
      tls_client_pull(c, hello, sizeof(hello), &got) != 0 || got == 0) {
    tls_client_free(c);
    return -1;
  }
  hello_len = got;
  tls_client_free(c);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1)
    seconds = atof(argv[1]);
  if (seconds <= 0 || seconds > 600) {
    fprintf(stderr, "usage: bench_tls_harness [seconds per measurement, 0 < s <= 600]\n");
    return 2;
  }
  int zero = 0, one = 1;
  int fargc = 0;
  char **fargv = NULL;
  bench_tls_server_init(&fargc, &fargv);
  bench_tls_mitm_init(&fargc, &fargv);
  bench_data_tls_init(&fargc, &fargv);
  if (make_hello() != 0) {
    fprintf(stderr, "bench_tls_harness: cannot make a ClientHello\n");
    return 1;
  }
  static uint8_t server_hello_in[2 + sizeof(hello)], server_reject_in[2 + sizeof(kRejected)];
  memcpy(server_hello_in + 2, hello, hello_len);
  memcpy(server_reject_in + 2, kRejected, sizeof(kRejected));
  static const uint8_t mitm_clean[] = {0x00};
  static const uint8_t mitm_flip[] = {0x00, 0x00, 0x00, 0x30, 0x01};
  static const uint8_t data_resume[] = {0x00};
  harness_arg a_hello = {bench_tls_server_one, server_hello_in, 2 + hello_len};
  harness_arg a_reject = {bench_tls_server_one, server_reject_in, 2 + sizeof(kRejected)};
  harness_arg a_clean = {bench_tls_mitm_one, mitm_clean, sizeof(mitm_clean)};
  harness_arg a_flip = {bench_tls_mitm_one, mitm_flip, sizeof(mitm_flip)};
  harness_arg a_data = {bench_data_tls_one, data_resume, sizeof(data_resume)};

  double hs = rate(bare_handshake, NULL);
  double ch = rate(server_first_flight, &zero);
  double rj = rate(server_first_flight, &one);
  double th = rate(harness, &a_hello);
  double tr = rate(harness, &a_reject);
  double mc = rate(harness, &a_clean);
  double mf = rate(harness, &a_flip);
  double dr = rate(harness, &a_data);
  if (hs == 0 || ch == 0 || rj == 0) {
    fprintf(stderr, "bench_tls_harness: a bare measurement failed\n");
    return 1;
  }
  printf("bare_handshake     %10.0f /s\n", hs);
  printf("bare_clienthello   %10.0f /s   (%zu-byte BoringSSL ClientHello)\n", ch, hello_len);
  printf("bare_rejected      %10.0f /s\n", rj);
  printf("tls_server_hello   %10.0f /s   ratio to bare_clienthello %.2f (goal >= 0.80)\n", th,
         th / ch);
  printf("tls_server_reject  %10.0f /s   ratio to bare_rejected %.2f (goal >= 100000/s)\n", tr,
         tr / rj);
  printf("tls_mitm_clean     %10.0f /s   ratio to bare_handshake %.2f\n", mc, mc / hs);
  printf("tls_mitm_flip      %10.0f /s   ratio to bare_clienthello %.2f\n", mf, mf / ch);
  printf("data_tls_resume    %10.0f /s   ratio to bare_handshake %.2f (2 handshakes)\n", dr,
         dr / hs);
  return 0;
}
