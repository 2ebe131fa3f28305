/* test_oracle.c - the oracle on hand-written transcripts: every invariant has
 * passing and violating cases under tests/oracle/ (every pass/ file must be OK;
 * violate/<INVARIANT>-*.fts must break <INVARIANT>), plus framing, step
 * numbering, first-violation mode and the coverage hook built in C. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "oracle.h"
#include "testlib.h"
#include "transcript.h"

static model_config default_cfg(void) {
  model_policy p = model_policy_default();
  return model_config_make(MODEL_PROFILE_DEFAULT, &p);
}

/* config_for reads an optional "# policy: ..." line from the transcript. */
static model_config config_for(const transcript *t) {
  model_policy p = model_policy_default();
  for (size_t i = 0; i < t->n; i++) {
    const transcript_step *s = &t->steps[i];
    if (s->kind == TRANSCRIPT_COMMENT && s->len > 9 &&
        !memcmp(s->data, " policy: ", 9)) {
      char err[128];
      CHECK(model_policy_parse(&p, (const char *)s->data + 9, err, sizeof(err)) == 0);
    }
  }
  return model_config_make(MODEL_PROFILE_DEFAULT, &p);
}

static void dump(const transcript *t) { transcript_print_text(t, stderr); }

static bool covered_inv[ORACLE_INVARIANT_COUNT];

static void check_file(const char *dir, const char *name, bool pass) {
  char path[2048], err[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  transcript t;
  transcript_init(&t);
  int rc = transcript_load_file(&t, path, err, sizeof(err));
  if (rc < 0)
    fprintf(stderr, "%s\n", err);
  CHECK(rc == 0);
  model_config cfg = config_for(&t);
  oracle *o = oracle_new(&cfg, true);
  CHECK(o != NULL);
  if (!o)
    goto out;
  for (size_t i = 0; i < t.n; i++)
    oracle_step(o, &t.steps[i]);
  size_t n = oracle_finish(o);
  if (pass) {
    if (n) {
      char line[1024];
      oracle_format_violation(oracle_violation_at(o, 0), line, sizeof(line));
      fprintf(stderr, "%s: expected OK, got %s\n", name, line);
      dump(&t);
    }
    CHECK_EQ_INT(n, 0);
  } else {
    char want[64];
    size_t k = strcspn(name, "-");
    snprintf(want, sizeof(want), "%.*s", (int)k, name);
    int inv = oracle_invariant_from_name(want);
    CHECK(inv >= 0);
    bool found = false;
    for (size_t i = 0; i < n; i++)
      if ((int)oracle_violation_at(o, i)->inv == inv)
        found = true;
    if (!found) {
      fprintf(stderr, "%s: %s not reported (%zu violations)\n", name, want, n);
      dump(&t);
    }
    CHECK(found);
    if (inv >= 0 && found)
      covered_inv[inv] = true;
    /* first-violation mode stops at exactly one */
    oracle_violation first;
    CHECK_EQ_INT(oracle_check_transcript(&t, &cfg, false, &first), 1);
  }
out:
  oracle_free(o);
  transcript_cleanup(&t);
}

static size_t check_dir(const char *rel, bool pass) {
  const char *dir = testlib_source_path(rel);
  char dirbuf[1024];
  snprintf(dirbuf, sizeof(dirbuf), "%s", dir);
  DIR *d = opendir(dirbuf);
  CHECK(d != NULL);
  if (!d)
    return 0;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 5 || strcmp(e->d_name + len - 4, ".fts"))
      continue;
    check_file(dirbuf, e->d_name, pass);
    n++;
  }
  closedir(d);
  return n;
}

/* --- C-built transcripts --- */

static void add(transcript *t, transcript_kind k, const char *s) {
  CHECK(transcript_add(t, k, s, strlen(s)) == 0);
}

static void build_session(transcript *t) {
  add(t, TRANSCRIPT_S, "220 ftpsfuzz ready.");
  add(t, TRANSCRIPT_C, "AUTH TLS");
  add(t, TRANSCRIPT_S, "234 AUTH TLS successful, starting TLS handshake.");
  add(t, TRANSCRIPT_T, "handshake");
  add(t, TRANSCRIPT_E, "handshake ok");
  add(t, TRANSCRIPT_C, "USER alice");
  add(t, TRANSCRIPT_S, "331 Password required for alice.");
  add(t, TRANSCRIPT_C, "PASS wonderland");
  add(t, TRANSCRIPT_S, "230 User alice logged in.");
  add(t, TRANSCRIPT_C, "PBSZ 0");
  add(t, TRANSCRIPT_S, "200 PBSZ=0");
  add(t, TRANSCRIPT_C, "PROT P");
  add(t, TRANSCRIPT_S, "200 Protection level set to P.");
}

static void cover_cb(void *ctx, int row) {
  unsigned *n = ctx;
  (void)row;
  (*n)++;
}

static void test_example_and_coverage(void) {
  transcript t;
  transcript_init(&t);
  build_session(&t);
  add(&t, TRANSCRIPT_C, "QUIT");
  add(&t, TRANSCRIPT_S, "221 Goodbye.");
  add(&t, TRANSCRIPT_E, "closed");
  model_config cfg = default_cfg();
  oracle *o = oracle_new(&cfg, false);
  unsigned calls = 0;
  oracle_set_cover_fn(o, cover_cb, &calls);
  for (size_t i = 0; i < t.n; i++)
    CHECK_EQ_INT(oracle_step(o, &t.steps[i]), 0);
  CHECK_EQ_INT(oracle_finish(o), 0);
  const uint32_t *cov = oracle_coverage(o);
  CHECK_EQ_INT(cov[MODEL_ROW_GREETING], 1);
  CHECK_EQ_INT(cov[MODEL_ROW_AUTH_TLS_OK], 1);
  CHECK_EQ_INT(cov[MODEL_ROW_TLS_OK], 1);
  CHECK_EQ_INT(cov[MODEL_ROW_PASS_OK], 1);
  CHECK_EQ_INT(cov[MODEL_ROW_PROT_P_OK], 1);
  CHECK_EQ_INT(cov[MODEL_ROW_QUIT_OK], 1);
  CHECK_EQ_INT(cov[MODEL_ROW_CLOSED], 1);
  CHECK_EQ_INT(calls, 9);
  const model_state *s = oracle_state(o);
  CHECK_EQ_INT(s->close, MODEL_CLOSED);
  CHECK_EQ_INT(s->prot, MODEL_PROT_P);
  oracle_free(o);
  /* the same session is no login at all under the rfc profile's eyes? It is
   * fine there too */
  model_config rfc = model_config_make(MODEL_PROFILE_RFC, NULL);
  CHECK_EQ_INT(oracle_check_transcript(&t, &rfc, false, NULL), 0);
  transcript_cleanup(&t);
}

/* A command split across writes and two in one write frame like a server. */
static void test_framing(void) {
  transcript t;
  transcript_init(&t);
  build_session(&t);
  add(&t, TRANSCRIPT_R, "PW");
  add(&t, TRANSCRIPT_R, "D\r");
  add(&t, TRANSCRIPT_R, "\nNOOP\nSYST\r\n");
  add(&t, TRANSCRIPT_S, "257 \"/\"");
  add(&t, TRANSCRIPT_S, "200 ok");
  add(&t, TRANSCRIPT_S, "215 UNIX Type: L8");
  model_config cfg = default_cfg();
  CHECK_EQ_INT(oracle_check_transcript(&t, &cfg, false, NULL), 0);
  /* the replies swapped: PWD answered 200 -> ALLOWED_CODE at that step */
  transcript_cleanup(&t);
  transcript_init(&t);
  build_session(&t);
  add(&t, TRANSCRIPT_R, "PWD\r\nNOOP\r\n");
  add(&t, TRANSCRIPT_S, "200 ok");
  oracle_violation v;
  CHECK_EQ_INT(oracle_check_transcript(&t, &cfg, false, &v), 1);
  CHECK_EQ_INT(v.inv, ORACLE_ALLOWED_CODE);
  CHECK_EQ_INT(v.step, t.n);
  CHECK(strstr(v.expected, "257") != NULL);
  CHECK(strstr(v.state, "login=LOGGED_IN") != NULL);
  char line[1024];
  oracle_format_violation(&v, line, sizeof(line));
  CHECK(!strncmp(line, "VIOLATION ALLOWED_CODE step 15: PWD answered 200", 48));
  transcript_cleanup(&t);

  /* the framer alone: overlong lines are flagged, IAC removed */
  oracle_framer f;
  oracle_framer_reset(&f);
  CHECK_EQ_INT(oracle_framer_feed(&f, (const uint8_t *)"NO\xff\xffOP\r\nAB", 10, NULL, NULL), 1);
  CHECK_EQ_INT(f.len, 2);
  static uint8_t big[MODEL_LINE_MAX + 10];
  memset(big, 'A', sizeof(big));
  oracle_framer_reset(&f);
  oracle_framer_feed(&f, big, sizeof(big), NULL, NULL);
  CHECK(f.overlong);
  CHECK_EQ_INT(f.len, MODEL_LINE_MAX + 1);
}

/* --all keeps going; without it the oracle stops at the first violation. */
static void test_all_mode(void) {
  transcript t;
  transcript_init(&t);
  add(&t, TRANSCRIPT_S, "220 hi");
  add(&t, TRANSCRIPT_C, "NOOP");
  add(&t, TRANSCRIPT_S, "299 odd");
  add(&t, TRANSCRIPT_C, "NOOP");
  add(&t, TRANSCRIPT_S, "200 fine");
  add(&t, TRANSCRIPT_S, "200 extra");
  model_config cfg = default_cfg();
  CHECK_EQ_INT(oracle_check_transcript(&t, &cfg, true, NULL), 2);
  oracle_violation v;
  CHECK_EQ_INT(oracle_check_transcript(&t, &cfg, false, &v), 1);
  CHECK_EQ_INT(v.step, 3);
  CHECK_EQ_INT(v.inv, ORACLE_ALLOWED_CODE);
  transcript_cleanup(&t);
}

int main(void) {
  test_example_and_coverage();
  test_framing();
  test_all_mode();
  CHECK(check_dir("tests/oracle/pass", true) >= 10);
  CHECK(check_dir("tests/oracle/violate", false) >= ORACLE_INVARIANT_COUNT);
  for (int i = 0; i < ORACLE_INVARIANT_COUNT; i++) {
    if (!covered_inv[i])
      fprintf(stderr, "no violating transcript for %s\n", oracle_invariant_name(i));
    CHECK(covered_inv[i]);
    CHECK(oracle_invariant_severity(i) ==
          (i <= ORACLE_NO_SECRET_ECHO ? ORACLE_SECURITY : ORACLE_CONFORMANCE));
  }
  return testlib_finish();
}
