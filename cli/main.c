/* main.c - the ftpsfuzz command: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct subcommand {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary;
} subcommand;

static const subcommand subcommands[] = {
#define FTPSFUZZ_COMMAND(name, fn, summary) {#name, fn, summary},
#include "commands.def"
#undef FTPSFUZZ_COMMAND
};

static void usage(FILE *out) {
  fprintf(out, "usage: ftpsfuzz <command> [options]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
    fprintf(out, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
  fprintf(out, "\n'ftpsfuzz <command> --help' describes a command.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return CLI_OK;
  }
  for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
    if (!strcmp(argv[1], subcommands[i].name))
      return subcommands[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "ftpsfuzz: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return CLI_USAGE;
}
