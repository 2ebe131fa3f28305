/* test_config_int.h - inside the test configuration: the tree= fixture that
 * a --config file loads from disk (test_config_tree.c), shared with the file
 * parser (test_config.c). Not for other modules. */
#ifndef TEST_CONFIG_INT_H
#define TEST_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ftps_vfs.h"
#include "test_config.h"

typedef struct test_config_entry {
  char *path;    /* canonical virtual path */
  uint8_t *data; /* a file's content (NULL when empty or a directory) */
  size_t len;
  bool is_dir;
} test_config_entry;

/* A copy of a disk directory, parents before their children, so that a
 * fresh in-memory tree can be rebuilt from it for every run. */
struct test_config_tree {
  test_config_entry *v;
  size_t n, cap;
  uint64_t bytes; /* file content, at most TEST_CONFIG_VFS_MAX_BYTES */
};

/* test_config_tree_load reads the directory |dir| (only reads: opened
 * O_RDONLY, symlinks never followed below |dir|) into a new tree in |*out|
 * and builds a first in-memory VFS from it in |*out_vfs|, so every cap of
 * the in-memory tree is checked now. Regular files and directories are
 * copied; anything else is skipped with a line "WHERE: note: ..." on
 * |notes| (if not NULL). Returns 0, or FTPS_ERR_IO / FTPS_ERR_LIMIT /
 * FTPS_ERR_INVAL / FTPS_ERR_NOMEM with "WHERE: what was expected" in |err|
 * (|where| names the config line, e.g. "run.conf:3: tree=files"). */
int test_config_tree_load(test_config_tree **out, ftps_vfs **out_vfs, const char *dir,
                          const char *where, FILE *notes, char *err, size_t err_len);

/* test_config_tree_vfs builds a fresh in-memory VFS holding |t|, or NULL
 * (out of memory: every cap was checked when |t| was loaded). */
ftps_vfs *test_config_tree_vfs(const test_config_tree *t);

/* test_config_tree_free frees |t| (accepts NULL). */
void test_config_tree_free(test_config_tree *t);

#endif
