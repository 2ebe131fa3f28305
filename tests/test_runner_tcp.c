/* test_runner_tcp.c - runner_run_tcp (`run --connect`) against a scripted
 * fake FTP server thread on 127.0.0.1: replies, passive downloads and
 * uploads in clear, the hold of 226 behind the data close, active mode
 * refused, a silent server timing out, W: as a real sleep, and the
 * protection the client uses on data connections (the level it tracked,
 * or "# client: data_prot=" overriding it). */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"
#include "testlib.h"
#include "transcript.h"

#define HELLO_SHA "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define FAKE_WAIT_MS 5000

typedef struct fake {
  int lfd;                /* control listener */
  uint16_t port;
  pthread_t thread;
  char stored[64];        /* what the last STOR received */
  size_t stored_len;
} fake;

static int listen_any(uint16_t *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof(a);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 4) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

static int accept_wait(int lfd) {
  struct pollfd p = {.fd = lfd, .events = POLLIN};
  if (poll(&p, 1, FAKE_WAIT_MS) != 1)
    return -1;
  return accept(lfd, NULL, NULL);
}

static void say(int fd, const char *text) {
  size_t n = strlen(text);
  if (send(fd, text, n, MSG_NOSIGNAL) != (ssize_t)n)
    fprintf(stderr, "fake: short send\n");
}

/* read_line reads one CRLF line (without it) byte by byte; false at EOF. */
static bool read_line(int fd, char *line, size_t cap) {
  size_t n = 0;
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char c;
    if (poll(&p, 1, FAKE_WAIT_MS) != 1 || recv(fd, &c, 1, 0) != 1)
      return false;
    if (c == '\n')
      break;
    if (c != '\r' && n + 1 < cap)
      line[n++] = c;
  }
  line[n] = '\0';
  return true;
}

/* The fake: a greeting, then one reply per line; the data connection is
 * passive (PASV/EPSV) on a fresh listener. */
static void *fake_main(void *arg) {
  fake *f = arg;
  int fd = accept_wait(f->lfd), dl = -1;
  char line[256], reply[128];
  if (fd < 0)
    return NULL;
  say(fd, "220 fake ready\r\n");
  while (read_line(fd, line, sizeof(line))) {
    if (!strcmp(line, "PASV") || !strcmp(line, "EPSV")) {
      uint16_t port = 0;
      if (dl >= 0)
        close(dl);
      dl = listen_any(&port);
      if (line[0] == 'P')
        snprintf(reply, sizeof(reply), "227 Entering Passive Mode (127,0,0,1,%u,%u).\r\n",
                 port >> 8, port & 0xff);
      else
        snprintf(reply, sizeof(reply), "229 Entering Extended Passive Mode (|||%u|)\r\n", port);
      say(fd, reply);
    } else if (!strncmp(line, "RETR", 4) && dl >= 0) {
      say(fd, "150 here\r\n");
      int d = accept_wait(dl);
      /* the 226 goes out BEFORE the data: the runner must still record
       * the data's close first */
      say(fd, "226 done\r\n");
      usleep(20000);
      if (d >= 0) {
        say(d, "hello\n");
        close(d);
      }
    } else if (!strncmp(line, "STOR", 4) && dl >= 0) {
      say(fd, "150 send\r\n");
      int d = accept_wait(dl);
      f->stored_len = 0;
      ssize_t n;
      while (d >= 0 && (n = recv(d, f->stored + f->stored_len,
                                 sizeof(f->stored) - 1 - f->stored_len, 0)) > 0)
        f->stored_len += (size_t)n;
      if (d >= 0)
        close(d);
      snprintf(reply, sizeof(reply), "226 stored %zu\r\n", f->stored_len);
      say(fd, reply);
    } else if (!strncmp(line, "PORT", 4)) {
      say(fd, "200 PORT ok\r\n");
    } else if (!strncmp(line, "PROT", 4)) {
      say(fd, "200 PROT ok\r\n"); /* and sends data in clear all the same */
    } else if (!strcmp(line, "AUTH TLS")) {
      say(fd, "234 go\r\n"); /* the scripts below never start TLS */
    } else if (!strcmp(line, "HANG")) {
      /* no reply: the client must time out */
    } else if (!strcmp(line, "MULTI")) {
      say(fd, "211-first\r\n211-second\r\n211 end\r\n");
    } else if (!strcmp(line, "QUIT")) {
      say(fd, "221 bye\r\n");
      break;
    } else {
      say(fd, "500 what\r\n");
    }
  }
  if (dl >= 0)
    close(dl);
  close(fd);
  return NULL;
}

static bool fake_start(fake *f) {
  memset(f, 0, sizeof(*f));
  f->lfd = listen_any(&f->port);
  if (f->lfd < 0)
    return false;
  return pthread_create(&f->thread, NULL, fake_main, f) == 0;
}

static void fake_stop(fake *f) {
  pthread_join(f->thread, NULL);
  close(f->lfd);
}

/* play runs |text| against a fresh fake and returns the transcript text
 * (malloc'd); |*out_rc| is runner_run_tcp's status. */
static char *play(fake *f, const char *text, unsigned timeout_ms, int *out_rc) {
  transcript script, out;
  char err[256], port[8];
  char *buf = NULL;
  size_t len = 0;
  transcript_init(&script);
  transcript_init(&out);
  if (transcript_parse_text(&script, text, strlen(text), "inline", err, sizeof(err)) != 0) {
    fprintf(stderr, "%s\n", err);
    CHECK(!"inline script parses");
    return strdup("");
  }
  CHECK(fake_start(f));
  snprintf(port, sizeof(port), "%u", f->port);
  runner_options opt = runner_options_default();
  opt.timeout_ms = timeout_ms;
  opt.diag = stderr;
  runner_result res;
  *out_rc = runner_run_tcp("127.0.0.1", port, &script, &opt, &out, &res);
  fake_stop(f);
  FILE *m = open_memstream(&buf, &len);
  transcript_print_text(&out, m);
  fclose(m);
  transcript_cleanup(&script);
  transcript_cleanup(&out);
  return buf;
}

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int main(void) {
  fake f;
  int rc;

  /* replies, a multi-line reply, and a passive download whose 226 the
   * server sent before the data: the transcript still shows the data's
   * close first (runner.h) */
  char *t = play(&f, "C: MULTI\nC: PASV\nD: open\nC: RETR x\nC: QUIT\n", 0, &rc);
  CHECK_EQ_INT(rc, RUNNER_OK);
  CHECK(strncmp(t, "S: 220 fake ready\nC: MULTI\nS: 211-first\nS: 211-second\nS: 211 end\n"
                   "C: PASV\nS: 227 Entering Passive Mode (127,0,0,1,", 90) == 0);
  CHECK(strstr(t, "D: open\nC: RETR x\nS: 150 here\nE: data clear 6 bytes sha256=" HELLO_SHA
                  "\nS: 226 done\nC: QUIT\nS: 221 bye\nE: closed\n") != NULL);
  free(t);

  /* an upload over EPSV: bytes queued before the transfer go out, D: close
   * half-closes, the 226 waits for the data connection's close */
  t = play(&f, "C: EPSV\nD: open\nD: send abc\nC: STOR y\nD: send de\nD: close\nC: QUIT\n", 0, &rc);
  CHECK_EQ_INT(rc, RUNNER_OK);
  CHECK(strstr(t, "C: STOR y\nS: 150 send\nD: send de\nD: close\nE: data clear 0 bytes sha256=" EMPTY_SHA
                  "\nS: 226 stored 5\n") != NULL);
  CHECK_EQ_INT(f.stored_len, 5);
  CHECK_MEM(f.stored, 5, "abcde", 5);
  free(t);

  /* active mode is not supported over TCP; D: open with no offer */
  t = play(&f, "D: open\nC: PORT 127,0,0,1,200,1\nD: open\nC: QUIT\n", 0, &rc);
  CHECK_EQ_INT(rc, RUNNER_OK);
  CHECK(strstr(t, "D: open\nE: data failed no data connection offered\n") != NULL);
  CHECK(strstr(t, "S: 200 PORT ok\nD: open\nE: data failed active mode not supported over "
                  "--connect\n") != NULL);
  free(t);

  /* a silent server: reported after the step timeout, never waited on
   * forever; the client gives up */
  uint64_t t0 = mono_ms();
  t = play(&f, "C: HANG\nC: QUIT\n", 300, &rc);
  uint64_t took = mono_ms() - t0;
  CHECK_EQ_INT(rc, RUNNER_TIMEOUT);
  CHECK_STR(t, "S: 220 fake ready\nC: HANG\nE: timeout\n# not played: client gave up\n");
  CHECK(took >= 300 && took < FAKE_WAIT_MS);
  free(t);

  /* the data connection's protection follows the level the client
   * tracked: P after "200" to PROT P (the fake then sends in clear: the
   * client's ClientHello is answered by bytes that are no TLS record, so it
   * reads them to the end as clear data, runner.h), C again after a 234 to
   * AUTH (RFC 2228: AUTH resets the security state) */
  t = play(&f, "C: PROT P\nC: PASV\nD: open\nC: RETR x\nC: QUIT\n", 0, &rc);
  CHECK(strstr(t, "C: RETR x\nS: 150 here\nE: data clear 6 bytes sha256=" HELLO_SHA
                  "\nS: 226 done\n") != NULL);
  CHECK(strstr(t, "E: data failed") == NULL);
  free(t);
  t = play(&f, "C: PROT P\nC: AUTH TLS\nC: PASV\nD: open\nC: RETR x\nC: QUIT\n", 0, &rc);
  CHECK(strstr(t, "S: 234 go\n") != NULL);
  CHECK(strstr(t, "C: RETR x\nS: 150 here\nE: data clear 6 bytes sha256=" HELLO_SHA "\n") != NULL);
  free(t);
  /* "# client: data_prot=clear|tls" overrides the level from where it
   * stands; "auto" goes back to it */
  t = play(&f, "C: PROT P\n# client: data_prot=clear\nC: PASV\nD: open\nC: RETR x\nC: QUIT\n", 0,
           &rc);
  CHECK(strstr(t, "# client: data_prot=clear\n") != NULL);
  CHECK(strstr(t, "S: 150 here\nE: data clear 6 bytes sha256=" HELLO_SHA "\n") != NULL);
  free(t);
  t = play(&f, "# client: data_prot=tls\nC: PASV\nD: open\nC: RETR x\nC: QUIT\n", 0, &rc);
  CHECK(strstr(t, "S: 150 here\nE: data clear 6 bytes sha256=" HELLO_SHA "\n") != NULL);
  CHECK(strstr(t, "E: data failed") == NULL);
  free(t);
  t = play(&f, "# client: data_prot=tls\n# client: data_prot=auto\nC: PASV\nD: open\nC: RETR x\n"
               "C: QUIT\n", 0, &rc);
  CHECK(strstr(t, "S: 150 here\nE: data clear 6 bytes") != NULL);
  free(t);
  /* a malformed value is the script's error */
  {
    transcript script, out;
    char err[256];
    static const char bad[] = "# client: data_prot=maybe\nC: QUIT\n";
    transcript_init(&script);
    transcript_init(&out);
    CHECK_EQ_INT(transcript_parse_text(&script, bad, strlen(bad), "bad", err, sizeof(err)), 0);
    CHECK(fake_start(&f));
    snprintf(err, sizeof(err), "%u", f.port);
    CHECK_EQ_INT(runner_run_tcp("127.0.0.1", err, &script, NULL, &out, NULL), RUNNER_ERR_INVAL);
    transcript_cleanup(&script);
    transcript_cleanup(&out);
    fake_stop(&f); /* the runner connected, then stopped at the directive */
  }

  /* expectations work over TCP too, and W: is a real sleep */
  t0 = mono_ms();
  t = play(&f, "S: 220 fake ready\nW: 150\nC: NOOP\nS: 500 what\nC: QUIT\nS: 221 bye\nE: closed\n", 0,
           &rc);
  CHECK_EQ_INT(rc, RUNNER_OK);
  CHECK(mono_ms() - t0 >= 150);
  free(t);
  t = play(&f, "C: NOOP\nS: 200 not what it says\nC: QUIT\n", 0, &rc);
  CHECK_EQ_INT(rc, RUNNER_MISMATCH);
  free(t);
  return testlib_finish();
}
