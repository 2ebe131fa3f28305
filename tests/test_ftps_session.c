/* test_ftps_session.c - the sans-IO session API: framing, bounded memory,
 * backpressure, the clock, events, and the TLS upgrade driven by the
 * runner's client. Reply sequences of whole flows are covered by the
 * transcript tests (tests/scripts); these tests pin the API contract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftps_err.h"
#include "ftps_session.h"
#include "test_config.h"
#include "testlib.h"
#include "tls_client.h"

/* Feeds all of |in| (draining output into |out| between feeds, as a
 * transport would) and returns how many feed calls were needed. */
static size_t feed_all(ftps_session *s, const void *in, size_t len, char *out, size_t out_cap,
                       size_t *out_len) {
  const uint8_t *p = in;
  size_t calls = 0;
  for (;;) {
    size_t used = 0;
    int err = ftps_session_feed(s, p, len, &used);
    calls++;
    p += used;
    len -= used;
    size_t n;
    const uint8_t *o = ftps_session_output(s, &n);
    if (out && *out_len + n <= out_cap) {
      memcpy(out + *out_len, o, n);
      *out_len += n;
    }
    ftps_session_output_consume(s, n);
    if (err || len == 0 || (used == 0 && n == 0))
      break;
  }
  return calls;
}

static size_t count(const char *hay, size_t len, const char *needle) {
  size_t c = 0, nl = strlen(needle);
  for (size_t i = 0; i + nl <= len; i++)
    if (!memcmp(hay + i, needle, nl))
      c++;
  return c;
}

static void test_plain_basics(test_config *cfg) {
  static char out[1 << 16];
  size_t n = 0;
  ftps_session *s = ftps_session_new(&cfg->server, 0);
  CHECK(s != NULL);
  const char *cmds = "FEAT\r\nUSER alice\r\nPBSZ 0\r\nPROT P\r\nXYZZ\r\nUSERX a\r\nnoop\r\nQUIT\r\n";
  feed_all(s, cmds, strlen(cmds), out, sizeof(out), &n);
  const char *want =
      "220 ftpsfuzz ready.\r\n"
      "211-Extensions supported:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n EPRT\r\n EPSV\r\n MDTM\r\n"
      " MLST type*;size*;modify*;perm*;unique*;\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n"
      "530 TLS required: use AUTH TLS first.\r\n"
      "503 Bad sequence: the control connection is not protected.\r\n"
      "503 Bad sequence: the control connection is not protected.\r\n"
      "500 Unknown command.\r\n"
      "500 Syntax error, command unrecognized.\r\n"
      "200 NOOP ok.\r\n"
      "221 Goodbye.\r\n";
  CHECK_MEM(out, n, want, strlen(want));
  CHECK(ftps_session_is_closed(s));
  size_t used = 99;
  CHECK_EQ_INT(ftps_session_feed(s, (const uint8_t *)"NOOP\r\n", 6, &used), FTPS_ERR_CLOSED);
  CHECK_EQ_INT(used, 0);
  ftps_event ev;
  int saw_close = 0;
  while (ftps_session_next_event(s, &ev))
    saw_close |= ev.type == FTPS_EV_CLOSE;
  CHECK(saw_close);
  ftps_session_free(s);
}

/* 10 MB without a line end: everything is consumed (the framer drops an
 * overlong line's bytes), memory stays bounded, one 500 follows at the end. */
static void test_overlong_stream(test_config *cfg) {
  static char out[4096];
  size_t n = 0;
  size_t big = 10u << 20;
  char *junk = malloc(big);
  CHECK(junk != NULL);
  if (!junk)
    return;
  memset(junk, 'A', big);
  ftps_session *s = ftps_session_new(&cfg->server, 0);
  feed_all(s, junk, big, out, sizeof(out), &n);
  feed_all(s, "\r\nNOOP\r\n", 8, out, sizeof(out), &n);
  const char *want = "220 ftpsfuzz ready.\r\n500 Command line too long.\r\n200 NOOP ok.\r\n";
  CHECK_MEM(out, n, want, strlen(want));
  ftps_session_free(s);
  free(junk);
}

/* A client that never reads: input processing pauses at the output cap and
 * feed() takes only part of the input; once output drains, every command is
 * answered exactly once, in order. */
static void test_backpressure(test_config *cfg) {
  const size_t cmds = 100000;
  size_t len = cmds * 6;
  char *in = malloc(len);
  CHECK(in != NULL);
  if (!in)
    return;
  for (size_t i = 0; i < cmds; i++)
    memcpy(in + 6 * i, "NOOP\r\n", 6);
  ftps_session *s = ftps_session_new(&cfg->server, 0);
  size_t used = 0;
  CHECK_EQ_INT(ftps_session_feed(s, (uint8_t *)in, len, &used), 0);
  CHECK(used < len); /* paused: 100000 replies do not fit the output cap */
  size_t out_len;
  ftps_session_output(s, &out_len);
  CHECK(out_len >= FTPS_SESSION_OUTPUT_MAX);
  CHECK(out_len <= FTPS_SESSION_OUTPUT_MAX + 64 * 1024);
  /* Drain and continue: all replies arrive. */
  size_t replies = 0;
  const uint8_t *p = (uint8_t *)in + used;
  size_t left = len - used;
  for (int guard = 0; guard < 100000; guard++) {
    const uint8_t *o = ftps_session_output(s, &out_len);
    replies += count((const char *)o, out_len, "200 NOOP ok.\r\n");
    ftps_session_output_consume(s, out_len);
    size_t u = 0;
    ftps_session_feed(s, p, left, &u);
    p += u;
    left -= u;
    ftps_session_output(s, &out_len);
    if (left == 0 && out_len == 0)
      break;
  }
  CHECK_EQ_INT(replies, cmds);
  ftps_session_free(s);
  free(in);
}

/* Moves bytes between the client and the session until neither has any. */
static void pump(ftps_session *s, tls_client *c, char *plain, size_t cap, size_t *plain_len) {
  for (int i = 0; i < 1000; i++) {
    int moved = 0;
    uint8_t buf[16384];
    size_t n;
    const uint8_t *o = ftps_session_output(s, &n);
    if (n) {
      tls_client_push(c, o, n);
      ftps_session_output_consume(s, n);
      moved = 1;
    }
    if (!tls_client_handshake_done(c))
      tls_client_handshake(c);
    while (tls_client_pending(c)) {
      size_t got, used;
      tls_client_pull(c, buf, sizeof(buf), &got);
      ftps_session_feed(s, buf, got, &used);
      moved = 1;
    }
    if (tls_client_handshake_done(c) && plain) {
      size_t got = 0;
      if (tls_client_read(c, buf, sizeof(buf), &got) == 0 && got && *plain_len + got <= cap) {
        memcpy(plain + *plain_len, buf, got);
        *plain_len += got;
        moved = 1;
      }
    }
    if (!moved)
      return;
  }
}

/* AUTH TLS, handshake, a failed PASS held by the clock, then success. */
static void test_tls_login_and_clock(test_config *cfg) {
  ftps_session *s = ftps_session_new(&cfg->server, 5000);
  size_t n;
  ftps_session_output_consume(s, 100);
  size_t used;
  ftps_session_feed(s, (const uint8_t *)"AUTH TLS\r\n", 10, &used);
  const uint8_t *o = ftps_session_output(s, &n);
  const char *want234 = "234 Proceed with TLS negotiation.\r\n";
  CHECK_MEM(o, n, want234, strlen(want234));
  ftps_session_output_consume(s, n);

  tls_client *c = tls_client_new();
  static char plain[8192];
  size_t plain_len = 0;
  pump(s, c, plain, sizeof(plain), &plain_len);
  CHECK(tls_client_handshake_done(c));

  const char *bad = "USER alice\r\nPASS nope\r\nNOOP\r\n";
  tls_client_write(c, (const uint8_t *)bad, strlen(bad));
  pump(s, c, plain, sizeof(plain), &plain_len);
  /* The 530 is held: only the 331 arrived, NOOP waits behind it. */
  const char *want1 = "331 Password required.\r\n";
  CHECK_MEM(plain, plain_len, want1, strlen(want1));
  CHECK_EQ_INT(ftps_session_wake_time(s), 6000);
  ftps_session_advance(s, 5999);
  pump(s, c, plain, sizeof(plain), &plain_len);
  CHECK_EQ_INT(plain_len, strlen(want1));
  ftps_session_advance(s, 6000);
  pump(s, c, plain, sizeof(plain), &plain_len);
  const char *want2 = "331 Password required.\r\n530 Login incorrect.\r\n200 NOOP ok.\r\n";
  CHECK_MEM(plain, plain_len, want2, strlen(want2));
  CHECK_EQ_INT(ftps_session_wake_time(s), UINT64_MAX);

  const char *good = "USER alice\r\nPASS wonderland\r\nPBSZ 0\r\nPROT P\r\n";
  plain_len = 0;
  tls_client_write(c, (const uint8_t *)good, strlen(good));
  pump(s, c, plain, sizeof(plain), &plain_len);
  const char *want3 = "331 Password required.\r\n230 User logged in.\r\n200 PBSZ=0\r\n"
                      "200 Protection level set to P.\r\n";
  CHECK_MEM(plain, plain_len, want3, strlen(want3));
  CHECK(memmem(plain, plain_len, "wonderland", 10) == NULL);

  ftps_event ev;
  int start = 0, ready = 0, login = 0;
  while (ftps_session_next_event(s, &ev)) {
    start += ev.type == FTPS_EV_TLS_START;
    ready += ev.type == FTPS_EV_TLS_READY;
    if (ev.type == FTPS_EV_LOGIN) {
      login++;
      CHECK_STR(ev.detail, "alice");
    }
  }
  CHECK_EQ_INT(start, 1);
  CHECK_EQ_INT(ready, 1);
  CHECK_EQ_INT(login, 1);
  tls_client_free(c);
  ftps_session_free(s);
}

/* Plaintext pipelined behind AUTH is TLS input: never executed, and the
 * session closes without a plaintext byte after the 234. */
static void test_pipelined_after_auth(test_config *cfg) {
  ftps_session *s = ftps_session_new(&cfg->server, 0);
  size_t n, used;
  ftps_session_output(s, &n);
  ftps_session_output_consume(s, n);
  const char *in = "AUTH TLS\r\nUSER alice\r\nPASS wonderland\r\n";
  ftps_session_feed(s, (const uint8_t *)in, strlen(in), &used);
  CHECK_EQ_INT(used, strlen(in));
  CHECK(ftps_session_is_closed(s));
  const uint8_t *o = ftps_session_output(s, &n);
  const char *want = "234 Proceed with TLS negotiation.\r\n";
  CHECK(n >= strlen(want));
  CHECK_MEM(o, strlen(want), want, strlen(want));
  /* Anything after the 234 must be a TLS record (an alert), not text. */
  if (n > strlen(want))
    CHECK(o[strlen(want)] == 0x15);
  ftps_event ev;
  int failed = 0, login = 0;
  while (ftps_session_next_event(s, &ev)) {
    failed += ev.type == FTPS_EV_TLS_FAILED;
    login += ev.type == FTPS_EV_LOGIN;
  }
  CHECK_EQ_INT(failed, 1);
  CHECK_EQ_INT(login, 0);
  ftps_session_free(s);
}

/* login_async: PASS waits for the transport's verdict (no later command
 * runs meanwhile) and then gets the same replies and events as an inline
 * check; a session freed with a check pending leaks nothing. */
static void test_async_login(test_config *cfg) {
  ftps_server srv = cfg->server;
  srv.policy.tls_required_login = false;
  srv.login_async = true;
  static char out[4096];
  size_t n = 0;
  ftps_session *s = ftps_session_new(&srv, 0);
  CHECK(s != NULL);
  const char *in = "USER alice\r\nPASS wonderland\r\nNOOP\r\n";
  feed_all(s, in, strlen(in), out, sizeof(out), &n);
  const char *want1 = "220 ftpsfuzz ready.\r\n331 Password required.\r\n";
  CHECK_MEM(out, n, want1, strlen(want1));
  ftps_event ev;
  int checks = 0;
  while (ftps_session_next_event(s, &ev))
    checks += ev.type == FTPS_EV_LOGIN_CHECK;
  CHECK_EQ_INT(checks, 1);
  const char *user = NULL;
  const uint8_t *pw = NULL;
  size_t pw_len = 0;
  CHECK(ftps_session_login_pending(s, &user, &pw, &pw_len));
  CHECK(strcmp(user, "alice") == 0);
  CHECK_MEM(pw, pw_len, "wonderland", 10);
  ftps_session_login_result(s, true);
  CHECK(!ftps_session_login_pending(s, &user, &pw, &pw_len));
  n = 0;
  feed_all(s, NULL, 0, out, sizeof(out), &n);
  const char *want2 = "230 User logged in.\r\n200 NOOP ok.\r\n";
  CHECK_MEM(out, n, want2, strlen(want2));
  int logins = 0;
  while (ftps_session_next_event(s, &ev))
    logins += ev.type == FTPS_EV_LOGIN;
  CHECK_EQ_INT(logins, 1);
  ftps_session_free(s);

  /* A refusal is held by the clock like an inline one. */
  s = ftps_session_new(&srv, 0);
  n = 0;
  in = "USER nobody\r\nPASS guess\r\n";
  feed_all(s, in, strlen(in), out, sizeof(out), &n);
  CHECK(ftps_session_login_pending(s, &user, &pw, &pw_len));
  ftps_session_login_result(s, false);
  n = 0;
  feed_all(s, NULL, 0, out, sizeof(out), &n);
  CHECK_EQ_INT(n, 0);
  CHECK(ftps_session_wake_time(s) == srv.policy.login_fail_delay_ms);
  ftps_session_advance(s, srv.policy.login_fail_delay_ms);
  feed_all(s, NULL, 0, out, sizeof(out), &n);
  CHECK_MEM(out, n, "530 Login incorrect.\r\n", 22);
  ftps_session_free(s);

  /* Freed while the check is pending. */
  s = ftps_session_new(&srv, 0);
  n = 0;
  feed_all(s, in, strlen(in), out, sizeof(out), &n);
  CHECK(ftps_session_login_pending(s, &user, &pw, &pw_len));
  ftps_session_free(s);
}

/* The operator's records: a refused PASS gives FTPS_EV_LOGIN_FAILED with the
 * name and never the password; a finished transfer gives FTPS_EV_TRANSFER
 * with verb, path, bytes, time and the final reply. */
static void test_log_records(test_config *cfg) {
  ftps_policy saved = cfg->server.policy;
  cfg->server.policy.tls_required_login = false;
  cfg->server.policy.tls_required_data = false;
  cfg->server.policy.login_fail_delay_ms = 0;
  ftps_session *s = ftps_session_new(&cfg->server, 1000);
  static char out[1 << 14];
  size_t n = 0;
  const char *in = "USER bob\r\nPASS s3cret\r\nUSER alice\r\nPASS wonderland\r\nPASV\r\n";
  feed_all(s, in, strlen(in), out, sizeof(out), &n);
  ftps_event ev;
  int failed = 0, ok = 0, listen = 0;
  while (ftps_session_next_event(s, &ev)) {
    if (ev.type == FTPS_EV_LOGIN_FAILED) {
      failed++;
      CHECK_STR(ev.detail, "bob");
    }
    ok += ev.type == FTPS_EV_LOGIN;
    listen += ev.type == FTPS_EV_DATA_LISTEN;
    CHECK(strstr(ev.detail, "s3cret") == NULL);
  }
  CHECK_EQ_INT(failed, 1);
  CHECK_EQ_INT(ok, 1);
  CHECK_EQ_INT(listen, 1);
  ftps_session_data_listening(s, 0, 40000);
  ftps_session_advance(s, 1500);
  feed_all(s, "RETR /pub/hello.txt\r\n", 21, out, sizeof(out), &n);
  ftps_addr peer = {.family = 4, .ip = {127, 0, 0, 1}, .port = 5555};
  CHECK_EQ_INT(ftps_session_data_attach(s, &peer), 0);
  size_t dn;
  ftps_session_data_output(s, &dn);
  CHECK_EQ_INT(dn, 7); /* TYPE A: "hello\r\n" */
  ftps_session_data_output_consume(s, dn);
  ftps_session_advance(s, 1750);
  int closes = 0, xfers = 0;
  while (ftps_session_next_event(s, &ev))
    closes += ev.type == FTPS_EV_DATA_CLOSE;
  CHECK_EQ_INT(closes, 1);
  ftps_session_data_closed(s);
  while (ftps_session_next_event(s, &ev)) {
    if (ev.type != FTPS_EV_TRANSFER)
      continue;
    xfers++;
    CHECK_STR(ev.detail, "/pub/hello.txt");
    CHECK_STR(ev.xfer.verb, "RETR");
    CHECK(!ev.xfer.upload);
    CHECK(!ev.xfer.path_cut);
    CHECK_EQ_INT(ev.xfer.bytes, 6);
    CHECK_EQ_INT(ev.xfer.ms, 250);
    CHECK_EQ_INT(ev.xfer.code, 226);
  }
  CHECK_EQ_INT(xfers, 1);
  /* A flood of refused logins after ABOR's close request: the ring drops
   * log records, never the request. */
  feed_all(s, "PASV\r\n", 6, out, sizeof(out), &n);
  while (ftps_session_next_event(s, &ev))
    ;
  ftps_session_data_listening(s, 0, 40001);
  static char flood[6 + 40 * 16 + 1];
  strcpy(flood, "ABOR\r\n");
  for (int i = 0; i < 40; i++)
    strcat(flood, "USER anonymous\r\n");
  n = 0;
  feed_all(s, flood, strlen(flood), out, sizeof(out), &n);
  closes = failed = 0;
  while (ftps_session_next_event(s, &ev)) {
    closes += ev.type == FTPS_EV_DATA_CLOSE;
    failed += ev.type == FTPS_EV_LOGIN_FAILED;
  }
  CHECK_EQ_INT(closes, 1);
  CHECK(failed > 20 && failed < 40); /* bounded: the oldest records went */
  ftps_session_free(s);
  cfg->server.policy = saved;
}

int main(void) {
  test_config cfg;
  if (test_config_init(&cfg) != 0) {
    fprintf(stderr, "cannot build the test configuration\n");
    return 1;
  }
  test_plain_basics(&cfg);
  test_overlong_stream(&cfg);
  test_backpressure(&cfg);
  test_tls_login_and_clock(&cfg);
  test_pipelined_after_auth(&cfg);
  test_async_login(&cfg);
  test_log_records(&cfg);
  test_config_cleanup(&cfg);
  return testlib_finish();
}
