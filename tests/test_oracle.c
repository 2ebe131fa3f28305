/* test_oracle.c - the oracle on hand-written transcripts: every invariant has
 * passing and violating cases under tests/oracle/. Every pass/ file must be
 * OK and names the invariants it exercises ("# exercises: INV,..."); every
 * violate/<INVARIANT>-*.fts names in "# expect: INV,..." exactly the set the
 * oracle reports for it with --all. Plus framing, step numbering,
 * first-violation mode and the coverage hook built in C. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "judge.h"
#include "model.h"
#include "oracle.h"
#include "testlib.h"
#include "transcript.h"

static model_config default_cfg(void) {
  model_policy p = model_policy_default();
  return model_config_make(MODEL_PROFILE_DEFAULT, &p);
}

/* header_value returns the text after "# <key>" (key includes the colon) in
 * the transcript's comment lines, or NULL; |*len| is its length. */
static const char *header_value(const transcript *t, const char *key, size_t *len) {
  size_t klen = strlen(key);
  for (size_t i = 0; i < t->n; i++) {
    const transcript_step *s = &t->steps[i];
    if (s->kind != TRANSCRIPT_COMMENT || s->len < klen + 1 || s->data[0] != ' ' ||
        memcmp(s->data + 1, key, klen))
      continue;
    const char *v = (const char *)s->data + 1 + klen;
    size_t n = s->len - 1 - klen;
    while (n && *v == ' ')
      v++, n--;
    *len = n;
    return v;
  }
  return NULL;
}

/* config_for reads an optional "# policy: ..." line from the transcript. */
static model_config config_for(const transcript *t) {
  model_policy p = model_policy_default();
  size_t len;
  const char *v = header_value(t, "policy:", &len);
  if (v) {
    char spec[256], err[128];
    snprintf(spec, sizeof(spec), "%.*s", (int)len, v);
    CHECK(model_policy_parse(&p, spec, err, sizeof(err)) == 0);
  }
  return model_config_make(MODEL_PROFILE_DEFAULT, &p);
}

/* parse_inv_list fills |set| from "INV[,INV...]" (spaces allowed after a
 * comma); an unknown name is a test failure. Returns the number named. */
static size_t parse_inv_list(const char *file, const char *v, size_t len,
                             bool set[ORACLE_INVARIANT_COUNT]) {
  size_t named = 0;
  memset(set, 0, ORACLE_INVARIANT_COUNT * sizeof(bool));
  while (len) {
    while (len && (*v == ' ' || *v == ','))
      v++, len--;
    size_t k = 0;
    while (k < len && v[k] != ',' && v[k] != ' ')
      k++;
    if (k == 0)
      break;
    char name[64];
    snprintf(name, sizeof(name), "%.*s", (int)k, v);
    int inv = oracle_invariant_from_name(name);
    if (inv < 0)
      fprintf(stderr, "%s: unknown invariant '%s' in header\n", file, name);
    CHECK(inv >= 0);
    if (inv >= 0) {
      set[inv] = true;
      named++;
    }
    v += k, len -= k;
  }
  return named;
}

static void format_set(const bool set[ORACLE_INVARIANT_COUNT], char *buf, size_t n) {
  size_t off = 0;
  buf[0] = 0;
  for (int i = 0; i < ORACLE_INVARIANT_COUNT && off < n; i++)
    if (set[i]) {
      int w = snprintf(buf + off, n - off, "%s%s", off ? "," : "",
                       oracle_invariant_name((oracle_invariant)i));
      if (w < 0)
        return;
      off += (size_t)w;
    }
}

static void dump(const transcript *t) { transcript_print_text(t, stderr); }

static bool violated_by_file[ORACLE_INVARIANT_COUNT];  /* some violate/ file breaks it */
static bool exercised_by_pass[ORACLE_INVARIANT_COUNT]; /* some pass/ file exercises it */

/* check_file judges one file with --all semantics. A pass/ file must be OK
 * and name what it exercises in "# exercises: INV,..."; a violate/ file must
 * report exactly the invariants of its "# expect: INV,..." header, which
 * includes the one its name starts with. */
static void check_file(const char *dir, const char *name, bool pass) {
  char path[2048], err[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  transcript t;
  transcript_init(&t);
  int rc = transcript_load_file(&t, path, err, sizeof(err));
  if (rc < 0)
    fprintf(stderr, "%s\n", err);
  CHECK(rc == 0);
  /* Judged the way every command judges (judge.h): the transcript's
   * "# config:" lines apply, and the built-in account's password is the
   * secret. */
  model_config cfg = config_for(&t);
  judge_config jc = judge_config_default();
  jc.policy = cfg.policy;
  jc.all = true;
  jc.secret = "wonderland";
  jc.secret_len = 10;
  judge_result jr;
  CHECK(judge_transcript(&jc, &t, name, &jr, err, sizeof(err)) == JUDGE_OK);
  oracle *o = jr.o;
  if (!o)
    goto out;
  size_t n = jr.violations;
  {
    /* One judge: `ftpsfuzz check` judges a live transcript to the same set
     * of violated invariants as `ftpsfuzz oracle --all` does. */
    bool offline[ORACLE_INVARIANT_COUNT], live[ORACLE_INVARIANT_COUNT];
    memset(offline, 0, sizeof(offline));
    for (size_t i = 0; i < n; i++) {
      const oracle_violation *v = oracle_violation_at(o, i);
      if (v)
        offline[v->inv] = true;
    }
    CHECK(check_judge(&cfg, "wonderland", &t, live, NULL) >= 0);
    if (memcmp(offline, live, sizeof(live)) != 0) {
      char a[512], b[512];
      format_set(offline, a, sizeof(a));
      format_set(live, b, sizeof(b));
      fprintf(stderr, "%s: oracle --all says {%s}, check_judge says {%s}\n", name, a, b);
      CHECK(0);
    }
  }
  bool listed[ORACLE_INVARIANT_COUNT];
  size_t hlen = 0;
  const char *h = header_value(&t, pass ? "exercises:" : "expect:", &hlen);
  if (!h)
    fprintf(stderr, "%s: no '# %s' header\n", name, pass ? "exercises:" : "expect:");
  CHECK(h != NULL);
  size_t named = h ? parse_inv_list(name, h, hlen, listed) : 0;
  CHECK(named > 0);
  if (pass) {
    if (n) {
      char line[1024];
      oracle_format_violation(oracle_violation_at(o, 0), line, sizeof(line));
      fprintf(stderr, "%s: expected OK, got %s\n", name, line);
      dump(&t);
    }
    CHECK_EQ_INT(n, 0);
    for (int i = 0; h && n == 0 && i < ORACLE_INVARIANT_COUNT; i++)
      exercised_by_pass[i] |= listed[i];
  } else {
    char want[64];
    size_t k = strcspn(name, "-");
    snprintf(want, sizeof(want), "%.*s", (int)k, name);
    int inv = oracle_invariant_from_name(want);
    CHECK(inv >= 0);
    bool got[ORACLE_INVARIANT_COUNT];
    memset(got, 0, sizeof(got));
    for (size_t i = 0; i < n; i++) {
      const oracle_violation *v = oracle_violation_at(o, i);
      if (v)
        got[v->inv] = true;
    }
    if (h && memcmp(got, listed, sizeof(got))) {
      char gs[512], ws[512];
      format_set(got, gs, sizeof(gs));
      format_set(listed, ws, sizeof(ws));
      fprintf(stderr, "%s: --all reports {%s}, '# expect:' says {%s}\n", name, gs, ws);
      dump(&t);
      CHECK(0);
    }
    if (inv >= 0 && h && !listed[inv])
      fprintf(stderr, "%s: '# expect:' does not name %s\n", name, want);
    CHECK(inv >= 0 && h && listed[inv]);
    for (int i = 0; h && i < ORACLE_INVARIANT_COUNT; i++)
      violated_by_file[i] |= got[i] && listed[i];
    /* first-violation mode stops at exactly one */
    judge_result first;
    jc.all = false;
    CHECK(judge_transcript(&jc, &t, name, &first, err, sizeof(err)) == JUDGE_OK);
    CHECK_EQ_INT(first.violations, 1);
    judge_result_cleanup(&first);
  }
out:
  judge_result_cleanup(&jr);
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

static void cover_cb(void *ctx, const oracle *o, int row) {
  unsigned *n = ctx;
  (void)o;
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
    const char *name = oracle_invariant_name((oracle_invariant)i);
    if (!violated_by_file[i])
      fprintf(stderr, "no violating transcript expects %s\n", name);
    CHECK(violated_by_file[i]);
    if (!exercised_by_pass[i])
      fprintf(stderr, "no passing transcript's '# exercises:' names %s\n", name);
    CHECK(exercised_by_pass[i]);
    CHECK(oracle_invariant_severity(i) ==
          (i <= ORACLE_NO_SECRET_ECHO ? ORACLE_SECURITY : ORACLE_CONFORMANCE));
  }
  return testlib_finish();
}
