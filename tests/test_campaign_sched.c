/* test_campaign_sched.c - the campaign schedule (cli/campaign_sched.c) on
 * simulated harnesses, and finding signatures (cli/campaign_sig.c).
 *
 * The simulation gives each harness a rate of new features per second that
 * it keeps (the deep model harness), loses after its first slice (a
 * shallow harness that plateaus) or never has, runs every slice half a
 * second long (engine start and stop), and checks the properties the
 * schedule promises: every harness early, the model harness first, time to
 * whoever still finds features, never past the budget. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign_sched.h"
#include "campaign_sig.h"
#include "testlib.h"

#define N_MAX 8

typedef enum sim_kind { FLAT, PLATEAU, DEEP } sim_kind;

typedef struct sim {
  campaign_run_h runs[N_MAX];
  sim_kind kinds[N_MAX];
  size_t n;
  size_t order[256]; /* harness of each slice */
  double start[256], secs[256];
  size_t nslices;
  double used;
} sim;

static void sim_add(sim *s, const char *name, sim_kind k) {
  campaign_run_h *r = &s->runs[s->n];
  memset(r, 0, sizeof(*r));
  snprintf(r->name, sizeof(r->name), "%s", name);
  s->kinds[s->n++] = k;
}

static void sim_run(sim *s, unsigned time_s) {
  campaign_sched sc;
  campaign_sched_init(&sc, s->runs, s->n, time_s);
  unsigned secs = 0;
  int i;
  while ((i = campaign_sched_next(&sc, s->runs, s->n, s->used, &secs)) >= 0 && s->nslices < 256) {
    campaign_run_h *r = &s->runs[i];
    double took = secs + 0.5;
    long long feats = 0;
    if (s->kinds[i] == DEEP)
      feats = (long long)(50 * secs);
    else if (s->kinds[i] == PLATEAU && r->nslices == 0)
      feats = 500;
    r->ran = true;
    s->order[s->nslices] = (size_t)i;
    s->start[s->nslices] = s->used;
    s->secs[s->nslices++] = secs;
    campaign_sched_done(r, s->used, took, feats / 10, feats, feats / 5);
    s->used += took;
  }
}

static double total_of(const sim *s, size_t h) {
  double t = 0;
  for (size_t k = 0; k < s->nslices; k++)
    if (s->order[k] == h)
      t += s->secs[k];
  return t;
}

static void seven(sim *s, sim_kind seq_kind) {
  memset(s, 0, sizeof(*s));
  sim_add(s, "fuzz_cmdline", PLATEAU);
  sim_add(s, "fuzz_session", FLAT);
  sim_add(s, "fuzz_transcript", FLAT);
  sim_add(s, "fuzz_sequence", seq_kind);
  sim_add(s, "fuzz_tls_server", FLAT);
  sim_add(s, "fuzz_tls_mitm", FLAT);
  sim_add(s, "fuzz_data_tls", FLAT);
}

static void test_explore_then_exploit(void) {
  static sim s;
  seven(&s, DEEP);
  sim_run(&s, 60);
  /* every harness once, in the first half (plus the engines' overhead) */
  CHECK(s.nslices >= 8);
  CHECK_EQ_INT(s.order[0], 3); /* fuzz_sequence first */
  CHECK_EQ_INT(s.runs[3].weight, CAMPAIGN_MODEL_WEIGHT);
  CHECK_EQ_INT(s.runs[0].weight, 1);
  int seen[N_MAX] = {0};
  for (size_t k = 0; k < 7; k++) {
    CHECK(!seen[s.order[k]]);
    seen[s.order[k]] = 1;
    CHECK(s.start[k] <= 30 + 7 * 0.5 + 1);
  }
  CHECK(s.secs[0] >= 2.5 * s.secs[1] - 1);
  /* every slice at least CAMPAIGN_SLICE_MIN_S but the last remainder */
  for (size_t k = 0; k + 1 < s.nslices; k++)
    CHECK(s.secs[k] >= CAMPAIGN_SLICE_MIN_S);
  /* the exploit round opens with the best rate for its weight (the
   * shallow harness's one good slice: it is checked once more), then the
   * deep harness, still finding, gets the rest: its 24 s (issue 12's memory
   * error after login) fit in a 60 s campaign */
  size_t cmdline_slices = 0;
  for (size_t k = 7; k < s.nslices; k++) {
    CHECK(s.order[k] == 0 || s.order[k] == 3);
    cmdline_slices += s.order[k] == 0;
  }
  CHECK(cmdline_slices <= 1);
  CHECK_EQ_INT(s.order[s.nslices - 1], 3);
  CHECK(total_of(&s, 3) >= 24);
  /* the flat harnesses got their explore slice only */
  CHECK(total_of(&s, 1) <= 3.5);
  /* never past the budget: slices add up to it, overhead aside */
  double sum = 0;
  for (size_t k = 0; k < s.nslices; k++)
    sum += s.secs[k];
  CHECK(sum <= 60);
  CHECK(sum >= 60 - s.nslices * 0.5 - CAMPAIGN_SLICE_MIN_S);
}

static void test_stalled_share(void) {
  /* nobody finds anything: the exploit round still shares by weight, and
   * every harness gets more than its explore slice in a long campaign */
  static sim s;
  seven(&s, FLAT);
  s.kinds[0] = FLAT;
  sim_run(&s, 7200);
  double seq = total_of(&s, 3), other = total_of(&s, 1);
  CHECK(other > 600);
  CHECK(seq > 2.5 * other && seq < 3.5 * other);
  for (size_t k = 0; k < s.nslices; k++)
    CHECK(s.secs[k] <= CAMPAIGN_SLICE_MAX_S * s.runs[s.order[k]].weight);
}

static void test_productive_shallow_harness(void) {
  /* a shallow harness that keeps finding gets the exploit time over a
   * stalled model harness */
  static sim s;
  seven(&s, FLAT);
  s.kinds[1] = DEEP;
  sim_run(&s, 120);
  CHECK(total_of(&s, 1) > total_of(&s, 3));
  CHECK(total_of(&s, 1) > 2 * total_of(&s, 2));
  CHECK_EQ_INT(s.order[s.nslices - 1], 1);
}

static void test_one_harness(void) {
  static sim s;
  memset(&s, 0, sizeof(s));
  sim_add(&s, "fuzz_cmdline", DEEP);
  sim_run(&s, 45);
  CHECK_EQ_INT(s.nslices, 1);
  CHECK_EQ_INT(s.secs[0], 45);
  /* the engine ended 2 s early: no 2 s slice after it */
  campaign_sched sc;
  unsigned secs = 0;
  campaign_sched_init(&sc, s.runs, 1, 45);
  CHECK_EQ_INT(campaign_sched_next(&sc, s.runs, 1, 43, &secs), -1);
  CHECK_EQ_INT(campaign_sched_next(&sc, s.runs, 1, 30, &secs), 0);
  CHECK_EQ_INT(secs, 15);
}

static void test_tiny_budget(void) {
  static sim s;
  seven(&s, DEEP);
  sim_run(&s, 5);
  CHECK(s.nslices >= 1 && s.nslices <= 2);
  double sum = 0;
  for (size_t k = 0; k < s.nslices; k++)
    sum += s.secs[k];
  CHECK(sum <= 5);
}

static void test_failed_start(void) {
  /* a harness that never ran gets no exploit slice */
  static sim s;
  seven(&s, FLAT);
  campaign_sched sc;
  campaign_sched_init(&sc, s.runs, s.n, 100);
  unsigned secs;
  for (size_t k = 0; k < 7; k++) {
    int i = campaign_sched_next(&sc, s.runs, s.n, (double)k * 5, &secs);
    CHECK(i >= 0);
    if (i < 0)
      return;
    s.runs[i].ran = i != 2;
    s.runs[i].start_failed = i == 2;
    campaign_sched_done(&s.runs[i], (double)k * 5, 5, 0, 0, 0);
  }
  for (int k = 0; k < 20; k++) {
    int i = campaign_sched_next(&sc, s.runs, s.n, 40 + k, &secs);
    CHECK(i != 2);
    if (i < 0)
      break;
    campaign_sched_done(&s.runs[i], 40 + k, 1, 0, 0, 0);
  }
}

static void write_log(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f != NULL) {
    fputs(text, f);
    fclose(f);
  }
}

static void test_signatures(void) {
  char a[CAMPAIGN_SIG_MAX], b[CAMPAIGN_SIG_MAX], kind[64];
  /* the same invariant and reason, other numbers: one bug */
  campaign_sig_of("fuzz_cmdline", "FINDING FRAMING: 12 lines, line 3 differs", NULL, a);
  campaign_sig_of("fuzz_cmdline", "FINDING FRAMING: 7 lines, line 1 differs", NULL, b);
  CHECK_STR(a, b);
  CHECK(!strncmp(a, "fuzz_cmdline/FINDING:FRAMING/", 29));
  CHECK_EQ_INT(strlen(a), 29 + 16);
  /* another harness, invariant or reason: another bug */
  campaign_sig_of("fuzz_session", "FINDING FRAMING: 12 lines, line 3 differs", NULL, b);
  CHECK(strcmp(a, b) != 0);
  campaign_sig_of("fuzz_cmdline", "FINDING REPLY_SYNTAX: 12 lines, line 3 differs", NULL, b);
  CHECK(strcmp(a, b) != 0);
  campaign_sig_of("fuzz_cmdline", "FINDING FRAMING: a byte was dropped", NULL, b);
  CHECK(strcmp(a, b) != 0);
  /* oracle violations: the step and the state do not count, the reply code does */
  campaign_sig_of("fuzz_sequence",
                  "VIOLATION ALLOWED_CODE step 15: PWD answered 200 (state: sec=SECURE)", NULL, a);
  campaign_sig_of("fuzz_sequence",
                  "VIOLATION ALLOWED_CODE step 3: PWD answered 200 (state: sec=PLAIN)", NULL, b);
  CHECK_STR(a, b);
  campaign_sig_of("fuzz_sequence",
                  "VIOLATION ALLOWED_CODE step 3: PWD answered 257 (state: sec=PLAIN)", NULL, b);
  CHECK(strcmp(a, b) != 0);
  campaign_sig_kind("VIOLATION ALLOWED_CODE step 3: x", kind, sizeof(kind));
  CHECK_STR(kind, "VIOLATION:ALLOWED_CODE");

  /* sanitizer reports: the error type and the top frames outside the
   * runtimes; addresses and line numbers do not count */
  char dir[] = "/tmp/test_campaign_sched.XXXXXX", l1[64], l2[64], l3[64];
  CHECK(mkdtemp(dir) != NULL);
  snprintf(l1, sizeof(l1), "%s/1", dir);
  snprintf(l2, sizeof(l2), "%s/2", dir);
  snprintf(l3, sizeof(l3), "%s/3", dir);
  write_log(l1, "==1==ERROR: AddressSanitizer: stack-buffer-overflow on address 0x7ffe\n"
                "    #0 0x55aa in __asan_memcpy asan.cpp:1\n"
                "    #1 0x55ab in ftps_decode server/decode.c:88:3\n"
                "    #2 0x55ac in ftps_session_feed server/session.c:120:5\n"
                "    #3 0x55ad in fuzz_conn_feed harnesses/fuzz_conn.c:300:1\n"
                "    #4 0x55ae in LLVMFuzzerTestOneInput harnesses/fuzz_session.c:40\n"
                "\n    #0 0x1 in malloc\n");
  write_log(l2, "==9==ERROR: AddressSanitizer: stack-buffer-overflow on address 0x1234\n"
                "    #0 0x66aa in __asan_memcpy asan.cpp:1\n"
                "    #1 0x66ab in ftps_decode server/decode.c:91:7\n"
                "    #2 0x66ac in ftps_session_feed server/session.c:121:5\n"
                "    #3 0x66ad in fuzz_conn_feed harnesses/fuzz_conn.c:310:1\n"
                "    #4 0x66ae in other harnesses/x.c:1\n");
  write_log(l3, "==9==ERROR: AddressSanitizer: stack-buffer-overflow on address 0x1234\n"
                "    #0 0x66aa in __asan_memcpy asan.cpp:1\n"
                "    #1 0x66ab in ftps_upload server/upload.c:91:7\n"
                "    #2 0x66ac in ftps_session_feed server/session.c:121:5\n"
                "    #3 0x66ad in fuzz_conn_feed harnesses/fuzz_conn.c:310:1\n");
  campaign_sig_of("fuzz_session",
                  "==1==ERROR: AddressSanitizer: stack-buffer-overflow on address 0x7ffe", l1, a);
  campaign_sig_of("fuzz_session",
                  "==9==ERROR: AddressSanitizer: stack-buffer-overflow on address 0x1234", l2, b);
  CHECK_STR(a, b);
  CHECK(!strncmp(a, "fuzz_session/asan:stack-buffer-overflow/", 40));
  campaign_sig_of("fuzz_session",
                  "==9==ERROR: AddressSanitizer: stack-buffer-overflow on address 0x1234", l3, b);
  CHECK(strcmp(a, b) != 0);

  /* .signatures: what is added is loaded, once each */
  campaign_strs l;
  campaign_strs_init(&l);
  CHECK_EQ_INT(campaign_sig_load(dir, &l), 0); /* no file yet: none */
  CHECK_EQ_INT(l.n, 0);
  CHECK_EQ_INT(campaign_sig_add(dir, a, "f1"), 0);
  CHECK_EQ_INT(campaign_sig_add(dir, b, "f2"), 0);
  CHECK_EQ_INT(campaign_sig_add(dir, a, "f3"), 0);
  CHECK_EQ_INT(campaign_sig_load(dir, &l), 0);
  CHECK_EQ_INT(l.n, 2);
  CHECK(campaign_strs_has(&l, a) && campaign_strs_has(&l, b));
  campaign_strs_cleanup(&l);
  char path[128];
  snprintf(path, sizeof(path), "%s/%s", dir, CAMPAIGN_SIG_FILE);
  unlink(path);
  unlink(l1);
  unlink(l2);
  unlink(l3);
  rmdir(dir);
}

int main(void) {
  test_explore_then_exploit();
  test_stalled_share();
  test_productive_shallow_harness();
  test_one_harness();
  test_tiny_budget();
  test_failed_start();
  test_signatures();
  return testlib_finish();
}
