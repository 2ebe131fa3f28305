/* cmd_run.c - `ftpsfuzz run [--chunk N] [--oracle] [--config FILE]
 * [--connect HOST:PORT [--timeout MS] [--settle MS]] SCRIPT.fts`: play a client script
 * against the in-process server with the built-in test configuration (or
 * the one --config FILE makes of it, test_config.h), or against a live
 * server over TCP, and print the transcript (DESIGN section 7, issue 3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_args.h"
#include "model.h"
#include "oracle.h"
#include "play.h"
#include "runner.h"
#include "test_config.h"
#include "transcript.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: ftpsfuzz run [--chunk N] [--oracle] [--config FILE] SCRIPT.fts\n"
          "       ftpsfuzz run --connect HOST:PORT [--timeout MS] [--tls-min V] [--tls-max V]\n"
          "                    [--quiet-wait MS] [--settle MS] [--oracle] SCRIPT.fts\n"
          "\n"
          "Play the client steps of SCRIPT.fts against the in-process server (built-in\n"
          "test configuration; '# config: key=value' comment lines adjust its policy)\n"
          "and print the full transcript on standard output. S: and E: lines in the\n"
          "script are expectations: the produced ones must equal them.\n"
          "  --chunk N      feed the server at most N bytes at a time (1 = byte by byte)\n"
          "  --oracle       judge the transcript with the model's oracle; a violation\n"
          "                 is printed on standard error as VIOLATION <INVARIANT> ...\n"
          "  --config FILE  change the built-in configuration (script '# config:' lines\n"
          "                 still apply on top). FILE holds one key=value per line, no\n"
          "                 spaces around '=', '#' comment lines and blank lines ignored:\n"
          "                   ccc, anonymous, tls_login, tls_data, tls_reuse = on|off\n"
          "                   max_failures=1..1000   fail_delay=MS\n"
          "                   users=PATH     a users file (ftpsfuzz passwd); its users\n"
          "                                  replace alice\n"
          "                   tree=PATH      a directory copied (read only, files and\n"
          "                                  directories, at most 16 MiB) as the\n"
          "                                  in-memory tree; symlinks etc. skipped\n"
          "                   greeting=TEXT  the 220 greeting's text\n"
          "                 relative PATHs are relative to FILE's directory\n"
          "  --connect HOST:PORT  play against a live server over TCP instead (IPv6 as\n"
          "                 [ADDR]:PORT); passive data connections only; '# config:'\n"
          "                 lines then only tell --oracle the server's policy;\n"
          "                 ftps://HOST:PORT: implicit TLS (handshake before the greeting)\n"
          "  --timeout MS   over --connect: how long one step may wait for the server\n"
          "                 (default 5000); a silent server gives 'E: timeout'\n"
          "  --tls-min, --tls-max V  the TLS versions the client offers (1.2 or 1.3;\n"
          "                 default 1.2 to 1.3)\n"
          "  --quiet-wait MS  over --connect: how long to listen after a handshake behind\n"
          "                 which commands were pipelined (default 400)\n"
          "  --settle MS    over --connect: after a step the server answered, read MS\n"
          "                 more before the next step (default 0), so a second reply\n"
          "                 to one command is recorded before the next command (as\n"
          "                 `ftpsfuzz check` plays, with its --settle)\n"
          "Exit status: 0 ok, 1 expectation mismatch (diff on standard error), an\n"
          "oracle violation, a runner limit hit or a timeout, 2 bad usage, a bad\n"
          "script (FILE:LINE: what was expected) or no connection.\n");
}

static int parse_chunk(const char *s, size_t *out) {
  char *end = NULL;
  if (s[0] < '0' || s[0] > '9')
    return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end != '\0' || v == 0 || v > (1u << 20))
    return -1;
  *out = (size_t)v;
  return 0;
}

int cmd_run(int argc, char **argv) {
  const char *path = NULL, *config = NULL, *connect = NULL;
  char host[256], port[8];
  runner_options opt = runner_options_default();
  char err[512];
  transcript script, out;
  test_config cfg;
  bool cfg_ready = false, use_oracle = false, settle_given = false;
  int rc = CLI_USAGE;
  play_result pr;
  memset(&pr, 0, sizeof(pr));

  transcript_init(&script);
  transcript_init(&out);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return CLI_OK;
    } else if (!strcmp(argv[i], "--chunk")) {
      if (i + 1 >= argc || parse_chunk(argv[i + 1], &opt.chunk) != 0) {
        fprintf(stderr, "ftpsfuzz run: --chunk expects a number of bytes, 1..1048576\n");
        return CLI_USAGE;
      }
      i++;
    } else if (!strcmp(argv[i], "--connect")) {
      const char *hp = i + 1 < argc ? argv[i + 1] : NULL;
      if (hp != NULL && !strncmp(hp, "ftps://", 7)) {
        opt.implicit_tls = true; /* TLS from the first byte */
        hp += 7;
      }
      if (hp == NULL || cli_split_target(hp, host, sizeof(host), port, sizeof(port)) != 0) {
        fprintf(stderr, "ftpsfuzz run: --connect expects HOST:PORT, [ADDR]:PORT or ftps://HOST:PORT\n");
        return CLI_USAGE;
      }
      connect = argv[++i];
    } else if (!strcmp(argv[i], "--timeout")) {
      size_t ms = 0;
      if (i + 1 >= argc || parse_chunk(argv[i + 1], &ms) != 0 || ms > 600000) {
        fprintf(stderr, "ftpsfuzz run: --timeout expects milliseconds, 1..600000\n");
        return CLI_USAGE;
      }
      opt.timeout_ms = (unsigned)ms;
      i++;
    } else if (!strcmp(argv[i], "--tls-min") || !strcmp(argv[i], "--tls-max")) {
      uint16_t *v = argv[i][7] == 'i' ? &opt.tls_min : &opt.tls_max;
      if (i + 1 >= argc || runner_tls_version_parse(argv[i + 1], v) != 0) {
        fprintf(stderr, "ftpsfuzz run: %s expects 1.2 or 1.3\n", argv[i]);
        return CLI_USAGE;
      }
      i++;
    } else if (!strcmp(argv[i], "--quiet-wait")) {
      size_t ms = 0;
      if (i + 1 >= argc || parse_chunk(argv[i + 1], &ms) != 0 || ms > 60000) {
        fprintf(stderr, "ftpsfuzz run: --quiet-wait expects milliseconds, 1..60000\n");
        return CLI_USAGE;
      }
      opt.quiet_ms = (unsigned)ms;
      i++;
    } else if (!strcmp(argv[i], "--settle")) {
      size_t ms = 0;
      if (i + 1 >= argc || (strcmp(argv[i + 1], "0") && parse_chunk(argv[i + 1], &ms) != 0) ||
          ms > RUNNER_TCP_SETTLE_MAX) {
        fprintf(stderr, "ftpsfuzz run: --settle expects milliseconds, 0..%u\n",
                RUNNER_TCP_SETTLE_MAX);
        return CLI_USAGE;
      }
      opt.settle_ms = (unsigned)ms;
      settle_given = true;
      i++;
    } else if (!strcmp(argv[i], "--oracle")) {
      use_oracle = true;
    } else if (!strcmp(argv[i], "--config")) {
      if (i + 1 >= argc) {
        fprintf(stderr, "ftpsfuzz run: --config expects FILE\n");
        return CLI_USAGE;
      }
      config = argv[++i];
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      fprintf(stderr, "ftpsfuzz run: unknown option '%s'\n", argv[i]);
      usage(stderr);
      return CLI_USAGE;
    } else if (path == NULL) {
      path = argv[i];
    } else {
      fprintf(stderr, "ftpsfuzz run: expected one SCRIPT.fts, got '%s' too\n", argv[i]);
      return CLI_USAGE;
    }
  }
  if (connect != NULL && (config != NULL || opt.chunk != 0)) {
    fprintf(stderr, "ftpsfuzz run: --connect plays a live server: --chunk and --config do "
                    "not apply\n");
    return CLI_USAGE;
  }
  if (connect == NULL && (opt.timeout_ms != 0 || opt.quiet_ms != 0 || settle_given)) {
    fprintf(stderr, "ftpsfuzz run: --%s applies only with --connect\n",
            opt.timeout_ms != 0 ? "timeout" : opt.quiet_ms != 0 ? "quiet-wait" : "settle");
    return CLI_USAGE;
  }
  if (opt.tls_min != 0 && opt.tls_max != 0 && opt.tls_min > opt.tls_max) {
    fprintf(stderr, "ftpsfuzz run: --tls-min is above --tls-max\n");
    return CLI_USAGE;
  }
  if (path == NULL) {
    fprintf(stderr, "ftpsfuzz run: expected SCRIPT.fts\n");
    usage(stderr);
    return CLI_USAGE;
  }

  if (test_config_init(&cfg) != 0) {
    fprintf(stderr, "ftpsfuzz run: cannot build the built-in test configuration\n");
    goto out;
  }
  cfg_ready = true;
  if (config != NULL && test_config_load_file(&cfg, config, stderr, err, sizeof(err)) != 0) {
    fprintf(stderr, "%s\n", err);
    goto out;
  }
  if (transcript_load_file(&script, path, err, sizeof(err)) != 0) {
    fprintf(stderr, "%s\n", err);
    goto out;
  }
  runner_result res;
  opt.script_name = path;
  opt.diag = stderr;
  play_target target = {.server = connect != NULL ? NULL : &cfg, .host = host, .port = port};
  judge_config jc = play_judge_config(&target);
  jc.implicit_tls = opt.implicit_tls;
  int r = play_script(&target, &opt, use_oracle ? &jc : NULL, &script, path, &out, &pr, err,
                      sizeof(err));
  res = pr.run;
  if (r == RUNNER_ERR_INVAL && err[0]) {
    fprintf(stderr, "%s\n", err);
    goto out;
  }
  if (transcript_print_text(&out, stdout) != 0 || fflush(stdout) != 0) {
    fprintf(stderr, "ftpsfuzz run: cannot write the transcript\n");
    rc = CLI_USAGE;
    goto out;
  }
  switch (r) {
  case RUNNER_OK:
    rc = CLI_OK;
    break;
  case RUNNER_MISMATCH:
    rc = CLI_FINDING;
    break;
  case RUNNER_LIMIT:
    fprintf(stderr, "%s: the server hit the runner's %s limit\n", path, res.limit);
    rc = CLI_FINDING;
    break;
  case RUNNER_TIMEOUT:
    fprintf(stderr, "%s: %s kept the client waiting longer than the step timeout\n", path,
            connect);
    rc = CLI_FINDING;
    break;
  case RUNNER_ERR_CONNECT:
    rc = CLI_USAGE; /* why is already on standard error */
    break;
  case RUNNER_ERR_NOMEM:
    fprintf(stderr, "%s: out of memory\n", path);
    rc = CLI_USAGE;
    break;
  default:
    fprintf(stderr, "%s: the runner cannot play this script\n", path);
    rc = CLI_USAGE;
    break;
  }
  if (use_oracle && r >= 0) {
    char line[768];
    if (judge_first_violation(&pr.judged, line, sizeof(line))) {
      fprintf(stderr, "%s\n", line);
      if (rc == CLI_OK)
        rc = CLI_FINDING;
    } else {
      fprintf(stderr, "oracle: OK\n");
    }
  }
out:
  play_result_cleanup(&pr);
  if (cfg_ready)
    test_config_cleanup(&cfg);
  transcript_cleanup(&script);
  transcript_cleanup(&out);
  return rc;
}
