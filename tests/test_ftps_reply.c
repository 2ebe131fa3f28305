/* test_ftps_reply.c - the reply writer: exact bytes, multi-line shape,
 * sanitising, truncation, and unchanged output on failure. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ftps_err.h"
#include "ftps_reply.h"
#include "testlib.h"

/* CHECK_LIT compares against a string literal, which may hold NUL. */
#define CHECK_LIT(got, got_len, lit) CHECK_MEM(got, got_len, lit, sizeof(lit) - 1)

static void test_single(void) {
  ftps_buf b;
  ftps_buf_init(&b, 4096);
  CHECK_EQ_INT(ftps_reply(&b, 220, "Service ready."), 0);
  CHECK_LIT(b.data, b.len, "220 Service ready.\r\n");
  ftps_buf_reset(&b);
  CHECK_EQ_INT(ftps_reply(&b, 100, ""), 0);
  CHECK_EQ_INT(ftps_reply(&b, 599, NULL), 0);
  CHECK_LIT(b.data, b.len, "100 \r\n599 \r\n");
  ftps_buf_reset(&b);
  CHECK_EQ_INT(ftps_reply_n(&b, 250, "abcdef", 3), 0);
  CHECK_LIT(b.data, b.len, "250 abc\r\n");
  ftps_buf_reset(&b);
  /* appends after what is already there */
  CHECK_EQ_INT(ftps_reply(&b, 331, "Password required."), 0);
  CHECK_EQ_INT(ftps_reply(&b, 230, "Logged in."), 0);
  CHECK_LIT(b.data, b.len, "331 Password required.\r\n230 Logged in.\r\n");
  ftps_buf_cleanup(&b);
}

static void test_multi(void) {
  ftps_buf b;
  ftps_buf_init(&b, 4096);
  const char *feat[] = {"Extensions supported:", "AUTH TLS", "End"};
  CHECK_EQ_INT(ftps_reply_lines(&b, 211, feat, 1), 0);
  CHECK_LIT(b.data, b.len, "211 Extensions supported:\r\n"); /* n == 1: single line */
  ftps_buf_reset(&b);
  CHECK_EQ_INT(ftps_reply_lines(&b, 211, feat, 3), 0);
  CHECK_LIT(b.data, b.len, "211-Extensions supported:\r\n AUTH TLS\r\n211 End\r\n");
  ftps_buf_reset(&b);
  const char *two[] = {"first", "last"};
  CHECK_EQ_INT(ftps_reply_lines(&b, 214, two, 2), 0);
  CHECK_LIT(b.data, b.len, "214-first\r\n214 last\r\n");
  ftps_buf_reset(&b);
  /* a middle line that looks like an end line is indented, so it is not one */
  const char *sneaky[] = {"Help:", "214 done", "End"};
  CHECK_EQ_INT(ftps_reply_lines(&b, 214, sneaky, 3), 0);
  CHECK_LIT(b.data, b.len, "214-Help:\r\n 214 done\r\n214 End\r\n");
  ftps_buf_reset(&b);
  CHECK_EQ_INT(ftps_reply_lines(&b, 214, sneaky, 0), FTPS_ERR_INVAL);
  CHECK_EQ_INT(ftps_reply_lines(&b, 214, NULL, 2), FTPS_ERR_INVAL);
  CHECK_EQ_INT(b.len, 0);
  ftps_buf_cleanup(&b);
}

static void test_sanitise(void) {
  ftps_buf b;
  ftps_buf_init(&b, 4096);
  /* injection attempt: stays one line */
  CHECK_EQ_INT(ftps_reply(&b, 550, "foo\r\n200 x"), 0);
  CHECK_LIT(b.data, b.len, "550 foo??200 x\r\n");
  ftps_buf_reset(&b);
  CHECK_EQ_INT(ftps_reply_n(&b, 550, "a\0b\tc\x7f\x1b\xc3\xa9", 9), 0);
  CHECK_LIT(b.data, b.len, "550 a?b\tc??\xc3\xa9\r\n"); /* TAB and UTF-8 kept */
  ftps_buf_reset(&b);
  const char *lines[] = {"x\ry", "a\nb", "z\r\n"};
  CHECK_EQ_INT(ftps_reply_lines(&b, 211, lines, 3), 0);
  CHECK_LIT(b.data, b.len, "211-x?y\r\n a?b\r\n211 z??\r\n");
  ftps_buf_cleanup(&b);
}

static void test_cut(void) {
  static char text[FTPS_REPLY_TEXT_MAX + 100];
  ftps_buf b;
  ftps_buf_init(&b, 8192);
  memset(text, 'x', sizeof(text));
  CHECK_EQ_INT(ftps_reply_n(&b, 200, text, sizeof(text)), 0);
  CHECK_EQ_INT(b.len, 4 + FTPS_REPLY_TEXT_MAX + 2);
  CHECK_MEM(b.data + b.len - 3, 3, "x\r\n", 3);
  ftps_buf_reset(&b);
  /* a 2-byte UTF-8 sequence straddling the cut is not split */
  text[FTPS_REPLY_TEXT_MAX - 1] = (char)0xc3;
  text[FTPS_REPLY_TEXT_MAX] = (char)0xa9;
  CHECK_EQ_INT(ftps_reply_n(&b, 200, text, sizeof(text)), 0);
  CHECK_EQ_INT(b.len, 4 + FTPS_REPLY_TEXT_MAX - 1 + 2);
  CHECK_MEM(b.data + b.len - 3, 3, "x\r\n", 3);
  ftps_buf_reset(&b);
  /* exactly at the limit: not cut */
  CHECK_EQ_INT(ftps_reply_n(&b, 200, text, FTPS_REPLY_TEXT_MAX - 1), 0);
  CHECK_EQ_INT(b.len, 4 + FTPS_REPLY_TEXT_MAX - 1 + 2);
  ftps_buf_cleanup(&b);
}

static void test_unchanged_on_failure(void) {
  ftps_buf b;
  ftps_buf_init(&b, 30);
  CHECK_EQ_INT(ftps_reply(&b, 200, "ok"), 0); /* 8 bytes */
  CHECK_EQ_INT(ftps_reply(&b, 200, "this text is far too long for it"), FTPS_ERR_LIMIT);
  CHECK_LIT(b.data, b.len, "200 ok\r\n");
  const char *feat[] = {"Extensions supported:", "AUTH TLS", "End"};
  CHECK_EQ_INT(ftps_reply_lines(&b, 211, feat, 3), FTPS_ERR_LIMIT);
  CHECK_LIT(b.data, b.len, "200 ok\r\n");
  /* fails on the CRLF of the last byte: still rolled back */
  CHECK_EQ_INT(ftps_reply(&b, 200, "0123456789abcdefghi"), FTPS_ERR_LIMIT); /* 8+25 */
  CHECK_LIT(b.data, b.len, "200 ok\r\n");
  CHECK_EQ_INT(ftps_reply(&b, 200, "0123456789abcdef"), 0); /* 8+22 = 30 exactly */
  CHECK_EQ_INT(b.len, 30);
  ftps_buf_cleanup(&b);
}

/* dies_with_abort runs ftps_reply(code) in a child: a code outside 100..599
 * is our own bug, and the writer must abort rather than emit it. */
static int dies_with_abort(int code, int multi) {
  pid_t pid = fork();
  if (pid < 0)
    return 0;
  if (pid == 0) {
    ftps_buf b;
    ftps_buf_init(&b, 64);
    const char *lines[] = {"a", "b"};
    if (multi)
      ftps_reply_lines(&b, code, lines, 2);
    else
      ftps_reply(&b, code, "x");
    ftps_buf_cleanup(&b);
    _exit(0);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid)
    return 0;
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void test_bad_code(void) {
  CHECK(dies_with_abort(99, 0));
  CHECK(dies_with_abort(600, 0));
  CHECK(dies_with_abort(-200, 0));
  CHECK(dies_with_abort(1000, 1));
  CHECK(!dies_with_abort(100, 0));
  CHECK(!dies_with_abort(599, 1));
}

int main(void) {
  test_bad_code();
  test_single();
  test_multi();
  test_sanitise();
  test_cut();
  test_unchanged_on_failure();
  return testlib_finish();
}
