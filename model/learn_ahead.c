/* learn_ahead.c - the learning steps' own batches (see learn_internal.h,
 * lc_ahead): L#'s extension and separation and L*'s table filling list the
 * words they are about to ask, and each batch of them goes to the SUL at
 * once just before the step asks its first word. The step then asks every
 * word through lc_query as before, so it sees what it would see asking
 * one at a time; a listed word it no longer asks (its answer came with an
 * earlier one, a witness changed, the tree went stale) stays an unused
 * batch answer. */
#include <stdlib.h>
#include <string.h>

#include "learn_internal.h"

/* Most words in one batch (as the equivalence oracle's EQ_BATCH_MAX). */
#define LA_BATCH_MAX 4096

void la_init(lc_ahead *a, const learn_ctx *c) {
  memset(a, 0, sizeof *a);
  if (c->sul->query_batch && c->cfg->batch > 1)
    a->cap = c->cfg->batch < LA_BATCH_MAX ? c->cfg->batch : LA_BATCH_MAX;
}

void la_clear(lc_ahead *a) {
  a->flat.n = 0;
  a->n = a->next = 0;
}

void la_free(lc_ahead *a) {
  lw_free(&a->flat);
  free(a->start);
  free(a->len);
  free(a->ptr);
  memset(a, 0, sizeof *a);
}

int la_add(learn_ctx *c, lc_ahead *a, const learn_sym *w1, size_t n1, const learn_sym *w2,
           size_t n2) {
  if (!a->cap)
    return 0;
  if (a->n == a->n_cap) {
    size_t cap = a->n_cap ? 2 * a->n_cap : 64;
    size_t *start = realloc(a->start, cap * sizeof *start);
    if (start)
      a->start = start;
    size_t *len = realloc(a->len, cap * sizeof *len);
    if (len)
      a->len = len;
    if (!start || !len)
      return lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
    a->n_cap = cap;
  }
  a->start[a->n] = a->flat.n;
  a->len[a->n] = n1 + n2;
  if (lw_append(&a->flat, w1, n1) < 0 || lw_append(&a->flat, w2, n2) < 0)
    return lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
  a->n++;
  return 0;
}

int la_reach(learn_ctx *c, lc_ahead *a, size_t j) {
  if (!a->cap || j < a->next || j >= a->n || !a->flat.s)
    return 0;
  size_t count = a->n - j < a->cap ? a->n - j : a->cap;
  const learn_sym **ptr = realloc(a->ptr, count * sizeof *ptr);
  if (!ptr)
    return lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
  a->ptr = ptr;
  for (size_t k = 0; k < count; k++)
    ptr[k] = a->flat.s + a->start[j + k];
  a->next = j + count;
  return lc_prefetch(c, count, ptr, a->len + j);
}
