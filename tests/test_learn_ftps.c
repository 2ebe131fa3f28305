/* test_learn_ftps.c - the FTPS mapper (driver/learn_ftps.h) and the
 * alphabet (model/learn_alphabet.h) by direct queries against the
 * in-process server under the built-in policy: each abstract input gets the
 * output the server's replies and the runner's events say, a closed
 * connection is a sink, and the alphabet's table and the mapper's agree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "learn_alphabet.h"
#include "learn_ftps.h"
#include "test_config.h"
#include "testlib.h"

static learn_alphabet full;

/* parse_word: |names| (space-separated inputs) as a word of |full|. */
static size_t parse_word(const char *names, learn_sym *word) {
  size_t n = 0;
  char buf[512];
  snprintf(buf, sizeof(buf), "%s", names);
  for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
    int a = learn_alpha_find(t);
    CHECK(a >= 0);
    for (size_t j = 0; j < full.n; j++)
      if (full.idx[j] == (unsigned)a)
        word[n] = (learn_sym)j;
    n++;
  }
  return n;
}

/* ask plays |names| (space-separated inputs) as one query and checks the
 * outputs against |want| (space-separated). */
static void ask(learn_ftps *m, const char *names, const char *want) {
  learn_sul s = learn_ftps_sul(m);
  learn_sym word[32];
  size_t n = parse_word(names, word);
  learn_out out[32];
  char err[256] = "";
  int rc = s.query(s.ctx, word, n, out, err, sizeof(err));
  CHECK_EQ_INT(rc, 0);
  char got[1024];
  size_t used = 0;
  got[0] = 0;
  for (size_t i = 0; i < n && rc == 0; i++)
    used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s", i ? " " : "",
                             s.output_name(s.ctx, out[i]));
  if (strcmp(got, want) != 0)
    fprintf(stderr, "query: %s\n  got:  %s\n  want: %s\n", names, got, want);
  CHECK_STR(got, want);
}

static void test_alphabet(void) {
  size_t n;
  const learn_alpha_input *t = learn_alpha_inputs(&n);
  for (size_t i = 0; i < n; i++)
    CHECK(learn_ftps_has_steps(t[i].name));
  learn_alphabet a;
  char err[512];
  CHECK_EQ_INT(learn_alphabet_select(&a, "core", err, sizeof(err)), 0);
  CHECK_EQ_INT(a.n, 8);
  CHECK_EQ_INT(learn_alphabet_select(&a, "security", err, sizeof(err)), 0);
  CHECK_EQ_INT(a.n, 19);
  CHECK_EQ_INT(learn_alphabet_select(&a, "full", err, sizeof(err)), 0);
  CHECK_EQ_INT(a.n, n);
  char path[] = "/tmp/test_learn_alpha_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  const char good[] = "# a small one\nAUTH_TLS\n  HANDSHAKE \n\nCCC\n";
  CHECK(write(fd, good, sizeof(good) - 1) == (ssize_t)(sizeof(good) - 1));
  close(fd);
  CHECK_EQ_INT(learn_alphabet_select(&a, path, err, sizeof(err)), 0);
  CHECK_EQ_INT(a.n, 3);
  CHECK_EQ_INT(a.idx[2], learn_alpha_find("CCC"));
  FILE *f = fopen(path, "w");
  fputs("AUTH_TLS\nAUTH_TSL\n", f);
  fclose(f);
  CHECK_EQ_INT(learn_alphabet_select(&a, path, err, sizeof(err)), -1);
  CHECK(strstr(err, ":2: unknown input 'AUTH_TSL'") != NULL);
  f = fopen(path, "w");
  fputs("CCC\nCCC\n", f);
  fclose(f);
  CHECK_EQ_INT(learn_alphabet_select(&a, path, err, sizeof(err)), -1);
  CHECK(strstr(err, "named twice") != NULL);
  unlink(path);
  CHECK_EQ_INT(learn_alphabet_select(&a, "/nonexistent/alphabet", err, sizeof(err)), -1);
}

/* map_text maps a hand-written transcript |text| for the inputs |names|. */
static void map_text(learn_ftps *m, const char *names, const char *text, const char *want) {
  learn_sul s = learn_ftps_sul(m);
  learn_sym word[8];
  size_t n = 0;
  char buf[256], err[256];
  snprintf(buf, sizeof(buf), "%s", names);
  for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && n < 8;
       t = strtok_r(NULL, " ", &save)) {
    int a = learn_alpha_find(t);
    for (size_t j = 0; j < full.n; j++)
      if (a >= 0 && full.idx[j] == (unsigned)a)
        word[n] = (learn_sym)j;
    n++;
  }
  transcript t;
  transcript_init(&t);
  CHECK_EQ_INT(transcript_parse_text(&t, text, strlen(text), "map", err, sizeof(err)), 0);
  learn_out out[8];
  CHECK_EQ_INT(learn_ftps_map(m, word, &t, n, out), 0);
  char got[512];
  size_t used = 0;
  got[0] = 0;
  for (size_t i = 0; i < n; i++)
    used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s", i ? " " : "",
                             s.output_name(s.ctx, out[i]));
  CHECK_STR(got, want);
  transcript_cleanup(&t);
}

/* learn_ftps_play_batch (in-process: one after another) gives every job
 * what learn_ftps_play gives it alone, judged; an empty word plays
 * nothing. The concurrent TCP path: test_cmd_learn.sh (--concurrency 4). */
static void test_play_batch(learn_ftps *m, const judge_config *jc) {
  static const char *const names[] = {"USER_OK PASS_OK NOOP", "", "AUTH_TLS HANDSHAKE CCC",
                                      "QUIT NOOP"};
  static const char *const want[] = {"530 530 200", "", "234 hs_ok 534", "221 closed"};
  enum { N = sizeof(names) / sizeof(names[0]) };
  learn_sym words[N][8];
  learn_ftps_job jobs[N];
  memset(jobs, 0, sizeof(jobs));
  for (size_t j = 0; j < N; j++) {
    jobs[j].word = words[j];
    jobs[j].n = parse_word(names[j], words[j]);
  }
  size_t before = learn_ftps_plays(m);
  learn_ftps_play_batch(m, jc, jobs, N);
  CHECK_EQ_INT(learn_ftps_plays(m) - before, N - 1);
  for (size_t j = 0; j < N; j++) {
    CHECK_EQ_INT(jobs[j].rc, 0);
    if (jobs[j].n == 0) {
      CHECK_EQ_INT(jobs[j].got.n, 0);
      CHECK(jobs[j].res.judged.o == NULL);
      learn_ftps_job_cleanup(&jobs[j]);
      continue;
    }
    CHECK(jobs[j].res.judged.o != NULL);
    CHECK_EQ_INT(jobs[j].res.judged.violations, 0);
    learn_out out[8];
    char got[256];
    size_t used = 0;
    got[0] = 0;
    CHECK_EQ_INT(learn_ftps_map(m, jobs[j].word, &jobs[j].got, jobs[j].n, out), 0);
    for (size_t i = 0; i < jobs[j].n; i++)
      used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s", i ? " " : "",
                               learn_ftps_output_name(m, out[i]));
    CHECK_STR(got, want[j]);
    learn_ftps_job_cleanup(&jobs[j]);
  }
}

int main(void) {
  test_alphabet();
  char err[256];
  CHECK_EQ_INT(learn_alphabet_select(&full, "full", err, sizeof(err)), 0);
  test_config cfg;
  CHECK_EQ_INT(test_config_init(&cfg), 0);
  learn_ftps_options o;
  memset(&o, 0, sizeof(o));
  o.target.server = &cfg;
  o.alphabet = &full;
  learn_ftps *m = learn_ftps_new(&o);
  CHECK(m != NULL);
  if (!m)
    return testlib_finish();
  /* the whole protected path, a transfer as reply codes around its event */
  ask(m, "AUTH_TLS HANDSHAKE USER_OK PASS_OK PBSZ_0 PROT_P PASV LIST",
      "234 hs_ok 331 230 200 200 227 150.226+data_tls");
  ask(m, "AUTH_TLS HANDSHAKE USER_OK PASS_OK PBSZ_0 PROT_P PASV RETR NOOP",
      "234 hs_ok 331 230 200 200 227 150.226+data_tls 200");
  /* a login in plaintext under the TLS-required policy */
  ask(m, "USER_OK PASS_OK NOOP", "530 530 200");
  /* the closed connection is a sink */
  ask(m, "QUIT NOOP AUTH_TLS", "221 closed closed");
  ask(m, "QUIT", "221");
  /* a command written after 234 is the start of the TLS stream: not a
   * ClientHello, so the server closes (seen by the next input) */
  ask(m, "AUTH_TLS NOOP HANDSHAKE", "234 - closed");
  /* pipelined behind AUTH TLS: never answered, the same close */
  ask(m, "AUTH_TLS_PIPELINED HANDSHAKE NOOP", "234 closed closed");
  /* CCC refused when TLS is required; a second AUTH refused; PROT before
   * PBSZ refused */
  ask(m, "AUTH_TLS HANDSHAKE CCC AUTH_TLS PROT_X", "234 hs_ok 534 534 503");
  /* a data connection opened under PROT C, then PROT P: the client starts
   * no TLS on it, the server waits for one and queues later commands; the
   * client gives up as over TCP (stall_is_timeout) instead of piling every
   * later reply into one output */
  ask(m, "AUTH_TLS HANDSHAKE USER_OK PASS_OK PBSZ_0 PASV PROT_P LIST NOOP PROT_C",
      "234 hs_ok 331 230 200 227 200 150+timeout gave_up gave_up");
  /* the level the server really uses: under PROT C ours refuses the
   * transfer (data must be protected) and closes the connection the client
   * started TLS on, which never gets protected; a clear client under PROT P
   * fails the data handshake, reported inside TLS */
  ask(m, "AUTH_TLS HANDSHAKE USER_OK PASS_OK PBSZ_0 PASV_DATA_TLS LIST",
      "234 hs_ok 331 230 200 227 522+data_fail");
  ask(m, "AUTH_TLS HANDSHAKE USER_OK PASS_OK PBSZ_0 PROT_P PASV_DATA_CLEAR LIST NOOP",
      "234 hs_ok 331 230 200 200 227 150.425+data_clear 200");
  CHECK(learn_ftps_plays(m) == 11);
  judge_config jc = play_judge_config(&o.target);
  jc.all = true;
  test_play_batch(m, &jc);
  /* hand-written transcripts: a multi-line reply counts once, the greeting
   * is nobody's, a close shows at the next input */
  map_text(m, "NOOP QUIT NOOP",
           "# learn: input 0\nS: 220-Hello\nS: 220 there\nC: NOOP\nS: 211-Status:\n"
           "S:  211 inside\nS: 211 End\n# learn: input 1\nC: QUIT\nS: 221 Bye\nE: closed\n"
           "# learn: input 2\n# not played: connection closed\n",
           "211 221 closed");
  /* replies to a ClientHello read as command lines are left out; a stalled
   * handshake (in-process) is a timeout (as over TCP) and ends in the
   * gave_up sink */
  map_text(m, "HANDSHAKE NOOP",
           "# learn: input 0\nS: 220 hi\nT: handshake\nS: 500 x\nS: 500-y\nS: 500 y\n"
           "E: handshake failed stalled\n# learn: input 1\n# not played: client gave up\n",
           "timeout gave_up");
  map_text(m, "HANDSHAKE NOOP",
           "# learn: input 0\nS: 220 hi\nT: handshake\nS: 500 x\nE: timeout\n"
           "# learn: input 1\n# not played: client gave up\n",
           "timeout gave_up");
  /* a transfer: codes around the data event, the data's size left out */
  map_text(m, "LIST",
           "# learn: input 0\nC: LIST\nS: 150 Here\nE: data tls 6 bytes sha256=00\n"
           "S: 226 Done\n",
           "150.226+data_tls");
  /* the data connection's end follows the replies, wherever it came */
  map_text(m, "LIST NOOP",
           "# learn: input 0\nC: LIST\nE: data clear 0 bytes sha256=00\nS: 522 No\n"
           "# learn: input 1\nC: NOOP\nS: 200 ok\n",
           "522+data_clear 200");
  map_text(m, "LIST NOOP",
           "# learn: input 0\nC: LIST\nS: 522 No\nE: data clear 0 bytes sha256=00\n"
           "# learn: input 1\nC: NOOP\nS: 200 ok\n",
           "522+data_clear 200");
  /* ... but after the client gave up (vsftpd's plaintext 500 OOPS inside
   * TLS) the data connection's end is teardown, recorded or not */
  map_text(m, "LIST NOOP",
           "# learn: input 0\nC: LIST\nS: 150 Here\nE: tls error plaintext 500 OOPS\n"
           "E: data clear 0 bytes sha256=00\n# learn: input 1\n# not played: client gave up\n",
           "150+tls_plain gave_up");
  learn_ftps_free(m);
  test_config_cleanup(&cfg);
  return testlib_finish();
}
