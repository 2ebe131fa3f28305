/* check_conn.c - how `ftpsfuzz check` reaches a target as it is (issue 11
 * item 6): the TLS versions it offers, implicit TLS (ftps://), AUTH SSL
 * for a server that refuses AUTH TLS, and what the report says about them. */
#include "check.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/ssl.h>

runner_options check_conn_runner_options(const check_options *o) {
  runner_options opt = runner_options_default();
  opt.timeout_ms = o->timeout_ms;
  opt.tls_min = o->conn.tls_min;
  opt.tls_max = o->conn.tls_max;
  opt.implicit_tls = o->conn.implicit;
  opt.quiet_ms = o->conn.quiet_ms;
  opt.settle_ms = o->settle_ms;
  return opt;
}

const char *check_conn_version_name(uint16_t v) {
  switch (v) {
  case TLS1_2_VERSION: return "1.2";
  case TLS1_3_VERSION: return "1.3";
  default: return "any";
  }
}

void check_conn_describe(const check_options *o, const check_report *r, char *out,
                         size_t out_len) {
  char implicit[96] = "explicit TLS (AUTH TLS)";
  if (r->auth_ssl)
    snprintf(implicit, sizeof(implicit), "explicit TLS (AUTH SSL: the server refused AUTH TLS)");
  if (o->conn.implicit)
    snprintf(implicit, sizeof(implicit), "implicit TLS (%zu sequences about AUTH not played)",
             r->dropped_implicit);
  char retried[160] = "";
  if (r->data_retries)
    snprintf(retried, sizeof(retried),
             "; data TLS hung on %zu sequences, retried with the handshake after the transfer "
             "reply: %zu worked",
             r->data_retries, r->data_retry_ok);
  /* tls_client.h: TLS 1.2 is the floor, 1.3 the library's ceiling */
  snprintf(out, out_len, "%s, TLS %s-%s%s", implicit,
           check_conn_version_name(o->conn.tls_min ? o->conn.tls_min : TLS1_2_VERSION),
           check_conn_version_name(o->conn.tls_max ? o->conn.tls_max : TLS1_3_VERSION), retried);
}

void check_conn_write_json(FILE *f, const check_options *o, const check_report *r) {
  char desc[256];
  check_conn_describe(o, r, desc, sizeof(desc)); /* plain ASCII, no quotes */
  fprintf(f,
          "  \"connection\": {\"summary\": \"%s\", \"tls_min\": \"%s\", \"tls_max\": "
          "\"%s\", \"implicit\": %s, \"skipped_implicit\": %zu, \"auth\": \"%s\", "
          "\"data_handshake_retries\": %zu, \"data_handshake_late_worked\": %zu},\n",
          desc, check_conn_version_name(o->conn.tls_min), check_conn_version_name(o->conn.tls_max),
          o->conn.implicit ? "true" : "false", r->dropped_implicit,
          o->conn.implicit ? "none" : r->auth_ssl ? "SSL" : "TLS", r->data_retries,
          r->data_retry_ok);
}

static bool is_client_step(transcript_kind k) {
  return k == TRANSCRIPT_C || k == TRANSCRIPT_R || k == TRANSCRIPT_T || k == TRANSCRIPT_W ||
         k == TRANSCRIPT_D;
}

static bool step_eq(const transcript_step *st, transcript_kind k, const char *text) {
  size_t n = strlen(text);
  return st->kind == k && st->len == n && memcmp(st->data, text, n) == 0;
}

/* first_auth finds the leading "C: AUTH TLS|SSL" + "T: handshake": the
 * index of the AUTH step (*hs: of the handshake), or -1. */
static long first_auth(const transcript *t, size_t *hs) {
  size_t i = 0;
  while (i < t->n && !is_client_step(t->steps[i].kind))
    i++;
  if (i == t->n || !(step_eq(&t->steps[i], TRANSCRIPT_C, "AUTH TLS") ||
                     step_eq(&t->steps[i], TRANSCRIPT_C, "AUTH SSL")))
    return -1;
  size_t k = i + 1;
  while (k < t->n && !is_client_step(t->steps[k].kind))
    k++;
  if (k == t->n || !step_eq(&t->steps[k], TRANSCRIPT_T, "handshake"))
    return -1;
  *hs = k;
  return (long)i;
}

bool check_conn_implicit_keeps(const transcript *t) {
  size_t hs = 0;
  if (first_auth(t, &hs) < 0)
    return false;
  for (size_t i = hs + 1; i < t->n; i++)
    if (step_eq(&t->steps[i], TRANSCRIPT_T, "handshake"))
      return false;
  return true;
}

int check_conn_implicit_strip(const transcript *in, transcript *out) {
  size_t hs = 0;
  long auth = first_auth(in, &hs);
  for (size_t i = 0; i < in->n; i++) {
    if (auth >= 0 && (i == (size_t)auth || i == hs))
      continue;
    if (transcript_add(out, in->steps[i].kind, in->steps[i].data, in->steps[i].len) != 0)
      return -1;
  }
  return 0;
}

/* first_reply_to: the first S: line after the client step |cmd| in |got|
 * starts with |prefix|. */
static bool first_reply_to(const transcript *got, const char *cmd, const char *prefix) {
  size_t pl = strlen(prefix);
  for (size_t i = 0; i < got->n; i++) {
    if (!step_eq(&got->steps[i], TRANSCRIPT_C, cmd))
      continue;
    for (size_t k = i + 1; k < got->n; k++)
      if (got->steps[k].kind == TRANSCRIPT_S)
        return got->steps[k].len >= pl && memcmp(got->steps[k].data, prefix, pl) == 0;
    return false;
  }
  return false;
}

static bool has_step(const transcript *got, transcript_kind k, const char *text) {
  for (size_t i = 0; i < got->n; i++)
    if (step_eq(&got->steps[i], k, text))
      return true;
  return false;
}

/* rate_gap waits one slot of |o->rate| (these connections come before the
 * paced ones: waiting on both sides keeps every gap at least one slot). */
static void rate_gap(const check_options *o) {
  if (o->rate <= 0)
    return;
  double w = 1.0 / o->rate;
  struct timespec ts = {(time_t)w, (long)((w - (double)(time_t)w) * 1e9)};
  nanosleep(&ts, NULL);
}

/* play_text plays |text| once; |got| receives the transcript. */
static void play_text(const check_options *o, const char *text, transcript *got) {
  transcript s;
  char err[128];
  rate_gap(o);
  runner_options opt = check_conn_runner_options(o);
  opt.script_name = "check-auth";
  transcript_init(&s);
  if (transcript_parse_text(&s, text, strlen(text), "check-auth", err, sizeof(err)) == 0)
    runner_run_tcp(o->host, o->port, &s, &opt, got, NULL);
  transcript_cleanup(&s);
  rate_gap(o);
}

bool check_conn_auth_ssl_only(const check_options *o) {
  transcript got;
  transcript_init(&got);
  /* Nothing after the AUTH: a 234 would make plaintext hang. */
  play_text(o, "C: AUTH TLS\n", &got);
  bool refused = first_reply_to(&got, "AUTH TLS", "5") || first_reply_to(&got, "AUTH TLS", "4");
  transcript_cleanup(&got);
  if (!refused)
    return false;
  transcript_init(&got);
  play_text(o, "C: AUTH SSL\nT: handshake\nC: QUIT\n", &got);
  bool works = first_reply_to(&got, "AUTH SSL", "234") && has_step(&got, TRANSCRIPT_E, "handshake ok");
  transcript_cleanup(&got);
  return works;
}

/* sets_data_handshake: |t| chooses the data handshake's timing itself. */
static bool sets_data_handshake(const transcript *t) {
  for (size_t i = 0; i < t->n; i++)
    if (t->steps[i].kind == TRANSCRIPT_COMMENT &&
        memmem(t->steps[i].data, t->steps[i].len, "data_handshake=", 15) != NULL)
      return true;
  return false;
}

int check_conn_play(const check_options *o, const transcript *script, const runner_options *opt,
                    transcript *got, runner_result *res, int *out_retry) {
  *out_retry = 0;
  int rr = runner_run_tcp(o->host, o->port, script, opt, got, res);
  if (rr < 0 || !res->data_tls_stalled || sets_data_handshake(script))
    return rr;
  static const char late[] = " client: data_handshake=late";
  transcript again, got2;
  runner_result res2;
  transcript_init(&again);
  transcript_init(&got2);
  int rc = rr;
  if (transcript_add(&again, TRANSCRIPT_COMMENT, late, sizeof(late) - 1) != 0)
    goto out;
  for (size_t i = 0; i < script->n; i++)
    if (transcript_add(&again, script->steps[i].kind, script->steps[i].data,
                       script->steps[i].len) != 0)
      goto out;
  *out_retry = 1;
  int rr2 = runner_run_tcp(o->host, o->port, &again, opt, &got2, &res2);
  if (rr2 >= 0 && !res2.data_tls_stalled) {
    /* the run the server could take part in is the one judged */
    transcript tmp = *got;
    *got = got2;
    got2 = tmp;
    *res = res2;
    rc = rr2;
    *out_retry = 2;
  }
out:
  transcript_cleanup(&again);
  transcript_cleanup(&got2);
  return rc;
}
