/* test_runner_fake.c - the runner against deliberately broken servers.
 *
 * This file defines the ftps_session API itself (a scripted fake), so the
 * linker never pulls the real session out of libftps_server.a. It checks
 * what the oracle relies on - a broken server's plaintext after 234 is
 * recorded, bare-LF and unterminated lines are kept, a reply written in
 * plaintext while TLS is on is told apart from other TLS errors - and that a
 * server that floods output or never goes quiet cannot hang the runner.
 * The fuzz_sequence harness is linked in too, so a fake's bug is shown to be
 * found by the harness itself, not only by the runner and the oracle. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ftps_err.h"
#include "ftps_session.h"
#include "ftps_tls.h"
#include "model.h"
#include "oracle.h"
#include "runner.h"
#include "testlib.h"
#include "transcript.h"

/* the fuzz_sequence harness (harnesses/fuzz_sequence.c), linked in */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef enum fake_mode {
  FAKE_OOPS,       /* vsftpd style: 234, then "500 OOPS" in plaintext */
  FAKE_LINES,      /* odd line endings, then close */
  FAKE_FLOOD,      /* endless output */
  FAKE_WAKE,       /* a wake time that is always due */
  FAKE_DRIP,       /* one output byte per call, never quiet */
  /* TLS after 234 (a real handshake on memory BIOs); NOOP is answered
   * inside TLS, STAT with the bytes below written around TLS: */
  FAKE_TLS_PLAIN,  /* a multi-line reply in plaintext */
  FAKE_TLS_LONG,   /* a plaintext reply line longer than the event shows */
  FAKE_TLS_JUNK,   /* bytes that are neither a record nor a reply */
  /* TLS after 234, a login, PBSZ/PROT P accepted, PASV, and a listing sent
   * in clear on the data connection (the client starts TLS on it): */
  FAKE_TLS_DATA_CLEAR,
  /* TLS after 234, a login; the client's close_notify is answered by an
   * encrypted 221, the server's close_notify and the close: */
  FAKE_TLS_BYE,
  /* ... or by going on in plaintext, without its own close_notify: */
  FAKE_TLS_UNTERMINATED,
  /* CVE-2011-1575 class: the lines pipelined behind AUTH TLS run (USER,
   * PASS log in; PWD then answers 257): */
  FAKE_INJECT_TLS,   /* after the handshake, answered inside TLS */
  FAKE_INJECT_PLAIN, /* at once, in plaintext after the 234 */
} fake_mode;

static fake_mode mode;
static SSL_CTX *tls_ctx; /* the fake's server context, built once */

static bool tls_mode(void) {
  return mode == FAKE_TLS_PLAIN || mode == FAKE_TLS_LONG || mode == FAKE_TLS_JUNK ||
         mode == FAKE_TLS_DATA_CLEAR || mode == FAKE_TLS_BYE || mode == FAKE_TLS_UNTERMINATED ||
         mode == FAKE_INJECT_TLS || mode == FAKE_INJECT_PLAIN;
}

struct ftps_session {
  uint8_t out[1 << 16];
  size_t out_len;
  char line[256];
  size_t line_len;
  bool after_234;
  bool closed;
  uint64_t now;
  SSL *ssl;          /* TLS modes, after 234 */
  BIO *rbio, *wbio;  /* borrowed from |ssl| */
  char tline[256];   /* a command line read inside TLS */
  size_t tline_len;
  /* FAKE_TLS_DATA_CLEAR: session events and the data connection */
  ftps_event_type events[4];
  size_t n_events;
  bool attached;
  uint8_t dout[64];  /* data output, in clear */
  size_t dout_len;
  bool transfer;     /* a LIST waits for the data connection's close */
  size_t data_in;    /* bytes the client sent on the data connection */
  char pipelined[256]; /* FAKE_INJECT_TLS: the lines behind AUTH, run after the handshake */
  size_t pipelined_len;
  bool logged_in;    /* an injected PASS ran */
};

static void push_event(ftps_session *s, ftps_event_type t) {
  if (s->n_events < sizeof(s->events) / sizeof(s->events[0]))
    s->events[s->n_events++] = t;
}

static void put(ftps_session *s, const char *text) {
  size_t n = strlen(text);
  if (n <= sizeof(s->out) - s->out_len) {
    memcpy(s->out + s->out_len, text, n);
    s->out_len += n;
  }
}

ftps_session *ftps_session_new(const ftps_server *server, uint64_t now_ms) {
  (void)server;
  ftps_session *s = calloc(1, sizeof(*s));
  if (s == NULL)
    return NULL;
  s->now = now_ms;
  if (mode == FAKE_LINES) {
    put(s, "220-bare\n220 crlf\r\ncr only\r220-x\r\n");
    put(s, "tail without end");
    s->closed = true;
  } else {
    put(s, "220 fake\r\n");
  }
  return s;
}

void ftps_session_free(ftps_session *s) {
  if (s != NULL)
    SSL_free(s->ssl);
  free(s);
}

static void put_bytes(ftps_session *s, const void *p, size_t n) {
  if (n <= sizeof(s->out) - s->out_len) {
    memcpy(s->out + s->out_len, p, n);
    s->out_len += n;
  }
}

/* tls_flush moves the server's TLS output (records) to the wire. */
static void tls_flush(ftps_session *s) {
  uint8_t buf[4096];
  int n;
  while ((n = BIO_read(s->wbio, buf, sizeof(buf))) > 0)
    put_bytes(s, buf, (size_t)n);
}

static void tls_start(ftps_session *s) {
  s->ssl = SSL_new(tls_ctx);
  s->rbio = BIO_new(BIO_s_mem());
  s->wbio = BIO_new(BIO_s_mem());
  CHECK(s->ssl != NULL && s->rbio != NULL && s->wbio != NULL);
  BIO_set_mem_eof_return(s->rbio, -1);
  SSL_set_bio(s->ssl, s->rbio, s->wbio);
  SSL_set_options(s->ssl, SSL_OP_NO_TICKET); /* no per-connection ticket keys here */
  SSL_set_accept_state(s->ssl);
}

static void tls_reply(ftps_session *s, const char *text) {
  SSL_write(s->ssl, text, (int)strlen(text));
  tls_flush(s);
}

/* data_command answers FAKE_TLS_DATA_CLEAR's commands inside TLS. */
static void data_command(ftps_session *s, const char *line) {
  if (strncmp(line, "USER ", 5) == 0) {
    tls_reply(s, "331 password\r\n");
  } else if (strncmp(line, "PASS ", 5) == 0) {
    tls_reply(s, "230 in\r\n");
  } else if (strcmp(line, "PASV") == 0) {
    tls_reply(s, "227 Entering Passive Mode (127,0,0,1,195,80)\r\n");
    push_event(s, FTPS_EV_DATA_LISTEN);
  } else if (strncmp(line, "LIST", 4) == 0 && s->attached) {
    /* the bug: a listing in clear under PROT P, whatever the client's
     * ClientHello said */
    tls_reply(s, "150 listing\r\n");
    static const char listing[] = "hello.txt\r\n";
    memcpy(s->dout, listing, sizeof(listing) - 1);
    s->dout_len = sizeof(listing) - 1;
    s->transfer = true;
    push_event(s, FTPS_EV_DATA_CLOSE);
  } else {
    tls_reply(s, "200 ok\r\n");
  }
}

/* injected_reply runs a line pipelined behind AUTH: the bug. */
static const char *injected_reply(ftps_session *s, const char *line) {
  if (strncmp(line, "USER ", 5) == 0)
    return "331 password please\r\n";
  if (strncmp(line, "PASS ", 5) == 0) {
    s->logged_in = true;
    return "230 logged in\r\n";
  }
  return "200 ok\r\n";
}

/* run_pipelined answers each line of |p| (CRLF-terminated) by |tls|. */
static void run_pipelined(ftps_session *s, const char *p, size_t n, bool tls) {
  char line[256];
  size_t len = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == '\r')
      continue;
    if (p[i] != '\n') {
      if (len + 1 < sizeof(line))
        line[len++] = p[i];
      continue;
    }
    line[len] = 0;
    const char *reply = injected_reply(s, line);
    if (tls)
      SSL_write(s->ssl, reply, (int)strlen(reply));
    else
      put(s, reply);
    len = 0;
  }
}

/* tls_command answers one command read inside TLS. */
static void tls_command(ftps_session *s, const char *line) {
  static const char reply[] = "200 ok\r\n";
  if (mode == FAKE_TLS_DATA_CLEAR || mode == FAKE_TLS_BYE || mode == FAKE_TLS_UNTERMINATED) {
    data_command(s, line);
    return;
  }
  if (strcmp(line, "PWD") == 0) {
    const char *pwd = s->logged_in ? "257 \"/\"\r\n" : "530 log in first\r\n";
    SSL_write(s->ssl, pwd, (int)strlen(pwd));
    tls_flush(s);
    return;
  }
  if (strcmp(line, "STAT") != 0) {
    SSL_write(s->ssl, reply, (int)sizeof(reply) - 1);
    tls_flush(s);
    return;
  }
  tls_flush(s); /* whatever TLS owes goes first */
  if (mode == FAKE_TLS_PLAIN)
    put(s, "211-status in plaintext\r\n 1 line\r\n211 end\r\n");
  else if (mode == FAKE_TLS_LONG)
    put(s, "211 0123456789012345678901234567890123456789012345678901234567890123456789"
           "0123456789 past the shown part\r\n");
  else
    put(s, "\x01\x02\x03\x04\x05\x06 not a reply\r\n");
}

/* tls_feed runs the fake's TLS server over |in|. */
static void tls_feed(ftps_session *s, const uint8_t *in, size_t len) {
  if (len > 0)
    BIO_write(s->rbio, in, (int)len);
  if (!SSL_is_init_finished(s->ssl)) {
    if (SSL_do_handshake(s->ssl) != 1) {
      tls_flush(s);
      ERR_clear_error();
      return;
    }
    /* the lines read before TLS are taken as if they came inside it */
    run_pipelined(s, s->pipelined, s->pipelined_len, true);
    s->pipelined_len = 0;
  }
  tls_flush(s);
  uint8_t buf[256];
  int n = 0;
  while (!s->closed && (n = SSL_read(s->ssl, buf, sizeof(buf))) > 0) {
    for (int i = 0; i < n; i++) {
      if (buf[i] == '\n') {
        s->tline[s->tline_len > 0 && s->tline[s->tline_len - 1] == '\r' ? s->tline_len - 1
                                                                         : s->tline_len] = 0;
        tls_command(s, s->tline);
        s->tline_len = 0;
      } else if (s->tline_len + 1 < sizeof(s->tline)) {
        s->tline[s->tline_len++] = (char)buf[i];
      }
    }
  }
  if (mode == FAKE_TLS_BYE && !s->closed &&
      SSL_get_error(s->ssl, n) == SSL_ERROR_ZERO_RETURN) {
    /* the client's close_notify: a goodbye inside TLS, then ours */
    tls_reply(s, "221 bye\r\n");
    SSL_shutdown(s->ssl);
    s->closed = true;
  }
  if (mode == FAKE_TLS_UNTERMINATED && SSL_get_error(s->ssl, n) == SSL_ERROR_ZERO_RETURN) {
    /* the client's close_notify: plaintext from now on, no close_notify */
    tls_flush(s);
    SSL_free(s->ssl);
    s->ssl = NULL;
    s->after_234 = false;
    ERR_clear_error();
    return;
  }
  tls_flush(s);
  ERR_clear_error(); /* the client shares this thread's error queue */
}

int ftps_session_feed(ftps_session *s, const uint8_t *in, size_t len, size_t *out_consumed) {
  *out_consumed = 0;
  if (s->closed)
    return FTPS_ERR_CLOSED;
  if (mode == FAKE_FLOOD || mode == FAKE_DRIP)
    return 0; /* output comes from ftps_session_output */
  if (s->ssl != NULL) {
    tls_feed(s, in, len);
    *out_consumed = len;
    return 0;
  }
  for (size_t i = 0; i < len; i++) {
    (*out_consumed)++;
    if (s->after_234 && tls_mode()) {
      tls_start(s);
      tls_feed(s, in + i, len - i);
      *out_consumed = len;
      return 0;
    }
    if (s->after_234) {
      /* whatever arrives (a ClientHello) gets the vsftpd answer */
      put(s, "500 OOPS: SSL_accept failed\r\n");
      s->closed = true;
      return 0;
    }
    if (in[i] != '\n') {
      if (s->line_len < sizeof(s->line))
        s->line[s->line_len++] = (char)in[i];
      continue;
    }
    if (s->line_len >= 9 && memcmp(s->line, "AUTH TLS\r", 9) == 0) {
      put(s, "234 go\r\n");
      s->after_234 = true;
      s->line_len = 0;
      /* the rest of this read: the bug keeps it as commands */
      const char *rest = (const char *)in + i + 1;
      size_t rest_len = len - i - 1;
      if (mode == FAKE_INJECT_PLAIN) {
        run_pipelined(s, rest, rest_len, false);
        *out_consumed = len;
        return 0;
      }
      if (mode == FAKE_INJECT_TLS && rest_len <= sizeof(s->pipelined)) {
        memcpy(s->pipelined, rest, rest_len);
        s->pipelined_len = rest_len;
        *out_consumed = len;
        return 0;
      }
      continue;
    } else {
      put(s, "200 ok\r\n");
    }
    s->line_len = 0;
  }
  return 0;
}

const uint8_t *ftps_session_output(const ftps_session *s, size_t *out_len) {
  ftps_session *m = (ftps_session *)s;
  if (mode == FAKE_FLOOD && m->out_len == 0) {
    memset(m->out, 'x', sizeof(m->out));
    m->out_len = sizeof(m->out);
  }
  if (mode == FAKE_DRIP && m->out_len == 0) {
    m->out[0] = 'y';
    m->out_len = 1;
  }
  *out_len = m->out_len;
  return m->out;
}

void ftps_session_output_consume(ftps_session *s, size_t n) {
  if (n > s->out_len)
    n = s->out_len;
  memmove(s->out, s->out + n, s->out_len - n);
  s->out_len -= n;
}

bool ftps_session_next_event(ftps_session *s, ftps_event *out) {
  if (s->n_events == 0)
    return false;
  memset(out, 0, sizeof(*out));
  out->type = s->events[0];
  memmove(s->events, s->events + 1, --s->n_events * sizeof(s->events[0]));
  return true;
}

uint64_t ftps_session_wake_time(const ftps_session *s) {
  return mode == FAKE_WAKE ? s->now : UINT64_MAX;
}

void ftps_session_advance(ftps_session *s, uint64_t now_ms) {
  if (now_ms > s->now)
    s->now = now_ms;
}

bool ftps_session_is_closed(const ftps_session *s) {
  return s->closed;
}

/* Only FAKE_TLS_DATA_CLEAR has a data connection (passive, in clear). */
void ftps_session_data_listening(ftps_session *s, int status, uint16_t port) {
  (void)s, (void)status, (void)port;
}

int ftps_session_data_attach(ftps_session *s, const ftps_addr *peer) {
  (void)peer;
  if (mode != FAKE_TLS_DATA_CLEAR)
    return FTPS_ERR_PERM;
  s->attached = true;
  return 0;
}

int ftps_session_data_feed(ftps_session *s, const uint8_t *in, size_t len, size_t *out_consumed) {
  (void)in;
  s->data_in += len; /* the client's ClientHello: ignored, as the bug goes */
  *out_consumed = len;
  return 0;
}

const uint8_t *ftps_session_data_output(const ftps_session *s, size_t *out_len) {
  *out_len = s->dout_len;
  return s->dout;
}

void ftps_session_data_output_consume(ftps_session *s, size_t n) {
  if (n > s->dout_len)
    n = s->dout_len;
  memmove(s->dout, s->dout + n, s->dout_len - n);
  s->dout_len -= n;
}

void ftps_session_data_eof(ftps_session *s) {
  (void)s;
}

void ftps_session_data_closed(ftps_session *s) {
  s->attached = false;
  if (s->transfer) {
    s->transfer = false;
    tls_reply(s, "226 done\r\n");
  }
}

/* The built-in policy, as server/ftps_session.c has it: the fuzz_sequence
 * harness linked in here builds the built-in test configuration, and
 * defining this keeps the real session out of the link. */
ftps_policy ftps_policy_default(void) {
  ftps_policy p = {
      .tls_required_login = true,
      .tls_required_data = true,
      .anonymous = false,
      .ccc_allowed = false,
      .require_tls_reuse = true,
      .max_login_failures = 3,
      .login_fail_delay_ms = 1000,
  };
  return p;
}

/* judged: the oracle's first violation on the transcript |m| produces. */
static long judged(fake_mode m, const char *text, oracle_violation *v) {
  transcript script, out;
  char err[256];
  ftps_server server;
  memset(&server, 0, sizeof(server));
  mode = m;
  transcript_init(&script);
  transcript_init(&out);
  CHECK_EQ_INT(transcript_parse_text(&script, text, strlen(text), "fake", err, sizeof(err)), 0);
  runner_run(&server, &script, NULL, &out, NULL);
  model_policy mp = model_policy_default();
  model_config mc = model_config_make(MODEL_PROFILE_DEFAULT, &mp);
  long n = oracle_check_transcript(&out, &mc, false, v);
  transcript_cleanup(&script);
  transcript_cleanup(&out);
  return n;
}

static char *run(fake_mode m, const char *text, int *out_rc, runner_result *res) {
  transcript script, out;
  char err[256];
  char *buf = NULL;
  size_t len = 0;
  ftps_server server;
  memset(&server, 0, sizeof(server));
  mode = m;
  transcript_init(&script);
  transcript_init(&out);
  CHECK_EQ_INT(transcript_parse_text(&script, text, strlen(text), "fake", err, sizeof(err)), 0);
  *out_rc = runner_run(&server, &script, NULL, &out, res);
  FILE *f = open_memstream(&buf, &len);
  transcript_print_text(&out, f);
  fclose(f);
  transcript_cleanup(&script);
  transcript_cleanup(&out);
  return buf;
}

/* A reply in plaintext while TLS is on makes the client's TLS fail; the
 * runner says it was plaintext and shows the line, and the oracle judges it
 * (NO_PLAINTEXT_AFTER_234). Bytes that are no reply keep the TLS reason. */
static void test_plaintext_under_tls(void) {
  int rc;
  runner_result res;
  oracle_violation v;
  static const char script[] = "C: AUTH TLS\nT: handshake\nC: NOOP\nC: STAT\nC: NOOP\n";
  static const char head[] = "S: 220 fake\nC: AUTH TLS\nS: 234 go\nT: handshake\nE: handshake ok\n"
                             "C: NOOP\nS: 200 ok\nC: STAT\n";
  tls_ctx = ftps_tls_server_ctx_new_self_signed("localhost");
  CHECK(tls_ctx != NULL);
  if (tls_ctx == NULL)
    return;

  char *t = run(FAKE_TLS_PLAIN, script, &rc, &res);
  CHECK_EQ_INT(rc, RUNNER_OK);
  CHECK(res.gave_up);
  CHECK_STR(t, "S: 220 fake\nC: AUTH TLS\nS: 234 go\nT: handshake\nE: handshake ok\n"
               "C: NOOP\nS: 200 ok\nC: STAT\nE: tls error plaintext 211-status in plaintext\n"
               "# not played: client gave up\n");
  free(t);
  CHECK_EQ_INT(judged(FAKE_TLS_PLAIN, script, &v), 1);
  CHECK_STR(oracle_invariant_name(v.inv), "NO_PLAINTEXT_AFTER_234");
  CHECK(strstr(v.why, "211-status in plaintext") != NULL);

  /* the event shows at most RUNNER_PLAINTEXT_SHOWN bytes of the line */
  t = run(FAKE_TLS_LONG, script, &rc, &res);
  CHECK(strncmp(t, head, strlen(head)) == 0);
  CHECK(strstr(t, "\nE: tls error plaintext 211 "
                  "0123456789012345678901234567890123456789012345678901234567890123456789012345\n"
                  "# not played: client gave up\n") != NULL);
  CHECK_EQ_INT(RUNNER_PLAINTEXT_SHOWN, 80);
  free(t);

  /* neither a record nor a reply: the TLS client's own reason, which the
   * oracle does not judge (the client gave up) */
  t = run(FAKE_TLS_JUNK, script, &rc, &res);
  CHECK(strncmp(t, head, strlen(head)) == 0);
  CHECK(strstr(t, "\nE: tls error ") != NULL);
  CHECK(strstr(t, "plaintext") == NULL);
  free(t);
  CHECK_EQ_INT(judged(FAKE_TLS_JUNK, script, &v), 0);
  SSL_CTX_free(tls_ctx);
  tls_ctx = NULL;
}

/* test_fuzz_sequence_finds runs the fuzz_sequence harness (linked in)
 * on |script| in binary form against the current fake, in a child (a
 * finding aborts), and checks it reports |finding|. */
static void test_fuzz_sequence_finds(const char *script, const char *finding) {
  transcript t;
  char err[256];
  uint8_t *bin = NULL;
  size_t bin_len = 0;
  transcript_init(&t);
  CHECK_EQ_INT(transcript_parse_text(&t, script, strlen(script), "fake", err, sizeof(err)), 0);
  CHECK_EQ_INT(transcript_encode_binary(&t, &bin, &bin_len), 0);
  transcript_cleanup(&t);
  int fds[2];
  CHECK_EQ_INT(pipe(fds), 0);
  fflush(NULL);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 2);
    close(fds[0]);
    int argc = 0;
    char **argv = NULL;
    LLVMFuzzerInitialize(&argc, &argv);
    LLVMFuzzerTestOneInput(bin, bin_len);
    _exit(0); /* no finding */
  }
  close(fds[1]);
  char out[16384];
  size_t got = 0;
  ssize_t n;
  while ((n = read(fds[0], out + got, sizeof(out) - 1 - got)) > 0)
    got += (size_t)n;
  out[got] = 0;
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  free(bin);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
  CHECK(strstr(out, finding) != NULL);
  if (strstr(out, finding) == NULL)
    fprintf(stderr, "fuzz_sequence said:\n%s\n", out);
}

/* Clear bytes on a protected data connection are seen (runner.h): the
 * client started TLS under PROT P, the server answered with a listing in
 * clear; the runner reads it to the end and records "E: data clear", and
 * the oracle calls it PROT_P_DATA_IS_TLS at the transfer's 226. */
static void test_clear_data_under_prot_p(void) {
  int rc;
  runner_result res;
  oracle_violation v;
  static const char script[] = "C: AUTH TLS\nT: handshake\nC: USER alice\nC: PASS x\n"
                               "C: PBSZ 0\nC: PROT P\nC: PASV\nD: open\nC: LIST\n";
  tls_ctx = ftps_tls_server_ctx_new_self_signed("localhost");
  CHECK(tls_ctx != NULL);
  if (tls_ctx == NULL)
    return;
  char *t = run(FAKE_TLS_DATA_CLEAR, script, &rc, &res);
  CHECK_EQ_INT(rc, RUNNER_OK);
  CHECK(!res.gave_up);
  CHECK_STR(t, "S: 220 fake\nC: AUTH TLS\nS: 234 go\nT: handshake\nE: handshake ok\n"
               "C: USER alice\nS: 331 password\nC: PASS x\nS: 230 in\nC: PBSZ 0\nS: 200 ok\n"
               "C: PROT P\nS: 200 ok\nC: PASV\nS: 227 Entering Passive Mode (127,0,0,1,195,80)\n"
               "D: open\nC: LIST\nS: 150 listing\nE: data clear 11 bytes sha256="
               "4dc18c15edb7e59d7b47162732576ddeee9b8158452bf5e9b94cc0330ea892d6\nS: 226 done\n");
  free(t);
  CHECK_EQ_INT(judged(FAKE_TLS_DATA_CLEAR, script, &v), 1);
  CHECK_STR(oracle_invariant_name(v.inv), "PROT_P_DATA_IS_TLS");
  test_fuzz_sequence_finds(script, "FINDING PROT_P_DATA_IS_TLS");
  SSL_CTX_free(tls_ctx);
  tls_ctx = NULL;
}

/* The client's own close_notify (runner.h): a server that answers it with
 * its 221 as an encrypted record and its own close_notify, then closes, is
 * heard inside TLS - the 221 is a reply in the TLS stream, not plaintext -
 * and nothing is found. */
static void test_reply_after_client_close_notify(void) {
  int rc;
  runner_result res;
  oracle_violation v;
  static const char script[] = "C: AUTH TLS\nT: handshake\nC: USER alice\nC: PASS x\n"
                               "T: close_notify\n";
  tls_ctx = ftps_tls_server_ctx_new_self_signed("localhost");
  CHECK(tls_ctx != NULL);
  if (tls_ctx == NULL)
    return;
  char *t = run(FAKE_TLS_BYE, script, &rc, &res);
  CHECK_EQ_INT(rc, RUNNER_OK);
  CHECK_STR(t, "S: 220 fake\nC: AUTH TLS\nS: 234 go\nT: handshake\nE: handshake ok\n"
               "C: USER alice\nS: 331 password\nC: PASS x\nS: 230 in\nT: close_notify\n"
               "E: tls after close_notify\nS: 221 bye\nE: tls shutdown\nE: closed\n");
  free(t);
  long n = judged(FAKE_TLS_BYE, script, &v);
  if (n > 0)
    fprintf(stderr, "%s %s\n", oracle_invariant_name(v.inv), v.why);
  CHECK_EQ_INT(n, 0);

  /* A server that goes on in plaintext without its close_notify: the first
   * byte that is no record ends its TLS stream ("E: tls unterminated") and
   * the replies are plaintext S: lines - judged as such: fine before a
   * login, TLS_REQUIRED_STAYS_TLS once logged in under the built-in policy */
  static const char anon[] = "C: AUTH TLS\nT: handshake\nT: close_notify\nC: NOOP\n";
  t = run(FAKE_TLS_UNTERMINATED, anon, &rc, &res);
  CHECK_EQ_INT(rc, RUNNER_OK);
  CHECK(!res.gave_up);
  CHECK_STR(t, "S: 220 fake\nC: AUTH TLS\nS: 234 go\nT: handshake\nE: handshake ok\n"
               "T: close_notify\nC: NOOP\nE: tls unterminated\nS: 200 ok\n");
  free(t);
  CHECK_EQ_INT(judged(FAKE_TLS_UNTERMINATED, anon, &v), 0);
  CHECK_EQ_INT(judged(FAKE_TLS_UNTERMINATED,
                      "C: AUTH TLS\nT: handshake\nC: USER alice\nC: PASS x\nT: close_notify\n"
                      "C: NOOP\n",
                      &v),
               1);
  CHECK_STR(oracle_invariant_name(v.inv), "TLS_REQUIRED_STAYS_TLS");
  SSL_CTX_free(tls_ctx);
  tls_ctx = NULL;
}

/* An injection (lines pipelined behind AUTH TLS run by the server) is
 * recorded and judged NO_PIPELINED_INJECTION whether the server answers
 * them inside TLS after the handshake or in plaintext before it; the
 * injected login shows on PWD. */
static void test_injection(void) {
  int rc;
  runner_result res;
  oracle_violation v;
  static const char script[] =
      "C: AUTH TLS\\r\\nUSER alice\\r\\nPASS wonderland\nT: handshake\nC: PWD\n";
  tls_ctx = ftps_tls_server_ctx_new_self_signed("localhost");
  CHECK(tls_ctx != NULL);
  if (tls_ctx == NULL)
    return;

  char *t = run(FAKE_INJECT_TLS, script, &rc, &res);
  CHECK_EQ_INT(rc, RUNNER_OK);
  CHECK(strstr(t, "S: 234 go\nT: handshake\nE: handshake ok\nS: 331 password please\n"
                  "S: 230 logged in\nC: PWD\nS: 257 \"/\"\n") != NULL);
  free(t);
  CHECK_EQ_INT(judged(FAKE_INJECT_TLS, script, &v), 1);
  CHECK_STR(oracle_invariant_name(v.inv), "NO_PIPELINED_INJECTION");

  t = run(FAKE_INJECT_PLAIN, script, &rc, &res);
  CHECK_EQ_INT(rc, RUNNER_OK);
  CHECK(strstr(t, "S: 234 go\nS: 331 password please\nS: 230 logged in\nT: handshake\n"
                  "E: handshake ok\nC: PWD\nS: 257 \"/\"\n") != NULL);
  free(t);
  CHECK_EQ_INT(judged(FAKE_INJECT_PLAIN, script, &v), 1);
  CHECK_STR(oracle_invariant_name(v.inv), "NO_PIPELINED_INJECTION");

  /* a harmless command behind AUTH, answered inside TLS with nothing due */
  static const char noop[] = "C: AUTH TLS\\r\\nNOOP\nT: handshake\n";
  t = run(FAKE_INJECT_TLS, noop, &rc, &res);
  CHECK(strstr(t, "E: handshake ok\nS: 200 ok\n") != NULL);
  free(t);
  CHECK_EQ_INT(judged(FAKE_INJECT_TLS, noop, &v), 1);
  CHECK_STR(oracle_invariant_name(v.inv), "NO_PIPELINED_INJECTION");
  SSL_CTX_free(tls_ctx);
  tls_ctx = NULL;
}

int main(void) {
  int rc;
  runner_result res;

  /* NO_PLAINTEXT_AFTER_234 must be visible: the plaintext after 234 is an
   * S: line, and the handshake fails on the closed connection. */
  char *t = run(FAKE_OOPS, "C: AUTH TLS\nT: handshake\nC: NOOP\n", &rc, &res);
  CHECK_EQ_INT(rc, RUNNER_OK);
  CHECK_STR(t, "S: 220 fake\nC: AUTH TLS\nS: 234 go\nT: handshake\n"
               "S: 500 OOPS: SSL_accept failed\nE: handshake failed eof\nE: closed\n"
               "# not played: connection closed\n");
  free(t);

  /* ... and the oracle sees it in what the runner recorded */
  oracle_violation v;
  CHECK_EQ_INT(judged(FAKE_OOPS, "C: AUTH TLS\nT: handshake\n", &v), 1);
  CHECK_STR(oracle_invariant_name(v.inv), "NO_PLAINTEXT_AFTER_234");

  /* line endings: a bare LF stays in the payload, a lone CR too, and an
   * unterminated tail is recorded when the connection closes */
  t = run(FAKE_LINES, "C: NOOP\n", &rc, &res);
  CHECK_STR(t, "S: 220-bare\\n\nS: 220 crlf\nS: cr only\\r220-x\nS: tail without end\n"
               "E: closed\n# not played: connection closed\n");
  free(t);

  /* a server that never stops talking is cut off */
  t = run(FAKE_FLOOD, "C: NOOP\nC: NOOP\n", &rc, &res);
  CHECK_EQ_INT(rc, RUNNER_LIMIT);
  CHECK_STR(res.limit, "output");
  CHECK(res.gave_up);
  CHECK(res.server_bytes <= RUNNER_OUTPUT_MAX);
  CHECK(strstr(t, "E: limit output\n# not played: client gave up\n") != NULL);
  free(t);

  t = run(FAKE_WAKE, "C: NOOP\n", &rc, &res);
  CHECK_EQ_INT(rc, RUNNER_LIMIT);
  CHECK_STR(res.limit, "wake");
  free(t);

  t = run(FAKE_DRIP, "C: NOOP\n", &rc, &res);
  CHECK_EQ_INT(rc, RUNNER_LIMIT);
  CHECK_STR(res.limit, "pump");
  free(t);

  /* a limit the script expects is a match, not a mismatch */
  t = run(FAKE_WAKE, "S: 220 fake\nE: limit wake\n", &rc, &res);
  CHECK_EQ_INT(rc, RUNNER_LIMIT);
  CHECK(res.matched);
  free(t);

  test_plaintext_under_tls();
  test_clear_data_under_prot_p();
  test_reply_after_client_close_notify();
  test_injection();

  /* TLS version bounds the client does not know are refused up front */
  runner_options bad = runner_options_default();
  bad.tls_min = 0x0999;
  transcript s, o;
  transcript_init(&s);
  transcript_init(&o);
  ftps_server none;
  memset(&none, 0, sizeof(none));
  CHECK_EQ_INT(runner_run(&none, &s, &bad, &o, NULL), RUNNER_ERR_INVAL);
  bad.tls_min = TLS1_3_VERSION;
  bad.tls_max = TLS1_2_VERSION;
  CHECK_EQ_INT(runner_run(&none, &s, &bad, &o, NULL), RUNNER_ERR_INVAL);
  transcript_cleanup(&s);
  transcript_cleanup(&o);
  return testlib_finish();
}
