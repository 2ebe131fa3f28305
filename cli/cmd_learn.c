/* cmd_learn.c - `ftpsfuzz learn`: infer a server's state machine by active
 * automata learning (model/learn.h) through the FTPS mapper
 * (driver/learn_ftps.h) and diff it against the model (driver/learn_diff.h).
 * Exit 0 no diff, 1 a learned transition the model does not allow, 3
 * inconclusive: the budget ran out first or a query never got a majority
 * answer (the machine is the last hypothesis), 2 bad usage, an unreachable
 * target or an I/O error - as `check`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_args.h"
#include "learn.h"
#include "learn_alphabet.h"
#include "learn_cand.h"
#include "learn_diff.h"
#include "learn_export.h"
#include "learn_ftps.h"
#include "learn_report.h"
#include "ftps_tls.h"
#include "test_config.h"
#include "tls_client.h"

enum { LEARN_EXIT_INCONCLUSIVE = 3 }; /* budget or non-determinism: as check's */

static int usage(FILE *f) {
  fprintf(f,
          "usage: ftpsfuzz learn [--connect HOST:PORT --user U --pass P] [--config k=v ...]\n"
          "         [--alphabet core|security|full|FILE] [--algorithm lsharp|lstar]\n"
          "         [--max-queries N] [--time S] [--cache FILE] [--no-model]\n"
          "         [--concurrency N] [--rate R] [--timeout MS] [--settle MS]\n"
          "         [--server-config FILE] [--seed S] [--eq-tests N] [--extra-states K]\n"
          "         [--repeats N]\n"
          "         [--out DIR] [--quiet]\n"
          "\n"
          "Learn the server's real state machine over an abstract alphabet (each query a\n"
          "fresh connection: the in-process server with the built-in test configuration,\n"
          "or --connect HOST:PORT), then replay every learned transition through the\n"
          "judge under the declared policy and list those the model does not allow.\n"
          "  --connect HOST:PORT  a live server (explicit TLS); without it, in-process\n"
          "  --user U --pass P  the account (over TCP; the password may also come from\n"
          "                     FTPSFUZZ_CHECK_PASS). PASS_OK sends it as the alphabet\n"
          "                     says, in plaintext too: use a test account\n"
          "  --config k=v       the declared policy, one key a time (ccc, anonymous,\n"
          "                     tls_login, tls_data, tls_reuse = on|off; max_failures,\n"
          "                     fail_delay); in-process also the server's\n"
          "  --server-config FILE  in-process: a `run --config` file applied to the\n"
          "                     server only, after --config (a server that differs from\n"
          "                     what is declared)\n"
          "  --alphabet A       core (8 inputs, default), security (19), full (26), or a\n"
          "                     file naming inputs one per line\n"
          "  --algorithm        lsharp (default) or lstar\n"
          "  --max-queries N    stop after N queries (exit 3 with the last hypothesis)\n"
          "  --time S           stop after S seconds (exit 3 likewise)\n"
          "  --cache FILE       resumable query cache (read, then appended)\n"
          "  --no-model         learn without the model's knowledge (no closed sink, no\n"
          "                     cover set or probes as counterexample candidates)\n"
          "  --concurrency N    over TCP: up to N connections at once (default 1, at\n"
          "                     most %u); learning queries, equivalence tests and the\n"
          "                     diff's replays go out in batches, the learned machine,\n"
          "                     query counts and diff stay those of N = 1;\n"
          "                     --rate R new connections per second over TCP, all\n"
          "                     together (default 20, 0 = unlimited); --timeout MS per\n"
          "                     step (default 5000); --settle MS as for check (default 100)\n"
          "  --seed S           seed of the equivalence tests (default 1)\n"
          "  --eq-tests N       random equivalence tests per hypothesis (default 1000)\n"
          "  --extra-states K   states the Wp-method tests beyond the hypothesis (default 1)\n"
          "  --repeats N        a query answered otherwise than before is asked N times\n"
          "                     and the majority kept (default 3; no majority ends the\n"
          "                     run: exit 3 with the last hypothesis and the word)\n"
          "  --out DIR          where to write (default learn-out): learned.dot,\n"
          "                     learned.pml, diff.md, witnesses/*.fts (replay: ftpsfuzz\n"
          "                     run [--connect HOST:PORT] --oracle FILE), access/*.fts,\n"
          "                     summary.txt\n"
          "Inputs: ",
          LEARN_FTPS_CONCURRENCY_MAX);
  size_t n;
  const learn_alpha_input *t = learn_alpha_inputs(&n);
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%s%s", i ? (i % 6 ? " " : "\n  ") : "", t[i].name);
  fprintf(f, "\nExit: 0 no diff; 1 a learned transition the model does not allow; 3\n"
             "inconclusive (the budget ran out, or the server answered a query so differently\n"
             "that no majority formed, before the machine was confirmed: the last hypothesis\n"
             "is written); 2 bad usage, an unreachable target or an I/O error.\n");
  return CLI_USAGE;
}

/* open_out opens DIR/NAME for writing (reported on failure). */
static FILE *open_out(const char *dir, const char *name, char *path, size_t path_len) {
  snprintf(path, path_len, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f)
    fprintf(stderr, "ftpsfuzz learn: %s: cannot write: %s\n", path, strerror(errno));
  return f;
}

static int close_out(FILE *f, const char *path) {
  if (ferror(f) | (fclose(f) != 0)) {
    fprintf(stderr, "ftpsfuzz learn: %s: write error\n", path);
    return -1;
  }
  return 0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct learn_args {
  const char *connect, *user, *pass, *alphabet, *cache, *out, *server_config;
  transcript config; /* the --config items as "# config:" lines */
  learn_algorithm algorithm;
  uint64_t max_queries, timeout, settle, seed, eq_tests, extra_states, repeats, concurrency;
  bool eq_tests_set, extra_states_set;
  double seconds, rate;
  bool no_model, quiet;
} learn_args;

static int parse_args(int argc, char **argv, learn_args *a) {
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
      usage(stdout);
      return 1;
    }
    if (!strcmp(o, "--no-model")) {
      a->no_model = true;
      continue;
    }
    if (!strcmp(o, "--quiet")) {
      a->quiet = true;
      continue;
    }
    if (!v) {
      fprintf(stderr, "ftpsfuzz learn: '%s' expects a value (or is unknown)\n", o);
      return -1;
    }
    i++;
    if (!strcmp(o, "--connect"))
      a->connect = v;
    else if (!strcmp(o, "--user"))
      a->user = v;
    else if (!strcmp(o, "--pass"))
      a->pass = v;
    else if (!strcmp(o, "--alphabet"))
      a->alphabet = v;
    else if (!strcmp(o, "--cache"))
      a->cache = v;
    else if (!strcmp(o, "--out"))
      a->out = v;
    else if (!strcmp(o, "--server-config"))
      a->server_config = v;
    else if (!strcmp(o, "--config")) {
      judge_config_key key;
      unsigned long val;
      if (!judge_parse_config_item(v, strlen(v), &key, &val)) {
        fprintf(stderr, "ftpsfuzz learn: --config: expected one of %s, got '%s'\n",
                JUDGE_CONFIG_KEYS, v);
        return -1;
      }
      if (transcript_addf(&a->config, TRANSCRIPT_COMMENT, " config: %s", v) != 0)
        return -1;
    } else if (!strcmp(o, "--algorithm")) {
      if (!strcmp(v, "lsharp"))
        a->algorithm = LEARN_LSHARP;
      else if (!strcmp(v, "lstar"))
        a->algorithm = LEARN_LSTAR;
      else {
        fprintf(stderr, "ftpsfuzz learn: --algorithm expects lsharp or lstar, got '%s'\n", v);
        return -1;
      }
    } else if (!strcmp(o, "--max-queries")) {
      if (cli_parse_u64(v, UINT64_MAX, &a->max_queries) != 0 || a->max_queries == 0) {
        fprintf(stderr, "ftpsfuzz learn: --max-queries expects a count >= 1, got '%s'\n", v);
        return -1;
      }
    } else if (!strcmp(o, "--time") || !strcmp(o, "--rate")) {
      char *end = NULL;
      errno = 0;
      double d = strtod(v, &end);
      bool time = o[2] == 't';
      if (errno || *end || !(d >= 0) || d > (time ? 1e7 : 10000) || (time && d == 0)) {
        fprintf(stderr, "ftpsfuzz learn: %s expects %s, got '%s'\n", o,
                time ? "seconds > 0" : "0..10000 per second", v);
        return -1;
      }
      *(time ? &a->seconds : &a->rate) = d;
    } else if (!strcmp(o, "--concurrency")) {
      if (cli_parse_u64(v, LEARN_FTPS_CONCURRENCY_MAX, &a->concurrency) != 0 ||
          a->concurrency == 0) {
        fprintf(stderr, "ftpsfuzz learn: --concurrency expects 1..%u, got '%s'\n",
                LEARN_FTPS_CONCURRENCY_MAX, v);
        return -1;
      }
    } else if (!strcmp(o, "--timeout")) {
      if (cli_parse_u64(v, 600000, &a->timeout) != 0 || a->timeout < 10) {
        fprintf(stderr, "ftpsfuzz learn: --timeout expects 10..600000 ms, got '%s'\n", v);
        return -1;
      }
    } else if (!strcmp(o, "--settle")) {
      if (cli_parse_u64(v, RUNNER_TCP_SETTLE_MAX, &a->settle) != 0) {
        fprintf(stderr, "ftpsfuzz learn: --settle expects 0..%u ms, got '%s'\n",
                RUNNER_TCP_SETTLE_MAX, v);
        return -1;
      }
    } else if (!strcmp(o, "--eq-tests")) {
      if (cli_parse_u64(v, 10000000, &a->eq_tests) != 0) {
        fprintf(stderr, "ftpsfuzz learn: --eq-tests expects 0..10000000, got '%s'\n", v);
        return -1;
      }
      a->eq_tests_set = true;
    } else if (!strcmp(o, "--extra-states")) {
      if (cli_parse_u64(v, 8, &a->extra_states) != 0) {
        fprintf(stderr, "ftpsfuzz learn: --extra-states expects 0..8, got '%s'\n", v);
        return -1;
      }
      a->extra_states_set = true;
    } else if (!strcmp(o, "--repeats")) {
      if (cli_parse_u64(v, 99, &a->repeats) != 0 || a->repeats == 0) {
        fprintf(stderr, "ftpsfuzz learn: --repeats expects 1..99, got '%s'\n", v);
        return -1;
      }
    } else if (!strcmp(o, "--seed")) {
      if (cli_parse_u64(v, UINT64_MAX, &a->seed) != 0) {
        fprintf(stderr, "ftpsfuzz learn: --seed expects a decimal number, got '%s'\n", v);
        return -1;
      }
    } else {
      fprintf(stderr, "ftpsfuzz learn: unexpected argument '%s'\n", o);
      return -1;
    }
  }
  if (!a->pass && a->user)
    a->pass = getenv("FTPSFUZZ_CHECK_PASS");
  if ((a->user == NULL) != (a->pass == NULL)) {
    fprintf(stderr, "ftpsfuzz learn: --user and --pass go together\n");
    return -1;
  }
  if ((a->user && (!a->user[0] || strpbrk(a->user, "\r\n"))) ||
      (a->pass && strpbrk(a->pass, "\r\n"))) {
    fprintf(stderr, "ftpsfuzz learn: --user/--pass must be one line (and the user not empty)\n");
    return -1;
  }
  if (a->connect && a->server_config) {
    fprintf(stderr, "ftpsfuzz learn: --server-config is for the in-process server, not "
                    "--connect\n");
    return -1;
  }
  if (!a->connect && a->user) {
    fprintf(stderr, "ftpsfuzz learn: --user/--pass are for --connect (in-process the account "
                    "is the built-in one)\n");
    return -1;
  }
  return 0;
}

int cmd_learn(int argc, char **argv) {
  learn_args a;
  memset(&a, 0, sizeof(a));
  transcript_init(&a.config);
  a.alphabet = "core";
  a.out = "learn-out";
  a.timeout = 5000;
  a.settle = 100;
  a.rate = 20;
  a.concurrency = 1;
  a.seed = 1;
  a.algorithm = LEARN_LSHARP;
  int status = CLI_USAGE;
  test_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  bool cfg_ready = false;
  learn_ftps *map = NULL;
  learn_mealy m;
  memset(&m, 0, sizeof(m));
  bool learned = false;
  learn_diff d;
  memset(&d, 0, sizeof(d));
  learn_cands cands;
  memset(&cands, 0, sizeof(cands));
  const char **names = NULL;
  model_event *events = NULL;
  char err[1024];
  int pr = parse_args(argc, argv, &a);
  if (pr != 0) {
    status = pr > 0 ? CLI_OK : (usage(stderr), CLI_USAGE);
    goto out;
  }
  learn_alphabet alpha;
  if (learn_alphabet_select(&alpha, a.alphabet, err, sizeof(err)) != 0) {
    fprintf(stderr, "ftpsfuzz learn: --alphabet: %s\n", err);
    goto out;
  }
  model_policy policy = model_policy_default();
  if (judge_apply_config_lines(&policy, &a.config, "--config", err, sizeof(err)) != 0) {
    fprintf(stderr, "ftpsfuzz learn: %s\n", err);
    goto out;
  }
  learn_ftps_options fo;
  memset(&fo, 0, sizeof(fo));
  fo.alphabet = &alpha;
  fo.run = runner_options_default();
  char host[256], port[8], addr[64], target[300];
  if (a.connect) {
    if (cli_split_target(a.connect, host, sizeof(host), port, sizeof(port)) != 0) {
      fprintf(stderr, "ftpsfuzz learn: --connect expects HOST:PORT or [ADDR]:PORT, got '%s'\n",
              a.connect);
      goto out;
    }
    if (cli_resolve_once("learn", host, port, addr, sizeof(addr)) != 0)
      goto out;
    fo.target.host = addr;
    fo.target.port = port;
    fo.user = a.user;
    fo.pass = a.pass;
    fo.rate = a.rate;
    fo.concurrency = (unsigned)a.concurrency;
    fo.run.timeout_ms = (unsigned)a.timeout;
    fo.run.settle_ms = (unsigned)a.settle;
    snprintf(target, sizeof(target), "%s", a.connect);
  } else {
    if (test_config_init(&cfg) != 0) {
      fprintf(stderr, "ftpsfuzz learn: cannot build the built-in test configuration\n");
      goto out;
    }
    cfg_ready = true;
    if (test_config_apply_directives(&cfg, &a.config, "--config", err, sizeof(err)) != 0 ||
        (a.server_config &&
         test_config_load_file(&cfg, a.server_config, stderr, err, sizeof(err)) != 0)) {
      fprintf(stderr, "ftpsfuzz learn: %s\n", err);
      goto out;
    }
    /* In-process, the server is ours and one process: abbreviated TLS 1.2
     * handshakes against one set of ticket keys, as the fuzz harnesses do
     * (fuzz_fast_tls), still real handshakes the server takes part in.
     * Replies and events do not depend on it; FTPSFUZZ_FULL_HANDSHAKES=1
     * keeps full TLS 1.3 handshakes. */
    static ftps_tls_ticket_keys keys;
    const char *full = getenv("FTPSFUZZ_FULL_HANDSHAKES");
    if ((full == NULL || full[0] == '\0' || full[0] == '0') &&
        ftps_tls_ticket_keys_init(&keys) == 0 && tls_client_share_sessions(true) == 0)
      cfg.server.ticket_keys = &keys;
    fo.target.server = &cfg;
    snprintf(target, sizeof(target), "in-process%s", a.server_config ? " (--server-config)" : "");
  }
  map = learn_ftps_new(&fo);
  if (!map) {
    fprintf(stderr, "ftpsfuzz learn: out of memory\n");
    goto out;
  }
  learn_sul sul = learn_ftps_sul(map);
  learn_config lc = learn_config_default();
  lc.algorithm = a.algorithm;
  lc.max_queries = (size_t)a.max_queries;
  lc.max_seconds = a.seconds;
  lc.seed = a.seed;
  if (a.repeats)
    lc.repeats = (unsigned)a.repeats;
  if (a.eq_tests_set)
    lc.random_tests = (size_t)a.eq_tests;
  if (a.extra_states_set)
    lc.extra_states = (unsigned)a.extra_states;
  lc.cache_path = a.cache;
  lc.use_sink = !a.no_model;
  model_config model = model_config_make(MODEL_PROFILE_DEFAULT, &policy);
  if (!a.no_model) {
    if (learn_cands_build(map, &model, &cands) != 0) {
      fprintf(stderr, "ftpsfuzz learn: cannot build the model's candidates (out of memory)\n");
      goto out;
    }
    lc.candidates = (const learn_sym *const *)cands.words;
    lc.candidate_len = cands.lens;
    lc.n_candidates = cands.n;
  }
  if (!a.quiet)
    fprintf(stderr, "ftpsfuzz learn: %s, alphabet %s (%zu inputs), %s, %zu candidates\n", target,
            alpha.label, alpha.n, a.algorithm == LEARN_LSTAR ? "L*" : "L#", cands.n);
  double t0 = now_s();
  learn_stats st;
  memset(&st, 0, sizeof(st));
  int lr = learn_run(&sul, &lc, &m, &st, err, sizeof(err));
  learned = true;
  double learn_s = now_s() - t0;
  bool unconfirmed = lr == LEARN_ERR_BUDGET || lr == LEARN_ERR_NONDET;
  if (lr != LEARN_OK && !unconfirmed) {
    fprintf(stderr, "ftpsfuzz learn: %s: %s\n", target, err[0] ? err : "learning failed");
    goto out;
  }
  judge_config jc = judge_config_default();
  jc.policy = policy;
  if (a.connect) {
    jc.secret = a.pass;
    jc.secret_len = a.pass ? strlen(a.pass) : 0;
  } else {
    jc.secret = test_config_secret(&cfg, &jc.secret_len);
  }
  size_t plays_before = learn_ftps_plays(map);
  double t1 = now_s();
  char why_unconfirmed[sizeof(err)];
  snprintf(why_unconfirmed, sizeof(why_unconfirmed), "%s", unconfirmed ? err : "");
  if (lr == LEARN_ERR_NONDET && !a.quiet)
    fprintf(stderr, "ftpsfuzz learn: %s: %s: the last hypothesis (%zu states) is kept, "
                    "not confirmed\n", target, err, m.n_states);
  if (learn_diff_run(map, &m, &jc, &d, err, sizeof(err)) != 0) {
    fprintf(stderr, "ftpsfuzz learn: diff: %s\n", err);
    goto out;
  }
  double diff_s = now_s() - t1;
  names = calloc(m.n_inputs + 1, sizeof(*names));
  events = calloc(m.n_inputs + 1, sizeof(*events));
  if (!names || !events)
    goto out;
  char title[400];
  snprintf(title, sizeof(title), "%s, alphabet %s", target, alpha.label);
  learn_view v;
  learn_diff_view(&d, map, &m, &policy, title, names, events, &v);
  if (learn_report_write(a.out, map, &m, &d, &v, &policy, target, err, sizeof(err)) != 0) {
    fprintf(stderr, "ftpsfuzz learn: %s\n", err);
    goto out;
  }
  char path[4200];
  FILE *f = open_out(a.out, "summary.txt", path, sizeof(path));
  if (!f)
    goto out;
  size_t security = 0;
  for (size_t k = 0; k < d.n_rows; k++)
    security += d.rows[k].security ? 1 : 0;
  for (int pass = 0; pass < 2; pass++) {
    FILE *o = pass ? stdout : f;
    fprintf(o, "target: %s\nalphabet: %s (%zu inputs)\nalgorithm: %s%s\n", target, alpha.label,
            alpha.n, a.algorithm == LEARN_LSTAR ? "lstar" : "lsharp",
            a.no_model ? " (no model knowledge)" : "");
    fprintf(o, "policy: tls_login=%s tls_data=%s anonymous=%s ccc=%s\n",
            policy.tls_login ? "on" : "off", policy.tls_data ? "on" : "off",
            policy.anon ? "on" : "off", policy.ccc ? "on" : "off");
    fprintf(o, "states: %zu\nqueries: %zu\nsymbols: %zu\ncache hits: %zu\n", m.n_states,
            st.queries, st.symbols, st.cache_hits);
    fprintf(o, "sink savings: %zu queries, %zu symbols\n", st.sink_saved_queries,
            st.sink_saved_symbols);
    fprintf(o, "equivalence queries: %zu\nrounds: %zu\nnon-deterministic answers: %zu\n",
            st.eq_queries, st.rounds, st.nondet);
    if (st.nondet_first[0])
      fprintf(o, "first non-deterministic answer: %s\n", st.nondet_first);
    if (st.unused_queries)
      fprintf(o, "unused batch answers: %zu queries, %zu symbols\n", st.unused_queries,
              st.unused_symbols);
    fprintf(o, "candidates: %zu (from %zu model scripts)\n", cands.n, cands.scripts);
    /* over TCP with N > 1 both run in batches on up to N connections */
    char at_once[64] = "";
    if (a.connect && a.concurrency > 1)
      snprintf(at_once, sizeof(at_once), " (up to %u connections at once)",
               (unsigned)a.concurrency);
    fprintf(o, "learn wall time: %.2f s%s\n", learn_s, at_once);
    fprintf(o, "diff: %zu of %zu transitions not allowed (%zu security), %zu replays in "
               "%.2f s%s\n",
            d.n_rows, d.replays, security, learn_ftps_plays(map) - plays_before, diff_s,
            at_once);
    fprintf(o, "not exercised: %zu transitions (their input came after a close or after "
               "the client gave up)\n", d.unexercised);
    if (lr == LEARN_ERR_BUDGET)
      fprintf(o, "budget: reached before the hypothesis was confirmed (%s)\n", why_unconfirmed);
    else if (lr == LEARN_ERR_NONDET)
      fprintf(o, "inconclusive: %s; the hypothesis was not confirmed\n", why_unconfirmed);
  }
  if (close_out(f, path) != 0)
    goto out;
  if (d.n_rows) {
    printf("\n");
    learn_diff_print_table(&d, map, stdout);
  }
  printf("wrote %s/{learned.dot,learned.pml,diff.md,summary.txt,witnesses/,access/}\n", a.out);
  status = d.n_rows ? CLI_FINDING : unconfirmed ? LEARN_EXIT_INCONCLUSIVE : CLI_OK;
  printf("RESULT: %s\n", status == CLI_FINDING ? "the learned machine differs from the model"
                         : status == CLI_OK   ? "the learned machine conforms to the model"
                         : lr == LEARN_ERR_BUDGET
                             ? "inconclusive: budget reached, no diff in the last hypothesis"
                             : "inconclusive: the server was not deterministic, no diff in the "
                               "last hypothesis");
out:
  free(names);
  free(events);
  learn_diff_cleanup(&d);
  if (learned)
    learn_mealy_free(&m);
  learn_cands_cleanup(&cands);
  learn_ftps_free(map);
  if (cfg_ready)
    test_config_cleanup(&cfg);
  transcript_cleanup(&a.config);
  return status;
}
