/* learn_cand.c - see learn_cand.h. */
#include "learn_cand.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gen.h"
#include "gen_play.h"
#include "learn_alphabet.h"
#include "test_config.h"

/* sym_named: the alphabet index of input |name|, or -1 if not in it. */
static int sym_named(const learn_ftps *m, const char *name) {
  for (learn_sym i = 0; *learn_ftps_input_name(m, i); i++)
    if (!strcmp(learn_ftps_input_name(m, i), name))
      return i;
  return -1;
}

/* sym_of_event: the first alphabet input standing for |ev|, or -1. */
static int sym_of_event(const learn_ftps *m, model_event ev) {
  size_t n;
  const learn_alpha_input *t = learn_alpha_inputs(&n);
  for (learn_sym i = 0; *learn_ftps_input_name(m, i); i++) {
    int k = learn_alpha_find(learn_ftps_input_name(m, i));
    if (k >= 0 && t[k].event == ev)
      return i;
  }
  return -1;
}

static bool step_is(const transcript_step *st, transcript_kind k, const char *text) {
  return st->kind == k && st->len == strlen(text) && !memcmp(st->data, text, st->len);
}

static bool arg_is(const model_cmd *c, const char *want) {
  return c->arg && c->arg_len == strlen(want) && !memcmp(c->arg, want, c->arg_len);
}

size_t learn_cand_word(const learn_ftps *m, const transcript *script, learn_sym *out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < script->n && n < cap; i++) {
    const transcript_step *st = &script->steps[i];
    int sym = -1;
    if (st->kind == TRANSCRIPT_BLANK || st->kind == TRANSCRIPT_W)
      continue;
    if (st->kind == TRANSCRIPT_COMMENT) {
      if (st->len >= 8 && !memcmp(st->data, " client:", 8))
        break; /* the client behaves otherwise than the mapper's */
      continue;
    }
    if (st->kind == TRANSCRIPT_T)
      sym = sym_named(m, step_is(st, TRANSCRIPT_T, "handshake") ? "HANDSHAKE" : "CLOSE_NOTIFY");
    else if (st->kind == TRANSCRIPT_C && st->len > 10 && !memcmp(st->data, "AUTH TLS\r\n", 10))
      sym = sym_named(m, "AUTH_TLS_PIPELINED");
    else if (st->kind == TRANSCRIPT_C && !memchr(st->data, '\r', st->len) &&
             !memchr(st->data, '\n', st->len)) {
      model_cmd c;
      model_classify_line(st->data, st->len, &c);
      if (c.ev == MODEL_EV_USER)
        sym = sym_named(m, arg_is(&c, TEST_CONFIG_USER) ? "USER_OK" : "USER_UNKNOWN");
      else if (c.ev == MODEL_EV_PASS)
        sym = sym_named(m, arg_is(&c, TEST_CONFIG_PASSWORD) ? "PASS_OK" : "PASS_BAD");
      else if (c.ev == MODEL_EV_PBSZ)
        sym = arg_is(&c, "0") ? sym_named(m, "PBSZ_0") : -1;
      else
        sym = sym_of_event(m, c.ev);
      /* the data steps belong to the input that makes them */
      if (sym >= 0 && (c.ev == MODEL_EV_PASV || c.ev == MODEL_EV_EPSV)) {
        if (i + 1 < script->n && step_is(&script->steps[i + 1], TRANSCRIPT_D, "open"))
          i++;
        else
          sym = -1;
      } else if (sym >= 0 && c.ev == MODEL_EV_STOR) {
        while (i + 1 < script->n && script->steps[i + 1].kind == TRANSCRIPT_D &&
               !step_is(&script->steps[i + 1], TRANSCRIPT_D, "open"))
          i++;
      }
    }
    if (sym < 0)
      break;
    out[n++] = (learn_sym)sym;
  }
  return n;
}

static int add_word(learn_cands *c, const learn_sym *w, size_t n) {
  if (n == 0)
    return 0;
  for (size_t k = 0; k < c->n; k++)
    if (c->lens[k] == n && !memcmp(c->words[k], w, n * sizeof(*w)))
      return 0;
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 64;
    learn_sym **words = realloc(c->words, cap * sizeof(*words));
    if (!words)
      return -1;
    c->words = words;
    size_t *lens = realloc(c->lens, cap * sizeof(*lens));
    if (!lens)
      return -1;
    c->lens = lens;
    c->cap = cap;
  }
  learn_sym *copy = malloc(n * sizeof(*copy));
  if (!copy)
    return -1;
  memcpy(copy, w, n * sizeof(*w));
  c->words[c->n] = copy;
  c->lens[c->n++] = n;
  return 0;
}

static int add_set(const learn_ftps *m, const gen_set *set, learn_cands *c) {
  learn_sym w[256];
  for (size_t k = 0; k < set->n; k++) {
    c->scripts++;
    if (add_word(c, w, learn_cand_word(m, &set->items[k], w, 256)) != 0)
      return -1;
  }
  return 0;
}

int learn_cands_build(const learn_ftps *m, const model_config *model, learn_cands *c) {
  memset(c, 0, sizeof(*c));
  gen_set probes, cover;
  gen_set_init(&probes);
  gen_set_init(&cover);
  const char *names[CHECK_PROBES_MAX];
  gen_player player;
  memset(&player, 0, sizeof(player));
  gen_cover_stats *st = calloc(1, sizeof(*st));
  int rc = -1;
  if (!st || check_probes(&probes, names) < 0 || add_set(m, &probes, c) != 0)
    goto out;
  if (gen_player_init(&player, model) != 0 ||
      gen_cover(model, gen_player_play, &player, &cover, st) != 0 || add_set(m, &cover, c) != 0)
    goto out;
  rc = 0;
out:
  free(st);
  gen_player_cleanup(&player);
  gen_set_cleanup(&probes);
  gen_set_cleanup(&cover);
  return rc;
}

void learn_cands_cleanup(learn_cands *c) {
  if (!c)
    return;
  for (size_t k = 0; k < c->n; k++)
    free(c->words[k]);
  free(c->words);
  free(c->lens);
  memset(c, 0, sizeof(*c));
}
