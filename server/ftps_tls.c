/* ftps_tls.c - the server's SSL_CTX (see ftps_tls.h). */
#include "ftps_tls.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bytestring.h>
#include <openssl/aes.h>
#include <openssl/cipher.h>
#include <openssl/ec_key.h>
#include <openssl/hmac.h>
#include <openssl/mem.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ftps_err.h"

/* TLS 1.2 suites: ECDHE + AEAD only (forward secrecy, no CBC, no RSA key
 * exchange). TLS 1.3 suites are fixed by BoringSSL and all strong. */
static const char kCipherList[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/* ALPN: RFC 7301 lets a server ignore protocols it does not know; we select
 * "ftp" when offered and otherwise proceed without ALPN, since FTPS clients
 * rarely send it and refusing them would break real clients. */
static int select_alpn(SSL *ssl, const uint8_t **out, uint8_t *out_len, const uint8_t *in,
                       unsigned in_len, void *arg) {
  (void)ssl;
  (void)arg;
  CBS list, name;
  CBS_init(&list, in, in_len);
  while (CBS_len(&list) > 0) {
    if (!CBS_get_u8_length_prefixed(&list, &name))
      return SSL_TLSEXT_ERR_NOACK;
    if (CBS_len(&name) == 3 && memcmp(CBS_data(&name), "ftp", 3) == 0) {
      *out = CBS_data(&name);
      *out_len = 3;
      return SSL_TLSEXT_ERR_OK;
    }
  }
  return SSL_TLSEXT_ERR_NOACK;
}

int ftps_tls_ticket_keys_init(ftps_tls_ticket_keys *k) {
  if (!RAND_bytes(k->name, sizeof(k->name)) || !RAND_bytes(k->aes_key, sizeof(k->aes_key)) ||
      !RAND_bytes(k->hmac_key, sizeof(k->hmac_key)))
    return FTPS_ERR_TLS;
  return 0;
}

int ftps_tls_use_ticket_keys(SSL *ssl, ftps_tls_ticket_keys *k) {
  if (SSL_set_app_data(ssl, k))
    return 0;
  SSL_set_options(ssl, SSL_OP_NO_TICKET);
  return FTPS_ERR_NOMEM;
}

SSL *ftps_tls_new_server_ssl(SSL_CTX *ctx, ftps_tls_ticket_keys *keys, BIO **out_net_in,
                             BIO **out_net_out) {
  ERR_clear_error();
  SSL *ssl = SSL_new(ctx);
  BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
  if (!ssl || !in || !out) {
    BIO_free(in);
    BIO_free(out);
    SSL_free(ssl);
    return NULL;
  }
  /* An empty BIO means "wait for more", not end of stream. */
  BIO_set_mem_eof_return(in, -1);
  BIO_set_mem_eof_return(out, -1);
  SSL_set_bio(ssl, in, out);
  SSL_set_accept_state(ssl);
  if (ftps_tls_use_ticket_keys(ssl, keys) != 0) {
    SSL_free(ssl);
    return NULL;
  }
  *out_net_in = in;
  *out_net_out = out;
  return ssl;
}

/* RFC 5077-style ticket protection with the keys of the SSL's own control
 * connection (see ftps_tls.h). Returns 1 to use the keys, 0 for "no ticket /
 * unknown ticket" (a full handshake), -1 on error. */
static int ticket_key_cb(SSL *ssl, uint8_t *key_name, uint8_t *iv, EVP_CIPHER_CTX *cipher_ctx,
                         HMAC_CTX *hmac_ctx, int encrypt) {
  const ftps_tls_ticket_keys *k = SSL_get_app_data(ssl);
  /* BoringSSL treats 0 from an encrypt call as success and goes on with an
   * uninitialised cipher: without keys, issuing a ticket is an error. */
  if (!k)
    return encrypt ? -1 : 0;
  if (encrypt) {
    memcpy(key_name, k->name, sizeof(k->name));
    if (!RAND_bytes(iv, EVP_MAX_IV_LENGTH) ||
        !EVP_EncryptInit_ex(cipher_ctx, EVP_aes_128_cbc(), NULL, k->aes_key, iv) ||
        !HMAC_Init_ex(hmac_ctx, k->hmac_key, sizeof(k->hmac_key), EVP_sha256(), NULL))
      return -1;
    return 1;
  }
  if (CRYPTO_memcmp(key_name, k->name, sizeof(k->name)) != 0)
    return 0;
  if (!EVP_DecryptInit_ex(cipher_ctx, EVP_aes_128_cbc(), NULL, k->aes_key, iv) ||
      !HMAC_Init_ex(hmac_ctx, k->hmac_key, sizeof(k->hmac_key), EVP_sha256(), NULL))
    return -1;
  return 1;
}

static SSL_CTX *base_ctx(void) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  if (!ctx)
    return NULL;
  static const uint8_t kSidCtx[] = "ftpsfuzz";
  if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
      !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
      !SSL_CTX_set_strict_cipher_list(ctx, kCipherList) ||
      !SSL_CTX_set1_curves_list(ctx, "X25519:P-256:P-384") ||
      !SSL_CTX_set_session_id_context(ctx, kSidCtx, sizeof(kSidCtx) - 1)) {
    SSL_CTX_free(ctx);
    return NULL;
  }
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
  /* Resumption only through per-connection tickets (ticket_key_cb): a shared
   * session-ID cache would let one control connection's session serve
   * another's data connection. */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_tlsext_ticket_key_cb(ctx, ticket_key_cb);
  return ctx;
}

void ftps_tls_error_string(char *out, size_t out_len, const char *fallback) {
  uint32_t e = ERR_get_error();
  const char *reason = e ? ERR_reason_error_string(e) : NULL;
  snprintf(out, out_len, "%s", reason ? reason : fallback);
  ERR_clear_error();
}

SSL_CTX *ftps_tls_server_ctx_new(const char *cert_pem_path, const char *key_pem_path, char *err,
                                 size_t err_len) {
  ERR_clear_error();
  SSL_CTX *ctx = base_ctx();
  if (!ctx) {
    snprintf(err, err_len, "cannot create the TLS context");
    return NULL;
  }
  if (!SSL_CTX_use_certificate_chain_file(ctx, cert_pem_path)) {
    char why[128];
    ftps_tls_error_string(why, sizeof(why), "unreadable");
    snprintf(err, err_len, "%s: cannot load the certificate chain (%s)", cert_pem_path, why);
    goto fail;
  }
  if (!SSL_CTX_use_PrivateKey_file(ctx, key_pem_path, SSL_FILETYPE_PEM)) {
    char why[128];
    ftps_tls_error_string(why, sizeof(why), "unreadable");
    snprintf(err, err_len, "%s: cannot load the private key (%s)", key_pem_path, why);
    goto fail;
  }
  if (!SSL_CTX_check_private_key(ctx)) {
    snprintf(err, err_len, "%s: the private key does not match the certificate %s", key_pem_path,
             cert_pem_path);
    goto fail;
  }
  return ctx;
fail:
  ERR_clear_error();
  SSL_CTX_free(ctx);
  return NULL;
}

int ftps_tls_server_ctx_set_client_ca(SSL_CTX *ctx, const char *ca_pem_path, bool require,
                                      char *err, size_t err_len) {
  ERR_clear_error();
  /* The CA names go into the CertificateRequest so a client can pick the
   * right certificate; the same certificates become the trust anchors. */
  STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca_pem_path);
  if (!names) {
    char why[128];
    ftps_tls_error_string(why, sizeof(why), "unreadable");
    snprintf(err, err_len, "%s: expected one or more PEM CA certificates (%s)", ca_pem_path, why);
    return FTPS_ERR_INVAL;
  }
  if (!SSL_CTX_load_verify_locations(ctx, ca_pem_path, NULL)) {
    char why[128];
    ftps_tls_error_string(why, sizeof(why), "unreadable");
    snprintf(err, err_len, "%s: cannot load the CA certificates (%s)", ca_pem_path, why);
    sk_X509_NAME_pop_free(names, X509_NAME_free);
    return FTPS_ERR_INVAL;
  }
  SSL_CTX_set_client_CA_list(ctx, names); /* takes |names| */
  /* BoringSSL verifies a server's peer for the "ssl_client" purpose by
   * default, so a certificate limited to serverAuth is refused. */
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (require ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                     NULL);
  return 0;
}

int ftps_tls_peer_identity(const SSL *ssl, char *out, size_t out_len) {
  int rc = FTPS_ERR_PERM;
  uint8_t *utf8 = NULL;
  X509 *cert = NULL;
  if (out_len > 0)
    out[0] = '\0';
  /* Without SSL_VERIFY_PEER nothing was verified, whatever the result says. */
  if (!ssl || !(SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) ||
      SSL_get_verify_result(ssl) != X509_V_OK)
    goto out;
  cert = SSL_get_peer_certificate(ssl);
  if (!cert)
    goto out;
  rc = FTPS_ERR_INVAL;
  X509_NAME *subject = X509_get_subject_name(cert);
  int idx = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
  /* Exactly one CN: with two, which one is "the" identity is ambiguous. */
  if (idx < 0 || X509_NAME_get_index_by_NID(subject, NID_commonName, idx) >= 0)
    goto out;
  X509_NAME_ENTRY *entry = X509_NAME_get_entry(subject, idx);
  int n = entry ? ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry)) : -1;
  if (n <= 0 || n > FTPS_TLS_IDENTITY_MAX || (size_t)n >= out_len || memchr(utf8, '\0', (size_t)n))
    goto out;
  memcpy(out, utf8, (size_t)n);
  out[n] = '\0';
  rc = 0;
out:
  OPENSSL_free(utf8);
  X509_free(cert);
  ERR_clear_error();
  return rc;
}

static X509 *self_signed_cert(EVP_PKEY *pkey, const char *common_name) {
  X509 *x = X509_new();
  X509_NAME *name = NULL;
  uint8_t serial_bytes[8];
  BIGNUM *serial = NULL;
  if (!x)
    return NULL;
  RAND_bytes(serial_bytes, sizeof(serial_bytes));
  serial_bytes[0] &= 0x7f; /* positive */
  serial = BN_bin2bn(serial_bytes, sizeof(serial_bytes), NULL);
  name = X509_NAME_new();
  if (!serial || !name || !X509_set_version(x, X509_VERSION_3) ||
      !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) ||
      !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
      !X509_gmtime_adj(X509_getm_notAfter(x), 86400) ||
      !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const uint8_t *)common_name, -1, -1,
                                  0) ||
      !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
      !X509_set_pubkey(x, pkey) || !X509_sign(x, pkey, EVP_sha256())) {
    X509_free(x);
    x = NULL;
  }
  X509_NAME_free(name);
  BN_free(serial);
  return x;
}

SSL_CTX *ftps_tls_server_ctx_new_self_signed(const char *common_name) {
  SSL_CTX *ctx = NULL;
  EVP_PKEY *pkey = NULL;
  EC_KEY *ec = NULL;
  X509 *cert = NULL;

  ERR_clear_error();
  ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  pkey = EVP_PKEY_new();
  if (!ec || !pkey || !EC_KEY_generate_key(ec) || !EVP_PKEY_assign_EC_KEY(pkey, ec))
    goto out;
  ec = NULL; /* owned by pkey now */
  cert = self_signed_cert(pkey, common_name);
  if (!cert)
    goto out;
  ctx = base_ctx();
  if (!ctx)
    goto out;
  if (!SSL_CTX_use_certificate(ctx, cert) || !SSL_CTX_use_PrivateKey(ctx, pkey)) {
    SSL_CTX_free(ctx);
    ctx = NULL;
  }
out:
  ERR_clear_error();
  EC_KEY_free(ec);
  EVP_PKEY_free(pkey);
  X509_free(cert);
  return ctx;
}

bool ftps_tls_record_header_ok(const uint8_t *p, size_t n) {
  /* change_cipher_spec(20) .. application_data(23); why not 24: ftps_tls.h */
  if (n >= 1 && (p[0] < 20 || p[0] > 23))
    return false;
  if (n >= 2 && p[1] != 3)
    return false;
  if (n >= FTPS_TLS_RECORD_HEADER && (((size_t)p[3] << 8) | p[4]) > FTPS_TLS_RECORD_BODY_MAX)
    return false;
  return true;
}
