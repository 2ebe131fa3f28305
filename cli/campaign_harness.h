/* campaign_harness.h - which harnesses exist and how each is run.
 *
 * The list of harnesses has one source: the ftps_harness() calls in
 * harnesses/CMakeLists.txt, which CMake writes to
 * <build>/harnesses/harnesses.list (one name a line). Adding a harness is
 * that one ftps_harness() line; `ftpsfuzz fuzz`, `ftpsfuzz replay` and the
 * OSS-Fuzz build.sh all read the generated list. Per harness, the source
 * tree holds corpus/seeds/<h>/, corpus/regressions/<h>/ and
 * fuzz/<h>.options (OSS-Fuzz INI: a [libfuzzer] section of key = value, the
 * dict named relative to fuzz/). */
#ifndef FTPSFUZZ_CAMPAIGN_HARNESS_H
#define FTPSFUZZ_CAMPAIGN_HARNESS_H

#include <stddef.h>

#include "campaign_fs.h"

#define CAMPAIGN_NAME_MAX 64

/* campaign_harness_list reads the harness names of |list_path| into |out|
 * (blank lines and '#' comments skipped; names are [A-Za-z0-9_] only).
 * Returns 0, or -1 with "FILE:LINE: why" on stderr. */
int campaign_harness_list(const char *list_path, campaign_strs *out);

/* campaign_harness_of_path finds the harness a corpus path belongs to: the
 * path component nearest its end (the file's own name excluded when
 * |is_file|) that is one of |known| (corpus/seeds/<h>/x,
 * corpus/regressions/<h>/x, out/.../<h>/corpus/x). Returns 0 and the name in
 * |out|, or -1 if none matches. */
int campaign_harness_of_path(const char *path, int is_file, const campaign_strs *known,
                             char out[CAMPAIGN_NAME_MAX]);

/* campaign_options reads <src>/fuzz/<h>.options, if it exists, and appends
 * to |flags| libFuzzer flags ("-dict=<abs path>", "-max_len=N", ...) for
 * every key of its [libfuzzer] section, and writes the absolute dictionary
 * path (or "") into |dict|. Returns 0, or -1 with FILE:LINE on stderr. */
int campaign_options(const char *src, const char *harness, campaign_strs *flags,
                     char dict[CAMPAIGN_PATH_MAX]);

#endif
