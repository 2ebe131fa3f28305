/* ftps_vfs_posix_commit.c - the POSIX VFS's commit of an upload, and the
 * start-up sweep of temporary files left by a crash.
 *
 * Commit, under an exclusive flock() of the file it replaces:
 *   lock the target's inode, check the name still leads to it (else someone
 *   replaced it while we waited: lock the new one);
 *   APPEND: if the target is no longer the file whose content was copied in
 *   at open_write (another APPE or STOR committed meanwhile), copy the
 *   target's content again and put the new bytes after it, so concurrent
 *   appends all land, each whole, in the order they commit;
 *   give the new file the old one's mode and owner (a new file: 0666 less
 *   the umask); never change a file's owner silently: if we cannot
 *   (not root, someone else's file) the commit fails with FTPS_ERR_PERM
 *   and the old file stays;
 *   fsync, rename into place (a new name: RENAME_NOREPLACE, so a file that
 *   appeared meanwhile is locked and merged, not overwritten), unlock.
 * Every writer through this VFS, in this process or another, takes the same
 * lock, so STOR and APPE to one file serialise; in one thread the lock is
 * never held across calls and never waited for. A lock held by another
 * process is waited for at most 2 s (then the commit fails, nothing
 * changed): the caller may be a single-threaded event loop. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ftps_err.h"
#include "ftps_vfs.h"
#include "ftps_vfs_posix_int.h"

#define COMMIT_TRIES 16      /* the target replaced while we waited, again and again */
#define SWEEP_MAX_DEPTH 64   /* directories deeper than this are not swept */
#define SWEEP_MIN_AGE_S 5    /* a temporary file younger than this may be one being created */
#define LOCK_WAIT_MS 2000    /* longest wait for another writer's lock */

static bool same_file(const struct stat *a, const struct stat *b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* unchanged: |now| is still the version |then| was taken from. */
static bool unchanged(const struct stat *then, const struct stat *now) {
  return same_file(then, now) && then->st_size == now->st_size &&
         then->st_mtim.tv_sec == now->st_mtim.tv_sec &&
         then->st_mtim.tv_nsec == now->st_mtim.tv_nsec &&
         then->st_ctim.tv_sec == now->st_ctim.tv_sec &&
         then->st_ctim.tv_nsec == now->st_ctim.tv_nsec;
}

/* lock_fd takes the exclusive lock, waiting at most LOCK_WAIT_MS: another
 * server holds it only for one commit, but any local process that can read
 * the file could hold it forever, and the caller is an event loop. Gives up
 * with FTPS_ERR_IO (the upload fails, nothing changes). */
static int lock_fd(int fd) {
  long waited_ms = 0, step_ms = 1;
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR)
      continue;
    if (errno != EWOULDBLOCK || waited_ms >= LOCK_WAIT_MS)
      return errno == EWOULDBLOCK ? FTPS_ERR_IO : vfsp_map_errno(errno);
    struct timespec ts = {.tv_sec = 0, .tv_nsec = step_ms * 1000000L};
    nanosleep(&ts, NULL);
    waited_ms += step_ms;
    if (step_ms < 50)
      step_ms *= 2;
  }
  return 0;
}

/* lock_target opens and locks the regular file |name| in |dir| and checks
 * the name still leads to it. *out_fd is -1 when there is no such file. */
static int lock_target(ftps_vfs_file *f, int dir, const char *name, int *out_fd,
                       struct stat *st) {
  *out_fd = -1;
  for (int tries = 0; tries < COMMIT_TRIES; tries++) {
    int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT)
        return 0;
      /* ELOOP: a symlink; EISDIR/ENXIO and friends: not a regular file. */
      return errno == EISDIR ? FTPS_ERR_ISDIR : vfsp_map_errno(errno);
    }
    int rc = 0;
    if (fstat(fd, st) != 0)
      rc = vfsp_map_errno(errno);
    else if (S_ISDIR(st->st_mode))
      rc = FTPS_ERR_ISDIR;
    else if (!S_ISREG(st->st_mode))
      rc = FTPS_ERR_PERM;
    else if (f->mode == FTPS_VFS_WRITE_EXCL)
      rc = FTPS_ERR_EXIST;
    if (rc == 0)
      rc = lock_fd(fd);
    if (rc != 0) {
      close(fd);
      return rc;
    }
    struct stat now;
    if (vfsp_stat_at(dir, name, &now) == 0 && same_file(&now, st)) {
      if (fstat(fd, st) != 0) { /* the version we now hold */
        rc = vfsp_map_errno(errno);
        close(fd);
        return rc;
      }
      *out_fd = fd;
      return 0;
    }
    close(fd); /* replaced or removed while we waited: again */
  }
  return FTPS_ERR_IO;
}

/* rebase rebuilds an APPEND upload on the current target |cur| (fd |tfd|,
 * -1 when there is none any more): a fresh temporary file with the
 * target's content, then the uploaded bytes (those after the old prefix). */
static int rebase(ftps_vfs_file *f, int tfd, const struct stat *cur) {
  ftps_vfs_file n;
  memset(&n, 0, sizeof(n));
  n.fd = -1;
  int rc = vfsp_make_tmp(f->vfs, f->dir_fd, &n);
  if (rc != 0)
    return rc;
  struct stat up;
  if (fstat(f->fd, &up) != 0) {
    rc = vfsp_map_errno(errno);
    goto fail;
  }
  if (tfd >= 0 && (lseek(tfd, 0, SEEK_SET) < 0 ||
                   (rc = vfsp_copy_prefix(tfd, n.fd, (uint64_t)cur->st_size)) != 0)) {
    if (rc == 0)
      rc = vfsp_map_errno(errno);
    goto fail;
  }
  /* The upload's own descriptor is write-only: read it through the name. */
  int in = openat(f->dir_fd, f->tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0) {
    rc = vfsp_map_errno(errno);
    goto fail;
  }
  uint64_t added = (uint64_t)up.st_size - f->prefix;
  if (lseek(in, (off_t)f->prefix, SEEK_SET) < 0)
    rc = vfsp_map_errno(errno);
  else
    rc = vfsp_copy_prefix(in, n.fd, added);
  close(in);
  if (rc != 0)
    goto fail;
  (void)unlinkat(f->dir_fd, f->tmp, 0);
  close(f->fd);
  f->fd = n.fd;
  memcpy(f->tmp, n.tmp, sizeof(f->tmp));
  f->prefix = tfd >= 0 ? (uint64_t)cur->st_size : 0;
  return 0;
fail:
  (void)unlinkat(f->dir_fd, n.tmp, 0);
  close(n.fd);
  return rc;
}

/* keep_attributes gives the temporary file the mode and owner of |old|,
 * or, for a new file, 0666 less the umask. */
static int keep_attributes(ftps_vfs_file *f, const struct stat *old) {
  if (old == NULL)
    return fchmod(f->fd, 0666 & ~f->vfs->umask) == 0 ? 0 : vfsp_map_errno(errno);
  struct stat tmp;
  if (fstat(f->fd, &tmp) != 0)
    return vfsp_map_errno(errno);
  if ((tmp.st_uid != old->st_uid || tmp.st_gid != old->st_gid) &&
      fchown(f->fd, old->st_uid, old->st_gid) != 0)
    return FTPS_ERR_PERM; /* replacing it would hand someone's file to us */
  /* chown may clear set-id bits; set the mode after it. A rewritten file
   * loses set-user-ID and set-group-ID, as write(2) by others would. */
  if (fchmod(f->fd, old->st_mode & 01777) != 0)
    return vfsp_map_errno(errno);
  return 0;
}

/* place moves the temporary file to |name| in |dir|: over the locked
 * target, or (none) only if the name is still free. Returns FTPS_ERR_EXIST
 * when a file appeared there. */
static int place(ftps_vfs_file *f, int dir, const char *name, bool replace) {
  if (replace)
    return renameat(f->dir_fd, f->tmp, dir, name) == 0 ? 0 : vfsp_map_errno(errno);
  if (renameat2(f->dir_fd, f->tmp, dir, name, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
    return vfsp_map_errno(errno);
  /* No RENAME_NOREPLACE here: link() also fails on an existing name. */
  if (linkat(f->dir_fd, f->tmp, dir, name, 0) != 0)
    return vfsp_map_errno(errno);
  (void)unlinkat(f->dir_fd, f->tmp, 0); /* the content is in place either way */
  return 0;
}

int vfsp_commit(ftps_vfs_file *f) {
  int dir = -1, tfd = -1, sync_fd = -1;
  const char *name;
  struct stat cur;
  int rc;
  if (f == NULL || !f->writing || f->committed)
    return FTPS_ERR_INVAL;
  if ((rc = vfsp_open_parent(f->vfs, f->path, &dir, &name)) != 0)
    goto out;
  for (int tries = 0;; tries++) {
    if (tries == COMMIT_TRIES) {
      rc = FTPS_ERR_IO;
      goto out;
    }
    if ((rc = lock_target(f, dir, name, &tfd, &cur)) != 0)
      goto out;
    if (f->mode == FTPS_VFS_WRITE_APPEND) {
      bool base_ok = tfd >= 0 ? f->had_old && unchanged(&f->old_st, &cur) : !f->had_old;
      if (!base_ok) {
        if ((rc = rebase(f, tfd, &cur)) != 0)
          goto out;
        f->had_old = tfd >= 0;
        if (tfd >= 0)
          f->old_st = cur;
      }
    }
    if ((rc = keep_attributes(f, tfd >= 0 ? &cur : NULL)) != 0)
      goto out;
    if (fsync(f->fd) != 0) {
      rc = vfsp_map_errno(errno);
      goto out;
    }
    rc = place(f, dir, name, tfd >= 0);
    if (rc == FTPS_ERR_EXIST && f->mode != FTPS_VFS_WRITE_EXCL) {
      vfsp_close_fd(&tfd);
      continue; /* a file appeared under the name: lock it and go again */
    }
    if (rc != 0)
      goto out;
    break;
  }
  f->committed = true;
  f->tmp[0] = '\0';
  /* The file is the target now: drop its temporary-file lock, which would
   * block the next commit to it while this handle stays open. */
  vfsp_close_fd(&f->fd);
  /* Make the rename durable too; a failure here no longer undoes it. */
  sync_fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (sync_fd >= 0)
    (void)fsync(sync_fd);
out:
  vfsp_close_fd(&tfd); /* releases the lock */
  vfsp_close_fd(&sync_fd);
  vfsp_close_fd(&dir);
  return rc;
}

/* sweep_dir removes stale temporary files in the directory |fd| (which it
 * closes) and, to |depth|, in its subdirectories. */
static void sweep_dir(int fd, unsigned depth, time_t now, unsigned long *removed) {
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return;
  }
  int dfd = dirfd(d);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    const char *name = de->d_name;
    if (!strcmp(name, ".") || !strcmp(name, ".."))
      continue;
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      continue;
    if (S_ISDIR(st.st_mode)) {
      if (depth + 1 >= SWEEP_MAX_DEPTH)
        continue;
      int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0)
        sweep_dir(sub, depth + 1, now, removed);
      continue;
    }
    if (!S_ISREG(st.st_mode) || !vfsp_is_tmp_name(name, strlen(name)) ||
        st.st_mtim.tv_sec > now - SWEEP_MIN_AGE_S)
      continue;
    int t = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (t < 0)
      continue;
    /* Locked: an upload in progress (another server on this tree). */
    if (flock(t, LOCK_EX | LOCK_NB) == 0 && unlinkat(dfd, name, 0) == 0)
      (*removed)++;
    close(t);
  }
  closedir(d);
}

int ftps_vfs_posix_sweep(ftps_vfs *vfs, unsigned long *removed) {
  *removed = 0;
  if (vfs == NULL || !ftps_vfs_is_posix(vfs))
    return FTPS_ERR_INVAL;
  posix_vfs *v = (posix_vfs *)vfs;
  int fd = openat(v->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return vfsp_map_errno(errno);
  sweep_dir(fd, 0, time(NULL), removed);
  return 0;
}
