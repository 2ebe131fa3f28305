/* test_mutate.c - the mutator library (model/mutate.h): each operator does
 * what it says, is deterministic for a seed, and its output always encodes,
 * decodes and prints; the binary entry points respect max_size; the policy
 * step POLICY writes is one the harness applies, and it survives
 * crossover. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "gen_internal.h"
#include "model.h"
#include "mutate.h"
#include "test_config.h"
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

/* policy_text returns the server policy |t|'s "# config:" steps set, as
 * the harness applies them, in a comparable text (malloc'd; NULL if the
 * harness refuses the steps). */
static test_config g_cfg; /* built once: its users cost a password hash */
static bool g_cfg_ready;

/* harness_policy applies |t|'s policy steps as fuzz_sequence does, from the
 * built-in policy. Returns the policy, or NULL (|err| says why). */
static const ftps_policy *harness_policy(const transcript *t, char *err, size_t err_len) {
  if (!g_cfg_ready && test_config_init(&g_cfg) != 0)
    return NULL;
  g_cfg_ready = true;
  g_cfg.server.policy = ftps_policy_default();
  if (test_config_apply_directives(&g_cfg, t, "mutated", err, err_len) != 0)
    return NULL;
  return &g_cfg.server.policy;
}

static char *policy_text(const transcript *t) {
  char err[256] = "cannot build the test configuration", *out = NULL;
  const ftps_policy *p = harness_policy(t, err, sizeof(err));
  if (p != NULL) {
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (f) {
      fprintf(f, "login=%d data=%d anon=%d ccc=%d reuse=%d fail=%u delay=%u",
              p->tls_required_login, p->tls_required_data, p->anonymous, p->ccc_allowed,
              p->require_tls_reuse, p->max_login_failures, (unsigned)p->login_fail_delay_ms);
      fclose(f);
    }
  } else {
    printf("harness refuses the policy: %s\n", err);
  }
  return out;
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
  case MUTATE_PATH: {
    /* one path command has a new argument; nothing else moved */
    CHECK_EQ_INT(ca, cb);
    size_t changed = 0;
    for (size_t i = 0; i < after->n; i++) {
      const transcript_step *s = &after->steps[i];
      if (s->kind == TRANSCRIPT_C && !in_base(s)) {
        changed++;
        CHECK(s->len > 4 && !memcmp(s->data, "RETR ", 5));
      }
    }
    CHECK(changed <= 1); /* a new name can equal the old one */
    break;
  }
  case MUTATE_POLICY: {
    /* the commands are untouched; one policy step, first, or none; and the
     * policy it sets is not the one before */
    CHECK_EQ_INT(ca, cb);
    size_t steps = 0;
    for (size_t i = 0; i < after->n; i++)
      if (mutate_is_policy_step(&after->steps[i])) {
        steps++;
        CHECK_EQ_INT(i, 0);
      }
    CHECK(steps <= 1);
    char *a = policy_text(before), *b = policy_text(after);
    CHECK(a && b && strcmp(a, b) != 0);
    free(a);
    free(b);
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
        if (op == MUTATE_TOKEN || op == MUTATE_PATH)
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
    if (op == MUTATE_PATH) /* RETR's argument really changed, most times */
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

/* Every key and value POLICY writes is one the harness accepts; values[0]
 * is the built-in default and the others change the policy. */
static void test_policy_keys(void) {
  char *dflt = NULL;
  {
    transcript empty;
    transcript_init(&empty);
    dflt = policy_text(&empty);
    transcript_cleanup(&empty);
  }
  CHECK(dflt != NULL);
  CHECK(mutate_policy_key_count >= 6);
  for (size_t k = 0; k < mutate_policy_key_count && dflt; k++) {
    const mutate_policy_key *key = &mutate_policy_keys[k];
    CHECK(key->n_values >= 2);
    for (size_t v = 0; v < key->n_values; v++) {
      char line[128];
      snprintf(line, sizeof(line), "# config: %s=%s\nC: NOOP\n", key->key, key->values[v]);
      transcript t;
      load(&t, line);
      char *got = policy_text(&t);
      CHECK(got != NULL);
      if (got)
        CHECK((strcmp(got, dflt) == 0) == (v == 0));
      free(got);
      transcript_cleanup(&t);
    }
  }
  free(dflt);
}

/* mutate_script_policy reads the model policy as the harness applies it
 * (test_config_model), for the generator's comments of all 16 policies and
 * later-wins lines. */
static void test_script_policy(void) {
  for (unsigned m = 0; m < 16; m++) {
    model_policy p = {.tls_login = m & 1, .tls_data = (m >> 1) & 1, .anon = (m >> 2) & 1,
                      .ccc = (m >> 3) & 1};
    char c[160], text[200];
    gen_policy_comment(&p, c, sizeof(c));
    snprintf(text, sizeof(text), "#%s\nC: NOOP\n", c);
    transcript t;
    load(&t, text);
    model_policy got = mutate_script_policy(&t);
    CHECK(got.tls_login == p.tls_login && got.tls_data == p.tls_data && got.anon == p.anon &&
          got.ccc == p.ccc);
    transcript_cleanup(&t);
  }
  transcript t;
  load(&t, "# config: ccc=on tls_login=off\nC: NOOP\n# config: ccc=off max_failures=1\n");
  model_policy got = mutate_script_policy(&t);
  CHECK(!got.tls_login && got.tls_data && !got.anon && !got.ccc);
  transcript_cleanup(&t);
}

/* Through the binary entry point: every output's policy is one the harness
 * applies and the model policy the oracle gets matches what the mutator
 * read; some mutations change the policy, most do not (they stay on the
 * commands); over a run every key is written and every model policy
 * reached. */
static void test_policy_mutations(void) {
  transcript base;
  load(&base, base_text);
  uint8_t *enc = NULL;
  size_t elen = 0;
  CHECK(transcript_encode_binary(&base, &enc, &elen) == 0);
  char *before = policy_text(&base);
  static uint8_t buf[1 << 16];
  size_t changed = 0, runs = 400;
  unsigned reached = 0;
  bool keys[16] = {false};
  for (unsigned seed = 1; seed <= runs && enc && before; seed++) {
    /* chains of mutations, as a fuzzer's corpus grows */
    size_t n = elen;
    memcpy(buf, enc, elen);
    for (unsigned round = 0; round < 1 + seed % 4; round++)
      n = mutate_binary(buf, n, sizeof(buf), seed * 7919u + round);
    transcript out;
    char err[128];
    transcript_init(&out);
    CHECK(transcript_decode_binary(&out, buf, n, err, sizeof(err)) == 0);
    char *now = policy_text(&out);
    CHECK(now != NULL); /* the harness never refuses a mutated policy */
    if (now && strcmp(now, before) != 0)
      changed++;
    free(now);
    const ftps_policy *hp = harness_policy(&out, err, sizeof(err));
    CHECK(hp != NULL);
    if (hp) {
      model_config want = test_config_model(hp);
      model_policy got = mutate_script_policy(&out);
      CHECK(got.tls_login == want.policy.tls_login && got.tls_data == want.policy.tls_data &&
            got.anon == want.policy.anon && got.ccc == want.policy.ccc);
      reached |= 1u << (got.tls_login | got.tls_data << 1 | got.anon << 2 | got.ccc << 3);
    }
    for (size_t i = 0; i < out.n; i++)
      for (size_t k = 0; k < mutate_policy_key_count && mutate_is_policy_step(&out.steps[i]); k++)
        if (strstr((const char *)out.steps[i].data, mutate_policy_keys[k].key))
          keys[k] = true;
    transcript_cleanup(&out);
  }
  printf("policy changed in %zu/%zu mutation chains\n", changed, runs);
  CHECK(changed >= runs / 20);
  CHECK(changed <= runs / 2);
  for (size_t k = 0; k < mutate_policy_key_count; k++)
    CHECK(keys[k]);
  printf("model policies reached: %d/16 (mask %#x)\n", __builtin_popcount(reached), reached);
  /* the base (login and data on) and each model key changed from it */
  static const unsigned one_change[] = {1u << 3, 1u << 2, 1u << 1, 1u << 7, 1u << 11};
  for (size_t i = 0; i < sizeof(one_change) / sizeof(one_change[0]); i++)
    CHECK(reached & one_change[i]);
  free(before);
  free(enc);
  transcript_cleanup(&base);
}

/* Crossover keeps the policy of the script it starts from, whatever the
 * other one says, and writes one policy step. */
static void test_policy_crossover(void) {
  transcript a, b;
  load(&a, "C: FEAT\n# config: ccc=on tls_login=off\nC: AUTH TLS\nT: handshake\n"
           "C: USER alice\nC: PASS wonderland\nC: CCC\n");
  load(&b, "# config: anonymous=on tls_data=off\nC: USER anonymous\nC: PASS x\n"
           "# config: ccc=off\nC: LIST\n");
  uint8_t *ea = NULL, *eb = NULL;
  size_t la = 0, lb = 0;
  CHECK(transcript_encode_binary(&a, &ea, &la) == 0);
  CHECK(transcript_encode_binary(&b, &eb, &lb) == 0);
  char *want = policy_text(&a);
  static uint8_t buf[1 << 16];
  for (unsigned seed = 0; seed < 100 && ea && eb && want; seed++) {
    size_t n = mutate_crossover(ea, la, eb, lb, buf, sizeof(buf), seed);
    transcript out;
    char err[128];
    transcript_init(&out);
    CHECK(transcript_decode_binary(&out, buf, n, err, sizeof(err)) == 0);
    size_t steps = 0;
    for (size_t i = 0; i < out.n; i++)
      steps += mutate_is_policy_step(&out.steps[i]);
    CHECK_EQ_INT(steps, 1);
    char *got = policy_text(&out);
    CHECK(got && !strcmp(got, want));
    free(got);
    transcript_cleanup(&out);
  }
  free(want);
  free(ea);
  free(eb);
  transcript_cleanup(&a);
  transcript_cleanup(&b);
}

int main(void) {
  test_each_operator();
  test_not_applicable();
  test_out_of_state();
  test_insert_action();
  test_step_cap();
  test_binary();
  test_mutate_transcript();
  test_policy_keys();
  test_script_policy();
  test_policy_mutations();
  test_policy_crossover();
  if (g_cfg_ready)
    test_config_cleanup(&g_cfg);
  return testlib_finish();
}
