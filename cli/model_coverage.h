/* model_coverage.h - `ftpsfuzz model --dot --coverage DIR`: collect the
 * transitions a corpus takes. Lives in cli/ because client scripts must be
 * played against the in-process server first (model/ never includes server/
 * or driver/). */
#ifndef FTPSFUZZ_MODEL_COVERAGE_H
#define FTPSFUZZ_MODEL_COVERAGE_H

#include <stddef.h>
#include <stdio.h>

#include "model_export.h"

typedef struct cli_cover_stats {
  size_t files;        /* files judged */
  size_t played;       /* ... of which client scripts played through the runner */
  size_t skipped;      /* files that are neither binary nor text transcripts */
  size_t violations;   /* oracle violations seen (coverage goes on past them) */
} cli_cover_stats;

/* cli_cover_dir judges every regular file of |dir| (sorted by name; names
 * starting with '.' are skipped) into |cov|. A file is decoded as the binary
 * corpus form, else parsed as .fts text; one with S: lines is a transcript and
 * is judged as it is, one without is a client script and is first played
 * against the built-in test configuration (its "# config:" lines apply to
 * both the server and the oracle's policy). Unreadable or malformed files
 * are reported on |diag| and skipped. Returns 0, or -1 if |dir| cannot be
 * read, the test configuration cannot be built, or memory runs out (the
 * reason is on |diag|). */
int cli_cover_dir(model_cover *cov, const char *dir, FILE *diag, cli_cover_stats *stats);

#endif
