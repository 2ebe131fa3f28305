/* campaign_fs.h - small file-system helpers for `ftpsfuzz fuzz` / `replay`:
 * string lists, directory listings, copies, content hashes. Every function
 * reports failure with a message on stderr naming the path. */
#ifndef FTPSFUZZ_CAMPAIGN_FS_H
#define FTPSFUZZ_CAMPAIGN_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAMPAIGN_PATH_MAX 4096
#define CAMPAIGN_LIST_MAX 1000000u /* entries in one list (bounds memory) */

/* A growable list of owned strings. */
typedef struct campaign_strs {
  char **v;
  size_t n, cap;
} campaign_strs;

void campaign_strs_init(campaign_strs *l);
void campaign_strs_cleanup(campaign_strs *l);
/* campaign_strs_push appends a copy of |s|. Returns 0 or -1 (out of memory,
 * or CAMPAIGN_LIST_MAX entries). */
int campaign_strs_push(campaign_strs *l, const char *s);
/* campaign_strs_pushf appends a formatted string (cut at CAMPAIGN_PATH_MAX). */
int campaign_strs_pushf(campaign_strs *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool campaign_strs_has(const campaign_strs *l, const char *s);

/* campaign_corpus_name says whether a directory entry is a corpus input:
 * not a dot file and not README/README.md (the replay main's rule). */
bool campaign_corpus_name(const char *name);

/* campaign_list_inputs appends to |out| the paths of the corpus inputs under
 * |path|: the file itself, or a directory's regular files, recursively when
 * |recurse| (at most 16 levels), each directory in byte order. Returns 0, or
 * -1 if |path| or a directory cannot be read. */
int campaign_list_inputs(const char *path, bool recurse, campaign_strs *out);

/* campaign_list_subdirs appends |dir|'s subdirectories (dot names skipped),
 * in byte order. Returns 0 or -1. */
int campaign_list_subdirs(const char *dir, campaign_strs *out);

/* campaign_count_files counts corpus inputs directly in |dir| whose names
 * start with |prefix| ("" for all); 0 if it cannot be read. */
size_t campaign_count_files(const char *dir, const char *prefix);

bool campaign_is_dir(const char *path);
bool campaign_is_file(const char *path);
bool campaign_is_exec(const char *path);

/* campaign_mkdirs creates |path| and its parents (like mkdir -p). 0 or -1. */
int campaign_mkdirs(const char *path);

/* campaign_copy_file copies |src| to |dst| (replaced). 0 or -1. */
int campaign_copy_file(const char *src, const char *dst);

/* campaign_read_file reads at most |max| bytes of |path| into a new
 * NUL-terminated buffer (*out, free() it; *out_len without the NUL).
 * Returns 0, or -1 if unreadable or larger than |max|. */
int campaign_read_file(const char *path, size_t max, uint8_t **out, size_t *out_len);

/* campaign_sha256_file writes the lower-case hex SHA-256 of |path|'s
 * contents (at most 64 MiB) into |hex|. 0 or -1. */
int campaign_sha256_file(const char *path, char hex[65]);

/* campaign_self_dir writes the directory of the running executable. 0 or -1. */
int campaign_self_dir(char *out, size_t out_len);

/* campaign_path formats a path into |out|; returns -1 (and a message) if it
 * does not fit. */
int campaign_path(char *out, size_t out_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
