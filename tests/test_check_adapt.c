/* test_check_adapt.c - check_adapt (driver/check_adapt.c) and the
 * connection helpers it uses (driver/check_conn.c): a login pipelined
 * behind AUTH gets no CWD written after it in plaintext (that would break
 * the handshake and hide an injection), AUTH TLS becomes AUTH SSL for an
 * AUTH SSL-only target, and implicit TLS keeps or drops scripts and leaves
 * out their leading AUTH and handshake. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "testlib.h"
#include "transcript.h"

/* adapt parses |text|, adapts it with |c| and returns the result as text
 * (caller frees), or NULL when check_adapt did not return 0 (*rc says). */
static char *adapt(const check_adapt_ctx *c, const char *text, int *rc) {
  transcript in, out;
  char err[256], *buf = NULL;
  size_t len = 0;
  transcript_init(&in);
  transcript_init(&out);
  CHECK_EQ_INT(transcript_parse_text(&in, text, strlen(text), "t", err, sizeof(err)), 0);
  *rc = check_adapt(c, &in, &out, NULL);
  if (*rc == 0) {
    FILE *f = open_memstream(&buf, &len);
    transcript_print_text(&out, f);
    fclose(f);
  }
  transcript_cleanup(&in);
  transcript_cleanup(&out);
  return buf;
}

static check_adapt_ctx ctx(void) {
  check_adapt_ctx c;
  memset(&c, 0, sizeof(c));
  c.user = "bob";
  c.pass = "secret";
  c.base = "/home/bob/w";
  return c;
}

static void test_pipelined_login_no_cwd(void) {
  check_adapt_ctx c = ctx();
  int rc;
  /* a real login: the CWD into the working directory follows it */
  char *t = adapt(&c, "C: AUTH TLS\nT: handshake\nC: USER alice\nC: PASS wonderland\nC: PWD\n",
                  &rc);
  CHECK_EQ_INT(rc, 0);
  CHECK_STR(t, "C: AUTH TLS\nT: handshake\nC: USER bob\nC: PASS secret\n"
               "C: CWD /home/bob/w/upload\nC: PWD\n");
  free(t);
  /* pipelined behind AUTH: the same lines, nothing added in plaintext */
  t = adapt(&c, "C: AUTH TLS\\r\\nUSER alice\\r\\nPASS wonderland\nT: handshake\nC: PWD\n", &rc);
  CHECK_EQ_INT(rc, 0);
  CHECK_STR(t, "C: AUTH TLS\\r\\nUSER bob\\r\\nPASS secret\nT: handshake\nC: PWD\n");
  free(t);
}

static void test_auth_ssl(void) {
  check_adapt_ctx c = ctx();
  c.auth_ssl = true;
  int rc;
  char *t = adapt(&c, "C: AUTH TLS\\r\\nSYST\nT: handshake\nC: AUTH TLS-P\nC: auth tls\n", &rc);
  CHECK_EQ_INT(rc, 0);
  CHECK_STR(t, "C: AUTH SSL\\r\\nSYST\nT: handshake\nC: AUTH TLS-P\nC: AUTH SSL\n");
  free(t);
}

static void test_implicit(void) {
  check_adapt_ctx c = ctx();
  c.implicit = true;
  c.base = "";
  int rc;
  /* kept: the leading AUTH and its handshake go, comments stay */
  char *t = adapt(&c, "# client: data_prot=tls\nC: AUTH SSL\nT: handshake\nC: USER alice\n"
                      "C: PASS wonderland\nC: AUTH TLS\nC: PBSZ 0\n",
                  &rc);
  CHECK_EQ_INT(rc, 0);
  CHECK_STR(t, "# client: data_prot=tls\nC: USER bob\nC: PASS secret\nC: AUTH TLS\nC: PBSZ 0\n");
  free(t);
  /* about the upgrade itself: dropped (2) */
  static const char *const dropped[] = {
      "C: AUTH TLS\\r\\nSYST\nT: handshake\nC: NOOP\n",              /* pipelined */
      "C: USER alice\nC: PASS bad0\n",                                 /* plaintext */
      "C: AUTH TLS\nR: GET /\\r\\n\nT: handshake\n",                   /* bytes before it */
      "C: AUTH TLS\nT: handshake\nC: CCC\nT: close_notify\nC: AUTH TLS\nT: handshake\n",
  };
  for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++) {
    t = adapt(&c, dropped[i], &rc);
    CHECK_EQ_INT(rc, 2);
    CHECK(t == NULL);
  }
}

int main(void) {
  test_pipelined_login_no_cwd();
  test_auth_ssl();
  test_implicit();
  return testlib_finish();
}
