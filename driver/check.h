/* check.h - judge a live FTPS server with the model (`ftpsfuzz check`).
 *
 * The checker plays model sequences against a server over TCP, each on a
 * fresh connection with real TLS on control and data (runner_run_tcp), and
 * judges every transcript with the oracle (all violations, not only the
 * first). Sequences, in this order:
 *   1. the targeted probes (check_probes): behaviours a cover set may miss
 *      (second AUTH, PROT X after PROT P, CCC, plaintext USER, PROT without
 *      PBSZ, garbage after 234, AUTH SSL/TLS-P then a transfer without PROT,
 *      with the client's usual data connection and with TLS forced on it to
 *      see the level the server really uses, commands and a login
 *      pipelined behind AUTH TLS/SSL and after CCC, an overlong line);
 *   2. the model's cover set (gen_cover against the in-process server built
 *      with the target's declared policy);
 *   3. |walks| random walks and |mutants| mutated cover scripts.
 * All of them are written for the built-in test configuration (alice /
 * wonderland, /pub/hello.txt, /upload/) and adapted to the target by
 * check_adapt before they are played.
 *
 * What the checker may do to the target (it learns nothing it was not told):
 * - credentials: only |user|/|pass|; without them every sequence that would
 *   log in is dropped and the built-in user name is replaced by one that
 *   cannot exist ("ftpsfuzz-nobody"), so no name or password is guessed;
 * - writes: only inside a directory it creates under the login's home
 *   (<home>/ftpsfuzz-check-<hex>/{pub,upload}, found with the server's own
 *   PWD) and removes at the end; every write command of every sequence is
 *   checked against a fixed list of names inside it (check_adapt), anything
 *   else is rewritten to <base>/upload/x or replaced by NOOP;
 * - addresses: only the target's (resolved once, numeric); PORT/EPRT name
 *   the checker's own address; passive data goes to the target address;
 * - pace: at most |concurrency| connections at once, at most |rate| new
 *   control connections per second, |timeout_ms| per step (a silent server
 *   is reported as a timeout, never waited on); a target that sends no FTP
 *   greeting (a silent or implicit-TLS port) is left after the first
 *   connection's step timeout, with nothing played.
 *
 * Verdicts: every invariant in every sequence is passed, violated or
 * inconclusive (check_verdicts); the run's result (check_result) is OK only
 * when every security invariant that applies was decided at least once. */
#ifndef CHECK_H
#define CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gen.h"
#include "model.h"
#include "oracle.h"
#include "runner.h"
#include "transcript.h"

#define CHECK_CONCURRENCY_MAX 16u
#define CHECK_SEQUENCES_MAX 20000u
#define CHECK_BASE_MAX 1024u   /* bytes of the working directory's path */
#define CHECK_NAMES_MAX 64u    /* server-chosen file names (STOU) remembered for cleanup */

/* Where a sequence came from. */
typedef enum check_origin {
  CHECK_PROBE = 1,
  CHECK_COVER,
  CHECK_WALK,
  CHECK_MUTANT,
} check_origin;

const char *check_origin_name(check_origin o);

/* How the checker reaches the target (check_conn.c). The caller sets the
 * TLS version bounds and |implicit|; check_run finds the rest. */
typedef struct check_conn {
  uint16_t tls_min, tls_max; /* TLS versions offered (TLS1_2_VERSION..); 0 = default */
  bool implicit;             /* ftps://: TLS from the first byte, greeting inside it */
  unsigned quiet_ms;         /* runner_options.quiet_ms; 0 = default */
} check_conn;

typedef struct check_options {
  const char *host;          /* numeric address (resolved once by the caller) */
  const char *port;          /* decimal */
  const char *user, *pass;   /* both or neither (NULL) */
  model_config model;        /* the target's declared profile and policy */
  size_t walks, mutants;
  uint64_t seed;
  unsigned concurrency;      /* 1..CHECK_CONCURRENCY_MAX */
  double rate;               /* new control connections per second; 0 = unlimited */
  unsigned timeout_ms;       /* per step; 0 = RUNNER_TCP_TIMEOUT_DEFAULT */
  unsigned settle_ms;        /* after a step's replies, wait this long for more
                                (runner_options.settle_ms) */
  FILE *log;                 /* progress lines; NULL = quiet */
  const char *transcripts_dir; /* if set (an existing directory): every transcript
                                  is written there as <name>.fts */
  check_conn conn;           /* TLS versions, implicit TLS */
} check_options;

/* The shortest violating sequence of one invariant. */
typedef struct check_example {
  bool have;
  size_t seq;                /* index into the played list */
  size_t client_steps;       /* length measure: client steps of the script */
  char name[64];             /* e.g. "probe-second-auth", "cover-12" */
  char why[512];             /* the formatted violation */
  transcript script;         /* the adapted client script that was played */
  transcript got;            /* what the server did */
} check_example;

/* What one sequence did with one invariant (check_verdict.c). PASSED and
 * VIOLATED only when the step that decides it was reached and judged (the
 * command whose reply decides it got its final reply, the data connection
 * carried bytes, the handshake ended); INCONCLUSIVE when the sequence set
 * out to exercise it and did not get there; NONE when it never tried (or
 * the invariant does not apply to the declared policy). */
typedef enum check_verdict {
  CHECK_VERDICT_NONE = 0,
  CHECK_VERDICT_PASSED,
  CHECK_VERDICT_VIOLATED,
  CHECK_VERDICT_INCONCLUSIVE,
} check_verdict;

/* Why an inconclusive sequence did not reach the deciding step. */
typedef enum check_reason {
  CHECK_REASON_NONE = 0,
  CHECK_REASON_TIMEOUT,            /* the server kept the client waiting */
  CHECK_REASON_LOGIN_REFUSED,      /* the login with the given credentials was refused */
  CHECK_REASON_SETUP_FAILED,       /* PBSZ/PROT over TLS refused */
  CHECK_REASON_NO_DATA,            /* the data connection carried nothing (425, failed) */
  CHECK_REASON_HANDSHAKE_FAILED,
  CHECK_REASON_HANDSHAKE_TIMEOUT,  /* the handshake stalled */
  CHECK_REASON_CLOSED_EARLY,       /* the server closed before the script ended */
  CHECK_REASON_AUTH_REFUSED,       /* AUTH was not answered 234 */
  CHECK_REASON_NO_CONNECTION,      /* the connection could not be made */
  CHECK_REASON_NOT_REACHED,        /* none of the above: the step never came */
  CHECK_REASON_COUNT
} check_reason;

const char *check_verdict_name(check_verdict v);
const char *check_reason_name(check_reason r);

typedef struct check_inv_stats {
  size_t checked, violated;  /* sequences that decided it (passed + violated) / broke it */
  size_t inconclusive;       /* sequences that tried it and did not decide it */
  size_t reasons[CHECK_REASON_COUNT];
  check_example example;
} check_inv_stats;

/* One played sequence, for report.json. */
typedef struct check_seq {
  char name[64];
  check_origin origin;
  bool timed_out, connect_failed;
  unsigned char verdict[ORACLE_INVARIANT_COUNT]; /* check_verdict */
  unsigned char reason[ORACLE_INVARIANT_COUNT];  /* check_reason */
} check_seq;

typedef struct check_report {
  check_inv_stats inv[ORACLE_INVARIANT_COUNT];
  size_t planned, played, dropped_login, timeouts, connect_failures, limits;
  size_t dropped_implicit;   /* sequences about AUTH, not played on implicit TLS */
  bool auth_ssl;             /* AUTH TLS refused, AUTH SSL taken: sequences used it */
  size_t data_retries;       /* a data TLS handshake hung: played again, started late */
  size_t data_retry_ok;      /* ... and then it did not hang */
  size_t by_origin[CHECK_MUTANT + 1];
  char base[CHECK_BASE_MAX]; /* working directory on the server ("" = none) */
  bool setup_ok, cleanup_ok, logged_in;
  char setup_note[256];      /* why setup/cleanup did not happen or failed */
  char first_timeout[64];    /* name of the first sequence that timed out */
  bool no_greeting;          /* the target accepted and sent no FTP greeting */
  check_seq *seqs;           /* |planned| entries, by plan order (NULL before planning) */
  double seconds;
} check_report;

void check_report_init(check_report *r);
void check_report_cleanup(check_report *r); /* accepts a zeroed report */

/* check_run plays everything against the target and fills |*r|. Returns 0,
 * CHECK_ERR_CONNECT when the target cannot be reached at all (nothing was
 * judged), or CHECK_ERR_NOMEM. |*r| holds what was done either way. */
enum { CHECK_OK = 0, CHECK_ERR_NOMEM = -1, CHECK_ERR_CONNECT = -2 };
int check_run(const check_options *o, check_report *r);

/* check_security_violated says whether a SECURITY invariant was violated. */
bool check_security_violated(const check_report *r);

/* The run's result, the exit status of `ftpsfuzz check`. */
enum { CHECK_RESULT_OK = 0, CHECK_RESULT_VIOLATED = 1, CHECK_RESULT_NOT_JUDGED = 3 };

/* How one invariant came out over the whole run. */
typedef enum check_status {
  CHECK_STATUS_OK,          /* passed at least once, never violated */
  CHECK_STATUS_VIOLATED,
  CHECK_STATUS_NOT_JUDGED,  /* no sequence decided it */
  CHECK_STATUS_NA_POLICY,   /* states nothing under the declared policy */
  CHECK_STATUS_NA_LOGIN,    /* needs a data connection, hence a login: no credentials */
} check_status;

check_status check_inv_status(const check_report *r, const check_options *o, oracle_invariant i);
const char *check_status_name(check_status s);

/* check_result decides the exit status: VIOLATED on a security violation;
 * OK only when every security invariant that applies was decided at least
 * once; NOT_JUDGED otherwise, with a one-line explanation in |why|. */
int check_result(const check_report *r, const check_options *o, char *why, size_t why_len);

/* --- reporting (check_report.c) --- */

/* check_print_table writes the per-invariant table. */
void check_print_table(const check_report *r, const check_options *o, FILE *out);
/* check_write_outputs writes DIR/report.json and DIR/<INVARIANT>.fts for each
 * violated invariant (the shortest violating script, its violation and the
 * server's answers as comments, and a "# config:" line so that
 * `ftpsfuzz run --connect HOST:PORT --oracle FILE` replays and judges it).
 * Creates DIR. Returns 0 or -1 with a message in |err|. */
int check_write_outputs(const check_report *r, const check_options *o, const char *dir,
                        char *err, size_t err_len);

/* --- reaching the target (check_conn.c) --- */

/* check_conn_runner_options: the runner options every connection of the
 * run uses (step timeout, TLS versions, implicit TLS). */
runner_options check_conn_runner_options(const check_options *o);
/* check_conn_describe writes what applied to the connections, for the
 * table header and report.json: "TLS 1.2-1.3", "implicit TLS, TLS 1.2-1.2". */
void check_conn_describe(const check_options *o, const check_report *r, char *out,
                         size_t out_len);
/* check_conn_version_name: "1.2", "1.3" or "any" (0). */
const char *check_conn_version_name(uint16_t v);
/* check_conn_write_json writes the "connection" member of report.json
 * (with a trailing comma and newline). */
void check_conn_write_json(FILE *f, const check_options *o, const check_report *r);

/* check_conn_auth_ssl_only: the target refuses "AUTH TLS" with a 4xx/5xx
 * but answers "AUTH SSL" with 234 and a handshake that completes (two
 * connections). False when AUTH TLS works or neither does. */
bool check_conn_auth_ssl_only(const check_options *o);

/* check_conn_play plays |script| like runner_run_tcp with |opt|. When a
 * data TLS handshake hung until the step timeout (data_tls_stalled) and the
 * script does not set data_handshake itself, it plays the script once more
 * with "# client: data_handshake=late" in front (the handshake after the
 * transfer command's 1xx instead of at connect) and keeps that run if its
 * data handshake did not hang. |*out_retry|: 0 no retry, 1 retried in vain,
 * 2 retried and the late handshake worked. Returns runner_run_tcp's value
 * for the run kept. */
int check_conn_play(const check_options *o, const transcript *script, const runner_options *opt,
                    transcript *got, runner_result *res, int *out_retry);

/* check_conn_implicit_keeps: |t| (a script for explicit TLS) also makes
 * sense on an implicit-TLS connection - its first client step is "C: AUTH
 * TLS" or "C: AUTH SSL" alone, followed by "T: handshake", and no other
 * handshake follows (scripts about the upgrade itself, pipelining behind
 * AUTH, plaintext before TLS, do not apply). */
bool check_conn_implicit_keeps(const transcript *t);
/* check_conn_implicit_strip appends |in| to |out| without that first AUTH
 * and its handshake. 0 or -1 (out of memory). */
int check_conn_implicit_strip(const transcript *in, transcript *out);

/* --- the targeted probes (check_probes.c) --- */

/* check_probes appends the probe scripts (written for the built-in test
 * configuration, like the generator's) to |out| and their names to |names|
 * (|names| has room for CHECK_PROBES_MAX). Returns the count or -1. */
#define CHECK_PROBES_MAX 32u
long check_probes(gen_set *out, const char **names);

/* --- adapting a script to the target (check_adapt.c) --- */

typedef struct check_adapt_ctx {
  const char *user, *pass;   /* NULL: no credentials */
  const char *base;          /* absolute working directory, "" if none */
  char local_ip[64];         /* the checker's own address (for PORT/EPRT); "" unknown */
  bool ipv6;                 /* the target is IPv6 */
  bool no_plain_secret;      /* TLS is required for login: a login line sent in
                                plaintext carries a wrong password, not |pass| */
  bool implicit;             /* implicit TLS: see check_conn_implicit_keeps */
  bool auth_ssl;             /* "AUTH TLS" lines become "AUTH SSL" */
} check_adapt_ctx;

/* check_adapt appends to |out| an adapted copy of the client steps and
 * comments of |in| (S:/E: expectations are dropped): the built-in user and
 * password replaced by the given ones, /pub and /upload mapped under the
 * working directory, a "CWD <base>/upload" after each successful-login line
 * and before each STOU, write commands confined to the working directory,
 * PORT/EPRT pointing at the checker's own address, AUTH TLS as AUTH SSL
 * when the target only takes that. Write boundaries and TLS
 * steps stay where they were, so pipelined and split writes stay pipelined
 * and split. |*out_touches| (may be NULL) says whether a write command names
 * a file of <base>/pub (the fixture must then be restored). Under
 * |implicit| the leading AUTH and its handshake are left out, and a script
 * that check_conn_implicit_keeps refuses is dropped. Returns 0, 1 if the
 * sequence needs a login and no credentials were given, 2 if it is about
 * AUTH and the target uses implicit TLS (|out| is unspecified for 1 and 2),
 * or -1 (out of memory). */
int check_adapt(const check_adapt_ctx *c, const transcript *in, transcript *out,
                bool *out_touches);

/* check_client_steps counts the client steps (C R T W D) of |t|. */
size_t check_client_steps(const transcript *t);

/* --- judging (check_judge.c) --- */

/* check_judge judges |got| with the one judge (judge.h, every violation)
 * against |cfg|, with |secret| (the --pass given, or NULL) as the account's
 * password; sets |violated[inv]| for every invariant broken; copies the
 * first violation of each broken invariant into |why[inv]| (may be NULL).
 * Returns the number of violations or -1 (out of memory). */
long check_judge(const model_config *cfg, const char *secret, const transcript *got,
                 bool *violated, char (*why)[512]);

/* --- three outcomes (check_verdict.c) --- */

/* check_verdicts gives each invariant its verdict for one sequence: the
 * adapted |script| says what it set out to exercise, the transcript |got|
 * what was decided, |violated| (check_judge) what broke. |why| gets the
 * reason of each INCONCLUSIVE one. */
void check_verdicts(const model_config *cfg, const transcript *script, const transcript *got,
                    const bool *violated, check_verdict *v, check_reason *why);
/* check_not_applicable: |inv| states nothing under |cfg|'s policy
 * (TLS_REQUIRED_LOGIN and TLS_REQUIRED_STAYS_TLS without tls-login). */
bool check_not_applicable(const model_config *cfg, oracle_invariant inv);

#endif
