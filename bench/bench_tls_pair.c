/* bench_tls_pair.c - throughput of a bare TLS connection over TCP loopback
 * with BoringSSL on both ends: the ceiling for a PROT P transfer, measured
 * on the same machine in the same run as bench_transfer.sh's curl figures.
 *
 * usage: bench_tls_pair [--bytes N] [--tls12] [--upload [--sink FILE]]
 *                       [--port-file FILE [--http]]
 * The server (this process) sends N bytes (default 1 GiB) in 16 KiB
 * SSL_write calls; a forked client reads them. Prints one line:
 *   cipher=<name> bytes=<N> seconds=<s> MBps=<MB/s>
 * --upload turns the direction round (the client writes, the server reads
 * to the client's close_notify), and --sink writes what the server read to
 * FILE and fsyncs it before the clock stops: what STOR must do at least to
 * keep an upload (ftps_vfs_posix.c), without any FTP. FILE is removed.
 * With --http, --sink does the same with a PUT's body.
 * With --port-file no client is forked: the port is written to FILE and one
 * external client (e.g. openssl s_client, the TLS library curl uses) is
 * served, then the connection is closed with close_notify. --http makes
 * that one exchange an HTTPS request, so curl itself can be measured on a
 * bare TLS connection with the same server context and cipher: a GET is
 * answered with N bytes, a PUT (curl -T) is read to its end and answered
 * 200 (the body may be up to N bytes). This is the client's own ceiling,
 * next to which its FTPS transfers are judged.
 * The server context is the ftpsfuzz server's own (ftps_tls.h), so cipher
 * choice and settings are those of `ftpsfuzz serve`. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ftps_tls.h"

#define CHUNK 16384

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* read_upload reads to the client's close_notify into |sink| (-1: none),
 * fsyncs it, and prints the figure line. Returns 0 on success. */
static int read_upload(SSL *ssl, int sink) {
  static uint8_t buf[CHUNK];
  uint64_t got = 0;
  double t0 = now_s();
  int n;
  while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) {
    if (sink >= 0 && write(sink, buf, (size_t)n) != n)
      return -1;
    got += (uint64_t)n;
  }
  if (SSL_get_error(ssl, n) != SSL_ERROR_ZERO_RETURN || (sink >= 0 && fsync(sink) != 0))
    return -1;
  double dt = now_s() - t0;
  printf("cipher=%s bytes=%llu seconds=%.3f MBps=%.1f\n", SSL_get_cipher_name(ssl),
         (unsigned long long)got, dt, (double)got / dt / 1e6);
  return 0;
}

/* run_client connects as the forked client: with |upload| it writes |total|
 * bytes and ends with close_notify; else it reads |total| bytes and writes
 * the figure line to |report_fd|. */
static int run_client(uint16_t port, uint64_t total, bool tls12, bool upload, int report_fd) {
  int rc = 1;
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  SSL *ssl = NULL;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!ctx || fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
    goto out;
  if (tls12)
    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  ssl = SSL_new(ctx);
  if (!ssl || !SSL_set_fd(ssl, fd) || SSL_connect(ssl) != 1)
    goto out;
  static uint8_t buf[CHUNK];
  if (upload) {
    memset(buf, 'x', sizeof(buf));
    for (uint64_t sent = 0; sent < total;) {
      int n = total - sent < CHUNK ? (int)(total - sent) : CHUNK;
      if (SSL_write(ssl, buf, n) != n)
        goto out;
      sent += (uint64_t)n;
    }
    SSL_shutdown(ssl);
    rc = 0;
    goto out;
  }
  uint64_t got = 0;
  double t0 = now_s();
  while (got < total) {
    int n = SSL_read(ssl, buf, sizeof(buf));
    if (n <= 0)
      goto out;
    got += (uint64_t)n;
  }
  double dt = now_s() - t0;
  char line[256];
  int len = snprintf(line, sizeof(line), "cipher=%s bytes=%llu seconds=%.3f MBps=%.1f\n",
                     SSL_get_cipher_name(ssl), (unsigned long long)got, dt,
                     (double)got / dt / 1e6);
  if (write(report_fd, line, (size_t)len) != len)
    goto out;
  rc = 0;
out:
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  if (fd >= 0)
    close(fd);
  return rc;
}

/* http_request reads one request head; returns its length or -1, and the
 * body bytes that came with it in |*extra| (kept in |buf| after the head). */
static long http_request(SSL *ssl, char *buf, size_t cap, size_t *got) {
  *got = 0;
  while (*got < cap - 1) {
    int n = SSL_read(ssl, buf + *got, (int)(cap - 1 - *got));
    if (n <= 0)
      return -1;
    *got += (size_t)n;
    buf[*got] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    if (end)
      return (long)(end + 4 - buf);
  }
  return -1;
}

static bool ssl_write_all(SSL *ssl, const void *p, size_t n) {
  return n == 0 || SSL_write(ssl, p, (int)n) == (int)n;
}

/* serve_http answers one HTTPS request: GET with |total| bytes, PUT read
 * to the end of its body (written to |sink| and fsynced when it is not -1).
 * Returns 0 on success. */
static int serve_http(SSL *ssl, uint64_t total, int sink) {
  static char head[65536];
  size_t got;
  long hl = http_request(ssl, head, sizeof(head), &got);
  if (hl < 0)
    return -1;
  if (!strncmp(head, "PUT ", 4)) {
    const char *cl = strcasestr(head, "\r\ncontent-length:");
    uint64_t body = cl ? strtoull(cl + 17, NULL, 10) : 0;
    if (strcasestr(head, "\r\nexpect: 100-continue"))
      ssl_write_all(ssl, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    uint64_t have = got - (size_t)hl;
    if (sink >= 0 && have > 0 && write(sink, head + hl, (size_t)have) != (ssize_t)have)
      return -1;
    static uint8_t in[CHUNK];
    while (have < body) {
      int n = SSL_read(ssl, in, sizeof(in));
      if (n <= 0 || (sink >= 0 && write(sink, in, (size_t)n) != n))
        return -1;
      have += (uint64_t)n;
    }
    if (sink >= 0 && fsync(sink) != 0)
      return -1;
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    return ssl_write_all(ssl, ok, sizeof(ok) - 1) ? 0 : -1;
  }
  char resp[160];
  int n = snprintf(resp, sizeof(resp),
                   "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\nConnection: close\r\n\r\n",
                   (unsigned long long)total);
  if (!ssl_write_all(ssl, resp, (size_t)n))
    return -1;
  static uint8_t buf[CHUNK];
  memset(buf, 'x', sizeof(buf));
  for (uint64_t sent = 0; sent < total;) {
    size_t k = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
    if (!ssl_write_all(ssl, buf, k))
      return -1;
    sent += k;
  }
  return 0;
}

int main(int argc, char **argv) {
  uint64_t total = 1ull << 30;
  bool tls12 = false;
  const char *port_file = NULL, *sink_path = NULL;
  bool http = false, upload = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--bytes") && i + 1 < argc) {
      total = strtoull(argv[++i], NULL, 10);
    } else if (!strcmp(argv[i], "--tls12")) {
      tls12 = true;
    } else if (!strcmp(argv[i], "--port-file") && i + 1 < argc) {
      port_file = argv[++i];
    } else if (!strcmp(argv[i], "--http")) {
      http = true;
    } else if (!strcmp(argv[i], "--upload")) {
      upload = true;
    } else if (!strcmp(argv[i], "--sink") && i + 1 < argc) {
      sink_path = argv[++i];
    } else {
      fprintf(stderr, "usage: bench_tls_pair [--bytes N] [--tls12] [--upload [--sink FILE]] "
                      "[--port-file FILE [--http]]\n");
      return 2;
    }
  }
  if (http && !port_file) {
    fprintf(stderr, "bench_tls_pair: --http goes with --port-file\n");
    return 2;
  }
  if ((upload && port_file) || (sink_path && !upload && !http)) {
    fprintf(stderr, "bench_tls_pair: --sink goes with --upload (its own client) or --http\n");
    return 2;
  }
  int sink = -1;
  if (sink_path && (sink = open(sink_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
    fprintf(stderr, "bench_tls_pair: %s: %s\n", sink_path, strerror(errno));
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  SSL_CTX *ctx = ftps_tls_server_ctx_new_self_signed("localhost");
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof(sa);
  int pipefd[2];
  if (!ctx || lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
      listen(lfd, 1) != 0 || getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0 ||
      pipe(pipefd) != 0) {
    fprintf(stderr, "bench_tls_pair: setup failed: %s\n", strerror(errno));
    return 1;
  }
  /* Sessions from ftps_tls contexts need ticket keys or no tickets. */
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  pid_t pid = -1;
  if (port_file) {
    FILE *pf = fopen(port_file, "w");
    if (!pf || fprintf(pf, "%u\n", (unsigned)ntohs(sa.sin_port)) < 0 || fclose(pf) != 0) {
      fprintf(stderr, "bench_tls_pair: %s: cannot write\n", port_file);
      return 1;
    }
  } else if ((pid = fork()) == 0) {
    close(pipefd[0]);
    _exit(run_client(ntohs(sa.sin_port), total, tls12, upload, pipefd[1]));
  }
  close(pipefd[1]);
  int fd = accept(lfd, NULL, NULL);
  SSL *ssl = SSL_new(ctx);
  int rc = 1;
  if (fd < 0 || !ssl || !SSL_set_fd(ssl, fd) || SSL_accept(ssl) != 1) {
    fprintf(stderr, "bench_tls_pair: handshake failed\n");
    goto out;
  }
  if (upload) {
    rc = read_upload(ssl, sink);
    int status = 0;
    waitpid(pid, &status, 0);
    if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "bench_tls_pair: upload failed\n");
      rc = 1;
    }
    goto out;
  }
  if (http) {
    rc = serve_http(ssl, total, sink);
    if (rc != 0)
      fprintf(stderr, "bench_tls_pair: HTTPS exchange failed\n");
    SSL_shutdown(ssl);
    goto out;
  }
  static uint8_t buf[CHUNK];
  memset(buf, 'x', sizeof(buf));
  for (uint64_t sent = 0; sent < total;) {
    size_t n = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
    int w = SSL_write(ssl, buf, (int)n);
    if (w <= 0) {
      fprintf(stderr, "bench_tls_pair: SSL_write failed\n");
      goto out;
    }
    sent += (uint64_t)w;
  }
  if (port_file) {
    SSL_shutdown(ssl);
    rc = 0;
    goto out;
  }
  char line[256];
  ssize_t r = read(pipefd[0], line, sizeof(line) - 1);
  int status = 0;
  waitpid(pid, &status, 0);
  if (r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    fwrite(line, 1, (size_t)r, stdout);
    rc = 0;
  } else {
    fprintf(stderr, "bench_tls_pair: client failed\n");
  }
out:
  SSL_free(ssl);
  if (fd >= 0)
    close(fd);
  close(lfd);
  close(pipefd[0]);
  SSL_CTX_free(ctx);
  if (sink >= 0) {
    close(sink);
    unlink(sink_path);
  }
  return rc;
}
