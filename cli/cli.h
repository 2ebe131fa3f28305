/* cli.h - subcommand entry points (one cmd_<name>.c each, see commands.def). */
#ifndef FTPSFUZZ_CLI_H
#define FTPSFUZZ_CLI_H

#define FTPSFUZZ_COMMAND(name, fn, summary) int fn(int argc, char **argv);
#include "commands.def"
#undef FTPSFUZZ_COMMAND

/* Exit statuses shared by every subcommand (DESIGN section 7). */
enum { CLI_OK = 0, CLI_FINDING = 1, CLI_USAGE = 2 };

#endif
