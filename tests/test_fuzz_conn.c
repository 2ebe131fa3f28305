/* test_fuzz_conn.c - the fuzz harnesses' session driver (harnesses/fuzz_conn.h)
 * must stay quiet on a correct session and must abort with the named finding
 * when an invariant breaks. Each scenario runs in a child process, because a
 * finding is an abort(). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz_conn.h"
#include "fuzz_driver.h"
#include "testlib.h"

typedef enum scenario {
  SC_TLS_LOGIN,
  SC_PLAIN_NOISE,
  SC_PLAINTEXT_LOGIN,
  SC_NO_TLS_CTX,
} scenario;

static void send_str(fuzz_conn *c, const char *s) {
  fuzz_conn_send(c, (const uint8_t *)s, strlen(s));
}

static void run(scenario sc) {
  test_config *cfg = fuzz_config();
  ftps_server srv = cfg->server;
  fuzz_conn c;
  switch (sc) {
  case SC_TLS_LOGIN:
    fuzz_conn_open(&c, &srv, 3, " tls login");
    fuzz_conn_start_tls(&c);
    send_str(&c, "USER alice\r\nPASS wonderland\r\nPBSZ 0\r\nPROT P\r\nFEAT\r\nAUTH TLS\r\n"
                 "USER alice\r\nPASS bad\r\nQUIT\r\n");
    break;
  case SC_PLAIN_NOISE:
    fuzz_conn_open(&c, &srv, 0, " plaintext noise");
    send_str(&c, "FEAT\r\nHELP\r\nUSER alice\r\nPASS wonderland\r\nX\r\n\xff\xf4NOOP\n");
    send_str(&c, "AUTH TLS\r\nnot a client hello\r\n");
    break;
  case SC_PLAINTEXT_LOGIN:
    /* A server that lets alice log in without TLS breaks the built-in
     * policy the driver checks against. */
    srv.policy.tls_required_login = false;
    fuzz_conn_open(&c, &srv, 1, " plaintext login");
    send_str(&c, "USER alice\r\nPASS wonderland\r\n");
    break;
  case SC_NO_TLS_CTX:
    srv.tls_ctx = NULL; /* AUTH TLS answered 431 */
    fuzz_conn_open(&c, &srv, 0, " no TLS configured");
    fuzz_conn_start_tls(&c);
    break;
  }
  fuzz_conn_finish(&c);
}

/* expect runs |sc| in a child and checks how it ended: |finding| NULL means
 * a clean exit 0 with no FINDING line; otherwise SIGABRT and that line. */
static void expect(scenario sc, const char *finding) {
  char path[] = "/tmp/test_fuzz_conn.XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0)
    return;
  fflush(NULL);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    dup2(fd, STDERR_FILENO);
    run(sc);
    _exit(0);
  }
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  char buf[8192];
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  buf[n > 0 ? n : 0] = '\0';
  close(fd);
  unlink(path);
  if (finding == NULL) {
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(strstr(buf, "FINDING") == NULL);
  } else {
    char want[128];
    snprintf(want, sizeof(want), "FINDING %s:", finding);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    CHECK(strstr(buf, want) != NULL);
    /* The transcript so far comes with it. */
    CHECK(strstr(buf, "--- transcript ---") != NULL);
    CHECK(strstr(buf, "S: 220 ") != NULL);
  }
  if (testlib_failures() > 0)
    fprintf(stderr, "scenario %d stderr:\n%s\n", (int)sc, buf);
}

int main(void) {
  expect(SC_TLS_LOGIN, NULL);
  expect(SC_PLAIN_NOISE, NULL);
  expect(SC_PLAINTEXT_LOGIN, "TLS_REQUIRED_LOGIN");
  expect(SC_NO_TLS_CTX, "TLS_UPGRADE");
  return testlib_finish();
}
