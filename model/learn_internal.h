/* learn_internal.h - shared by learn*.c only: the observation tree, the
 * query layer over it (cache file, sink knowledge, non-determinism, budget),
 * hypotheses and the equivalence oracle. Not part of the public interface. */
#ifndef LEARN_INTERNAL_H
#define LEARN_INTERNAL_H

#include <stdio.h>

#include "learn.h"

#define LT_NONE UINT32_MAX

/* The observation tree: node 0 is the root (the empty word); every other
 * node is reached from its parent by |sym| and answered |out|. A node's
 * children live in child[node * n_inputs + input]. Prefix-closed by
 * construction. |generation| grows whenever a majority vote rewrote an
 * answer, so learners holding node ids know to start over. */
typedef struct learn_tree {
  size_t n_inputs;
  size_t n_nodes, cap;
  uint32_t *parent;
  learn_sym *sym;
  learn_out *out;
  uint32_t *depth;
  uint32_t *child;
  unsigned generation;
  size_t max_depth;
} learn_tree;

int lt_init(learn_tree *t, size_t n_inputs);
void lt_free(learn_tree *t);
static inline uint32_t lt_child(const learn_tree *t, uint32_t n, learn_sym i) {
  return t->child[(size_t)n * t->n_inputs + i];
}
/* lt_add_child adds |n|·|i| answered |o| (which must be missing): the new
 * node, or LT_NONE when out of memory. */
uint32_t lt_add_child(learn_tree *t, uint32_t n, learn_sym i, learn_out o);
/* lt_walk follows |w| from the root as far as the tree goes: the last node
 * reached; *|len| = how many symbols were followed. */
uint32_t lt_walk(const learn_tree *t, const learn_sym *w, size_t n, size_t *len);
/* lt_apart: true when |a| and |b| answer some common word differently;
 * the witness goes to |w| (capacity t->max_depth) with its length. */
bool lt_apart(const learn_tree *t, uint32_t a, uint32_t b, learn_sym *w, size_t *w_len);

/* A growable word. */
typedef struct lword {
  learn_sym *s;
  size_t n, cap;
} lword;
int lw_reserve(lword *w, size_t n);
int lw_push(lword *w, learn_sym s);
int lw_append(lword *w, const learn_sym *s, size_t n);
/* lw_access sets |w| to the word reaching tree node |node|. */
int lw_access(lword *w, const learn_tree *t, uint32_t node);
void lw_free(lword *w);

/* An answer the SUL gave in a batch, kept until its word is asked. */
typedef struct lheld {
  learn_sym *w;
  learn_out *out;
  size_t n;
} lheld;

/* The learning context: everything the algorithms share. */
typedef struct learn_ctx {
  const learn_sul *sul;
  const learn_config *cfg;
  learn_stats *st;
  learn_tree tree;
  FILE *cache; /* open for appending, or NULL */
  double t0;
  uint64_t rng;
  char *err;
  size_t err_len;
  learn_out *obuf; /* SUL answers */
  learn_out *vbuf; /* votes */
  size_t obuf_cap;
  learn_mealy hyp; /* the last hypothesis (n_states 0 = none yet) */
  lheld *held;     /* batch answers not used yet (learn_query.c) */
  size_t n_held, held_cap;
} learn_ctx;

/* lc_query answers |w| (outputs to |out| unless NULL) from the tree, sink
 * knowledge or the SUL, in that order, and keeps the answer. Returns 0 or
 * LEARN_ERR_*. */
int lc_query(learn_ctx *c, const learn_sym *w, size_t n, learn_out *out);
/* lc_prefetch sends, in one sul->query_batch, those of words[0..count)
 * that lc_query would send to the SUL now (not in the tree, no sink on the
 * way, not sent before), cut to the query budget left, and keeps their
 * answers for lc_query. Without query_batch it does nothing. Returns 0 or
 * LEARN_ERR_*. */
int lc_prefetch(learn_ctx *c, size_t count, const learn_sym *const *words, const size_t *lens);
void lc_held_free(learn_ctx *c);

/* lc_ahead (learn_ahead.c): the words a learning step is about to ask, in
 * the order it will ask them, prefetched a batch (cfg->batch) at a time
 * just before the first of them is asked, so a step that stops early (a
 * stale tree, a budget) leaves at most one batch unused. Empty and free
 * when the SUL has no query_batch or cfg->batch < 2. */
typedef struct lc_ahead {
  size_t cap;      /* words per batch; 0: no prefetching */
  lword flat;      /* the words, one after another */
  size_t *start, *len;
  const learn_sym **ptr;
  size_t n, n_cap; /* words listed */
  size_t next;     /* first word not prefetched yet */
} lc_ahead;
void la_init(lc_ahead *a, const learn_ctx *c);
void la_clear(lc_ahead *a);
void la_free(lc_ahead *a);
/* la_add lists the word |w1|·|w2|. Returns 0 or LEARN_ERR_NOMEM. */
int la_add(learn_ctx *c, lc_ahead *a, const learn_sym *w1, size_t n1, const learn_sym *w2,
           size_t n2);
/* la_reach: the step is about to ask its |j|th listed word; when that one
 * was not prefetched yet, words [j, j + cap) are (lc_prefetch). Returns 0
 * or LEARN_ERR_*. */
int la_reach(learn_ctx *c, lc_ahead *a, size_t j);
/* lt_set_path makes the tree answer |w| with |out|; where it answered
 * otherwise, that answer and all observed after it are dropped and the
 * tree's generation grows. */
int lt_set_path(learn_ctx *c, const learn_sym *w, size_t n, const learn_out *out);
/* lc_query_node: lc_query, then the tree node the word reaches. */
int lc_query_node(learn_ctx *c, const learn_sym *w, size_t n, uint32_t *node);
int lc_fail(learn_ctx *c, int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
double lc_now(void);
uint64_t lc_rand(learn_ctx *c);
/* lc_word_text writes "a b c" (input names) to |buf|. */
void lc_word_text(const learn_ctx *c, const learn_sym *w, size_t n, char *buf, size_t len);

/* The cache file (learn_cache.c). */
int lcache_open(learn_ctx *c, const char *path);
int lcache_append(learn_ctx *c, const learn_sym *w, size_t n, const learn_out *out);
void lcache_close(learn_ctx *c);

/* Hypotheses (learn.c): a learn_mealy with shortest access words. */
int lm_alloc(learn_mealy *m, size_t n_states, size_t n_inputs);
int lm_fill_access(learn_mealy *m);
int lm_copy(learn_mealy *dst, const learn_mealy *src);
/* lm_canonical: |src| renumbered breadth-first, with access words. */
int lm_canonical(learn_mealy *dst, const learn_mealy *src);
/* lc_keep_hypothesis stores |h| as the last hypothesis and counts a round. */
int lc_keep_hypothesis(learn_ctx *c, const learn_mealy *h);

/* lc_find_cex (learn_eq.c) looks for a word where the SUL and |h| differ:
 * first in the tree, then the candidates, the Wp-method and random Wp
 * words. Returns 1 with the word in |cex| (trimmed to end at the first
 * differing output), 0 when none is found, or LEARN_ERR_*. */
int lc_find_cex(learn_ctx *c, const learn_mealy *h, lword *cex);

int learn_lsharp(learn_ctx *c);
int learn_lstar(learn_ctx *c);

#endif
