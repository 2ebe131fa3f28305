/* cmd_gen.c - `ftpsfuzz gen`: client scripts from the model (DESIGN section 7).
 *   --cover        every transition the in-process server can be driven
 *                  through; prints the coverage the set reaches when played
 *   --walks N      random walks, a pure function of --seed S
 * Scripts are written to -o DIR as <sha256 of the content>.fts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/sha.h>

#include "cli.h"
#include "cli_args.h"
#include "check.h"
#include "cli_atomic.h"
#include "gen.h"
#include "gen_play.h"
#include "model.h"
#include "transcript.h"

static int usage(FILE *out) {
  fprintf(out,
          "usage: ftpsfuzz gen --cover -o DIR [--goal FILE] [--profile rfc|default] [--policy SPEC]\n"
          "       ftpsfuzz gen --walks N --seed S -o DIR [--profile rfc|default] [--policy SPEC]\n"
          "       ftpsfuzz gen --probes -o DIR\n"
          "Writes client scripts (.fts, named by the SHA-256 of their content) into DIR.\n"
          "  --cover   scripts that together take every transition of the model that the\n"
          "            in-process server can be driven through, found by a search that\n"
          "            plays candidates against it; prints \"transitions covered x/y (z%%)\"\n"
          "            measured by playing the set with the oracle, and the transitions the\n"
          "            model allows but this server never takes\n"
          "  --goal F  also write the names of the transitions the set covers to F, one a\n"
          "            line: the goal of a harness run with FTPSFUZZ_TRANSITIONS_GOAL=F\n"
          "  --walks N random walks over the model (1..100000), identical for the same S\n"
          "  --probes  the targeted probes of `ftpsfuzz check` (known violations: a second\n"
          "            AUTH, PROT X after PROT P, commands pipelined behind AUTH, ...),\n"
          "            written for the built-in test configuration: seeds for fuzz_sequence\n"
          "  --policy  tls-login=on|off,tls-data=on|off,anon=on|off,ccc=on|off (default:\n"
          "            the built-in test policy: on,on,off,off); rfc profile ignores it\n"
          "Exit: 0 ok, 1 coverage below 100%% or a violation, 2 bad usage or I/O error.\n");
  return CLI_USAGE;
}

/* write_script writes |t| as DIR/<sha256>.fts. Returns 0 or -1 (message printed). */
static int write_script(const char *dir, const transcript *t) {
  char *text = NULL;
  size_t len = 0;
  char err[512];
  int rc = -1;
  FILE *mem = open_memstream(&text, &len);
  if (!mem || transcript_print_text(t, mem) != 0 || fclose(mem) != 0) {
    fprintf(stderr, "ftpsfuzz gen: out of memory formatting a script\n");
    free(text);
    return -1;
  }
  uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256((const uint8_t *)text, len, md);
  size_t plen = strlen(dir) + 2 * SHA256_DIGEST_LENGTH + 8;
  char *path = malloc(plen);
  if (!path)
    goto out;
  int off = snprintf(path, plen, "%s/", dir);
  for (size_t i = 0; i < SHA256_DIGEST_LENGTH; i++)
    off += snprintf(path + off, plen - (size_t)off, "%02x", md[i]);
  snprintf(path + off, plen - (size_t)off, ".fts");
  cli_atomic a;
  if (cli_atomic_open(&a, path, err, sizeof(err)) != 0) {
    fprintf(stderr, "ftpsfuzz gen: %s\n", err);
    goto out;
  }
  if (fwrite(text, 1, len, a.f) != len) {
    fprintf(stderr, "ftpsfuzz gen: %s: write failed\n", path);
    cli_atomic_abort(&a);
    goto out;
  }
  if (cli_atomic_commit(&a, err, sizeof(err)) != 0) {
    fprintf(stderr, "ftpsfuzz gen: %s\n", err);
    goto out;
  }
  rc = 0;
out:
  free(path);
  free(text);
  return rc;
}

static int write_set(const char *dir, const gen_set *set) {
  if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "ftpsfuzz gen: %s: cannot create directory: %s\n", dir, strerror(errno));
    return -1;
  }
  for (size_t i = 0; i < set->n; i++)
    if (write_script(dir, &set->items[i]) != 0)
      return -1;
  return 0;
}

static void print_rows(const char *title, const bool *in, const bool *not_in) {
  size_t n = 0;
  for (size_t r = 0; r < MODEL_ROW_COUNT; r++)
    n += (in[r] && !not_in[r]) ? 1 : 0;
  if (!n)
    return;
  printf("%s (%zu):", title, n);
  for (size_t r = 0; r < MODEL_ROW_COUNT; r++)
    if (in[r] && !not_in[r])
      printf(" %s", model_rows[r].name);
  printf("\n");
}

/* write_goal writes the names of the rows |covered| marks, one a line. */
static int write_goal(const char *path, const bool *covered) {
  char err[256];
  cli_atomic a;
  if (cli_atomic_open(&a, path, err, sizeof(err)) != 0) {
    fprintf(stderr, "ftpsfuzz gen: %s\n", err);
    return -1;
  }
  fprintf(a.f, "# model transitions the cover set takes (ftpsfuzz gen --cover --goal)\n");
  for (size_t r = 0; r < MODEL_ROW_COUNT; r++)
    if (covered[r])
      fprintf(a.f, "%s\n", model_rows[r].name);
  if (ferror(a.f)) {
    fprintf(stderr, "ftpsfuzz gen: %s: write failed\n", path);
    cli_atomic_abort(&a);
    return -1;
  }
  if (cli_atomic_commit(&a, err, sizeof(err)) != 0) {
    fprintf(stderr, "ftpsfuzz gen: %s\n", err);
    return -1;
  }
  return 0;
}

/* run_probes writes check's probe scripts (check.h), each with its name as
 * a leading comment. */
static int run_probes(const char *dir) {
  gen_set set;
  const char *names[CHECK_PROBES_MAX];
  gen_set_init(&set);
  int rc = CLI_USAGE;
  long n = check_probes(&set, names);
  if (n < 0) {
    fprintf(stderr, "ftpsfuzz gen: out of memory building the probes\n");
    goto out;
  }
  if (write_set(dir, &set) != 0)
    goto out;
  printf("wrote %ld probes to %s\n", n, dir);
  rc = CLI_OK;
out:
  gen_set_cleanup(&set);
  return rc;
}

static int run_cover(const model_config *mc, const char *dir, const char *goal) {
  gen_player player;
  gen_set set;
  gen_cover_stats *st = calloc(1, sizeof(*st));
  int rc = CLI_USAGE;
  gen_set_init(&set);
  if (!st) {
    fprintf(stderr, "ftpsfuzz gen: out of memory\n");
    return CLI_USAGE;
  }
  if (gen_player_init(&player, mc) != 0) {
    fprintf(stderr, "ftpsfuzz gen: cannot build the built-in test configuration\n");
    free(st);
    return CLI_USAGE;
  }
  if (gen_cover(mc, gen_player_play, &player, &set, st) != 0) {
    fprintf(stderr, "ftpsfuzz gen: out of memory (or the runner failed) during the search\n");
    goto out;
  }
  if (write_set(dir, &set) != 0 || (goal != NULL && write_goal(goal, st->covered) != 0))
    goto out;
  double pct = st->n_reachable ? 100.0 * (double)st->n_covered / (double)st->n_reachable : 0.0;
  printf("wrote %zu scripts to %s (search: %zu plays, %zu states)\n", set.n, dir, st->plays,
         st->states);
  printf("transitions covered %zu/%zu (%.1f%%)\n", st->n_covered, st->n_reachable, pct);
  printf("the model allows %zu transitions under this policy; %zu are reachable against the "
         "in-process server\n",
         st->n_model, st->n_reachable);
  print_rows("allowed by the model, never taken by this server", st->model, st->reachable);
  print_rows("reachable but not covered by the set", st->reachable, st->covered);
  rc = CLI_OK;
  if (st->violations) {
    printf("VIOLATION in %zu script(s) of the set; first: %s\n", st->violations, st->violation);
    rc = CLI_FINDING;
  }
  if (st->disagreement[0]) {
    printf("server and model disagree: %s\n", st->disagreement);
    rc = CLI_FINDING;
  }
  if (st->n_covered < st->n_reachable)
    rc = CLI_FINDING;
out:
  gen_player_cleanup(&player);
  gen_set_cleanup(&set);
  free(st);
  return rc;
}

int cmd_gen(int argc, char **argv) {
  const char *dir = NULL, *goal = NULL;
  bool cover = false, walks = false, have_seed = false, probes = false;
  uint64_t n_walks = 0, seed = 0;
  model_profile profile = MODEL_PROFILE_DEFAULT;
  model_policy policy = model_policy_default();
  char err[256];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return CLI_OK;
    } else if (!strcmp(a, "--cover")) {
      cover = true;
    } else if (!strcmp(a, "--probes")) {
      probes = true;
    } else if (!strcmp(a, "--walks") && v) {
      if (cli_parse_u64(v, 100000, &n_walks) != 0 || n_walks == 0) {
        fprintf(stderr, "ftpsfuzz gen: --walks expects a count 1..100000, got '%s'\n", v);
        return CLI_USAGE;
      }
      walks = true;
      i++;
    } else if (!strcmp(a, "--seed") && v) {
      if (cli_parse_u64(v, UINT64_MAX, &seed) != 0) {
        fprintf(stderr, "ftpsfuzz gen: --seed expects a decimal number, got '%s'\n", v);
        return CLI_USAGE;
      }
      have_seed = true;
      i++;
    } else if (!strcmp(a, "-o") && v) {
      dir = v;
      i++;
    } else if (!strcmp(a, "--goal") && v) {
      goal = v;
      i++;
    } else if (!strcmp(a, "--profile") && v) {
      if (!strcmp(v, "rfc")) {
        profile = MODEL_PROFILE_RFC;
      } else if (!strcmp(v, "default")) {
        profile = MODEL_PROFILE_DEFAULT;
      } else {
        fprintf(stderr, "ftpsfuzz gen: --profile: expected rfc or default, got '%s'\n", v);
        return CLI_USAGE;
      }
      i++;
    } else if (!strcmp(a, "--policy") && v) {
      if (model_policy_parse(&policy, v, err, sizeof(err)) != 0) {
        fprintf(stderr, "ftpsfuzz gen: --%s\n", err);
        return CLI_USAGE;
      }
      i++;
    } else {
      fprintf(stderr, "ftpsfuzz gen: unexpected argument '%s'\n", a);
      return usage(stderr);
    }
  }
  if ((int)cover + (int)walks + (int)probes != 1 || !dir) {
    fprintf(stderr,
            "ftpsfuzz gen: expected exactly one of --cover, --walks N and --probes, and -o DIR\n");
    return usage(stderr);
  }
  if (goal && !cover) {
    fprintf(stderr, "ftpsfuzz gen: --goal goes with --cover\n");
    return CLI_USAGE;
  }
  if (walks && !have_seed) {
    fprintf(stderr, "ftpsfuzz gen: --walks needs --seed S (walks are a function of the seed)\n");
    return CLI_USAGE;
  }
  model_config mc = model_config_make(profile, &policy);
  if (cover)
    return run_cover(&mc, dir, goal);
  if (probes)
    return run_probes(dir);

  gen_set set;
  gen_set_init(&set);
  int rc = CLI_USAGE;
  if (gen_walks(&mc, (size_t)n_walks, seed, &set) != 0) {
    fprintf(stderr, "ftpsfuzz gen: out of memory generating walks\n");
    goto out;
  }
  if (write_set(dir, &set) != 0)
    goto out;
  printf("wrote %zu walks (seed %llu) to %s\n", set.n, (unsigned long long)seed, dir);
  rc = CLI_OK;
out:
  gen_set_cleanup(&set);
  return rc;
}
