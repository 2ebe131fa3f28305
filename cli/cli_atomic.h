/* cli_atomic.h - write an output file atomically: everything goes to a temp
 * file in the same directory, renamed over the target only once complete, so
 * a failure never leaves a partial file. */
#ifndef FTPSFUZZ_CLI_ATOMIC_H
#define FTPSFUZZ_CLI_ATOMIC_H

#include <stddef.h>
#include <stdio.h>

typedef struct cli_atomic {
  FILE *f;         /* write here between open and commit/abort */
  char *tmp_path;  /* "<path>.tmp.XXXXXX" */
  char *path;      /* the target */
} cli_atomic;

/* cli_atomic_open creates the temp file for |path|. Returns 0, or -1 with
 * "PATH: why" in |err|. */
int cli_atomic_open(cli_atomic *a, const char *path, char *err, size_t err_len);

/* cli_atomic_commit flushes, syncs and renames the temp file over the target.
 * Returns 0, or -1 with "PATH: why" in |err| (the temp file is removed). */
int cli_atomic_commit(cli_atomic *a, char *err, size_t err_len);

/* cli_atomic_abort removes the temp file; safe after a failed open/commit. */
void cli_atomic_abort(cli_atomic *a);

#endif
