/* test_seed_policy.c - fuzz_sequence's seeds (corpus/seeds/fuzz_sequence/,
 * scripts/gen-corpus.sh) cover every policy the model distinguishes: for
 * each of the 16 model policies (tls_login, tls_data, anonymous, ccc) some
 * seed runs under it, as the harness applies its "# config:" steps, and
 * some seed under it sends CCC; every seed's policy steps are ones the
 * harness applies, and the mutator reads the model policy the oracle
 * gets. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "mutate.h"
#include "test_config.h"
#include "testlib.h"
#include "transcript.h"

#define SEED_MAX (1u << 20)

static unsigned mask_of(const model_policy *p) {
  return (p->tls_login ? 1u : 0u) | (p->tls_data ? 2u : 0u) | (p->anon ? 4u : 0u) |
         (p->ccc ? 8u : 0u);
}

/* sends_ccc: |t| sends CCC (on its own line), the command whose answer
 * every policy switch changes. */
static bool sends_ccc(const transcript *t) {
  for (size_t i = 0; i < t->n; i++)
    if (t->steps[i].kind == TRANSCRIPT_C && t->steps[i].len == 3 &&
        !memcmp(t->steps[i].data, "CCC", 3))
      return true;
  return false;
}

int main(void) {
  test_config cfg;
  CHECK(test_config_init(&cfg) == 0);
  const char *dir = testlib_source_path("corpus/seeds/fuzz_sequence");
  char path[4096];
  snprintf(path, sizeof(path), "%s", dir);
  DIR *d = opendir(path);
  CHECK(d != NULL);
  unsigned runs = 0, ccc = 0, seeds = 0;
  static uint8_t buf[SEED_MAX];
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    char file[4400];
    snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
    FILE *f = fopen(file, "rb");
    CHECK(f != NULL);
    if (!f)
      continue;
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    transcript t;
    char err[256];
    transcript_init(&t);
    CHECK(transcript_decode_binary(&t, buf, n, err, sizeof(err)) == 0);
    cfg.server.policy = ftps_policy_default();
    int rc = test_config_apply_directives(&cfg, &t, e->d_name, err, sizeof(err));
    if (rc != 0)
      printf("%s\n", err);
    CHECK_EQ_INT(rc, 0);
    model_config mc = test_config_model(&cfg.server.policy);
    /* the mutator reads the same model policy the oracle gets */
    model_policy mp = mutate_script_policy(&t);
    CHECK_EQ_INT(mask_of(&mp), mask_of(&mc.policy));
    runs |= 1u << mask_of(&mc.policy);
    if (sends_ccc(&t))
      ccc |= 1u << mask_of(&mc.policy);
    seeds++;
    transcript_cleanup(&t);
  }
  if (d)
    closedir(d);
  printf("%u seeds; policies run %#x, with CCC %#x (all 16: 0xffff)\n", seeds,
         runs, ccc);
  CHECK(seeds > 0);
  CHECK_EQ_INT(runs, 0xffff);
  CHECK_EQ_INT(ccc, 0xffff);
  test_config_cleanup(&cfg);
  return testlib_finish();
}
