/* learn_lstar.c - the L* baseline for Mealy machines (Shahbaz and Groz
 * 2009: an observation table whose cells are output words), with Rivest
 * and Schapire's counterexample processing (1993: a binary search for
 * the one suffix that splits a row, added to the columns), so the rows
 * of S stay pairwise distinct and the table needs no consistency check.
 * It asks through the same observation tree, cache and equivalence oracle
 * as L#, which is what makes the benchmark a comparison of algorithms.
 * Cells are compared by a 64-bit hash of their output word. */
#include <stdlib.h>
#include <string.h>

#include "learn_internal.h"

typedef struct lrow {
  lword w;
  uint64_t *cells;
  size_t n_cells, cap_cells;
  uint64_t sig; /* hash of all cells */
} lrow;

typedef struct lstar {
  learn_ctx *c;
  learn_tree *t;
  lrow *rows;
  size_t n_rows, cap_rows;
  size_t *S; /* rows in S, S[0] the empty word */
  size_t nS, cap_S;
  size_t *succ; /* succ[s * k + i]: the row of S[s]·i */
  lword *E;
  size_t nE, cap_E;
  learn_out *buf;
  size_t buf_cap;
  lword q;
  unsigned gen;
  lc_ahead ahead; /* the cells fill() is about to ask */
} lstar;

#define NOMEM(L) lc_fail((L)->c, LEARN_ERR_NOMEM, "out of memory")

static uint64_t hash_outs(const learn_out *o, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t k = 0; k < n; k++) {
    h ^= o[k];
    h *= 0x100000001b3ull;
    h ^= h >> 29;
  }
  return h ^ n;
}

static void clear(lstar *L) {
  for (size_t r = 0; r < L->n_rows; r++) {
    lw_free(&L->rows[r].w);
    free(L->rows[r].cells);
  }
  L->n_rows = 0;
  L->nS = 0;
  for (size_t e = 0; e < L->nE; e++)
    lw_free(&L->E[e]);
  L->nE = 0;
}

static int add_row(lstar *L, const learn_sym *w, size_t n, learn_sym last, bool with_last,
                   size_t *idx) {
  if (L->n_rows == L->cap_rows) {
    size_t cap = L->cap_rows ? 2 * L->cap_rows : 64;
    lrow *rows = realloc(L->rows, cap * sizeof *rows);
    if (!rows)
      return NOMEM(L);
    L->rows = rows;
    L->cap_rows = cap;
  }
  lrow *r = &L->rows[L->n_rows];
  memset(r, 0, sizeof *r);
  if (lw_append(&r->w, w, n) < 0 || (with_last && lw_push(&r->w, last) < 0)) {
    lw_free(&r->w);
    return NOMEM(L);
  }
  *idx = L->n_rows++;
  return 0;
}

/* add_to_S moves row |r| into S and gives it its successor rows. */
static int add_to_S(lstar *L, size_t r) {
  size_t k = L->t->n_inputs;
  if (L->nS == L->cap_S) {
    size_t cap = L->cap_S ? 2 * L->cap_S : 16;
    size_t *S = realloc(L->S, cap * sizeof *S);
    if (S)
      L->S = S;
    size_t *succ = realloc(L->succ, cap * k * sizeof *succ);
    if (succ)
      L->succ = succ;
    if (!S || !succ)
      return NOMEM(L);
    L->cap_S = cap;
  }
  size_t s = L->nS++;
  L->S[s] = r;
  for (size_t i = 0; i < k; i++) {
    size_t idx;
    /* rows may move on realloc: copy the word out first */
    lword w = {0};
    if (lw_append(&w, L->rows[r].w.s, L->rows[r].w.n) < 0)
      return NOMEM(L);
    int rc = add_row(L, w.s, w.n, (learn_sym)i, true, &idx);
    lw_free(&w);
    if (rc < 0)
      return rc;
    L->succ[s * k + i] = idx;
  }
  return 0;
}

static int add_suffix(lstar *L, const learn_sym *e, size_t n) {
  for (size_t j = 0; j < L->nE; j++)
    if (L->E[j].n == n && !memcmp(L->E[j].s, e, n * sizeof *e))
      return 0;
  if (L->nE == L->cap_E) {
    size_t cap = L->cap_E ? 2 * L->cap_E : 16;
    lword *E = realloc(L->E, cap * sizeof *E);
    if (!E)
      return NOMEM(L);
    L->E = E;
    L->cap_E = cap;
  }
  memset(&L->E[L->nE], 0, sizeof *L->E);
  if (lw_append(&L->E[L->nE], e, n) < 0)
    return NOMEM(L);
  L->nE++;
  return 1;
}

static int start(lstar *L) {
  size_t r;
  int rc;
  clear(L);
  L->gen = L->t->generation;
  if ((rc = add_row(L, NULL, 0, 0, false, &r)) < 0 || (rc = add_to_S(L, r)) < 0)
    return rc;
  for (size_t i = 0; i < L->t->n_inputs; i++) {
    learn_sym s = (learn_sym)i;
    if ((rc = add_suffix(L, &s, 1)) < 0)
      return rc;
  }
  return 0;
}

/* fill asks every missing cell, row by row. The cells' words are listed
 * first and asked a batch at a time (lc_ahead). */
static int fill(lstar *L) {
  int rc;
  la_clear(&L->ahead);
  for (size_t r = 0; r < L->n_rows && L->ahead.cap; r++)
    for (size_t j = L->rows[r].n_cells; j < L->nE; j++)
      if ((rc = la_add(L->c, &L->ahead, L->rows[r].w.s, L->rows[r].w.n, L->E[j].s,
                       L->E[j].n)) < 0)
        return rc;
  size_t asked = 0;
  for (size_t r = 0; r < L->n_rows; r++) {
    lrow *row = &L->rows[r];
    if (row->n_cells == L->nE)
      continue;
    if (row->cap_cells < L->nE) {
      uint64_t *cells = realloc(row->cells, L->cap_E * sizeof *cells);
      if (!cells)
        return NOMEM(L);
      row->cells = cells;
      row->cap_cells = L->cap_E;
    }
    for (; row->n_cells < L->nE; row->n_cells++) {
      const lword *e = &L->E[row->n_cells];
      L->q.n = 0;
      if (lw_append(&L->q, row->w.s, row->w.n) < 0 || lw_append(&L->q, e->s, e->n) < 0)
        return NOMEM(L);
      if (L->q.n > L->buf_cap) {
        learn_out *b = realloc(L->buf, 2 * L->q.n * sizeof *b);
        if (!b)
          return NOMEM(L);
        L->buf = b;
        L->buf_cap = 2 * L->q.n;
      }
      if ((rc = la_reach(L->c, &L->ahead, asked++)) < 0 ||
          (rc = lc_query(L->c, L->q.s, L->q.n, L->buf)) < 0)
        return rc;
      if (L->gen != L->t->generation)
        return 0;
      row->cells[row->n_cells] = hash_outs(L->buf + row->w.n, e->n);
    }
    row->sig = hash_outs((const learn_out *)row->cells, 0);
    for (size_t j = 0; j < row->n_cells; j++)
      row->sig = (row->sig ^ row->cells[j]) * 0x100000001b3ull + j;
  }
  return 0;
}

static bool same_row(const lrow *a, const lrow *b) {
  return a->sig == b->sig && a->n_cells == b->n_cells &&
         !memcmp(a->cells, b->cells, a->n_cells * sizeof *a->cells);
}

/* state_of: the S index whose row equals row |r|, or -1. */
static long state_of(const lstar *L, size_t r) {
  for (size_t s = 0; s < L->nS; s++)
    if (same_row(&L->rows[L->S[s]], &L->rows[r]))
      return (long)s;
  return -1;
}

/* close_table: 1 when a row moved into S, 0 when the table is closed. */
static int close_table(lstar *L) {
  size_t k = L->t->n_inputs;
  for (size_t s = 0; s < L->nS; s++)
    for (size_t i = 0; i < k; i++) {
      size_t r = L->succ[s * k + i];
      if (state_of(L, r) < 0) {
        int rc = add_to_S(L, r);
        return rc < 0 ? rc : 1;
      }
    }
  return 0;
}

static int build(lstar *L, learn_mealy *h) {
  size_t k = L->t->n_inputs;
  if (lm_alloc(h, L->nS, k) < 0)
    return NOMEM(L);
  for (size_t s = 0; s < L->nS; s++)
    for (size_t i = 0; i < k; i++) {
      const lrow *r = &L->rows[L->succ[s * k + i]];
      size_t len;
      uint32_t node = lt_walk(L->t, r->w.s, r->w.n, &len);
      h->next[s * k + i] = (uint32_t)state_of(L, L->succ[s * k + i]);
      h->out[s * k + i] = L->t->out[node];
    }
  return lm_fill_access(h) < 0 ? NOMEM(L) : 0;
}

/* good(i): does access_S(state after w[..i]) · w[i..] end with the output
 * the hypothesis gives w? */
static int good(lstar *L, const learn_mealy *h, const lword *w, size_t i, learn_out want) {
  size_t s = 0;
  for (size_t j = 0; j < i; j++)
    s = h->next[s * h->n_inputs + w->s[j]];
  const lword *acc = &L->rows[L->S[s]].w;
  L->q.n = 0;
  if (lw_append(&L->q, acc->s, acc->n) < 0 || lw_append(&L->q, w->s + i, w->n - i) < 0)
    return NOMEM(L);
  if (L->q.n > L->buf_cap) {
    learn_out *b = realloc(L->buf, 2 * L->q.n * sizeof *b);
    if (!b)
      return NOMEM(L);
    L->buf = b;
    L->buf_cap = 2 * L->q.n;
  }
  int rc = lc_query(L->c, L->q.s, L->q.n, L->buf);
  if (rc < 0)
    return rc;
  return L->buf[L->q.n - 1] == want;
}

/* rivest_schapire adds one suffix of |w| (whose last output the hypothesis
 * gets wrong) that splits some row; all suffixes if the search fails (a
 * SUL that changed its mind). */
static int rivest_schapire(lstar *L, const learn_mealy *h, const lword *w) {
  size_t m = w->n, s = 0;
  for (size_t j = 0; j + 1 < m; j++)
    s = h->next[s * h->n_inputs + w->s[j]];
  learn_out want = h->out[s * h->n_inputs + w->s[m - 1]];
  size_t lo = 0, hi = m - 1;
  int rc = m >= 2 ? good(L, h, w, hi, want) : 0;
  if (rc < 0)
    return rc;
  if (rc == 1) {
    while (hi - lo > 1) {
      size_t mid = lo + (hi - lo) / 2;
      if ((rc = good(L, h, w, mid, want)) < 0)
        return rc;
      if (rc)
        hi = mid;
      else
        lo = mid;
    }
    if ((rc = add_suffix(L, w->s + lo + 1, m - lo - 1)) != 0)
      return rc;
  }
  int added = 0;
  for (size_t j = 1; j < m; j++) {
    if ((rc = add_suffix(L, w->s + j, m - j)) < 0)
      return rc;
    added |= rc;
  }
  if (!added && L->gen == L->t->generation)
    return lc_fail(L->c, LEARN_ERR_SUL, "L*: a counterexample that splits no row");
  return 0;
}

int learn_lstar(learn_ctx *c) {
  lstar L;
  learn_mealy h;
  lword cex = {0};
  int rc;
  memset(&L, 0, sizeof L);
  memset(&h, 0, sizeof h);
  L.c = c;
  L.t = &c->tree;
  la_init(&L.ahead, c);
  rc = start(&L);
  while (rc >= 0) {
    if (L.gen != L.t->generation && (rc = start(&L)) < 0)
      break;
    if ((rc = fill(&L)) < 0)
      break;
    if (L.gen != L.t->generation)
      continue;
    if ((rc = close_table(&L)) != 0) {
      if (rc < 0)
        break;
      continue;
    }
    learn_mealy_free(&h);
    if ((rc = build(&L, &h)) < 0 || (rc = lc_keep_hypothesis(c, &h)) < 0)
      break;
    rc = lc_find_cex(c, &h, &cex);
    if (rc <= 0)
      break;
    if (L.gen != L.t->generation)
      continue;
    rc = rivest_schapire(&L, &h, &cex);
  }
  learn_mealy_free(&h);
  clear(&L);
  free(L.rows);
  free(L.S);
  free(L.succ);
  free(L.E);
  free(L.buf);
  lw_free(&L.q);
  la_free(&L.ahead);
  lw_free(&cex);
  return rc;
}
