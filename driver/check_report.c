/* check_report.c - the checker's outputs: the per-invariant table,
 * report.json and one replayable .fts per violated invariant. */
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *sev_name(oracle_invariant i) {
  return oracle_invariant_severity(i) == ORACLE_SECURITY ? "security" : "conformance";
}

/* reasons_text: "timeout 3, login refused 1" (or "" when none). */
static void reasons_text(const check_inv_stats *s, char *buf, size_t len) {
  size_t at = 0;
  buf[0] = 0;
  for (size_t k = 1; k < CHECK_REASON_COUNT && at < len; k++) {
    if (!s->reasons[k])
      continue;
    int w = snprintf(buf + at, len - at, "%s%s %zu", at ? ", " : "",
                     check_reason_name((check_reason)k), s->reasons[k]);
    if (w < 0)
      break;
    at += (size_t)w;
  }
}

/* na_text: why an invariant does not count. */
static const char *na_text(check_status st) {
  return st == CHECK_STATUS_NA_POLICY  ? "(states nothing without tls-login)"
         : st == CHECK_STATUS_NA_LOGIN ? "(needs a data connection: no --user/--pass)"
                                       : "";
}

void check_print_table(const check_report *r, const check_options *o, FILE *out) {
  char reasons[256];
  fprintf(out, "%-24s %-12s %8s %8s %8s %8s  %-10s %s\n", "invariant", "severity", "checked",
          "passed", "violated", "inconcl.", "verdict", "inconclusive because");
  for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++) {
    const check_inv_stats *s = &r->inv[i];
    check_status st = check_inv_status(r, o, (oracle_invariant)i);
    reasons_text(s, reasons, sizeof(reasons));
    fprintf(out, "%-24s %-12s %8zu %8zu %8zu %8zu  %-10s %s%s%s\n",
            oracle_invariant_name((oracle_invariant)i), sev_name((oracle_invariant)i), s->checked,
            s->checked - s->violated, s->violated, s->inconclusive, check_status_name(st),
            reasons, reasons[0] && na_text(st)[0] ? " " : "", na_text(st));
  }
  fprintf(out,
          "sequences: %zu played (%zu probes, %zu cover, %zu walks, %zu mutants), %zu skipped "
          "(need a login), %zu timed out, %zu connection failures\n",
          r->played, r->by_origin[CHECK_PROBE], r->by_origin[CHECK_COVER],
          r->by_origin[CHECK_WALK], r->by_origin[CHECK_MUTANT], r->dropped_login, r->timeouts,
          r->connect_failures);
  if (r->timeouts)
    fprintf(out, "the server kept the client waiting (first: %s): reported, not waited on\n",
            r->first_timeout);
  for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++)
    if (r->inv[i].example.have)
      fprintf(out, "%s: %s [%s]\n", oracle_invariant_name((oracle_invariant)i),
              r->inv[i].example.why, r->inv[i].example.name);
}

static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p < 0x20 || *p >= 0x7f)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

/* print_as_comments writes every step of |t| as a "# " comment line. */
static int print_as_comments(const transcript *t, FILE *f) {
  for (size_t i = 0; i < t->n; i++) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
      return -1;
    int r = transcript_print_step(&t->steps[i], m);
    fclose(m);
    if (r != 0) {
      free(buf);
      return -1;
    }
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
      len--;
    fprintf(f, "#   %.*s\n", (int)len, buf);
    free(buf);
  }
  return 0;
}

static int write_example(const check_report *r, const check_options *o, const char *dir,
                         oracle_invariant inv, char *err, size_t err_len) {
  const check_example *e = &r->inv[inv].example;
  char path[4096], policy[256];
  snprintf(path, sizeof(path), "%s/%s.fts", dir, oracle_invariant_name(inv));
  FILE *f = fopen(path, "w");
  if (!f) {
    snprintf(err, err_len, "%s: cannot write: %s", path, strerror(errno));
    return -1;
  }
  gen_policy_comment(&o->model.policy, policy, sizeof(policy));
  fprintf(f, "# ftpsfuzz check: the shortest sequence violating %s (%s)\n",
          oracle_invariant_name(inv), sev_name(inv));
  fprintf(f, "# sequence: %s; %s\n", e->name, e->why);
  fprintf(f, "# replay: ftpsfuzz run --connect %s%s%s%s:%s%s%s%s%s --settle %u --oracle %s.fts\n",
          o->conn.implicit ? "ftps://" : "", strchr(o->host, ':') ? "[" : "", o->host,
          strchr(o->host, ':') ? "]" : "", o->port, o->conn.tls_min ? " --tls-min " : "",
          o->conn.tls_min ? check_conn_version_name(o->conn.tls_min) : "",
          o->conn.tls_max ? " --tls-max " : "",
          o->conn.tls_max ? check_conn_version_name(o->conn.tls_max) : "", o->settle_ms,
          oracle_invariant_name(inv));
  if (o->model.profile == MODEL_PROFILE_RFC)
    fprintf(f, "# judged with --profile rfc\n");
  if (o->pass)
    fprintf(f, "# note: this script holds the password given to ftpsfuzz check\n");
  fprintf(f, "#%s\n", policy);
  for (size_t i = 0; i < e->script.n; i++) {
    const transcript_step *st = &e->script.steps[i];
    if (st->kind == TRANSCRIPT_COMMENT && st->len >= 8 && !memcmp(st->data, " config:", 8))
      continue;
    if (transcript_print_step(st, f) != 0)
      goto fail;
  }
  fprintf(f, "# what the server did:\n");
  if (print_as_comments(&e->got, f) != 0)
    goto fail;
  if (fclose(f) != 0) {
    snprintf(err, err_len, "%s: write failed", path);
    return -1;
  }
  return 0;
fail:
  fclose(f);
  snprintf(err, err_len, "%s: write failed", path);
  return -1;
}

/* write_sequences lists every played sequence with its verdict on each
 * invariant it tried or decided, the reasons, and its transcript. */
static void write_sequences(const check_report *r, const check_options *o, FILE *f) {
  bool first = true;
  for (size_t q = 0; r->seqs && q < r->planned; q++) {
    const check_seq *s = &r->seqs[q];
    if (!s->name[0])
      continue; /* not played */
    fprintf(f, "%s    {\"name\": ", first ? "" : ",\n");
    first = false;
    json_str(f, s->name);
    fprintf(f, ", \"origin\": \"%s\", \"timed_out\": %s, \"transcript\": ",
            check_origin_name(s->origin), s->timed_out ? "true" : "false");
    if (o->transcripts_dir) {
      char path[4096];
      snprintf(path, sizeof(path), "%s/%s.fts", o->transcripts_dir, s->name);
      json_str(f, path);
    } else {
      fprintf(f, "null");
    }
    fprintf(f, ", \"verdicts\": {");
    for (size_t i = 0, n = 0; i < ORACLE_INVARIANT_COUNT; i++) {
      check_verdict v = (check_verdict)s->verdict[i];
      if (v == CHECK_VERDICT_NONE)
        continue;
      fprintf(f, "%s\"%s\": ", n++ ? ", " : "", oracle_invariant_name((oracle_invariant)i));
      if (v == CHECK_VERDICT_INCONCLUSIVE)
        fprintf(f, "\"inconclusive: %s\"", check_reason_name((check_reason)s->reason[i]));
      else
        fprintf(f, "\"%s\"", check_verdict_name(v));
    }
    fprintf(f, "}}");
  }
  if (!first)
    fprintf(f, "\n");
}

int check_write_outputs(const check_report *r, const check_options *o, const char *dir,
                        char *err, size_t err_len) {
  char path[4096];
  if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
    snprintf(err, err_len, "%s: cannot create directory: %s", dir, strerror(errno));
    return -1;
  }
  for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++)
    if (r->inv[i].example.have &&
        write_example(r, o, dir, (oracle_invariant)i, err, err_len) != 0)
      return -1;
  snprintf(path, sizeof(path), "%s/report.json", dir);
  FILE *f = fopen(path, "w");
  if (!f) {
    snprintf(err, err_len, "%s: cannot write: %s", path, strerror(errno));
    return -1;
  }
  const model_policy *p = &o->model.policy;
  fprintf(f, "{\n  \"target\": ");
  json_str(f, o->host);
  fprintf(f, ",\n  \"port\": %s,\n", o->port);
  fprintf(f, "  \"profile\": \"%s\",\n", o->model.profile == MODEL_PROFILE_RFC ? "rfc" : "default");
  fprintf(f,
          "  \"policy\": {\"tls_login\": %s, \"tls_data\": %s, \"anonymous\": %s, \"ccc\": %s},\n",
          p->tls_login ? "true" : "false", p->tls_data ? "true" : "false",
          p->anon ? "true" : "false", p->ccc ? "true" : "false");
  check_conn_write_json(f, o, r);
  fprintf(f, "  \"logged_in\": %s,\n  \"working_directory\": ", r->logged_in ? "true" : "false");
  json_str(f, r->base);
  fprintf(f, ",\n  \"cleanup_ok\": %s,\n  \"note\": ", r->cleanup_ok ? "true" : "false");
  json_str(f, r->setup_note);
  fprintf(f,
          ",\n  \"sequences\": {\"planned\": %zu, \"played\": %zu, \"probe\": %zu, \"cover\": %zu, "
          "\"walk\": %zu, \"mutant\": %zu, \"skipped_need_login\": %zu, \"timeouts\": %zu, "
          "\"connection_failures\": %zu, \"runner_limits\": %zu},\n",
          r->planned, r->played, r->by_origin[CHECK_PROBE], r->by_origin[CHECK_COVER],
          r->by_origin[CHECK_WALK], r->by_origin[CHECK_MUTANT], r->dropped_login, r->timeouts,
          r->connect_failures, r->limits);
  char why[1024];
  int result = check_result(r, o, why, sizeof(why));
  fprintf(f, "  \"seconds\": %.1f,\n  \"security_violated\": %s,\n  \"exit\": %d,\n",
          r->seconds, check_security_violated(r) ? "true" : "false", result);
  fprintf(f, "  \"explanation\": ");
  json_str(f, why);
  fprintf(f, ",\n  \"invariants\": [\n");
  for (size_t i = 0; i < ORACLE_INVARIANT_COUNT; i++) {
    const check_inv_stats *s = &r->inv[i];
    check_status st = check_inv_status(r, o, (oracle_invariant)i);
    fprintf(f, "    {\"name\": \"%s\", \"severity\": \"%s\", \"status\": \"%s\", "
               "\"checked\": %zu, \"passed\": %zu, \"violated\": %zu, \"inconclusive\": %zu, "
               "\"reasons\": {",
            oracle_invariant_name((oracle_invariant)i), sev_name((oracle_invariant)i),
            st == CHECK_STATUS_NA_POLICY   ? "n/a (policy)"
            : st == CHECK_STATUS_NA_LOGIN  ? "n/a (no credentials)"
                                           : check_status_name(st),
            s->checked, s->checked - s->violated, s->violated, s->inconclusive);
    for (size_t k = 1, nr = 0; k < CHECK_REASON_COUNT; k++)
      if (s->reasons[k])
        fprintf(f, "%s\"%s\": %zu", nr++ ? ", " : "", check_reason_name((check_reason)k),
                s->reasons[k]);
    fprintf(f, "}");
    if (s->example.have) {
      fprintf(f, ", \"example\": {\"file\": \"%s.fts\", \"sequence\": ",
              oracle_invariant_name((oracle_invariant)i));
      json_str(f, s->example.name);
      fprintf(f, ", \"client_steps\": %zu, \"violation\": ", s->example.client_steps);
      json_str(f, s->example.why);
      fprintf(f, "}");
    }
    fprintf(f, "}%s\n", i + 1 < ORACLE_INVARIANT_COUNT ? "," : "");
  }
  fprintf(f, "  ],\n  \"sequences_played\": [\n");
  write_sequences(r, o, f);
  fprintf(f, "  ]\n}\n");
  if (fclose(f) != 0) {
    snprintf(err, err_len, "%s: write failed", path);
    return -1;
  }
  return 0;
}
