/* ftps_tls.h - building the server's one SSL_CTX.
 *
 * Policy (DESIGN section 2): TLS 1.2 minimum, forward-secret AEAD cipher
 * suites only, renegotiation off (BoringSSL never renegotiates as a server),
 * ALPN "ftp" accepted when offered, session tickets on so PROT P data
 * connections can resume the control connection's session. SNI: any name is
 * accepted and kept (SSL_get_servername); one certificate serves all.
 * Client certificates only after ftps_tls_server_ctx_set_client_ca(). */
#ifndef FTPS_TLS_H
#define FTPS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/base.h>

/* ftps_tls_server_ctx_new loads a PEM certificate chain and private key.
 * Returns NULL on failure and writes the reason into |err| (|err_len|). */
SSL_CTX *ftps_tls_server_ctx_new(const char *cert_pem_path, const char *key_pem_path,
                                 char *err, size_t err_len);

/* ftps_tls_server_ctx_new_self_signed makes an ephemeral ECDSA P-256 key and
 * a self-signed certificate for |common_name|, valid for one day. For tests,
 * fuzzing and quick starts. Returns NULL on failure. */
SSL_CTX *ftps_tls_server_ctx_new_self_signed(const char *common_name);

/* ftps_tls_server_ctx_set_client_ca makes |ctx| ask TLS clients for a
 * certificate (a CertificateRequest naming the CAs) and verify it against
 * the CA certificates in |ca_pem_path| (PEM, one or more), for the
 * "ssl_client" purpose. A certificate that does not verify fails the
 * handshake; with |require| so does a client that sends none
 * (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT), without it such a
 * client proceeds unauthenticated. No CRL or OCSP checking. Call it before
 * the first SSL is made from |ctx|. Returns 0, or FTPS_ERR_INVAL with the
 * reason (naming the file) in |err| (|err_len|); |ctx| is then unchanged. */
int ftps_tls_server_ctx_set_client_ca(SSL_CTX *ctx, const char *ca_pem_path, bool require,
                                      char *err, size_t err_len);

/* FTPS_TLS_IDENTITY_MAX bounds a certificate identity (the user-name
 * length limit). */
#define FTPS_TLS_IDENTITY_MAX 64

/* ftps_tls_peer_identity writes the identity of |ssl|'s peer certificate
 * into |out| (|out_len| bytes, NUL-terminated): the subject's commonName,
 * as UTF-8. Only a certificate that was requested and verified counts
 * (verification on for |ssl|, SSL_get_verify_result is X509_V_OK). The CN
 * was chosen over a SAN e-mail or DNS name because FTP user names are
 * neither, and it is what vsftpd and ProFTPD (TLSUserName CommonName) use.
 * Returns 0, or FTPS_ERR_PERM when there is no verified certificate, or
 * FTPS_ERR_INVAL when its subject has no CN, more than one CN, a CN
 * containing NUL, or one longer than FTPS_TLS_IDENTITY_MAX bytes or than
 * |out_len| - 1; |out| is then "". */
int ftps_tls_peer_identity(const SSL *ssl, char *out, size_t out_len);

/* Session tickets are encrypted with keys private to one control connection,
 * so a PROT P data connection can resume only the session of its own control
 * connection (a ticket from another connection fails to decrypt and forces a
 * full handshake, which require_tls_reuse refuses). The server's stateful
 * session cache is off for the same reason. A server built for fuzzing may
 * pass one set of keys for all connections instead (ftps_server.ticket_keys). */
typedef struct ftps_tls_ticket_keys {
  uint8_t name[16];
  uint8_t aes_key[16];
  uint8_t hmac_key[32];
} ftps_tls_ticket_keys;

/* ftps_tls_ticket_keys_init fills |k| with fresh random keys. Returns 0 or
 * FTPS_ERR_TLS. */
int ftps_tls_ticket_keys_init(ftps_tls_ticket_keys *k);

/* ftps_tls_use_ticket_keys makes |ssl| (from a context built here) issue and
 * accept tickets under |k| only; |k| must outlive |ssl|. Returns 0, or
 * FTPS_ERR_NOMEM (then |ssl| issues no tickets). Every SSL made from these
 * contexts needs keys or SSL_OP_NO_TICKET: one without either fails its
 * handshake when it comes to issue a ticket. */
int ftps_tls_use_ticket_keys(SSL *ssl, ftps_tls_ticket_keys *k);

/* ftps_tls_new_server_ssl makes a server-side SSL from |ctx| on two memory
 * BIOs (|*out_net_in| takes the peer's ciphertext, |*out_net_out| holds
 * ciphertext to send; both owned by the SSL), in accept state, with |keys|
 * for its tickets. Returns NULL on failure (nothing to free). */
SSL *ftps_tls_new_server_ssl(SSL_CTX *ctx, ftps_tls_ticket_keys *keys, BIO **out_net_in,
                             BIO **out_net_out);

/* ftps_tls_error_string writes the oldest queued BoringSSL error (or
 * |fallback|) into |out| and clears the error queue. */
void ftps_tls_error_string(char *out, size_t out_len, const char *fallback);

/* TLS record framing, the one test every reader of a byte stream uses to
 * tell TLS records from plaintext (the session after CCC/REIN, the runner's
 * client after 234, the harnesses' record walkers).
 *
 * A record starts with a 5-byte header (RFC 8446 section 5.1, RFC 5246
 * section 6.2.1): ContentType, legacy_record_version (major byte 3 for SSL
 * 3.0 through TLS 1.3), uint16 length.
 * Content types accepted: change_cipher_spec(20), alert(21), handshake(22)
 * and application_data(23). heartbeat(24) (RFC 6520) is left out: it may be
 * sent only after both ends negotiated the heartbeat extension, which
 * BoringSSL never does (neither our server nor our client), so on these
 * connections a 24 is not a record anyone may send - RFC 8446 section 5:
 * "If a TLS implementation receives an unexpected record type, it MUST
 * terminate the connection with an unexpected_message alert" - and counting
 * it as a record would let a server's stray 0x18 pass the "only records after
 * 234" checks.
 * Length: at most 2^14 + 2048 (RFC 5246 section 6.2.3, TLSCiphertext; TLS
 * 1.3 allows only 2^14 + 256, but a TLS 1.2 peer may send more). */
#define FTPS_TLS_RECORD_HEADER 5u
#define FTPS_TLS_RECORD_BODY_MAX (16384u + 2048u)

/* ftps_tls_record_header_ok: the first min(|n|, FTPS_TLS_RECORD_HEADER)
 * bytes of |p| can begin a TLS record (content type, version major byte,
 * length, as far as they are present). n == 0 is true. */
bool ftps_tls_record_header_ok(const uint8_t *p, size_t n);

#endif
