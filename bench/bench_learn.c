/* bench_learn.c - L# against the L* baseline on random Mealy machines of
 * several sizes: queries and symbols sent to the SUL (split into learning
 * queries and equivalence tests), hypotheses, and wall time, side by side.
 * The SUL is an in-memory table, so the time is the learner's own.
 *
 *   build/release/bench/bench_learn [extra_states] [random_tests]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "learn.h"

typedef struct table_sul {
  size_t n, k;
  uint32_t *next;
  learn_out *out;
  char in_name[16], out_name[16];
} table_sul;

static int t_query(void *ctx, const learn_sym *w, size_t n, learn_out *out, char *err,
                   size_t err_len) {
  table_sul *t = ctx;
  (void)err;
  (void)err_len;
  size_t s = 0;
  for (size_t j = 0; j < n; j++) {
    size_t cell = s * t->k + w[j];
    out[j] = t->out[cell];
    s = t->next[cell];
  }
  return 0;
}

static const char *t_in(void *ctx, learn_sym i) {
  table_sul *t = ctx;
  snprintf(t->in_name, sizeof t->in_name, "i%u", (unsigned)i);
  return t->in_name;
}

static const char *t_out(void *ctx, learn_out o) {
  table_sul *t = ctx;
  snprintf(t->out_name, sizeof t->out_name, "o%u", (unsigned)o);
  return t->out_name;
}

static uint64_t rng(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* A random connected machine: a random spanning tree, then random edges
 * and outputs (|n_out| of them). Small output alphabets make states hard
 * to tell apart, which is where the algorithms differ. */
static int make_machine(table_sul *t, size_t n, size_t k, size_t n_out, uint64_t seed) {
  t->n = n;
  t->k = k;
  t->next = malloc(n * k * sizeof *t->next);
  t->out = malloc(n * k * sizeof *t->out);
  if (!t->next || !t->out)
    return -1;
  for (size_t c = 0; c < n * k; c++)
    t->next[c] = UINT32_MAX;
  for (size_t s = 1; s < n; s++) {
    size_t c;
    do
      c = (size_t)(rng(&seed) % (s * k));
    while (t->next[c] != UINT32_MAX);
    t->next[c] = (uint32_t)s;
  }
  for (size_t c = 0; c < n * k; c++) {
    if (t->next[c] == UINT32_MAX)
      t->next[c] = (uint32_t)(rng(&seed) % n);
    t->out[c] = (learn_out)(rng(&seed) % n_out);
  }
  return 0;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  static const size_t sizes[][3] = {{10, 5, 2}, {25, 10, 2}, {50, 20, 3}, {50, 5, 2}, {200, 10, 2}};
  learn_config cfg = learn_config_default();
  if (argc > 1)
    cfg.extra_states = (unsigned)strtoul(argv[1], NULL, 10);
  if (argc > 2)
    cfg.random_tests = (size_t)strtoull(argv[2], NULL, 10);
  printf("random machines (seed 1), extra_states %u, random_tests %zu per round\n",
         cfg.extra_states, cfg.random_tests);
  printf("%-16s %-3s %6s %9s %9s %9s %11s %6s %8s\n", "states/in/out", "alg", "found",
         "queries", "learning", "eq-tests", "symbols", "rounds", "seconds");
  for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
    table_sul t;
    if (make_machine(&t, sizes[z][0], sizes[z][1], sizes[z][2], 1 + z) < 0)
      return 1;
    learn_sul sul = {.ctx = &t,
                     .n_inputs = t.k,
                     .input_name = t_in,
                     .output_name = t_out,
                     .query = t_query};
    char label[32];
    snprintf(label, sizeof label, "%zu/%zu/%zu", sizes[z][0], sizes[z][1], sizes[z][2]);
    for (int a = 0; a < 2; a++) {
      learn_mealy m;
      learn_stats st;
      char err[256];
      cfg.algorithm = (learn_algorithm)a;
      double t0 = now();
      int rc = learn_run(&sul, &cfg, &m, &st, err, sizeof err);
      double dt = now() - t0;
      if (rc != LEARN_OK) {
        fprintf(stderr, "%s: %s\n", label, err);
        return 1;
      }
      printf("%-16s %-3s %6zu %9zu %9zu %9zu %11zu %6zu %8.3f\n", label,
             a == LEARN_LSHARP ? "L#" : "L*", m.n_states, st.queries,
             st.queries - st.eq_queries, st.eq_queries, st.symbols, st.rounds, dt);
      learn_mealy_free(&m);
    }
    free(t.next);
    free(t.out);
  }
  printf("found = states of the learned machine (the random machine may not be minimal)\n");
  return 0;
}
