/* learn.c - learn_run: the context, the chosen algorithm, the result; and
 * the Mealy machine helpers both algorithms share. */
#include <stdlib.h>
#include <string.h>

#include "learn_internal.h"

learn_config learn_config_default(void) {
  learn_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.algorithm = LEARN_LSHARP;
  cfg.extra_states = 1;
  cfg.random_tests = 1000;
  cfg.seed = 1;
  cfg.repeats = 3;
  cfg.use_sink = true;
  cfg.batch = 64;
  return cfg;
}

void learn_mealy_free(learn_mealy *m) {
  if (!m)
    return;
  if (m->access)
    for (size_t s = 0; s < m->n_states; s++)
      free(m->access[s]);
  free(m->access);
  free(m->access_len);
  free(m->next);
  free(m->out);
  memset(m, 0, sizeof *m);
}

int lm_alloc(learn_mealy *m, size_t n_states, size_t n_inputs) {
  memset(m, 0, sizeof *m);
  if (n_states && n_inputs > SIZE_MAX / sizeof(uint32_t) / n_states)
    return LEARN_ERR_NOMEM;
  m->n_states = n_states;
  m->n_inputs = n_inputs;
  m->next = calloc(n_states * n_inputs + 1, sizeof *m->next);
  m->out = calloc(n_states * n_inputs + 1, sizeof *m->out);
  m->access = calloc(n_states + 1, sizeof *m->access);
  m->access_len = calloc(n_states + 1, sizeof *m->access_len);
  if (!m->next || !m->out || !m->access || !m->access_len) {
    learn_mealy_free(m);
    return LEARN_ERR_NOMEM;
  }
  return 0;
}

/* lm_fill_access gives every state its shortest access word (breadth
 * first, inputs in alphabet order, so the words are also the least). */
int lm_fill_access(learn_mealy *m) {
  size_t n = m->n_states, k = m->n_inputs;
  uint32_t *queue = malloc((n + 1) * sizeof *queue);
  uint32_t *from = malloc((n + 1) * sizeof *from);
  learn_sym *via = malloc((n + 1) * sizeof *via);
  int rc = 0;
  if (!queue || !from || !via) {
    rc = LEARN_ERR_NOMEM;
    goto out;
  }
  for (size_t s = 0; s < n; s++) {
    free(m->access[s]);
    m->access[s] = NULL;
    m->access_len[s] = 0;
    from[s] = LT_NONE;
  }
  if (!n)
    goto out;
  size_t head = 0, tail = 0;
  queue[tail++] = 0;
  from[0] = 0;
  while (head < tail) {
    uint32_t s = queue[head++];
    size_t len = s ? m->access_len[from[s]] + 1 : 0;
    m->access[s] = malloc((len ? len : 1) * sizeof **m->access);
    if (!m->access[s]) {
      rc = LEARN_ERR_NOMEM;
      goto out;
    }
    if (s) {
      memcpy(m->access[s], m->access[from[s]], (len - 1) * sizeof **m->access);
      m->access[s][len - 1] = via[s];
    }
    m->access_len[s] = len;
    for (size_t i = 0; i < k; i++) {
      uint32_t t = m->next[s * k + i];
      if (from[t] == LT_NONE) {
        from[t] = s;
        via[t] = (learn_sym)i;
        queue[tail++] = t;
      }
    }
  }
out:
  free(queue);
  free(from);
  free(via);
  return rc;
}

int lm_copy(learn_mealy *dst, const learn_mealy *src) {
  int rc = lm_alloc(dst, src->n_states, src->n_inputs);
  if (rc < 0)
    return rc;
  size_t cells = src->n_states * src->n_inputs;
  memcpy(dst->next, src->next, cells * sizeof *dst->next);
  memcpy(dst->out, src->out, cells * sizeof *dst->out);
  for (size_t s = 0; s < src->n_states; s++) {
    size_t len = src->access_len[s];
    dst->access[s] = malloc((len ? len : 1) * sizeof **dst->access);
    if (!dst->access[s]) {
      learn_mealy_free(dst);
      return LEARN_ERR_NOMEM;
    }
    if (len)
      memcpy(dst->access[s], src->access[s], len * sizeof **dst->access);
    dst->access_len[s] = len;
  }
  return 0;
}

/* lm_canonical: |src| renumbered breadth-first (inputs in alphabet order):
 * the same machine always comes out the same, whichever algorithm found
 * it and in whatever order. */
int lm_canonical(learn_mealy *dst, const learn_mealy *src) {
  size_t n = src->n_states, k = src->n_inputs;
  uint32_t *order = malloc((n + 1) * sizeof *order), *pos = malloc((n + 1) * sizeof *pos);
  int rc = LEARN_ERR_NOMEM;
  memset(dst, 0, sizeof *dst);
  if (!order || !pos || lm_alloc(dst, n, k) < 0)
    goto out;
  for (size_t s = 0; s < n; s++)
    pos[s] = LT_NONE;
  size_t tail = 0;
  order[tail++] = 0;
  pos[0] = 0;
  for (size_t head = 0; head < tail; head++)
    for (size_t i = 0; i < k; i++) {
      uint32_t t = src->next[order[head] * k + i];
      if (pos[t] == LT_NONE) {
        pos[t] = (uint32_t)tail;
        order[tail++] = t;
      }
    }
  dst->n_states = tail; /* every state of a hypothesis is reachable */
  for (size_t s = 0; s < tail; s++)
    for (size_t i = 0; i < k; i++) {
      dst->next[s * k + i] = pos[src->next[order[s] * k + i]];
      dst->out[s * k + i] = src->out[order[s] * k + i];
    }
  rc = lm_fill_access(dst);
out:
  free(order);
  free(pos);
  return rc;
}

int lc_keep_hypothesis(learn_ctx *c, const learn_mealy *h) {
  learn_mealy copy;
  if (lm_copy(&copy, h) < 0)
    return lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
  learn_mealy_free(&c->hyp);
  c->hyp = copy;
  c->st->rounds++;
  return 0;
}

static int check_sul(const learn_sul *sul, char *err, size_t err_len) {
  const char *why = NULL;
  if (!sul || !sul->query || !sul->input_name || !sul->output_name)
    why = "the SUL lacks query, input_name or output_name";
  else if (sul->n_inputs == 0 || sul->n_inputs > (size_t)UINT16_MAX + 1)
    why = "the SUL's alphabet must have 1 to 65536 inputs";
  if (why && err && err_len)
    snprintf(err, err_len, "%s", why);
  return why ? LEARN_ERR_INVAL : 0;
}

int learn_run(const learn_sul *sul, const learn_config *cfg, learn_mealy *m, learn_stats *st,
              char *err, size_t err_len) {
  learn_config dflt = learn_config_default();
  learn_stats dummy;
  learn_ctx c;
  int rc;
  memset(m, 0, sizeof *m);
  if (!st)
    st = &dummy;
  memset(st, 0, sizeof *st);
  if (err && err_len)
    err[0] = '\0';
  if ((rc = check_sul(sul, err, err_len)) < 0)
    return rc;
  if (!cfg)
    cfg = &dflt;
  memset(&c, 0, sizeof c);
  c.sul = sul;
  c.cfg = cfg;
  c.st = st;
  c.err = err;
  c.err_len = err_len;
  c.rng = cfg->seed;
  c.t0 = lc_now();
  if (lt_init(&c.tree, sul->n_inputs) < 0)
    return lc_fail(&c, LEARN_ERR_NOMEM, "out of memory");
  if (cfg->algorithm != LEARN_LSHARP && cfg->algorithm != LEARN_LSTAR)
    rc = lc_fail(&c, LEARN_ERR_INVAL, "unknown algorithm %d", (int)cfg->algorithm);
  else if (cfg->cache_path)
    rc = lcache_open(&c, cfg->cache_path);
  if (rc == 0)
    rc = cfg->algorithm == LEARN_LSTAR ? learn_lstar(&c) : learn_lsharp(&c);
  if ((rc == LEARN_OK || rc == LEARN_ERR_BUDGET || rc == LEARN_ERR_NONDET) && c.hyp.n_states) {
    /* the final (or, on budget or non-determinism, the last) hypothesis */
    int crc = lm_canonical(m, &c.hyp);
    if (crc < 0) {
      learn_mealy_free(m);
      rc = lc_fail(&c, crc, "out of memory");
    }
  }
  st->seconds = lc_now() - c.t0;
  for (size_t k = 0; k < c.n_held; k++) {
    st->unused_queries++;
    st->unused_symbols += c.held[k].n;
  }
  lc_held_free(&c);
  learn_mealy_free(&c.hyp);
  lcache_close(&c);
  lt_free(&c.tree);
  free(c.obuf);
  free(c.vbuf);
  return rc;
}
