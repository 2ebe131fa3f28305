/* bench_ftps_client.c - a minimal FTPS client on BoringSSL, for
 * bench_transfer.sh: RETR and STOR under PROT P with the same TLS library,
 * record size and read/write sizes as bench_tls_pair's client, so the ratio
 * to the bare pair measures the server and nothing of the client.
 *
 * usage: bench_ftps_client --port P --user U --pass W
 *                          (--retr PATH | --stor PATH --bytes N)
 * Speaks to 127.0.0.1 only: AUTH TLS, USER, PASS, PBSZ 0, PROT P, TYPE I,
 * EPSV, then the transfer on a data connection whose TLS session resumes
 * the control connection's (RFC 4217 section 10.2's session reuse). Prints
 * one line, timed from the transfer command to its final reply:
 *   RETR bytes=<n> seconds=<s> MBps=<MB/s>
 * STOR sends N bytes of 'x' in 16 KiB SSL_write calls. Exit 0 on a 226,
 * 1 otherwise, with the reply or error on standard error. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define CHUNK 16384

typedef struct ctl {
  int fd;
  SSL *ssl; /* NULL before AUTH TLS */
  char buf[4096];
  size_t len;
} ctl;

static SSL_SESSION *ctl_session; /* the control connection's, for reuse */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* TLS 1.3 sessions arrive after the handshake, with the server's first
 * protected reply: keep the newest. */
static int keep_session(SSL *ssl, SSL_SESSION *sess) {
  (void)ssl;
  SSL_SESSION_free(ctl_session);
  ctl_session = sess;
  return 1;
}

static int tcp_connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

static bool ctl_write(ctl *c, const char *line) {
  char out[512];
  int n = snprintf(out, sizeof(out), "%s\r\n", line);
  if (n < 0 || (size_t)n >= sizeof(out))
    return false;
  if (c->ssl)
    return SSL_write(c->ssl, out, n) == n;
  return write(c->fd, out, (size_t)n) == n;
}

/* ctl_reply reads one whole reply (multi-line aware) and returns its code,
 * or -1; the last line is left in |last|. */
static int ctl_reply(ctl *c, char *last, size_t last_len) {
  for (;;) {
    char *eol = memchr(c->buf, '\n', c->len);
    if (eol) {
      size_t ll = (size_t)(eol - c->buf) + 1;
      snprintf(last, last_len, "%.*s", (int)(ll > 2 ? ll - 2 : 0), c->buf);
      bool final = ll >= 4 && c->buf[3] == ' ' && c->buf[0] >= '1' && c->buf[0] <= '5';
      int code = atoi(c->buf);
      memmove(c->buf, eol + 1, c->len - ll);
      c->len -= ll;
      if (final)
        return code;
      continue;
    }
    if (c->len == sizeof(c->buf))
      return -1;
    int n = c->ssl ? SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len))
                   : (int)read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
    if (n <= 0)
      return -1;
    c->len += (size_t)n;
  }
}

/* cmd sends |line| and wants a reply of class |want| (1..5). */
static bool cmd(ctl *c, const char *line, int want, char *last, size_t last_len) {
  if (!ctl_write(c, line))
    return false;
  int code = ctl_reply(c, last, last_len);
  if (code / 100 != want) {
    fprintf(stderr, "bench_ftps_client: %s -> %s\n", line, code < 0 ? "connection lost" : last);
    return false;
  }
  return true;
}

static SSL *data_tls(SSL_CTX *ctx, int fd) {
  SSL *ssl = SSL_new(ctx);
  if (!ssl || !SSL_set_fd(ssl, fd) || (ctl_session && !SSL_set_session(ssl, ctl_session)) ||
      SSL_connect(ssl) != 1) {
    SSL_free(ssl);
    return NULL;
  }
  return ssl;
}

static int usage(void) {
  fprintf(stderr, "usage: bench_ftps_client --port P --user U --pass W "
                  "(--retr PATH | --stor PATH --bytes N)\n");
  return 2;
}

int main(int argc, char **argv) {
  long port = 0;
  const char *user = NULL, *pass = NULL, *retr = NULL, *stor = NULL;
  uint64_t bytes = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--port"))
      port = strtol(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--user"))
      user = argv[i + 1];
    else if (!strcmp(argv[i], "--pass"))
      pass = argv[i + 1];
    else if (!strcmp(argv[i], "--retr"))
      retr = argv[i + 1];
    else if (!strcmp(argv[i], "--stor"))
      stor = argv[i + 1];
    else if (!strcmp(argv[i], "--bytes"))
      bytes = strtoull(argv[i + 1], NULL, 10);
    else
      return usage();
  }
  if (argc % 2 != 1 || port <= 0 || port > 65535 || !user || !pass || !retr == !stor ||
      (stor && bytes == 0))
    return usage();

  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  if (!ctx)
    return 1;
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
  SSL_CTX_sess_set_new_cb(ctx, keep_session);
  ctl c = {.fd = tcp_connect((uint16_t)port)};
  char last[512], line[600];
  int rc = 1, dfd = -1;
  SSL *dssl = NULL;
  if (c.fd < 0 || ctl_reply(&c, last, sizeof(last)) != 220 ||
      !cmd(&c, "AUTH TLS", 2, last, sizeof(last))) {
    fprintf(stderr, "bench_ftps_client: no FTPS server on port %ld\n", port);
    goto out;
  }
  c.ssl = SSL_new(ctx);
  if (!c.ssl || !SSL_set_fd(c.ssl, c.fd) || SSL_connect(c.ssl) != 1) {
    fprintf(stderr, "bench_ftps_client: control handshake failed\n");
    goto out;
  }
  snprintf(line, sizeof(line), "USER %s", user);
  if (!cmd(&c, line, 3, last, sizeof(last)))
    goto out;
  snprintf(line, sizeof(line), "PASS %s", pass);
  if (!cmd(&c, line, 2, last, sizeof(last)) || !cmd(&c, "PBSZ 0", 2, last, sizeof(last)) ||
      !cmd(&c, "PROT P", 2, last, sizeof(last)) || !cmd(&c, "TYPE I", 2, last, sizeof(last)) ||
      !cmd(&c, "EPSV", 2, last, sizeof(last)))
    goto out;
  const char *bars = strstr(last, "(|||");
  long dport = bars ? strtol(bars + 4, NULL, 10) : 0;
  if (dport <= 0 || dport > 65535 || (dfd = tcp_connect((uint16_t)dport)) < 0) {
    fprintf(stderr, "bench_ftps_client: cannot use the EPSV reply: %s\n", last);
    goto out;
  }
  snprintf(line, sizeof(line), "%s %s", retr ? "RETR" : "STOR", retr ? retr : stor);
  double t0 = now_s();
  if (!cmd(&c, line, 1, last, sizeof(last)) || (dssl = data_tls(ctx, dfd)) == NULL) {
    fprintf(stderr, "bench_ftps_client: data connection failed\n");
    goto out;
  }
  static uint8_t buf[CHUNK];
  uint64_t moved = 0;
  if (retr) {
    int n;
    while ((n = SSL_read(dssl, buf, sizeof(buf))) > 0)
      moved += (uint64_t)n;
    if (SSL_get_error(dssl, n) != SSL_ERROR_ZERO_RETURN) {
      fprintf(stderr, "bench_ftps_client: data ended without close_notify\n");
      goto out;
    }
  } else {
    memset(buf, 'x', sizeof(buf));
    while (moved < bytes) {
      int k = bytes - moved < CHUNK ? (int)(bytes - moved) : CHUNK;
      if (SSL_write(dssl, buf, k) != k) {
        fprintf(stderr, "bench_ftps_client: data write failed\n");
        goto out;
      }
      moved += (uint64_t)k;
    }
    /* The server keeps an upload only when it ends with close_notify. */
    SSL_shutdown(dssl);
    shutdown(dfd, SHUT_WR);
  }
  if (ctl_reply(&c, last, sizeof(last)) != 226) {
    fprintf(stderr, "bench_ftps_client: transfer ended with: %s\n", last);
    goto out;
  }
  double dt = now_s() - t0;
  printf("%s bytes=%llu seconds=%.3f MBps=%.1f\n", retr ? "RETR" : "STOR",
         (unsigned long long)moved, dt, (double)moved / dt / 1e6);
  rc = 0;
  ctl_write(&c, "QUIT");
out:
  SSL_free(dssl);
  if (dfd >= 0)
    close(dfd);
  SSL_free(c.ssl);
  if (c.fd >= 0)
    close(c.fd);
  SSL_SESSION_free(ctl_session);
  SSL_CTX_free(ctx);
  return rc;
}
