/* test_ftps_serve.c - the TCP front end (ftps_serve.h): address parsing,
 * configuration errors, and a live server in a child process (greeting,
 * QUIT, the per-address limit answered with a plaintext 421, idle timeout,
 * SIGTERM ending the loop with status 0). Real FTPS clients are exercised
 * by the interop tests (tests/interop/). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ftps_err.h"
#include "ftps_serve.h"
#include "test_config.h"
#include "testlib.h"

static void test_parse(void) {
  struct sockaddr_storage sa;
  socklen_t len;
  CHECK_EQ_INT(ftps_serve_parse_hostport("127.0.0.1:2121", &sa, &len), 0);
  CHECK_EQ_INT(sa.ss_family, AF_INET);
  CHECK_EQ_INT(ntohs(((struct sockaddr_in *)&sa)->sin_port), 2121);
  CHECK_EQ_INT(ftps_serve_parse_hostport("[::1]:21", &sa, &len), 0);
  CHECK_EQ_INT(sa.ss_family, AF_INET6);
  CHECK_EQ_INT(len, sizeof(struct sockaddr_in6));
  CHECK_EQ_INT(ftps_serve_parse_hostport(":0", &sa, &len), 0);
  CHECK_EQ_INT(((struct sockaddr_in *)&sa)->sin_addr.s_addr, htonl(INADDR_ANY));
  static const char *const bad[] = {
      "localhost:21", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
      "127.0.0.1:2x", "[::1]21", "[::1:21", "::1:21", "", "127.0.0.1:0000021",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int rc = ftps_serve_parse_hostport(bad[i], &sa, &len);
    if (rc != FTPS_ERR_INVAL)
      fprintf(stderr, "accepted bad address '%s'\n", bad[i]);
    CHECK_EQ_INT(rc, FTPS_ERR_INVAL);
  }
}

static void test_config_errors(test_config *tc) {
  ftps_serve_config cfg = ftps_serve_config_default();
  ftps_serve *srv = NULL;
  char err[256];
  cfg.server = &tc->server;
  cfg.log = NULL;
  cfg.listen = "127.0.0.1:0";
  cfg.pasv_min = 3000;
  cfg.pasv_max = 2000;
  CHECK_EQ_INT(ftps_serve_new(&cfg, &srv, err, sizeof(err)), FTPS_ERR_INVAL);
  CHECK(srv == NULL);
  CHECK(strstr(err, "passive port range 3000-2000") != NULL);

  cfg = ftps_serve_config_default();
  cfg.server = &tc->server;
  cfg.log = NULL;
  cfg.listen = "not-an-address:1";
  CHECK_EQ_INT(ftps_serve_new(&cfg, &srv, err, sizeof(err)), FTPS_ERR_INVAL);
  CHECK(strstr(err, "not-an-address:1: expected HOST:PORT") != NULL);

  /* A busy port: the message names the address. */
  cfg.listen = "127.0.0.1:0";
  ftps_serve *first = NULL;
  CHECK_EQ_INT(ftps_serve_new(&cfg, &first, err, sizeof(err)), 0);
  if (!first)
    return;
  char busy[64];
  snprintf(busy, sizeof(busy), "127.0.0.1:%u", (unsigned)ftps_serve_port(first));
  cfg.listen = busy;
  CHECK_EQ_INT(ftps_serve_new(&cfg, &srv, err, sizeof(err)), FTPS_ERR_EXIST);
  char want[96];
  snprintf(want, sizeof(want), "%s: address already in use", busy);
  CHECK_STR(err, want);
  ftps_serve_free(first);
  ftps_serve_free(NULL);
}

/* Reads until |n| bytes or EOF/timeout; returns the count. */
static size_t read_some(int fd, char *buf, size_t cap) {
  size_t got = 0;
  while (got < cap) {
    ssize_t r = recv(fd, buf + got, cap - got, 0);
    if (r <= 0)
      break;
    got += (size_t)r;
    if (memchr(buf, '\n', got))
      break;
  }
  return got;
}

static int dial(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct timeval tv = {.tv_sec = 10};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void test_live(test_config *tc) {
  int pfd[2];
  CHECK_EQ_INT(pipe(pfd), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(pfd[0]);
    ftps_serve_config cfg = ftps_serve_config_default();
    ftps_serve *srv = NULL;
    char err[256];
    cfg.server = &tc->server;
    cfg.listen = "127.0.0.1:0";
    cfg.max_per_ip = 2;
    cfg.idle_timeout_s = 1;
    cfg.log = NULL;
    if (ftps_serve_new(&cfg, &srv, err, sizeof(err)) != 0)
      _exit(3);
    uint16_t port = ftps_serve_port(srv);
    if (write(pfd[1], &port, sizeof(port)) != (ssize_t)sizeof(port))
      _exit(4);
    close(pfd[1]);
    int rc = ftps_serve_run(srv);
    ftps_serve_free(srv);
    test_config_cleanup(tc);
    _exit(rc == 0 ? 0 : 5);
  }
  close(pfd[1]);
  uint16_t port = 0;
  CHECK_EQ_INT(read(pfd[0], &port, sizeof(port)), (long long)sizeof(port));
  close(pfd[0]);
  char buf[256];

  int a = dial(port);
  CHECK(a >= 0);
  size_t n = read_some(a, buf, sizeof(buf));
  CHECK_MEM(buf, n, "220 ftpsfuzz ready.\r\n", 21);
  int b = dial(port);
  n = read_some(b, buf, sizeof(buf));
  CHECK(n >= 4 && memcmp(buf, "220 ", 4) == 0);
  /* The third from the same address: refused before any core is involved. */
  int c = dial(port);
  n = read_some(c, buf, sizeof(buf));
  CHECK_MEM(buf, n, "421 Too many connections.\r\n", 27);
  CHECK_EQ_INT(recv(c, buf, sizeof(buf), 0), 0);
  close(c);
  /* QUIT is answered and the connection closed (RFC 959). */
  CHECK_EQ_INT(send(a, "QUIT\r\n", 6, 0), 6);
  n = read_some(a, buf, sizeof(buf));
  CHECK(n >= 4 && memcmp(buf, "221 ", 4) == 0);
  CHECK_EQ_INT(recv(a, buf, sizeof(buf), 0), 0);
  close(a);
  /* |b| says nothing: after the 1 s idle timeout it gets 421 and EOF. */
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  n = read_some(b, buf, sizeof(buf));
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  CHECK(n >= 16 && memcmp(buf, "421 Idle timeout", 16) == 0);
  CHECK(took > 0.5 && took < 5);
  CHECK_EQ_INT(recv(b, buf, sizeof(buf), 0), 0);
  close(b);
  /* A session left open when SIGTERM arrives: a clean exit. */
  int d = dial(port);
  n = read_some(d, buf, sizeof(buf));
  CHECK(n >= 4 && memcmp(buf, "220 ", 4) == 0);
  CHECK_EQ_INT(kill(pid, SIGTERM), 0);
  int status = 0;
  CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK_EQ_INT(recv(d, buf, sizeof(buf), 0), 0);
  close(d);
}

int main(void) {
  test_config tc;
  signal(SIGPIPE, SIG_IGN);
  test_parse();
  if (test_config_init(&tc) != 0) {
    CHECK(!"test_config_init failed");
    return testlib_finish();
  }
  test_config_errors(&tc);
  test_live(&tc);
  test_config_cleanup(&tc);
  return testlib_finish();
}
