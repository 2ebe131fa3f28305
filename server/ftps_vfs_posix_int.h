/* ftps_vfs_posix_int.h - internals of the POSIX VFS shared by its files
 * (ftps_vfs_posix.c: paths, reads, opening writes; ftps_vfs_posix_commit.c:
 * committing uploads and sweeping stale temporary files). */
#ifndef FTPS_VFS_POSIX_INT_H
#define FTPS_VFS_POSIX_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "ftps_vfs.h"

#define TMP_PREFIX ".ftpsfuzz-upload-"
#define TMP_PREFIX_LEN (sizeof(TMP_PREFIX) - 1)
#define TMP_NAME_CAP 64 /* prefix + 16 hex + ".tmp" + NUL fits */
#define COPY_CHUNK 65536

typedef struct posix_vfs {
  ftps_vfs base; /* first, so a ftps_vfs * is a posix_vfs * */
  int root_fd;   /* O_PATH | O_DIRECTORY */
  bool force_fallback;
  bool no_openat2; /* the kernel said ENOSYS once */
  uint64_t tmp_counter;
  mode_t umask;    /* for new files and directories */
} posix_vfs;

struct ftps_vfs_file {
  posix_vfs *vfs;
  int fd;
  bool writing;
  bool committed;
  /* writing */
  int dir_fd; /* O_PATH: the directory holding the temporary file */
  char tmp[TMP_NAME_CAP];
  char *path;
  ftps_vfs_write_mode mode;
  /* APPEND: the old file whose first |prefix| bytes were copied in at
   * open_write; commit() copies again if it changed meanwhile. */
  bool had_old;
  struct stat old_st;
  uint64_t prefix;
};

int vfsp_map_errno(int e);
bool vfsp_is_tmp_name(const char *name, size_t len);
/* vfsp_open_parent validates |path| and opens its parent directory (O_PATH);
 * |*out_name| points at the last component inside |path|. */
int vfsp_open_parent(posix_vfs *v, const char *path, int *out_dir, const char **out_name);
void vfsp_close_fd(int *fd);
int vfsp_stat_at(int dir, const char *name, struct stat *st);
/* vfsp_copy_prefix copies |len| bytes of |in| to |out| from their offsets. */
int vfsp_copy_prefix(int in, int out, uint64_t len);
/* vfsp_make_tmp creates and locks (flock, so a sweep leaves it alone) a
 * fresh temporary file in |dir|: fd in |f->fd|, name in |f->tmp|. */
int vfsp_make_tmp(posix_vfs *v, int dir, ftps_vfs_file *f);
int vfsp_commit(ftps_vfs_file *f);

#endif
