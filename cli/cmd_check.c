/* cmd_check.c - `ftpsfuzz check HOST:PORT [options]`: judge a live FTPS
 * server with the model (driver/check.h). Exit 1 when a security invariant
 * is violated, 0 when every security invariant that applies was decided and
 * none violated, 3 when the run could not judge one (check_result), 2 on
 * bad usage or an unreachable target. */
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "check.h"
#include "cli.h"
#include "cli_args.h"
#include "runner.h"

static int usage(FILE *f) {
  fprintf(f,
          "usage: ftpsfuzz check [ftps://]HOST:PORT [--user U --pass P] [--profile rfc|default]\n"
          "         [--policy SPEC] [--walks N] [--seed S] [--mutants N] [--out DIR]\n"
          "         [--concurrency N] [--rate R] [--timeout MS] [--settle MS] [--transcripts]\n"
          "         [--quiet] [--tls-min 1.2|1.3] [--tls-max 1.2|1.3] [--quiet-wait MS]\n"
          "\n"
          "Judge a live FTPS server (explicit TLS, RFC 4217; ftps://HOST:PORT for implicit\n"
          "TLS, where the sequences about AUTH are left out) with the model: play the\n"
          "targeted probes, the model's cover set for the declared policy and optional\n"
          "random walks and mutated sequences, each on a fresh connection with real TLS\n"
          "on control and data connections, and judge every transcript with the oracle.\n"
          "  --user U --pass P  the login to use (the password may also come from the\n"
          "                     FTPSFUZZ_CHECK_PASS environment variable); without them\n"
          "                     only sequences that need no login are played. Writes go\n"
          "                     only to <home>/ftpsfuzz-check-<hex>, removed at the end\n"
          "  --profile          default (what real servers answer, the default) or rfc\n"
          "  --policy SPEC      the server's configuration, e.g.\n"
          "                     tls-login=on,tls-data=on,anon=off,ccc=off (the default)\n"
          "  --walks N          random walks over the model (default 0, at most 10000)\n"
          "  --seed S           seed of walks and mutants (default 1)\n"
          "  --mutants N        mutated cover scripts (default 0, at most 10000)\n"
          "  --out DIR          write DIR/report.json and DIR/<INVARIANT>.fts, the\n"
          "                     shortest violating script of each violated invariant\n"
          "                     (replay: ftpsfuzz run --connect HOST:PORT --oracle FILE)\n"
          "  --concurrency N    connections at once (default 1, at most %u)\n"
          "  --rate R           new control connections per second (default 20; 0 =\n"
          "                     unlimited)\n"
          "  --timeout MS       how long one step may wait for the server (default 5000);\n"
          "                     a silent server is reported, not waited on\n"
          "  --settle MS        after a step the server answered, read MS more before the\n"
          "                     next step (default 100), so a command answered twice is\n"
          "                     blamed, not the command after it\n"
          "  --transcripts      also write every transcript to DIR/transcripts/\n"
          "  --tls-min, --tls-max V  the TLS versions offered on control and data\n"
          "                     connections (1.2 or 1.3; default 1.2 to 1.3)\n"
          "  --quiet-wait MS    how long to listen after a handshake behind which commands\n"
          "                     were pipelined, for replies the server should never send\n"
          "                     (default 400)\n"
          "  --quiet            no progress lines on standard error\n"
          "Only HOST is ever contacted (resolved once); passive data connections go to\n"
          "it, PORT/EPRT name this host's own address.\n"
          "Every invariant in every sequence is passed, violated or inconclusive: passed\n"
          "only when the step that decides it was reached (the reply to the deciding\n"
          "command came, the data connection carried bytes, the handshake ended);\n"
          "inconclusive, with the reason (timeout, login refused, setup failed, no data\n"
          "moved, handshake failed/timeout, connection closed early, AUTH refused), when\n"
          "the sequence tried and never got there. Invariants that state nothing under\n"
          "the declared policy (TLS_REQUIRED_LOGIN and TLS_REQUIRED_STAYS_TLS without\n"
          "tls-login) and, without --user/--pass, those decided only on a data\n"
          "connection (PROT_P_DATA_IS_TLS, PROT_LEVEL_KEPT) are shown as n/a.\n"
          "Exit: 0 every security invariant that applies was decided at least once and\n"
          "none was violated; 1 a security invariant violated; 3 the run could not judge\n"
          "one (a silent or implicit-TLS port, timeouts, a refused login: one line says\n"
          "why); 2 bad usage, an unreachable target or an I/O error.\n",
          CHECK_CONCURRENCY_MAX);
  return CLI_USAGE;
}

int cmd_check(int argc, char **argv) {
  const char *target = NULL, *out_dir = NULL, *user = NULL, *pass = NULL;
  bool keep = false;
  char tdir[4096];
  model_profile profile = MODEL_PROFILE_DEFAULT;
  model_policy policy = model_policy_default();
  uint64_t walks = 0, mutants = 0, seed = 1, conc = 1, timeout = 5000, settle = 100;
  double rate = 20;
  bool quiet = false;
  check_conn conn;
  memset(&conn, 0, sizeof(conn));
  char err[512];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return CLI_OK;
    }
    if (!strcmp(a, "--quiet")) {
      quiet = true;
      continue;
    }
    if (!strcmp(a, "--transcripts")) {
      keep = true;
      continue;
    }
    if (a[0] != '-') {
      if (target) {
        fprintf(stderr, "ftpsfuzz check: more than one target ('%s' and '%s')\n", target, a);
        return usage(stderr);
      }
      target = a;
      continue;
    }
    if (!v) {
      fprintf(stderr, "ftpsfuzz check: '%s' expects a value (or is unknown)\n", a);
      return usage(stderr);
    }
    i++;
    if (!strcmp(a, "--user")) {
      user = v;
    } else if (!strcmp(a, "--pass")) {
      pass = v;
    } else if (!strcmp(a, "--out")) {
      out_dir = v;
    } else if (!strcmp(a, "--profile")) {
      if (!strcmp(v, "rfc"))
        profile = MODEL_PROFILE_RFC;
      else if (!strcmp(v, "default"))
        profile = MODEL_PROFILE_DEFAULT;
      else {
        fprintf(stderr, "ftpsfuzz check: --profile: expected rfc or default, got '%s'\n", v);
        return CLI_USAGE;
      }
    } else if (!strcmp(a, "--policy")) {
      if (model_policy_parse(&policy, v, err, sizeof(err)) != 0) {
        fprintf(stderr, "ftpsfuzz check: --policy: %s\n", err);
        return CLI_USAGE;
      }
    } else if (!strcmp(a, "--walks") || !strcmp(a, "--mutants")) {
      uint64_t *dst = a[2] == 'w' ? &walks : &mutants;
      if (cli_parse_u64(v, 10000, dst) != 0) {
        fprintf(stderr, "ftpsfuzz check: %s expects a count 0..10000, got '%s'\n", a, v);
        return CLI_USAGE;
      }
    } else if (!strcmp(a, "--seed")) {
      if (cli_parse_u64(v, UINT64_MAX, &seed) != 0) {
        fprintf(stderr, "ftpsfuzz check: --seed expects a decimal number, got '%s'\n", v);
        return CLI_USAGE;
      }
    } else if (!strcmp(a, "--concurrency")) {
      if (cli_parse_u64(v, CHECK_CONCURRENCY_MAX, &conc) != 0 || conc == 0) {
        fprintf(stderr, "ftpsfuzz check: --concurrency expects 1..%u, got '%s'\n",
                CHECK_CONCURRENCY_MAX, v);
        return CLI_USAGE;
      }
    } else if (!strcmp(a, "--timeout")) {
      if (cli_parse_u64(v, 600000, &timeout) != 0 || timeout < 10) {
        fprintf(stderr, "ftpsfuzz check: --timeout expects 10..600000 ms, got '%s'\n", v);
        return CLI_USAGE;
      }
    } else if (!strcmp(a, "--tls-min") || !strcmp(a, "--tls-max")) {
      if (runner_tls_version_parse(v, a[7] == 'i' ? &conn.tls_min : &conn.tls_max) != 0) {
        fprintf(stderr, "ftpsfuzz check: %s expects 1.2 or 1.3, got '%s'\n", a, v);
        return CLI_USAGE;
      }
    } else if (!strcmp(a, "--quiet-wait")) {
      uint64_t ms;
      if (cli_parse_u64(v, 60000, &ms) != 0 || ms == 0) {
        fprintf(stderr, "ftpsfuzz check: --quiet-wait expects 1..60000 ms, got '%s'\n", v);
        return CLI_USAGE;
      }
      conn.quiet_ms = (unsigned)ms;
    } else if (!strcmp(a, "--settle")) {
      if (cli_parse_u64(v, RUNNER_TCP_SETTLE_MAX, &settle) != 0) {
        fprintf(stderr, "ftpsfuzz check: --settle expects 0..%u ms, got '%s'\n",
                RUNNER_TCP_SETTLE_MAX, v);
        return CLI_USAGE;
      }
    } else if (!strcmp(a, "--rate")) {
      char *end = NULL;
      errno = 0;
      rate = strtod(v, &end);
      if (errno || *end || !(rate >= 0) || rate > 10000) {
        fprintf(stderr, "ftpsfuzz check: --rate expects 0..10000 per second, got '%s'\n", v);
        return CLI_USAGE;
      }
    } else {
      fprintf(stderr, "ftpsfuzz check: unexpected argument '%s'\n", a);
      return usage(stderr);
    }
  }
  if (!pass && user)
    pass = getenv("FTPSFUZZ_CHECK_PASS");
  if (conn.tls_min && conn.tls_max && conn.tls_min > conn.tls_max) {
    fprintf(stderr, "ftpsfuzz check: --tls-min is above --tls-max\n");
    return CLI_USAGE;
  }
  if (!target) {
    fprintf(stderr, "ftpsfuzz check: expected a target HOST:PORT\n");
    return usage(stderr);
  }
  if ((user == NULL) != (pass == NULL)) {
    fprintf(stderr, "ftpsfuzz check: --user and --pass go together\n");
    return CLI_USAGE;
  }
  if ((user && (!user[0] || strpbrk(user, "\r\n"))) || (pass && strpbrk(pass, "\r\n"))) {
    fprintf(stderr, "ftpsfuzz check: --user/--pass must be one line (and the user not empty)\n");
    return CLI_USAGE;
  }
  char host[256], port[8], addr[64];
  const char *hostport = target;
  if (!strncmp(target, "ftps://", 7)) {
    conn.implicit = true; /* TLS from the first byte (implicit FTPS) */
    hostport = target + 7;
  }
  if (cli_split_target(hostport, host, sizeof(host), port, sizeof(port)) != 0) {
    fprintf(stderr, "ftpsfuzz check: expected [ftps://]HOST:PORT or [ADDR]:PORT, got '%s'\n",
            target);
    return CLI_USAGE;
  }
  if (cli_resolve_once("check", host, port, addr, sizeof(addr)) != 0)
    return CLI_USAGE;

  check_options o;
  memset(&o, 0, sizeof(o));
  o.host = addr;
  o.port = port;
  o.user = user;
  o.pass = pass;
  o.model = model_config_make(profile, &policy);
  o.walks = (size_t)walks;
  o.mutants = (size_t)mutants;
  o.seed = seed;
  o.concurrency = (unsigned)conc;
  o.rate = rate;
  o.timeout_ms = (unsigned)timeout;
  o.settle_ms = (unsigned)settle;
  o.log = quiet ? NULL : stderr;
  o.conn = conn;
  if (keep) {
    if (!out_dir) {
      fprintf(stderr, "ftpsfuzz check: --transcripts needs --out DIR\n");
      return CLI_USAGE;
    }
    snprintf(tdir, sizeof(tdir), "%s/transcripts", out_dir);
    if ((mkdir(out_dir, 0777) != 0 && errno != EEXIST) ||
        (mkdir(tdir, 0777) != 0 && errno != EEXIST)) {
      fprintf(stderr, "ftpsfuzz check: %s: cannot create directory: %s\n", tdir,
              strerror(errno));
      return CLI_USAGE;
    }
    o.transcripts_dir = tdir;
  }

  check_report *r = calloc(1, sizeof(*r));
  if (!r) {
    fprintf(stderr, "ftpsfuzz check: out of memory\n");
    return CLI_USAGE;
  }
  check_report_init(r);
  int rc = check_run(&o, r);
  int status = CLI_OK;
  if (rc == CHECK_ERR_CONNECT) {
    fprintf(stderr, "ftpsfuzz check: %s: %s\n", target,
            r->setup_note[0] ? r->setup_note : "unreachable");
    status = CLI_USAGE;
    goto out;
  }
  if (rc != CHECK_OK) {
    fprintf(stderr, "ftpsfuzz check: out of memory (or a script could not be played)\n");
    status = CLI_USAGE;
    goto out;
  }
  printf("ftpsfuzz check %s (%s:%s), profile %s, policy tls-login=%s,tls-data=%s,anon=%s,"
         "ccc=%s\n",
         target, addr, port, profile == MODEL_PROFILE_RFC ? "rfc" : "default",
         o.model.policy.tls_login ? "on" : "off", o.model.policy.tls_data ? "on" : "off",
         o.model.policy.anon ? "on" : "off", o.model.policy.ccc ? "on" : "off");
  char conn_desc[256];
  check_conn_describe(&o, r, conn_desc, sizeof(conn_desc));
  printf("connection: %s\n", conn_desc);
  check_print_table(r, &o, stdout);
  if (r->base[0])
    printf("working directory %s: %s\n", r->base,
           r->cleanup_ok ? "removed" : "NOT fully removed");
  else if (r->setup_note[0])
    printf("note: %s\n", r->setup_note);
  if (out_dir) {
    if (check_write_outputs(r, &o, out_dir, err, sizeof(err)) != 0) {
      fprintf(stderr, "ftpsfuzz check: %s\n", err);
      status = CLI_USAGE;
      goto out;
    }
    printf("wrote %s/report.json\n", out_dir);
  }
  status = check_result(r, &o, err, sizeof(err));
  if (status == CHECK_RESULT_VIOLATED)
    printf("RESULT: security invariant violated\n");
  else if (status == CHECK_RESULT_OK)
    printf("RESULT: no security invariant violated, each one that applies decided at least "
           "once\n");
  else
    printf("RESULT: not judged: %s\n", err);
out:
  check_report_cleanup(r);
  free(r);
  return status;
}
