/* model.c - the model tables (model.def) and the functions that read them. */
#include "model.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Short names used inside model.def. */
#define S_PLAIN MODEL_SEC_PLAIN
#define S_NEGOTIATING MODEL_SEC_NEGOTIATING
#define S_SECURE MODEL_SEC_SECURE
#define L_NONE MODEL_LOGIN_NONE
#define L_USER MODEL_LOGIN_USER
#define L_IN MODEL_LOGIN_IN
#define A_NO MODEL_NO
#define A_YES MODEL_YES
#define Y_NO MODEL_NO
#define Y_YES MODEL_YES
#define P_C MODEL_PROT_C
#define P_P MODEL_PROT_P
#define D_NONE MODEL_DATA_NONE
#define D_PASSIVE MODEL_DATA_PASSIVE
#define D_ACTIVE MODEL_DATA_ACTIVE
#define C_OPEN MODEL_OPEN
#define C_CLOSING MODEL_CLOSING
#define C_CLOSED MODEL_CLOSED
#define F_959 MODEL_F_959
#define F_SEC MODEL_F_SEC
#define F_LOGIN MODEL_F_LOGIN
#define F_XFER MODEL_F_XFER
#define F_DSETUP MODEL_F_DSETUP
#define F_AUTHN MODEL_F_AUTHN
#define F_PASSACCT MODEL_F_PASSACCT
#define F_NOGEN MODEL_F_NOGEN
#define F_CONN MODEL_F_CONN
#define POL_TLS_LOGIN MODEL_POL_TLS_LOGIN
#define POL_TLS_DATA MODEL_POL_TLS_DATA
#define POL_ANON MODEL_POL_ANON
#define POL_CCC MODEL_POL_CCC
#define PROFILE_DEFAULT MODEL_PROFILE_DEFAULT
#define PROFILE_RFC MODEL_PROFILE_RFC
#define B(v) (1u << (v))
#define G(...) {__VA_ARGS__}
#define U(...) {__VA_ARGS__}
#define EV_ANY MODEL_EV_ANY

#define MODEL_ROW(id, ev, g, pre, after, codes, u) \
  [MODEL_ROW_##id] = {#id, MODEL_EV_##ev, g, pre, after, codes, u},
const model_row model_rows[MODEL_ROW_COUNT] = {
#include "model.def"
};
#undef MODEL_ROW

#define MODEL_NARROW(id, ev, g, drop) {#id, MODEL_EV_##ev, g, drop},
const model_narrow model_narrows[] = {
#include "model.def"
};
#undef MODEL_NARROW
const size_t model_narrow_count = sizeof(model_narrows) / sizeof(model_narrows[0]);

static const char *const event_names[MODEL_EV_COUNT + 1] = {
#define MODEL_EVENT(id, verb, flags) [MODEL_EV_##id] = #id,
#include "model.def"
#undef MODEL_EVENT
    [MODEL_EV_ANY] = "ANY",
};

static const char *const event_verbs[MODEL_EV_COUNT] = {
#define MODEL_EVENT(id, verb, flags) [MODEL_EV_##id] = verb,
#include "model.def"
#undef MODEL_EVENT
};

static const unsigned event_flags[MODEL_EV_COUNT] = {
#define MODEL_EVENT(id, verb, flags) [MODEL_EV_##id] = (flags),
#include "model.def"
#undef MODEL_EVENT
};

const char *model_event_name(model_event ev) {
  return (unsigned)ev <= MODEL_EV_ANY ? event_names[ev] : "?";
}

unsigned model_event_flags(model_event ev) {
  return (unsigned)ev < MODEL_EV_COUNT ? event_flags[ev] : 0;
}

/* --- policy and config --- */

model_policy model_policy_default(void) {
  model_policy p = {.tls_login = true, .tls_data = true, .anon = false, .ccc = false};
  return p;
}

model_config model_config_make(model_profile profile, const model_policy *policy) {
  model_config c;
  c.profile = profile;
  c.implicit_tls = false;
  if (profile == MODEL_PROFILE_RFC || !policy) {
    c.policy.tls_login = false;
    c.policy.tls_data = false;
    c.policy.anon = true;
    c.policy.ccc = true;
  } else {
    c.policy = *policy;
  }
  return c;
}

int model_policy_parse(model_policy *p, const char *spec, char *err, size_t err_len) {
  const char *s = spec;
  while (*s) {
    const char *end = strchr(s, ',');
    size_t n = end ? (size_t)(end - s) : strlen(s);
    const char *eq = memchr(s, '=', n);
    bool *field = NULL;
    if (eq) {
      size_t klen = (size_t)(eq - s);
      if (klen == 9 && !memcmp(s, "tls-login", 9))
        field = &p->tls_login;
      else if (klen == 8 && !memcmp(s, "tls-data", 8))
        field = &p->tls_data;
      else if (klen == 4 && !memcmp(s, "anon", 4))
        field = &p->anon;
      else if (klen == 3 && !memcmp(s, "ccc", 3))
        field = &p->ccc;
    }
    if (!field) {
      snprintf(err, err_len, "policy: expected tls-login=, tls-data=, anon= or ccc= at '%.*s'",
               (int)n, s);
      return -1;
    }
    size_t vlen = n - (size_t)(eq + 1 - s);
    if (vlen == 2 && !memcmp(eq + 1, "on", 2)) {
      *field = true;
    } else if (vlen == 3 && !memcmp(eq + 1, "off", 3)) {
      *field = false;
    } else {
      snprintf(err, err_len, "policy: expected on or off in '%.*s'", (int)n, s);
      return -1;
    }
    s += n;
    if (*s == ',')
      s++;
  }
  return 0;
}

static unsigned policy_mask(const model_policy *p) {
  return (p->tls_login ? POL_TLS_LOGIN : 0u) | (p->tls_data ? POL_TLS_DATA : 0u) |
         (p->anon ? POL_ANON : 0u) | (p->ccc ? POL_CCC : 0u);
}

/* --- code sets --- */

static void codes_add(model_codes *c, unsigned code) {
  if (code < 1000)
    c->bits[code / 64] |= 1ull << (code % 64);
}

bool model_codes_has(const model_codes *c, unsigned code) {
  return code < 1000 && (c->bits[code / 64] >> (code % 64)) & 1u;
}

bool model_codes_empty(const model_codes *c) {
  for (size_t i = 0; i < 16; i++)
    if (c->bits[i])
      return false;
  return true;
}

void model_codes_parse(model_codes *c, const char *s) {
  while (*s) {
    while (*s == ' ')
      s++;
    if (!*s)
      break;
    if (s[0] >= '1' && s[0] <= '9' && s[1] == 'x' && s[2] == 'x') {
      unsigned base = (unsigned)(s[0] - '0') * 100;
      for (unsigned i = 0; i < 100; i++)
        codes_add(c, base + i);
      s += 3;
      continue;
    }
    unsigned v = 0, nd = 0;
    while (*s >= '0' && *s <= '9' && nd < 3) {
      v = v * 10 + (unsigned)(*s - '0');
      s++;
      nd++;
    }
    if (nd == 3)
      codes_add(c, v);
    while (*s && *s != ' ')
      s++; /* model.def is ours; a typo is caught by test_model */
  }
}

void model_codes_format(const model_codes *c, char *buf, size_t buf_len) {
  size_t off = 0;
  if (buf_len == 0)
    return;
  buf[0] = 0;
  for (unsigned code = 0; code < 1000; code++) {
    if (!model_codes_has(c, code))
      continue;
    int n = snprintf(buf + off, buf_len - off, "%s%u", off ? " " : "", code);
    if (n < 0 || (size_t)n >= buf_len - off)
      return;
    off += (size_t)n;
  }
}

static void codes_remove(model_codes *c, const model_codes *drop) {
  for (size_t i = 0; i < 16; i++)
    c->bits[i] &= ~drop->bits[i];
}

static void codes_union(model_codes *c, const model_codes *add) {
  for (size_t i = 0; i < 16; i++)
    c->bits[i] |= add->bits[i];
}

/* --- the tables, read once ---
 * The oracle and the mutator ask the model several times per command; a
 * scan of every row that parses each row's code strings ("2xx" is 100
 * inserts) was most of a fuzz_sequence input (and of its mutator) under
 * sanitizers. The same answers, from code sets parsed once and, for each
 * event, the rows that can match it (its own and the ANY rows), in table
 * order. */
#define NARROW_COUNT (sizeof(model_narrows) / sizeof(model_narrows[0]))

static struct {
  model_codes pre[MODEL_ROW_COUNT], fin[MODEL_ROW_COUNT], after[MODEL_ROW_COUNT];
  model_codes drop[NARROW_COUNT];
  uint16_t rows[MODEL_EV_COUNT][MODEL_ROW_COUNT];
  uint16_t n_rows[MODEL_EV_COUNT];
} tables;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_build(void) {
  for (size_t i = 0; i < MODEL_ROW_COUNT; i++) {
    model_codes_parse(&tables.pre[i], model_rows[i].pre);
    model_codes_parse(&tables.fin[i], model_rows[i].codes);
    model_codes_parse(&tables.after[i], model_rows[i].after);
  }
  for (size_t i = 0; i < NARROW_COUNT; i++)
    model_codes_parse(&tables.drop[i], model_narrows[i].drop);
  for (size_t ev = 0; ev < MODEL_EV_COUNT; ev++)
    for (size_t i = 0; i < MODEL_ROW_COUNT; i++)
      if (model_rows[i].event == (model_event)ev || model_rows[i].event == EV_ANY)
        tables.rows[ev][tables.n_rows[ev]++] = (uint16_t)i;
}

static void tables_ready(void) {
  pthread_once(&tables_once, tables_build);
}

/* --- state --- */

model_state model_initial(void) {
  model_state s = {.sec = S_PLAIN, .login = L_NONE, .anon = A_NO, .pbsz = Y_NO, .prot = P_C,
                   .data = D_NONE, .rnfr = Y_NO, .rest = Y_NO, .ccc = Y_NO, .close = C_OPEN};
  return s;
}

void model_format_state(const model_state *st, char *buf, size_t buf_len) {
  static const char *const sec[] = {"?", "PLAIN", "NEGOTIATING", "SECURE"};
  static const char *const login[] = {"?", "NONE", "USER_OK", "LOGGED_IN"};
  static const char *const yn[] = {"?", "no", "yes"};
  static const char *const prot[] = {"?", "C", "P"};
  static const char *const data[] = {"?", "NONE", "PASSIVE", "ACTIVE"};
  static const char *const close[] = {"?", "open", "closing", "closed"};
#define PICK(arr, v) ((v) < sizeof(arr) / sizeof(arr[0]) ? arr[v] : "?")
  snprintf(buf, buf_len,
           "sec=%s login=%s anon=%s pbsz=%s prot=%s data=%s rnfr=%s rest=%s ccc=%s conn=%s",
           PICK(sec, st->sec), PICK(login, st->login), PICK(yn, st->anon), PICK(yn, st->pbsz),
           PICK(prot, st->prot), PICK(data, st->data), PICK(yn, st->rnfr), PICK(yn, st->rest),
           PICK(yn, st->ccc), PICK(close, st->close));
#undef PICK
}

/* --- guards and transitions --- */

static bool in_mask(uint16_t mask, uint8_t v) { return mask == 0 || ((mask >> v) & 1u); }

static bool guard_holds(const model_config *cfg, const model_guard *g, const model_state *st,
                        model_event ev) {
  unsigned pol = policy_mask(&cfg->policy);
  unsigned fl = model_event_flags(ev);
  uint8_t sx = (st->sec == S_SECURE || st->ccc == Y_YES) ? Y_YES : Y_NO;
  if (g->profile && g->profile != (uint16_t)cfg->profile)
    return false;
  if ((pol & g->pol_on) != g->pol_on || (pol & g->pol_off) != 0)
    return false;
  if ((fl & g->evf) != g->evf || (fl & g->evx) != 0)
    return false;
  return in_mask(g->sec, st->sec) && in_mask(g->login, st->login) && in_mask(g->anon, st->anon) &&
         in_mask(g->pbsz, st->pbsz) && in_mask(g->prot, st->prot) && in_mask(g->data, st->data) &&
         in_mask(g->rnfr, st->rnfr) && in_mask(g->rest, st->rest) && in_mask(g->ccc, st->ccc) &&
         in_mask(g->close, st->close) && in_mask(g->sx, sx);
}

bool model_row_enabled(const model_config *cfg, const model_row *r, const model_state *st,
                       model_event ev) {
  if ((unsigned)ev >= MODEL_EV_COUNT)
    return false;
  bool conn = (model_event_flags(ev) & F_CONN) != 0;
  if (r->event == EV_ANY) {
    if (conn)
      return false;
  } else if (r->event != ev) {
    return false;
  }
  /* Commands are read only while the control connection is open and not
   * between 234 and the end of the handshake. */
  if (!conn && (st->sec == S_NEGOTIATING || st->close != C_OPEN))
    return false;
  return guard_holds(cfg, &r->guard, st, ev);
}

static void narrowing(const model_config *cfg, const model_state *st, model_event ev,
                      model_codes *drop) {
  memset(drop, 0, sizeof(*drop));
  for (size_t i = 0; i < NARROW_COUNT; i++) {
    const model_narrow *n = &model_narrows[i];
    if (n->event != EV_ANY && n->event != ev)
      continue;
    if (guard_holds(cfg, &n->guard, st, ev))
      codes_union(drop, &tables.drop[i]);
  }
}

/* narrowed: a narrowing row that holds drops |code|. */
static bool narrowed(const model_config *cfg, const model_state *st, model_event ev,
                     unsigned code) {
  for (size_t i = 0; i < NARROW_COUNT; i++) {
    const model_narrow *n = &model_narrows[i];
    if ((n->event == EV_ANY || n->event == ev) && model_codes_has(&tables.drop[i], code) &&
        guard_holds(cfg, &n->guard, st, ev))
      return true;
  }
  return false;
}

size_t model_enabled_rows(const model_config *cfg, const model_state *st, model_event ev,
                          uint16_t *out) {
  size_t n = 0;
  tables_ready();
  if ((unsigned)ev >= MODEL_EV_COUNT)
    return 0;
  for (size_t k = 0; k < tables.n_rows[ev]; k++) {
    size_t i = tables.rows[ev][k];
    if (model_row_enabled(cfg, &model_rows[i], st, ev))
      out[n++] = (uint16_t)i;
  }
  return n;
}

bool model_allowed(const model_config *cfg, const model_state *st, model_event ev,
                   model_codes *pre, model_codes *fin, model_codes *after) {
  model_codes p, f, a, drop;
  bool any = false;
  memset(&p, 0, sizeof(p));
  memset(&f, 0, sizeof(f));
  memset(&a, 0, sizeof(a));
  uint16_t en[MODEL_ROW_COUNT];
  size_t n = model_enabled_rows(cfg, st, ev, en);
  for (size_t k = 0; k < n; k++) {
    size_t i = en[k];
    any = true;
    codes_union(&p, &tables.pre[i]);
    codes_union(&f, &tables.fin[i]);
    codes_union(&a, &tables.after[i]);
  }
  /* GEN_421 lists 421 for direct replies; after a preliminary it is allowed
   * too (the server may shut down mid-transfer). */
  if (model_codes_has(&f, 421))
    codes_add(&a, 421);
  narrowing(cfg, st, ev, &drop);
  codes_remove(&p, &drop);
  codes_remove(&f, &drop);
  codes_remove(&a, &drop);
  if (pre)
    *pre = p;
  if (fin)
    *fin = f;
  if (after)
    *after = a;
  return any;
}

/* |ev_flags| are the event's MODEL_EVENT flags; |command| is false for
 * connection events and the greeting. */
static void apply(const model_update *u, model_state *st, bool command, unsigned ev_flags) {
  if (command) {
    st->rnfr = Y_NO;
    /* RFC 3659 section 5.3 makes REST "the last command issued before the
     * data transfer command" - an obligation of the client. Servers (ours,
     * vsftpd) keep a pending REST across PASV/EPSV/PORT/EPRT, so a later
     * 554 for an invalid REST stays allowed. */
    if (!(ev_flags & F_DSETUP) || u->close)
      st->rest = Y_NO;
  }
#define SET(f) \
  if (u->f)    \
  st->f = u->f
  SET(sec);
  SET(login);
  SET(anon);
  SET(pbsz);
  SET(prot);
  SET(data);
  SET(rnfr);
  SET(rest);
  SET(ccc);
  SET(close);
#undef SET
}

int model_take(const model_config *cfg, model_state *st, model_event ev, unsigned code,
               bool after_pre) {
  if ((unsigned)ev >= MODEL_EV_COUNT)
    return -1;
  bool conn = (model_event_flags(ev) & F_CONN) != 0;
  tables_ready();
  if (conn) {
    for (size_t k = 0; k < tables.n_rows[ev]; k++) {
      size_t i = tables.rows[ev][k];
      if (model_row_enabled(cfg, &model_rows[i], st, ev)) {
        apply(&model_rows[i].update, st, false, 0);
        return (int)i;
      }
    }
    return -1;
  }
  uint16_t en[MODEL_ROW_COUNT];
  size_t n = model_enabled_rows(cfg, st, ev, en);
  /* Allowed: in the union of the enabled rows' sets (model_allowed), 421
   * after a preliminary when any row allows it directly, and not narrowed
   * away - tested code by code, without building the unions. */
  bool allowed = false;
  for (size_t k = 0; k < n && !allowed; k++) {
    size_t i = en[k];
    allowed = model_codes_has(after_pre ? &tables.after[i] : &tables.fin[i], code) ||
              (after_pre && code == 421 && model_codes_has(&tables.fin[i], 421));
  }
  if (!allowed || narrowed(cfg, st, ev, code))
    return -1;
  return model_take_among(en, n, st, ev, code, after_pre);
}

int model_take_among(const uint16_t *rows, size_t n, model_state *st, model_event ev,
                     unsigned code, bool after_pre) {
  if ((unsigned)ev >= MODEL_EV_COUNT)
    return -1;
  tables_ready();
  if (model_event_flags(ev) & F_CONN) {
    if (n == 0)
      return -1;
    apply(&model_rows[rows[0]].update, st, false, 0);
    return rows[0];
  }
  for (size_t k = 0; k < n; k++) {
    size_t i = rows[k];
    const model_codes *set = after_pre ? &tables.after[i] : &tables.fin[i];
    /* 421 after a preliminary reply is taken by GEN_421 */
    if (after_pre && code == 421 && i == MODEL_ROW_GEN_421)
      set = &tables.fin[i];
    if (model_codes_has(set, code)) {
      apply(&model_rows[i].update, st, ev != MODEL_EV_GREETING, model_event_flags(ev));
      return (int)i;
    }
  }
  return -1;
}

/* --- command classification --- */

static char upc(uint8_t c) { return (c >= 'a' && c <= 'z') ? (char)(c - 32) : (char)c; }

static bool arg_is(const uint8_t *arg, size_t len, const char *word) {
  size_t n = strlen(word);
  if (len != n)
    return false;
  for (size_t i = 0; i < n; i++)
    if (upc(arg[i]) != word[i])
      return false;
  return true;
}

/* RFC 1123 4.1.3.1 / RFC 775: the X-commands are the same commands. */
static const struct {
  const char *alias, *verb;
} x_commands[] = {
    {"XCWD", "CWD"}, {"XCUP", "CDUP"}, {"XPWD", "PWD"}, {"XMKD", "MKD"}, {"XRMD", "RMD"},
};

void model_classify_line(const uint8_t *line, size_t len, model_cmd *out) {
  memset(out, 0, sizeof(*out));
  out->ev = MODEL_EV_BADLINE;
  if (len == 0 || len > MODEL_LINE_MAX || memchr(line, 0, len))
    return;
  size_t vlen = 0;
  while (vlen < len && line[vlen] != ' ')
    vlen++;
  if (vlen == 0 || vlen > 4)
    goto unknown_or_bad;
  for (size_t i = 0; i < vlen; i++) {
    char c = upc(line[i]);
    if (c < 'A' || c > 'Z')
      return; /* BADLINE */
    out->verb[i] = c;
  }
  out->verb[vlen] = 0;
  if (vlen < len) {
    out->arg = line + vlen + 1;
    out->arg_len = len - vlen - 1;
  }
  for (size_t i = 0; i < sizeof(x_commands) / sizeof(x_commands[0]); i++)
    if (!strcmp(out->verb, x_commands[i].alias))
      snprintf(out->verb, sizeof(out->verb), "%s", x_commands[i].verb);

  const uint8_t *a = out->arg;
  size_t al = out->arg_len;
  if (!strcmp(out->verb, "USER")) {
    /* "ftp" is anonymous too: RFC 959 names no anonymous account, and
     * servers take both names (vsftpd.conf(5) anonymous_enable: "both the
     * usernames ftp and anonymous are recognised as anonymous logins";
     * our server's login handler). */
    out->ev = (a && (arg_is(a, al, "ANONYMOUS") || arg_is(a, al, "FTP"))) ? MODEL_EV_USER_ANON
                                                                           : MODEL_EV_USER;
    return;
  }
  if (!strcmp(out->verb, "AUTH")) {
    /* The drafts before RFC 4217 (draft-murray-auth-ftp-ssl) named four
     * mechanisms: "'TLS' or 'TLS-C'" with data protection "Clear" by
     * default, and "'SSL' or 'TLS-P'" with "Private", "primarily for
     * backward compatibility". RFC 4217 names only TLS ("As the SSL/TLS
     * protocols self-negotiate their levels, there is no need to
     * distinguish between SSL and TLS in the application layer"); clients
     * and servers still send and accept the other three. So TLS-C is AUTH
     * TLS and TLS-P is AUTH SSL, and both rows leave PROT at C: the model
     * does not assume the drafts' implicit "Private". */
    if (!a || al == 0)
      out->ev = MODEL_EV_AUTH_NOARG;
    else if (arg_is(a, al, "TLS") || arg_is(a, al, "TLS-C"))
      out->ev = MODEL_EV_AUTH_TLS;
    else if (arg_is(a, al, "SSL") || arg_is(a, al, "TLS-P"))
      out->ev = MODEL_EV_AUTH_SSL;
    else
      out->ev = MODEL_EV_AUTH_OTHER;
    return;
  }
  if (!strcmp(out->verb, "PROT")) {
    out->ev = MODEL_EV_PROT_OTHER;
    if (a && al == 1) {
      switch (upc(a[0])) {
      case 'C': out->ev = MODEL_EV_PROT_C; break;
      case 'P': out->ev = MODEL_EV_PROT_P; break;
      case 'S': out->ev = MODEL_EV_PROT_S; break;
      case 'E': out->ev = MODEL_EV_PROT_E; break;
      default: break;
      }
    }
    return;
  }
  if (!strcmp(out->verb, "EPSV")) {
    out->ev = (a && arg_is(a, al, "ALL")) ? MODEL_EV_EPSV_ALL : MODEL_EV_EPSV;
    return;
  }
  for (unsigned e = 0; e < MODEL_EV_COUNT; e++) {
    const char *v = event_verbs[e];
    if ((event_flags[e] & F_CONN) || e == MODEL_EV_GREETING || strchr(v, ' ') || v[0] == '(')
      continue;
    if (!strcmp(out->verb, v)) {
      out->ev = (model_event)e;
      return;
    }
  }
  out->ev = MODEL_EV_UNKNOWN;
  return;
unknown_or_bad:
  /* A verb of letters that is too long is an unknown command; anything else
   * in the verb makes the line malformed. */
  if (vlen == 0)
    return;
  for (size_t i = 0; i < vlen; i++) {
    char c = upc(line[i]);
    if (c < 'A' || c > 'Z')
      return;
  }
  out->ev = MODEL_EV_UNKNOWN;
}
