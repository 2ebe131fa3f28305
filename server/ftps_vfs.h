/* ftps_vfs.h - the filesystem interface the session core works through.
 *
 * Paths given to a VFS are canonical virtual paths (ftps_path.h): absolute,
 * normalised, never containing ".." or NUL. An implementation must still
 * refuse to reach outside its own root. All functions return 0 or a negative
 * FTPS_ERR_* code; none aborts on bad input.
 *
 * Implementations: an in-memory tree (ftps_vfs_mem_new: fuzzing, tests) and,
 * later, a POSIX tree jailed under a directory (the TCP server). */
#ifndef FTPS_VFS_H
#define FTPS_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ftps_vfs ftps_vfs;
typedef struct ftps_vfs_file ftps_vfs_file;

typedef struct ftps_vfs_stat {
  bool is_dir;
  uint64_t size;        /* bytes; 0 for directories */
  int64_t mtime;        /* seconds since the Unix epoch, UTC */
  uint64_t unique;      /* stable per object while it exists (MLST unique fact) */
  bool writable;        /* the server may modify or delete it */
} ftps_vfs_stat;

/* Called once per directory entry ("." and ".." are never listed), in name
 * order. Return non-zero to stop the listing; that value is returned by
 * list(). */
typedef int (*ftps_vfs_list_cb)(void *ctx, const char *name, const ftps_vfs_stat *st);

/* How open_write places the bytes. Whatever the mode, the new content becomes
 * visible only at commit(); abort() (or a failed commit) leaves the old file
 * exactly as it was and nothing else behind. */
typedef enum ftps_vfs_write_mode {
  FTPS_VFS_WRITE_TRUNCATE,  /* STOR: replace the whole file */
  FTPS_VFS_WRITE_APPEND,    /* APPE: old content, then the new bytes */
  FTPS_VFS_WRITE_AT,        /* REST n + STOR: first n bytes of the old file, then the new bytes */
  FTPS_VFS_WRITE_EXCL,      /* STOU: the file must not exist */
} ftps_vfs_write_mode;

typedef struct ftps_vfs_ops {
  int (*stat)(ftps_vfs *vfs, const char *path, ftps_vfs_stat *out);
  int (*mkdir)(ftps_vfs *vfs, const char *path);
  int (*rmdir)(ftps_vfs *vfs, const char *path);           /* directory must be empty */
  int (*unlink)(ftps_vfs *vfs, const char *path);          /* files only */
  int (*rename)(ftps_vfs *vfs, const char *from, const char *to); /* replaces a file at |to| */
  int (*list)(ftps_vfs *vfs, const char *dir, ftps_vfs_list_cb cb, void *ctx);
  /* Reading: open at |offset| (<= size), read up to |cap| bytes (0 at end). */
  int (*open_read)(ftps_vfs *vfs, const char *path, uint64_t offset, ftps_vfs_file **out);
  int (*read)(ftps_vfs_file *f, uint8_t *buf, size_t cap, size_t *out_n);
  /* Writing: see ftps_vfs_write_mode; |offset| only for FTPS_VFS_WRITE_AT. */
  int (*open_write)(ftps_vfs *vfs, const char *path, ftps_vfs_write_mode mode,
                    uint64_t offset, ftps_vfs_file **out);
  int (*write)(ftps_vfs_file *f, const uint8_t *buf, size_t n);
  int (*commit)(ftps_vfs_file *f);  /* make a written file visible; the handle stays to be closed */
  /* close releases a handle; an uncommitted write is discarded. Accepts NULL. */
  void (*close)(ftps_vfs_file *f);
  void (*free)(ftps_vfs *vfs);
} ftps_vfs_ops;

struct ftps_vfs {
  const ftps_vfs_ops *ops;
};

/* ftps_vfs_free frees |vfs| (accepts NULL). */
void ftps_vfs_free(ftps_vfs *vfs);

/* ftps_vfs_mem_new returns an empty in-memory tree (just "/"), or NULL.
 * |max_bytes| caps the total file content it will hold (writes past it fail
 * with FTPS_ERR_LIMIT); |mtime| is the timestamp given to every object it
 * creates, so runs are deterministic. */
ftps_vfs *ftps_vfs_mem_new(uint64_t max_bytes, int64_t mtime);

/* ftps_vfs_mem_put creates or replaces the file |path| (parents must exist)
 * with |len| bytes of |data|. For building fixtures. */
int ftps_vfs_mem_put(ftps_vfs *vfs, const char *path, const void *data, size_t len);

#endif
