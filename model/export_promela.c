/* export_promela.c - `ftpsfuzz model --promela`: the transition table as a
 * Promela model, so SPIN can check the model's own security invariants.
 *
 * Translation (generated from model.def, nothing written by hand):
 * - one mtype per event (e_USER, e_AUTH_TLS, ... e_TLS_OK, e_CLOSED);
 * - the state variables as bytes with the values of model.h, the policy as
 *   four bools chosen nondeterministically by the client before the greeting
 *   (default profile: every configured server is checked at once);
 * - a client process that sends any command event while the server reads
 *   commands (connection open, not between 234 and the handshake's end) and
 *   any TLS/connection event until the connection is closed;
 * - a server process that, atomically per event, chooses any reply code the
 *   table allows and applies the update of the row that code takes. As in
 *   model_take(), the row taken is the FIRST enabled row listing the code, a
 *   code is allowed only if no enabled narrowing drops it, and every command
 *   clears a pending RNFR/REST. So each option's guard is: the row's guard,
 *   and no enabled narrowing dropping these codes, and no earlier enabled row
 *   listing them. Codes of a row with the same such conditions share one
 *   option. A final reply after a preliminary one (the row's AFTER set) is
 *   offered only when one of the row's preliminary codes survives narrowing;
 *   a 421 after a preliminary reply behaves as the direct 421 and is left out.
 * - the invariants as assertions checked after every step (DESIGN section 5:
 *   TLS_REQUIRED_LOGIN, AUTH_234_ONLY_FOR_AUTH / NO_SECOND_234,
 *   HANDSHAKE_FAIL_CLOSES, PBSZ_BEFORE_PROT / PROT_NEEDS_TLS,
 *   TLS_REQUIRED_STAYS_TLS, and PROT_P_DATA_IS_TLS at the model's level: no
 *   transfer while PROT is C when TLS is required for data).
 * Scratch variables (the event, the code, the state before the step) are
 * `hidden`, so the state vector is the model state, the policy and one ghost
 * bit (a handshake failed). The state space is a few tens of thousands. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model_export.h"

static const struct {
  const char *name, *why;
} broken_variants[] = {
    {"plain-login", "drops narrowing N_TLS_LOGIN: USER/PASS may log in in PLAIN under tls-login"},
    {"second-234", "AUTH TLS once SECURE may be answered 234"},
    {"hs-fail-secure", "a failed handshake leaves the connection SECURE and open"},
    {"prot-without-pbsz", "PROT P before PBSZ may be answered 200"},
    {"ccc-under-tls-login", "drops narrowing N_CCC_TLS_LOGIN: CCC may end TLS under tls-login"},
};
#define BROKEN_COUNT (sizeof(broken_variants) / sizeof(broken_variants[0]))

const char *model_promela_broken_name(size_t i, const char **out_why) {
  if (i >= BROKEN_COUNT)
    return NULL;
  if (out_why)
    *out_why = broken_variants[i].why;
  return broken_variants[i].name;
}

/* The table being exported: a copy, so a broken variant can change it. */
#define NARROW_MAX 32
typedef struct table {
  model_row rows[MODEL_ROW_COUNT];
  model_narrow narrows[NARROW_MAX];
  size_t n_narrows;
  const model_config *cfg;
} table;

static int table_init(table *t, const model_config *cfg, const char *broken) {
  memcpy(t->rows, model_rows, sizeof(t->rows));
  t->n_narrows = 0;
  t->cfg = cfg;
  const char *drop_narrow = NULL;
  if (broken) {
    if (!strcmp(broken, "plain-login")) {
      drop_narrow = "N_TLS_LOGIN";
    } else if (!strcmp(broken, "ccc-under-tls-login")) {
      drop_narrow = "N_CCC_TLS_LOGIN";
    } else if (!strcmp(broken, "second-234")) {
      t->rows[MODEL_ROW_AUTH_TLS_AGAIN].codes = "234 431 504 534";
    } else if (!strcmp(broken, "hs-fail-secure")) {
      t->rows[MODEL_ROW_TLS_FAIL].update.sec = MODEL_SEC_SECURE;
      t->rows[MODEL_ROW_TLS_FAIL].update.close = 0;
    } else if (!strcmp(broken, "prot-without-pbsz")) {
      t->rows[MODEL_ROW_PROT_P_NOPBSZ].codes = "200 503 530";
      t->rows[MODEL_ROW_PROT_P_NOPBSZ].update.prot = MODEL_PROT_P;
    } else {
      return -2;
    }
  }
  for (size_t i = 0; i < model_narrow_count && t->n_narrows < NARROW_MAX; i++) {
    if (drop_narrow && !strcmp(model_narrows[i].name, drop_narrow))
      continue;
    t->narrows[t->n_narrows++] = model_narrows[i];
  }
  return model_narrow_count - (drop_narrow ? 1 : 0) == t->n_narrows ? 0 : -1;
}

static bool is_conn(model_event ev) { return (model_event_flags(ev) & MODEL_F_CONN) != 0; }

/* static_ok: the parts of a guard known at generation time (profile, event
 * flags). */
static bool static_ok(const table *t, const model_guard *g, model_event ev) {
  unsigned fl = model_event_flags(ev);
  if (g->profile && g->profile != (uint16_t)t->cfg->profile)
    return false;
  return (fl & g->evf) == g->evf && (fl & g->evx) == 0;
}

static bool row_candidate(const table *t, int r, model_event ev) {
  const model_row *row = &t->rows[r];
  if (row->event == MODEL_EV_ANY ? is_conn(ev) : row->event != ev)
    return false;
  return static_ok(t, &row->guard, ev);
}

static bool narrow_candidate(const table *t, size_t n, model_event ev) {
  const model_narrow *nw = &t->narrows[n];
  if (nw->event != MODEL_EV_ANY && nw->event != ev)
    return false;
  return static_ok(t, &nw->guard, ev);
}

static bool codes_has_str(const char *s, unsigned code) {
  model_codes c;
  memset(&c, 0, sizeof(c));
  model_codes_parse(&c, s);
  return model_codes_has(&c, code);
}

/* --- expressions --- */

static void emit_mask(FILE *out, bool *first, const char *var, uint16_t mask, unsigned maxv) {
  unsigned all = 0;
  for (unsigned v = 1; v <= maxv; v++)
    all |= 1u << v;
  if (mask == 0 || (mask & all) == all)
    return;
  fprintf(out, "%s(", *first ? "" : " && ");
  *first = false;
  bool f = true;
  for (unsigned v = 1; v <= maxv; v++)
    if ((mask >> v) & 1u) {
      fprintf(out, "%s%s == %u", f ? "" : " || ", var, v);
      f = false;
    }
  if (f)
    fprintf(out, "0");
  fprintf(out, ")");
}

/* emit_guard prints the dynamic part of |g| as a Promela expression. */
static void emit_guard(FILE *out, const model_guard *g) {
  bool first = true;
  fprintf(out, "(");
  emit_mask(out, &first, "sec", g->sec, 3);
  emit_mask(out, &first, "login", g->login, 3);
  emit_mask(out, &first, "anon", g->anon, 2);
  emit_mask(out, &first, "pbsz", g->pbsz, 2);
  emit_mask(out, &first, "prot", g->prot, 2);
  emit_mask(out, &first, "data", g->data, 3);
  emit_mask(out, &first, "rnfr", g->rnfr, 2);
  emit_mask(out, &first, "rest", g->rest, 2);
  emit_mask(out, &first, "ccc", g->ccc, 2);
  emit_mask(out, &first, "conn", g->close, 3);
  if (g->sx == (1u << MODEL_YES) || g->sx == (1u << MODEL_NO)) {
    fprintf(out, "%s%s(sec == S_SECURE || ccc == Y_YES)", first ? "" : " && ",
            g->sx == (1u << MODEL_NO) ? "!" : "");
    first = false;
  }
  static const char *const pols[] = {"pol_tls_login", "pol_tls_data", "pol_anon", "pol_ccc"};
  for (unsigned b = 0; b < 4; b++) {
    if ((g->pol_on >> b) & 1u) {
      fprintf(out, "%s%s", first ? "" : " && ", pols[b]);
      first = false;
    }
    if ((g->pol_off >> b) & 1u) {
      fprintf(out, "%s!%s", first ? "" : " && ", pols[b]);
      first = false;
    }
  }
  if (first)
    fprintf(out, "1");
  fprintf(out, ")");
}

/* --- options --- */

/* What makes code |c| of row |r| available beyond the row's own guard. */
typedef struct sig {
  uint32_t narrows;                /* narrowings that drop it */
  bool shadow[MODEL_ROW_COUNT];    /* earlier candidate rows that list it */
} sig;

static void code_sig(const table *t, model_event ev, int r, bool after, unsigned c, sig *s) {
  memset(s, 0, sizeof(*s));
  for (size_t n = 0; n < t->n_narrows; n++)
    if (narrow_candidate(t, n, ev) && codes_has_str(t->narrows[n].drop, c))
      s->narrows |= 1u << n;
  for (int q = 0; q < r; q++)
    if (row_candidate(t, q, ev) && codes_has_str(after ? t->rows[q].after : t->rows[q].codes, c))
      s->shadow[q] = true;
}

static void emit_sig(FILE *out, const table *t, const sig *s) {
  for (size_t n = 0; n < t->n_narrows; n++)
    if ((s->narrows >> n) & 1u) {
      fprintf(out, " && !");
      emit_guard(out, &t->narrows[n].guard);
      fprintf(out, " /* %s */", t->narrows[n].name);
    }
  for (int q = 0; q < MODEL_ROW_COUNT; q++)
    if (s->shadow[q]) {
      fprintf(out, " && !");
      emit_guard(out, &t->rows[q].guard);
      fprintf(out, " /* %s first */", t->rows[q].name);
    }
}

static void emit_update(FILE *out, const model_update *u, bool command) {
  if (command)
    fprintf(out, " rnfr = Y_NO; rest = Y_NO;");
  const uint8_t v[10] = {u->sec,  u->login, u->anon, u->pbsz, u->prot,
                         u->data, u->rnfr,  u->rest, u->ccc,  u->close};
  static const char *const names[10] = {"sec",  "login", "anon", "pbsz", "prot",
                                        "data", "rnfr",  "rest", "ccc",  "conn"};
  for (size_t i = 0; i < 10; i++)
    if (v[i])
      fprintf(out, " %s = %u;", names[i], v[i]);
}

/* emit_pre_ok prints "a preliminary code of |r| survives narrowing". */
static void emit_pre_ok(FILE *out, const table *t, model_event ev, int r) {
  model_codes pre;
  memset(&pre, 0, sizeof(pre));
  model_codes_parse(&pre, t->rows[r].pre);
  bool done[1000] = {false};
  bool first = true;
  fprintf(out, " && (");
  for (unsigned c = 100; c < 200; c++) {
    if (!model_codes_has(&pre, c) || done[c])
      continue;
    sig s;
    code_sig(t, ev, r, false, c, &s);
    memset(s.shadow, 0, sizeof(s.shadow)); /* any row's preliminary reply will do */
    for (unsigned d = c; d < 200; d++) { /* codes with the same narrowings */
      sig s2;
      if (!model_codes_has(&pre, d))
        continue;
      code_sig(t, ev, r, false, d, &s2);
      if (s2.narrows == s.narrows)
        done[d] = true;
    }
    fprintf(out, "%s(1", first ? "" : " || ");
    emit_sig(out, t, &s);
    fprintf(out, ")");
    first = false;
  }
  fprintf(out, "%s)", first ? "0" : "");
}

/* emit_row_options prints the options of row |r| for event |ev|: its codes
 * grouped by identical extra conditions. Returns the number printed. */
static size_t emit_row_options(FILE *out, const table *t, model_event ev, int r, bool after) {
  const model_row *row = &t->rows[r];
  model_codes set;
  memset(&set, 0, sizeof(set));
  model_codes_parse(&set, after ? row->after : row->codes);
  bool done[1000] = {false};
  size_t n = 0;
  sig s, s2;
  for (unsigned c = 0; c < 1000; c++) {
    if (!model_codes_has(&set, c) || done[c])
      continue;
    if (after && c == 421)
      continue; /* the same as the direct 421 */
    code_sig(t, ev, r, after, c, &s);
    unsigned group[1000];
    size_t ng = 0;
    for (unsigned d = c; d < 1000; d++) {
      if (!model_codes_has(&set, d) || done[d] || (after && d == 421))
        continue;
      code_sig(t, ev, r, after, d, &s2);
      if (s2.narrows == s.narrows && !memcmp(s2.shadow, s.shadow, sizeof(s.shadow))) {
        done[d] = true;
        group[ng++] = d;
      }
    }
    fprintf(out, "    :: ");
    emit_guard(out, &row->guard);
    emit_sig(out, t, &s);
    if (after)
      emit_pre_ok(out, t, ev, r);
    fprintf(out, " ->\n       ");
    if (ng == 1) {
      fprintf(out, "code = %u;", group[0]);
    } else {
      fprintf(out, "if");
      for (size_t i = 0; i < ng; i++)
        fprintf(out, " :: code = %u", group[i]);
      fprintf(out, " fi;");
    }
    if (after)
      fprintf(out, " after_pre = 1;");
    emit_update(out, &row->update, !is_conn(ev) && ev != MODEL_EV_GREETING);
    if (ev == MODEL_EV_TLS_FAIL)
      fprintf(out, " hs_failed = 1;");
    fprintf(out, " /* %s */\n", row->name);
    n++;
  }
  return n;
}

/* emit_conn_options: TLS/connection events take the first enabled row. */
static size_t emit_conn_options(FILE *out, const table *t, model_event ev) {
  size_t n = 0;
  for (int r = 0; r < MODEL_ROW_COUNT; r++) {
    if (!row_candidate(t, r, ev))
      continue;
    fprintf(out, "    :: ");
    emit_guard(out, &t->rows[r].guard);
    for (int q = 0; q < r; q++)
      if (row_candidate(t, q, ev)) {
        fprintf(out, " && !");
        emit_guard(out, &t->rows[q].guard);
      }
    fprintf(out, " ->");
    emit_update(out, &t->rows[r].update, false);
    if (ev == MODEL_EV_TLS_FAIL)
      fprintf(out, " hs_failed = 1;");
    fprintf(out, " /* %s */\n", t->rows[r].name);
    n++;
  }
  return n;
}

static void emit_event_set(FILE *out, unsigned flag, const model_event *extra, size_t n_extra) {
  bool first = true;
  fprintf(out, "(");
  for (unsigned e = 0; e < MODEL_EV_COUNT; e++)
    if (flag && (model_event_flags((model_event)e) & flag)) {
      fprintf(out, "%sev == e_%s", first ? "" : " || ", model_event_name((model_event)e));
      first = false;
    }
  for (size_t i = 0; i < n_extra; i++) {
    fprintf(out, "%sev == e_%s", first ? "" : " || ", model_event_name(extra[i]));
    first = false;
  }
  fprintf(out, "%s)", first ? "0" : "");
}

void model_promela_declare(FILE *out) {
  fprintf(out, "#define S_PLAIN %d\n#define S_NEGOTIATING %d\n#define S_SECURE %d\n",
          MODEL_SEC_PLAIN, MODEL_SEC_NEGOTIATING, MODEL_SEC_SECURE);
  fprintf(out, "#define L_NONE %d\n#define L_USER %d\n#define L_IN %d\n", MODEL_LOGIN_NONE,
          MODEL_LOGIN_USER, MODEL_LOGIN_IN);
  fprintf(out, "#define Y_NO %d\n#define Y_YES %d\n#define P_C %d\n#define P_P %d\n", MODEL_NO,
          MODEL_YES, MODEL_PROT_C, MODEL_PROT_P);
  fprintf(out, "#define D_NONE %d\n#define C_OPEN %d\n#define C_CLOSING %d\n#define C_CLOSED %d\n\n",
          MODEL_DATA_NONE, MODEL_OPEN, MODEL_CLOSING, MODEL_CLOSED);

  fprintf(out, "mtype = {");
  for (unsigned e = 0; e < MODEL_EV_COUNT; e++)
    fprintf(out, "%s%se_%s", e ? "," : "", e % 6 ? " " : "\n  ", model_event_name((model_event)e));
  fprintf(out, "\n};\n\n");

  fprintf(out, "/* model state (model.h values) */\n"
               "byte sec = S_PLAIN, login = L_NONE, anon = Y_NO, pbsz = Y_NO, prot = P_C,\n"
               "     data = D_NONE, rnfr = Y_NO, rest = Y_NO, ccc = Y_NO, conn = C_OPEN;\n"
               "/* policy of the configured server */\n"
               "bool pol_tls_login, pol_tls_data, pol_anon, pol_ccc;\n"
               "bool hs_failed; /* ghost: a TLS handshake failed */\n"
               "/* scratch, not part of the state vector */\n"
               "hidden mtype ev;\nhidden short code;\nhidden byte after_pre;\n"
               "hidden byte p_sec, p_login, p_pbsz, p_prot, p_ccc;\n\n");
}

static void emit_header(FILE *out, const table *t, const char *broken) {
  fprintf(out, "/* Generated by `ftpsfuzz model --promela%s%s` from model/model.def; do not edit.\n"
               " * Check: spin -a THIS.pml && cc -O2 -DSAFETY -o pan pan.c && ./pan\n",
          broken ? " --broken " : "", broken ? broken : "");
  if (broken)
    fprintf(out, " * TEST ONLY: a deliberately broken variant; SPIN must report a violation. */\n\n");
  else
    fprintf(out, " */\n\n");
  model_promela_declare(out);
  fprintf(out, "chan cmd = [0] of { mtype };\n\n");
  (void)t;
}

static void emit_client(FILE *out, const table *t) {
  fprintf(out, "active proctype client() {\n");
  if (t->cfg->profile == MODEL_PROFILE_RFC) {
    const model_policy *p = &t->cfg->policy;
    fprintf(out, "  /* the rfc profile's fixed policy */\n"
                 "  pol_tls_login = %d; pol_tls_data = %d; pol_anon = %d; pol_ccc = %d;\n",
            p->tls_login, p->tls_data, p->anon, p->ccc);
  } else {
    fprintf(out, "  /* any configured server */\n"
                 "  if :: pol_tls_login = 1 :: pol_tls_login = 0 fi;\n"
                 "  if :: pol_tls_data = 1 :: pol_tls_data = 0 fi;\n"
                 "  if :: pol_anon = 1 :: pol_anon = 0 fi;\n"
                 "  if :: pol_ccc = 1 :: pol_ccc = 0 fi;\n");
  }
  fprintf(out, "  cmd!e_GREETING;\n  do\n"
               "  :: conn == C_OPEN && sec != S_NEGOTIATING -> /* the server reads commands */\n"
               "     if");
  unsigned k = 0;
  for (unsigned e = 0; e < MODEL_EV_COUNT; e++) {
    model_event ev = (model_event)e;
    if (is_conn(ev) || ev == MODEL_EV_GREETING)
      continue;
    fprintf(out, "%s:: cmd!e_%s", k++ % 4 ? " " : "\n     ", model_event_name(ev));
  }
  fprintf(out, "\n     fi\n  :: conn != C_CLOSED -> /* TLS and connection events */\n     if");
  for (unsigned e = 0; e < MODEL_EV_COUNT; e++)
    if (is_conn((model_event)e))
      fprintf(out, " :: cmd!e_%s", model_event_name((model_event)e));
  fprintf(out, " fi\n  :: conn == C_CLOSED -> break\n  od\n}\n\n");
}

void model_promela_checks(FILE *out) {
  static const model_event auth[] = {MODEL_EV_AUTH_TLS, MODEL_EV_AUTH_SSL};
  static const model_event prots[] = {MODEL_EV_PBSZ,   MODEL_EV_PROT_C, MODEL_EV_PROT_P,
                                      MODEL_EV_PROT_S, MODEL_EV_PROT_E, MODEL_EV_PROT_OTHER};
  static const model_event prot_only[] = {MODEL_EV_PROT_C, MODEL_EV_PROT_P, MODEL_EV_PROT_S,
                                          MODEL_EV_PROT_E, MODEL_EV_PROT_OTHER};
  static const model_event ccc[] = {MODEL_EV_CCC};
  fprintf(out, "/* The security invariants (DESIGN section 5), after every step. */\n"
               "inline check() {\n"
               "  /* TLS_REQUIRED_LOGIN: no login reply in PLAIN, no login outside TLS */\n"
               "  assert(!(pol_tls_login && code >= 200 && code < 400 && p_sec != S_SECURE && ");
  emit_event_set(out, MODEL_F_AUTHN, NULL, 0);
  fprintf(out, "));\n"
               "  assert(!(pol_tls_login && login == L_IN && sec != S_SECURE && conn == C_OPEN));\n"
               "  /* AUTH_234_ONLY_FOR_AUTH, NO_SECOND_234: 234 only for AUTH TLS/SSL in PLAIN */\n"
               "  assert(code != 234 || (p_sec == S_PLAIN && ");
  emit_event_set(out, 0, auth, 2);
  fprintf(out, "));\n"
               "  /* HANDSHAKE_FAIL_CLOSES: never SECURE after a failed handshake */\n"
               "  assert(!hs_failed || (sec != S_SECURE && conn != C_OPEN));\n"
               "  /* PROT_NEEDS_TLS, PBSZ_BEFORE_PROT */\n"
               "  assert(!(code >= 200 && code < 300 && ");
  emit_event_set(out, 0, prots, 6);
  fprintf(out, ") || p_sec == S_SECURE || p_ccc == Y_YES);\n"
               "  assert(!(code >= 200 && code < 300 && ");
  emit_event_set(out, 0, prot_only, 5);
  fprintf(out, ") || p_pbsz == Y_YES);\n"
               "  assert(prot != P_P || pbsz == Y_YES);\n"
               "  /* TLS_REQUIRED_STAYS_TLS: under tls-login a logged-in session never goes\n"
               "   * on in plaintext, and CCC is never accepted */\n"
               "  assert(!(pol_tls_login && p_sec == S_SECURE && p_login == L_IN && sec == S_PLAIN"
               " && conn == C_OPEN));\n"
               "  assert(!(pol_tls_login && code >= 200 && code < 300 && ");
  emit_event_set(out, 0, ccc, 1);
  fprintf(out, "));\n"
               "  /* PROT_P_DATA_IS_TLS (model level): no transfer under PROT C when TLS is\n"
               "   * required for data */\n"
               "  assert(!(pol_tls_data && code >= 100 && code < 300 && p_prot != P_P && ");
  emit_event_set(out, MODEL_F_XFER, NULL, 0);
  fprintf(out, "))\n}\n\n");
}

static void emit_server(FILE *out, const table *t) {
  fprintf(out, "active proctype server() {\nend:\n  do\n  :: atomic {\n    cmd?ev ->\n"
               "    p_sec = sec; p_login = login; p_pbsz = pbsz; p_prot = prot; p_ccc = ccc;\n"
               "    code = 0; after_pre = 0;\n    if\n");
  for (unsigned e = 0; e < MODEL_EV_COUNT; e++) {
    model_event ev = (model_event)e;
    fprintf(out, "    :: ev == e_%s ->\n    if\n", model_event_name(ev));
    if (is_conn(ev)) {
      emit_conn_options(out, t, ev);
      fprintf(out, "    :: else -> skip /* no row: nothing happens */\n");
    } else {
      for (int r = 0; r < MODEL_ROW_COUNT; r++) {
        if (!row_candidate(t, r, ev))
          continue;
        emit_row_options(out, t, ev, r, false);
        if (t->rows[r].after[0])
          emit_row_options(out, t, ev, r, true);
      }
      fprintf(out, "    :: else -> assert(0) /* every command has a reply (GEN_421) */\n");
    }
    fprintf(out, "    fi\n");
  }
  fprintf(out, "    fi;\n    check()\n  }\n  od\n}\n");
}

int model_export_promela(FILE *out, const model_config *cfg, const char *broken) {
  table *t = malloc(sizeof(*t));
  int rc = -1;
  if (!t)
    goto out;
  rc = table_init(t, cfg, broken);
  if (rc != 0)
    goto out;
  emit_header(out, t, broken);
  model_promela_checks(out);
  emit_client(out, t);
  emit_server(out, t);
  rc = ferror(out) ? -1 : 0;
out:
  free(t);
  return rc;
}
