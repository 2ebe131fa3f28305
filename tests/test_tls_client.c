/* test_tls_client.c - the runner's TLS client against a bare BoringSSL server
 * built here (self-signed P-256 certificate, memory BIOs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/nid.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "testlib.h"
#include "tls_client.h"

static X509 *server_cert;

static int alpn_select(SSL *ssl, const uint8_t **out, uint8_t *out_len, const uint8_t *in,
                       unsigned in_len, void *arg) {
  (void)ssl;
  (void)arg;
  if (in_len == 4 && in[0] == 3 && memcmp(in + 1, "ftp", 3) == 0) {
    *out = in + 1;
    *out_len = 3;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

static SSL_CTX *make_server_ctx(uint16_t max_version) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  EVP_PKEY *pkey = EVP_PKEY_new();
  EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  X509 *x = X509_new();
  if (!ctx || !pkey || !ec || !x || !EC_KEY_generate_key(ec) || !EVP_PKEY_assign_EC_KEY(pkey, ec))
    abort();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const uint8_t *)"localhost", -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_set_pubkey(x, pkey);
  if (!X509_sign(x, pkey, EVP_sha256()) || !SSL_CTX_use_certificate(ctx, x) ||
      !SSL_CTX_use_PrivateKey(ctx, pkey))
    abort();
  SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
  if (max_version != 0)
    SSL_CTX_set_max_proto_version(ctx, max_version);
  EVP_PKEY_free(pkey);
  if (server_cert == NULL)
    server_cert = x;
  else
    X509_free(x);
  return ctx;
}

typedef struct server {
  SSL *ssl;
  BIO *rbio, *wbio;
} server;

static void server_init(server *s, SSL_CTX *ctx) {
  s->ssl = SSL_new(ctx);
  s->rbio = BIO_new(BIO_s_mem());
  s->wbio = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(s->rbio, -1);
  SSL_set_bio(s->ssl, s->rbio, s->wbio);
  SSL_set_accept_state(s->ssl);
}

/* move client -> server and server -> client ciphertext; returns bytes moved */
static size_t shuttle(tls_client *c, server *s) {
  uint8_t buf[4096];
  size_t moved = 0, n;
  while (tls_client_pending(c) > 0) {
    tls_client_pull(c, buf, sizeof(buf), &n);
    BIO_write(s->rbio, buf, (int)n);
    moved += n;
  }
  int r;
  while ((r = BIO_read(s->wbio, buf, sizeof(buf))) > 0) {
    CHECK_EQ_INT(tls_client_push(c, buf, (size_t)r), 0);
    moved += (size_t)r;
  }
  return moved;
}

/* run both handshakes; returns the client's final status */
static int handshake(tls_client *c, server *s) {
  int rc = TLS_CLIENT_WANT;
  for (int i = 0; i < 20; i++) {
    rc = tls_client_handshake(c);
    SSL_do_handshake(s->ssl);
    size_t moved = shuttle(c, s);
    if (rc != TLS_CLIENT_WANT && moved == 0)
      break;
  }
  ERR_clear_error();
  return tls_client_handshake(c);
}

static void test_handshake_and_data(void) {
  SSL_CTX *sctx = make_server_ctx(0);
  server s;
  server_init(&s, sctx);
  tls_client *c = tls_client_new();
  CHECK(c != NULL);
  CHECK(!tls_client_handshake_done(c));
  CHECK_EQ_INT(tls_client_write(c, (const uint8_t *)"x", 1), TLS_CLIENT_FAILED);
  CHECK_EQ_INT(handshake(c, &s), TLS_CLIENT_DONE);
  CHECK(tls_client_handshake_done(c));
  CHECK_STR(tls_client_version(c), "TLSv1.3");
  CHECK_STR(tls_client_alpn(c), "ftp");
  CHECK_STR(tls_client_reason(c), "");
  const char *sni = SSL_get_servername(s.ssl, TLSEXT_NAMETYPE_host_name);
  CHECK(sni != NULL && strcmp(sni, "localhost") == 0);

  /* the recorded peer certificate is the server's */
  size_t cert_len = 0;
  const uint8_t *cert = tls_client_peer_cert(c, &cert_len);
  uint8_t *want = NULL;
  int want_len = i2d_X509(server_cert, &want);
  CHECK(cert != NULL && want_len > 0);
  CHECK_MEM(cert, cert_len, want, (size_t)want_len);
  OPENSSL_free(want);

  /* client -> server */
  CHECK_EQ_INT(tls_client_write(c, (const uint8_t *)"NOOP\r\n", 6), 0);
  shuttle(c, &s);
  char got[64];
  int r = SSL_read(s.ssl, got, sizeof(got));
  CHECK_MEM(got, r > 0 ? (size_t)r : 0, "NOOP\r\n", 6);

  /* server -> client, in two writes */
  SSL_write(s.ssl, "200 ", 4);
  SSL_write(s.ssl, "ok\r\n", 4);
  shuttle(c, &s);
  uint8_t out[64];
  size_t n = 0;
  CHECK_EQ_INT(tls_client_read(c, out, sizeof(out), &n), 0);
  CHECK_MEM(out, n, "200 ok\r\n", 8);
  CHECK_EQ_INT(tls_client_read(c, out, sizeof(out), &n), 0);
  CHECK_EQ_INT(n, 0);

  /* close_notify both ways: the client's reaches the server, the server's
   * answer is reported as CLOSED, and only once both are done */
  CHECK(!tls_client_sent_close_notify(c));
  CHECK_EQ_INT(tls_client_close_notify(c), 0);
  CHECK(tls_client_sent_close_notify(c));
  CHECK_EQ_INT(tls_client_close_notify(c), 0); /* idempotent */
  shuttle(c, &s);
  r = SSL_read(s.ssl, got, sizeof(got));
  CHECK_EQ_INT(SSL_get_error(s.ssl, r), SSL_ERROR_ZERO_RETURN);
  CHECK(!tls_client_peer_closed(c));
  SSL_write(s.ssl, "221 bye\r\n", 9); /* data in flight before the server's close_notify */
  SSL_shutdown(s.ssl);
  shuttle(c, &s);
  CHECK_EQ_INT(tls_client_read(c, out, sizeof(out), &n), 0);
  CHECK_MEM(out, n, "221 bye\r\n", 9);
  CHECK_EQ_INT(tls_client_read(c, out, sizeof(out), &n), TLS_CLIENT_CLOSED);
  CHECK(tls_client_peer_closed(c));
  CHECK_EQ_INT(tls_client_read(c, out, sizeof(out), &n), TLS_CLIENT_CLOSED);
  CHECK_EQ_INT(tls_client_write(c, (const uint8_t *)"x", 1), TLS_CLIENT_FAILED);

  tls_client_free(c);
  SSL_free(s.ssl);
  SSL_CTX_free(sctx);
}

static void test_plaintext_instead_of_server_hello(void) {
  tls_client *c = tls_client_new();
  CHECK_EQ_INT(tls_client_handshake(c), TLS_CLIENT_WANT);
  CHECK(tls_client_pending(c) > 0); /* the ClientHello */
  uint8_t hello[2048];
  size_t n = 0;
  tls_client_pull(c, hello, sizeof(hello), &n);
  CHECK(n > 5 && hello[0] == 0x16);
  CHECK_EQ_INT(tls_client_push(c, (const uint8_t *)"500 OOPS: nope\r\n", 16), 0);
  CHECK_EQ_INT(tls_client_handshake(c), TLS_CLIENT_FAILED);
  CHECK_STR(tls_client_reason(c), "wrong_version_number");
  CHECK_EQ_INT(tls_client_handshake(c), TLS_CLIENT_FAILED); /* sticky */
  CHECK_EQ_INT(ERR_peek_error(), 0);                        /* queue left clean */
  tls_client_free(c);
}

static void test_old_server_refused(void) {
  SSL_CTX *sctx = make_server_ctx(TLS1_1_VERSION);
  SSL_CTX_set_min_proto_version(sctx, TLS1_VERSION);
  server s;
  server_init(&s, sctx);
  tls_client *c = tls_client_new();
  CHECK_EQ_INT(handshake(c, &s), TLS_CLIENT_FAILED);
  /* a single lower-case token, stable across runs */
  const char *reason = tls_client_reason(c);
  CHECK(reason[0] != '\0');
  CHECK(strspn(reason, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(reason));
  printf("old server refused: %s\n", reason);
  tls_client_free(c);
  SSL_free(s.ssl);
  SSL_CTX_free(sctx);
}

/* tls_client_set_versions: a TLS 1.3-only client fails against a TLS 1.2
 * server; bounded at 1.2 it negotiates 1.2 with a 1.3 server; an unknown
 * version is refused and changes nothing. */
static void test_versions(void) {
  SSL_CTX *s12 = make_server_ctx(TLS1_2_VERSION), *s13 = make_server_ctx(0);
  server s;
  server_init(&s, s12);
  tls_client *c = tls_client_new();
  CHECK_EQ_INT(tls_client_set_versions(c, TLS1_3_VERSION, 0), 0);
  CHECK_EQ_INT(handshake(c, &s), TLS_CLIENT_FAILED);
  tls_client_free(c);
  SSL_free(s.ssl);
  server_init(&s, s13);
  c = tls_client_new();
  CHECK_EQ_INT(tls_client_set_versions(c, 0x0999, 0), TLS_CLIENT_FAILED);
  CHECK_EQ_INT(tls_client_set_versions(c, 0, TLS1_2_VERSION), 0);
  CHECK_EQ_INT(handshake(c, &s), TLS_CLIENT_DONE);
  CHECK_STR(tls_client_version(c), "TLSv1.2");
  tls_client_free(c);
  SSL_free(s.ssl);
  SSL_CTX_free(s12);
  SSL_CTX_free(s13);
}

static void test_eof_and_limits(void) {
  tls_client *c = tls_client_new();
  CHECK_EQ_INT(tls_client_handshake(c), TLS_CLIENT_WANT);
  tls_client_set_eof(c);
  CHECK_EQ_INT(tls_client_handshake(c), TLS_CLIENT_FAILED);
  CHECK_STR(tls_client_reason(c), "eof");
  tls_client_free(c);

  c = tls_client_new();
  static uint8_t big[TLS_CLIENT_BUFFER_MAX];
  CHECK_EQ_INT(tls_client_push(c, big, sizeof(big)), 0);
  CHECK_EQ_INT(tls_client_push(c, big, 1), TLS_CLIENT_FAILED);
  CHECK_EQ_INT(tls_client_close_notify(c), TLS_CLIENT_FAILED); /* no handshake yet */
  tls_client_free(c);
  tls_client_free(NULL);
  CHECK(tls_client_ctx() == tls_client_ctx());
}

static void test_reason_string(void) {
  char buf[8];
  ERR_clear_error();
  tls_client_error_reason(buf, sizeof(buf), "fallback_long");
  CHECK_STR(buf, "fallbac");
  OPENSSL_PUT_ERROR(SSL, SSL_R_WRONG_VERSION_NUMBER);
  char buf2[64];
  tls_client_error_reason(buf2, sizeof(buf2), "x");
  CHECK_STR(buf2, "wrong_version_number");
  CHECK_EQ_INT(ERR_peek_error(), 0);
}

int main(void) {
  test_handshake_and_data();
  test_plaintext_instead_of_server_hello();
  test_old_server_refused();
  test_versions();
  test_eof_and_limits();
  test_reason_string();
  X509_free(server_cert);
  return testlib_finish();
}
