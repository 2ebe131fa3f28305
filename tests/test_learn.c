/* test_learn.c - the learner (model/learn.h) on known Mealy machines: L#
 * and L* must learn each exactly (isomorphic, checked by walking the
 * product of both machines from their initial states), never send a word
 * twice, use sink knowledge, survive an answer that flips once, refuse a
 * SUL that never agrees, resume from a cache file, respect the budget. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "learn.h"
#include "testlib.h"

/* --- a test SUL over a table machine --- */

#define MAX_SEEN (1u << 18)

typedef struct tsul {
  size_t n_states, n_inputs;
  const uint32_t *next;
  const learn_out *out;
  const char *prefix;  /* input names: prefix + machine input number */
  const size_t *perm;  /* SUL input j is machine input perm[j] (NULL = same) */
  bool has_sink;
  learn_out sink;
  size_t queries, symbols, dups;
  bool batching;       /* offer query_batch */
  size_t batches, batched_words, widest;
  bool first_batched;  /* the very first words came in a batch */
  uint64_t *seen; /* hashes of the words asked (open addressing, 0 = empty) */
  long flip_query;     /* 1-based query whose output flip_pos is flipped */
  size_t flip_pos;
  long chaos_after;    /* from this query on, output 0 is new every time */
  learn_out chaos_next;
  char names[64][16];
  char name_buf[32];
} tsul;

static uint64_t word_hash(const learn_sym *w, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t k = 0; k < n; k++)
    h = (h ^ w[k]) * 0x100000001b3ull;
  h ^= n * 0x9e3779b97f4a7c15ull;
  return h ? h : 1;
}

static void note_word(tsul *s, const learn_sym *w, size_t n) {
  uint64_t h = word_hash(w, n);
  size_t at = (size_t)(h % MAX_SEEN);
  while (s->seen[at]) {
    if (s->seen[at] == h) {
      s->dups++;
      return;
    }
    at = (at + 1) % MAX_SEEN;
  }
  s->seen[at] = h;
}

static size_t machine_input(const tsul *s, learn_sym i) { return s->perm ? s->perm[i] : i; }

static int ts_query(void *ctx, const learn_sym *w, size_t n, learn_out *out, char *err,
                    size_t err_len) {
  tsul *s = ctx;
  (void)err;
  (void)err_len;
  s->queries++;
  s->symbols += n;
  note_word(s, w, n);
  size_t st = 0;
  for (size_t k = 0; k < n; k++) {
    size_t cell = st * s->n_inputs + machine_input(s, w[k]);
    out[k] = s->out[cell];
    st = s->next[cell];
  }
  if ((long)s->queries == s->flip_query && s->flip_pos < n)
    out[s->flip_pos] = out[s->flip_pos] ? 0 : 1;
  if (s->chaos_after > 0 && (long)s->queries >= s->chaos_after && n)
    out[0] = s->chaos_next++;
  return 0;
}

/* ts_query_batch answers the words last to first: the learner must not
 * depend on the order. */
static int ts_query_batch(void *ctx, size_t count, const learn_sym *const *words,
                          const size_t *lens, learn_out *const *outs, char *err, size_t err_len) {
  tsul *s = ctx;
  if (s->queries == 0)
    s->first_batched = true;
  s->batches++;
  s->batched_words += count;
  if (count > s->widest)
    s->widest = count;
  for (size_t j = count; j-- > 0;)
    if (ts_query(ctx, words[j], lens[j], outs[j], err, err_len) < 0)
      return -1;
  return 0;
}

static const char *ts_input_name(void *ctx, learn_sym i) {
  tsul *s = ctx;
  if (i >= 64)
    return "?";
  snprintf(s->names[i], sizeof s->names[i], "%s%zu", s->prefix ? s->prefix : "i",
           machine_input(s, i));
  return s->names[i];
}

static const char *ts_output_name(void *ctx, learn_out o) {
  tsul *s = ctx;
  snprintf(s->name_buf, sizeof s->name_buf, "o%u", (unsigned)o);
  return s->name_buf;
}

static int ts_output_id(void *ctx, const char *name, learn_out *o) {
  (void)ctx;
  char *end;
  if (name[0] != 'o')
    return -1;
  unsigned long v = strtoul(name + 1, &end, 10);
  if (*end || end == name + 1)
    return -1;
  *o = (learn_out)v;
  return 0;
}

static bool ts_is_sink(void *ctx, learn_out o) {
  tsul *s = ctx;
  return s->has_sink && o == s->sink;
}

static void ts_init(tsul *s, size_t n_states, size_t n_inputs, const uint32_t *next,
                    const learn_out *out) {
  memset(s, 0, sizeof *s);
  s->n_states = n_states;
  s->n_inputs = n_inputs;
  s->next = next;
  s->out = out;
  s->flip_query = -1;
  s->seen = calloc(MAX_SEEN, sizeof *s->seen);
}

static void ts_reset_counts(tsul *s) {
  s->queries = s->symbols = s->dups = 0;
  s->batches = s->batched_words = s->widest = 0;
  s->first_batched = false;
  memset(s->seen, 0, MAX_SEEN * sizeof *s->seen);
}

static learn_sul ts_sul(tsul *s) {
  learn_sul sul = {.ctx = s,
                   .n_inputs = s->n_inputs,
                   .input_name = ts_input_name,
                   .output_name = ts_output_name,
                   .query = ts_query,
                   .is_sink_output = ts_is_sink,
                   .output_id = ts_output_id,
                   .query_batch = s->batching ? ts_query_batch : NULL};
  return sul;
}

/* --- checks --- */

/* isomorphic: a bijection from |t|'s states to |m|'s, found by walking the
 * product from both initial states, that keeps every output and edge. */
static bool isomorphic(const learn_mealy *m, const tsul *t) {
  if (m->n_states != t->n_states || m->n_inputs != t->n_inputs)
    return false;
  size_t n = t->n_states, k = t->n_inputs;
  uint32_t *to = malloc(n * sizeof *to), *back = malloc(n * sizeof *back);
  uint32_t *queue = malloc(n * sizeof *queue);
  bool ok = to && back && queue;
  for (size_t s = 0; ok && s < n; s++)
    to[s] = back[s] = UINT32_MAX;
  size_t head = 0, tail = 0;
  if (ok) {
    to[0] = back[0] = 0;
    queue[tail++] = 0;
  }
  while (ok && head < tail) {
    uint32_t ts = queue[head++], ms = to[ts];
    for (size_t i = 0; ok && i < k; i++) {
      size_t tc = ts * k + i, mc = ms * k + i;
      uint32_t tn = t->next[tc], mn = m->next[mc];
      if (t->out[tc] != m->out[mc])
        ok = false;
      else if (to[tn] == UINT32_MAX && back[mn] == UINT32_MAX) {
        to[tn] = mn;
        back[mn] = tn;
        queue[tail++] = tn;
      } else if (to[tn] != mn) {
        ok = false;
      }
    }
  }
  ok = ok && tail == n;
  free(to);
  free(back);
  free(queue);
  return ok;
}

/* access_ok: every access word leads to its state and is a shortest one. */
static bool access_ok(const learn_mealy *m) {
  size_t n = m->n_states, k = m->n_inputs;
  size_t *dist = malloc(n * sizeof *dist), *queue = malloc(n * sizeof *queue);
  bool ok = dist && queue;
  for (size_t s = 0; ok && s < n; s++)
    dist[s] = SIZE_MAX;
  size_t head = 0, tail = 0;
  if (ok) {
    dist[0] = 0;
    queue[tail++] = 0;
  }
  while (ok && head < tail) {
    size_t s = queue[head++];
    for (size_t i = 0; i < k; i++) {
      size_t t = m->next[s * k + i];
      if (dist[t] == SIZE_MAX) {
        dist[t] = dist[s] + 1;
        queue[tail++] = t;
      }
    }
  }
  for (size_t s = 0; ok && s < n; s++) {
    size_t at = 0;
    for (size_t j = 0; j < m->access_len[s]; j++)
      at = m->next[at * k + m->access[s][j]];
    ok = at == s && m->access_len[s] == dist[s];
  }
  free(dist);
  free(queue);
  return ok;
}

/* --- machines --- */

/* A login-like machine with a sink: 0 greeting, 1 user given, 2 logged in,
 * 3 busy, 4 closed (sink, output 9 on everything). Inputs: user, pass,
 * op, quit, noop. */
enum { SK_N = 5, SK_K = 5 };
static const uint32_t sink_next[SK_N * SK_K] = {
    1, 0, 0, 4, 0, /* 0 */
    1, 2, 1, 4, 1, /* 1 */
    2, 2, 3, 4, 2, /* 2 */
    3, 3, 2, 4, 3, /* 3 */
    4, 4, 4, 4, 4, /* 4 */
};
static const learn_out sink_out[SK_N * SK_K] = {
    1, 2, 2, 3, 4, /* 0 */
    1, 5, 2, 3, 4, /* 1 */
    6, 6, 7, 3, 4, /* 2 */
    6, 6, 8, 3, 4, /* 3 */
    9, 9, 9, 9, 9, /* 4 */
};

/* A combination lock: only 2 0 1 2 opens it (state 4, which answers 1 to
 * everything); every output before is 0 and a wrong digit starts over. */
enum { LK_N = 5, LK_K = 3 };
static const learn_sym lock_code[] = {2, 0, 1, 2, 0};
static uint32_t lock_next[LK_N * LK_K];
static learn_out lock_out[LK_N * LK_K];
static void make_lock(void) {
  for (size_t s = 0; s < LK_N; s++)
    for (size_t i = 0; i < LK_K; i++) {
      bool open = s == LK_N - 1;
      lock_next[s * LK_K + i] = open ? (uint32_t)s : (i == lock_code[s] ? (uint32_t)s + 1 : 0);
      lock_out[s * LK_K + i] = open ? 1 : 0;
    }
}

/* Two states that differ only after a long suffix: from 0 'b' goes to 1;
 * both then count 'a's on their own chain (5 states each) and only the
 * fifth 'a' answers differently (2 on one chain, 3 on the other). 'b'
 * elsewhere goes back to 0. 12 states, inputs a b. */
enum { LS_N = 12, LS_K = 2 };
static uint32_t long_next[LS_N * LS_K];
static learn_out long_out[LS_N * LS_K];
static void make_long(void) {
  /* 0 -a-> 2..6 (chain A), 1 -a-> 7..11 (chain B); the last link loops */
  for (size_t s = 0; s < LS_N; s++) {
    long_next[s * 2 + 1] = s == 0 ? 1 : 0;
    long_out[s * 2 + 1] = 0;
    long_out[s * 2] = 0;
  }
  long_next[0 * 2] = 2;
  long_next[1 * 2] = 7;
  for (size_t j = 0; j < 5; j++) {
    size_t a = 2 + j, b = 7 + j;
    long_next[a * 2] = j < 4 ? (uint32_t)a + 1 : 0;
    long_next[b * 2] = j < 4 ? (uint32_t)b + 1 : 0;
    if (j == 4) {
      long_out[a * 2] = 2;
      long_out[b * 2] = 3;
    }
  }
}

static uint64_t rng_next(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* minimal: no two states answer every word alike (pairwise refinement). */
static bool minimal(size_t n, size_t k, const uint32_t *next, const learn_out *out) {
  bool *diff = calloc(n * n, sizeof *diff);
  bool ok = diff != NULL;
  for (size_t p = 0; ok && p < n; p++)
    for (size_t q = 0; q < n; q++)
      for (size_t i = 0; i < k; i++)
        if (out[p * k + i] != out[q * k + i])
          diff[p * n + q] = true;
  for (bool grew = ok; grew;) {
    grew = false;
    for (size_t p = 0; p < n; p++)
      for (size_t q = 0; q < n; q++)
        for (size_t i = 0; !diff[p * n + q] && i < k; i++)
          if (diff[next[p * k + i] * n + next[q * k + i]])
            diff[p * n + q] = grew = true;
  }
  for (size_t p = 0; ok && p < n; p++)
    for (size_t q = p + 1; q < n; q++)
      ok = ok && diff[p * n + q];
  free(diff);
  return ok;
}

/* random_machine: connected (a random spanning tree first) and minimal. */
static void random_machine(size_t n, size_t k, size_t n_out, uint64_t seed, uint32_t *next,
                           learn_out *out) {
  do {
    for (size_t c = 0; c < n * k; c++)
      next[c] = UINT32_MAX;
    for (size_t s = 1; s < n; s++) {
      size_t c;
      do
        c = (size_t)(rng_next(&seed) % (s * k));
      while (next[c] != UINT32_MAX);
      next[c] = (uint32_t)s;
    }
    for (size_t c = 0; c < n * k; c++) {
      if (next[c] == UINT32_MAX)
        next[c] = (uint32_t)(rng_next(&seed) % n);
      out[c] = (learn_out)(rng_next(&seed) % n_out);
    }
  } while (!minimal(n, k, next, out));
}

/* --- tests --- */

static int learn_it(tsul *t, learn_algorithm alg, learn_config *cfg, learn_mealy *m,
                    learn_stats *st, char *err, size_t err_len) {
  learn_sul sul = ts_sul(t);
  cfg->algorithm = alg;
  return learn_run(&sul, cfg, m, st, err, err_len);
}

static const char *alg_name(learn_algorithm a) { return a == LEARN_LSHARP ? "L#" : "L*"; }

/* exact: learns |t| with |alg|, checks it is exact and nothing was asked
 * twice; returns the stats. */
static learn_stats exact(tsul *t, learn_algorithm alg, learn_config cfg, const char *what) {
  learn_mealy m;
  learn_stats st;
  char err[256];
  ts_reset_counts(t);
  int rc = learn_it(t, alg, &cfg, &m, &st, err, sizeof err);
  CHECK_EQ_INT(rc, LEARN_OK);
  if (rc != LEARN_OK)
    fprintf(stderr, "%s %s: %s\n", what, alg_name(alg), err);
  CHECK(isomorphic(&m, t));
  CHECK(access_ok(&m));
  CHECK_EQ_INT(t->dups, 0);
  CHECK_EQ_INT(st.queries + st.unused_queries, t->queries);
  CHECK_EQ_INT(st.symbols + st.unused_symbols, t->symbols);
  if (!t->batching)
    CHECK_EQ_INT(st.unused_queries, 0);
  fprintf(stderr, "%-12s %s: %zu states, %zu queries (%zu equivalence), %zu symbols, %zu rounds\n",
          what, alg_name(alg), m.n_states, st.queries, st.eq_queries, st.symbols, st.rounds);
  learn_mealy_free(&m);
  return st;
}

/* same_run: learning |t| with its SUL answering batches gives the very
 * machine and stats of asking one query at a time (only the words past a
 * counterexample are extra, as unused_*), and batches are really used,
 * by the learning steps (L#'s extension and separation, L*'s table) as
 * well as by equivalence testing. */
static void same_run(tsul *t, learn_algorithm alg, learn_config cfg, const char *what) {
  learn_mealy one, many;
  learn_stats a, b;
  char err[256];
  t->batching = false;
  ts_reset_counts(t);
  CHECK_EQ_INT(learn_it(t, alg, &cfg, &one, &a, err, sizeof err), LEARN_OK);
  CHECK_EQ_INT(t->batches, 0);
  t->batching = true;
  b = exact(t, alg, cfg, what);
  ts_reset_counts(t);
  CHECK_EQ_INT(learn_it(t, alg, &cfg, &many, &b, err, sizeof err), LEARN_OK);
  t->batching = false;
  CHECK_EQ_INT(t->dups, 0);
  CHECK(t->batches > 0 && t->widest > 1);
  CHECK(t->batched_words <= t->queries);
  /* learning queries were batched too, not only equivalence tests: the
   * very first words (L#'s extension of the root, L*'s first table) came
   * in a batch, and more batch answers were used than there were
   * equivalence tests */
  CHECK(t->first_batched);
  CHECK(t->batched_words - b.unused_queries > b.eq_queries);
  CHECK_EQ_INT(b.queries + b.unused_queries, t->queries);
  CHECK_EQ_INT(one.n_states, many.n_states);
  if (one.n_states == many.n_states) {
    size_t cells = one.n_states * one.n_inputs;
    CHECK_MEM(one.next, cells * sizeof *one.next, many.next, cells * sizeof *many.next);
    CHECK_MEM(one.out, cells * sizeof *one.out, many.out, cells * sizeof *many.out);
  }
  CHECK_EQ_INT(a.queries, b.queries);
  CHECK_EQ_INT(a.symbols, b.symbols);
  CHECK_EQ_INT(a.eq_queries, b.eq_queries);
  CHECK_EQ_INT(a.rounds, b.rounds);
  CHECK_EQ_INT(a.cache_hits, b.cache_hits);
  CHECK_EQ_INT(a.sink_saved_queries, b.sink_saved_queries);
  CHECK_EQ_INT(a.sink_saved_symbols, b.sink_saved_symbols);
  CHECK_EQ_INT(a.nondet, b.nondet);
  fprintf(stderr, "%-12s %s batched: %zu batches, %zu words, %zu unused\n", what, alg_name(alg),
          t->batches, t->batched_words, b.unused_queries);
  learn_mealy_free(&one);
  learn_mealy_free(&many);
}

static void test_sink(void) {
  tsul t;
  ts_init(&t, SK_N, SK_K, sink_next, sink_out);
  t.has_sink = true;
  t.sink = 9;
  learn_config cfg = learn_config_default();
  for (int a = 0; a < 2; a++) {
    learn_stats with = exact(&t, (learn_algorithm)a, cfg, "sink");
    cfg.use_sink = false;
    learn_stats without = exact(&t, (learn_algorithm)a, cfg, "sink (off)");
    cfg.use_sink = true;
    CHECK(with.sink_saved_queries > 0);
    CHECK(with.sink_saved_symbols >= with.sink_saved_queries);
    CHECK_EQ_INT(without.sink_saved_queries, 0);
    CHECK(with.queries < without.queries);
  }
  free(t.seen);
}

static void test_lock(void) {
  tsul t;
  make_lock();
  ts_init(&t, LK_N, LK_K, lock_next, lock_out);
  learn_config cfg = learn_config_default();
  /* random words of this length rarely open a 4-digit lock; the caller's
   * candidate (the model's cover set, in the FTPS case) does */
  const learn_sym *cands[] = {lock_code};
  size_t cand_len[] = {sizeof lock_code / sizeof lock_code[0]};
  cfg.candidates = cands;
  cfg.candidate_len = cand_len;
  cfg.n_candidates = 1;
  cfg.random_tests = 50;
  for (int a = 0; a < 2; a++)
    exact(&t, (learn_algorithm)a, cfg, "lock");
  /* without the candidate and with no random testing, the lock stays shut:
   * a one-state hypothesis that is wrong, which is why candidates exist */
  cfg.n_candidates = 0;
  cfg.random_tests = 0;
  learn_mealy m;
  learn_stats st;
  char err[256];
  CHECK_EQ_INT(learn_it(&t, LEARN_LSHARP, &cfg, &m, &st, err, sizeof err), LEARN_OK);
  CHECK(m.n_states < LK_N);
  learn_mealy_free(&m);
  free(t.seen);
}

static void test_long_suffix(void) {
  tsul t;
  make_long();
  CHECK(minimal(LS_N, LS_K, long_next, long_out));
  ts_init(&t, LS_N, LS_K, long_next, long_out);
  learn_config cfg = learn_config_default();
  for (int a = 0; a < 2; a++) {
    learn_stats st = exact(&t, (learn_algorithm)a, cfg, "long suffix");
    CHECK(st.rounds >= 2); /* a first hypothesis was wrong: testing found it */
  }
  free(t.seen);
}

static void test_random(void) {
  enum { N = 20, K = 4 };
  static uint32_t next[N * K];
  static learn_out out[N * K];
  random_machine(N, K, 3, 42, next, out);
  tsul t;
  ts_init(&t, N, K, next, out);
  learn_config cfg = learn_config_default();
  learn_stats ls = exact(&t, LEARN_LSHARP, cfg, "random 20");
  learn_stats lst = exact(&t, LEARN_LSTAR, cfg, "random 20");
  /* Learning queries (not equivalence tests): L# needs O(k n^2 + n log m)
   * output queries, L* with Rivest-Schapire O(k n^2 + n log m) too but
   * fills a whole table row per state: both far below k*n^2*4, both at
   * least one per state. */
  size_t lsharp_learn = ls.queries - ls.eq_queries, lstar_learn = lst.queries - lst.eq_queries;
  CHECK(lsharp_learn >= N && lsharp_learn <= 4 * K * N * N);
  CHECK(lstar_learn >= N && lstar_learn <= 4 * K * N * N);
  CHECK(lsharp_learn < lstar_learn);
  /* numbered breadth-first: both algorithms give the very same tables */
  learn_mealy a, b;
  char err[256];
  CHECK_EQ_INT(learn_it(&t, LEARN_LSHARP, &cfg, &a, NULL, err, sizeof err), LEARN_OK);
  CHECK_EQ_INT(learn_it(&t, LEARN_LSTAR, &cfg, &b, NULL, err, sizeof err), LEARN_OK);
  CHECK(a.n_states == N && b.n_states == N);
  if (a.n_states == N && b.n_states == N) {
    CHECK_MEM(a.next, N * K * sizeof *a.next, b.next, N * K * sizeof *b.next);
    CHECK_MEM(a.out, N * K * sizeof *a.out, b.out, N * K * sizeof *b.out);
  }
  learn_mealy_free(&a);
  learn_mealy_free(&b);
  free(t.seen);
}

/* Batching changes nothing but wall time, on every machine above, with
 * sinks and candidates, and in small and large batches. */
static void test_batch(void) {
  tsul t;
  ts_init(&t, SK_N, SK_K, sink_next, sink_out);
  t.has_sink = true;
  t.sink = 9;
  learn_config cfg = learn_config_default();
  for (int a = 0; a < 2; a++)
    same_run(&t, (learn_algorithm)a, cfg, "sink");
  free(t.seen);

  make_lock();
  ts_init(&t, LK_N, LK_K, lock_next, lock_out);
  const learn_sym *cands[] = {lock_code};
  size_t cand_len[] = {sizeof lock_code / sizeof lock_code[0]};
  cfg.candidates = cands;
  cfg.candidate_len = cand_len;
  cfg.n_candidates = 1;
  cfg.random_tests = 50;
  for (int a = 0; a < 2; a++)
    same_run(&t, (learn_algorithm)a, cfg, "lock");
  free(t.seen);

  cfg = learn_config_default();
  make_long();
  ts_init(&t, LS_N, LS_K, long_next, long_out);
  cfg.batch = 7;
  for (int a = 0; a < 2; a++)
    same_run(&t, (learn_algorithm)a, cfg, "long suffix");
  free(t.seen);

  enum { N = 20, K = 4 };
  static uint32_t next[N * K];
  static learn_out out[N * K];
  random_machine(N, K, 3, 42, next, out);
  ts_init(&t, N, K, next, out);
  cfg.batch = 64;
  for (int a = 0; a < 2; a++)
    same_run(&t, (learn_algorithm)a, cfg, "random 20");
  /* the budget counts every word sent, used or not */
  t.batching = true;
  ts_reset_counts(&t);
  cfg.max_queries = 150;
  learn_mealy m;
  learn_stats st;
  char err[256];
  CHECK_EQ_INT(learn_it(&t, LEARN_LSHARP, &cfg, &m, &st, err, sizeof err), LEARN_ERR_BUDGET);
  CHECK_EQ_INT(t.queries, 150);
  CHECK_EQ_INT(st.queries + st.unused_queries, 150);
  CHECK(t.batches > 0);
  learn_mealy_free(&m);
  free(t.seen);
}

/* An answer that flips once: either it is the first answer for a word (the
 * tree holds a wrong answer until a later query disagrees: the majority
 * rewrites it) or a later one (the majority keeps the tree's). */
static void test_flip_once(void) {
  tsul t;
  ts_init(&t, SK_N, SK_K, sink_next, sink_out);
  learn_config cfg = learn_config_default();
  long flips[] = {1, 12};
  for (size_t f = 0; f < 2; f++)
    for (int a = 0; a < 2; a++) {
      learn_mealy m;
      learn_stats st;
      char err[256];
      ts_reset_counts(&t);
      t.flip_query = flips[f];
      t.flip_pos = 0;
      int rc = learn_it(&t, (learn_algorithm)a, &cfg, &m, &st, err, sizeof err);
      CHECK_EQ_INT(rc, LEARN_OK);
      CHECK(isomorphic(&m, &t));
      CHECK_EQ_INT(st.nondet, 1);
      learn_mealy_free(&m);
    }
  /* With batches (answered last to first) the flipped answer is the SUL's
   * Nth, which may be one never used (then nothing disagrees); when it is
   * used, the tree goes stale in the middle of a learning step whose other
   * prefetched answers are used later or left unused, never twice. */
  size_t disagreed = 0;
  t.batching = true;
  for (long flip = 1; flip <= 40; flip += 3)
    for (int a = 0; a < 2; a++) {
      learn_mealy m;
      learn_stats st;
      char err[256];
      ts_reset_counts(&t);
      t.flip_query = flip;
      t.flip_pos = 0;
      int rc = learn_it(&t, (learn_algorithm)a, &cfg, &m, &st, err, sizeof err);
      CHECK_EQ_INT(rc, LEARN_OK);
      CHECK(isomorphic(&m, &t));
      CHECK(st.nondet <= 1);
      CHECK_EQ_INT(st.queries + st.unused_queries, t.queries);
      CHECK(t.batches > 0);
      disagreed += st.nondet;
      learn_mealy_free(&m);
    }
  t.batching = false;
  CHECK(disagreed >= 10);
  free(t.seen);
}

static void test_never_agrees(void) {
  tsul t;
  ts_init(&t, SK_N, SK_K, sink_next, sink_out);
  t.chaos_after = 5;
  t.chaos_next = 100;
  learn_config cfg = learn_config_default();
  learn_mealy m;
  learn_stats st;
  char err[256];
  int rc = learn_it(&t, LEARN_LSHARP, &cfg, &m, &st, err, sizeof err);
  CHECK_EQ_INT(rc, LEARN_ERR_NONDET);
  CHECK(strstr(err, "non-deterministic") != NULL);
  CHECK(strstr(err, "'i") != NULL); /* names the word */
  CHECK(m.n_states <= 1);          /* at most the first, one-state hypothesis */
  CHECK(st.nondet >= 1);
  CHECK(strstr(st.nondet_first, " | ") != NULL); /* the word and both answers */
  learn_mealy_free(&m);
  /* chaos after the first hypothesis: that one is kept, not confirmed */
  for (int a = 0; a < 2; a++) {
    ts_reset_counts(&t);
    t.chaos_after = 300;
    t.chaos_next = 100;
    rc = learn_it(&t, (learn_algorithm)a, &cfg, &m, &st, err, sizeof err);
    CHECK_EQ_INT(rc, LEARN_ERR_NONDET);
    CHECK(st.rounds >= 1);
    CHECK(m.n_states > 1); /* a later hypothesis than the first */
    printf("chaos late   %s: rc %d, last hypothesis %zu states after %zu rounds\n",
           a ? "L*" : "L#", rc, m.n_states, st.rounds);
    CHECK_EQ_INT(m.n_inputs, SK_K);
    learn_mealy_free(&m);
  }
  free(t.seen);
}

static void test_cache(void) {
  enum { N = 8, K = 3 };
  static uint32_t next[N * K];
  static learn_out out[N * K];
  random_machine(N, K, 3, 7, next, out);
  char path[] = "/tmp/test_learn_cacheXXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  unlink(path); /* the learner creates it */
  tsul t;
  ts_init(&t, N, K, next, out);
  learn_config cfg = learn_config_default();
  cfg.cache_path = path;
  learn_stats first = exact(&t, LEARN_LSHARP, cfg, "cache 1st");
  CHECK(first.queries > 0);
  learn_stats second = exact(&t, LEARN_LSHARP, cfg, "cache 2nd");
  CHECK_EQ_INT(second.queries, 0);
  CHECK(second.cache_hits > 0);
  /* another algorithm over the same cache asks only what L# never did */
  exact(&t, LEARN_LSTAR, cfg, "cache L*");

  /* the same alphabet in another order reads by name: no answer disagrees
   * with the cache (a misread cache would) and most are reused (the
   * equivalence tests differ: the hypothesis numbers inputs otherwise) */
  static const size_t perm[K] = {2, 0, 1};
  static uint32_t pnext[N * K];
  static learn_out pout[N * K];
  for (size_t s = 0; s < N; s++)
    for (size_t j = 0; j < K; j++) {
      pnext[s * K + j] = next[s * K + perm[j]];
      pout[s * K + j] = out[s * K + perm[j]];
    }
  tsul p;
  ts_init(&p, N, K, next, out);
  p.perm = perm;
  learn_mealy m;
  learn_stats st;
  char err[256];
  int rc = learn_it(&p, LEARN_LSHARP, &cfg, &m, &st, err, sizeof err);
  CHECK_EQ_INT(rc, LEARN_OK);
  CHECK_EQ_INT(st.nondet, 0);
  CHECK(st.queries < first.queries);
  CHECK(st.cache_hits > 0);
  /* learned in the SUL's input order: compare with the permuted table */
  tsul pt;
  ts_init(&pt, N, K, pnext, pout);
  CHECK(isomorphic(&m, &pt));
  learn_mealy_free(&m);

  /* a crash mid-line: the partial line is dropped, nothing else lost */
  FILE *f = fopen(path, "a");
  CHECK(f != NULL);
  if (f) {
    fputs("i0 i1\to1", f);
    fclose(f);
  }
  learn_stats third = exact(&t, LEARN_LSHARP, cfg, "cache cut");
  CHECK_EQ_INT(third.queries, 0);

  /* another alphabet is refused, with a clear error */
  tsul x;
  ts_init(&x, N, K, next, out);
  x.prefix = "x";
  rc = learn_it(&x, LEARN_LSHARP, &cfg, &m, &st, err, sizeof err);
  CHECK_EQ_INT(rc, LEARN_ERR_INVAL);
  CHECK(strstr(err, "alphabet") != NULL);
  CHECK_EQ_INT(x.queries, 0);
  learn_mealy_free(&m);

  /* not a cache, or a damaged line: refused with FILE:LINE, file kept */
  static const struct {
    const char *text, *want;
  } bad[] = {
      {"something else\n", ":1: not a learn query cache"},
      {"ftpsfuzz-learn-cache 1\ninputs i0 i1 i2\n", ":1: not a learn query cache of this version"},
      {"ftpsfuzz-learn-cache 2\ninputs i0 i1 i2\ni0 i9\to1 o1\n", ":3: 'i9' is not an input"},
      {"ftpsfuzz-learn-cache 2\ninputs i0 i1 i2\ni0 i1\to1\n", ":3: fewer outputs"},
      {"ftpsfuzz-learn-cache 2\ninputs i0 i1\n", ":2: the cache was made with another"},
  };
  for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
      break;
    fputs(bad[b].text, f);
    fclose(f);
    rc = learn_it(&t, LEARN_LSHARP, &cfg, &m, &st, err, sizeof err);
    CHECK_EQ_INT(rc, LEARN_ERR_INVAL);
    CHECK(strstr(err, bad[b].want) != NULL);
    if (!strstr(err, bad[b].want))
      fprintf(stderr, "got: %s\n", err);
    learn_mealy_free(&m);
  }
  unlink(path);
  free(t.seen);
  free(p.seen);
  free(pt.seen);
  free(x.seen);
}

static void test_budget(void) {
  enum { N = 20, K = 4 };
  static uint32_t next[N * K];
  static learn_out out[N * K];
  random_machine(N, K, 3, 42, next, out);
  tsul t;
  ts_init(&t, N, K, next, out);
  learn_config cfg = learn_config_default();
  for (int a = 0; a < 2; a++) {
    learn_mealy m;
    learn_stats st;
    char err[256];
    ts_reset_counts(&t);
    cfg.max_queries = 150;
    int rc = learn_it(&t, (learn_algorithm)a, &cfg, &m, &st, err, sizeof err);
    CHECK_EQ_INT(rc, LEARN_ERR_BUDGET);
    CHECK_EQ_INT(st.queries, 150);
    CHECK(strstr(err, "budget") != NULL);
    learn_mealy_free(&m);
  }
  /* a time budget already spent: nothing is asked, no hypothesis */
  learn_mealy m;
  learn_stats st;
  char err[256];
  cfg.max_queries = 0;
  cfg.max_seconds = 1e-9;
  CHECK_EQ_INT(learn_it(&t, LEARN_LSHARP, &cfg, &m, &st, err, sizeof err), LEARN_ERR_BUDGET);
  CHECK_EQ_INT(st.queries, 0);
  CHECK_EQ_INT(m.n_states, 0);
  learn_mealy_free(&m);
  free(t.seen);
}

static int failing_query(void *ctx, const learn_sym *w, size_t n, learn_out *out, char *err,
                         size_t err_len) {
  (void)ctx;
  (void)w;
  (void)n;
  (void)out;
  snprintf(err, err_len, "connection refused");
  return -1;
}

/* a SUL that cannot answer ends learning with its own message */
static void test_sul_error(void) {
  tsul t;
  ts_init(&t, SK_N, SK_K, sink_next, sink_out);
  learn_sul sul = ts_sul(&t);
  sul.query = failing_query;
  learn_mealy m;
  learn_stats st;
  char err[256];
  CHECK_EQ_INT(learn_run(&sul, NULL, &m, &st, err, sizeof err), LEARN_ERR_SUL);
  CHECK_STR(err, "connection refused");
  CHECK_EQ_INT(m.n_states, 0);
  sul.n_inputs = 0;
  CHECK_EQ_INT(learn_run(&sul, NULL, &m, NULL, err, sizeof err), LEARN_ERR_INVAL);
  free(t.seen);
}

int main(void) {
  test_sink();
  test_lock();
  test_long_suffix();
  test_random();
  test_batch();
  test_flip_once();
  test_never_agrees();
  test_cache();
  test_budget();
  test_sul_error();
  return testlib_finish();
}
