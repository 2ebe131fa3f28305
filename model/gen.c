/* gen.c - the generator's building blocks (actions, the successor relation,
 * script sets, the PRNG) and random walks. The cover search is gen_cover.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "gen_internal.h"

/* --- PRNG: splitmix64 (Steele, Lea, Flood 2014); no rand(), no global --- */

void gen_rng_seed(gen_rng *r, uint64_t seed) { r->s = seed; }

uint64_t gen_rng_next(gen_rng *r) {
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

size_t gen_rng_below(gen_rng *r, size_t n) {
  return n ? (size_t)(gen_rng_next(r) % (uint64_t)n) : 0;
}

/* --- sets of scripts --- */

void gen_set_init(gen_set *s) {
  s->items = NULL;
  s->n = 0;
  s->cap = 0;
}

void gen_set_cleanup(gen_set *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->n; i++)
    transcript_cleanup(&s->items[i]);
  free(s->items);
  gen_set_init(s);
}

int gen_copy_steps(transcript *dst, const transcript *src) {
  for (size_t i = 0; i < src->n; i++)
    if (transcript_add(dst, src->steps[i].kind, src->steps[i].data, src->steps[i].len) != 0)
      return -1;
  return 0;
}

int gen_set_add(gen_set *s, const transcript *t) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    transcript *items = realloc(s->items, cap * sizeof(*items));
    if (!items)
      return -1;
    s->items = items;
    s->cap = cap;
  }
  transcript *dst = &s->items[s->n];
  transcript_init(dst);
  if (gen_copy_steps(dst, t) != 0) {
    transcript_cleanup(dst);
    return -1;
  }
  s->n++;
  return 0;
}

/* --- actions: each model event made concrete for the built-in test
 * configuration (DESIGN section 7: alice/wonderland, /pub/hello.txt,
 * /upload/). Variants of one event exist where the server's choice of row
 * depends on the argument (PASS right or wrong, REST numeric or not). --- */

#define DN (1u << MODEL_DATA_NONE)
#define DP (1u << MODEL_DATA_PASSIVE)
#define DA (1u << MODEL_DATA_ACTIVE)
#define A(ev, text, n, dm, fl) {MODEL_EV_##ev, text, n, dm, fl, -1}
/* A multi-command action played in every state it applies to until it
 * takes row |goal|: played once, it could spend itself where another row
 * answers first (REST then RETR at PROT C is a 522, not the 554 wanted). */
#define ONCE_FOR(goal, ev, text, n, dm, fl) \
  {MODEL_EV_##ev, text, n, dm, (fl) | GEN_A_ONCE, MODEL_ROW_##goal}

/* Transfers on a passive connection: connect first (DESIGN section 4:
 * "D: open" opens the connection last offered), then the command; the server
 * closes after a download, the client after an upload. */
#define XFER_GET(ev, cmd) A(ev, "C: " cmd "\n", 1, DN | DA, 0), \
                          A(ev, "D: open\nC: " cmd "\n", 1, DP, 0)
#define XFER_PUT(ev, cmd) A(ev, "C: " cmd "\n", 1, DN | DA, 0), \
                          A(ev, "D: open\nC: " cmd "\nD: send hello\\n\nD: close\n", 1, DP, 0)

const gen_action gen_actions[] = {
    A(USER, "C: USER alice\n", 1, 0, 0),
    A(USER, "C: USER\n", 1, 0, 0),
    A(USER_ANON, "C: USER anonymous\n", 1, 0, 0),
    A(PASS, "C: PASS wonderland\n", 1, 0, 0),
    A(PASS, "C: PASS not-the-password\n", 1, 0, 0),
    /* the server's failed-login limit is state the model does not hold */
    ONCE_FOR(GEN_421, USER,
             "C: USER alice\nC: PASS bad1\nC: USER alice\nC: PASS bad2\nC: USER alice\n"
             "C: PASS bad3\n", 6, 0, GEN_A_NOWALK),
    A(ACCT, "C: ACCT none\n", 1, 0, 0),
    A(CWD, "C: CWD /pub\n", 1, 0, 0),
    A(CDUP, "C: CDUP\n", 1, 0, 0),
    A(SMNT, "C: SMNT /pub\n", 1, 0, 0),
    A(REIN, "C: REIN\n", 1, 0, 0),
    A(QUIT, "C: QUIT\n", 1, 0, GEN_A_TERMINAL),
    A(PORT, "C: PORT 127,0,0,1,4,1\n", 1, 0, 0),
    A(PORT, "C: PORT 1,2,3\n", 1, 0, 0),
    A(PASV, "C: PASV\n", 1, 0, 0),
    A(TYPE, "C: TYPE I\n", 1, 0, 0),
    A(STRU, "C: STRU F\n", 1, 0, 0),
    A(MODE, "C: MODE S\n", 1, 0, 0),
    XFER_GET(RETR, "RETR /pub/hello.txt"),
    XFER_PUT(STOR, "STOR /upload/new.txt"),
    XFER_PUT(STOU, "STOU"),
    XFER_PUT(APPE, "APPE /upload/new.txt"),
    A(ALLO, "C: ALLO 10\n", 1, 0, 0),
    A(REST, "C: REST 0\n", 1, 0, 0),
    A(REST, "C: REST x\n", 1, 0, 0),
    /* REST past the end of the file: the offset is state the model does not
     * hold, so REST and RETR go together; RETR gets 554 (RFC 3659 5.3). */
    ONCE_FOR(GEN_REST_554, REST, "C: REST 1000000\nD: open\nC: RETR /pub/hello.txt\n", 2, DP, 0),
    A(RNFR, "C: RNFR /pub/hello.txt\n", 1, 0, 0),
    A(RNFR, "C: RNFR /pub/missing.txt\n", 1, 0, 0),
    A(RNTO, "C: RNTO /pub/renamed.txt\n", 1, 0, 0),
    A(ABOR, "C: ABOR\n", 1, 0, 0),
    A(DELE, "C: DELE /upload/missing.txt\n", 1, 0, 0),
    A(RMD, "C: RMD /upload/missing\n", 1, 0, 0),
    A(MKD, "C: MKD /upload/dir\n", 1, 0, 0),
    A(PWD, "C: PWD\n", 1, 0, 0),
    XFER_GET(LIST, "LIST /pub"),
    XFER_GET(NLST, "NLST /pub"),
    A(SITE, "C: SITE HELP\n", 1, 0, 0),
    A(SYST, "C: SYST\n", 1, 0, 0),
    A(STAT, "C: STAT\n", 1, 0, 0),
    A(STAT, "C: STAT /pub/missing.txt\n", 1, 0, 0),
    A(HELP, "C: HELP\n", 1, 0, 0),
    A(NOOP, "C: NOOP\n", 1, 0, 0),
    A(AUTH_TLS, "C: AUTH TLS\n", 1, 0, 0),
    /* a command pipelined behind AUTH is the start of the TLS stream
     * (NO_PIPELINED_INJECTION): never executed. No T: handshake after it: if
     * AUTH is refused there is nothing to shake hands with. */
    A(AUTH_TLS, "C: AUTH TLS\\r\\nUSER alice\n", 1, 0, GEN_A_TERMINAL | GEN_A_NOWALK),
    A(AUTH_SSL, "C: AUTH SSL\n", 1, 0, 0),
    A(AUTH_OTHER, "C: AUTH KERBEROS_V4\n", 1, 0, 0),
    A(AUTH_NOARG, "C: AUTH\n", 1, 0, 0),
    A(ADAT, "C: ADAT AAAA\n", 1, 0, 0),
    A(PBSZ, "C: PBSZ 0\n", 1, 0, 0),
    A(PBSZ, "C: PBSZ x\n", 1, 0, 0),
    A(PROT_C, "C: PROT C\n", 1, 0, 0),
    A(PROT_P, "C: PROT P\n", 1, 0, 0),
    A(PROT_S, "C: PROT S\n", 1, 0, 0),
    A(PROT_E, "C: PROT E\n", 1, 0, 0),
    A(PROT_OTHER, "C: PROT X\n", 1, 0, 0),
    /* after 200 both sides end TLS (RFC 4217 section 12.3) */
    A(CCC, "C: CCC\nT: close_notify\n", 1, 0, 0),
    A(MIC, "C: MIC AAAA\n", 1, 0, 0),
    A(CONF, "C: CONF AAAA\n", 1, 0, 0),
    A(ENC, "C: ENC AAAA\n", 1, 0, 0),
    A(FEAT, "C: FEAT\n", 1, 0, 0),
    A(OPTS, "C: OPTS UTF8 ON\n", 1, 0, 0),
    A(EPRT, "C: EPRT |1|127.0.0.1|1025|\n", 1, 0, 0),
    A(EPRT, "C: EPRT |9|x|\n", 1, 0, 0),
    A(EPSV, "C: EPSV\n", 1, 0, 0),
    A(EPSV_ALL, "C: EPSV ALL\n", 1, 0, 0),
    A(MLST, "C: MLST /pub/hello.txt\n", 1, 0, 0),
    XFER_GET(MLSD, "MLSD /pub"),
    A(SIZE, "C: SIZE /pub/hello.txt\n", 1, 0, 0),
    A(MDTM, "C: MDTM /pub/hello.txt\n", 1, 0, 0),
    A(UNKNOWN, "C: XYZZY\n", 1, 0, 0),
    A(BADLINE, "C: 1234\n", 1, 0, 0),
    A(TLS_OK, "T: handshake\n", 0, 0, 0),
    /* one byte of a handshake record: the server rejects the ClientHello
     * that follows it and closes */
    A(TLS_FAIL, "R: \\x16\nT: handshake\n", 0, 0, GEN_A_TERMINAL | GEN_A_NOWALK),
    A(TLS_CLOSE_NOTIFY, "T: close_notify\n", 0, 0, 0),
};
const size_t gen_action_count = sizeof(gen_actions) / sizeof(gen_actions[0]);

#undef A
#undef ONCE_FOR
#undef XFER_GET
#undef XFER_PUT

int gen_action_append(size_t i, transcript *dst) {
  char err[256];
  if (i >= gen_action_count)
    return -1;
  const char *text = gen_actions[i].text;
  return transcript_parse_text(dst, text, strlen(text), "gen_actions", err, sizeof(err)) == 0
             ? 0
             : -1;
}

/* --- the successor relation --- */

size_t gen_state_index(const model_state *st) {
  const uint8_t v[10] = {st->sec, st->login, st->anon, st->pbsz, st->prot,
                         st->data, st->rnfr, st->rest, st->ccc, st->close};
  static const uint8_t radix[10] = {3, 3, 2, 2, 2, 3, 2, 2, 2, 3};
  size_t idx = 0;
  for (size_t i = 0; i < 10; i++) {
    uint8_t d = (v[i] >= 1 && v[i] <= radix[i]) ? (uint8_t)(v[i] - 1) : 0;
    idx = idx * radix[i] + d;
  }
  return idx;
}

static bool succ_has_row(const gen_succ *out, size_t n, int row) {
  for (size_t i = 0; i < n; i++)
    if (out[i].row == row)
      return true;
  return false;
}

/* succ_add takes allowed |code| (100..599, others ignored) among the enabled
 * rows |en| and appends the successor unless its row is already there or
 * |out| is full. Returns the new count. */
static size_t succ_add(gen_succ *out, size_t n, size_t max, const uint16_t *en, size_t n_en,
                       const model_state *st, model_event ev, unsigned code, bool after_pre) {
  if (code < 100 || code >= 600)
    return n;
  model_state to = *st;
  int row = model_take_among(en, n_en, &to, ev, code, after_pre);
  if (row < 0 || succ_has_row(out, n, row) || n == max)
    return n;
  out[n].row = row;
  out[n].code = code;
  out[n].to = to;
  return n + 1;
}

size_t gen_successors(const model_config *cfg, const model_state *st, model_event ev,
                      gen_succ *out, size_t max) {
  size_t n = 0;
  if ((unsigned)ev >= MODEL_EV_COUNT || ev == MODEL_EV_GREETING)
    return 0;
  if (model_event_flags(ev) & MODEL_F_CONN) {
    model_state to = *st;
    int row = model_take(cfg, &to, ev, 0, false);
    if (row >= 0 && max > 0) {
      out[0].row = row;
      out[0].code = 0;
      out[0].to = to;
      n = 1;
    }
    return n;
  }
  model_codes fin, after;
  if (!model_allowed(cfg, st, ev, NULL, &fin, &after))
    return 0;
  /* Every code below is allowed: take it among the rows enabled here, found
   * once (model_take would judge the state again for each of them). */
  uint16_t en[MODEL_ROW_COUNT];
  size_t n_en = model_enabled_rows(cfg, st, ev, en);
  for (int pass = 0; pass < 2; pass++) {
    const model_codes *set = pass ? &after : &fin;
    /* The set's codes in ascending order, word by word (a test of each of
     * 500 codes was a third of the mutator under sanitizers). */
    for (unsigned w = 0; w < sizeof(set->bits) / sizeof(set->bits[0]); w++)
      for (uint64_t left = set->bits[w]; left != 0; left &= left - 1)
        n = succ_add(out, n, max, en, n_en, st, ev, w * 64 + (unsigned)__builtin_ctzll(left),
                     pass == 1);
  }
  return n;
}

int gen_predict(const gen_succ *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i].code < 400)
      return (int)i;
  return n ? 0 : -1;
}

bool gen_action_applies(const model_config *cfg, size_t i, const model_state *st) {
  const gen_action *a = &gen_actions[i];
  if (a->data_mask && !((a->data_mask >> st->data) & 1u))
    return false;
  gen_succ s[GEN_SUCC_MAX];
  return gen_successors(cfg, st, a->ev, s, GEN_SUCC_MAX) > 0;
}

long gen_model_reachable(const model_config *cfg, bool *out) {
  uint8_t *seen = calloc(GEN_STATE_COUNT, 1);
  model_state *queue = malloc(GEN_STATE_COUNT * sizeof(*queue));
  long count = -1;
  if (!seen || !queue)
    goto out;
  memset(out, 0, MODEL_ROW_COUNT * sizeof(*out));
  size_t qh = 0, qt = 0;
  model_state s0 = model_initial();
  queue[qt++] = s0;
  seen[gen_state_index(&s0)] = 1;
  out[MODEL_ROW_GREETING] = true; /* the connection itself */
  while (qh < qt) {
    model_state s = queue[qh++];
    for (unsigned e = 0; e < MODEL_EV_COUNT; e++) {
      gen_succ succ[GEN_SUCC_MAX];
      size_t n = gen_successors(cfg, &s, (model_event)e, succ, GEN_SUCC_MAX);
      for (size_t k = 0; k < n; k++) {
        out[succ[k].row] = true;
        size_t idx = gen_state_index(&succ[k].to);
        if (!seen[idx] && qt < GEN_STATE_COUNT) {
          seen[idx] = 1;
          queue[qt++] = succ[k].to;
        }
      }
    }
  }
  count = 0;
  for (size_t r = 0; r < MODEL_ROW_COUNT; r++)
    count += out[r] ? 1 : 0;
out:
  free(seen);
  free(queue);
  return count;
}

void gen_policy_comment(const model_policy *p, char *buf, size_t buf_len) {
  snprintf(buf, buf_len, " config: tls_login=%s tls_data=%s anonymous=%s ccc=%s",
           p->tls_login ? "on" : "off", p->tls_data ? "on" : "off", p->anon ? "on" : "off",
           p->ccc ? "on" : "off");
}

/* --- random walks --- */

#define WALK_LEN_MIN 3u
#define WALK_LEN_SPAN 28u

int gen_merge_into(transcript_step *prev, const transcript_step *cmd) {
  size_t len = prev->len + 2 + cmd->len;
  uint8_t *buf = malloc(len + 1);
  if (!buf)
    return -1;
  memcpy(buf, prev->data, prev->len);
  memcpy(buf + prev->len, "\r\n", 2);
  memcpy(buf + prev->len + 2, cmd->data, cmd->len);
  buf[len] = 0;
  free(prev->data);
  prev->data = buf;
  prev->len = len;
  return 0;
}

bool gen_step_mergeable(const transcript_step *st) {
  static const char *const no[] = {"AUTH", "CCC", "REIN", "QUIT", "PASV", "EPSV"};
  if (st->kind != TRANSCRIPT_C)
    return false;
  for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
    size_t n = strlen(no[i]);
    if (st->len >= n && !memcmp(st->data, no[i], n))
      return false;
  }
  return true;
}

static int walk_one(const model_config *cfg, gen_rng *rng, uint64_t seed, size_t index,
                    transcript *t) {
  char cfgline[128];
  size_t cand[sizeof(gen_actions) / sizeof(gen_actions[0])];
  model_state st = model_initial();
  size_t len = WALK_LEN_MIN + gen_rng_below(rng, WALK_LEN_SPAN);
  if (transcript_addf(t, TRANSCRIPT_COMMENT, " ftpsfuzz gen --walks: seed %llu walk %zu",
                      (unsigned long long)seed, index) != 0)
    return -1;
  gen_policy_comment(&cfg->policy, cfgline, sizeof(cfgline));
  if (transcript_add(t, TRANSCRIPT_COMMENT, cfgline, strlen(cfgline)) != 0)
    return -1;
  for (size_t step = 0; step < len && st.close == MODEL_OPEN; step++) {
    size_t nc = 0, ngood = 0;
    /* Candidates whose predicted outcome is a success come first. */
    for (int pass = 0; pass < 2; pass++) {
      for (size_t i = 0; i < gen_action_count; i++) {
        const gen_action *a = &gen_actions[i];
        /* QUIT comes at the end; a walk ends on its own otherwise */
        if ((a->flags & (GEN_A_NOWALK | GEN_A_ONCE | GEN_A_TERMINAL)) ||
            !gen_action_applies(cfg, i, &st))
          continue;
        gen_succ s[GEN_SUCC_MAX];
        size_t n = gen_successors(cfg, &st, a->ev, s, GEN_SUCC_MAX);
        int p = gen_predict(s, n);
        bool good = p >= 0 && s[p].code < 400;
        if (good == (pass == 0))
          cand[nc++] = i;
      }
      if (pass == 0)
        ngood = nc;
    }
    if (nc == 0)
      break;
    /* 3 in 4: a step the model expects to succeed; else anything. */
    size_t pick = (ngood && gen_rng_below(rng, 4) != 0) ? cand[gen_rng_below(rng, ngood)]
                                                       : cand[gen_rng_below(rng, nc)];
    /* a passive connection offered: usually use it (D: open, transfer) */
    if (st.data == MODEL_DATA_PASSIVE && gen_rng_below(rng, 2) == 0) {
      size_t xfer[16], nx = 0;
      for (size_t k = 0; k < nc && nx < 16; k++)
        if (gen_actions[cand[k]].data_mask == (1u << MODEL_DATA_PASSIVE))
          xfer[nx++] = cand[k];
      if (nx)
        pick = xfer[gen_rng_below(rng, nx)];
    }
    transcript steps;
    transcript_init(&steps);
    int rc = gen_action_append(pick, &steps);
    for (size_t k = 0; rc == 0 && k < steps.n; k++) {
      const transcript_step *s = &steps.steps[k];
      bool merge = k == 0 && t->n > 2 && gen_step_mergeable(&t->steps[t->n - 1]) &&
                   gen_step_mergeable(s) && gen_rng_below(rng, 8) == 0;
      rc = merge ? gen_merge_into(&t->steps[t->n - 1], s)
                 : transcript_add(t, s->kind, s->data, s->len);
    }
    transcript_cleanup(&steps);
    if (rc != 0)
      return -1;
    gen_succ s[GEN_SUCC_MAX];
    size_t n = gen_successors(cfg, &st, gen_actions[pick].ev, s, GEN_SUCC_MAX);
    int p = gen_predict(s, n);
    if (p >= 0)
      st = s[p].to;
    /* After REIN under TLS the client ends TLS, as after CCC (our server
     * waits for the close_notify; see server/REPLIES.md). */
    if (gen_actions[pick].ev == MODEL_EV_REIN && st.sec == MODEL_SEC_SECURE) {
      if (transcript_add(t, TRANSCRIPT_T, "close_notify", 12) != 0)
        return -1;
      n = gen_successors(cfg, &st, MODEL_EV_TLS_CLOSE_NOTIFY, s, GEN_SUCC_MAX);
      if (n)
        st = s[0].to;
    }
    if (gen_actions[pick].ev == MODEL_EV_TLS_CLOSE_NOTIFY && st.close == MODEL_CLOSING)
      break;
    if (gen_rng_below(rng, 16) == 0 &&
        transcript_addf(t, TRANSCRIPT_W, "%u", (unsigned)(1 + gen_rng_below(rng, 2000))) != 0)
      return -1;
  }
  if (st.close == MODEL_OPEN && st.sec != MODEL_SEC_NEGOTIATING && gen_rng_below(rng, 2) == 0 &&
      transcript_add(t, TRANSCRIPT_C, "QUIT", 4) != 0)
    return -1;
  return 0;
}

int gen_walks(const model_config *cfg, size_t n, uint64_t seed, gen_set *out) {
  gen_rng rng;
  gen_rng_seed(&rng, seed);
  for (size_t i = 0; i < n; i++) {
    transcript t;
    transcript_init(&t);
    int rc = walk_one(cfg, &rng, seed, i, &t);
    if (rc == 0)
      rc = gen_set_add(out, &t);
    transcript_cleanup(&t);
    if (rc != 0)
      return -1;
  }
  return 0;
}
