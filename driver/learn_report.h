/* learn_report.h - what `ftpsfuzz learn` writes into its output directory.
 *
 * learned.dot and learned.pml (learn_export.h), diff.md (the diff table,
 * learn_diff.h), witnesses/<row>.fts (each row's shortest script: its
 * state's access sequence and the input, with the violation as comments
 * and a "# config:" line for the declared policy, so `ftpsfuzz run
 * [--connect HOST:PORT] --oracle FILE` replays and judges it) and
 * access/q<N>.fts (each state's access sequence). */
#ifndef LEARN_REPORT_H
#define LEARN_REPORT_H

#include <stddef.h>

#include "learn.h"
#include "learn_diff.h"
#include "learn_export.h"
#include "learn_ftps.h"
#include "model.h"

/* learn_report_write creates |dir| (and its subdirectories) and writes the
 * files above; |target| names the server in headers. Returns 0, or -1 with
 * "PATH: why" in |err|. */
int learn_report_write(const char *dir, learn_ftps *map, const learn_mealy *m, const learn_diff *d,
                       const learn_view *v, const model_policy *policy, const char *target,
                       char *err, size_t err_len);

#endif
