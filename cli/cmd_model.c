/* cmd_model.c - `ftpsfuzz model`: print the model's transition table, draw it
 * (Graphviz DOT, optionally coloured by a corpus's coverage) or export it to
 * Promela for SPIN. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_atomic.h"
#include "model.h"
#include "model_coverage.h"
#include "model_export.h"

static int usage(FILE *out) {
  fprintf(out,
          "usage: ftpsfuzz model --table\n"
          "       ftpsfuzz model --dot [--coverage DIR] [-o FILE]\n"
          "       ftpsfuzz model --promela [--broken NAME] [-o FILE]\n"
          "  [--profile rfc|default] [--policy tls-login=on|off,tls-data=...,anon=...,ccc=...]\n"
          "Prints the state model (model/model.def).\n"
          "  --table     the transition table\n"
          "  --dot       a Graphviz picture: reachable states projected to sec/login/PBSZ/PROT,\n"
          "              edges labelled with events and reply codes (dot -Tsvg to render)\n"
          "  --coverage DIR  judge every transcript in DIR (binary corpus form or .fts; files\n"
          "              without S: lines are client scripts, played against the built-in\n"
          "              test configuration first) and colour the transitions they take\n"
          "  --promela   a Promela model with the security invariants as assertions\n"
          "              (spin -a; cc -DSAFETY -o pan pan.c; ./pan)\n"
          "  --broken NAME   TEST ONLY, with --promela: a deliberately broken model that\n"
          "              SPIN must reject; NAME is one of:\n");
  const char *why;
  for (size_t i = 0; model_promela_broken_name(i, &why); i++)
    fprintf(out, "                %-20s %s\n", model_promela_broken_name(i, NULL), why);
  fprintf(out, "  -o FILE     write to FILE (atomically) instead of standard output\n"
               "The policy defaults to the built-in test configuration's (TLS required for\n"
               "login and data, anonymous off, CCC off). Exit: 0 ok, 2 bad usage or input.\n");
  return CLI_USAGE;
}

static void print_guard(const model_guard *g) {
  static const char *const vars[] = {"sec", "login", "anon", "pbsz", "prot", "data",
                                     "rnfr", "rest", "ccc", "conn", "sx"};
  const uint16_t masks[] = {g->sec,  g->login, g->anon, g->pbsz, g->prot, g->data,
                            g->rnfr, g->rest,  g->ccc,  g->close, g->sx};
  static const char *const names[][4] = {
      {"?", "PLAIN", "NEGOTIATING", "SECURE"}, {"?", "NONE", "USER_OK", "LOGGED_IN"},
      {"?", "no", "yes", "?"},                 {"?", "no", "yes", "?"},
      {"?", "C", "P", "?"},                    {"?", "NONE", "PASSIVE", "ACTIVE"},
      {"?", "no", "yes", "?"},                 {"?", "no", "yes", "?"},
      {"?", "no", "yes", "?"},                 {"?", "open", "closing", "closed"},
      {"?", "no", "yes", "?"}};
  int any = 0;
  for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
    if (!masks[i])
      continue;
    printf("%s%s=", any++ ? " " : "", vars[i]);
    int first = 1;
    for (unsigned v = 1; v < 4; v++)
      if ((masks[i] >> v) & 1u) {
        printf("%s%s", first ? "" : "|", names[i][v]);
        first = 0;
      }
  }
  static const char *const pols[] = {"tls-login", "tls-data", "anon", "ccc"};
  for (unsigned b = 0; b < 4; b++) {
    if ((g->pol_on >> b) & 1u)
      printf("%s%s", any++ ? " " : "", pols[b]);
    if ((g->pol_off >> b) & 1u)
      printf("%s!%s", any++ ? " " : "", pols[b]);
  }
  if (g->profile)
    printf("%sprofile=%s", any++ ? " " : "",
           g->profile == MODEL_PROFILE_RFC ? "rfc" : "default");
  if (!any)
    printf("-");
}

static void print_update(const model_update *u) {
  char buf[200];
  model_state s = *u;
  model_format_state(&s, buf, sizeof(buf));
  /* keep only the fields the update sets ("?" marks kept ones) */
  const char *p = buf;
  int any = 0;
  while (*p) {
    const char *end = strchr(p, ' ');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (!memchr(p, '?', n)) {
      printf("%s%.*s", any++ ? " " : "", (int)n, p);
    }
    p += n;
    if (*p == ' ')
      p++;
  }
  if (!any)
    printf("-");
}

static int print_table(void) {
  printf("# %d transitions: NAME  EVENT  [guard]  pre{...} after{...} codes{...}  -> update\n",
         MODEL_ROW_COUNT);
  for (int i = 0; i < MODEL_ROW_COUNT; i++) {
    const model_row *r = &model_rows[i];
    printf("%-20s %-16s [", r->name, model_event_name(r->event));
    print_guard(&r->guard);
    printf("]");
    if (r->pre[0])
      printf("  pre{%s} after{%s}", r->pre, r->after);
    if (r->codes[0])
      printf("  codes{%s}", r->codes);
    printf("  -> ");
    print_update(&r->update);
    printf("\n");
  }
  printf("\n# narrowing (codes removed when the guard holds)\n");
  for (size_t i = 0; i < model_narrow_count; i++) {
    const model_narrow *n = &model_narrows[i];
    printf("%-20s %-16s [", n->name, model_event_name(n->event));
    print_guard(&n->guard);
    printf("]  drop{%s}\n", n->drop);
  }
  return CLI_OK;
}

/* collect_coverage judges DIR into a new record (*out) and reports what it
 * did on standard error. Returns CLI_OK or CLI_USAGE. */
static int collect_coverage(const char *dir, model_cover **out) {
  model_cover *cov = model_cover_new();
  cli_cover_stats st;
  if (!cov) {
    fprintf(stderr, "ftpsfuzz model: out of memory\n");
    return CLI_USAGE;
  }
  if (cli_cover_dir(cov, dir, stderr, &st) != 0) {
    model_cover_free(cov);
    return CLI_USAGE;
  }
  fprintf(stderr,
          "ftpsfuzz model: %s: %zu transcript(s) judged (%zu client script(s) played), %zu "
          "skipped, %zu oracle violation(s)\n",
          dir, st.files, st.played, st.skipped, st.violations);
  *out = cov;
  return CLI_OK;
}

int cmd_model(int argc, char **argv) {
  int table = 0, dot = 0, promela = 0;
  const char *coverage = NULL, *broken = NULL, *outp = NULL;
  model_profile profile = MODEL_PROFILE_DEFAULT;
  model_policy policy = model_policy_default();
  char err[512];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has_val = i + 1 < argc;
    if (!strcmp(a, "--table")) {
      table = 1;
    } else if (!strcmp(a, "--dot")) {
      dot = 1;
    } else if (!strcmp(a, "--promela")) {
      promela = 1;
    } else if (!strcmp(a, "--coverage") && has_val) {
      coverage = argv[++i];
    } else if (!strcmp(a, "--broken") && has_val) {
      broken = argv[++i];
    } else if (!strcmp(a, "-o") && has_val) {
      outp = argv[++i];
    } else if (!strcmp(a, "--profile") && has_val) {
      const char *p = argv[++i];
      if (!strcmp(p, "rfc")) {
        profile = MODEL_PROFILE_RFC;
      } else if (!strcmp(p, "default")) {
        profile = MODEL_PROFILE_DEFAULT;
      } else {
        fprintf(stderr, "ftpsfuzz model: --profile: expected rfc or default, got '%s'\n", p);
        return CLI_USAGE;
      }
    } else if (!strcmp(a, "--policy") && has_val) {
      if (model_policy_parse(&policy, argv[++i], err, sizeof(err)) < 0) {
        fprintf(stderr, "ftpsfuzz model: --%s\n", err);
        return CLI_USAGE;
      }
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return CLI_OK;
    } else {
      fprintf(stderr, "ftpsfuzz model: unexpected argument '%s'%s\n", a,
              a[0] == '-' && !has_val ? " (missing its value?)" : "");
      return usage(stderr);
    }
  }
  if (table + dot + promela != 1) {
    fprintf(stderr, "ftpsfuzz model: expected exactly one of --table, --dot, --promela\n");
    return usage(stderr);
  }
  if (coverage && !dot) {
    fprintf(stderr, "ftpsfuzz model: --coverage goes with --dot\n");
    return CLI_USAGE;
  }
  if (broken && !promela) {
    fprintf(stderr, "ftpsfuzz model: --broken goes with --promela\n");
    return CLI_USAGE;
  }
  if (broken) {
    size_t i = 0;
    while (model_promela_broken_name(i, NULL) && strcmp(model_promela_broken_name(i, NULL), broken))
      i++;
    if (!model_promela_broken_name(i, NULL)) {
      fprintf(stderr, "ftpsfuzz model: --broken: unknown variant '%s' (see --help)\n", broken);
      return CLI_USAGE;
    }
  }
  if (table && outp) {
    fprintf(stderr, "ftpsfuzz model: -o goes with --dot or --promela\n");
    return CLI_USAGE;
  }
  if (table)
    return print_table();

  model_config cfg = model_config_make(profile, &policy);
  model_cover *cov = NULL;
  cli_atomic at = {0};
  FILE *out = stdout;
  int rc = CLI_USAGE;
  if (coverage && collect_coverage(coverage, &cov) != CLI_OK)
    goto out;
  if (outp) {
    if (cli_atomic_open(&at, outp, err, sizeof(err)) != 0) {
      fprintf(stderr, "ftpsfuzz model: %s\n", err);
      goto out;
    }
    out = at.f;
  }
  int r = dot ? model_export_dot(out, &cfg, cov) : model_export_promela(out, &cfg, broken);
  if (r == 0 && !outp && fflush(stdout) != 0)
    r = -1;
  if (r != 0) {
    fprintf(stderr, "ftpsfuzz model: cannot write the %s output%s\n", dot ? "DOT" : "Promela",
            r == -1 ? " (write error or out of memory)" : "");
    if (outp)
      cli_atomic_abort(&at);
    goto out;
  }
  if (outp && cli_atomic_commit(&at, err, sizeof(err)) != 0) {
    fprintf(stderr, "ftpsfuzz model: %s\n", err);
    goto out;
  }
  if (cov) {
    size_t rows = 0, covered = 0;
    if (model_export_dot_counts(&cfg, cov, NULL, NULL, &rows, &covered) == 0)
      fprintf(stderr, "ftpsfuzz model: %zu/%zu transitions covered\n", covered, rows);
  }
  rc = CLI_OK;
out:
  model_cover_free(cov);
  return rc;
}
