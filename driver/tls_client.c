/* tls_client.c - BoringSSL client on memory BIOs for the runner. */
#include "tls_client.h"

#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

struct tls_client {
  SSL *ssl;
  BIO *rbio;            /* ciphertext from the server, read by SSL */
  BIO *wbio;            /* ciphertext written by SSL, for the server */
  bool done;
  bool failed;
  bool sent_close_notify;
  bool peer_closed;
  char reason[64];
  SSL_SESSION *session; /* newest session from the server (owned), or NULL */
  uint8_t *cert;        /* DER of the server's leaf certificate */
  size_t cert_len;
  char alpn[32];
};

static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static SSL_CTX *client_ctx;

/* new_session keeps the newest session of the client that received it. It
 * returns 1: the reference BoringSSL passed in is now ours. */
static int new_session(SSL *ssl, SSL_SESSION *session) {
  /* App data, not a registered ex_data index: with no index registered,
   * BoringSSL's SSL_free never allocates (and so never leaks on OOM). */
  tls_client *c = SSL_get_app_data(ssl);
  if (c == NULL || !SSL_SESSION_is_resumable(session))
    return 0; /* not taken: BoringSSL drops its reference */
  SSL_SESSION_free(c->session);
  c->session = session;
  return 1;
}

static void ctx_build(void) {
  /* ALPN wire format: length-prefixed protocol names. */
  static const uint8_t alpn[] = {3, 'f', 't', 'p'};
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  if (ctx == NULL)
    return;
  if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
      SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn)) != 0) {
    SSL_CTX_free(ctx);
    return;
  }
  /* The test server's certificate is self-signed: no verification. The leaf
   * is recorded after the handshake for whoever wants to look at it. */
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  /* Sessions are kept per client (new_session), never in a shared store:
   * a data connection resumes its own control connection's session. */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
  SSL_CTX_sess_set_new_cb(ctx, new_session);
  client_ctx = ctx;
}

SSL_CTX *tls_client_ctx(void) {
  pthread_once(&ctx_once, ctx_build);
  return client_ctx;
}

/* --- sessions shared across connections (tls_client_share_sessions) --- */

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static bool shared_on;              /* under shared_lock */
static SSL_SESSION *shared_session; /* newest session of any client (owned), under shared_lock */

static void shared_free(void) {
  pthread_mutex_lock(&shared_lock);
  SSL_SESSION_free(shared_session);
  shared_session = NULL;
  pthread_mutex_unlock(&shared_lock);
}

static void shared_free_at_exit(void) {
  atexit(shared_free);
}

int tls_client_share_sessions(bool on) {
  static pthread_once_t free_once = PTHREAD_ONCE_INIT;
  SSL_CTX *ctx = tls_client_ctx();
  if (ctx == NULL)
    return TLS_CLIENT_FAILED;
  /* TLS 1.2: its resumption needs no key exchange and no signature; TLS 1.3
   * resumes with an ECDHE (psk_dhe_ke, BoringSSL offers nothing else). */
  if (!SSL_CTX_set_max_proto_version(ctx, on ? TLS1_2_VERSION : 0))
    return TLS_CLIENT_FAILED;
  /* Freed at exit so LeakSanitizer and valgrind see a clean process. */
  pthread_once(&free_once, shared_free_at_exit);
  pthread_mutex_lock(&shared_lock);
  shared_on = on;
  if (!on) {
    SSL_SESSION_free(shared_session);
    shared_session = NULL;
  }
  pthread_mutex_unlock(&shared_lock);
  return 0;
}

/* shared_session_get returns a new reference to the shared session, or NULL
 * (sharing off, or no session yet). */
static SSL_SESSION *shared_session_get(void) {
  SSL_SESSION *s = NULL;
  pthread_mutex_lock(&shared_lock);
  if (shared_on && shared_session != NULL) {
    s = shared_session;
    SSL_SESSION_up_ref(s);
  }
  pthread_mutex_unlock(&shared_lock);
  return s;
}

/* shared_session_keep, once |c|'s handshake is done: with sharing on, its
 * session becomes the shared one. A resumed TLS 1.2 session gets no new
 * ticket, so new_session never sees it: it also becomes |c|'s own session,
 * the one a PROT P data connection offers. */
static void shared_session_keep(tls_client *c) {
  pthread_mutex_lock(&shared_lock);
  SSL_SESSION *s = shared_on ? SSL_get_session(c->ssl) : NULL;
  if (s != NULL && SSL_SESSION_is_resumable(s)) {
    if (c->session == NULL) {
      SSL_SESSION_up_ref(s);
      c->session = s;
    }
    SSL_SESSION_up_ref(c->session);
    SSL_SESSION_free(shared_session);
    shared_session = c->session;
  }
  pthread_mutex_unlock(&shared_lock);
}

void tls_client_error_reason(char *out, size_t out_len, const char *fallback) {
  uint32_t e = ERR_get_error();
  const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;
  if (r == NULL)
    r = fallback;
  if (out_len == 0)
    goto out;
  size_t i = 0;
  for (; r[i] != '\0' && i + 1 < out_len; i++) {
    unsigned char ch = (unsigned char)r[i];
    /* A single token: lower case, anything odd becomes '_'. */
    out[i] = isalnum(ch) ? (char)tolower(ch) : '_';
  }
  out[i] = '\0';
out:
  ERR_clear_error();
}

static void fail(tls_client *c, const char *fallback) {
  c->failed = true;
  if (c->reason[0] == '\0')
    tls_client_error_reason(c->reason, sizeof(c->reason), fallback);
  else
    ERR_clear_error();
}

/* fail_from_ssl records the reason for a failed SSL_* call returning |r|. */
static void fail_from_ssl(tls_client *c, int r) {
  int err = SSL_get_error(c->ssl, r);
  const char *fallback = "internal";
  if (err == SSL_ERROR_SYSCALL)
    fallback = "syscall";
  if (err == SSL_ERROR_SYSCALL && r == 0)
    fallback = "eof";
  fail(c, fallback);
}

SSL_SESSION *tls_client_shared_session(void) {
  return shared_session_get();
}

tls_client *tls_client_new(void) {
  SSL_SESSION *shared = shared_session_get(); /* NULL unless sessions are shared */
  tls_client *c = tls_client_new_resume(shared);
  SSL_SESSION_free(shared);
  return c;
}

tls_client *tls_client_new_resume(SSL_SESSION *session) {
  SSL_CTX *ctx = tls_client_ctx();
  tls_client *c = NULL;
  BIO *rb = NULL, *wb = NULL;
  if (ctx == NULL)
    goto err;
  c = calloc(1, sizeof(*c));
  if (c == NULL)
    goto err;
  c->ssl = SSL_new(ctx);
  rb = BIO_new(BIO_s_mem());
  wb = BIO_new(BIO_s_mem());
  if (c->ssl == NULL || rb == NULL || wb == NULL)
    goto err;
  /* An empty read BIO means "no bytes yet", not end of stream. */
  BIO_set_mem_eof_return(rb, -1);
  SSL_set_bio(c->ssl, rb, wb); /* the SSL owns both from here; we borrow */
  c->rbio = rb;
  c->wbio = wb;
  rb = wb = NULL;
  if (!SSL_set_tlsext_host_name(c->ssl, "localhost") ||
      !SSL_set_app_data(c->ssl, c))
    goto err;
  if (session != NULL && !SSL_set_session(c->ssl, session))
    goto err;
  SSL_set_connect_state(c->ssl);
  return c;
err:
  BIO_free(rb);
  BIO_free(wb);
  if (c != NULL)
    SSL_free(c->ssl);
  free(c);
  ERR_clear_error();
  return NULL;
}

void tls_client_free(tls_client *c) {
  if (c == NULL)
    return;
  SSL_free(c->ssl);
  SSL_SESSION_free(c->session);
  free(c->cert);
  free(c);
}

int tls_client_set_versions(tls_client *c, uint16_t min_version, uint16_t max_version) {
  if ((min_version != 0 && !SSL_set_min_proto_version(c->ssl, min_version)) ||
      (max_version != 0 && !SSL_set_max_proto_version(c->ssl, max_version))) {
    ERR_clear_error();
    return TLS_CLIENT_FAILED;
  }
  return 0;
}

SSL_SESSION *tls_client_session(const tls_client *c) {
  return c->session;
}

bool tls_client_session_reused(const tls_client *c) {
  return c->done && SSL_session_reused(c->ssl);
}

static void record_peer(tls_client *c) {
  X509 *x = SSL_get_peer_certificate(c->ssl);
  if (x != NULL) {
    uint8_t *der = NULL;
    int n = i2d_X509(x, &der);
    if (n > 0) {
      c->cert = malloc((size_t)n);
      if (c->cert != NULL) {
        memcpy(c->cert, der, (size_t)n);
        c->cert_len = (size_t)n;
      }
    }
    OPENSSL_free(der);
    X509_free(x);
  }
  const uint8_t *p = NULL;
  unsigned plen = 0;
  SSL_get0_alpn_selected(c->ssl, &p, &plen);
  if (p != NULL && plen < sizeof(c->alpn)) {
    memcpy(c->alpn, p, plen);
    c->alpn[plen] = '\0';
  }
}

int tls_client_handshake(tls_client *c) {
  if (c->failed)
    return TLS_CLIENT_FAILED;
  if (c->done)
    return TLS_CLIENT_DONE;
  ERR_clear_error(); /* the server shares this thread's error queue */
  int r = SSL_do_handshake(c->ssl);
  if (r == 1) {
    c->done = true;
    record_peer(c);
    shared_session_keep(c);
    return TLS_CLIENT_DONE;
  }
  int err = SSL_get_error(c->ssl, r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    ERR_clear_error();
    return TLS_CLIENT_WANT;
  }
  fail_from_ssl(c, r);
  return TLS_CLIENT_FAILED;
}

void tls_client_set_eof(tls_client *c) {
  BIO_set_mem_eof_return(c->rbio, 0);
}

int tls_client_push(tls_client *c, const uint8_t *in, size_t len) {
  if (len == 0)
    return 0;
  size_t held = BIO_ctrl_pending(c->rbio);
  if (len > TLS_CLIENT_BUFFER_MAX || held > TLS_CLIENT_BUFFER_MAX - len)
    return TLS_CLIENT_FAILED;
  if (BIO_write(c->rbio, in, (int)len) != (int)len) {
    ERR_clear_error();
    return TLS_CLIENT_NOMEM;
  }
  return 0;
}

size_t tls_client_pending(const tls_client *c) {
  return BIO_ctrl_pending(c->wbio);
}

int tls_client_pull(tls_client *c, uint8_t *out, size_t cap, size_t *out_n) {
  *out_n = 0;
  if (cap > INT_MAX)
    cap = INT_MAX;
  if (cap == 0 || BIO_ctrl_pending(c->wbio) == 0)
    return 0;
  int n = BIO_read(c->wbio, out, (int)cap);
  if (n > 0)
    *out_n = (size_t)n;
  ERR_clear_error();
  return 0;
}

int tls_client_write(tls_client *c, const uint8_t *data, size_t len) {
  if (c->failed || !c->done || c->sent_close_notify)
    return TLS_CLIENT_FAILED;
  if (len > TLS_CLIENT_BUFFER_MAX || tls_client_pending(c) > TLS_CLIENT_BUFFER_MAX - len)
    return TLS_CLIENT_FAILED;
  if (len == 0)
    return 0;
  ERR_clear_error();
  /* Memory BIOs never block, so one SSL_write takes everything. */
  int r = SSL_write(c->ssl, data, (int)len);
  if (r != (int)len) {
    fail_from_ssl(c, r);
    return TLS_CLIENT_FAILED;
  }
  return 0;
}

int tls_client_read(tls_client *c, uint8_t *out, size_t cap, size_t *out_n) {
  *out_n = 0;
  if (c->failed)
    return TLS_CLIENT_FAILED;
  if (c->peer_closed)
    return TLS_CLIENT_CLOSED;
  if (!c->done)
    return TLS_CLIENT_FAILED;
  while (*out_n < cap) {
    size_t room = cap - *out_n;
    if (room > INT_MAX)
      room = INT_MAX;
    ERR_clear_error();
    int r = SSL_read(c->ssl, out + *out_n, (int)room);
    if (r > 0) {
      *out_n += (size_t)r;
      continue;
    }
    int err = SSL_get_error(c->ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      ERR_clear_error();
      return 0;
    }
    if (err == SSL_ERROR_ZERO_RETURN) {
      c->peer_closed = true;
      ERR_clear_error();
      /* Hand over what was read first; the next call reports CLOSED. */
      return *out_n > 0 ? 0 : TLS_CLIENT_CLOSED;
    }
    fail_from_ssl(c, r);
    return *out_n > 0 ? 0 : TLS_CLIENT_FAILED;
  }
  return 0;
}

int tls_client_close_notify(tls_client *c) {
  if (c->failed || !c->done)
    return TLS_CLIENT_FAILED;
  if (c->sent_close_notify)
    return 0;
  ERR_clear_error();
  int r = SSL_shutdown(c->ssl); /* 0: sent, 1: sent and the peer's was read */
  if (r < 0) {
    fail_from_ssl(c, r);
    return TLS_CLIENT_FAILED;
  }
  c->sent_close_notify = true;
  return 0;
}

bool tls_client_handshake_done(const tls_client *c) {
  return c->done;
}

bool tls_client_sent_close_notify(const tls_client *c) {
  return c->sent_close_notify;
}

bool tls_client_peer_closed(const tls_client *c) {
  return c->peer_closed;
}

const char *tls_client_reason(const tls_client *c) {
  return c->reason;
}

const uint8_t *tls_client_peer_cert(const tls_client *c, size_t *out_len) {
  *out_len = c->cert_len;
  return c->cert;
}

const char *tls_client_version(const tls_client *c) {
  return SSL_get_version(c->ssl);
}

const char *tls_client_alpn(const tls_client *c) {
  return c->alpn;
}
