/* cli_args.h - command-line helpers shared by subcommands (numbers,
 * HOST:PORT targets), so each cmd_*.c is parsing plus one call. */
#ifndef CLI_ARGS_H
#define CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>

/* cli_parse_u64 reads a decimal number 0..|max| (the whole string). 0 or -1. */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* cli_split_target splits "HOST:PORT" or "[ADDR]:PORT" (port 1..65535).
 * 0 or -1. */
int cli_split_target(const char *s, char *host, size_t host_len, char *port, size_t port_len);

/* cli_resolve_once turns |host| into one numeric address, so every
 * connection of a run goes to the same place. On failure prints
 * "ftpsfuzz |cmd|: cannot resolve HOST: why" and returns -1. */
int cli_resolve_once(const char *cmd, const char *host, const char *port, char *out,
                     size_t out_len);

#endif
