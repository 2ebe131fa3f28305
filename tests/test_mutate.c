/* test_mutate.c - the mutator library (model/mutate.h): each operator does
 * what it says, is deterministic for a seed, and its output always encodes,
 * decodes and prints; the binary entry points respect max_size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "gen_internal.h"
#include "model.h"
#include "mutate.h"
#include "testlib.h"
#include "transcript.h"

static const char base_text[] =
    "# config: tls_login=on\n"
    "C: AUTH TLS\n"
    "T: handshake\n"
    "C: USER alice\n"
    "C: PASS wonderland\n"
    "C: PBSZ 0\n"
    "C: PROT P\n"
    "C: PORT 127,0,0,1,4,1\n"
    "C: REST 100\n"
    "C: RETR /pub/hello.txt\n"
    "W: 10\n"
    "C: QUIT\n";

static const char other_text[] = "C: FEAT\nC: SYST\nC: NOOP\nC: STAT\n";

static void load(transcript *t, const char *text) {
  char err[256];
  transcript_init(t);
  CHECK(transcript_parse_text(t, text, strlen(text), "test", err, sizeof(err)) == 0);
}

static char *text_of(const transcript *t, size_t *len) {
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  if (!f)
    return NULL;
  transcript_print_text(t, f);
  fclose(f);
  return buf;
}

static size_t count_kind(const transcript *t, transcript_kind k) {
  size_t n = 0;
  for (size_t i = 0; i < t->n; i++)
    n += t->steps[i].kind == k ? 1 : 0;
  return n;
}

static size_t count_client(const transcript *t) {
  return count_kind(t, TRANSCRIPT_C) + count_kind(t, TRANSCRIPT_R) + count_kind(t, TRANSCRIPT_T) +
         count_kind(t, TRANSCRIPT_W) + count_kind(t, TRANSCRIPT_D);
}

/* valid: encodes, decodes to the same text, and the text parses back. */
static void check_valid(const transcript *t) {
  uint8_t *bin = NULL;
  size_t blen = 0, l1 = 0, l2 = 0;
  char err[256];
  transcript back, parsed;
  transcript_init(&back);
  transcript_init(&parsed);
  CHECK(transcript_encode_binary(t, &bin, &blen) == 0);
  CHECK(transcript_decode_binary(&back, bin, blen, err, sizeof(err)) == 0);
  char *a = text_of(t, &l1), *b = text_of(&back, &l2);
  CHECK(a && b && l1 == l2 && !memcmp(a, b, l1));
  CHECK(a && transcript_parse_text(&parsed, a, l1, "mutated", err, sizeof(err)) == 0);
  CHECK_EQ_INT(parsed.n, t->n);
  free(a);
  free(b);
  free(bin);
  transcript_cleanup(&back);
  transcript_cleanup(&parsed);
}

static bool any_c(const transcript *t, bool (*pred)(const transcript_step *)) {
  for (size_t i = 0; i < t->n; i++)
    if (t->steps[i].kind == TRANSCRIPT_C && pred(&t->steps[i]))
      return true;
  return false;
}

static bool has_crlf(const transcript_step *s) { return memmem(s->data, s->len, "\r\n", 2); }
static bool has_nul(const transcript_step *s) { return memchr(s->data, 0, s->len) != NULL; }
static bool has_iac(const transcript_step *s) { return memchr(s->data, 0xff, s->len) != NULL; }
static bool is_long(const transcript_step *s) { return s->len >= 2047; }

/* in_base: |s| is one of the C: lines of base_text, exactly. */
static bool in_base(const transcript_step *s) {
  transcript b;
  load(&b, base_text);
  bool found = false;
  for (size_t i = 0; i < b.n; i++)
    if (b.steps[i].kind == TRANSCRIPT_C && b.steps[i].len == s->len &&
        !memcmp(b.steps[i].data, s->data, s->len))
      found = true;
  transcript_cleanup(&b);
  return found;
}

/* changed_like: some C: step is not in base but equals a base C: line
 * after |norm| (case folding, removing spaces). */
static bool changed_like(const transcript *t, void (*norm)(char *, size_t *)) {
  transcript b;
  load(&b, base_text);
  bool ok = false;
  for (size_t i = 0; i < t->n && !ok; i++) {
    const transcript_step *s = &t->steps[i];
    if (s->kind != TRANSCRIPT_C || in_base(s) || s->len > 256)
      continue;
    char x[300];
    size_t xl = s->len;
    memcpy(x, s->data, xl);
    norm(x, &xl);
    for (size_t k = 0; k < b.n; k++) {
      const transcript_step *bs = &b.steps[k];
      if (bs->kind != TRANSCRIPT_C)
        continue;
      char y[300];
      size_t yl = bs->len;
      memcpy(y, bs->data, yl);
      norm(y, &yl);
      if (xl == yl && !memcmp(x, y, xl))
        ok = true;
    }
  }
  transcript_cleanup(&b);
  return ok;
}

static void fold(char *s, size_t *n) {
  for (size_t i = 0; i < *n; i++)
    if (s[i] >= 'a' && s[i] <= 'z')
      s[i] = (char)(s[i] - 32);
}

static void despace(char *s, size_t *n) {
  size_t o = 0;
  for (size_t i = 0; i < *n; i++)
    if (s[i] != ' ' && s[i] != '\t')
      s[o++] = s[i];
  *n = o;
}

/* The property each operator promises, checked on its output. */
static void check_effect(mutate_op op, const transcript *before, const transcript *after) {
  size_t cb = count_client(before), ca = count_client(after);
  switch (op) {
  case MUTATE_DROP: CHECK_EQ_INT(ca, cb - 1); break;
  case MUTATE_DUPLICATE: {
    CHECK_EQ_INT(ca, cb + 1);
    bool adj = false;
    for (size_t i = 0; i + 1 < after->n; i++)
      adj |= after->steps[i].kind == after->steps[i + 1].kind &&
             after->steps[i].len == after->steps[i + 1].len &&
             !memcmp(after->steps[i].data, after->steps[i + 1].data, after->steps[i].len);
    CHECK(adj);
    break;
  }
  case MUTATE_SWAP: {
    CHECK_EQ_INT(ca, cb);
    size_t l1, l2;
    char *a = text_of(before, &l1), *b = text_of(after, &l2);
    CHECK(a && b && l1 == l2 && memcmp(a, b, l1) != 0); /* same bytes, other order */
    free(a);
    free(b);
    break;
  }
  case MUTATE_SPLICE: {
    /* ends with the other script's last step */
    const transcript_step *last = &after->steps[after->n - 1];
    CHECK(last->kind == TRANSCRIPT_C && last->len == 4 && !memcmp(last->data, "STAT", 4));
    break;
  }
  case MUTATE_INSERT_OUT_OF_STATE: CHECK_EQ_INT(ca, cb + 1); break;
  case MUTATE_INSERT_ACTION: CHECK(ca > cb); break;
  case MUTATE_MERGE:
    CHECK(count_kind(after, TRANSCRIPT_C) < count_kind(before, TRANSCRIPT_C));
    CHECK(any_c(after, has_crlf));
    break;
  case MUTATE_SPLIT: {
    bool found = false;
    for (size_t i = 0; i + 1 < after->n; i++) {
      const transcript_step *a = &after->steps[i], *b = &after->steps[i + 1];
      if (a->kind != TRANSCRIPT_R || b->kind != TRANSCRIPT_R || b->len < 2 ||
          memcmp(b->data + b->len - 2, "\r\n", 2) != 0)
        continue;
      transcript_step joined = {TRANSCRIPT_C, NULL, a->len + b->len - 2, 0};
      uint8_t buf[256];
      if (joined.len > sizeof(buf))
        continue;
      memcpy(buf, a->data, a->len);
      memcpy(buf + a->len, b->data, b->len - 2);
      joined.data = buf;
      found |= in_base(&joined); /* the two writes make one original line */
    }
    CHECK(found);
    break;
  }
  case MUTATE_BYTES_AFTER_234: {
    bool found = false;
    for (size_t i = 0; i + 2 < after->n; i++)
      found |= after->steps[i].kind == TRANSCRIPT_C && !memcmp(after->steps[i].data, "AUTH", 4) &&
               after->steps[i + 1].kind == TRANSCRIPT_R &&
               after->steps[i + 2].kind == TRANSCRIPT_T;
    CHECK(found);
    break;
  }
  case MUTATE_TRUNCATE_HANDSHAKE: {
    bool partial = false;
    for (size_t i = 0; i + 1 < after->n; i++)
      partial |= after->steps[i].kind == TRANSCRIPT_R && after->steps[i].data[0] == 0x16 &&
                 after->steps[i + 1].kind == TRANSCRIPT_T;
    CHECK(partial || count_kind(after, TRANSCRIPT_T) == count_kind(before, TRANSCRIPT_T) - 1);
    break;
  }
  case MUTATE_CASE: CHECK(changed_like(after, fold)); break;
  case MUTATE_SPACING: CHECK(changed_like(after, despace)); break;
  case MUTATE_OVERLONG: CHECK(any_c(after, is_long)); break;
  case MUTATE_NUL: CHECK(any_c(after, has_nul)); break;
  case MUTATE_BARE_LF: {
    bool lf = false;
    for (size_t i = 0; i < after->n; i++) {
      const transcript_step *s = &after->steps[i];
      lf |= s->kind == TRANSCRIPT_R && s->len >= 1 && s->data[s->len - 1] == '\n' &&
            (s->len < 2 || s->data[s->len - 2] != '\r');
    }
    CHECK(lf);
    break;
  }
  case MUTATE_IAC: CHECK(any_c(after, has_iac)); break;
  case MUTATE_TOKEN: {
    bool changed = false;
    for (size_t i = 0; i < after->n; i++)
      changed |= after->steps[i].kind == TRANSCRIPT_C && !in_base(&after->steps[i]);
    /* a token can equal what was there; most seeds change something */
    (void)changed;
    CHECK_EQ_INT(ca, cb);
    break;
  }
  case MUTATE_NUMERIC: {
    bool found = false;
    for (size_t i = 0; i < after->n; i++) {
      const transcript_step *s = &after->steps[i];
      if (s->kind == TRANSCRIPT_C && !in_base(s) && s->len >= 4 &&
          (!memcmp(s->data, "PORT", 4) || !memcmp(s->data, "REST", 4) ||
           !memcmp(s->data, "EPRT", 4) || !memcmp(s->data, "PBSZ", 4) ||
           !memcmp(s->data, "ALLO", 4)))
        found = true;
    }
    CHECK(found);
    break;
  }
  case MUTATE_OP_COUNT: break;
  }
}

static void test_each_operator(void) {
  transcript other;
  load(&other, other_text);
  for (int op = 0; op < MUTATE_OP_COUNT; op++) {
    size_t applied = 0, token_changed = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
      transcript a, b;
      load(&a, base_text);
      load(&b, base_text);
      gen_rng r1, r2;
      gen_rng_seed(&r1, seed);
      gen_rng_seed(&r2, seed);
      int rc1 = mutate_apply(&a, (mutate_op)op, &r1, &other, NULL);
      int rc2 = mutate_apply(&b, (mutate_op)op, &r2, &other, NULL);
      CHECK_EQ_INT(rc1, rc2);
      size_t l1, l2;
      char *t1 = text_of(&a, &l1), *t2 = text_of(&b, &l2);
      CHECK(t1 && t2 && l1 == l2 && !memcmp(t1, t2, l1)); /* deterministic */
      free(t1);
      free(t2);
      check_valid(&a);
      if (rc1 == MUTATE_APPLIED) {
        transcript base;
        load(&base, base_text);
        check_effect((mutate_op)op, &base, &a);
        if (op == MUTATE_TOKEN)
          for (size_t i = 0; i < a.n; i++)
            if (a.steps[i].kind == TRANSCRIPT_C && !in_base(&a.steps[i])) {
              token_changed++;
              break;
            }
        transcript_cleanup(&base);
        applied++;
      }
      transcript_cleanup(&a);
      transcript_cleanup(&b);
    }
    if (applied < 40)
      printf("%s applied %zu/40\n", mutate_op_name((mutate_op)op), applied);
    CHECK(applied >= 30); /* the base script gives every operator something */
    if (op == MUTATE_TOKEN)
      CHECK(token_changed >= 30);
  }
  transcript_cleanup(&other);
}

static void test_not_applicable(void) {
  transcript t;
  gen_rng r;
  gen_rng_seed(&r, 1);
  load(&t, "# only a comment\n");
  CHECK_EQ_INT(mutate_apply(&t, MUTATE_DROP, &r, NULL, NULL), MUTATE_NOT_APPLICABLE);
  CHECK_EQ_INT(mutate_apply(&t, MUTATE_CASE, &r, NULL, NULL), MUTATE_NOT_APPLICABLE);
  CHECK_EQ_INT(mutate_apply(&t, MUTATE_TRUNCATE_HANDSHAKE, &r, NULL, NULL),
               MUTATE_NOT_APPLICABLE);
  CHECK_EQ_INT(mutate_apply(&t, MUTATE_SPLICE, &r, NULL, NULL), MUTATE_NOT_APPLICABLE);
  CHECK_EQ_INT(t.n, 1);
  /* no AUTH yet: the bytes come with an AUTH TLS and a handshake */
  CHECK_EQ_INT(mutate_apply(&t, MUTATE_BYTES_AFTER_234, &r, NULL, NULL), MUTATE_APPLIED);
  CHECK(t.n == 4 && t.steps[1].kind == TRANSCRIPT_C && t.steps[2].kind == TRANSCRIPT_R &&
        t.steps[3].kind == TRANSCRIPT_T);
  transcript_cleanup(&t);
}

/* The command INSERT_OUT_OF_STATE adds is one the model refuses (or does not
 * read) where it goes: at the start of a TLS-required session, every command
 * but AUTH/FEAT/QUIT/... */
static void test_out_of_state(void) {
  model_policy p = model_policy_default();
  model_config cfg = model_config_make(MODEL_PROFILE_DEFAULT, &p);
  for (uint64_t seed = 1; seed <= 30; seed++) {
    transcript t;
    gen_rng r;
    gen_rng_seed(&r, seed);
    load(&t, "# empty\n");
    CHECK_EQ_INT(mutate_apply(&t, MUTATE_INSERT_OUT_OF_STATE, &r, NULL, &cfg), MUTATE_APPLIED);
    CHECK(t.n == 2 && t.steps[1].kind == TRANSCRIPT_C);
    model_cmd cmd;
    model_classify_line(t.steps[1].data, t.steps[1].len, &cmd);
    model_state st = model_initial();
    gen_succ s[GEN_SUCC_MAX];
    size_t n = gen_successors(&cfg, &st, cmd.ev, s, GEN_SUCC_MAX);
    int k = gen_predict(s, n);
    CHECK(k < 0 || s[k].code >= 400);
    CHECK(cmd.ev != MODEL_EV_AUTH_TLS && cmd.ev != MODEL_EV_FEAT && cmd.ev != MODEL_EV_QUIT);
    transcript_cleanup(&t);
  }
}

/* INSERT_ACTION: the inserted action is accepted where it lands, and a
 * multi-step one comes whole (a download after PASV brings "D: open"). */
static void test_insert_action(void) {
  model_policy p = model_policy_default();
  model_config cfg = model_config_make(MODEL_PROFILE_DEFAULT, &p);
  bool saw_data = false;
  for (uint64_t seed = 1; seed <= 200; seed++) {
    transcript t;
    gen_rng r;
    gen_rng_seed(&r, seed);
    load(&t, "# logged in, passive\nC: AUTH TLS\nT: handshake\nC: USER alice\n"
             "C: PASS wonderland\nC: PBSZ 0\nC: PROT P\nC: PASV\n");
    size_t before = t.n;
    CHECK_EQ_INT(mutate_apply(&t, MUTATE_INSERT_ACTION, &r, NULL, &cfg), MUTATE_APPLIED);
    CHECK(t.n > before);
    for (size_t i = 0; i + 1 < t.n; i++)
      if (t.steps[i].kind == TRANSCRIPT_D && t.steps[i].len == 4 &&
          !memcmp(t.steps[i].data, "open", 4) && t.steps[i + 1].kind == TRANSCRIPT_C)
        saw_data = true;
    transcript_cleanup(&t);
  }
  CHECK(saw_data);
}

static bool decodes(const uint8_t *p, size_t n) {
  transcript t;
  char err[128];
  transcript_init(&t);
  int rc = transcript_decode_binary(&t, p, n, err, sizeof(err));
  transcript_cleanup(&t);
  return rc == 0;
}

/* The binary entry points never write more client steps than
 * fuzz_sequence plays, whatever they start from. */
static void test_step_cap(void) {
  transcript t;
  transcript_init(&t);
  for (int i = 0; i < MUTATE_CLIENT_STEPS_MAX + 30; i++)
    CHECK(transcript_add(&t, TRANSCRIPT_C, "NOOP", 4) == 0);
  uint8_t *enc = NULL;
  size_t elen = 0;
  CHECK(transcript_encode_binary(&t, &enc, &elen) == 0);
  transcript_cleanup(&t);
  static uint8_t buf[1 << 16];
  for (unsigned seed = 1; seed <= 200 && enc; seed++) {
    memcpy(buf, enc, elen);
    size_t n = mutate_binary(buf, elen, sizeof(buf), seed);
    transcript out;
    char err[128];
    transcript_init(&out);
    CHECK(transcript_decode_binary(&out, buf, n, err, sizeof(err)) == 0);
    CHECK(count_client(&out) <= MUTATE_CLIENT_STEPS_MAX);
    transcript_cleanup(&out);
  }
  free(enc);
}

static void test_binary(void) {
  transcript base;
  load(&base, base_text);
  uint8_t *enc = NULL;
  size_t elen = 0;
  CHECK(transcript_encode_binary(&base, &enc, &elen) == 0);
  static const size_t maxes[] = {0, 5, 40, 200, 4096, 65536};
  uint8_t *buf = malloc(65536), *buf2 = malloc(65536);
  CHECK(buf && buf2);
  if (!buf || !buf2)
    goto out;
  size_t differ = 0;
  for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
    for (unsigned seed = 0; seed < 60; seed++) {
      size_t max = maxes[m], in_len;
      /* valid input (if it fits) or garbage */
      if (seed % 3 && elen <= max) {
        memcpy(buf, enc, elen);
        in_len = elen;
      } else {
        gen_rng r;
        gen_rng_seed(&r, seed);
        in_len = max ? gen_rng_below(&r, max < 100 ? max : 100) : 0;
        for (size_t i = 0; i < in_len; i++)
          buf[i] = (uint8_t)gen_rng_next(&r);
      }
      memcpy(buf2, buf, in_len);
      size_t n1 = mutate_binary(buf, in_len, max, seed);
      size_t n2 = mutate_binary(buf2, in_len, max, seed);
      CHECK(n1 <= max);
      CHECK(decodes(buf, n1));
      CHECK(n1 == n2 && !memcmp(buf, buf2, n1)); /* deterministic */
      if (max == 65536 && (n1 != elen || memcmp(buf, enc, elen)))
        differ++;
    }
  }
  CHECK(differ >= 50); /* it mutates */
  for (unsigned seed = 0; seed < 60; seed++) {
    transcript o;
    load(&o, other_text);
    uint8_t *oenc = NULL;
    size_t olen = 0;
    CHECK(transcript_encode_binary(&o, &oenc, &olen) == 0);
    size_t max = seed % 2 ? 65536 : 30;
    size_t n = mutate_crossover(enc, elen, oenc, olen, buf, max, seed);
    size_t n2 = mutate_crossover(enc, elen, oenc, olen, buf2, max, seed);
    CHECK(n <= max && decodes(buf, n));
    CHECK(n == n2 && !memcmp(buf, buf2, n));
    /* garbage on one side: still a valid output */
    n = mutate_crossover((const uint8_t *)"\xff\xff\xff", 3, oenc, olen, buf, 65536, seed);
    CHECK(decodes(buf, n) && n > 0);
    free(oenc);
    transcript_cleanup(&o);
  }
out:
  free(buf);
  free(buf2);
  free(enc);
  transcript_cleanup(&base);
}

static void test_mutate_transcript(void) {
  transcript a, b, o;
  load(&a, base_text);
  load(&b, base_text);
  load(&o, other_text);
  CHECK(mutate_transcript(&a, 7, &o) >= 1);
  CHECK(mutate_transcript(&b, 7, &o) >= 1);
  size_t l1, l2;
  char *t1 = text_of(&a, &l1), *t2 = text_of(&b, &l2);
  CHECK(t1 && t2 && l1 == l2 && !memcmp(t1, t2, l1));
  free(t1);
  free(t2);
  check_valid(&a);
  CHECK_STR(mutate_op_name(MUTATE_SPLICE), "SPLICE");
  CHECK_STR(mutate_op_name(MUTATE_OP_COUNT), "?");
  transcript_cleanup(&a);
  transcript_cleanup(&b);
  transcript_cleanup(&o);
}

int main(void) {
  test_each_operator();
  test_not_applicable();
  test_out_of_state();
  test_insert_action();
  test_step_cap();
  test_binary();
  test_mutate_transcript();
  return testlib_finish();
}
