/* cmd_oracle.c - `ftpsfuzz oracle FILE.fts`: judge a transcript offline. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "model.h"
#include "judge.h"
#include "oracle.h"
#include "test_config.h"
#include "transcript.h"

static int usage(FILE *out) {
  fprintf(out,
          "usage: ftpsfuzz oracle FILE.fts [--profile rfc|default]\n"
          "                [--policy tls-login=on|off,tls-data=on|off,anon=on|off,ccc=on|off]"
          " [--all]\n"
          "Prints OK, or VIOLATION <INVARIANT> step <n>: <why> (the first one; every one with\n"
          "--all). The default profile starts from the built-in test policy (TLS required for\n"
          "login and data, anonymous off, CCC off); the rfc profile ignores --policy. The\n"
          "transcript's own '# config: key=value' lines apply on top, as when it was played.\n"
          "Exit: 0 OK, 1 violation, 2 bad usage or malformed transcript.\n");
  return CLI_USAGE;
}

int cmd_oracle(int argc, char **argv) {
  const char *file = NULL;
  model_profile profile = MODEL_PROFILE_DEFAULT;
  model_policy policy = model_policy_default();
  bool all = false;
  char err[512];
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return CLI_OK;
    } else if (!strcmp(argv[i], "--all")) {
      all = true;
    } else if (!strcmp(argv[i], "--profile") && i + 1 < argc) {
      const char *p = argv[++i];
      if (!strcmp(p, "rfc")) {
        profile = MODEL_PROFILE_RFC;
      } else if (!strcmp(p, "default")) {
        profile = MODEL_PROFILE_DEFAULT;
      } else {
        fprintf(stderr, "ftpsfuzz oracle: --profile: expected rfc or default, got '%s'\n", p);
        return CLI_USAGE;
      }
    } else if (!strcmp(argv[i], "--policy") && i + 1 < argc) {
      if (model_policy_parse(&policy, argv[++i], err, sizeof(err)) < 0) {
        fprintf(stderr, "ftpsfuzz oracle: --%s\n", err);
        return CLI_USAGE;
      }
    } else if (argv[i][0] == '-' || file) {
      fprintf(stderr, "ftpsfuzz oracle: unexpected argument '%s'\n", argv[i]);
      return usage(stderr);
    } else {
      file = argv[i];
    }
  }
  if (!file)
    return usage(stderr);

  transcript t;
  transcript_init(&t);
  if (transcript_load_file(&t, file, err, sizeof(err)) < 0) {
    fprintf(stderr, "ftpsfuzz oracle: %s\n", err);
    transcript_cleanup(&t);
    return CLI_USAGE;
  }
  /* The one judge (judge.h): the transcript's own "# config:" lines apply
   * on top of --profile/--policy, and the built-in account's password is
   * the secret, as when `run --oracle` judged the same exchange. */
  judge_config jc = judge_config_default();
  jc.profile = profile;
  jc.policy = policy;
  jc.all = all;
  jc.secret = TEST_CONFIG_PASSWORD;
  jc.secret_len = sizeof(TEST_CONFIG_PASSWORD) - 1;
  judge_result jr;
  int rc = CLI_USAGE;
  int r = judge_transcript(&jc, &t, file, &jr, err, sizeof(err));
  if (r != JUDGE_OK) {
    fprintf(stderr, "ftpsfuzz oracle: %s\n", err);
    goto out;
  }
  size_t n = jr.violations;
  if (n == 0) {
    printf("OK\n");
    rc = CLI_OK;
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    const oracle_violation *v = oracle_violation_at(jr.o, i);
    char line[1024];
    if (!v) {
      printf("... %zu more violation(s) not stored\n", n - i);
      break;
    }
    oracle_format_violation(v, line, sizeof(line));
    printf("%s\n", line);
  }
  rc = CLI_FINDING;
out:
  judge_result_cleanup(&jr);
  transcript_cleanup(&t);
  return rc;
}
