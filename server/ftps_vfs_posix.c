/* ftps_vfs_posix.c - the VFS over a real directory tree, jailed under a root.
 *
 * The jail: the root is held as an O_PATH|O_DIRECTORY fd and every path is
 * resolved relative to it, never as a string handed to the kernel from "/".
 * A path is split into its parent directory and its last name. The parent is
 * opened as an O_PATH directory fd with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS) where the kernel has it, else
 * by walking the components one by one with openat(O_PATH | O_NOFOLLOW) and
 * fstat() on each result (a symlink or a non-directory stops the walk). The
 * last name (no '/', never "." or "..") is then used with *at() calls that do
 * not follow a trailing symlink (AT_SYMLINK_NOFOLLOW, O_NOFOLLOW). Symlinks
 * anywhere in a path are refused with FTPS_ERR_PERM; list() shows only
 * regular files and directories.
 *
 * Nothing lost: open_write creates ".ftpsfuzz-upload-<hex>.tmp" (O_EXCL,
 * mode 0600, flock()ed) in the target's directory and, for APPEND and AT,
 * first copies the kept prefix of the old file into it. commit()
 * (ftps_vfs_posix_commit.c) locks the target, merges a concurrent change
 * into an APPEND, keeps the old file's mode and owner, fsyncs and renames
 * over the target; close() without commit unlinks it. So the old file is
 * either untouched or wholly replaced. Names with the temporary prefix are
 * invisible to list() and refused in paths (PERM); a crash's leftovers are
 * removed by ftps_vfs_posix_sweep() at the next start.
 *
 * commit() resolves the target's directory again, like the in-memory tree:
 * if that directory was renamed meanwhile, the file lands at the path given
 * to open_write, not in the moved directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ftps_alloc.h"
#include "ftps_err.h"
#include "ftps_vfs.h"
#include "ftps_vfs_posix_int.h"

static const ftps_vfs_ops posix_ops;

/* map_errno turns an errno value into the FTPS_ERR_* space. */
int vfsp_map_errno(int e) {
  switch (e) {
  case 0:
    return FTPS_ERR_IO; /* a failure that set no errno: still a failure */
  case ENOENT:
    return FTPS_ERR_NOENT;
  case EEXIST:
    return FTPS_ERR_EXIST;
  case ENOTDIR:
    return FTPS_ERR_NOTDIR;
  case EISDIR:
    return FTPS_ERR_ISDIR;
  case ENOTEMPTY:
    return FTPS_ERR_NOTEMPTY;
  case EACCES:
  case EPERM:
  case EXDEV: /* RESOLVE_BENEATH: the path would leave the root */
  case ELOOP: /* RESOLVE_NO_SYMLINKS / O_NOFOLLOW met a symlink */
  case EROFS:
    return FTPS_ERR_PERM;
  case ENAMETOOLONG:
  case ENOSPC:
  case EDQUOT:
  case EFBIG:
  case EMLINK:
    return FTPS_ERR_LIMIT;
  case ENOMEM:
    return FTPS_ERR_NOMEM;
  default:
    return FTPS_ERR_IO;
  }
}

bool vfsp_is_tmp_name(const char *name, size_t len) {
  return len >= TMP_PREFIX_LEN && memcmp(name, TMP_PREFIX, TMP_PREFIX_LEN) == 0;
}

/* check_path validates a canonical virtual path: starts with '/', no empty,
 * "." or ".." component, no trailing slash except "/" itself. A component
 * longer than NAME_MAX or a path of PATH_MAX bytes or more is
 * FTPS_ERR_LIMIT; a component naming one of our temporary files is
 * FTPS_ERR_PERM. */
static int check_path(const char *path) {
  if (path == NULL || path[0] != '/')
    return FTPS_ERR_INVAL;
  size_t total = strnlen(path, PATH_MAX);
  if (total >= PATH_MAX)
    return FTPS_ERR_LIMIT;
  if (total == 1)
    return 0;
  const char *p = path + 1;
  for (;;) {
    const char *slash = memchr(p, '/', total - (size_t)(p - path));
    size_t len = slash != NULL ? (size_t)(slash - p) : total - (size_t)(p - path);
    if (len == 0)
      return FTPS_ERR_INVAL; /* "//" or a trailing slash */
    if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
      return FTPS_ERR_INVAL;
    if (len > NAME_MAX)
      return FTPS_ERR_LIMIT;
    if (vfsp_is_tmp_name(p, len))
      return FTPS_ERR_PERM;
    if (slash == NULL)
      return 0;
    p = slash + 1;
  }
}

/* walk_fallback opens the directory at the first |len| bytes of canonical
 * |path| one component at a time, refusing symlinks. */
static int walk_fallback(posix_vfs *v, const char *path, size_t len, int *out_fd) {
  char name[NAME_MAX + 1];
  int fd = fcntl(v->root_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0)
    return vfsp_map_errno(errno);
  size_t i = 1;
  while (i < len) {
    const char *slash = memchr(path + i, '/', len - i);
    size_t n = slash != NULL ? (size_t)(slash - (path + i)) : len - i;
    if (n == 0 || n > NAME_MAX) { /* check_path rules these out */
      close(fd);
      return FTPS_ERR_INVAL;
    }
    memcpy(name, path + i, n);
    name[n] = '\0';
    int next = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    int err = errno;
    close(fd);
    if (next < 0)
      return vfsp_map_errno(err);
    struct stat st;
    if (fstat(next, &st) != 0) {
      err = errno;
      close(next);
      return vfsp_map_errno(err);
    }
    if (!S_ISDIR(st.st_mode)) {
      close(next);
      return S_ISLNK(st.st_mode) ? FTPS_ERR_PERM : FTPS_ERR_NOTDIR;
    }
    fd = next;
    i += n + 1;
  }
  *out_fd = fd;
  return 0;
}

/* walk opens the directory at the first |len| bytes of canonical |path|
 * ("" or "/" is the root) as an O_PATH fd in |*out_fd|. */
static int walk(posix_vfs *v, const char *path, size_t len, int *out_fd) {
  char rel[PATH_MAX];
  *out_fd = -1;
  if (len <= 1) {
    int fd = fcntl(v->root_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
      return vfsp_map_errno(errno);
    *out_fd = fd;
    return 0;
  }
  if (len - 1 >= sizeof(rel))
    return FTPS_ERR_LIMIT;
  if (!v->force_fallback && !v->no_openat2) {
    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
    memcpy(rel, path + 1, len - 1);
    rel[len - 1] = '\0';
    for (int tries = 0; tries < 8; tries++) {
      long fd = syscall(SYS_openat2, v->root_fd, rel, &how, sizeof(how));
      if (fd >= 0) {
        *out_fd = (int)fd;
        return 0;
      }
      if (errno == EAGAIN || errno == EINTR)
        continue; /* a concurrent rename raced the lookup */
      if (errno == ENOSYS) {
        v->no_openat2 = true;
        break;
      }
      if (errno == EPERM)
        break; /* a seccomp filter may refuse openat2 with EPERM: walk instead */
      return vfsp_map_errno(errno);
    }
  }
  return walk_fallback(v, path, len, out_fd);
}

/* open_parent validates |path| and opens its parent directory; |*out_name|
 * points at the last component inside |path|. "/" is FTPS_ERR_PERM here:
 * callers that accept the root test for it first. */
int vfsp_open_parent(posix_vfs *v, const char *path, int *out_dir, const char **out_name) {
  *out_dir = -1;
  int rc = check_path(path);
  if (rc != 0)
    return rc;
  if (path[1] == '\0')
    return FTPS_ERR_PERM;
  const char *last = strrchr(path, '/');
  *out_name = last + 1;
  return walk(v, path, (size_t)(last - path), out_dir);
}

static bool is_root(const char *path) { return path != NULL && strcmp(path, "/") == 0; }

void vfsp_close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

/* is_writable asks the kernel whether we may write |name| in |dir|. */
static bool is_writable(int dir, const char *name) {
  if (faccessat(dir, name, W_OK, AT_EACCESS | AT_SYMLINK_NOFOLLOW) != 0)
    return false;
  /* Root passes every access check; a file nobody may write (0444) is
   * still read-only to the server (serve --allow-root). */
  struct stat st;
  if (geteuid() == 0 && fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISREG(st.st_mode) && (st.st_mode & 0222) == 0)
    return false;
  return true;
}

/* can_keep_owner: a file replacing |st| can be given its owner and group
 * (commit() does so): we are root, or they are our user and one of our
 * groups. Asked before an upload, so the client hears no at once. */
static bool can_keep_owner(const struct stat *st) {
  if (geteuid() == 0)
    return true;
  if (st->st_uid != geteuid())
    return false;
  if (st->st_gid == getegid())
    return true;
  gid_t groups[256];
  int n = getgroups(256, groups);
  for (int i = 0; i < n; i++)
    if (groups[i] == st->st_gid)
      return true;
  return false;
}

/* fill_stat converts |st|; only regular files and directories are visible. */
static int fill_stat(const struct stat *st, bool writable, ftps_vfs_stat *out) {
  if (S_ISLNK(st->st_mode))
    return FTPS_ERR_PERM;
  if (!S_ISDIR(st->st_mode) && !S_ISREG(st->st_mode))
    return FTPS_ERR_PERM; /* devices, FIFOs, sockets: not ours to serve */
  memset(out, 0, sizeof(*out));
  out->is_dir = S_ISDIR(st->st_mode);
  out->size = out->is_dir ? 0 : (uint64_t)st->st_size;
  out->mtime = (int64_t)st->st_mtim.tv_sec;
  out->unique = ((uint64_t)st->st_dev << 40) ^ (uint64_t)st->st_ino;
  out->writable = writable;
  return 0;
}

/* stat_at stats |name| in |dir| without following a symlink. */
int vfsp_stat_at(int dir, const char *name, struct stat *st) {
  if (fstatat(dir, name, st, AT_SYMLINK_NOFOLLOW) != 0)
    return vfsp_map_errno(errno);
  return 0;
}

static int posix_stat(ftps_vfs *vfs, const char *path, ftps_vfs_stat *out) {
  posix_vfs *v = (posix_vfs *)vfs;
  struct stat st;
  int dir = -1;
  const char *name;
  int rc;
  if (is_root(path)) {
    if (fstat(v->root_fd, &st) != 0)
      return vfsp_map_errno(errno);
    return fill_stat(&st, is_writable(v->root_fd, "."), out);
  }
  if ((rc = vfsp_open_parent(v, path, &dir, &name)) != 0)
    goto out;
  if ((rc = vfsp_stat_at(dir, name, &st)) != 0)
    goto out;
  rc = fill_stat(&st, is_writable(dir, name), out);
out:
  vfsp_close_fd(&dir);
  return rc;
}

static int posix_mkdir(ftps_vfs *vfs, const char *path) {
  posix_vfs *v = (posix_vfs *)vfs;
  int dir = -1;
  const char *name;
  int rc;
  if (is_root(path))
    return FTPS_ERR_EXIST;
  if ((rc = vfsp_open_parent(v, path, &dir, &name)) != 0)
    goto out;
  if (mkdirat(dir, name, 0777 & ~v->umask) != 0)
    rc = vfsp_map_errno(errno);
out:
  vfsp_close_fd(&dir);
  return rc;
}

static int posix_rmdir(ftps_vfs *vfs, const char *path) {
  posix_vfs *v = (posix_vfs *)vfs;
  struct stat st;
  int dir = -1;
  const char *name;
  int rc;
  if (is_root(path))
    return FTPS_ERR_PERM;
  if ((rc = vfsp_open_parent(v, path, &dir, &name)) != 0)
    goto out;
  if ((rc = vfsp_stat_at(dir, name, &st)) != 0)
    goto out;
  if (S_ISLNK(st.st_mode)) {
    rc = FTPS_ERR_PERM;
    goto out;
  }
  if (!S_ISDIR(st.st_mode)) {
    rc = FTPS_ERR_NOTDIR;
    goto out;
  }
  if (unlinkat(dir, name, AT_REMOVEDIR) != 0)
    rc = errno == EEXIST ? FTPS_ERR_NOTEMPTY : vfsp_map_errno(errno);
out:
  vfsp_close_fd(&dir);
  return rc;
}

static int posix_unlink(ftps_vfs *vfs, const char *path) {
  posix_vfs *v = (posix_vfs *)vfs;
  struct stat st;
  int dir = -1;
  const char *name;
  int rc;
  if (is_root(path))
    return FTPS_ERR_ISDIR;
  if ((rc = vfsp_open_parent(v, path, &dir, &name)) != 0)
    goto out;
  if ((rc = vfsp_stat_at(dir, name, &st)) != 0)
    goto out;
  if (S_ISDIR(st.st_mode)) {
    rc = FTPS_ERR_ISDIR;
    goto out;
  }
  if (!S_ISREG(st.st_mode)) {
    rc = FTPS_ERR_PERM; /* symlinks and special files are not ours */
    goto out;
  }
  if (unlinkat(dir, name, 0) != 0)
    rc = vfsp_map_errno(errno);
out:
  vfsp_close_fd(&dir);
  return rc;
}

/* Same error choices as the in-memory tree (ftps_vfs_mem.c): "/" and a
 * directory moved into its own subtree are PERM; onto an existing directory
 * EXIST (a file onto a directory: ISDIR); a directory onto a file NOTDIR. */
static int posix_rename(ftps_vfs *vfs, const char *from, const char *to) {
  posix_vfs *v = (posix_vfs *)vfs;
  struct stat sst, dst;
  int sdir = -1, ddir = -1;
  const char *sname, *dname;
  int rc;
  if ((rc = check_path(from)) != 0 || (rc = check_path(to)) != 0)
    return rc;
  if (is_root(from) || is_root(to))
    return FTPS_ERR_PERM;
  if ((rc = vfsp_open_parent(v, from, &sdir, &sname)) != 0)
    goto out;
  if ((rc = vfsp_stat_at(sdir, sname, &sst)) != 0)
    goto out;
  if (!S_ISDIR(sst.st_mode) && !S_ISREG(sst.st_mode)) {
    rc = FTPS_ERR_PERM;
    goto out;
  }
  if (S_ISDIR(sst.st_mode)) {
    size_t flen = strlen(from);
    if (strncmp(to, from, flen) == 0 && to[flen] == '/') {
      rc = FTPS_ERR_PERM;
      goto out;
    }
  }
  if ((rc = vfsp_open_parent(v, to, &ddir, &dname)) != 0)
    goto out;
  rc = vfsp_stat_at(ddir, dname, &dst);
  if (rc == 0) {
    if (dst.st_dev == sst.st_dev && dst.st_ino == sst.st_ino)
      goto out; /* the same object: nothing to do, as rename(2) */
    if (S_ISDIR(dst.st_mode))
      rc = S_ISDIR(sst.st_mode) ? FTPS_ERR_EXIST : FTPS_ERR_ISDIR;
    else if (!S_ISREG(dst.st_mode))
      rc = FTPS_ERR_PERM;
    else if (S_ISDIR(sst.st_mode))
      rc = FTPS_ERR_NOTDIR;
    if (rc != 0)
      goto out;
  } else if (rc != FTPS_ERR_NOENT) {
    goto out;
  }
  rc = 0;
  if (renameat(sdir, sname, ddir, dname) != 0) {
    int e = errno;
    /* EINVAL: into its own subtree; ENOTEMPTY/EEXIST: a directory appeared. */
    rc = e == EINVAL ? FTPS_ERR_PERM
         : (e == ENOTEMPTY || e == EEXIST) ? FTPS_ERR_EXIST
                                            : vfsp_map_errno(e);
  }
out:
  vfsp_close_fd(&sdir);
  vfsp_close_fd(&ddir);
  return rc;
}

typedef struct list_entry {
  char *name;
  ftps_vfs_stat st;
} list_entry;

static int entry_cmp(const void *a, const void *b) {
  return strcmp(((const list_entry *)a)->name, ((const list_entry *)b)->name);
}

static int posix_list(ftps_vfs *vfs, const char *path, ftps_vfs_list_cb cb, void *ctx) {
  posix_vfs *v = (posix_vfs *)vfs;
  list_entry *ents = NULL;
  size_t n = 0, cap = 0;
  int pdir = -1, rfd = -1;
  DIR *d = NULL;
  int rc = check_path(path);
  if (rc != 0)
    return rc;
  if (cb == NULL)
    return FTPS_ERR_INVAL;
  if ((rc = walk(v, path, strlen(path), &pdir)) != 0)
    goto out;
  /* An O_PATH fd cannot be read; reopen the same directory through it. */
  rfd = openat(pdir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0) {
    rc = vfsp_map_errno(errno);
    goto out;
  }
  d = fdopendir(rfd);
  if (d == NULL) {
    rc = vfsp_map_errno(errno);
    goto out;
  }
  rfd = -1; /* owned by |d| now */
  int dfd = dirfd(d);
  for (;;) {
    errno = 0;
    struct dirent *de = readdir(d);
    if (de == NULL) {
      if (errno != 0) {
        rc = vfsp_map_errno(errno);
        goto out;
      }
      break;
    }
    const char *name = de->d_name;
    size_t len = strlen(name);
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || vfsp_is_tmp_name(name, len))
      continue;
    struct stat st;
    ftps_vfs_stat vst;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      continue; /* removed meanwhile */
    if (fill_stat(&st, false, &vst) != 0)
      continue; /* symlinks and special files are not listed */
    vst.writable = is_writable(dfd, name);
    if (n == cap) {
      if (cap >= FTPS_VFS_POSIX_MAX_LIST) {
        rc = FTPS_ERR_LIMIT;
        goto out;
      }
      size_t ncap = cap == 0 ? 64 : cap * 2;
      if (ncap > FTPS_VFS_POSIX_MAX_LIST)
        ncap = FTPS_VFS_POSIX_MAX_LIST;
      list_entry *ne = ftps_realloc(ents, ncap * sizeof(*ne));
      if (ne == NULL) {
        rc = FTPS_ERR_NOMEM;
        goto out;
      }
      ents = ne;
      cap = ncap;
    }
    ents[n].name = ftps_malloc(len + 1);
    if (ents[n].name == NULL) {
      rc = FTPS_ERR_NOMEM;
      goto out;
    }
    memcpy(ents[n].name, name, len + 1);
    ents[n].st = vst;
    n++;
  }
  closedir(d);
  d = NULL;
  if (n > 1)
    qsort(ents, n, sizeof(*ents), entry_cmp);
  for (size_t i = 0; i < n; i++) {
    rc = cb(ctx, ents[i].name, &ents[i].st);
    if (rc != 0)
      goto out;
  }
out:
  if (d != NULL)
    closedir(d);
  vfsp_close_fd(&rfd);
  vfsp_close_fd(&pdir);
  for (size_t i = 0; i < n; i++)
    ftps_free(ents[i].name);
  ftps_free(ents);
  return rc;
}

/* open_file opens the regular file |name| in |dir| for reading: never a
 * symlink (O_NOFOLLOW), never a FIFO or device (checked before the open, so
 * opening has no side effect, and on the fd after it). */
static int open_file(int dir, const char *name, int *out_fd, struct stat *st) {
  struct stat pre;
  *out_fd = -1;
  int rc = vfsp_stat_at(dir, name, &pre);
  if (rc != 0)
    return rc;
  if (S_ISDIR(pre.st_mode))
    return FTPS_ERR_ISDIR;
  if (!S_ISREG(pre.st_mode))
    return FTPS_ERR_PERM;
  int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return vfsp_map_errno(errno);
  if (fstat(fd, st) != 0) {
    rc = vfsp_map_errno(errno);
    close(fd);
    return rc;
  }
  if (!S_ISREG(st->st_mode)) { /* swapped between the two calls */
    close(fd);
    return S_ISDIR(st->st_mode) ? FTPS_ERR_ISDIR : FTPS_ERR_PERM;
  }
  *out_fd = fd;
  return 0;
}

static int posix_open_read(ftps_vfs *vfs, const char *path, uint64_t offset,
                           ftps_vfs_file **out) {
  posix_vfs *v = (posix_vfs *)vfs;
  struct stat st;
  int dir = -1, fd = -1;
  const char *name;
  int rc;
  *out = NULL;
  if (is_root(path))
    return FTPS_ERR_ISDIR;
  if ((rc = vfsp_open_parent(v, path, &dir, &name)) != 0)
    goto out;
  if ((rc = open_file(dir, name, &fd, &st)) != 0)
    goto out;
  if (offset > (uint64_t)st.st_size) {
    rc = FTPS_ERR_INVAL;
    goto out;
  }
  if (lseek(fd, (off_t)offset, SEEK_SET) < 0) {
    rc = vfsp_map_errno(errno);
    goto out;
  }
  ftps_vfs_file *f = ftps_calloc(1, sizeof(*f));
  if (f == NULL) {
    rc = FTPS_ERR_NOMEM;
    goto out;
  }
  f->vfs = v;
  f->fd = fd;
  f->dir_fd = -1;
  fd = -1;
  *out = f;
out:
  vfsp_close_fd(&fd);
  vfsp_close_fd(&dir);
  return rc;
}

static int posix_read(ftps_vfs_file *f, uint8_t *buf, size_t cap, size_t *out_n) {
  *out_n = 0;
  if (f == NULL || f->writing || (buf == NULL && cap != 0))
    return FTPS_ERR_INVAL;
  if (cap > SSIZE_MAX)
    cap = SSIZE_MAX;
  for (;;) {
    ssize_t n = read(f->fd, buf, cap);
    if (n >= 0) {
      *out_n = (size_t)n;
      return 0;
    }
    if (errno != EINTR)
      return vfsp_map_errno(errno);
  }
}

/* write_all writes all |n| bytes of |buf| to |fd|. */
static int write_all(int fd, const uint8_t *buf, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n > SSIZE_MAX ? SSIZE_MAX : n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return vfsp_map_errno(errno);
    }
    if (w == 0)
      return FTPS_ERR_IO;
    buf += w;
    n -= (size_t)w;
  }
  return 0;
}

/* copy_prefix copies the first |len| bytes of |in| to |out|, both at their
 * current offsets (0), which advance. copy_file_range first (reflinks or
 * in-kernel copy); read/write where the filesystem pair does not support it. */
int vfsp_copy_prefix(int in, int out, uint64_t len) {
  uint8_t *buf = NULL;
  int rc = 0;
  while (len > 0) {
    size_t chunk = len > (1u << 30) ? (1u << 30) : (size_t)len;
    ssize_t n = copy_file_range(in, NULL, out, NULL, chunk, 0);
    if (n > 0) {
      len -= (uint64_t)n;
      continue;
    }
    if (n == 0) {
      rc = FTPS_ERR_IO; /* the old file shrank under us */
      goto out;
    }
    if (errno == EINTR)
      continue;
    if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP &&
        errno != EBADF) {
      rc = vfsp_map_errno(errno);
      goto out;
    }
    break;
  }
  if (len == 0)
    goto out;
  if ((buf = ftps_malloc(COPY_CHUNK)) == NULL) {
    rc = FTPS_ERR_NOMEM;
    goto out;
  }
  while (len > 0) {
    size_t want = len > COPY_CHUNK ? COPY_CHUNK : (size_t)len;
    ssize_t n = read(in, buf, want);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      rc = vfsp_map_errno(errno);
      goto out;
    }
    if (n == 0) {
      rc = FTPS_ERR_IO;
      goto out;
    }
    if ((rc = write_all(out, buf, (size_t)n)) != 0)
      goto out;
    len -= (uint64_t)n;
  }
out:
  ftps_free(buf);
  return rc;
}

/* make_tmp creates a fresh temporary file in |dir|, its name in |f->tmp|. */
int vfsp_make_tmp(posix_vfs *v, int dir, ftps_vfs_file *f) {
  for (int tries = 0; tries < 16; tries++) {
    uint64_t r;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
      r = ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)f ^ ++v->tmp_counter;
    snprintf(f->tmp, sizeof(f->tmp), TMP_PREFIX "%016llx.tmp", (unsigned long long)r);
    int fd = openat(dir, f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
      /* Held until the handle closes (or the process dies): a start-up
       * sweep of another server on the same tree skips a locked file. */
      (void)flock(fd, LOCK_EX | LOCK_NB);
      f->fd = fd;
      return 0;
    }
    if (errno != EEXIST)
      break;
  }
  f->tmp[0] = '\0';
  return vfsp_map_errno(errno);
}

static void posix_close(ftps_vfs_file *f);

static int posix_open_write(ftps_vfs *vfs, const char *path, ftps_vfs_write_mode mode,
                            uint64_t offset, ftps_vfs_file **out) {
  posix_vfs *v = (posix_vfs *)vfs;
  ftps_vfs_file *f = NULL;
  struct stat st;
  int dir = -1, old = -1;
  const char *name;
  struct stat old_st;
  uint64_t prefix = 0;
  bool exists;
  int rc;
  *out = NULL;
  memset(&old_st, 0, sizeof(old_st));
  if (mode != FTPS_VFS_WRITE_TRUNCATE && mode != FTPS_VFS_WRITE_APPEND &&
      mode != FTPS_VFS_WRITE_AT && mode != FTPS_VFS_WRITE_EXCL)
    return FTPS_ERR_INVAL;
  if ((rc = check_path(path)) != 0)
    return rc;
  if (is_root(path))
    return FTPS_ERR_ISDIR;
  if ((rc = vfsp_open_parent(v, path, &dir, &name)) != 0)
    goto out;
  rc = vfsp_stat_at(dir, name, &st);
  if (rc != 0 && rc != FTPS_ERR_NOENT)
    goto out;
  exists = rc == 0;
  rc = 0;
  if (exists) {
    if (S_ISDIR(st.st_mode)) {
      rc = FTPS_ERR_ISDIR;
      goto out;
    }
    if (!S_ISREG(st.st_mode) || mode == FTPS_VFS_WRITE_EXCL) {
      rc = S_ISREG(st.st_mode) ? FTPS_ERR_EXIST : FTPS_ERR_PERM;
      goto out;
    }
    if (!is_writable(dir, name)) {
      rc = FTPS_ERR_PERM; /* renaming over it would bypass its mode */
      goto out;
    }
    if (!can_keep_owner(&st)) {
      rc = FTPS_ERR_PERM; /* the new file would be ours, not its owner's */
      goto out;
    }
  }
  if (mode == FTPS_VFS_WRITE_APPEND || (mode == FTPS_VFS_WRITE_AT && offset != 0)) {
    if (!exists) {
      if (mode == FTPS_VFS_WRITE_AT) {
        rc = FTPS_ERR_INVAL; /* offset past the end of an empty file */
        goto out;
      }
    } else {
      if ((rc = open_file(dir, name, &old, &st)) != 0)
        goto out;
      old_st = st;
      prefix = mode == FTPS_VFS_WRITE_APPEND ? (uint64_t)st.st_size : offset;
      if (prefix > (uint64_t)st.st_size) {
        rc = FTPS_ERR_INVAL;
        goto out;
      }
    }
  }
  if ((f = ftps_calloc(1, sizeof(*f))) == NULL) {
    rc = FTPS_ERR_NOMEM;
    goto out;
  }
  f->vfs = v;
  f->fd = -1;
  f->dir_fd = -1;
  f->writing = true;
  f->mode = mode;
  f->had_old = old >= 0;
  f->old_st = old_st;
  f->prefix = prefix;
  size_t plen = strlen(path);
  if ((f->path = ftps_malloc(plen + 1)) == NULL) {
    rc = FTPS_ERR_NOMEM;
    goto out;
  }
  memcpy(f->path, path, plen + 1);
  if ((rc = vfsp_make_tmp(v, dir, f)) != 0)
    goto out;
  f->dir_fd = dir;
  dir = -1;
  if (prefix != 0 && (rc = vfsp_copy_prefix(old, f->fd, prefix)) != 0)
    goto out;
  *out = f;
  f = NULL;
out:
  posix_close(f); /* removes the temporary file if one was made */
  vfsp_close_fd(&old);
  vfsp_close_fd(&dir);
  return rc;
}

static int posix_write(ftps_vfs_file *f, const uint8_t *buf, size_t n) {
  if (f == NULL || !f->writing || f->committed || (buf == NULL && n != 0))
    return FTPS_ERR_INVAL;
  return write_all(f->fd, buf, n);
}

static void posix_close(ftps_vfs_file *f) {
  if (f == NULL)
    return;
  if (f->writing && !f->committed && f->tmp[0] != '\0' && f->dir_fd >= 0)
    (void)unlinkat(f->dir_fd, f->tmp, 0);
  vfsp_close_fd(&f->fd);
  vfsp_close_fd(&f->dir_fd);
  ftps_free(f->path);
  ftps_free(f);
}

static void posix_free(ftps_vfs *vfs) {
  posix_vfs *v = (posix_vfs *)vfs;
  if (v == NULL)
    return;
  vfsp_close_fd(&v->root_fd);
  ftps_free(v);
}

static const ftps_vfs_ops posix_ops = {
    .stat = posix_stat,
    .mkdir = posix_mkdir,
    .rmdir = posix_rmdir,
    .unlink = posix_unlink,
    .rename = posix_rename,
    .list = posix_list,
    .open_read = posix_open_read,
    .read = posix_read,
    .open_write = posix_open_write,
    .write = posix_write,
    .commit = vfsp_commit,
    .close = posix_close,
    .free = posix_free,
};

ftps_vfs *ftps_vfs_posix_new(const char *root_dir, int *out_err) {
  posix_vfs *v = NULL;
  int err = 0;
  int fd = -1;
  if (root_dir == NULL || root_dir[0] == '\0') {
    err = FTPS_ERR_INVAL;
    goto out;
  }
  fd = open(root_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    err = vfsp_map_errno(errno);
    goto out;
  }
  if ((v = ftps_calloc(1, sizeof(*v))) == NULL) {
    err = FTPS_ERR_NOMEM;
    goto out;
  }
  v->base.ops = &posix_ops;
  v->root_fd = fd;
  v->umask = 022;
  fd = -1;
out:
  vfsp_close_fd(&fd);
  if (out_err != NULL)
    *out_err = err;
  return v != NULL ? &v->base : NULL;
}

bool ftps_vfs_is_posix(const ftps_vfs *vfs) { return vfs != NULL && vfs->ops == &posix_ops; }

void ftps_vfs_posix_set_umask(ftps_vfs *vfs, unsigned mask) {
  if (ftps_vfs_is_posix(vfs))
    ((posix_vfs *)vfs)->umask = (mode_t)(mask & 0777);
}

void ftps_vfs_posix_force_fallback(ftps_vfs *vfs, bool on) {
  if (vfs != NULL && vfs->ops == &posix_ops)
    ((posix_vfs *)vfs)->force_fallback = on;
}
