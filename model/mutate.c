/* mutate.c - the mutator library (see mutate.h). */
#include "mutate.h"

#include <stdlib.h>
#include <string.h>

#include "gen_internal.h"
#include "model.h"
#include "mutate_internal.h"

static const char *const op_names[MUTATE_OP_COUNT] = {
#define X(name, what) #name,
    MUTATE_OPS(X)
#undef X
};

const char *mutate_op_name(mutate_op op) {
  return (unsigned)op < MUTATE_OP_COUNT ? op_names[op] : "?";
}

/* --- step surgery (the transcript keeps ownership rules of transcript.c) --- */

static bool is_client(transcript_kind k) {
  return k == TRANSCRIPT_C || k == TRANSCRIPT_R || k == TRANSCRIPT_T || k == TRANSCRIPT_W ||
         k == TRANSCRIPT_D;
}

/* pick returns a random index of a step of a kind in |mask| (bit = kind),
 * accepted by |ok| if given; -1 if none. */
static long pick(const transcript *t, gen_rng *rng, unsigned mask,
                 bool (*ok)(const transcript_step *)) {
  size_t n = 0;
  for (size_t i = 0; i < t->n; i++)
    if ((mask >> t->steps[i].kind) & 1u && (!ok || ok(&t->steps[i])))
      n++;
  if (!n)
    return -1;
  size_t k = gen_rng_below(rng, n);
  for (size_t i = 0; i < t->n; i++)
    if ((mask >> t->steps[i].kind) & 1u && (!ok || ok(&t->steps[i])) && k-- == 0)
      return (long)i;
  return -1;
}

#define M_C (1u << TRANSCRIPT_C)
#define M_CLIENT ((1u << TRANSCRIPT_C) | (1u << TRANSCRIPT_R) | (1u << TRANSCRIPT_T) | \
                  (1u << TRANSCRIPT_W) | (1u << TRANSCRIPT_D))

/* insert_at adds a step at index |pos| (0..t->n). */
static int insert_at(transcript *t, size_t pos, transcript_kind kind, const void *p, size_t len) {
  if (transcript_add(t, kind, p, len) != 0)
    return MUTATE_ERR_NOMEM;
  transcript_step st = t->steps[t->n - 1];
  memmove(&t->steps[pos + 1], &t->steps[pos], (t->n - 1 - pos) * sizeof(*t->steps));
  t->steps[pos] = st;
  return MUTATE_APPLIED;
}

static void remove_at(transcript *t, size_t i) {
  free(t->steps[i].data);
  memmove(&t->steps[i], &t->steps[i + 1], (t->n - i - 1) * sizeof(*t->steps));
  t->n--;
}

/* replace_data gives step |i| a copy of |len| bytes (and kind |kind|). */
static int replace_data(transcript *t, size_t i, transcript_kind kind, const void *p,
                        size_t len) {
  if (len > TRANSCRIPT_STEP_MAX)
    return MUTATE_NOT_APPLICABLE;
  uint8_t *copy = malloc(len + 1);
  if (!copy)
    return MUTATE_ERR_NOMEM;
  if (len)
    memcpy(copy, p, len);
  copy[len] = 0;
  free(t->steps[i].data);
  t->steps[i].data = copy;
  t->steps[i].len = len;
  t->steps[i].kind = kind;
  return MUTATE_APPLIED;
}

/* splice_bytes replaces |del| bytes at |off| of step |i| by |ins|. */
static int splice_bytes(transcript *t, size_t i, size_t off, size_t del, const void *ins,
                        size_t ins_len) {
  transcript_step *st = &t->steps[i];
  if (off > st->len || del > st->len - off || st->len - del + ins_len > TRANSCRIPT_STEP_MAX)
    return MUTATE_NOT_APPLICABLE;
  size_t len = st->len - del + ins_len;
  uint8_t *buf = malloc(len + 1);
  if (!buf)
    return MUTATE_ERR_NOMEM;
  memcpy(buf, st->data, off);
  if (ins_len)
    memcpy(buf + off, ins, ins_len);
  memcpy(buf + off + ins_len, st->data + off + del, st->len - off - del);
  buf[len] = 0;
  free(st->data);
  st->data = buf;
  st->len = len;
  return MUTATE_APPLIED;
}

static size_t verb_len(const transcript_step *st) {
  size_t n = 0;
  while (n < st->len && st->data[n] != ' ' && st->data[n] != '\r' && st->data[n] != '\n')
    n++;
  return n;
}

static bool has_letter(const transcript_step *st) {
  for (size_t i = 0; i < st->len; i++)
    if ((st->data[i] | 0x20) >= 'a' && (st->data[i] | 0x20) <= 'z')
      return true;
  return false;
}

static bool is_auth(const transcript_step *st) {
  model_cmd cmd;
  size_t n = 0;
  while (n < st->len && st->data[n] != '\r' && st->data[n] != '\n')
    n++;
  model_classify_line(st->data, n, &cmd);
  return cmd.ev == MODEL_EV_AUTH_TLS || cmd.ev == MODEL_EV_AUTH_SSL;
}

static bool is_handshake(const transcript_step *st) {
  return st->kind == TRANSCRIPT_T && st->len == 9 && !memcmp(st->data, "handshake", 9);
}

static bool is_numeric_verb(const transcript_step *st) {
  static const char *const v[] = {"PORT", "EPRT", "REST", "PBSZ", "ALLO"};
  size_t n = verb_len(st);
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    if (n != 4)
      continue;
    size_t k = 0;
    while (k < 4 && (st->data[k] & 0xdf) == (uint8_t)v[i][k])
      k++;
    if (k == 4)
      return true;
  }
  return false;
}

/* --- sequence-level operators --- */

static int op_drop(transcript *t, gen_rng *rng) {
  long i = pick(t, rng, M_CLIENT, NULL);
  if (i < 0)
    return MUTATE_NOT_APPLICABLE;
  remove_at(t, (size_t)i);
  return MUTATE_APPLIED;
}

static int op_duplicate(transcript *t, gen_rng *rng) {
  long i = pick(t, rng, M_CLIENT, NULL);
  if (i < 0)
    return MUTATE_NOT_APPLICABLE;
  const transcript_step st = t->steps[i];
  return insert_at(t, (size_t)i + 1, st.kind, st.data, st.len);
}

static bool same_step(const transcript_step *a, const transcript_step *b) {
  return a->kind == b->kind && a->len == b->len && !memcmp(a->data, b->data, a->len);
}

static int op_swap(transcript *t, gen_rng *rng) {
  size_t idx[64], n = 0;
  for (size_t i = 0; i < t->n && n < 64; i++)
    if (is_client(t->steps[i].kind))
      idx[n++] = i;
  for (int tries = 0; n >= 2 && tries < 8; tries++) {
    size_t a = idx[gen_rng_below(rng, n)], b = idx[gen_rng_below(rng, n)];
    if (a == b || same_step(&t->steps[a], &t->steps[b]))
      continue;
    transcript_step tmp = t->steps[a];
    t->steps[a] = t->steps[b];
    t->steps[b] = tmp;
    return MUTATE_APPLIED;
  }
  return MUTATE_NOT_APPLICABLE;
}

/* op_splice keeps the policy of |t|: its policy steps go first and are
 * never cut, and |other|'s are left out (the policy changes only through
 * POLICY). */
static int op_splice(transcript *t, gen_rng *rng, const transcript *other) {
  if (!other || other->n == 0)
    return MUTATE_NOT_APPLICABLE;
  size_t lo = mutate_policy_to_front(t);
  size_t cut = lo + gen_rng_below(rng, t->n - lo + 1);
  size_t from = gen_rng_below(rng, other->n);
  while (t->n > cut)
    remove_at(t, t->n - 1);
  for (size_t i = from; i < other->n; i++) {
    const transcript_step *st = &other->steps[i];
    if ((!is_client(st->kind) && st->kind != TRANSCRIPT_COMMENT) || mutate_is_policy_step(st))
      continue;
    if (transcript_add(t, st->kind, st->data, st->len) != 0)
      return MUTATE_ERR_NOMEM;
  }
  return MUTATE_APPLIED;
}

/* after_step predicts the model state after step |s| from |st|: each
 * command line takes the outcome gen_predict expects of a conforming
 * server. */
static model_state after_step(const model_config *cfg, model_state st, const transcript_step *s) {
  model_event evs[16];
  size_t n = 0;
  if (s->kind == TRANSCRIPT_C) {
    size_t start = 0;
    for (size_t k = 0; k <= s->len && n < 16; k++) {
      if (k < s->len && s->data[k] != '\n')
        continue;
      size_t end = k;
      if (end > start && s->data[end - 1] == '\r')
        end--;
      model_cmd cmd;
      model_classify_line(s->data + start, end - start, &cmd);
      evs[n++] = cmd.ev;
      start = k + 1;
    }
  } else if (is_handshake(s)) {
    evs[n++] = MODEL_EV_TLS_OK;
  } else if (s->kind == TRANSCRIPT_T) {
    evs[n++] = MODEL_EV_TLS_CLOSE_NOTIFY;
  }
  for (size_t k = 0; k < n; k++) {
    gen_succ succ[GEN_SUCC_MAX];
    size_t ns = gen_successors(cfg, &st, evs[k], succ, GEN_SUCC_MAX);
    int p = gen_predict(succ, ns);
    if (p >= 0)
      st = succ[p].to;
  }
  return st;
}

/* state_at predicts the model state before step |pos| of |t|. */
static model_state state_at(const model_config *cfg, const transcript *t, size_t pos) {
  model_state st = model_initial();
  for (size_t i = 0; i < pos && i < t->n; i++)
    st = after_step(cfg, st, &t->steps[i]);
  return st;
}

/* first_client: the index after the leading comments (the config lines). */
static size_t first_client(const transcript *t) {
  size_t pos = 0;
  while (pos < t->n && t->steps[pos].kind == TRANSCRIPT_COMMENT)
    pos++;
  return pos;
}

static int op_insert_out_of_state(transcript *t, gen_rng *rng, const model_config *cfg) {
  size_t lo = first_client(t);
  size_t pos = lo + gen_rng_below(rng, t->n - lo + 1);
  model_state st = state_at(cfg, t, pos);
  size_t cand[256], n = 0;
  for (size_t i = 0; i < gen_action_count && n < 256; i++) {
    const gen_action *a = &gen_actions[i];
    if (a->n_cmd != 1 || (model_event_flags(a->ev) & MODEL_F_CONN) ||
        strncmp(a->text, "C: ", 3) != 0)
      continue;
    gen_succ succ[GEN_SUCC_MAX];
    size_t ns = gen_successors(cfg, &st, a->ev, succ, GEN_SUCC_MAX);
    int p = gen_predict(succ, ns);
    if (p < 0 || succ[p].code >= 400) /* refused, or not even read there */
      cand[n++] = i;
  }
  if (!n)
    return MUTATE_NOT_APPLICABLE;
  transcript a;
  transcript_init(&a);
  int rc = gen_action_append(cand[gen_rng_below(rng, n)], &a) == 0 && a.n > 0
               ? insert_at(t, pos, a.steps[0].kind, a.steps[0].data, a.steps[0].len)
               : MUTATE_ERR_NOMEM;
  transcript_cleanup(&a);
  return rc;
}

/* accepted: action |i| applies in |st| and a conforming server accepts it. */
static bool accepted(const model_config *cfg, size_t i, const model_state *st) {
  if (!gen_action_applies(cfg, i, st))
    return false;
  gen_succ succ[GEN_SUCC_MAX];
  size_t ns = gen_successors(cfg, st, gen_actions[i].ev, succ, GEN_SUCC_MAX);
  int p = gen_predict(succ, ns);
  return p >= 0 && succ[p].code < 400;
}

/* The actions accepted in a state, as a bit set, memoized per state: a
 * script visits few distinct states, and each costs a pass over the table. */
#define ACTIONS_MAX 256
typedef struct accept_set {
  model_state st;
  uint64_t bits[ACTIONS_MAX / 64];
} accept_set;

typedef struct accept_cache {
  accept_set e[32];
  size_t n;
  accept_set scratch;
} accept_cache;

static const accept_set *accepted_in(const model_config *cfg, accept_cache *c,
                                     const model_state *st) {
  for (size_t i = 0; i < c->n; i++)
    if (!memcmp(&c->e[i].st, st, sizeof(*st)))
      return &c->e[i];
  accept_set *a = c->n < sizeof(c->e) / sizeof(c->e[0]) ? &c->e[c->n++] : &c->scratch;
  memset(a, 0, sizeof(*a));
  a->st = *st;
  for (size_t i = 0; i < gen_action_count && i < ACTIONS_MAX; i++)
    if (accepted(cfg, i, st))
      a->bits[i / 64] |= 1ull << (i % 64);
  return a;
}

static bool has_bit(const accept_set *a, size_t i) { return (a->bits[i / 64] >> (i % 64)) & 1u; }

typedef struct insert_cand {
  uint32_t pos;
  uint16_t act;
} insert_cand;

/* op_insert_action inserts a generator action (all its steps: a transfer
 * brings its D: lines, CCC its close_notify) where the model predicts a
 * conforming server accepts it: the way a script reaches states its parts
 * never reached. Half the time it picks among the places where an action
 * is accepted only thanks to the state there (a download right after PASV,
 * RNTO right after RNFR): chosen blindly those are rare, and they are the
 * doors to the states the other actions cannot open. An inserted action
 * that opens such a door is followed, half the time, by one that uses it. */
static int op_insert_action(transcript *t, gen_rng *rng, const model_config *cfg) {
  enum { CAND_MAX = 1024 };
  accept_cache cache;
  insert_cand any[CAND_MAX], special[CAND_MAX];
  size_t n_any = 0, n_special = 0;
  size_t lo = first_client(t);
  model_state st = state_at(cfg, t, lo);
  cache.n = 0;
  for (size_t pos = lo; pos <= t->n; pos++) {
    const accept_set *here = accepted_in(cfg, &cache, &st);
    accept_set here_copy = *here; /* the next lookup may reuse the scratch slot */
    /* The same state without an offer, a pending RNFR or REST. */
    model_state plain = st;
    plain.data = MODEL_DATA_NONE;
    plain.rnfr = MODEL_NO;
    plain.rest = MODEL_NO;
    bool differs = memcmp(&plain, &st, sizeof(st)) != 0;
    const accept_set *base = differs ? accepted_in(cfg, &cache, &plain) : &here_copy;
    for (size_t i = 0; i < gen_action_count && i < ACTIONS_MAX; i++) {
      if (!has_bit(&here_copy, i))
        continue;
      if (n_any < CAND_MAX)
        any[n_any++] = (insert_cand){(uint32_t)pos, (uint16_t)i};
      if (n_special < CAND_MAX && !has_bit(base, i))
        special[n_special++] = (insert_cand){(uint32_t)pos, (uint16_t)i};
    }
    if (pos < t->n)
      st = after_step(cfg, st, &t->steps[pos]);
  }
  if (!n_any)
    return MUTATE_NOT_APPLICABLE;
  bool use_special = n_special > 0 && gen_rng_below(rng, 2) == 0;
  const insert_cand *c = use_special ? &special[gen_rng_below(rng, n_special)]
                                     : &any[gen_rng_below(rng, n_any)];
  model_state at = state_at(cfg, t, c->pos);
  transcript a;
  transcript_init(&a);
  int rc = gen_action_append(c->act, &a) == 0 ? MUTATE_APPLIED : MUTATE_ERR_NOMEM;
  for (size_t j = 0; j < a.n && rc == MUTATE_APPLIED; j++) {
    rc = insert_at(t, c->pos + j, a.steps[j].kind, a.steps[j].data, a.steps[j].len);
    at = after_step(cfg, at, &a.steps[j]);
  }
  size_t end = c->pos + a.n;
  transcript_cleanup(&a);
  /* An action that opens a door (PASV, RNFR, REST) is often walked
   * through at once: one of the actions only its state accepts follows. */
  model_state plain = at;
  plain.data = MODEL_DATA_NONE;
  plain.rnfr = MODEL_NO;
  plain.rest = MODEL_NO;
  if (rc != MUTATE_APPLIED || !memcmp(&plain, &at, sizeof(at)) || gen_rng_below(rng, 2) != 0)
    return rc;
  cache.n = 0;
  const accept_set *opened = accepted_in(cfg, &cache, &at);
  accept_set opened_copy = *opened;
  const accept_set *before = accepted_in(cfg, &cache, &plain);
  uint16_t next[ACTIONS_MAX];
  size_t n_next = 0;
  for (size_t i = 0; i < gen_action_count && i < ACTIONS_MAX; i++)
    if (has_bit(&opened_copy, i) && !has_bit(before, i))
      next[n_next++] = (uint16_t)i;
  if (n_next == 0)
    return rc;
  transcript_init(&a);
  if (gen_action_append(next[gen_rng_below(rng, n_next)], &a) != 0)
    rc = MUTATE_ERR_NOMEM;
  for (size_t j = 0; j < a.n && rc == MUTATE_APPLIED; j++)
    rc = insert_at(t, end + j, a.steps[j].kind, a.steps[j].data, a.steps[j].len);
  transcript_cleanup(&a);
  return rc;
}

static int op_merge(transcript *t, gen_rng *rng) {
  size_t starts[64], n = 0;
  for (size_t i = 0; i + 1 < t->n && n < 64; i++)
    if (t->steps[i].kind == TRANSCRIPT_C && t->steps[i + 1].kind == TRANSCRIPT_C)
      starts[n++] = i;
  if (!n)
    return MUTATE_NOT_APPLICABLE;
  size_t i = starts[gen_rng_below(rng, n)];
  size_t count = 2 + gen_rng_below(rng, 3); /* 2..4 commands in one write */
  for (size_t k = 1; k < count && i + 1 < t->n && t->steps[i + 1].kind == TRANSCRIPT_C; k++) {
    if (t->steps[i].len + 2 + t->steps[i + 1].len > TRANSCRIPT_STEP_MAX)
      break;
    if (gen_merge_into(&t->steps[i], &t->steps[i + 1]) != 0)
      return MUTATE_ERR_NOMEM;
    remove_at(t, i + 1);
  }
  return MUTATE_APPLIED;
}

static int op_split(transcript *t, gen_rng *rng) {
  long i = pick(t, rng, M_C, NULL);
  if (i < 0 || t->steps[i].len + 2 > TRANSCRIPT_STEP_MAX)
    return MUTATE_NOT_APPLICABLE;
  transcript_step *st = &t->steps[i];
  size_t cut = st->len ? 1 + gen_rng_below(rng, st->len) : 0; /* 1..len */
  int rc = insert_at(t, (size_t)i + 1, TRANSCRIPT_R, st->data + cut, st->len - cut);
  if (rc != MUTATE_APPLIED)
    return rc;
  rc = splice_bytes(t, (size_t)i + 1, t->steps[i + 1].len, 0, "\r\n", 2);
  if (rc != MUTATE_APPLIED)
    return rc;
  t->steps[i].kind = TRANSCRIPT_R;
  t->steps[i].len = cut; /* the buffer keeps its NUL-terminated tail: cut it */
  t->steps[i].data[cut] = 0;
  return MUTATE_APPLIED;
}

static const char *const after_234[] = {
    "NOOP\r\n", "USER alice\r\n", "PASS wonderland\r\n", "500 OOPS\r\n", "\r\n",
    "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", "GET / HTTP/1.0\r\n\r\n",
};

static int op_bytes_after_234(transcript *t, gen_rng *rng) {
  uint8_t junk[32];
  const uint8_t *p;
  size_t len;
  if (gen_rng_below(rng, 3) == 0) {
    len = 1 + gen_rng_below(rng, sizeof(junk));
    for (size_t k = 0; k < len; k++)
      junk[k] = (uint8_t)gen_rng_next(rng);
    p = junk;
  } else {
    const char *s = after_234[gen_rng_below(rng, sizeof(after_234) / sizeof(after_234[0]))];
    p = (const uint8_t *)s;
    len = s[0] == '\x16' ? 10 : strlen(s);
  }
  long i = pick(t, rng, M_C, is_auth);
  if (i >= 0)
    return insert_at(t, (size_t)i + 1, TRANSCRIPT_R, p, len);
  /* no AUTH yet: add AUTH TLS, the bytes and a handshake at the start */
  size_t pos = first_client(t);
  int rc = insert_at(t, pos, TRANSCRIPT_T, "handshake", 9);
  if (rc == MUTATE_APPLIED)
    rc = insert_at(t, pos, TRANSCRIPT_R, p, len);
  if (rc == MUTATE_APPLIED)
    rc = insert_at(t, pos, TRANSCRIPT_C, "AUTH TLS", 8);
  return rc;
}

static int op_truncate_handshake(transcript *t, gen_rng *rng) {
  long i = pick(t, rng, 1u << TRANSCRIPT_T, is_handshake);
  if (i < 0)
    return MUTATE_NOT_APPLICABLE;
  if (gen_rng_below(rng, 2) == 0) {
    remove_at(t, (size_t)i);
    return MUTATE_APPLIED;
  }
  /* The start of a ClientHello record (TLS record header, handshake type 1,
   * a 24-bit length, client_version, random...) cut short. */
  static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc,
                                  0x03, 0x03, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a};
  size_t len = 1 + gen_rng_below(rng, sizeof(hello));
  return insert_at(t, (size_t)i, TRANSCRIPT_R, hello, len);
}

/* --- line-level operators (on one C: step) --- */

static int op_case(transcript *t, gen_rng *rng) {
  long i = pick(t, rng, M_C, has_letter);
  if (i < 0)
    return MUTATE_NOT_APPLICABLE;
  transcript_step *st = &t->steps[i];
  size_t letters = 0, flipped = 0;
  for (size_t k = 0; k < st->len; k++)
    letters += ((st->data[k] | 0x20) >= 'a' && (st->data[k] | 0x20) <= 'z') ? 1 : 0;
  size_t must = gen_rng_below(rng, letters); /* at least this one flips */
  for (size_t k = 0, l = 0; k < st->len; k++) {
    uint8_t c = st->data[k];
    if ((c | 0x20) < 'a' || (c | 0x20) > 'z')
      continue;
    if (l++ == must || gen_rng_below(rng, 2)) {
      st->data[k] = c ^ 0x20;
      flipped++;
    }
  }
  return flipped ? MUTATE_APPLIED : MUTATE_NOT_APPLICABLE;
}

static int op_spacing(transcript *t, gen_rng *rng) {
  long i = pick(t, rng, M_C, NULL);
  if (i < 0)
    return MUTATE_NOT_APPLICABLE;
  transcript_step *st = &t->steps[i];
  size_t v = verb_len(st);
  switch (gen_rng_below(rng, 5)) {
  case 0: return splice_bytes(t, (size_t)i, 0, 0, " ", 1);          /* leading space */
  case 1: return splice_bytes(t, (size_t)i, st->len, 0, " ", 1);    /* trailing space */
  case 2: return splice_bytes(t, (size_t)i, v, 0, "  ", 2);         /* extra spaces */
  case 3:                                                           /* tab for space */
    if (v < st->len && st->data[v] == ' ')
      return splice_bytes(t, (size_t)i, v, 1, "\t", 1);
    return splice_bytes(t, (size_t)i, v, 0, "\t", 1);
  default:                                                          /* no space */
    if (v < st->len && st->data[v] == ' ')
      return splice_bytes(t, (size_t)i, v, 1, NULL, 0);
    return splice_bytes(t, (size_t)i, v, 0, " ", 1);
  }
}

static int op_overlong(transcript *t, gen_rng *rng) {
  /* around our server's 2048, the model's MODEL_LINE_MAX and beyond */
  static const size_t sizes[] = {2047, 2048, 2049, MODEL_LINE_MAX, MODEL_LINE_MAX + 1, 9000};
  long i = pick(t, rng, M_C, NULL);
  if (i < 0)
    return MUTATE_NOT_APPLICABLE;
  size_t target = sizes[gen_rng_below(rng, sizeof(sizes) / sizeof(sizes[0]))];
  size_t len = t->steps[i].len;
  size_t add = target > len ? target - len : 1;
  uint8_t *fill = malloc(add);
  if (!fill)
    return MUTATE_ERR_NOMEM;
  memset(fill, 'A', add);
  int rc = splice_bytes(t, (size_t)i, len, 0, fill, add);
  free(fill);
  return rc;
}

static int op_nul(transcript *t, gen_rng *rng) {
  long i = pick(t, rng, M_C, NULL);
  if (i < 0)
    return MUTATE_NOT_APPLICABLE;
  size_t off = gen_rng_below(rng, t->steps[i].len + 1);
  return splice_bytes(t, (size_t)i, off, 0, "\0", 1);
}

static int op_bare_lf(transcript *t, gen_rng *rng) {
  long i = pick(t, rng, M_C, NULL);
  if (i < 0)
    return MUTATE_NOT_APPLICABLE;
  transcript_step *st = &t->steps[i];
  /* a pipelined write: turn its first CRLF into LF; else write the line
   * raw with a bare LF instead of the runner's CRLF */
  for (size_t k = 0; k + 1 < st->len; k++)
    if (st->data[k] == '\r' && st->data[k + 1] == '\n')
      return splice_bytes(t, (size_t)i, k, 1, NULL, 0);
  int rc = splice_bytes(t, (size_t)i, st->len, 0, "\n", 1);
  if (rc == MUTATE_APPLIED)
    t->steps[i].kind = TRANSCRIPT_R;
  return rc;
}

static int op_iac(transcript *t, gen_rng *rng) {
  /* RFC 959 4.1.3 / RFC 854: IAC IP IAC DM (the ABOR prelude), an escaped
   * 0xff, option negotiation, and a lone IAC */
  static const struct {
    const char *b;
    size_t n;
  } seq[] = {{"\xff\xf4\xff\xf2", 4}, {"\xff\xff", 2}, {"\xff\xfb\x01", 3},
             {"\xff\xfd\x03", 3},     {"\xff", 1},     {"\xff\xf4", 2}};
  long i = pick(t, rng, M_C, NULL);
  if (i < 0)
    return MUTATE_NOT_APPLICABLE;
  size_t k = gen_rng_below(rng, sizeof(seq) / sizeof(seq[0]));
  size_t off = gen_rng_below(rng, t->steps[i].len + 1);
  return splice_bytes(t, (size_t)i, off, 0, seq[k].b, seq[k].n);
}

static const char *const verbs[] = {
    "USER", "PASS", "ACCT", "CWD",  "CDUP", "SMNT", "REIN", "QUIT", "PORT", "PASV", "TYPE",
    "STRU", "MODE", "RETR", "STOR", "STOU", "APPE", "ALLO", "REST", "RNFR", "RNTO", "ABOR",
    "DELE", "RMD",  "MKD",  "PWD",  "LIST", "NLST", "SITE", "SYST", "STAT", "HELP", "NOOP",
    "AUTH", "ADAT", "PBSZ", "PROT", "CCC",  "MIC",  "CONF", "ENC",  "FEAT", "OPTS", "EPRT",
    "EPSV", "MLST", "MLSD", "SIZE", "MDTM", "XCWD", "XPWD", "XMKD", "XRMD", "XCUP", "LANG",
};
static const char *const args[] = {
    "TLS",  "SSL",        "TLS-C",          "TLS-P",  "P",           "C",       "S",
    "E",    "0",          "alice",          "wonderland", "anonymous", "ftp",   "/",
    "/pub", "/pub/hello.txt", "/upload/",   "../../../etc/passwd", "%s%s%n", "*",
    "ALL",  "UTF8 ON",    "A",              "I",      "L 8",         ".",       "~",
};

static int op_token(transcript *t, gen_rng *rng) {
  long i = pick(t, rng, M_C, NULL);
  if (i < 0)
    return MUTATE_NOT_APPLICABLE;
  transcript_step *st = &t->steps[i];
  size_t v = verb_len(st);
  if (gen_rng_below(rng, 2) == 0) {
    const char *w = verbs[gen_rng_below(rng, sizeof(verbs) / sizeof(verbs[0]))];
    return splice_bytes(t, (size_t)i, 0, v, w, strlen(w));
  }
  const char *a = args[gen_rng_below(rng, sizeof(args) / sizeof(args[0]))];
  size_t end = v;
  while (end < st->len && st->data[end] != '\r' && st->data[end] != '\n')
    end++;
  uint8_t buf[64];
  size_t n = strlen(a);
  buf[0] = ' ';
  memcpy(buf + 1, a, n);
  return splice_bytes(t, (size_t)i, v, end - v, buf, n + 1);
}

static int op_numeric(transcript *t, gen_rng *rng) {
  static const char *const nums[] = {
      "0", "-1", "1", "2147483647", "2147483648", "4294967295", "4294967296",
      "18446744073709551615", "18446744073709551616", "99999999999999999999999999", "00000001",
      "+5", "0x10", "1e9", ""};
  static const char *const ports[] = {
      "256,0,0,1,4,1", "127,0,0,1,255,255", "127,0,0,1,0,0", "1,2,3,4,5", "127,0,0,1,4,1,7",
      "-1,0,0,1,4,1", "4294967297,0,0,1,4,1", "127,0,0,1,4,256", ",,,,,", "0,0,0,0,0,0"};
  static const char *const eprts[] = {"|1|127.0.0.1|0|", "|1|127.0.0.1|65536|",
                                      "|2|::1|1025|", "|1|999.0.0.1|1025|", "||||",
                                      "|1|127.0.0.1|-1|"};
  long i = pick(t, rng, M_C, is_numeric_verb);
  char verb[5];
  if (i < 0) {
    static const char *const which[] = {"PORT", "EPRT", "REST", "PBSZ", "ALLO"};
    const char *w = which[gen_rng_below(rng, 5)];
    size_t pos = first_client(t);
    pos += gen_rng_below(rng, t->n - pos + 1);
    int rc = insert_at(t, pos, TRANSCRIPT_C, w, 4);
    if (rc != MUTATE_APPLIED)
      return rc;
    i = (long)pos;
  }
  for (size_t k = 0; k < 4; k++)
    verb[k] = (char)(t->steps[i].data[k] & 0xdf);
  verb[4] = 0;
  const char *a;
  if (!strcmp(verb, "PORT"))
    a = ports[gen_rng_below(rng, sizeof(ports) / sizeof(ports[0]))];
  else if (!strcmp(verb, "EPRT"))
    a = eprts[gen_rng_below(rng, sizeof(eprts) / sizeof(eprts[0]))];
  else
    a = nums[gen_rng_below(rng, sizeof(nums) / sizeof(nums[0]))];
  char line[64];
  size_t n = (size_t)snprintf(line, sizeof(line), "%s %s", verb, a);
  return replace_data(t, (size_t)i, TRANSCRIPT_C, line, n);
}

int mutate_apply(transcript *t, mutate_op op, gen_rng *rng, const transcript *other,
                 const model_config *cfg) {
  model_policy pol = model_policy_default();
  model_config dflt = model_config_make(MODEL_PROFILE_DEFAULT, &pol);
  if (!cfg)
    cfg = &dflt;
  switch (op) {
  case MUTATE_DROP: return op_drop(t, rng);
  case MUTATE_DUPLICATE: return op_duplicate(t, rng);
  case MUTATE_SWAP: return op_swap(t, rng);
  case MUTATE_SPLICE: return op_splice(t, rng, other);
  case MUTATE_INSERT_OUT_OF_STATE: return op_insert_out_of_state(t, rng, cfg);
  case MUTATE_INSERT_ACTION: return op_insert_action(t, rng, cfg);
  case MUTATE_MERGE: return op_merge(t, rng);
  case MUTATE_SPLIT: return op_split(t, rng);
  case MUTATE_BYTES_AFTER_234: return op_bytes_after_234(t, rng);
  case MUTATE_TRUNCATE_HANDSHAKE: return op_truncate_handshake(t, rng);
  case MUTATE_CASE: return op_case(t, rng);
  case MUTATE_SPACING: return op_spacing(t, rng);
  case MUTATE_OVERLONG: return op_overlong(t, rng);
  case MUTATE_NUL: return op_nul(t, rng);
  case MUTATE_BARE_LF: return op_bare_lf(t, rng);
  case MUTATE_IAC: return op_iac(t, rng);
  case MUTATE_TOKEN: return op_token(t, rng);
  case MUTATE_NUMERIC: return op_numeric(t, rng);
  case MUTATE_PATH: return mutate_op_path(t, rng);
  case MUTATE_POLICY: return mutate_op_policy(t, rng);
  case MUTATE_OP_COUNT: break;
  }
  return MUTATE_NOT_APPLICABLE;
}

/* apply_random applies 1..4 random operators with |rng|; the model-aware
 * ones consult the policy the script runs under. */
static int apply_random(transcript *t, gen_rng *rng, const transcript *other) {
  size_t want = 1 + gen_rng_below(rng, 4), done = 0;
  model_policy mp = mutate_script_policy(t);
  model_config cfg = model_config_make(MODEL_PROFILE_DEFAULT, &mp);
  for (size_t tries = 0; done < want && tries < want * 8; tries++) {
    mutate_op op = (mutate_op)gen_rng_below(rng, MUTATE_OP_COUNT);
    int rc = mutate_apply(t, op, rng, other, &cfg);
    if (rc == MUTATE_ERR_NOMEM)
      return -1;
    if (rc == MUTATE_APPLIED)
      done++;
    if (rc == MUTATE_APPLIED && op == MUTATE_POLICY) {
      mp = mutate_script_policy(t);
      cfg = model_config_make(MODEL_PROFILE_DEFAULT, &mp);
    }
  }
  return (int)done;
}

int mutate_transcript(transcript *t, uint64_t seed, const transcript *other) {
  gen_rng rng;
  gen_rng_seed(&rng, seed);
  return apply_random(t, &rng, other);
}

int mutate_minimal(transcript *t) {
  static const char text[] = "C: AUTH TLS\nT: handshake\nC: USER alice\nC: PASS wonderland\n"
                             "C: PBSZ 0\nC: PROT P\nC: QUIT\n";
  char err[128];
  return transcript_parse_text(t, text, sizeof(text) - 1, "mutate_minimal", err, sizeof(err)) ==
                 0
             ? 0
             : -1;
}

/* load decodes |data| keeping client steps and comments; the minimal script
 * if it does not decode (or holds no client step). Returns 0 or -1. */
static int load(transcript *t, const uint8_t *data, size_t size) {
  transcript raw;
  char err[128];
  transcript_init(&raw);
  int rc = 0;
  bool any = false;
  if (transcript_decode_binary(&raw, data, size, err, sizeof(err)) == 0) {
    for (size_t i = 0; rc == 0 && i < raw.n; i++) {
      const transcript_step *st = &raw.steps[i];
      if (!is_client(st->kind) && st->kind != TRANSCRIPT_COMMENT)
        continue;
      any |= is_client(st->kind);
      rc = transcript_add(t, st->kind, st->data, st->len);
    }
  }
  transcript_cleanup(&raw);
  if (rc == 0 && !any) {
    transcript_cleanup(t);
    rc = mutate_minimal(t);
  }
  return rc;
}

/* store encodes |t| into |out| if it fits in |max|. Returns the size, or
 * SIZE_MAX if it does not fit or memory ran out. */
/* cap_steps drops everything after the MUTATE_CLIENT_STEPS_MAX-th client
 * step. */
static void cap_steps(transcript *t) {
  size_t client = 0;
  for (size_t i = 0; i < t->n; i++) {
    if (!is_client(t->steps[i].kind) || ++client <= MUTATE_CLIENT_STEPS_MAX)
      continue;
    while (t->n > i)
      remove_at(t, t->n - 1);
    return;
  }
}

static size_t store(transcript *t, uint8_t *out, size_t max) {
  cap_steps(t);
  uint8_t *enc = NULL;
  size_t len = 0;
  if (transcript_encode_binary(t, &enc, &len) != 0) {
    free(enc);
    return SIZE_MAX;
  }
  size_t rc = SIZE_MAX;
  if (len <= max) {
    if (len)
      memcpy(out, enc, len);
    rc = len;
  }
  free(enc);
  return rc;
}

/* fallback writes the minimal script if it fits, else nothing (an empty
 * transcript: 0 bytes, which decodes). */
static size_t fallback(uint8_t *out, size_t max) {
  transcript t;
  transcript_init(&t);
  size_t n = mutate_minimal(&t) == 0 ? store(&t, out, max) : SIZE_MAX;
  transcript_cleanup(&t);
  return n == SIZE_MAX ? 0 : n;
}

size_t mutate_binary(uint8_t *data, size_t size, size_t max_size, unsigned seed) {
  gen_rng rng;
  gen_rng_seed(&rng, seed);
  for (int attempt = 0; attempt < 4; attempt++) {
    transcript t;
    transcript_init(&t);
    size_t n = SIZE_MAX;
    if (load(&t, data, size) == 0 && apply_random(&t, &rng, NULL) >= 0)
      n = store(&t, data, max_size);
    transcript_cleanup(&t);
    if (n != SIZE_MAX)
      return n;
  }
  return fallback(data, max_size);
}

size_t mutate_crossover(const uint8_t *data1, size_t size1, const uint8_t *data2, size_t size2,
                        uint8_t *out, size_t max_out, unsigned seed) {
  gen_rng rng;
  gen_rng_seed(&rng, seed);
  for (int attempt = 0; attempt < 4; attempt++) {
    transcript a, b;
    transcript_init(&a);
    transcript_init(&b);
    size_t n = SIZE_MAX;
    if (load(&a, data1, size1) == 0 && load(&b, data2, size2) == 0 &&
        op_splice(&a, &rng, &b) == MUTATE_APPLIED)
      n = store(&a, out, max_out);
    transcript_cleanup(&a);
    transcript_cleanup(&b);
    if (n != SIZE_MAX)
      return n;
  }
  return fallback(out, max_out);
}
