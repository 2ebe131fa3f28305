/* ftps_tls.h - building the server's one SSL_CTX.
 *
 * Policy (DESIGN section 2): TLS 1.2 minimum, forward-secret AEAD cipher
 * suites only, renegotiation off (BoringSSL never renegotiates as a server),
 * ALPN "ftp" accepted when offered, session tickets on so PROT P data
 * connections can resume the control connection's session. */
#ifndef FTPS_TLS_H
#define FTPS_TLS_H

#include <openssl/base.h>

/* ftps_tls_server_ctx_new loads a PEM certificate chain and private key.
 * Returns NULL on failure and writes the reason into |err| (|err_len|). */
SSL_CTX *ftps_tls_server_ctx_new(const char *cert_pem_path, const char *key_pem_path,
                                 char *err, size_t err_len);

/* ftps_tls_server_ctx_new_self_signed makes an ephemeral ECDSA P-256 key and
 * a self-signed certificate for |common_name|, valid for one day. For tests,
 * fuzzing and quick starts. Returns NULL on failure. */
SSL_CTX *ftps_tls_server_ctx_new_self_signed(const char *common_name);

/* ftps_tls_error_string writes the oldest queued BoringSSL error (or
 * |fallback|) into |out| and clears the error queue. */
void ftps_tls_error_string(char *out, size_t out_len, const char *fallback);

#endif
