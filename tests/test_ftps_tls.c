/* test_ftps_tls.c - the TLS policy of the server's contexts (server/ftps_tls.h),
 * checked with a BoringSSL client on memory BIOs:
 *   versions (1.0/1.1 refused, 1.2/1.3 accepted), cipher suites (CBC, RSA key
 *   exchange, 3DES refused; ECDHE+AEAD accepted), ALPN "ftp", SNI,
 *   renegotiation refused, tickets bound to one control connection's keys,
 *   no session-ID cache; client certificates against a CA file (off, request,
 *   require) and the certificate identity; and at the session level the
 *   cert_login policy (232 for USER <certificate CN>, 331 otherwise). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/aead.h>
#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ftps_err.h"
#include "ftps_session.h"
#include "ftps_tls.h"
#include "ftps_users.h"
#include "test_config.h"
#include "testlib.h"

/* ---------- a client and a server SSL on memory BIOs ---------- */

typedef struct conn {
  SSL *client, *server;
  BIO *c_rbio, *c_wbio;  /* the client's: ciphertext it reads / it wrote */
  BIO *s_in, *s_out;     /* the server's (owned by |server|) */
} conn;

static void move_bytes(BIO *from, BIO *to) {
  uint8_t buf[4096];
  int n;
  while ((n = BIO_read(from, buf, sizeof(buf))) > 0)
    BIO_write(to, buf, n);
}

static SSL_CTX *client_ctx(uint16_t min_version, uint16_t max_version) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  if (ctx && (!SSL_CTX_set_min_proto_version(ctx, min_version) ||
              !SSL_CTX_set_max_proto_version(ctx, max_version))) {
    SSL_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

static void conn_free(conn *c) {
  SSL_free(c->client);
  SSL_free(c->server);
  memset(c, 0, sizeof(*c));
}

static bool conn_new(conn *c, SSL_CTX *server_ctx, ftps_tls_ticket_keys *keys, SSL_CTX *cctx) {
  memset(c, 0, sizeof(*c));
  c->server = ftps_tls_new_server_ssl(server_ctx, keys, &c->s_in, &c->s_out);
  c->client = SSL_new(cctx);
  c->c_rbio = BIO_new(BIO_s_mem());
  c->c_wbio = BIO_new(BIO_s_mem());
  if (!c->server || !c->client || !c->c_rbio || !c->c_wbio) {
    BIO_free(c->c_rbio);
    BIO_free(c->c_wbio);
    conn_free(c);
    return false;
  }
  BIO_set_mem_eof_return(c->c_rbio, -1);
  BIO_set_mem_eof_return(c->c_wbio, -1);
  SSL_set_bio(c->client, c->c_rbio, c->c_wbio);
  SSL_set_connect_state(c->client);
  return true;
}

/* conn_handshake runs both sides until both finish (true) or one fails. */
static bool conn_handshake(conn *c) {
  for (int i = 0; i < 64; i++) {
    int rc = SSL_do_handshake(c->client);
    int cerr = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(c->client, rc);
    move_bytes(c->c_wbio, c->s_in);
    int rs = SSL_do_handshake(c->server);
    int serr = rs == 1 ? SSL_ERROR_NONE : SSL_get_error(c->server, rs);
    move_bytes(c->s_out, c->c_rbio);
    if (rc == 1 && rs == 1)
      return true;
    if ((cerr != SSL_ERROR_NONE && cerr != SSL_ERROR_WANT_READ) ||
        (serr != SSL_ERROR_NONE && serr != SSL_ERROR_WANT_READ)) {
      ERR_clear_error();
      return false;
    }
  }
  return false;
}

/* try_connect: one handshake of a client from |cctx| against |sctx|. */
static bool try_connect(SSL_CTX *sctx, SSL_CTX *cctx) {
  ftps_tls_ticket_keys keys;
  conn c;
  if (ftps_tls_ticket_keys_init(&keys) != 0 || !conn_new(&c, sctx, &keys, cctx))
    return false;
  bool ok = conn_handshake(&c);
  conn_free(&c);
  return ok;
}

/* ---------- keys and certificates ---------- */

static EVP_PKEY *new_ec_key(void) {
  EVP_PKEY *pkey = EVP_PKEY_new();
  EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  if (!pkey || !ec || !EC_KEY_generate_key(ec) || !EVP_PKEY_assign_EC_KEY(pkey, ec)) {
    EC_KEY_free(ec);
    EVP_PKEY_free(pkey);
    return NULL;
  }
  return pkey;
}

static EVP_PKEY *new_rsa_key(void) {
  EVP_PKEY *pkey = EVP_PKEY_new();
  RSA *rsa = RSA_new();
  BIGNUM *e = BN_new();
  if (!pkey || !rsa || !e || !BN_set_word(e, RSA_F4) || !RSA_generate_key_ex(rsa, 2048, e, NULL) ||
      !EVP_PKEY_assign_RSA(pkey, rsa)) {
    RSA_free(rsa);
    EVP_PKEY_free(pkey);
    pkey = NULL;
  }
  BN_free(e);
  return pkey;
}

/* make_cert: a certificate for |key| whose subject holds the |n_cn| CNs in
 * |cns| (and O=ftpsfuzz test), issued by |issuer| (NULL: self-issued) and
 * signed with |issuer_key|; |is_ca| adds basicConstraints CA:TRUE. */
static X509 *make_cert(EVP_PKEY *key, const char *const *cns, size_t n_cn, X509 *issuer,
                       EVP_PKEY *issuer_key, bool is_ca) {
  X509 *x = X509_new();
  X509_NAME *name = X509_NAME_new();
  BASIC_CONSTRAINTS *bc = NULL;
  uint8_t serial_bytes[8];
  BIGNUM *serial = NULL;
  bool ok = x && name;
  RAND_bytes(serial_bytes, sizeof(serial_bytes));
  serial_bytes[0] &= 0x7f;
  serial = BN_bin2bn(serial_bytes, sizeof(serial_bytes), NULL);
  ok = ok && serial && X509_set_version(x, X509_VERSION_3) &&
       BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) &&
       X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
       X509_gmtime_adj(X509_getm_notAfter(x), 86400) &&
       X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const uint8_t *)"ftpsfuzz test", -1,
                                  -1, 0);
  for (size_t i = 0; ok && i < n_cn; i++)
    ok = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const uint8_t *)cns[i], -1, -1,
                                    0);
  ok = ok && X509_set_subject_name(x, name) &&
       X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) &&
       X509_set_pubkey(x, key);
  if (ok && is_ca) {
    bc = BASIC_CONSTRAINTS_new();
    ok = bc != NULL;
    if (ok) {
      bc->ca = 0xff;
      ok = X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT) == 1;
    }
  }
  ok = ok && X509_sign(x, issuer_key, EVP_sha256());
  BASIC_CONSTRAINTS_free(bc);
  BN_free(serial);
  X509_NAME_free(name);
  if (!ok) {
    X509_free(x);
    return NULL;
  }
  return x;
}

/* A CA, and certificates: alice and mallory (issued by the CA), a rogue
 * "alice" (a look-alike CA, same name, other key), one without a CN, one
 * with two CNs. */
typedef struct pki {
  EVP_PKEY *ca_key, *rogue_key, *key;
  X509 *ca, *rogue_ca, *alice, *mallory, *rogue_alice, *no_cn, *two_cn;
  char ca_path[256];
} pki;

static void pki_free(pki *p) {
  EVP_PKEY_free(p->ca_key);
  EVP_PKEY_free(p->rogue_key);
  EVP_PKEY_free(p->key);
  X509_free(p->ca);
  X509_free(p->rogue_ca);
  X509_free(p->alice);
  X509_free(p->mallory);
  X509_free(p->rogue_alice);
  X509_free(p->no_cn);
  X509_free(p->two_cn);
  if (p->ca_path[0])
    unlink(p->ca_path);
  memset(p, 0, sizeof(*p));
}

/* write_temp writes |len| bytes of |data| into a new temporary file named in |path|. */
static bool write_temp(char *path, size_t path_len, const char *tag, const void *data,
                       size_t len) {
  const char *dir = getenv("TMPDIR");
  snprintf(path, path_len, "%s/test_ftps_tls-%s-XXXXXX", dir && dir[0] ? dir : "/tmp", tag);
  int fd = mkstemp(path);
  if (fd < 0) {
    path[0] = '\0';
    return false;
  }
  bool ok = write(fd, data, len) == (ssize_t)len;
  close(fd);
  return ok;
}

/* pem_file writes |x| (a cert) or |k| (a key) as PEM into a temp file. */
static bool pem_file(char *path, size_t path_len, const char *tag, X509 *x, EVP_PKEY *k) {
  BIO *b = BIO_new(BIO_s_mem());
  const uint8_t *data;
  size_t len;
  bool ok = b && (x ? PEM_write_bio_X509(b, x)
                    : PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)) &&
            BIO_mem_contents(b, &data, &len) && write_temp(path, path_len, tag, data, len);
  BIO_free(b);
  return ok;
}

static bool pki_init(pki *p) {
  memset(p, 0, sizeof(*p));
  static const char *const kCa[] = {"ftpsfuzz test CA"};
  static const char *const kAlice[] = {"alice"};
  static const char *const kMallory[] = {"mallory"};
  static const char *const kTwo[] = {"alice", "bob"};
  p->ca_key = new_ec_key();
  p->rogue_key = new_ec_key();
  p->key = new_ec_key();
  if (!p->ca_key || !p->rogue_key || !p->key)
    return false;
  p->ca = make_cert(p->ca_key, kCa, 1, NULL, p->ca_key, true);
  p->rogue_ca = make_cert(p->rogue_key, kCa, 1, NULL, p->rogue_key, true);
  if (!p->ca || !p->rogue_ca)
    return false;
  p->alice = make_cert(p->key, kAlice, 1, p->ca, p->ca_key, false);
  p->mallory = make_cert(p->key, kMallory, 1, p->ca, p->ca_key, false);
  p->rogue_alice = make_cert(p->key, kAlice, 1, p->rogue_ca, p->rogue_key, false);
  p->no_cn = make_cert(p->key, NULL, 0, p->ca, p->ca_key, false);
  p->two_cn = make_cert(p->key, kTwo, 2, p->ca, p->ca_key, false);
  return p->alice && p->mallory && p->rogue_alice && p->no_cn && p->two_cn &&
         pem_file(p->ca_path, sizeof(p->ca_path), "ca", p->ca, NULL);
}

static bool use_client_cert(SSL *ssl, X509 *cert, EVP_PKEY *key) {
  return SSL_use_certificate(ssl, cert) && SSL_use_PrivateKey(ssl, key);
}

/* ---------- versions and cipher suites ---------- */

static void test_versions(SSL_CTX *sctx) {
  static const struct {
    uint16_t version;
    bool accepted;
  } kCases[] = {
      {TLS1_VERSION, false},
      {TLS1_1_VERSION, false},
      {TLS1_2_VERSION, true},
      {TLS1_3_VERSION, true},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    SSL_CTX *cctx = client_ctx(kCases[i].version, kCases[i].version);
    ftps_tls_ticket_keys keys;
    conn c;
    CHECK(cctx != NULL);
    if (!cctx)
      continue;
    CHECK(ftps_tls_ticket_keys_init(&keys) == 0);
    CHECK(conn_new(&c, sctx, &keys, cctx));
    bool ok = conn_handshake(&c);
    if (ok != kCases[i].accepted)
      fprintf(stderr, "version 0x%04x: handshake %s\n", kCases[i].version,
              ok ? "succeeded" : "failed");
    CHECK(ok == kCases[i].accepted);
    if (ok) {
      CHECK_EQ_INT(SSL_version(c.server), kCases[i].version);
      const SSL_CIPHER *cipher = SSL_get_current_cipher(c.server);
      CHECK(cipher != NULL && SSL_CIPHER_is_aead(cipher));
      if (kCases[i].version == TLS1_2_VERSION)
        CHECK(cipher != NULL && SSL_CIPHER_get_kx_nid(cipher) == NID_kx_ecdhe);
    }
    conn_free(&c);
    SSL_CTX_free(cctx);
  }
}

/* cipher_accepted: a TLS 1.2 client offering only |list|. */
static bool cipher_accepted(SSL_CTX *sctx, const char *list) {
  SSL_CTX *cctx = client_ctx(TLS1_VERSION, TLS1_2_VERSION);
  bool set = cctx && SSL_CTX_set_strict_cipher_list(cctx, list);
  CHECK(set); /* the client must really offer |list| */
  bool ok = set && try_connect(sctx, cctx);
  SSL_CTX_free(cctx);
  ERR_clear_error();
  return ok;
}

static void test_ciphers_ecdsa(SSL_CTX *sctx) {
  CHECK(cipher_accepted(sctx, "ECDHE-ECDSA-AES128-GCM-SHA256"));   /* control */
  CHECK(cipher_accepted(sctx, "ECDHE-ECDSA-CHACHA20-POLY1305"));
  CHECK(!cipher_accepted(sctx, "ECDHE-ECDSA-AES128-SHA"));         /* CBC */
  CHECK(!cipher_accepted(sctx, "ECDHE-ECDSA-AES256-SHA"));         /* CBC */
}

/* An RSA certificate loaded from files (ftps_tls_server_ctx_new), so RSA key
 * exchange and 3DES could be chosen if the cipher list allowed them. */
static void test_ciphers_rsa(void) {
  static const char *const kCn[] = {"localhost"};
  char cert_path[256] = "", key_path[256] = "", other_key_path[256] = "", err[512];
  EVP_PKEY *key = new_rsa_key(), *other = new_ec_key();
  X509 *cert = key ? make_cert(key, kCn, 1, NULL, key, false) : NULL;
  CHECK(cert != NULL && other != NULL);
  if (!cert || !other)
    goto out;
  CHECK(pem_file(cert_path, sizeof(cert_path), "cert", cert, NULL));
  CHECK(pem_file(key_path, sizeof(key_path), "key", NULL, key));
  CHECK(pem_file(other_key_path, sizeof(other_key_path), "okey", NULL, other));

  SSL_CTX *sctx = ftps_tls_server_ctx_new(cert_path, key_path, err, sizeof(err));
  CHECK(sctx != NULL);
  if (sctx) {
    CHECK(cipher_accepted(sctx, "ECDHE-RSA-AES128-GCM-SHA256")); /* control */
    CHECK(cipher_accepted(sctx, "ECDHE-RSA-AES256-GCM-SHA384"));
    CHECK(!cipher_accepted(sctx, "AES128-GCM-SHA256"));     /* RSA key exchange */
    CHECK(!cipher_accepted(sctx, "AES256-GCM-SHA384"));     /* RSA key exchange */
    CHECK(!cipher_accepted(sctx, "ECDHE-RSA-AES128-SHA"));  /* CBC */
    CHECK(!cipher_accepted(sctx, "AES128-SHA"));            /* RSA kx + CBC */
    CHECK(!cipher_accepted(sctx, "DES-CBC3-SHA"));          /* 3DES */
    SSL_CTX_free(sctx);
  }
  /* A key that does not match the certificate is a clear error. */
  err[0] = '\0';
  sctx = ftps_tls_server_ctx_new(cert_path, other_key_path, err, sizeof(err));
  CHECK(sctx == NULL);
  CHECK(strstr(err, other_key_path) != NULL);
  SSL_CTX_free(sctx);
  err[0] = '\0';
  sctx = ftps_tls_server_ctx_new("/nonexistent/cert.pem", key_path, err, sizeof(err));
  CHECK(sctx == NULL);
  CHECK(strstr(err, "/nonexistent/cert.pem") != NULL);
  SSL_CTX_free(sctx);
out:
  if (cert_path[0])
    unlink(cert_path);
  if (key_path[0])
    unlink(key_path);
  if (other_key_path[0])
    unlink(other_key_path);
  X509_free(cert);
  EVP_PKEY_free(key);
  EVP_PKEY_free(other);
}

/* ---------- ALPN and SNI ---------- */

/* alpn_result: handshake with |protos| offered; the protocol selected (as
 * seen by both sides, which must agree) goes into |out|. */
static bool alpn_result(SSL_CTX *sctx, const uint8_t *protos, size_t protos_len, char *out,
                        size_t out_len) {
  SSL_CTX *cctx = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
  ftps_tls_ticket_keys keys;
  conn c;
  bool ok = false;
  out[0] = '\0';
  if (!cctx || ftps_tls_ticket_keys_init(&keys) != 0 || !conn_new(&c, sctx, &keys, cctx))
    goto out;
  CHECK_EQ_INT(SSL_set_alpn_protos(c.client, protos, protos_len), 0);
  ok = conn_handshake(&c);
  if (ok) {
    const uint8_t *sel, *csel;
    unsigned len, clen;
    SSL_get0_alpn_selected(c.server, &sel, &len);
    SSL_get0_alpn_selected(c.client, &csel, &clen);
    CHECK_EQ_INT(clen, len);
    CHECK(len == 0 || (len == clen && memcmp(csel, sel, len) == 0));
    if (len > 0 && len < out_len) {
      memcpy(out, sel, len);
      out[len] = '\0';
    }
  }
  conn_free(&c);
out:
  SSL_CTX_free(cctx);
  return ok;
}

static void test_alpn(SSL_CTX *sctx) {
  char sel[32];
  static const uint8_t kFtp[] = "\x03" "ftp";
  static const uint8_t kMixed[] = "\x02" "h2" "\x03" "ftp" "\x08" "http/1.1";
  static const uint8_t kOthers[] = "\x02" "h2" "\x08" "http/1.1";
  static const uint8_t kLookalike[] = "\x04" "ftps" "\x02" "ft";
  CHECK(alpn_result(sctx, kFtp, sizeof(kFtp) - 1, sel, sizeof(sel)));
  CHECK_STR(sel, "ftp");
  CHECK(alpn_result(sctx, kMixed, sizeof(kMixed) - 1, sel, sizeof(sel)));
  CHECK_STR(sel, "ftp");
  /* Policy: a client offering only other protocols still connects, without
   * ALPN (RFC 7301 section 3.2 would allow no_application_protocol; FTPS
   * clients that send ALPN for other reasons must keep working). */
  CHECK(alpn_result(sctx, kOthers, sizeof(kOthers) - 1, sel, sizeof(sel)));
  CHECK_STR(sel, "");
  CHECK(alpn_result(sctx, kLookalike, sizeof(kLookalike) - 1, sel, sizeof(sel)));
  CHECK_STR(sel, "");
}

static void test_sni(SSL_CTX *sctx) {
  static const char *const kNames[] = {"files.example.org", "localhost", "not-our-name.test"};
  SSL_CTX *cctx = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
  CHECK(cctx != NULL);
  for (size_t i = 0; cctx && i <= sizeof(kNames) / sizeof(kNames[0]); i++) {
    ftps_tls_ticket_keys keys;
    conn c;
    const char *name = i < sizeof(kNames) / sizeof(kNames[0]) ? kNames[i] : NULL;
    CHECK(ftps_tls_ticket_keys_init(&keys) == 0);
    if (!conn_new(&c, sctx, &keys, cctx)) {
      CHECK(0);
      break;
    }
    if (name)
      CHECK(SSL_set_tlsext_host_name(c.client, name));
    CHECK(conn_handshake(&c)); /* any name is accepted */
    const char *got = SSL_get_servername(c.server, TLSEXT_NAMETYPE_host_name);
    if (name)
      CHECK(got != NULL && strcmp(got, name) == 0); /* and recorded */
    else
      CHECK(got == NULL);
    conn_free(&c);
  }
  SSL_CTX_free(cctx);
}

/* ---------- renegotiation ---------- */

/* seal_client_record writes into |out| one TLS 1.2 record of |type| holding
 * |pt|, encrypted as the client would with AES-128-GCM at sequence |seq|
 * (RFC 5288: nonce = client_write_IV[4] || explicit[8]; additional data =
 * seq || type || version || length). A BoringSSL client cannot start a
 * renegotiation itself, so the test plays that client's record layer. */
static size_t seal_client_record(const SSL *client, uint64_t seq, uint8_t type,
                                 const uint8_t *pt, size_t pt_len, uint8_t *out,
                                 size_t out_max) {
  uint8_t kb[40], nonce[12], ad[13];
  EVP_AEAD_CTX aead;
  size_t sealed = 0;
  if (SSL_get_key_block_len(client) != sizeof(kb) ||
      !SSL_generate_key_block(client, kb, sizeof(kb)) || out_max < 13 + pt_len + 16)
    return 0;
  /* key block: client key (16), server key (16), client IV (4), server IV (4);
   * AEAD suites have no MAC keys. */
  if (!EVP_AEAD_CTX_init(&aead, EVP_aead_aes_128_gcm(), kb, 16, EVP_AEAD_DEFAULT_TAG_LENGTH,
                         NULL))
    return 0;
  memcpy(nonce, kb + 32, 4);
  for (int i = 0; i < 8; i++) {
    nonce[4 + i] = (uint8_t)(seq >> (56 - 8 * i));
    ad[i] = nonce[4 + i];
  }
  ad[8] = type;
  ad[9] = 3;
  ad[10] = 3;
  ad[11] = (uint8_t)(pt_len >> 8);
  ad[12] = (uint8_t)pt_len;
  size_t body = 8 + pt_len + 16;
  out[0] = type;
  out[1] = 3;
  out[2] = 3;
  out[3] = (uint8_t)(body >> 8);
  out[4] = (uint8_t)body;
  memcpy(out + 5, nonce + 4, 8);
  int ok = EVP_AEAD_CTX_seal(&aead, out + 13, &sealed, out_max - 13, nonce, sizeof(nonce), pt,
                             pt_len, ad, sizeof(ad));
  EVP_AEAD_CTX_cleanup(&aead);
  return ok ? 13 + sealed : 0;
}

static void test_renegotiation(SSL_CTX *sctx) {
  SSL_CTX *cctx = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);
  ftps_tls_ticket_keys keys;
  conn c;
  uint8_t rec[512], buf[64];
  CHECK(cctx && SSL_CTX_set_strict_cipher_list(cctx, "ECDHE-ECDSA-AES128-GCM-SHA256"));
  CHECK(ftps_tls_ticket_keys_init(&keys) == 0);
  if (!cctx || !conn_new(&c, sctx, &keys, cctx)) {
    CHECK(0);
    SSL_CTX_free(cctx);
    return;
  }
  CHECK(conn_handshake(&c));
  uint64_t seq = SSL_get_write_sequence(c.client);

  /* Control: a record sealed this way is accepted as application data, so
   * the refusal below is about renegotiation, not about the encryption. */
  static const uint8_t kNoop[] = "NOOP\r\n";
  size_t n = seal_client_record(c.client, seq, SSL3_RT_APPLICATION_DATA, kNoop, 6, rec,
                                sizeof(rec));
  CHECK(n > 0);
  BIO_write(c.s_in, rec, (int)n);
  int got = SSL_read(c.server, buf, sizeof(buf));
  CHECK_MEM(buf, got > 0 ? (size_t)got : 0, kNoop, 6);

  /* A ClientHello inside the connection: a renegotiation attempt. */
  uint8_t hello[128];
  CBB cbb, body, sid, suites, comp;
  size_t hello_len = 0;
  uint8_t random[32] = {0};
  bool built = CBB_init_fixed(&cbb, hello, sizeof(hello)) && CBB_add_u8(&cbb, SSL3_MT_CLIENT_HELLO) &&
               CBB_add_u24_length_prefixed(&cbb, &body) && CBB_add_u16(&body, TLS1_2_VERSION) &&
               CBB_add_bytes(&body, random, sizeof(random)) &&
               CBB_add_u8_length_prefixed(&body, &sid) &&
               CBB_add_u16_length_prefixed(&body, &suites) && CBB_add_u16(&suites, 0xc02b) &&
               CBB_add_u8_length_prefixed(&body, &comp) && CBB_add_u8(&comp, 0) &&
               CBB_finish(&cbb, NULL, &hello_len);
  CHECK(built);
  n = seal_client_record(c.client, seq + 1, SSL3_RT_HANDSHAKE, hello, hello_len, rec,
                         sizeof(rec));
  CHECK(n > 0);
  BIO_write(c.s_in, rec, (int)n);
  ERR_clear_error();
  got = SSL_read(c.server, buf, sizeof(buf));
  CHECK(got <= 0);
  CHECK_EQ_INT(SSL_get_error(c.server, got), SSL_ERROR_SSL);
  CHECK_EQ_INT(ERR_GET_REASON(ERR_peek_error()), SSL_R_NO_RENEGOTIATION);
  ERR_clear_error();
  /* The server said so with a fatal alert, and the connection is dead. */
  move_bytes(c.s_out, c.c_rbio);
  got = SSL_read(c.client, buf, sizeof(buf));
  CHECK(got <= 0);
  CHECK_EQ_INT(ERR_GET_REASON(ERR_peek_error()), SSL_R_TLSV1_ALERT_NO_RENEGOTIATION);
  ERR_clear_error();
  CHECK(SSL_write(c.server, "x", 1) <= 0);
  ERR_clear_error();
  conn_free(&c);
  SSL_CTX_free(cctx);
}

/* ---------- tickets ---------- */

static SSL_SESSION *g_new_session;

static int on_new_session(SSL *ssl, SSL_SESSION *session) {
  (void)ssl;
  SSL_SESSION_free(g_new_session);
  g_new_session = session;
  return 1; /* we own it */
}

/* first_session: a full handshake under |keys|; returns the session the
 * client was given (after one byte of application data, so TLS 1.3 tickets
 * have arrived). */
static SSL_SESSION *first_session(SSL_CTX *sctx, SSL_CTX *cctx, ftps_tls_ticket_keys *keys) {
  conn c;
  uint8_t b;
  SSL_SESSION_free(g_new_session);
  g_new_session = NULL;
  if (!conn_new(&c, sctx, keys, cctx))
    return NULL;
  if (conn_handshake(&c) && SSL_write(c.server, "x", 1) == 1) {
    move_bytes(c.s_out, c.c_rbio);
    CHECK_EQ_INT(SSL_read(c.client, &b, 1), 1);
  }
  conn_free(&c);
  SSL_SESSION *s = g_new_session;
  g_new_session = NULL;
  return s;
}

/* resumed: does a client offering |session| resume it under |keys|? */
static bool resumed(SSL_CTX *sctx, SSL_CTX *cctx, ftps_tls_ticket_keys *keys,
                    SSL_SESSION *session) {
  conn c;
  bool reused = false;
  if (!conn_new(&c, sctx, keys, cctx))
    return false;
  SSL_set_session(c.client, session);
  bool ok = conn_handshake(&c);
  CHECK(ok); /* a ticket it cannot use means a full handshake, not a failure */
  if (ok) {
    reused = SSL_session_reused(c.server);
    CHECK_EQ_INT(SSL_session_reused(c.client), reused);
  }
  conn_free(&c);
  return reused;
}

static void test_tickets(SSL_CTX *sctx) {
  CHECK_EQ_INT(SSL_CTX_get_session_cache_mode(sctx), SSL_SESS_CACHE_OFF);
  ftps_tls_ticket_keys a, b;
  CHECK(ftps_tls_ticket_keys_init(&a) == 0 && ftps_tls_ticket_keys_init(&b) == 0);
  const uint16_t versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
  for (size_t i = 0; i < 2; i++) {
    SSL_CTX *cctx = client_ctx(versions[i], versions[i]);
    CHECK(cctx != NULL);
    if (!cctx)
      continue;
    SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_CLIENT);
    SSL_CTX_sess_set_new_cb(cctx, on_new_session);
    SSL_SESSION *s = first_session(sctx, cctx, &a);
    CHECK(s != NULL && SSL_SESSION_has_ticket(s));
    if (s) {
      CHECK(resumed(sctx, cctx, &a, s));   /* same control connection's keys */
      CHECK(!resumed(sctx, cctx, &b, s));  /* another connection's keys: refused */
    }
    SSL_SESSION_free(s);

    /* Without tickets there is nothing to resume: the server keeps no
     * session-ID cache, so it gives a TLS 1.2 client no session ID and the
     * client has no resumable session at all. */
    SSL_CTX_set_options(cctx, SSL_OP_NO_TICKET);
    s = first_session(sctx, cctx, &a);
    if (versions[i] == TLS1_2_VERSION)
      CHECK(s == NULL);
    SSL_SESSION_free(s);
    SSL_CTX_free(cctx);
  }
}

/* ---------- client certificates: the context ---------- */

/* cert_handshake: a TLS |version| client presenting |cert| (or none) to
 * |sctx|; on success the server's view of the identity goes to |id|
 * (|*id_rc| = ftps_tls_peer_identity's result). */
static bool cert_handshake(SSL_CTX *sctx, uint16_t version, X509 *cert, EVP_PKEY *key, char *id,
                           size_t id_len, int *id_rc) {
  SSL_CTX *cctx = client_ctx(version, version);
  ftps_tls_ticket_keys keys;
  conn c;
  bool ok = false;
  *id_rc = 1;
  id[0] = '\0';
  if (!cctx || ftps_tls_ticket_keys_init(&keys) != 0 || !conn_new(&c, sctx, &keys, cctx)) {
    SSL_CTX_free(cctx);
    return false;
  }
  if (cert)
    CHECK(use_client_cert(c.client, cert, key));
  ok = conn_handshake(&c);
  if (ok)
    *id_rc = ftps_tls_peer_identity(c.server, id, id_len);
  conn_free(&c);
  SSL_CTX_free(cctx);
  return ok;
}

static void test_client_ca_ctx(pki *p) {
  char id[FTPS_TLS_IDENTITY_MAX + 1], err[512];
  int rc;
  const uint16_t versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};

  /* Bad CA files are clear errors naming the file. */
  SSL_CTX *sctx = ftps_tls_server_ctx_new_self_signed("localhost");
  CHECK(sctx != NULL);
  if (!sctx)
    return;
  err[0] = '\0';
  CHECK_EQ_INT(ftps_tls_server_ctx_set_client_ca(sctx, "/nonexistent/ca.pem", true, err,
                                                 sizeof(err)),
               FTPS_ERR_INVAL);
  CHECK(strstr(err, "/nonexistent/ca.pem") != NULL);
  char junk_path[256];
  CHECK(write_temp(junk_path, sizeof(junk_path), "junk", "not a certificate\n", 18));
  err[0] = '\0';
  CHECK_EQ_INT(ftps_tls_server_ctx_set_client_ca(sctx, junk_path, true, err, sizeof(err)),
               FTPS_ERR_INVAL);
  CHECK(strstr(err, junk_path) != NULL);
  unlink(junk_path);
  /* ... and leave the context as it was: no certificate requested. */
  CHECK(cert_handshake(sctx, TLS1_3_VERSION, p->alice, p->key, id, sizeof(id), &rc));
  CHECK_EQ_INT(rc, FTPS_ERR_PERM);
  SSL_CTX_free(sctx);

  for (int require = 0; require <= 1; require++) {
    sctx = ftps_tls_server_ctx_new_self_signed("localhost");
    CHECK(sctx != NULL);
    if (!sctx)
      return;
    CHECK_EQ_INT(ftps_tls_server_ctx_set_client_ca(sctx, p->ca_path, require, err, sizeof(err)),
                 0);
    for (size_t v = 0; v < 2; v++) {
      /* A certificate from the CA: accepted, identity = its CN. */
      CHECK(cert_handshake(sctx, versions[v], p->alice, p->key, id, sizeof(id), &rc));
      CHECK_EQ_INT(rc, 0);
      CHECK_STR(id, "alice");
      /* A look-alike that does not verify fails the handshake. */
      CHECK(!cert_handshake(sctx, versions[v], p->rogue_alice, p->key, id, sizeof(id), &rc));
      /* No certificate: fails only under require. */
      bool ok = cert_handshake(sctx, versions[v], NULL, NULL, id, sizeof(id), &rc);
      CHECK(ok == !require);
      if (ok)
        CHECK_EQ_INT(rc, FTPS_ERR_PERM);
      /* Verified, but no usable identity. */
      CHECK(cert_handshake(sctx, versions[v], p->no_cn, p->key, id, sizeof(id), &rc));
      CHECK_EQ_INT(rc, FTPS_ERR_INVAL);
      CHECK_STR(id, "");
      CHECK(cert_handshake(sctx, versions[v], p->two_cn, p->key, id, sizeof(id), &rc));
      CHECK_EQ_INT(rc, FTPS_ERR_INVAL);
    }
    /* An output buffer too small for the name is refused, not truncated. */
    {
      SSL_CTX *cctx = client_ctx(TLS1_3_VERSION, TLS1_3_VERSION);
      ftps_tls_ticket_keys keys;
      conn c;
      char small[6];
      CHECK(cctx && ftps_tls_ticket_keys_init(&keys) == 0 && conn_new(&c, sctx, &keys, cctx));
      if (c.client) {
        CHECK(use_client_cert(c.client, p->alice, p->key));
        CHECK(conn_handshake(&c));
        CHECK_EQ_INT(ftps_tls_peer_identity(c.server, small, 5), FTPS_ERR_INVAL);
        CHECK_STR(small, "");
        CHECK_EQ_INT(ftps_tls_peer_identity(c.server, small, 6), 0); /* "alice" fits */
        CHECK_STR(small, "alice");
        conn_free(&c);
      }
      SSL_CTX_free(cctx);
    }
    SSL_CTX_free(sctx);
  }
}

/* ---------- client certificates: cert_login in the session ---------- */

typedef struct sclient {
  ftps_session *s;
  SSL *ssl;
  BIO *rbio, *wbio;
  char plain[1024]; /* plaintext received before TLS */
  size_t plain_len;
} sclient;

/* sc_pump moves the client's ciphertext into the session and the session's
 * output to the client (or into |plain| before TLS). */
static void sc_pump(sclient *c, bool tls) {
  for (int round = 0; round < 8; round++) {
    uint8_t buf[8192];
    int n;
    while (tls && (n = BIO_read(c->wbio, buf, sizeof(buf))) > 0) {
      size_t off = 0;
      while (off < (size_t)n) {
        size_t used = 0;
        if (ftps_session_feed(c->s, buf + off, (size_t)n - off, &used) != 0 || used == 0)
          break;
        off += used;
      }
    }
    size_t len;
    const uint8_t *out = ftps_session_output(c->s, &len);
    if (len == 0)
      continue;
    if (tls) {
      BIO_write(c->rbio, out, (int)len);
    } else {
      size_t room = sizeof(c->plain) - 1 - c->plain_len;
      size_t take = len < room ? len : room;
      memcpy(c->plain + c->plain_len, out, take);
      c->plain_len += take;
      c->plain[c->plain_len] = '\0';
    }
    ftps_session_output_consume(c->s, len);
  }
}

/* sc_start: greeting, AUTH TLS, handshake with |cert| (or none). */
static bool sc_start(sclient *c, const ftps_server *srv, SSL_CTX *cctx, X509 *cert,
                     EVP_PKEY *key) {
  memset(c, 0, sizeof(*c));
  c->s = ftps_session_new(srv, 0);
  c->ssl = SSL_new(cctx);
  c->rbio = BIO_new(BIO_s_mem());
  c->wbio = BIO_new(BIO_s_mem());
  if (!c->s || !c->ssl || !c->rbio || !c->wbio) {
    BIO_free(c->rbio);
    BIO_free(c->wbio);
    c->rbio = c->wbio = NULL;
    return false;
  }
  BIO_set_mem_eof_return(c->rbio, -1);
  BIO_set_mem_eof_return(c->wbio, -1);
  SSL_set_bio(c->ssl, c->rbio, c->wbio);
  SSL_set_connect_state(c->ssl);
  if (cert && !use_client_cert(c->ssl, cert, key))
    return false;
  sc_pump(c, false);
  size_t used = 0;
  if (ftps_session_feed(c->s, (const uint8_t *)"AUTH TLS\r\n", 10, &used) != 0 || used != 10)
    return false;
  sc_pump(c, false);
  if (!strstr(c->plain, "\r\n234 ")) {
    fprintf(stderr, "sc_start: no 234 in: %s\n", c->plain);
    return false;
  }
  for (int i = 0; i < 32; i++) {
    int r = SSL_do_handshake(c->ssl);
    int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, r);
    sc_pump(c, true);
    if (r == 1)
      break;
    if (e != SSL_ERROR_WANT_READ) {
      char why[128];
      ftps_tls_error_string(why, sizeof(why), "?");
      fprintf(stderr, "sc_start: client handshake failed: %s\n", why);
      return false;
    }
  }
  /* The server finished too (TLS 1.3: it checks the client's certificate
   * after the client is done). */
  ftps_event ev;
  bool ready = false;
  while (ftps_session_next_event(c->s, &ev))
    ready = ready || ev.type == FTPS_EV_TLS_READY;
  return ready && !ftps_session_is_closed(c->s);
}

static void sc_free(sclient *c) {
  ftps_session_free(c->s);
  SSL_free(c->ssl);
  memset(c, 0, sizeof(*c));
}

/* sc_command sends |line| inside TLS and returns the final reply's code
 * (its line in |reply|), or -1. */
static int sc_command(sclient *c, const char *line, char *reply, size_t reply_len) {
  char cmd[128];
  int n = snprintf(cmd, sizeof(cmd), "%s\r\n", line);
  size_t have = 0;
  reply[0] = '\0';
  if (n <= 0 || (size_t)n >= sizeof(cmd) || SSL_write(c->ssl, cmd, n) != n)
    return -1;
  for (int i = 0; i < 16; i++) {
    sc_pump(c, true);
    int got = SSL_read(c->ssl, reply + have, (int)(reply_len - 1 - have));
    if (got > 0) {
      have += (size_t)got;
      reply[have] = '\0';
    }
    /* A final reply line: "NNN " ... CRLF at the start of the last line. */
    if (have >= 6 && reply[have - 2] == '\r' && reply[have - 1] == '\n') {
      const char *last = reply;
      for (const char *p = reply; p < reply + have - 2; p++)
        if (p[0] == '\n')
          last = p + 1;
      if (strlen(last) >= 4 && last[3] == ' ')
        return atoi(last);
    }
    if (have + 1 >= reply_len)
      break;
  }
  return -1;
}

static bool login_event(sclient *c, const char *name) {
  ftps_event ev;
  bool seen = false;
  while (ftps_session_next_event(c->s, &ev))
    seen = seen || (ev.type == FTPS_EV_LOGIN && strcmp(ev.detail, name) == 0);
  return seen;
}

static void test_cert_login(pki *p) {
  test_config cfg;
  char reply[512], err[512];
  sclient c;
  CHECK_EQ_INT(test_config_init(&cfg), 0);
  CHECK_EQ_INT(ftps_users_add(cfg.users, "bob", "builder", 7, 1), 0);
  SSL_CTX *sctx = ftps_tls_server_ctx_new_self_signed("localhost");
  SSL_CTX *sctx_require = ftps_tls_server_ctx_new_self_signed("localhost");
  SSL_CTX *cctx = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
  SSL_CTX *cctx12 = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION);
  CHECK(sctx && sctx_require && cctx && cctx12);
  if (!sctx || !sctx_require || !cctx || !cctx12)
    goto out;
  CHECK_EQ_INT(ftps_tls_server_ctx_set_client_ca(sctx, p->ca_path, false, err, sizeof(err)), 0);
  CHECK_EQ_INT(
      ftps_tls_server_ctx_set_client_ca(sctx_require, p->ca_path, true, err, sizeof(err)), 0);
  cfg.server.tls_ctx = sctx;
  cfg.server.policy.client_cert = FTPS_CLIENT_CERT_REQUEST;
  cfg.server.policy.cert_login = true;

  /* alice's certificate and USER alice: 232, logged in, no PASS. */
  CHECK(sc_start(&c, &cfg.server, cctx, p->alice, p->key));
  CHECK_EQ_INT(sc_command(&c, "USER alice", reply, sizeof(reply)), 232);
  CHECK_STR(reply, "232 User logged in, authorized by security data exchange.\r\n");
  CHECK(login_event(&c, "alice"));
  CHECK_EQ_INT(sc_command(&c, "PWD", reply, sizeof(reply)), 257);
  CHECK_EQ_INT(sc_command(&c, "PASS wonderland", reply, sizeof(reply)), 503);
  /* The certificate speaks for alice only: another known user needs PASS. */
  CHECK_EQ_INT(sc_command(&c, "USER bob", reply, sizeof(reply)), 331);
  CHECK_EQ_INT(sc_command(&c, "PWD", reply, sizeof(reply)), 530);
  CHECK_EQ_INT(sc_command(&c, "PASS builder", reply, sizeof(reply)), 230);
  /* Names are compared exactly. */
  CHECK_EQ_INT(sc_command(&c, "USER ALICE", reply, sizeof(reply)), 331);
  CHECK_EQ_INT(sc_command(&c, "USER alice ", reply, sizeof(reply)), 331);
  CHECK_EQ_INT(sc_command(&c, "USER alice", reply, sizeof(reply)), 232);
  sc_free(&c);

  /* A verified certificate for a name that is not a user: the normal flow. */
  CHECK(sc_start(&c, &cfg.server, cctx, p->mallory, p->key));
  CHECK_EQ_INT(sc_command(&c, "USER mallory", reply, sizeof(reply)), 331);
  CHECK(!login_event(&c, "mallory"));
  sc_free(&c);

  /* No certificate (request mode): USER alice needs her password. */
  CHECK(sc_start(&c, &cfg.server, cctx, NULL, NULL));
  CHECK_EQ_INT(sc_command(&c, "USER alice", reply, sizeof(reply)), 331);
  CHECK_EQ_INT(sc_command(&c, "PASS wonderland", reply, sizeof(reply)), 230);
  sc_free(&c);

  /* A certificate that does not verify: no session at all. */
  CHECK(!sc_start(&c, &cfg.server, cctx, p->rogue_alice, p->key));
  CHECK(c.s && ftps_session_is_closed(c.s));
  sc_free(&c);

  /* TLS 1.2 works the same way. */
  CHECK(sc_start(&c, &cfg.server, cctx12, p->alice, p->key));
  CHECK_EQ_INT(SSL_version(c.ssl), TLS1_2_VERSION);
  CHECK_EQ_INT(sc_command(&c, "USER alice", reply, sizeof(reply)), 232);
  sc_free(&c);

  /* require: a client without a certificate gets no session. */
  cfg.server.tls_ctx = sctx_require;
  cfg.server.policy.client_cert = FTPS_CLIENT_CERT_REQUIRE;
  CHECK(!sc_start(&c, &cfg.server, cctx, NULL, NULL));
  CHECK(c.s && ftps_session_is_closed(c.s));
  sc_free(&c);
  CHECK(sc_start(&c, &cfg.server, cctx, p->alice, p->key));
  CHECK_EQ_INT(sc_command(&c, "USER alice", reply, sizeof(reply)), 232);
  sc_free(&c);

  /* cert_login off: the certificate is verified but never stands in. */
  cfg.server.policy.cert_login = false;
  CHECK(sc_start(&c, &cfg.server, cctx, p->alice, p->key));
  CHECK_EQ_INT(sc_command(&c, "USER alice", reply, sizeof(reply)), 331);
  sc_free(&c);

  /* cert_login on but client_cert recorded as off: off wins. */
  cfg.server.policy.cert_login = true;
  cfg.server.policy.client_cert = FTPS_CLIENT_CERT_OFF;
  CHECK(sc_start(&c, &cfg.server, cctx, p->alice, p->key));
  CHECK_EQ_INT(sc_command(&c, "USER alice", reply, sizeof(reply)), 331);
  sc_free(&c);
out:
  SSL_CTX_free(sctx);
  SSL_CTX_free(sctx_require);
  SSL_CTX_free(cctx);
  SSL_CTX_free(cctx12);
  test_config_cleanup(&cfg);
}

/* The one TLS-record test: content types 20..23 (not heartbeat 24),
 * version major byte 3, a length up to 2^14 + 2048, judged on the bytes
 * present; a real ClientHello passes. */
static void test_record_header(void) {
  static const uint8_t ok[] = {0x16, 0x03, 0x01, 0x48, 0x00};
  CHECK(ftps_tls_record_header_ok(ok, 0));
  for (size_t n = 1; n <= sizeof(ok); n++)
    CHECK(ftps_tls_record_header_ok(ok, n));
  for (unsigned t = 0; t < 256; t++) {
    uint8_t h[5] = {(uint8_t)t, 0x03, 0x03, 0x00, 0x10};
    CHECK_EQ_INT(ftps_tls_record_header_ok(h, 5), t >= 20 && t <= 23);
    CHECK_EQ_INT(ftps_tls_record_header_ok(h, 1), t >= 20 && t <= 23);
  }
  uint8_t v[5] = {0x17, 0x02, 0x03, 0x00, 0x10};
  CHECK(!ftps_tls_record_header_ok(v, 2));
  CHECK(ftps_tls_record_header_ok(v, 1)); /* only the type is present */
  uint8_t len_max[5] = {0x17, 0x03, 0x03, (FTPS_TLS_RECORD_BODY_MAX >> 8) & 0xff,
                        FTPS_TLS_RECORD_BODY_MAX & 0xff};
  CHECK(ftps_tls_record_header_ok(len_max, 5));
  len_max[4]++;
  CHECK(!ftps_tls_record_header_ok(len_max, 5));
  CHECK(ftps_tls_record_header_ok(len_max, 4));
  CHECK(!ftps_tls_record_header_ok((const uint8_t *)"220 ready\r\n", 11));

  SSL_CTX *cctx = SSL_CTX_new(TLS_method());
  SSL *c = cctx != NULL ? SSL_new(cctx) : NULL;
  CHECK(c != NULL);
  if (c != NULL) {
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    SSL_set_bio(c, rb, wb);
    SSL_set_connect_state(c);
    SSL_do_handshake(c);
    const uint8_t *hello;
    size_t hello_len;
    CHECK(BIO_mem_contents(wb, &hello, &hello_len) && hello_len > 5);
    CHECK(ftps_tls_record_header_ok(hello, hello_len));
    SSL_free(c);
  }
  SSL_CTX_free(cctx);
  ERR_clear_error();
}

int main(void) {
  SSL_CTX *sctx = ftps_tls_server_ctx_new_self_signed("localhost");
  CHECK(sctx != NULL);
  if (sctx) {
    test_versions(sctx);
    test_ciphers_ecdsa(sctx);
    test_alpn(sctx);
    test_sni(sctx);
    test_renegotiation(sctx);
    test_tickets(sctx);
  }
  test_ciphers_rsa();
  test_record_header();
  pki p;
  bool pki_ok = pki_init(&p);
  CHECK(pki_ok);
  if (pki_ok) {
    test_client_ca_ctx(&p);
    test_cert_login(&p);
  }
  pki_free(&p);
  SSL_CTX_free(sctx);
  SSL_SESSION_free(g_new_session);
  return testlib_finish();
}
