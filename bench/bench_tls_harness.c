/* bench_tls_harness.c - execs/s of the TLS fuzz harnesses next to the bare
 * BoringSSL rates that bound them, measured by this one binary in one run.
 *
 * Prints what was compared (the ClientHello, the server SSL_CTX and what the
 * server answered on each side), then one line each and the ratios:
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
 *
 * Like for like: the bare ClientHello and tls_server_hello take the same
 * hello bytes (fuzz_tls_server's input is 2 header bytes, then these) into
 * an SSL from the same SSL_CTX; before measuring, one run of each is watched
 * through that SSL_CTX's message callback and must have the server write
 * the same handshake messages under the same version, cipher and group (and
 * the rejected hello the same alert), or the benchmark fails.
 *
 * Rates are calls per CPU second of this process, and the measurements are
 * interleaved in SLICES short slices: on this shared machine (other builds,
 * a fuzz campaign) wall-clock rates taken one after another measure the
 * load of the moment - they put tls_server_hello at 1.38 x the bare
 * ClientHello it contains.
 *
 * The harness files are compiled in with their entry points renamed
 * (bench/CMakeLists.txt). Build with the release preset (no sanitizers).
 * usage: bench_tls_harness [CPU seconds per measurement, default 1] */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include "ftps_tls.h"
#include "fuzz_tls.h"
#include "test_config.h"
#include "tls_client.h"

int bench_tls_server_init(int *argc, char ***argv);
int bench_tls_server_one(const uint8_t *data, size_t size);
int bench_tls_mitm_init(int *argc, char ***argv);
int bench_tls_mitm_one(const uint8_t *data, size_t size);
int bench_data_tls_init(int *argc, char ***argv);
int bench_data_tls_one(const uint8_t *data, size_t size);

#define SLICES 50
#define SERVER_HDR 2 /* fuzz_tls_server: flags 0x00 (AUTH TLS, one write), chunk seed */

static double seconds = 1.0;
static uint8_t hello[4096];
static size_t hello_len;
static const uint8_t kRejected[] = {0x16, 0x03, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef int (*bench_fn)(const void *arg);

typedef struct bench {
  const char *name;
  bench_fn fn;
  const void *arg;
  unsigned long calls;
  double cpu;
} bench;

/* run_interleaved runs every bench for |seconds| of CPU time in total, in
 * SLICES rounds of one slice each, so that all of them see the same
 * conditions. Returns 0, or -1 if a call failed (its name on stderr). */
static int run_interleaved(bench *b, size_t n) {
  for (int round = 0; round < SLICES; round++) {
    for (size_t i = 0; i < n; i++) {
      double t0 = cpu_s(), t;
      do {
        for (int k = 0; k < 16; k++, b[i].calls++)
          if (b[i].fn(b[i].arg) != 0) {
            fprintf(stderr, "bench_tls_harness: %s failed\n", b[i].name);
            return -1;
          }
        t = cpu_s();
      } while (t - t0 < seconds / SLICES);
      b[i].cpu += t - t0;
    }
  }
  return 0;
}

static double rate_of(const bench *b) {
  return b->cpu > 0 ? (double)b->calls / b->cpu : 0;
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

/* --- what the server made of the hello, seen through the SSL_CTX ---------- */

#define VIEW_MSGS 16

typedef struct server_view {
  uint8_t msgs[VIEW_MSGS]; /* types of the handshake messages the server wrote */
  size_t n_msgs;
  uint16_t version, cipher, group; /* once a cipher is chosen */
  bool alert;                      /* the server sent an alert */
} server_view;

static server_view view;

static void watch(int is_write, int version, int content_type, const void *buf, size_t len,
                  SSL *ssl, void *arg) {
  (void)version;
  (void)arg;
  if (!is_write)
    return;
  if (content_type == SSL3_RT_ALERT)
    view.alert = true;
  if (content_type != SSL3_RT_HANDSHAKE || len == 0)
    return;
  if (view.n_msgs < VIEW_MSGS)
    view.msgs[view.n_msgs++] = *(const uint8_t *)buf;
  const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
  if (c == NULL)
    c = SSL_get_pending_cipher(ssl);
  if (c != NULL) {
    view.version = (uint16_t)SSL_version(ssl);
    view.cipher = SSL_CIPHER_get_protocol_id(c);
    view.group = SSL_get_curve_id(ssl);
  }
}

/* watch_one runs |fn| once with the server SSL_CTX's message callback on
 * (BoringSSL copies it into each SSL made while it is set). */
static server_view watch_one(bench_fn fn, const void *arg) {
  SSL_CTX *ctx = test_config_tls_ctx();
  memset(&view, 0, sizeof(view));
  SSL_CTX_set_msg_callback(ctx, watch);
  (void)fn(arg);
  SSL_CTX_set_msg_callback(ctx, NULL);
  return view;
}

static bool same_view(const server_view *a, const server_view *b) {
  return a->n_msgs == b->n_msgs && memcmp(a->msgs, b->msgs, a->n_msgs) == 0 &&
         a->version == b->version && a->cipher == b->cipher && a->group == b->group &&
         a->alert == b->alert;
}

static const char *msg_name(uint8_t type) {
  switch (type) {
  case 2: return "ServerHello";
  case 4: return "NewSessionTicket";
  case 8: return "EncryptedExtensions";
  case 11: return "Certificate";
  case 12: return "ServerKeyExchange";
  case 13: return "CertificateRequest";
  case 14: return "ServerHelloDone";
  case 15: return "CertificateVerify";
  case 20: return "Finished";
  default: return "other";
  }
}

static void print_view(const char *label, const server_view *v) {
  const SSL_CIPHER *c = v->cipher != 0 ? SSL_get_cipher_by_value(v->cipher) : NULL;
  const char *group = v->group != 0 ? SSL_get_curve_name(v->group) : NULL;
  printf("  %-17s server: ", label);
  if (c != NULL)
    printf("%s %s %s, wrote", v->version == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2",
           SSL_CIPHER_get_name(c), group != NULL ? group : "-");
  else
    printf("no cipher, wrote");
  for (size_t i = 0; i < v->n_msgs; i++)
    printf(" %s", msg_name(v->msgs[i]));
  printf("%s%s\n", v->n_msgs == 0 ? " nothing" : "", v->alert ? " + an alert" : "");
}

/* print_setup names the hello and the SSL_CTX both sides use. */
static void print_setup(void) {
  uint8_t md[SHA256_DIGEST_LENGTH];
  SSL_CTX *ctx = test_config_tls_ctx();
  EVP_PKEY *key = SSL_CTX_get0_privatekey(ctx);
  int id = key != NULL ? EVP_PKEY_id(key) : 0;
  SHA256(hello, hello_len, md);
  printf("hello: %zu-byte ClientHello of the built-in BoringSSL client (tls_client_new: "
         "TLS 1.2-1.3, SNI localhost, ALPN ftp), sha256 ",
         hello_len);
  for (int i = 0; i < 8; i++)
    printf("%02x", md[i]);
  printf("...;\n  the same bytes are tls_server_hello's input after its %d-byte header\n",
         SERVER_HDR);
  printf("server SSL_CTX: test_config_tls_ctx() on both sides, %s %d-bit key\n",
         id == EVP_PKEY_EC ? "ECDSA" : id == EVP_PKEY_RSA ? "RSA" : "other",
         key != NULL ? EVP_PKEY_bits(key) : 0);
  printf("rates: calls per CPU second of this process, %d interleaved slices of %.2f s\n",
         SLICES, seconds / SLICES);
}

int main(int argc, char **argv) {
  if (argc > 1)
    seconds = atof(argv[1]);
  if (seconds <= 0 || seconds > 600) {
    fprintf(stderr, "usage: bench_tls_harness [CPU seconds per measurement, 0 < s <= 600]\n");
    return 2;
  }
  int zero = 0, one = 1;
  int fargc = 0;
  char **fargv = NULL;
  bench_tls_server_init(&fargc, &fargv);
  bench_tls_mitm_init(&fargc, &fargv);
  bench_data_tls_init(&fargc, &fargv);
  if (fuzz_tls_init()->server.tls_ctx != test_config_tls_ctx()) {
    fprintf(stderr, "bench_tls_harness: the harnesses' server SSL_CTX is not the bare one\n");
    return 1;
  }
  if (make_hello() != 0) {
    fprintf(stderr, "bench_tls_harness: cannot make a ClientHello\n");
    return 1;
  }
  static uint8_t server_hello_in[SERVER_HDR + sizeof(hello)];
  static uint8_t server_reject_in[SERVER_HDR + sizeof(kRejected)];
  memcpy(server_hello_in + SERVER_HDR, hello, hello_len);
  memcpy(server_reject_in + SERVER_HDR, kRejected, sizeof(kRejected));
  static const uint8_t mitm_clean[] = {0x00};
  static const uint8_t mitm_flip[] = {0x00, 0x00, 0x00, 0x30, 0x01};
  static const uint8_t data_resume[] = {0x00};
  harness_arg a_hello = {bench_tls_server_one, server_hello_in, SERVER_HDR + hello_len};
  harness_arg a_reject = {bench_tls_server_one, server_reject_in, SERVER_HDR + sizeof(kRejected)};
  harness_arg a_clean = {bench_tls_mitm_one, mitm_clean, sizeof(mitm_clean)};
  harness_arg a_flip = {bench_tls_mitm_one, mitm_flip, sizeof(mitm_flip)};
  harness_arg a_data = {bench_data_tls_one, data_resume, sizeof(data_resume)};

  print_setup();
  server_view bare_ok = watch_one(server_first_flight, &zero);
  server_view harn_ok = watch_one(harness, &a_hello);
  server_view bare_bad = watch_one(server_first_flight, &one);
  server_view harn_bad = watch_one(harness, &a_reject);
  print_view("bare_clienthello", &bare_ok);
  print_view("tls_server_hello", &harn_ok);
  print_view("bare_rejected", &bare_bad);
  print_view("tls_server_reject", &harn_bad);
  if (!same_view(&bare_ok, &harn_ok) || bare_ok.alert || bare_ok.n_msgs == 0 ||
      !same_view(&bare_bad, &harn_bad) || !bare_bad.alert) {
    fprintf(stderr, "bench_tls_harness: the harness and the bare server did not do the same "
                    "work on the same hello\n");
    return 1;
  }

  enum { HS, CH, RJ, TH, TR, MC, MF, DR, N };
  bench b[N] = {
      [HS] = {"bare_handshake", bare_handshake, NULL, 0, 0},
      [CH] = {"bare_clienthello", server_first_flight, &zero, 0, 0},
      [RJ] = {"bare_rejected", server_first_flight, &one, 0, 0},
      [TH] = {"tls_server_hello", harness, &a_hello, 0, 0},
      [TR] = {"tls_server_reject", harness, &a_reject, 0, 0},
      [MC] = {"tls_mitm_clean", harness, &a_clean, 0, 0},
      [MF] = {"tls_mitm_flip", harness, &a_flip, 0, 0},
      [DR] = {"data_tls_resume", harness, &a_data, 0, 0},
  };
  if (run_interleaved(b, N) != 0)
    return 1;
  double hs = rate_of(&b[HS]), ch = rate_of(&b[CH]), rj = rate_of(&b[RJ]);
  double th = rate_of(&b[TH]), tr = rate_of(&b[TR]), mc = rate_of(&b[MC]);
  double mf = rate_of(&b[MF]), dr = rate_of(&b[DR]);
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
