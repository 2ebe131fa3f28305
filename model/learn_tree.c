/* learn_tree.c - the observation tree (a trie over input words holding the
 * SUL's outputs), apartness over it, and growable words. */
#include <stdlib.h>
#include <string.h>

#include "learn_internal.h"

static int lt_grow(learn_tree *t, size_t need) {
  if (need <= t->cap)
    return 0;
  size_t cap = t->cap ? t->cap : 64;
  while (cap < need)
    cap *= 2;
  if (cap > UINT32_MAX - 1 || cap > SIZE_MAX / (t->n_inputs * sizeof(uint32_t)))
    return LEARN_ERR_NOMEM;
  uint32_t *parent = realloc(t->parent, cap * sizeof *parent);
  if (parent)
    t->parent = parent;
  learn_sym *sym = realloc(t->sym, cap * sizeof *sym);
  if (sym)
    t->sym = sym;
  learn_out *out = realloc(t->out, cap * sizeof *out);
  if (out)
    t->out = out;
  uint32_t *depth = realloc(t->depth, cap * sizeof *depth);
  if (depth)
    t->depth = depth;
  uint32_t *child = realloc(t->child, cap * t->n_inputs * sizeof *child);
  if (child)
    t->child = child;
  if (!parent || !sym || !out || !depth || !child)
    return LEARN_ERR_NOMEM;
  t->cap = cap;
  return 0;
}

int lt_init(learn_tree *t, size_t n_inputs) {
  memset(t, 0, sizeof *t);
  t->n_inputs = n_inputs;
  if (lt_grow(t, 64) < 0) {
    lt_free(t);
    return LEARN_ERR_NOMEM;
  }
  t->n_nodes = 1;
  t->parent[0] = LT_NONE;
  t->sym[0] = 0;
  t->out[0] = 0;
  t->depth[0] = 0;
  for (size_t i = 0; i < n_inputs; i++)
    t->child[i] = LT_NONE;
  return 0;
}

void lt_free(learn_tree *t) {
  free(t->parent);
  free(t->sym);
  free(t->out);
  free(t->depth);
  free(t->child);
  memset(t, 0, sizeof *t);
}

uint32_t lt_add_child(learn_tree *t, uint32_t n, learn_sym i, learn_out o) {
  if (lt_grow(t, t->n_nodes + 1) < 0)
    return LT_NONE;
  uint32_t c = (uint32_t)t->n_nodes++;
  t->parent[c] = n;
  t->sym[c] = i;
  t->out[c] = o;
  t->depth[c] = t->depth[n] + 1;
  if (t->depth[c] > t->max_depth)
    t->max_depth = t->depth[c];
  for (size_t k = 0; k < t->n_inputs; k++)
    t->child[(size_t)c * t->n_inputs + k] = LT_NONE;
  t->child[(size_t)n * t->n_inputs + i] = c;
  return c;
}

uint32_t lt_walk(const learn_tree *t, const learn_sym *w, size_t n, size_t *len) {
  uint32_t node = 0;
  size_t k = 0;
  for (; k < n; k++) {
    uint32_t c = lt_child(t, node, w[k]);
    if (c == LT_NONE)
      break;
    node = c;
  }
  *len = k;
  return node;
}

/* Depth-first over the common subtree; at each pair the one-symbol
 * differences are tried before going deeper, so witnesses stay short. */
static bool apart_rec(const learn_tree *t, uint32_t a, uint32_t b, learn_sym *w, size_t d,
                      size_t *w_len) {
  for (size_t i = 0; i < t->n_inputs; i++) {
    uint32_t ca = lt_child(t, a, (learn_sym)i), cb = lt_child(t, b, (learn_sym)i);
    if (ca != LT_NONE && cb != LT_NONE && t->out[ca] != t->out[cb]) {
      if (w)
        w[d] = (learn_sym)i;
      *w_len = d + 1;
      return true;
    }
  }
  for (size_t i = 0; i < t->n_inputs; i++) {
    uint32_t ca = lt_child(t, a, (learn_sym)i), cb = lt_child(t, b, (learn_sym)i);
    if (ca != LT_NONE && cb != LT_NONE && apart_rec(t, ca, cb, w, d + 1, w_len)) {
      if (w)
        w[d] = (learn_sym)i;
      return true;
    }
  }
  return false;
}

bool lt_apart(const learn_tree *t, uint32_t a, uint32_t b, learn_sym *w, size_t *w_len) {
  size_t len = 0;
  if (a == b)
    return false;
  bool r = apart_rec(t, a, b, w, 0, &len);
  if (w_len)
    *w_len = len;
  return r;
}

/* --- words --- */

int lw_reserve(lword *w, size_t n) {
  if (n <= w->cap)
    return 0;
  size_t cap = w->cap ? w->cap : 16;
  while (cap < n)
    cap *= 2;
  learn_sym *s = realloc(w->s, cap * sizeof *s);
  if (!s)
    return LEARN_ERR_NOMEM;
  w->s = s;
  w->cap = cap;
  return 0;
}

int lw_push(lword *w, learn_sym s) {
  if (lw_reserve(w, w->n + 1) < 0)
    return LEARN_ERR_NOMEM;
  w->s[w->n++] = s;
  return 0;
}

int lw_append(lword *w, const learn_sym *s, size_t n) {
  if (lw_reserve(w, w->n + n) < 0)
    return LEARN_ERR_NOMEM;
  if (n)
    memmove(w->s + w->n, s, n * sizeof *s);
  w->n += n;
  return 0;
}

int lw_access(lword *w, const learn_tree *t, uint32_t node) {
  size_t d = t->depth[node];
  if (lw_reserve(w, d) < 0)
    return LEARN_ERR_NOMEM;
  w->n = d;
  for (uint32_t n = node; n != 0; n = t->parent[n])
    w->s[--d] = t->sym[n];
  return 0;
}

void lw_free(lword *w) {
  free(w->s);
  memset(w, 0, sizeof *w);
}
