/* mutate_policy.c - the policy step of a script: the POLICY operator and
 * the model policy a script runs under (mutate.h, mutate_internal.h).
 *
 * The step's syntax is the harness's (test_config_apply_directives):
 * "# config:" then key=value tokens separated by spaces. model/ never
 * includes driver/, so the keys are listed here again; test_mutate checks
 * every key and value against the driver's parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "judge.h"
#include "mutate.h"
#include "mutate_internal.h"

static const char *const kOnOff[] = {"on", "off"};
static const char *const kOffOn[] = {"off", "on"};
/* The default 3, the edges 1 (the first failed PASS closes) and 1000. */
static const char *const kFailures[] = {"3", "1", "2", "1000"};
/* The default holds a failed PASS's reply 1 s; 0 answers it at once. */
static const char *const kDelay[] = {"1000", "0"};

const mutate_policy_key mutate_policy_keys[] = {
    {"tls_login", kOnOff, 2},    {"tls_data", kOnOff, 2},           {"anonymous", kOffOn, 2},
    {"ccc", kOffOn, 2},          {"tls_reuse", kOnOff, 2},          {"max_failures", kFailures, 4},
    {"fail_delay", kDelay, 2},
};
#define N_KEYS (sizeof(mutate_policy_keys) / sizeof(mutate_policy_keys[0]))
const size_t mutate_policy_key_count = N_KEYS;

static const char kTag[] = "config:";

/* directive_start returns the offset of the tokens of a policy step, or
 * SIZE_MAX if |st| is not one. */
static size_t directive_start(const transcript_step *st) {
  if (st->kind != TRANSCRIPT_COMMENT)
    return SIZE_MAX;
  size_t pos = 0;
  while (pos < st->len && st->data[pos] == ' ')
    pos++;
  if (st->len - pos < sizeof(kTag) - 1 || memcmp(st->data + pos, kTag, sizeof(kTag) - 1) != 0)
    return SIZE_MAX;
  return pos + sizeof(kTag) - 1;
}

bool mutate_is_policy_step(const transcript_step *st) {
  return directive_start(st) != SIZE_MAX;
}

typedef struct token {
  const uint8_t *k, *v;
  size_t klen, vlen; /* vlen is 0 and v NULL without '=' */
} token;

/* next_token reads the token at *|pos| of |st| (tokens end at a space, as
 * in the harness). Returns false at the end of the step. */
static bool next_token(const transcript_step *st, size_t *pos, token *out) {
  size_t p = *pos;
  while (p < st->len && st->data[p] == ' ')
    p++;
  if (p == st->len)
    return false;
  size_t start = p;
  while (p < st->len && st->data[p] != ' ')
    p++;
  *pos = p;
  const uint8_t *eq = memchr(st->data + start, '=', p - start);
  out->k = st->data + start;
  out->klen = eq ? (size_t)(eq - out->k) : p - start;
  out->v = eq ? eq + 1 : NULL;
  out->vlen = eq ? p - start - out->klen - 1 : 0;
  return true;
}

static bool text_is(const uint8_t *p, size_t len, const char *s) {
  return p != NULL && strlen(s) == len && memcmp(p, s, len) == 0;
}

model_policy mutate_script_policy(const transcript *t) {
  /* the one reading of "# config:" lines (judge.h); a malformed one ends
   * it there (the harness refuses such an input anyway) */
  model_policy mp = model_policy_default();
  char err[8];
  (void)judge_apply_config_lines(&mp, t, "input", err, sizeof(err));
  return mp;
}

/* read_values sets |idx|[k] to the index of key k's value in its list
 * (-1: absent, or a value POLICY does not write). */
static void read_values(const transcript *t, int idx[N_KEYS]) {
  for (size_t k = 0; k < N_KEYS; k++)
    idx[k] = -1;
  for (size_t i = 0; i < t->n; i++) {
    size_t pos = directive_start(&t->steps[i]);
    token tk;
    while (pos != SIZE_MAX && next_token(&t->steps[i], &pos, &tk))
      for (size_t k = 0; k < N_KEYS; k++) {
        if (!text_is(tk.k, tk.klen, mutate_policy_keys[k].key))
          continue;
        idx[k] = -1;
        for (size_t v = 0; v < mutate_policy_keys[k].n_values; v++)
          if (text_is(tk.v, tk.vlen, mutate_policy_keys[k].values[v]))
            idx[k] = (int)v;
      }
  }
}

/* pick_key returns a random key whose presence is |present|. */
static size_t pick_key(const int idx[N_KEYS], bool present, gen_rng *rng) {
  size_t n = 0;
  for (size_t k = 0; k < N_KEYS; k++)
    n += (idx[k] >= 0) == present;
  size_t want = gen_rng_below(rng, n);
  for (size_t k = 0; k < N_KEYS; k++)
    if ((idx[k] >= 0) == present && want-- == 0)
      return k;
  return 0;
}

static bool any_set_away(const int idx[N_KEYS]) {
  for (size_t k = 0; k < N_KEYS; k++)
    if (idx[k] > 0)
      return true;
  return false;
}

/* pick_away returns a random key set away from its default. */
static size_t pick_away(const int idx[N_KEYS], gen_rng *rng) {
  size_t n = 0;
  for (size_t k = 0; k < N_KEYS; k++)
    n += idx[k] > 0;
  size_t want = gen_rng_below(rng, n);
  for (size_t k = 0; k < N_KEYS; k++)
    if (idx[k] > 0 && want-- == 0)
      return k;
  return 0;
}

/* append copies |s| into |buf| at *|len| if it fits (it always does: the
 * longest step is well under the buffer). */
static void append(char *buf, size_t cap, size_t *len, const char *s) {
  size_t n = strlen(s);
  if (*len + n <= cap) {
    memcpy(buf + *len, s, n);
    *len += n;
  }
}

/* write_step replaces every policy step of |t| by one at index 0 holding
 * the keys |idx| sets, in table order (none if no key is set). */
static int write_step(transcript *t, const int idx[N_KEYS]) {
  char line[256];
  size_t len = 0;
  append(line, sizeof(line), &len, " config:");
  bool any = false;
  for (size_t k = 0; k < N_KEYS; k++) {
    if (idx[k] < 0)
      continue;
    append(line, sizeof(line), &len, " ");
    append(line, sizeof(line), &len, mutate_policy_keys[k].key);
    append(line, sizeof(line), &len, "=");
    append(line, sizeof(line), &len, mutate_policy_keys[k].values[idx[k]]);
    any = true;
  }
  size_t out = 0;
  for (size_t i = 0; i < t->n; i++) {
    if (mutate_is_policy_step(&t->steps[i]))
      free(t->steps[i].data);
    else
      t->steps[out++] = t->steps[i];
  }
  t->n = out;
  if (!any)
    return MUTATE_APPLIED;
  if (transcript_add(t, TRANSCRIPT_COMMENT, line, len) != 0)
    return MUTATE_ERR_NOMEM;
  transcript_step st = t->steps[t->n - 1];
  memmove(&t->steps[1], &t->steps[0], (t->n - 1) * sizeof(*t->steps));
  t->steps[0] = st;
  return MUTATE_APPLIED;
}

int mutate_op_policy(transcript *t, gen_rng *rng) {
  int idx[N_KEYS];
  read_values(t, idx);
  size_t present = 0;
  for (size_t k = 0; k < N_KEYS; k++)
    present += idx[k] >= 0;
  /* 0 add, 1 another value, 2 remove; each changes the policy the step
   * sets: a key added gets another value than the default, and only keys
   * set away from it are removed. */
  size_t action = present == 0 ? 0 : gen_rng_below(rng, 3);
  if (action == 0 && present == N_KEYS)
    action = 1;
  if (action == 2 && !any_set_away(idx))
    action = 1;
  size_t k = action == 2 ? pick_away(idx, rng) : pick_key(idx, action != 0, rng);
  size_t n = mutate_policy_keys[k].n_values;
  if (action == 0)
    idx[k] = (int)(1 + gen_rng_below(rng, n - 1));
  else if (action == 1)
    idx[k] = (int)(((size_t)idx[k] + 1 + gen_rng_below(rng, n - 1)) % n);
  else
    idx[k] = -1;
  return write_step(t, idx);
}

size_t mutate_policy_to_front(transcript *t) {
  size_t front = 0;
  for (size_t i = 0; i < t->n; i++) {
    if (!mutate_is_policy_step(&t->steps[i]))
      continue;
    transcript_step st = t->steps[i];
    memmove(&t->steps[front + 1], &t->steps[front], (i - front) * sizeof(*t->steps));
    t->steps[front++] = st;
  }
  return front;
}
