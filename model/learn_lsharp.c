/* learn_lsharp.c - L# (Vaandrager, Garhewal, Rot, Wissmann, "A New Approach
 * for Active Automata Learning Based on Apartness", TACAS 2022).
 *
 * The observation tree is split into the basis B (nodes known pairwise
 * apart: the states found so far; a prefix-closed subtree containing the
 * root) and the frontier F (the children of basis nodes outside B). Each
 * frontier node keeps the basis nodes it is not (yet) apart from. The
 * rules, applied until none fires:
 *   promotion   a frontier node apart from every basis node joins B;
 *   extension   every basis node gets every child (one query each);
 *   separation  a frontier node with two candidates b, b' is asked the
 *               witness of b # b', so it becomes apart from one of them;
 *   equivalence when each frontier node has exactly one candidate, that
 *               is the hypothesis; a counterexample is processed by the
 *               paper's binary search (ProcCounterEx), which only adds
 *               queries until some frontier node loses its candidate.
 * Adaptive distinguishing sequences are not used: separation asks the
 * stored witness. */
#include <stdlib.h>
#include <string.h>

#include "learn_internal.h"

typedef struct fentry {
  uint32_t node;
  uint32_t *cand; /* basis indices */
  size_t n_cand;
} fentry;

typedef struct lsharp {
  learn_ctx *c;
  learn_tree *t;
  uint32_t *basis;
  size_t nb, cap_b;
  fentry *fr;
  size_t nf, cap_f;
  lword wit, q, sigma, tmp;
  unsigned gen;
  lc_ahead ahead; /* the words extend() or separate() is about to ask */
} lsharp;

#define NOMEM(L) lc_fail((L)->c, LEARN_ERR_NOMEM, "out of memory")

static int basis_index(const lsharp *L, uint32_t node) {
  for (size_t b = 0; b < L->nb; b++)
    if (L->basis[b] == node)
      return (int)b;
  return -1;
}

static int frontier_index(const lsharp *L, uint32_t node) {
  for (size_t f = 0; f < L->nf; f++)
    if (L->fr[f].node == node)
      return (int)f;
  return -1;
}

static bool stale(const lsharp *L) { return L->gen != L->t->generation; }

static void reset(lsharp *L) {
  for (size_t f = 0; f < L->nf; f++)
    free(L->fr[f].cand);
  L->nf = 0;
  L->nb = 1;
  L->basis[0] = 0;
  L->gen = L->t->generation;
}

static int add_frontier(lsharp *L, uint32_t node) {
  if (L->nf == L->cap_f) {
    size_t cap = L->cap_f ? 2 * L->cap_f : 64;
    fentry *fr = realloc(L->fr, cap * sizeof *fr);
    if (!fr)
      return NOMEM(L);
    L->fr = fr;
    L->cap_f = cap;
  }
  fentry *e = &L->fr[L->nf];
  e->node = node;
  e->n_cand = L->nb;
  e->cand = malloc(L->cap_b * sizeof *e->cand);
  if (!e->cand)
    return NOMEM(L);
  for (size_t b = 0; b < L->nb; b++)
    e->cand[b] = (uint32_t)b;
  L->nf++;
  return 0;
}

static int promote(lsharp *L, size_t f) {
  if (L->nb == L->cap_b) {
    size_t cap = 2 * L->cap_b;
    uint32_t *basis = realloc(L->basis, cap * sizeof *basis);
    if (!basis)
      return NOMEM(L);
    L->basis = basis;
    for (size_t g = 0; g < L->nf; g++) {
      uint32_t *cand = realloc(L->fr[g].cand, cap * sizeof *cand);
      if (!cand)
        return NOMEM(L);
      L->fr[g].cand = cand;
    }
    L->cap_b = cap;
  }
  L->basis[L->nb++] = L->fr[f].node;
  free(L->fr[f].cand);
  L->fr[f] = L->fr[--L->nf];
  for (size_t g = 0; g < L->nf; g++)
    L->fr[g].cand[L->fr[g].n_cand++] = (uint32_t)(L->nb - 1);
  return 0;
}

/* query_access_then asks access(node)·w1·w2. */
static int query_access_then(lsharp *L, uint32_t node, const learn_sym *w1, size_t n1,
                             const learn_sym *w2, size_t n2) {
  if (lw_access(&L->q, L->t, node) < 0 || lw_append(&L->q, w1, n1) < 0 ||
      lw_append(&L->q, w2, n2) < 0)
    return NOMEM(L);
  return lc_query(L->c, L->q.s, L->q.n, NULL);
}

static bool apart(lsharp *L, uint32_t a, uint32_t b, bool want_witness) {
  if (want_witness && lw_reserve(&L->wit, L->t->max_depth + 1) < 0)
    want_witness = false; /* callers check L->wit.n */
  size_t len = 0;
  bool r = lt_apart(L->t, a, b, want_witness ? L->wit.s : NULL, &len);
  L->wit.n = want_witness && r ? len : 0;
  return r;
}

/* extension: every basis node's children exist and sit in B or F. The
 * missing ones are listed first and asked a batch at a time (lc_ahead). */
static int extend(lsharp *L) {
  int rc;
  la_clear(&L->ahead);
  for (size_t b = 0; b < L->nb && L->ahead.cap; b++) {
    if (lw_access(&L->q, L->t, L->basis[b]) < 0)
      return NOMEM(L);
    for (size_t i = 0; i < L->t->n_inputs; i++) {
      learn_sym s = (learn_sym)i;
      if (lt_child(L->t, L->basis[b], s) == LT_NONE &&
          (rc = la_add(L->c, &L->ahead, L->q.s, L->q.n, &s, 1)) < 0)
        return rc;
    }
  }
  size_t asked = 0;
  for (size_t b = 0; b < L->nb; b++)
    for (size_t i = 0; i < L->t->n_inputs; i++) {
      uint32_t ch = lt_child(L->t, L->basis[b], (learn_sym)i);
      if (ch == LT_NONE) {
        learn_sym s = (learn_sym)i;
        if ((rc = la_reach(L->c, &L->ahead, asked++)) < 0 ||
            (rc = query_access_then(L, L->basis[b], &s, 1, NULL, 0)) < 0)
          return rc;
        if (stale(L))
          return 0;
        ch = lt_child(L->t, L->basis[b], s);
      }
      if (basis_index(L, ch) < 0 && frontier_index(L, ch) < 0 && (rc = add_frontier(L, ch)) < 0)
        return rc;
    }
  return 0;
}

static void filter_candidates(lsharp *L) {
  for (size_t f = 0; f < L->nf; f++) {
    fentry *e = &L->fr[f];
    size_t keep = 0;
    for (size_t k = 0; k < e->n_cand; k++)
      if (!apart(L, e->node, L->basis[e->cand[k]], false))
        e->cand[keep++] = e->cand[k];
    e->n_cand = keep;
  }
}

/* witness_word sets L->tmp to the stored witness of |e|'s first two
 * candidates. */
static int witness_word(lsharp *L, const fentry *e) {
  if (!apart(L, L->basis[e->cand[0]], L->basis[e->cand[1]], true) || !L->wit.n)
    return lc_fail(L->c, LEARN_ERR_NOMEM, "L#: basis nodes not apart (out of memory?)");
  if (lw_reserve(&L->tmp, L->wit.n) < 0)
    return NOMEM(L);
  memcpy(L->tmp.s, L->wit.s, L->wit.n * sizeof *L->wit.s);
  L->tmp.n = L->wit.n;
  return 0;
}

/* separate: one witness query per frontier node with several candidates.
 * The words are listed first and asked a batch at a time (lc_ahead); an
 * answer may give a later node's candidates another witness, whose word
 * is then asked as usual (the listed one stays unused). Returns 1 if any
 * query was made. */
static int separate(lsharp *L) {
  int did = 0, rc;
  la_clear(&L->ahead);
  for (size_t f = 0; f < L->nf && L->ahead.cap; f++) {
    const fentry *e = &L->fr[f];
    if (e->n_cand < 2)
      continue;
    if (witness_word(L, e) < 0)
      break; /* the loop below reports it when it gets there */
    if (lw_access(&L->q, L->t, e->node) < 0)
      return NOMEM(L);
    if ((rc = la_add(L->c, &L->ahead, L->q.s, L->q.n, L->tmp.s, L->tmp.n)) < 0)
      return rc;
  }
  size_t asked = 0;
  for (size_t f = 0; f < L->nf; f++) {
    fentry *e = &L->fr[f];
    if (e->n_cand < 2)
      continue;
    if ((rc = witness_word(L, e)) < 0 || (rc = la_reach(L->c, &L->ahead, asked++)) < 0)
      return rc;
    rc = query_access_then(L, e->node, L->tmp.s, L->tmp.n, NULL, 0);
    if (rc < 0)
      return rc;
    did = 1;
    if (stale(L))
      break;
  }
  return did;
}

/* build: the hypothesis (state k = basis node k). */
static int build(lsharp *L, learn_mealy *h) {
  size_t k = L->t->n_inputs;
  if (lm_alloc(h, L->nb, k) < 0)
    return NOMEM(L);
  for (size_t b = 0; b < L->nb; b++)
    for (size_t i = 0; i < k; i++) {
      uint32_t ch = lt_child(L->t, L->basis[b], (learn_sym)i);
      int to = basis_index(L, ch);
      if (to < 0)
        to = (int)L->fr[frontier_index(L, ch)].cand[0];
      h->next[b * k + i] = (uint32_t)to;
      h->out[b * k + i] = L->t->out[ch];
    }
  if (lm_fill_access(h) < 0)
    return NOMEM(L);
  return 0;
}

static size_t run_hyp(const learn_mealy *h, const learn_sym *w, size_t n) {
  size_t s = 0;
  for (size_t k = 0; k < n; k++)
    s = h->next[s * h->n_inputs + w[k]];
  return s;
}

/* proc_cex: the paper's ProcCounterEx, on L->sigma, a word whose tree node
 * is apart from the hypothesis state it leads to. Each step halves the
 * part of sigma beyond the frontier, until the frontier node on its path
 * is apart from its hypothesised state. */
static int proc_cex(lsharp *L, const learn_mealy *h) {
  learn_tree *t = L->t;
  for (size_t guard = 0; guard < 4096; guard++) {
    if (stale(L))
      return 0;
    size_t len;
    uint32_t r = lt_walk(t, L->sigma.s, L->sigma.n, &len);
    if (len != L->sigma.n)
      return lc_fail(L->c, LEARN_ERR_NOMEM, "L#: counterexample not in the tree");
    if (basis_index(L, r) >= 0 || frontier_index(L, r) >= 0)
      return 0;
    size_t q = run_hyp(h, L->sigma.s, L->sigma.n);
    /* rho: the prefix of sigma ending at the frontier */
    uint32_t node = 0;
    size_t rho = 0;
    while (rho < L->sigma.n && basis_index(L, node) >= 0)
      node = lt_child(t, node, L->sigma.s[rho++]);
    size_t mid = (rho + L->sigma.n) / 2;
    size_t q1 = run_hyp(h, L->sigma.s, mid);
    uint32_t r1 = lt_walk(t, L->sigma.s, mid, &len);
    if (!apart(L, r, L->basis[q], true) || !L->wit.n)
      return lc_fail(L->c, LEARN_ERR_NOMEM, "L#: counterexample not apart (out of memory?)");
    if (lw_reserve(&L->tmp, L->wit.n) < 0)
      return NOMEM(L);
    memcpy(L->tmp.s, L->wit.s, L->wit.n * sizeof *L->wit.s);
    L->tmp.n = L->wit.n;
    int rc = query_access_then(L, L->basis[q1], L->sigma.s + mid, L->sigma.n - mid, L->tmp.s,
                               L->tmp.n);
    if (rc < 0)
      return rc;
    if (stale(L))
      return 0;
    if (apart(L, r1, L->basis[q1], false)) {
      L->sigma.n = mid;
    } else {
      /* sigma := access(q1) · sigma[mid..] */
      if (lw_access(&L->tmp, t, L->basis[q1]) < 0 ||
          lw_append(&L->tmp, L->sigma.s + mid, L->sigma.n - mid) < 0)
        return NOMEM(L);
      L->sigma.n = 0;
      if (lw_append(&L->sigma, L->tmp.s, L->tmp.n) < 0)
        return NOMEM(L);
    }
  }
  return 0;
}

int learn_lsharp(learn_ctx *c) {
  lsharp L;
  learn_mealy h;
  lword cex = {0};
  int rc = 0;
  memset(&L, 0, sizeof L);
  memset(&h, 0, sizeof h);
  L.c = c;
  L.t = &c->tree;
  la_init(&L.ahead, c);
  L.cap_b = 16;
  L.basis = malloc(L.cap_b * sizeof *L.basis);
  if (!L.basis)
    return NOMEM(&L);
  reset(&L);
  for (;;) {
    if (stale(&L))
      reset(&L);
    if ((rc = extend(&L)) < 0)
      break;
    if (stale(&L))
      continue;
    filter_candidates(&L);
    size_t f = 0;
    while (f < L.nf && L.fr[f].n_cand)
      f++;
    if (f < L.nf) {
      if ((rc = promote(&L, f)) < 0)
        break;
      continue;
    }
    if ((rc = separate(&L)) < 0)
      break;
    if (rc > 0)
      continue;
    learn_mealy_free(&h);
    if ((rc = build(&L, &h)) < 0 || (rc = lc_keep_hypothesis(c, &h)) < 0)
      break;
    rc = lc_find_cex(c, &h, &cex);
    if (rc <= 0)
      break; /* 0: no counterexample, c->hyp is the result */
    if (stale(&L))
      continue;
    /* cex ends at the first wrong output: sigma is all but that input */
    L.sigma.n = 0;
    if (lw_append(&L.sigma, cex.s, cex.n - 1) < 0) {
      rc = NOMEM(&L);
      break;
    }
    if ((rc = proc_cex(&L, &h)) < 0)
      break;
  }
  learn_mealy_free(&h);
  for (size_t f = 0; f < L.nf; f++)
    free(L.fr[f].cand);
  free(L.fr);
  free(L.basis);
  lw_free(&L.wit);
  lw_free(&L.q);
  lw_free(&L.sigma);
  lw_free(&L.tmp);
  la_free(&L.ahead);
  lw_free(&cex);
  return rc;
}
