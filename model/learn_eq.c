/* learn_eq.c - equivalence by conformance testing. A hypothesis is checked
 * against, in order: everything already in the observation tree (free),
 * the caller's candidate words, the Wp-method with cfg->extra_states extra
 * states (Fujiwara et al. 1991), and cfg->random_tests random Wp-style
 * words (access word + random infix + a separating suffix of the state
 * reached). The first word on which SUL and hypothesis differ is the
 * counterexample. */
#include <stdlib.h>
#include <string.h>

#include "learn_internal.h"

/* Separating words of a hypothesis: sep(p, q) for every pair of states,
 * shortest first; the global set W of distinct ones; per state s the set
 * W_s = { sep(s, t) : t != s } as indices into W. */
typedef struct seps {
  size_t n;
  lword *words; /* distinct separating words (W) */
  size_t n_words;
  size_t **local; /* local[s] = indices into words */
  size_t *n_local;
} seps;

static void seps_free(seps *S) {
  for (size_t k = 0; k < S->n_words; k++)
    lw_free(&S->words[k]);
  free(S->words);
  if (S->local)
    for (size_t s = 0; s < S->n; s++)
      free(S->local[s]);
  free(S->local);
  free(S->n_local);
  memset(S, 0, sizeof *S);
}

static int seps_build(seps *S, const learn_mealy *h) {
  size_t n = h->n_states, k = h->n_inputs, pairs = n * n;
  uint32_t *first = malloc((pairs + 1) * sizeof *first); /* input, or LT_NONE */
  uint32_t *then = malloc((pairs + 1) * sizeof *then);   /* next pair, or LT_NONE */
  size_t *word_of = malloc((pairs + 1) * sizeof *word_of);
  lword w = {0};
  int rc = LEARN_ERR_NOMEM;
  memset(S, 0, sizeof *S);
  S->n = n;
  S->words = calloc(pairs + 1, sizeof *S->words);
  S->local = calloc(n + 1, sizeof *S->local);
  S->n_local = calloc(n + 1, sizeof *S->n_local);
  if (!first || !then || !word_of || !S->words || !S->local || !S->n_local)
    goto out;
  for (size_t p = 0; p < pairs; p++)
    first[p] = then[p] = LT_NONE;
  for (size_t p = 0; p < n; p++)
    for (size_t q = 0; q < n; q++)
      for (size_t i = 0; p != q && i < k; i++)
        if (h->out[p * k + i] != h->out[q * k + i]) {
          first[p * n + q] = (uint32_t)i;
          break;
        }
  /* level by level, so each word is a shortest one */
  for (bool grew = true; grew;) {
    grew = false;
    uint32_t *snap = malloc((pairs + 1) * sizeof *snap);
    if (!snap)
      goto out;
    memcpy(snap, first, pairs * sizeof *snap);
    for (size_t p = 0; p < n; p++)
      for (size_t q = 0; q < n; q++) {
        if (p == q || snap[p * n + q] != LT_NONE)
          continue;
        for (size_t i = 0; i < k; i++) {
          size_t np = h->next[p * k + i], nq = h->next[q * k + i];
          if (np != nq && snap[np * n + nq] != LT_NONE) {
            first[p * n + q] = (uint32_t)i;
            then[p * n + q] = (uint32_t)(np * n + nq);
            grew = true;
            break;
          }
        }
      }
    free(snap);
  }
  for (size_t p = 0; p < n; p++) {
    S->local[p] = malloc((n + 1) * sizeof **S->local);
    if (!S->local[p])
      goto out;
    for (size_t q = 0; q < n; q++) {
      size_t pq = p * n + q;
      word_of[pq] = SIZE_MAX;
      if (p == q || first[pq] == LT_NONE)
        continue; /* equivalent states: no word (the hypothesis is minimal anyway) */
      w.n = 0;
      for (size_t at = pq; at != LT_NONE; at = then[at])
        if (lw_push(&w, (learn_sym)first[at]) < 0)
          goto out;
      size_t idx = 0;
      while (idx < S->n_words &&
             (S->words[idx].n != w.n || memcmp(S->words[idx].s, w.s, w.n * sizeof *w.s)))
        idx++;
      if (idx == S->n_words) {
        if (lw_append(&S->words[idx], w.s, w.n) < 0)
          goto out;
        S->n_words++;
      }
      size_t j = 0;
      while (j < S->n_local[p] && S->local[p][j] != idx)
        j++;
      if (j == S->n_local[p])
        S->local[p][S->n_local[p]++] = idx;
    }
  }
  rc = 0;
out:
  free(first);
  free(then);
  free(word_of);
  lw_free(&w);
  return rc;
}

static size_t run_hyp(const learn_mealy *h, size_t s, const learn_sym *w, size_t n) {
  for (size_t k = 0; k < n; k++)
    s = h->next[s * h->n_inputs + w[k]];
  return s;
}

/* The words of an equivalence round are tested in the order they are made,
 * a batch at a time: the batch's unknown words go to the SUL at once
 * (lc_prefetch), then each is tested as if asked alone. */
#define EQ_BATCH_MAX 4096

typedef struct eqbatch {
  size_t cap;        /* words per batch (1: each tested at once) */
  size_t n;          /* words waiting */
  lword flat;        /* their symbols, one word after another */
  size_t *start, *len;
  const learn_sym **words;
  learn_out *buf;    /* one word's answer */
  size_t buf_cap;
} eqbatch;

static int eqb_init(eqbatch *B, const learn_ctx *c) {
  memset(B, 0, sizeof *B);
  B->cap = c->sul->query_batch && c->cfg->batch > 1 ? c->cfg->batch : 1;
  if (B->cap > EQ_BATCH_MAX)
    B->cap = EQ_BATCH_MAX;
  B->start = malloc(B->cap * sizeof *B->start);
  B->len = malloc(B->cap * sizeof *B->len);
  B->words = malloc(B->cap * sizeof *B->words);
  return B->start && B->len && B->words ? 0 : LEARN_ERR_NOMEM;
}

static void eqb_free(eqbatch *B) {
  lw_free(&B->flat);
  free(B->start);
  free(B->len);
  free(B->words);
  free(B->buf);
}

/* test_word: 1 and the counterexample in |cex| when the SUL and |h| differ
 * on |w|, else 0, or LEARN_ERR_*. */
static int test_word(learn_ctx *c, const learn_mealy *h, const learn_sym *w, size_t n,
                     lword *cex, learn_out *buf) {
  size_t before = c->st->queries;
  int rc = lc_query(c, w, n, buf);
  if (c->st->queries > before)
    c->st->eq_queries++;
  if (rc < 0)
    return rc;
  size_t s = 0;
  for (size_t k = 0; k < n; k++) {
    size_t cell = s * h->n_inputs + w[k];
    if (h->out[cell] != buf[k]) {
      cex->n = 0;
      return lw_append(cex, w, k + 1) < 0 ? lc_fail(c, LEARN_ERR_NOMEM, "out of memory") : 1;
    }
    s = h->next[cell];
  }
  return 0;
}

/* eqb_flush tests the waiting words in order up to the first counterexample
 * (1, in |cex|); the rest are dropped. */
static int eqb_flush(learn_ctx *c, eqbatch *B, const learn_mealy *h, lword *cex) {
  int rc = 0;
  for (size_t j = 0; j < B->n; j++)
    B->words[j] = B->flat.s + B->start[j];
  if (B->n > 1)
    rc = lc_prefetch(c, B->n, B->words, B->len);
  for (size_t j = 0; j < B->n && !rc; j++)
    rc = test_word(c, h, B->words[j], B->len[j], cex, B->buf);
  B->n = 0;
  B->flat.n = 0;
  return rc;
}

/* eqb_add queues |w| (an empty word tests nothing); a full batch is
 * flushed. Returns as eqb_flush. */
static int eqb_add(learn_ctx *c, eqbatch *B, const learn_mealy *h, const learn_sym *w, size_t n,
                   lword *cex) {
  if (!n)
    return 0;
  if (n > B->buf_cap) {
    learn_out *nb = realloc(B->buf, n * 2 * sizeof *nb);
    if (!nb)
      return lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
    B->buf = nb;
    B->buf_cap = n * 2;
  }
  B->start[B->n] = B->flat.n;
  B->len[B->n] = n;
  if (lw_append(&B->flat, w, n) < 0)
    return lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
  return ++B->n == B->cap ? eqb_flush(c, B, h, cex) : 0;
}

/* tree_check walks the whole observation tree alongside |h|: a node whose
 * answer |h| gets wrong is a counterexample that costs no query. */
static int tree_check(learn_ctx *c, const learn_mealy *h, lword *cex) {
  const learn_tree *t = &c->tree;
  uint32_t *node = malloc(t->n_nodes * sizeof *node);
  uint32_t *state = malloc(t->n_nodes * sizeof *state);
  int rc = 0;
  if (!node || !state) {
    rc = lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
    goto out;
  }
  size_t head = 0, tail = 0;
  node[tail] = 0;
  state[tail++] = 0;
  while (head < tail && rc == 0) {
    uint32_t n = node[head], s = state[head++];
    for (size_t i = 0; i < t->n_inputs; i++) {
      uint32_t ch = lt_child(t, n, (learn_sym)i);
      if (ch == LT_NONE)
        continue;
      size_t cell = (size_t)s * h->n_inputs + i;
      if (t->out[ch] != h->out[cell]) {
        rc = lw_access(cex, t, ch) < 0 ? lc_fail(c, LEARN_ERR_NOMEM, "out of memory") : 1;
        break;
      }
      node[tail] = ch;
      state[tail++] = h->next[cell];
    }
  }
out:
  free(node);
  free(state);
  return rc;
}

/* next_infix steps |m| through I^len in counting order; false at the end. */
static bool next_infix(lword *m, size_t n_inputs) {
  for (size_t k = m->n; k-- > 0;) {
    if ((size_t)m->s[k] + 1 < n_inputs) {
      m->s[k]++;
      return true;
    }
    m->s[k] = 0;
  }
  return false;
}

/* try_suffixes tests prefix·w for every w in the given set of W. */
static int try_suffixes(learn_ctx *c, const learn_mealy *h, const seps *S, lword *word,
                        const size_t *idx, size_t n_idx, bool all, lword *cex, eqbatch *B) {
  size_t base = word->n, count = all ? S->n_words : n_idx;
  if (count == 0)
    count = 1; /* a one-state hypothesis has no separating words: test the prefix */
  for (size_t j = 0; j < count; j++) {
    word->n = base;
    if (S->n_words) {
      const lword *sfx = &S->words[all ? j : idx[j]];
      if (lw_append(word, sfx->s, sfx->n) < 0)
        return lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
    }
    int rc = eqb_add(c, B, h, word->s, word->n, cex);
    if (rc)
      return rc;
  }
  word->n = base;
  return 0;
}

static int wp_method(learn_ctx *c, const learn_mealy *h, const seps *S, lword *cex,
                     eqbatch *B) {
  size_t n = h->n_states, k = h->n_inputs;
  unsigned extra = c->cfg->extra_states;
  lword word = {0}, mid = {0};
  int rc = 0;
  /* phase 1: Q · I^{<=extra} · W */
  for (size_t s = 0; s < n && !rc; s++)
    for (size_t len = 0; len <= extra && !rc; len++) {
      mid.n = 0;
      for (size_t j = 0; j < len; j++)
        if (lw_push(&mid, 0) < 0)
          rc = LEARN_ERR_NOMEM;
      for (bool more = !rc; more && !rc; more = next_infix(&mid, k)) {
        word.n = 0;
        if (lw_append(&word, h->access[s], h->access_len[s]) < 0 ||
            lw_append(&word, mid.s, mid.n) < 0) {
          rc = LEARN_ERR_NOMEM;
          break;
        }
        rc = try_suffixes(c, h, S, &word, NULL, 0, true, cex, B);
      }
    }
  /* phase 2: (Q·I minus Q) · I^{<=extra} · W_reached */
  for (size_t s = 0; s < n && !rc; s++)
    for (size_t i = 0; i < k && !rc; i++) {
      size_t t = h->next[s * k + i];
      if (h->access_len[t] == h->access_len[s] + 1 && h->access[t][h->access_len[s]] == i &&
          !memcmp(h->access[t], h->access[s], h->access_len[s] * sizeof *h->access[s]))
        continue; /* s·i is the access word of t: phase 1 tested it */
      for (size_t len = 0; len <= extra && !rc; len++) {
        mid.n = 0;
        for (size_t j = 0; j < len; j++)
          if (lw_push(&mid, 0) < 0)
            rc = LEARN_ERR_NOMEM;
        for (bool more = !rc; more && !rc; more = next_infix(&mid, k)) {
          word.n = 0;
          if (lw_append(&word, h->access[s], h->access_len[s]) < 0 ||
              lw_push(&word, (learn_sym)i) < 0 || lw_append(&word, mid.s, mid.n) < 0) {
            rc = LEARN_ERR_NOMEM;
            break;
          }
          size_t r = run_hyp(h, t, mid.s, mid.n);
          rc = try_suffixes(c, h, S, &word, S->local[r], S->n_local[r], false, cex, B);
        }
      }
    }
  if (rc == LEARN_ERR_NOMEM)
    rc = lc_fail(c, rc, "out of memory");
  lw_free(&word);
  lw_free(&mid);
  return rc;
}

static int random_wp(learn_ctx *c, const learn_mealy *h, const seps *S, lword *cex,
                     eqbatch *B) {
  size_t n = h->n_states, k = h->n_inputs;
  size_t max_infix = 2 * (n + c->cfg->extra_states) + 4;
  lword word = {0};
  int rc = 0;
  for (size_t r = 0; r < c->cfg->random_tests && !rc; r++) {
    size_t s = (size_t)(lc_rand(c) % n);
    size_t len = (size_t)(lc_rand(c) % (max_infix + 1));
    word.n = 0;
    if (lw_append(&word, h->access[s], h->access_len[s]) < 0) {
      rc = lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
      break;
    }
    for (size_t j = 0; j < len && !rc; j++)
      if (lw_push(&word, (learn_sym)(lc_rand(c) % k)) < 0)
        rc = lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
    if (rc)
      break;
    size_t t = run_hyp(h, 0, word.s, word.n);
    size_t pick = S->n_local[t] ? S->local[t][lc_rand(c) % S->n_local[t]] : SIZE_MAX;
    if (pick != SIZE_MAX)
      rc = try_suffixes(c, h, S, &word, &pick, 1, false, cex, B);
    else
      rc = try_suffixes(c, h, S, &word, NULL, 0, false, cex, B);
  }
  lw_free(&word);
  return rc;
}

/* The random words of a round depend only on the seed and the hypothesis,
 * so a run resumed from a cache file repeats the last round's words and
 * finds them all cached. Outputs by name: ids are numbered in the order the
 * SUL first met them, which batching may change. */
static uint64_t round_seed(const learn_ctx *c, const learn_mealy *h) {
  uint64_t x = c->cfg->seed ^ 0x6a09e667f3bcc909ull;
  for (size_t k = 0; k < h->n_states * h->n_inputs; k++) {
    x = (x ^ h->next[k]) * 0x100000001b3ull;
    const char *name = c->sul->output_name(c->sul->ctx, h->out[k]);
    for (const char *p = name ? name : ""; *p; p++)
      x = (x ^ (unsigned char)*p) * 0x100000001b3ull;
    x = (x ^ 0xff) * 0x100000001b3ull;
  }
  return x;
}

static int find_cex(learn_ctx *c, const learn_mealy *h, lword *cex);

int lc_find_cex(learn_ctx *c, const learn_mealy *h, lword *cex) {
  learn_mealy canon;
  if (lm_canonical(&canon, h) < 0) {
    learn_mealy_free(&canon);
    return lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
  }
  int rc = find_cex(c, &canon, cex);
  learn_mealy_free(&canon);
  return rc;
}

static int find_cex(learn_ctx *c, const learn_mealy *h, lword *cex) {
  const learn_config *cfg = c->cfg;
  c->rng = round_seed(c, h);
  eqbatch B;
  seps S;
  int rc = tree_check(c, h, cex);
  if (rc)
    return rc;
  if (eqb_init(&B, c) < 0) {
    eqb_free(&B);
    return lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
  }
  for (size_t j = 0; j < cfg->n_candidates && !rc; j++) {
    size_t len = cfg->candidate_len[j];
    for (size_t i = 0; i < len && !rc; i++)
      if (cfg->candidates[j][i] >= h->n_inputs) {
        /* the words before it are tested first, as one at a time would */
        if (!(rc = eqb_flush(c, &B, h, cex)))
          rc = lc_fail(c, LEARN_ERR_INVAL, "candidate %zu: input %u is not in the alphabet", j,
                       (unsigned)cfg->candidates[j][i]);
      }
    if (!rc)
      rc = eqb_add(c, &B, h, cfg->candidates[j], len, cex);
  }
  if (!rc && seps_build(&S, h) < 0)
    rc = lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
  else if (!rc) {
    rc = wp_method(c, h, &S, cex, &B);
    if (!rc)
      rc = random_wp(c, h, &S, cex, &B);
    seps_free(&S);
  }
  if (!rc)
    rc = eqb_flush(c, &B, h, cex);
  eqb_free(&B);
  return rc;
}
