/* cmd_model.c - `ftpsfuzz model --table`: print the model's transition table. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "model.h"

static int usage(FILE *out) {
  fprintf(out, "usage: ftpsfuzz model --table | --dot [--coverage DIR] | --promela\n"
               "Prints the state model (model/model.def). --dot and --promela are not yet\n"
               "implemented.\n");
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

int cmd_model(int argc, char **argv) {
  int table = 0, dot = 0, promela = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--table")) {
      table = 1;
    } else if (!strcmp(argv[i], "--dot")) {
      dot = 1;
    } else if (!strcmp(argv[i], "--promela")) {
      promela = 1;
    } else if (!strcmp(argv[i], "--coverage") && i + 1 < argc) {
      i++;
    } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return CLI_OK;
    } else {
      fprintf(stderr, "ftpsfuzz model: unexpected argument '%s'\n", argv[i]);
      return usage(stderr);
    }
  }
  if (table + dot + promela != 1)
    return usage(stderr);
  if (dot || promela) {
    fprintf(stderr, "ftpsfuzz model: %s not yet implemented\n", dot ? "--dot" : "--promela");
    return CLI_USAGE;
  }
  return print_table();
}
