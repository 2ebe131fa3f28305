/* learn_cache.c - the resumable query cache file.
 *
 *   ftpsfuzz-learn-cache 1
 *   inputs NAME NAME ...
 *   NAME NAME ...<TAB>OUTPUT OUTPUT ...     one answered query a line
 *
 * Names are percent-escaped (bytes <= 0x20, >= 0x7f and '%'), so a line
 * splits on spaces and the tab. Lines name their inputs and outputs, so a
 * cache is read by name, never by position: an alphabet in another order
 * reads right, another alphabet is refused. A later line overrides an
 * earlier one (a majority vote appends its verdict). Every line is written
 * with one flush, and an unterminated last line (a crash mid-write) is
 * dropped on load: a crash loses at most that line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "learn_internal.h"

/* 2: data-connection events follow the replies in output names
 * (learn_ftps.h); a version-1 cache's names would not match new answers. */
#define CACHE_MAGIC "ftpsfuzz-learn-cache 2"

typedef struct sbuf {
  char *s;
  size_t n, cap;
} sbuf;

static int sb_put(sbuf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n + 1)
      cap *= 2;
    char *p = realloc(b->s, cap);
    if (!p)
      return LEARN_ERR_NOMEM;
    b->s = p;
    b->cap = cap;
  }
  memcpy(b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = '\0';
  return 0;
}

static int sb_escaped(sbuf *b, const char *name) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    if (*p <= 0x20 || *p >= 0x7f || *p == '%') {
      char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
      if (sb_put(b, e, 3) < 0)
        return LEARN_ERR_NOMEM;
    } else if (sb_put(b, (const char *)p, 1) < 0) {
      return LEARN_ERR_NOMEM;
    }
  }
  return 0;
}

/* unescape in place; false on a malformed escape. */
static bool unescape(char *s) {
  char *o = s;
  for (char *p = s; *p; p++) {
    if (*p != '%') {
      *o++ = *p;
      continue;
    }
    unsigned v = 0;
    for (int k = 1; k <= 2; k++) {
      char h = p[k];
      v <<= 4;
      if (h >= '0' && h <= '9')
        v |= (unsigned)(h - '0');
      else if (h >= 'A' && h <= 'F')
        v |= (unsigned)(h - 'A' + 10);
      else
        return false;
    }
    *o++ = (char)v;
    p += 2;
  }
  *o = '\0';
  return true;
}

static int input_by_name(const learn_sul *sul, const char *name) {
  for (size_t i = 0; i < sul->n_inputs; i++) {
    const char *n = sul->input_name(sul->ctx, (learn_sym)i);
    if (n && !strcmp(n, name))
      return (int)i;
  }
  return -1;
}

/* split_words cuts |s| at spaces: up to |max| words (more = error). */
static size_t split_words(char *s, char **words, size_t max, bool *too_many) {
  size_t n = 0;
  *too_many = false;
  char *save = NULL;
  for (char *p = strtok_r(s, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
    if (n == max) {
      *too_many = true;
      break;
    }
    words[n++] = p;
  }
  return n;
}

static int check_alphabet(learn_ctx *c, const char *path, char *line) {
  const learn_sul *sul = c->sul;
  size_t n = sul->n_inputs;
  char **words = malloc((n + 1) * sizeof *words);
  bool *seen = calloc(n ? n : 1, sizeof *seen);
  int rc = 0;
  if (!words || !seen) {
    rc = lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
    goto out;
  }
  if (strncmp(line, "inputs", 6) || (line[6] != ' ' && line[6] != '\0')) {
    rc = lc_fail(c, LEARN_ERR_INVAL, "%s:2: expected the 'inputs' line", path);
    goto out;
  }
  bool too_many;
  size_t got = split_words(line + 6, words, n + 1, &too_many);
  if (too_many || got != n) {
    rc = lc_fail(c, LEARN_ERR_INVAL,
                 "%s:2: the cache was made with another alphabet (%s%zu inputs, the SUL has %zu)",
                 path, too_many ? "more than " : "", got, n);
    goto out;
  }
  for (size_t k = 0; k < got; k++) {
    int i = unescape(words[k]) ? input_by_name(sul, words[k]) : -1;
    if (i < 0 || seen[i]) {
      rc = lc_fail(c, LEARN_ERR_INVAL,
                   "%s:2: the cache was made with another alphabet (input '%s' %s)", path,
                   words[k], i < 0 ? "is not the SUL's" : "appears twice");
      goto out;
    }
    seen[i] = true;
  }
out:
  free(words);
  free(seen);
  return rc;
}

/* load_line applies one "inputs<TAB>outputs" line. */
static int load_line(learn_ctx *c, const char *path, size_t lineno, char *line, lword *w,
                     learn_out **outs, size_t *outs_cap) {
  char *tab = strchr(line, '\t');
  if (!tab)
    return lc_fail(c, LEARN_ERR_INVAL, "%s:%zu: no tab between inputs and outputs", path, lineno);
  *tab = '\0';
  char *save = NULL;
  w->n = 0;
  for (char *p = strtok_r(line, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
    int i = unescape(p) ? input_by_name(c->sul, p) : -1;
    if (i < 0)
      return lc_fail(c, LEARN_ERR_INVAL, "%s:%zu: '%s' is not an input of the SUL", path,
                     lineno, p);
    if (lw_push(w, (learn_sym)i) < 0)
      return lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
  }
  if (!w->n)
    return lc_fail(c, LEARN_ERR_INVAL, "%s:%zu: empty word", path, lineno);
  if (*outs_cap < w->n) {
    learn_out *o = realloc(*outs, w->n * sizeof *o);
    if (!o)
      return lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
    *outs = o;
    *outs_cap = w->n;
  }
  size_t k = 0;
  for (char *p = strtok_r(tab + 1, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
    if (k == w->n || !unescape(p) || c->sul->output_id(c->sul->ctx, p, &(*outs)[k]) < 0)
      return lc_fail(c, LEARN_ERR_INVAL, "%s:%zu: %s", path, lineno,
                     k == w->n ? "more outputs than inputs" : "an output the SUL refuses");
    k++;
  }
  if (k != w->n)
    return lc_fail(c, LEARN_ERR_INVAL, "%s:%zu: fewer outputs than inputs", path, lineno);
  return lt_set_path(c, w->s, w->n, *outs);
}

static int write_header(learn_ctx *c, const char *path) {
  sbuf b = {0};
  int rc = sb_put(&b, CACHE_MAGIC "\ninputs", strlen(CACHE_MAGIC "\ninputs"));
  for (size_t i = 0; rc == 0 && i < c->sul->n_inputs; i++) {
    if ((rc = sb_put(&b, " ", 1)) == 0)
      rc = sb_escaped(&b, c->sul->input_name(c->sul->ctx, (learn_sym)i));
  }
  if (rc == 0)
    rc = sb_put(&b, "\n", 1);
  if (rc < 0) {
    free(b.s);
    return lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
  }
  if (fputs(b.s, c->cache) == EOF || fflush(c->cache) == EOF)
    rc = lc_fail(c, LEARN_ERR_INVAL, "%s: %s", path, strerror(errno));
  free(b.s);
  return rc;
}

int lcache_open(learn_ctx *c, const char *path) {
  const learn_sul *sul = c->sul;
  if (!sul->output_id)
    return lc_fail(c, LEARN_ERR_INVAL, "a query cache needs the SUL's output_id");
  for (size_t i = 0; i < sul->n_inputs; i++) {
    const char *name = sul->input_name(sul->ctx, (learn_sym)i);
    char *copy = name ? strdup(name) : NULL; /* input_name may reuse one buffer */
    if (name && !copy)
      return lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
    bool ok = copy && *copy && input_by_name(sul, copy) == (int)i;
    free(copy);
    if (!ok)
      return lc_fail(c, LEARN_ERR_INVAL, "input %zu: a cache needs distinct, non-empty names", i);
  }
  FILE *f = fopen(path, "r");
  char *line = NULL;
  size_t cap = 0, lineno = 0;
  long good_end = 0; /* offset after the last complete line */
  bool partial = false;
  lword w = {0};
  learn_out *outs = NULL;
  size_t outs_cap = 0;
  int rc = 0;
  if (!f && errno != ENOENT)
    return lc_fail(c, LEARN_ERR_INVAL, "%s: %s", path, strerror(errno));
  while (f) {
    errno = 0;
    ssize_t len = getline(&line, &cap, f);
    if (len < 0) {
      if (errno)
        rc = lc_fail(c, LEARN_ERR_INVAL, "%s: %s", path, strerror(errno));
      break;
    }
    lineno++;
    if (line[len - 1] != '\n') {
      partial = true; /* a crash mid-write: drop it */
      break;
    }
    line[--len] = '\0';
    if (lineno == 1 && strcmp(line, CACHE_MAGIC))
      rc = lc_fail(c, LEARN_ERR_INVAL, "%s:1: not a learn query cache of this version "
                   "(want '%s'; an older one cannot be reused: delete it)", path, CACHE_MAGIC);
    else if (lineno == 2)
      rc = check_alphabet(c, path, line);
    else if (lineno > 2)
      rc = load_line(c, path, lineno, line, &w, &outs, &outs_cap);
    if (rc < 0)
      break;
    good_end = ftell(f);
  }
  if (f)
    fclose(f);
  free(line);
  free(outs);
  lw_free(&w);
  if (rc < 0)
    return rc;
  size_t complete = lineno - (partial ? 1 : 0);
  if (complete == 1)
    return lc_fail(c, LEARN_ERR_INVAL, "%s: no 'inputs' line", path);
  if (partial && truncate(path, good_end) < 0)
    return lc_fail(c, LEARN_ERR_INVAL, "%s: %s", path, strerror(errno));
  c->cache = fopen(path, "a");
  if (!c->cache)
    return lc_fail(c, LEARN_ERR_INVAL, "%s: %s", path, strerror(errno));
  return complete == 0 ? write_header(c, path) : 0;
}

int lcache_append(learn_ctx *c, const learn_sym *w, size_t n, const learn_out *out) {
  if (!c->cache)
    return 0;
  sbuf b = {0};
  int rc = 0;
  for (size_t k = 0; rc == 0 && k < n; k++) {
    if (k)
      rc = sb_put(&b, " ", 1);
    if (rc == 0)
      rc = sb_escaped(&b, c->sul->input_name(c->sul->ctx, w[k]));
  }
  if (rc == 0)
    rc = sb_put(&b, "\t", 1);
  for (size_t k = 0; rc == 0 && k < n; k++) {
    const char *name = c->sul->output_name(c->sul->ctx, out[k]);
    if (!name || !*name) {
      free(b.s);
      return lc_fail(c, LEARN_ERR_SUL, "output %u has no name (the cache needs one)",
                     (unsigned)out[k]);
    }
    if (k)
      rc = sb_put(&b, " ", 1);
    if (rc == 0)
      rc = sb_escaped(&b, name);
  }
  if (rc == 0)
    rc = sb_put(&b, "\n", 1);
  if (rc < 0) {
    free(b.s);
    return lc_fail(c, LEARN_ERR_NOMEM, "out of memory");
  }
  if (fputs(b.s, c->cache) == EOF || fflush(c->cache) == EOF)
    rc = lc_fail(c, LEARN_ERR_INVAL, "query cache: %s", strerror(errno));
  free(b.s);
  return rc;
}

void lcache_close(learn_ctx *c) {
  if (c->cache)
    fclose(c->cache);
  c->cache = NULL;
}
