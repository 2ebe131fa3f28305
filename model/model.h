/* model.h - the FTPS specification as an extended finite-state machine.
 *
 * The transitions are data (model.def); this header turns them into enums and
 * arrays and offers the few functions every user needs: which replies a state
 * allows for an event, which transition a reply takes, and how a command line
 * is classified into an event. The oracle, the generator and the exporters all
 * use the same table. Never includes server/ (DESIGN section 1).
 *
 * State variables hold values starting at 1; in a model_update 0 means "keep",
 * in a model_guard a mask of 0 means "any" (bit v = 1u << v). */
#ifndef MODEL_H
#define MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { MODEL_SEC_PLAIN = 1, MODEL_SEC_NEGOTIATING, MODEL_SEC_SECURE };    /* sec */
enum { MODEL_LOGIN_NONE = 1, MODEL_LOGIN_USER, MODEL_LOGIN_IN };           /* login */
enum { MODEL_NO = 1, MODEL_YES };          /* anon (user is anonymous), pbsz, rnfr, rest, ccc */
enum { MODEL_PROT_C = 1, MODEL_PROT_P };                                   /* prot */
enum { MODEL_DATA_NONE = 1, MODEL_DATA_PASSIVE, MODEL_DATA_ACTIVE };       /* data */
enum { MODEL_OPEN = 1, MODEL_CLOSING, MODEL_CLOSED };                      /* close */

/* Event flags (model.def explains each; it spells them F_959 etc.). */
enum {
  MODEL_F_959 = 1u << 0,
  MODEL_F_SEC = 1u << 1,
  MODEL_F_LOGIN = 1u << 2,
  MODEL_F_XFER = 1u << 3,
  MODEL_F_DSETUP = 1u << 4,
  MODEL_F_AUTHN = 1u << 5,
  MODEL_F_PASSACCT = 1u << 6,
  MODEL_F_NOGEN = 1u << 7,
  MODEL_F_CONN = 1u << 8,
};

/* Policy bits (model_policy as a mask, for guards; model.def: POL_*). */
enum {
  MODEL_POL_TLS_LOGIN = 1u << 0,
  MODEL_POL_TLS_DATA = 1u << 1,
  MODEL_POL_ANON = 1u << 2,
  MODEL_POL_CCC = 1u << 3,
};

typedef enum model_profile { MODEL_PROFILE_DEFAULT = 1, MODEL_PROFILE_RFC = 2 } model_profile;

typedef enum model_event {
#define MODEL_EVENT(id, verb, flags) MODEL_EV_##id,
#include "model.def"
#undef MODEL_EVENT
  MODEL_EV_COUNT,
  MODEL_EV_ANY = MODEL_EV_COUNT, /* only in rows: every command event */
} model_event;

typedef struct model_state {
  uint8_t sec, login, anon, pbsz, prot, data, rnfr, rest, ccc, close;
} model_state;

/* A guard: masks over state values (0 = any); policy bits that must be on or
 * off; profile (0 = both); for ANY rows, event flags required / excluded;
 * sx = "a security exchange completed" (sec SECURE or CCC done). */
typedef struct model_guard {
  uint16_t sec, login, anon, pbsz, prot, data, rnfr, rest, ccc, close, sx;
  uint16_t pol_on, pol_off, profile, evf, evx;
} model_guard;

typedef model_state model_update; /* 0 = keep */

typedef struct model_row {
  const char *name;
  model_event event;
  model_guard guard;
  const char *pre, *after, *codes; /* space-separated codes */
  model_update update;
} model_row;

typedef struct model_narrow {
  const char *name;
  model_event event;
  model_guard guard;
  const char *drop; /* codes; "2xx" is a class */
} model_narrow;

enum {
#define MODEL_ROW(id, ev, g, pre, after, codes, u) MODEL_ROW_##id,
#include "model.def"
#undef MODEL_ROW
  MODEL_ROW_COUNT
};

extern const model_row model_rows[MODEL_ROW_COUNT];
extern const model_narrow model_narrows[];
extern const size_t model_narrow_count;

/* The policy parameters of a configured server (DESIGN section 3). */
typedef struct model_policy {
  bool tls_login, tls_data, anon, ccc;
} model_policy;

typedef struct model_config {
  model_profile profile;
  model_policy policy; /* effective: the rfc profile uses the permissive one */
  /* The connection starts under TLS (implicit FTPS, `check ftps://`): the
   * oracle judges from a SECURE state (the greeting comes inside TLS). A
   * property of the connection, not of the model's tables. */
  bool implicit_tls;
} model_config;

/* model_config_make returns the config for |profile| and |policy| (ignored
 * under the rfc profile, which uses tls off, anonymous on, CCC on). */
model_config model_config_make(model_profile profile, const model_policy *policy);
/* model_policy_default is the built-in test configuration (DESIGN section 7):
 * TLS required for login and data, anonymous off, CCC off. */
model_policy model_policy_default(void);
/* model_policy_parse parses "tls-login=on,tls-data=off,anon=on,ccc=off" (any
 * subset, any order) into |*p| (starting from its current values). Returns 0,
 * or -1 with a message in |err|. */
int model_policy_parse(model_policy *p, const char *spec, char *err, size_t err_len);

/* A set of reply codes 0..999. */
typedef struct model_codes {
  uint64_t bits[16];
} model_codes;
bool model_codes_has(const model_codes *c, unsigned code);
bool model_codes_empty(const model_codes *c);
/* model_codes_format writes "200 503 ..." (ascending) into |buf|. */
void model_codes_format(const model_codes *c, char *buf, size_t buf_len);
/* model_codes_parse adds the codes of a model.def string ("2xx" = class). */
void model_codes_parse(model_codes *c, const char *s);

/* model_initial returns the state after a 220 greeting. */
model_state model_initial(void);

const char *model_event_name(model_event ev);
unsigned model_event_flags(model_event ev);
/* model_format_state writes "sec=PLAIN login=NONE ..." into |buf|. */
void model_format_state(const model_state *st, char *buf, size_t buf_len);

/* model_allowed fills |pre| (preliminary replies) and |fin| (final replies
 * directly) and |after| (final replies after a preliminary) that |ev| allows
 * in |st|; 421 is always in |fin| and |after| for command events. Any output
 * may be NULL. Returns true if |ev| has an enabled row at all. */
bool model_allowed(const model_config *cfg, const model_state *st, model_event ev,
                   model_codes *pre, model_codes *fin, model_codes *after);

/* model_take finds the row taken when the server answers |ev| in |st| with
 * final |code| (|after_pre|: a preliminary reply came first) and applies it to
 * |*st|. Returns the row index, or -1 if the code is not allowed (|*st| is
 * unchanged). For F_CONN events |code| is ignored (-1: no enabled row). */
int model_take(const model_config *cfg, model_state *st, model_event ev, unsigned code,
               bool after_pre);

/* model_enabled_rows writes the indices of the rows enabled for |ev| in
 * |st| into |out| (room for MODEL_ROW_COUNT), in table order, and returns
 * how many. model_take_among is model_take for a |code| known to be allowed
 * (in model_allowed's |fin|, or |after| with |after_pre|), among those
 * |rows|: the same row and update, without judging the code again - for
 * callers that take many codes in one state (gen_successors). */
size_t model_enabled_rows(const model_config *cfg, const model_state *st, model_event ev,
                          uint16_t *out);
int model_take_among(const uint16_t *rows, size_t n, model_state *st, model_event ev,
                     unsigned code, bool after_pre);

/* model_row_enabled says whether row |r| applies to |ev| in |st|. */
bool model_row_enabled(const model_config *cfg, const model_row *r, const model_state *st,
                       model_event ev);

/* Classification of one command line (no CRLF). */
typedef struct model_cmd {
  model_event ev;
  char verb[8];         /* upper-cased verb, "" for a bad line */
  const uint8_t *arg;   /* argument within the line (after one space), or NULL */
  size_t arg_len;
} model_cmd;

/* Longest line a server must accept (RFC 959 gives no limit; our server uses
 * 2048); longer lines are BADLINE. */
#define MODEL_LINE_MAX 4096

/* model_classify_line classifies a command line (Telnet IAC sequences already
 * removed, no CRLF). Never fails: unknown verbs are UNKNOWN, malformed lines
 * (empty, NUL, non-letter verb, too long) BADLINE. */
void model_classify_line(const uint8_t *line, size_t len, model_cmd *out);

#endif
