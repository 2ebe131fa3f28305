/* learn_query.c - every output query goes through here: answered from the
 * observation tree, else from sink knowledge, else from the SUL, whose
 * answer is checked against the tree (a disagreement is settled by a
 * majority of repeated queries), kept in the tree and appended to the cache
 * file. Nothing is ever sent to the SUL twice except those repeats.
 * lc_prefetch sends words ahead in one batch; their answers wait aside
 * until lc_query gets to them, so the learner sees what it would see
 * asking one at a time. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "learn_internal.h"

int lc_fail(learn_ctx *c, int rc, const char *fmt, ...) {
  if (c->err && c->err_len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->err_len, fmt, ap);
    va_end(ap);
  }
  return rc;
}

double lc_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* splitmix64 (Steele, Lea, Flood 2014), seeded from cfg->seed. */
uint64_t lc_rand(learn_ctx *c) {
  uint64_t z = (c->rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void lc_word_text(const learn_ctx *c, const learn_sym *w, size_t n, char *buf, size_t len) {
  size_t used = 0;
  if (!len)
    return;
  buf[0] = '\0';
  for (size_t k = 0; k < n && used + 1 < len; k++) {
    const char *name = c->sul->input_name(c->sul->ctx, w[k]);
    int r = snprintf(buf + used, len - used, "%s%s", k ? " " : "", name ? name : "?");
    if (r < 0)
      break;
    used += (size_t)r;
  }
  if (used >= len && len > 4)
    memcpy(buf + len - 4, "...", 4);
  if (!n)
    snprintf(buf, len, "(empty word)");
}

static int ensure_bufs(learn_ctx *c, size_t n) {
  if (n <= c->obuf_cap)
    return 0;
  size_t cap = c->obuf_cap ? c->obuf_cap : 64;
  while (cap < n)
    cap *= 2;
  learn_out *o = realloc(c->obuf, cap * sizeof *o);
  if (o)
    c->obuf = o;
  learn_out *v = realloc(c->vbuf, cap * sizeof *v);
  if (v)
    c->vbuf = v;
  if (!o || !v)
    return lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
  c->obuf_cap = cap;
  return 0;
}

/* held_find: the index of |w|'s kept batch answer, or c->n_held. */
static size_t held_find(const learn_ctx *c, const learn_sym *w, size_t n) {
  for (size_t k = 0; k < c->n_held; k++)
    if (c->held[k].n == n && !memcmp(c->held[k].w, w, n * sizeof *w))
      return k;
  return c->n_held;
}

void lc_held_free(learn_ctx *c) {
  for (size_t k = 0; k < c->n_held; k++) {
    free(c->held[k].w);
    free(c->held[k].out);
  }
  free(c->held);
  c->held = NULL;
  c->n_held = c->held_cap = 0;
}

/* budget_left: how many more queries may be sent (SIZE_MAX = unbounded);
 * answers kept aside were sent, so they count. */
static size_t budget_left(const learn_ctx *c) {
  size_t max = c->cfg->max_queries, sent = c->st->queries + c->n_held;
  if (!max)
    return SIZE_MAX;
  return sent >= max ? 0 : max - sent;
}

/* sul_ask sends one query, within the budget; |may_use_held|: a kept batch
 * answer to the same word is taken instead (counted as sent now, as a run
 * without batching would have sent it here). Repeats must be fresh. */
static int sul_ask(learn_ctx *c, const learn_sym *w, size_t n, learn_out *out,
                   bool may_use_held) {
  const learn_config *cfg = c->cfg;
  size_t h = may_use_held ? held_find(c, w, n) : c->n_held;
  if (h < c->n_held) {
    memcpy(out, c->held[h].out, n * sizeof *out);
    free(c->held[h].w);
    free(c->held[h].out);
    c->held[h] = c->held[--c->n_held];
    c->st->queries++;
    c->st->symbols += n;
    return 0;
  }
  if (budget_left(c) == 0)
    return lc_fail(c, LEARN_ERR_BUDGET, "query budget (%zu) used up", cfg->max_queries);
  if (cfg->max_seconds > 0 && lc_now() - c->t0 >= cfg->max_seconds)
    return lc_fail(c, LEARN_ERR_BUDGET, "time budget (%.1f s) used up", cfg->max_seconds);
  c->st->queries++;
  c->st->symbols += n;
  if (c->err && c->err_len)
    c->err[0] = '\0';
  int rc = c->sul->query(c->sul->ctx, w, n, out, c->err, c->err_len);
  if (rc < 0) {
    if (c->err && c->err_len && !c->err[0])
      snprintf(c->err, c->err_len, "the SUL failed (%d)", rc);
    return LEARN_ERR_SUL;
  }
  return 0;
}

static void path_outputs(const learn_tree *t, const learn_sym *w, size_t n, learn_out *out) {
  uint32_t node = 0;
  for (size_t k = 0; k < n; k++) {
    node = lt_child(t, node, w[k]);
    out[k] = t->out[node];
  }
}

/* store_rest adds w[from..n) below |node| with answers out[from..n). */
static int store_rest(learn_ctx *c, uint32_t node, const learn_sym *w, size_t from, size_t n,
                      const learn_out *out) {
  for (size_t k = from; k < n; k++) {
    node = lt_add_child(&c->tree, node, w[k], out[k]);
    if (node == LT_NONE)
      return lc_fail(c, LEARN_ERR_NOMEM, "out of memory (observation tree)");
  }
  return 0;
}

/* Where the tree answered otherwise, what was observed after that answer
 * came from a SUL in a state it was not believed to be in: dropped. The
 * cache file loader uses this too, so a later line overrides an earlier. */
int lt_set_path(learn_ctx *c, const learn_sym *w, size_t n, const learn_out *out) {
  learn_tree *t = &c->tree;
  uint32_t node = 0;
  for (size_t k = 0; k < n; k++) {
    uint32_t ch = lt_child(t, node, w[k]);
    if (ch == LT_NONE)
      return store_rest(c, node, w, k, n, out);
    if (t->out[ch] != out[k]) {
      t->out[ch] = out[k];
      for (size_t i = 0; i < t->n_inputs; i++)
        t->child[(size_t)ch * t->n_inputs + i] = LT_NONE;
      t->generation++;
    }
    node = ch;
  }
  return 0;
}

/* vote asks p[0..n) cfg->repeats more times; the cached answer (from the
 * tree) and the new one (|fresh|) vote too. The strict majority goes to
 * c->vbuf, or LEARN_ERR_SUL when there is none. */
static int vote(learn_ctx *c, const learn_sym *p, size_t n, const learn_out *fresh) {
  size_t voters = 2 + (size_t)c->cfg->repeats;
  learn_out *rows = malloc(voters * (n ? n : 1) * sizeof *rows);
  size_t *count = calloc(voters, sizeof *count);
  int rc = 0;
  if (!rows || !count) {
    rc = lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
    goto out;
  }
  path_outputs(&c->tree, p, n, rows);
  memcpy(rows + n, fresh, n * sizeof *rows);
  for (size_t r = 2; r < voters; r++)
    if ((rc = sul_ask(c, p, n, rows + r * n, false)) < 0)
      goto out;
  size_t best = 0;
  for (size_t r = 0; r < voters; r++)
    for (size_t s = 0; s < voters; s++)
      if (!memcmp(rows + r * n, rows + s * n, n * sizeof *rows))
        count[r]++;
  for (size_t r = 1; r < voters; r++)
    if (count[r] > count[best])
      best = r;
  if (count[best] * 2 <= voters) {
    char word[256];
    lc_word_text(c, p, n, word, sizeof word);
    rc = lc_fail(c, LEARN_ERR_NONDET,
                 "non-deterministic SUL: '%s' answered differently in %zu askings, no majority",
                 word, voters);
    goto out;
  }
  memcpy(c->vbuf, rows + best * n, n * sizeof *rows);
out:
  free(rows);
  free(count);
  return rc;
}

/* note_first_nondet keeps the first disagreement for the report: the word
 * up to the input answered two ways, and both outputs. */
static void note_first_nondet(learn_ctx *c, const learn_sym *w, size_t n, const learn_out *was,
                              const learn_out *now) {
  char word[200];
  lc_word_text(c, w, n, word, sizeof word);
  const char *a = c->sul->output_name(c->sul->ctx, *was);
  const char *b = c->sul->output_name(c->sul->ctx, *now);
  snprintf(c->st->nondet_first, sizeof c->st->nondet_first, "%s: %s | %s", word, a ? a : "?",
           b ? b : "?");
}

/* ask_and_store: the word is not in the tree and no sink answers it. */
static int ask_and_store(learn_ctx *c, const learn_sym *w, size_t n) {
  learn_tree *t = &c->tree;
  int rc;
  for (unsigned attempt = 0; attempt <= c->cfg->repeats; attempt++) {
    if ((rc = sul_ask(c, w, n, c->obuf, attempt == 0)) < 0)
      return rc;
    for (;;) {
      uint32_t node = 0;
      size_t k = 0, conflict = n;
      for (; k < n; k++) {
        uint32_t ch = lt_child(t, node, w[k]);
        if (ch == LT_NONE)
          break;
        if (t->out[ch] != c->obuf[k]) {
          conflict = k;
          break;
        }
        node = ch;
      }
      if (conflict == n) {
        if ((rc = store_rest(c, node, w, k, n, c->obuf)) < 0)
          return rc;
        return lcache_append(c, w, n, c->obuf);
      }
      if (c->st->nondet++ == 0)
        note_first_nondet(c, w, conflict + 1, &t->out[lt_child(t, node, w[conflict])],
                          &c->obuf[conflict]);
      if ((rc = vote(c, w, conflict + 1, c->obuf)) < 0)
        return rc;
      if ((rc = lt_set_path(c, w, conflict + 1, c->vbuf)) < 0 ||
          (rc = lcache_append(c, w, conflict + 1, c->vbuf)) < 0)
        return rc;
      if (memcmp(c->vbuf, c->obuf, (conflict + 1) * sizeof *c->obuf))
        break; /* this answer lost the vote: ask the word again */
    }
  }
  char word[256];
  lc_word_text(c, w, n, word, sizeof word);
  return lc_fail(c, LEARN_ERR_NONDET,
                 "non-deterministic SUL: '%s' never answered like the majority", word);
}

/* tree_part walks |w| through the tree: the last node reached, *|k| symbols
 * followed, and the first sink output met on the way (*|have_sink|). */
static uint32_t tree_part(const learn_ctx *c, const learn_sym *w, size_t n, size_t *k,
                          bool *have_sink, learn_out *sink) {
  const learn_tree *t = &c->tree;
  const learn_sul *sul = c->sul;
  bool sinks = c->cfg->use_sink && sul->is_sink_output;
  uint32_t node = 0;
  *have_sink = false;
  for (*k = 0; *k < n; ++*k) {
    uint32_t ch = lt_child(t, node, w[*k]);
    if (ch == LT_NONE)
      break;
    node = ch;
    if (sinks && !*have_sink && sul->is_sink_output(sul->ctx, t->out[ch])) {
      *have_sink = true;
      *sink = t->out[ch];
    }
  }
  return node;
}

int lc_query(learn_ctx *c, const learn_sym *w, size_t n, learn_out *out) {
  size_t k;
  bool have_sink;
  learn_out sink = 0;
  int rc;
  if ((rc = ensure_bufs(c, n)) < 0)
    return rc;
  uint32_t node = tree_part(c, w, n, &k, &have_sink, &sink);
  if (k == n) {
    c->st->cache_hits++;
  } else if (have_sink) {
    for (size_t j = k; j < n; j++)
      c->obuf[j] = sink;
    if ((rc = store_rest(c, node, w, k, n, c->obuf)) < 0)
      return rc;
    c->st->sink_saved_queries++;
    c->st->sink_saved_symbols += n;
  } else if ((rc = ask_and_store(c, w, n)) < 0) {
    return rc;
  }
  if (out)
    path_outputs(&c->tree, w, n, out);
  return 0;
}

/* held_add keeps a copy of |w|'s batch answer. */
static int held_add(learn_ctx *c, const learn_sym *w, size_t n, const learn_out *out) {
  if (c->n_held == c->held_cap) {
    size_t cap = c->held_cap ? c->held_cap * 2 : 64;
    lheld *h = realloc(c->held, cap * sizeof *h);
    if (!h)
      return lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
    c->held = h;
    c->held_cap = cap;
  }
  lheld *h = &c->held[c->n_held];
  h->w = malloc((n ? n : 1) * sizeof *h->w);
  h->out = malloc((n ? n : 1) * sizeof *h->out);
  if (!h->w || !h->out) {
    free(h->w);
    free(h->out);
    return lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
  }
  memcpy(h->w, w, n * sizeof *w);
  memcpy(h->out, out, n * sizeof *out);
  h->n = n;
  c->n_held++;
  return 0;
}

int lc_prefetch(learn_ctx *c, size_t count, const learn_sym *const *words, const size_t *lens) {
  const learn_sul *sul = c->sul;
  if (!sul->query_batch || count < 2)
    return 0;
  if (c->cfg->max_seconds > 0 && lc_now() - c->t0 >= c->cfg->max_seconds)
    return 0; /* lc_query reports the budget */
  size_t left = budget_left(c), n_send = 0, total = 0;
  const learn_sym **send = malloc(count * sizeof *send);
  size_t *send_len = malloc(count * sizeof *send_len);
  learn_out **outs = calloc(count, sizeof *outs);
  learn_out *flat = NULL;
  int rc = 0;
  if (!send || !send_len || !outs) {
    rc = lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
    goto out;
  }
  for (size_t j = 0; j < count && n_send < left; j++) {
    size_t k, n = lens[j];
    bool have_sink;
    learn_out sink;
    tree_part(c, words[j], n, &k, &have_sink, &sink);
    if (k == n || have_sink || held_find(c, words[j], n) < c->n_held)
      continue;
    size_t d = 0;
    while (d < n_send && (send_len[d] != n || memcmp(send[d], words[j], n * sizeof **words)))
      d++;
    if (d < n_send)
      continue; /* the same word earlier in the batch */
    send[n_send] = words[j];
    send_len[n_send++] = n;
    total += n;
  }
  if (n_send < 2)
    goto out; /* one word: lc_query sends it as usual */
  if (!(flat = malloc(total * sizeof *flat))) {
    rc = lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
    goto out;
  }
  for (size_t j = 0, at = 0; j < n_send; at += send_len[j++])
    outs[j] = flat + at;
  if (c->err && c->err_len)
    c->err[0] = '\0';
  rc = sul->query_batch(sul->ctx, n_send, send, send_len, outs, c->err, c->err_len);
  if (rc < 0) {
    if (c->err && c->err_len && !c->err[0])
      snprintf(c->err, c->err_len, "the SUL failed (%d)", rc);
    rc = LEARN_ERR_SUL;
    goto out;
  }
  for (size_t j = 0; j < n_send && rc == 0; j++)
    rc = held_add(c, send[j], send_len[j], outs[j]);
out:
  free(send);
  free(send_len);
  free(outs);
  free(flat);
  return rc;
}

int lc_query_node(learn_ctx *c, const learn_sym *w, size_t n, uint32_t *node) {
  int rc = lc_query(c, w, n, NULL);
  if (rc < 0)
    return rc;
  size_t k;
  *node = lt_walk(&c->tree, w, n, &k);
  return 0;
}
