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

/* Hard caps of the in-memory tree, so no input can exhaust memory. Creating
 * past them (mkdir, rename, commit of a new file) fails with FTPS_ERR_LIMIT;
 * a path with a longer name or more components fails with FTPS_ERR_LIMIT. */
#define FTPS_VFS_MEM_MAX_NAME 255      /* bytes per path component */
#define FTPS_VFS_MEM_MAX_DEPTH 64      /* components per path */
#define FTPS_VFS_MEM_MAX_ENTRIES 10000 /* entries per directory */
#define FTPS_VFS_MEM_MAX_NODES 65536   /* files + directories, "/" included */

/* ftps_vfs_mem_new returns an empty in-memory tree (just "/"), or NULL.
 * |max_bytes| caps the total file content it will hold (writes past it fail
 * with FTPS_ERR_LIMIT); |mtime| is the timestamp given to every object it
 * creates, so runs are deterministic. */
ftps_vfs *ftps_vfs_mem_new(uint64_t max_bytes, int64_t mtime);

/* ftps_vfs_mem_put creates or replaces the file |path| (parents must exist)
 * with |len| bytes of |data|. For building fixtures. */
int ftps_vfs_mem_put(ftps_vfs *vfs, const char *path, const void *data, size_t len);

/* The POSIX tree (ftps_vfs_posix.c): a real directory, jailed.
 *
 * Every path is resolved relative to an fd of the root with openat2
 * (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), or by an
 * openat(O_NOFOLLOW) walk of one component at a time where the kernel lacks
 * openat2; a symlink anywhere in a path is FTPS_ERR_PERM, never followed.
 * Non-canonical paths are FTPS_ERR_INVAL; a component over NAME_MAX bytes or
 * a path of PATH_MAX bytes or more is FTPS_ERR_LIMIT. Only regular files and
 * directories are visible: list() skips symlinks, devices, FIFOs, sockets and
 * the server's temporary files; stat/open of them is FTPS_ERR_PERM.
 *
 * Writes go to a temporary file ".ftpsfuzz-upload-<hex>.tmp" in the target's
 * directory (APPEND/AT copy the kept prefix of the old file into it first),
 * flock()ed while its handle is open. commit() takes an exclusive flock() of
 * the file it replaces (every writer of every process using this VFS does),
 * so commits to one file serialise (a lock held elsewhere is waited for at
 * most 2 s, then FTPS_ERR_IO, nothing changed): an APPEND whose base changed meanwhile
 * (another APPE or STOR committed) is rebuilt on the current file, so
 * concurrent appends all land; then it fsyncs and renames into place (EXCL:
 * never over a file that appeared meanwhile, FTPS_ERR_EXIST; others lock
 * and merge with such a file). close() without commit removes it.
 * A replaced file's mode and owner are kept (set-id bits dropped); if the
 * owner cannot be kept (not root, someone else's file) commit() fails with
 * FTPS_ERR_PERM and the old file stays. Hard links, ACLs and extended
 * attributes are not carried over (the committed file is a new inode). A new
 * file gets 0666, a new directory 0777, less the umask (default 022).
 * Writing over an existing file the process may not write (as root: one
 * with no write bit at all) is FTPS_ERR_PERM.
 * Error choices for rmdir/rename follow the in-memory tree. Not thread-safe
 * per handle; several servers may share one directory. */
#define FTPS_VFS_POSIX_MAX_LIST 100000 /* entries one list() call will return */

/* ftps_vfs_posix_new returns a VFS jailed under the existing directory
 * |root_dir| (followed as given: it is the administrator's choice), or NULL
 * with a FTPS_ERR_* code in |*out_err| (if not NULL): FTPS_ERR_NOENT,
 * FTPS_ERR_NOTDIR, FTPS_ERR_PERM, FTPS_ERR_INVAL, FTPS_ERR_NOMEM. */
ftps_vfs *ftps_vfs_posix_new(const char *root_dir, int *out_err);

/* ftps_vfs_is_posix: |vfs| is a POSIX tree. */
bool ftps_vfs_is_posix(const ftps_vfs *vfs);

/* ftps_vfs_posix_set_umask sets the bits (of 0777) taken away from new
 * files' 0666 and new directories' 0777; default 022. */
void ftps_vfs_posix_set_umask(ftps_vfs *vfs, unsigned mask);

/* ftps_vfs_posix_sweep removes temporary upload files that a crashed or
 * killed server left anywhere under the root (to 64 levels deep): those not
 * locked by a live upload and at least 5 s old. |*removed| counts them.
 * Returns 0 or a FTPS_ERR_* code (the root cannot be read). For start-up. */
int ftps_vfs_posix_sweep(ftps_vfs *vfs, unsigned long *removed);

/* ftps_vfs_posix_force_fallback (TEST ONLY) makes |vfs| resolve paths with
 * the component-by-component openat walk even where openat2 exists, so tests
 * cover both resolvers. Does nothing to a VFS of another kind. */
void ftps_vfs_posix_force_fallback(ftps_vfs *vfs, bool on);

#endif
