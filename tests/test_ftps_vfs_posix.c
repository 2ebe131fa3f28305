/* test_ftps_vfs_posix.c - the POSIX VFS: every op and error, the jail
 * (non-canonical paths, symlinks out of the root, long paths), the
 * nothing-lost rules of writes (abort leaves the old file byte-identical and
 * no temporary file), EXCL races, list order, and a 16 MiB round trip. The
 * whole suite runs twice: with openat2 and with the openat walk forced. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ftps_err.h"
#include "ftps_vfs.h"
#include "testlib.h"

#define BIG_LEN (16u << 20)
#define PREFIX ".ftpsfuzz-upload-"

static char g_base[64]; /* the mkdtemp directory: holds root*, outside.txt */
static char g_root[128];

/* ---- host-side helpers (plain POSIX, outside the VFS) ---- */

static const char *host(const char *vpath) {
  static char buf[4][512];
  static int k;
  char *b = buf[k++ & 3];
  snprintf(b, sizeof(buf[0]), "%s%s", g_root, vpath);
  return b;
}

static void host_put(const char *hpath, const void *data, size_t len) {
  int fd = open(hpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
    fprintf(stderr, "host_put %s: %s\n", hpath, strerror(errno));
    exit(1);
  }
  close(fd);
}

/* host_get reads a whole file into a malloc'd buffer (NULL if missing). */
static uint8_t *host_get(const char *hpath, size_t *out_len) {
  struct stat st;
  *out_len = 0;
  int fd = open(hpath, O_RDONLY);
  if (fd < 0)
    return NULL;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return NULL;
  }
  uint8_t *b = malloc((size_t)st.st_size + 1);
  size_t got = 0;
  while (b != NULL && got < (size_t)st.st_size) {
    ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  *out_len = got;
  return b;
}

static bool host_exists(const char *hpath) {
  struct stat st;
  return lstat(hpath, &st) == 0;
}

/* tmp_files counts the server's temporary files in host directory |hdir|. */
static int tmp_files(const char *hdir) {
  int n = 0;
  DIR *d = opendir(hdir);
  if (d == NULL)
    return -1;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (strncmp(de->d_name, PREFIX, strlen(PREFIX)) == 0)
      n++;
  closedir(d);
  return n;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(p);
}

static void rm_rf(const char *p) { nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static void fill(uint8_t *b, size_t n, uint32_t seed) {
  uint32_t x = seed | 1;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b[i] = (uint8_t)x;
  }
}

/* ---- VFS helpers ---- */

/* slurp reads the whole file at |path| from |off| into a malloc'd buffer. */
static int slurp(ftps_vfs *v, const char *path, uint64_t off, uint8_t **out, size_t *out_len) {
  ftps_vfs_file *f = NULL;
  size_t len = 0, cap = 0, n;
  uint8_t *buf = NULL;
  *out = NULL;
  *out_len = 0;
  int rc = v->ops->open_read(v, path, off, &f);
  if (rc != 0)
    return rc;
  do {
    if (cap - len < 65536) {
      cap = cap == 0 ? 65536 : cap * 2;
      buf = realloc(buf, cap);
      if (buf == NULL)
        exit(1);
    }
    rc = v->ops->read(f, buf + len, 65536, &n);
    len += n;
  } while (rc == 0 && n != 0);
  v->ops->close(f);
  *out = buf;
  *out_len = len;
  return rc;
}

#define CHECK_CONTENT(v, path, want, want_len)                 \
  do {                                                         \
    uint8_t *got_;                                             \
    size_t len_;                                               \
    CHECK_EQ_INT(slurp(v, path, 0, &got_, &len_), 0);          \
    CHECK_MEM(got_, len_, want, want_len);                     \
    free(got_);                                                \
  } while (0)

#define CHECK_HOST(vpath, want, want_len)                      \
  do {                                                         \
    size_t len_;                                               \
    uint8_t *got_ = host_get(host(vpath), &len_);              \
    CHECK(got_ != NULL);                                       \
    CHECK_MEM(got_ != NULL ? got_ : (uint8_t *)"", len_, want, want_len); \
    free(got_);                                                \
  } while (0)

static int write_file(ftps_vfs *v, const char *path, ftps_vfs_write_mode mode, uint64_t off,
                      const void *s, size_t len, int commit) {
  ftps_vfs_file *f = NULL;
  int rc = v->ops->open_write(v, path, mode, off, &f);
  if (rc == 0)
    rc = v->ops->write(f, s, len);
  if (rc == 0 && commit)
    rc = v->ops->commit(f);
  v->ops->close(f);
  return rc;
}

static int put(ftps_vfs *v, const char *path, const char *s) {
  return write_file(v, path, FTPS_VFS_WRITE_TRUNCATE, 0, s, strlen(s), 1);
}

typedef struct listing {
  char names[32][64];
  bool dirs[32];
  uint64_t sizes[32];
  int n;
  int stop_at; /* return 7 at this entry; -1 never */
} listing;

static int list_cb(void *ctx, const char *name, const ftps_vfs_stat *st) {
  listing *l = ctx;
  if (l->n < 32) {
    snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name);
    l->dirs[l->n] = st->is_dir;
    l->sizes[l->n] = st->size;
  }
  l->n++;
  return l->n - 1 == l->stop_at ? 7 : 0;
}

static int do_list(ftps_vfs *v, const char *dir, listing *l) {
  memset(l, 0, sizeof(*l));
  l->stop_at = -1;
  return v->ops->list(v, dir, list_cb, l);
}

static bool listed(const listing *l, const char *name) {
  for (int i = 0; i < l->n && i < 32; i++)
    if (strcmp(l->names[i], name) == 0)
      return true;
  return false;
}

/* ---- tests ---- */

static void test_new(void) {
  int err = 0;
  CHECK(ftps_vfs_posix_new("/nonexistent/ftpsfuzz-root", &err) == NULL);
  CHECK_EQ_INT(err, FTPS_ERR_NOENT);
  char f[256];
  snprintf(f, sizeof(f), "%s/outside.txt", g_base);
  CHECK(ftps_vfs_posix_new(f, &err) == NULL);
  CHECK_EQ_INT(err, FTPS_ERR_NOTDIR);
  CHECK(ftps_vfs_posix_new(NULL, &err) == NULL);
  CHECK_EQ_INT(err, FTPS_ERR_INVAL);
  CHECK(ftps_vfs_posix_new("", NULL) == NULL);
  ftps_vfs_free(NULL);
}

static void test_invalid_paths(ftps_vfs *v) {
  static const char *bad[] = {"/../etc/passwd", "..", "", "a", "//a", "/a/", "/./a",
                              "/a/..", "/a/./b", "/a//b", "/..", "/."};
  ftps_vfs_stat st;
  ftps_vfs_file *f = (ftps_vfs_file *)&st; /* must be reset to NULL on failure */
  listing l;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    CHECK_EQ_INT(v->ops->stat(v, bad[i], &st), FTPS_ERR_INVAL);
    CHECK_EQ_INT(v->ops->mkdir(v, bad[i]), FTPS_ERR_INVAL);
    CHECK_EQ_INT(v->ops->rmdir(v, bad[i]), FTPS_ERR_INVAL);
    CHECK_EQ_INT(v->ops->unlink(v, bad[i]), FTPS_ERR_INVAL);
    CHECK_EQ_INT(v->ops->rename(v, bad[i], "/x"), FTPS_ERR_INVAL);
    CHECK_EQ_INT(v->ops->rename(v, "/f", bad[i]), FTPS_ERR_INVAL);
    CHECK_EQ_INT(do_list(v, bad[i], &l), FTPS_ERR_INVAL);
    CHECK_EQ_INT(v->ops->open_read(v, bad[i], 0, &f), FTPS_ERR_INVAL);
    CHECK(f == NULL);
    f = (ftps_vfs_file *)&st;
    CHECK_EQ_INT(v->ops->open_write(v, bad[i], FTPS_VFS_WRITE_TRUNCATE, 0, &f), FTPS_ERR_INVAL);
    CHECK(f == NULL);
  }
  CHECK_EQ_INT(v->ops->stat(v, NULL, &st), FTPS_ERR_INVAL);
  CHECK_EQ_INT(v->ops->list(v, "/", NULL, NULL), FTPS_ERR_INVAL);
  CHECK(!host_exists("/etc/passwd") || v->ops->stat(v, "/etc/passwd", &st) == FTPS_ERR_NOENT);
  /* Our temporary files are not reachable by name. */
  CHECK_EQ_INT(v->ops->stat(v, "/" PREFIX "0000000000000000.tmp", &st), FTPS_ERR_PERM);
  CHECK_EQ_INT(put(v, "/" PREFIX "x.tmp", "x"), FTPS_ERR_PERM);
}

static void test_long_paths(ftps_vfs *v) {
  char name[300], path[6000];
  ftps_vfs_stat st;
  memset(name, 'n', 256);
  name[256] = '\0';
  snprintf(path, sizeof(path), "/%s", name);
  CHECK_EQ_INT(v->ops->stat(v, path, &st), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(v->ops->mkdir(v, path), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(put(v, path, "x"), FTPS_ERR_LIMIT);
  /* 255 bytes is a legal name. */
  path[255 + 1] = '\0';
  CHECK_EQ_INT(put(v, path, "x"), 0);
  CHECK_EQ_INT(v->ops->stat(v, path, &st), 0);
  CHECK_EQ_INT(v->ops->unlink(v, path), 0);
  /* A path of more than PATH_MAX bytes made of short names. */
  size_t len = 0;
  while (len < 5000) {
    memcpy(path + len, "/abcdefghi", 10);
    len += 10;
  }
  path[len] = '\0';
  CHECK_EQ_INT(v->ops->stat(v, path, &st), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(put(v, path, "x"), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(v->ops->mkdir(v, path), FTPS_ERR_LIMIT);
}

static void test_dirs(ftps_vfs *v) {
  ftps_vfs_stat st, st2;
  CHECK_EQ_INT(v->ops->stat(v, "/", &st), 0);
  CHECK(st.is_dir);
  CHECK_EQ_INT(st.size, 0);
  CHECK(st.writable);
  CHECK_EQ_INT(v->ops->mkdir(v, "/d"), 0);
  CHECK(host_exists(host("/d")));
  CHECK_EQ_INT(v->ops->mkdir(v, "/d"), FTPS_ERR_EXIST);
  CHECK_EQ_INT(v->ops->mkdir(v, "/"), FTPS_ERR_EXIST);
  CHECK_EQ_INT(v->ops->mkdir(v, "/nope/x"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(put(v, "/file", "abc"), 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/file/x"), FTPS_ERR_NOTDIR);
  CHECK_EQ_INT(v->ops->stat(v, "/file/x", &st), FTPS_ERR_NOTDIR);
  CHECK_EQ_INT(v->ops->mkdir(v, "/d/e"), 0);
  CHECK_EQ_INT(v->ops->stat(v, "/d/e", &st), 0);
  CHECK(st.is_dir);
  CHECK_EQ_INT(v->ops->stat(v, "/d", &st2), 0);
  CHECK(st.unique != st2.unique);

  CHECK_EQ_INT(v->ops->rmdir(v, "/d"), FTPS_ERR_NOTEMPTY);
  CHECK_EQ_INT(v->ops->rmdir(v, "/file"), FTPS_ERR_NOTDIR);
  CHECK_EQ_INT(v->ops->rmdir(v, "/"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->rmdir(v, "/missing"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->rmdir(v, "/d/e"), 0);
  CHECK(!host_exists(host("/d/e")));
  CHECK_EQ_INT(v->ops->rmdir(v, "/d"), 0);
  CHECK_EQ_INT(v->ops->stat(v, "/d", &st), FTPS_ERR_NOENT);

  CHECK_EQ_INT(v->ops->mkdir(v, "/d"), 0);
  CHECK_EQ_INT(v->ops->unlink(v, "/d"), FTPS_ERR_ISDIR);
  CHECK_EQ_INT(v->ops->unlink(v, "/"), FTPS_ERR_ISDIR);
  CHECK_EQ_INT(v->ops->unlink(v, "/missing"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->unlink(v, "/missing/x"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->unlink(v, "/file"), 0);
  CHECK(!host_exists(host("/file")));
  CHECK_EQ_INT(v->ops->rmdir(v, "/d"), 0);
}

static void test_stat_files(ftps_vfs *v) {
  ftps_vfs_stat a, b;
  host_put(host("/s1"), "12345", 5);
  struct stat hs;
  CHECK_EQ_INT(stat(host("/s1"), &hs), 0);
  CHECK_EQ_INT(v->ops->stat(v, "/s1", &a), 0);
  CHECK(!a.is_dir);
  CHECK_EQ_INT(a.size, 5);
  CHECK_EQ_INT(a.mtime, hs.st_mtim.tv_sec);
  CHECK(a.writable);
  CHECK_EQ_INT(v->ops->stat(v, "/s1", &b), 0);
  CHECK(a.unique == b.unique); /* stable */
  host_put(host("/s2"), "", 0);
  CHECK_EQ_INT(v->ops->stat(v, "/s2", &b), 0);
  CHECK_EQ_INT(b.size, 0);
  CHECK(a.unique != b.unique);
  CHECK_EQ_INT(v->ops->stat(v, "/missing", &b), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->unlink(v, "/s1"), 0);
  CHECK_EQ_INT(v->ops->unlink(v, "/s2"), 0);
}

static void test_rename(ftps_vfs *v) {
  CHECK_EQ_INT(put(v, "/a", "AAA"), 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/d1"), 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/d2"), 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/d1/sub"), 0);
  CHECK_EQ_INT(v->ops->rename(v, "/a", "/b"), 0);
  CHECK(!host_exists(host("/a")));
  CHECK_CONTENT(v, "/b", "AAA", 3);
  CHECK_EQ_INT(v->ops->rename(v, "/b", "/d1/b"), 0); /* across directories */
  CHECK_CONTENT(v, "/d1/b", "AAA", 3);
  CHECK_EQ_INT(put(v, "/c", "CC"), 0);
  CHECK_EQ_INT(v->ops->rename(v, "/c", "/d1/b"), 0); /* replaces a file */
  CHECK_CONTENT(v, "/d1/b", "CC", 2);
  CHECK_EQ_INT(v->ops->rename(v, "/d1/b", "/d1/b"), 0);
  CHECK_CONTENT(v, "/d1/b", "CC", 2);
  CHECK_EQ_INT(v->ops->rename(v, "/missing", "/x"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->rename(v, "/d1/b", "/missing/x"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->rename(v, "/d1/b", "/d1/b/x"), FTPS_ERR_NOTDIR);
  CHECK_EQ_INT(v->ops->rename(v, "/", "/x"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->rename(v, "/d1", "/"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->rename(v, "/d1", "/d1/sub/x"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->rename(v, "/d1", "/d1/x"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->rename(v, "/d1", "/d2"), FTPS_ERR_EXIST);
  CHECK_EQ_INT(v->ops->rename(v, "/d1/b", "/d2"), FTPS_ERR_ISDIR);
  CHECK_EQ_INT(v->ops->rename(v, "/d2", "/d1/b"), FTPS_ERR_NOTDIR);
  CHECK_EQ_INT(v->ops->rename(v, "/d1", "/d2/moved"), 0); /* a directory, across */
  CHECK_CONTENT(v, "/d2/moved/b", "CC", 2);
  CHECK(host_exists(host("/d2/moved/sub")));
  CHECK_EQ_INT(v->ops->unlink(v, "/d2/moved/b"), 0);
  CHECK_EQ_INT(v->ops->rmdir(v, "/d2/moved/sub"), 0);
  CHECK_EQ_INT(v->ops->rmdir(v, "/d2/moved"), 0);
  CHECK_EQ_INT(v->ops->rmdir(v, "/d2"), 0);
}

static void test_list(ftps_vfs *v) {
  listing l;
  CHECK_EQ_INT(v->ops->mkdir(v, "/L"), 0);
  CHECK_EQ_INT(do_list(v, "/L", &l), 0);
  CHECK_EQ_INT(l.n, 0);
  static const char *names[] = {"c9", "b", "B", "c10", "a"};
  for (size_t i = 0; i < 5; i++) {
    char p[32];
    snprintf(p, sizeof(p), "/L/%s", names[i]);
    CHECK_EQ_INT(put(v, p, names[i]), 0);
  }
  CHECK_EQ_INT(v->ops->mkdir(v, "/L/dir"), 0);
  CHECK_EQ_INT(mkfifo(host("/L/fifo"), 0644), 0);
  CHECK_EQ_INT(symlink("a", host("/L/link")), 0);
  host_put(host("/L/" PREFIX "deadbeef.tmp"), "junk", 4); /* a stale one */
  /* An upload in progress: its temporary file exists but is not listed. */
  ftps_vfs_file *f = NULL;
  CHECK_EQ_INT(v->ops->open_write(v, "/L/up", FTPS_VFS_WRITE_TRUNCATE, 0, &f), 0);
  CHECK_EQ_INT(tmp_files(host("/L")), 2);
  CHECK_EQ_INT(do_list(v, "/L", &l), 0);
  v->ops->close(f);
  CHECK_EQ_INT(tmp_files(host("/L")), 1);
  static const char *want[] = {"B", "a", "b", "c10", "c9", "dir"};
  CHECK_EQ_INT(l.n, 6);
  for (int i = 0; i < 6 && i < l.n; i++)
    CHECK_STR(l.names[i], want[i]);
  CHECK(l.dirs[5] && !l.dirs[0]);
  CHECK_EQ_INT(l.sizes[3], 3);
  /* The callback's non-zero value stops the listing and is returned. */
  memset(&l, 0, sizeof(l));
  l.stop_at = 2;
  CHECK_EQ_INT(v->ops->list(v, "/L", list_cb, &l), 7);
  CHECK_EQ_INT(l.n, 3);
  CHECK_EQ_INT(do_list(v, "/L/a", &l), FTPS_ERR_NOTDIR);
  CHECK_EQ_INT(do_list(v, "/L/missing", &l), FTPS_ERR_NOENT);
  CHECK_EQ_INT(do_list(v, "/", &l), 0);
  CHECK(listed(&l, "L"));
  /* FIFOs and symlinks are neither listed nor opened (no hang on the FIFO). */
  ftps_vfs_stat st;
  CHECK_EQ_INT(v->ops->stat(v, "/L/fifo", &st), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->open_read(v, "/L/fifo", 0, &f), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->open_write(v, "/L/fifo", FTPS_VFS_WRITE_APPEND, 0, &f), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->unlink(v, "/L/fifo"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->stat(v, "/L/link", &st), FTPS_ERR_PERM);
  rm_rf(host("/L"));
}

static void test_read(ftps_vfs *v) {
  ftps_vfs_file *f = NULL;
  uint8_t *got;
  size_t len;
  CHECK_EQ_INT(put(v, "/r", "0123456789"), 0);
  CHECK_EQ_INT(slurp(v, "/r", 4, &got, &len), 0);
  CHECK_MEM(got, len, "456789", 6);
  free(got);
  CHECK_EQ_INT(slurp(v, "/r", 10, &got, &len), 0);
  CHECK_EQ_INT(len, 0);
  free(got);
  CHECK_EQ_INT(v->ops->open_read(v, "/r", 11, &f), FTPS_ERR_INVAL);
  CHECK(f == NULL);
  CHECK_EQ_INT(v->ops->open_read(v, "/", 0, &f), FTPS_ERR_ISDIR);
  CHECK_EQ_INT(v->ops->mkdir(v, "/rd"), 0);
  CHECK_EQ_INT(v->ops->open_read(v, "/rd", 0, &f), FTPS_ERR_ISDIR);
  CHECK_EQ_INT(v->ops->open_read(v, "/missing", 0, &f), FTPS_ERR_NOENT);
  /* A reader keeps what it opened while the file is replaced. */
  CHECK_EQ_INT(v->ops->open_read(v, "/r", 0, &f), 0);
  CHECK_EQ_INT(put(v, "/r", "new"), 0);
  uint8_t buf[32];
  CHECK_EQ_INT(v->ops->read(f, buf, sizeof(buf), &len), 0);
  CHECK_MEM(buf, len, "0123456789", 10);
  CHECK_EQ_INT(v->ops->write(f, buf, 1), FTPS_ERR_INVAL);
  CHECK_EQ_INT(v->ops->commit(f), FTPS_ERR_INVAL);
  v->ops->close(f);
  v->ops->close(NULL);
  CHECK_EQ_INT(v->ops->unlink(v, "/r"), 0);
  CHECK_EQ_INT(v->ops->rmdir(v, "/rd"), 0);
}

static void test_write_modes(ftps_vfs *v) {
  ftps_vfs_file *f = NULL;
  ftps_vfs_stat st;
  CHECK_EQ_INT(write_file(v, "/w", FTPS_VFS_WRITE_TRUNCATE, 0, "hello", 5, 1), 0);
  CHECK_HOST("/w", "hello", 5);
  struct stat hs;
  CHECK_EQ_INT(stat(host("/w"), &hs), 0);
  CHECK_EQ_INT(hs.st_mode & 07777, 0644);
  CHECK_EQ_INT(write_file(v, "/w", FTPS_VFS_WRITE_APPEND, 0, " world", 6, 1), 0);
  CHECK_HOST("/w", "hello world", 11);
  CHECK_EQ_INT(write_file(v, "/w", FTPS_VFS_WRITE_AT, 5, "!", 1, 1), 0);
  CHECK_HOST("/w", "hello!", 6);
  CHECK_EQ_INT(write_file(v, "/w", FTPS_VFS_WRITE_AT, 0, "X", 1, 1), 0);
  CHECK_HOST("/w", "X", 1);
  CHECK_EQ_INT(write_file(v, "/w", FTPS_VFS_WRITE_AT, 2, "Y", 1, 1), FTPS_ERR_INVAL);
  CHECK_EQ_INT(write_file(v, "/w", FTPS_VFS_WRITE_AT, 1, "Y", 1, 1), 0);
  CHECK_HOST("/w", "XY", 2);
  CHECK_EQ_INT(write_file(v, "/w", FTPS_VFS_WRITE_TRUNCATE, 0, "", 0, 1), 0);
  CHECK_HOST("/w", "", 0);
  /* APPEND and AT 0 on a missing file create it; AT n > 0 does not. */
  CHECK_EQ_INT(write_file(v, "/w2", FTPS_VFS_WRITE_APPEND, 0, "ap", 2, 1), 0);
  CHECK_HOST("/w2", "ap", 2);
  CHECK_EQ_INT(write_file(v, "/w3", FTPS_VFS_WRITE_AT, 0, "at", 2, 1), 0);
  CHECK_HOST("/w3", "at", 2);
  CHECK_EQ_INT(write_file(v, "/w4", FTPS_VFS_WRITE_AT, 1, "at", 2, 1), FTPS_ERR_INVAL);
  CHECK(!host_exists(host("/w4")));
  /* EXCL */
  CHECK_EQ_INT(write_file(v, "/w", FTPS_VFS_WRITE_EXCL, 0, "no", 2, 1), FTPS_ERR_EXIST);
  CHECK_EQ_INT(write_file(v, "/w5", FTPS_VFS_WRITE_EXCL, 0, "new", 3, 1), 0);
  CHECK_HOST("/w5", "new", 3);
  /* Bad targets. */
  CHECK_EQ_INT(v->ops->open_write(v, "/", FTPS_VFS_WRITE_TRUNCATE, 0, &f), FTPS_ERR_ISDIR);
  CHECK_EQ_INT(v->ops->mkdir(v, "/wd"), 0);
  CHECK_EQ_INT(v->ops->open_write(v, "/wd", FTPS_VFS_WRITE_TRUNCATE, 0, &f), FTPS_ERR_ISDIR);
  CHECK_EQ_INT(v->ops->open_write(v, "/nope/x", FTPS_VFS_WRITE_TRUNCATE, 0, &f), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->open_write(v, "/w/x", FTPS_VFS_WRITE_TRUNCATE, 0, &f), FTPS_ERR_NOTDIR);
  CHECK_EQ_INT(v->ops->open_write(v, "/w", (ftps_vfs_write_mode)99, 0, &f), FTPS_ERR_INVAL);
  CHECK(f == NULL);
  /* Nothing is visible before commit; a handle is done after commit. */
  CHECK_EQ_INT(v->ops->open_write(v, "/w6", FTPS_VFS_WRITE_TRUNCATE, 0, &f), 0);
  CHECK_EQ_INT(v->ops->write(f, (const uint8_t *)"abc", 3), 0);
  CHECK_EQ_INT(v->ops->stat(v, "/w6", &st), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->commit(f), 0);
  CHECK_EQ_INT(v->ops->stat(v, "/w6", &st), 0);
  CHECK_EQ_INT(st.size, 3);
  CHECK_EQ_INT(v->ops->write(f, (const uint8_t *)"d", 1), FTPS_ERR_INVAL);
  CHECK_EQ_INT(v->ops->commit(f), FTPS_ERR_INVAL);
  v->ops->close(f);
  CHECK_HOST("/w6", "abc", 3);
  /* A directory appearing at the target before commit: ISDIR, nothing lost. */
  CHECK_EQ_INT(v->ops->open_write(v, "/w7", FTPS_VFS_WRITE_TRUNCATE, 0, &f), 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/w7"), 0);
  CHECK_EQ_INT(v->ops->commit(f), FTPS_ERR_ISDIR);
  v->ops->close(f);
  CHECK_EQ_INT(v->ops->rmdir(v, "/w7"), 0);
  /* The parent removed under an upload cannot be (the temp file is in it);
   * renamed, the upload still lands at the path it was opened for. */
  CHECK_EQ_INT(v->ops->open_write(v, "/wd/x", FTPS_VFS_WRITE_TRUNCATE, 0, &f), 0);
  CHECK_EQ_INT(v->ops->rmdir(v, "/wd"), FTPS_ERR_NOTEMPTY);
  CHECK_EQ_INT(v->ops->rename(v, "/wd", "/wd-moved"), 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/wd"), 0);
  CHECK_EQ_INT(v->ops->write(f, (const uint8_t *)"moved", 5), 0);
  CHECK_EQ_INT(v->ops->commit(f), 0);
  v->ops->close(f);
  CHECK_HOST("/wd/x", "moved", 5);
  CHECK_EQ_INT(tmp_files(host("/wd-moved")), 0);
  CHECK_EQ_INT(tmp_files(host("/")), 0);
  rm_rf(host("/wd"));
  rm_rf(host("/wd-moved"));
  static const char *made[] = {"/w", "/w2", "/w3", "/w5", "/w6"};
  for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++)
    CHECK_EQ_INT(v->ops->unlink(v, made[i]), 0);
}

/* An aborted upload in every mode leaves the old file byte-identical and no
 * temporary file; the old content is large enough to exercise the copy. */
static void test_abort(ftps_vfs *v) {
  const size_t old_len = 200000;
  uint8_t *old = malloc(old_len), junk[4096];
  fill(old, old_len, 7);
  fill(junk, sizeof(junk), 9);
  CHECK_EQ_INT(v->ops->mkdir(v, "/ab"), 0);
  host_put(host("/ab/f"), old, old_len);
  static const ftps_vfs_write_mode modes[] = {FTPS_VFS_WRITE_TRUNCATE, FTPS_VFS_WRITE_APPEND,
                                              FTPS_VFS_WRITE_AT};
  for (size_t i = 0; i < 3; i++) {
    ftps_vfs_file *f = NULL;
    CHECK_EQ_INT(v->ops->open_write(v, "/ab/f", modes[i], 1000, &f), 0);
    CHECK_EQ_INT(v->ops->write(f, junk, sizeof(junk)), 0);
    CHECK_EQ_INT(tmp_files(host("/ab")), 1);
    CHECK_HOST("/ab/f", old, old_len);
    v->ops->close(f);
    CHECK_HOST("/ab/f", old, old_len);
    CHECK_EQ_INT(tmp_files(host("/ab")), 0);
  }
  /* The same uploads committed: exactly the new content. */
  size_t want_len = old_len + sizeof(junk);
  uint8_t *want = malloc(want_len);
  memcpy(want, old, old_len);
  memcpy(want + old_len, junk, sizeof(junk));
  CHECK_EQ_INT(write_file(v, "/ab/f", FTPS_VFS_WRITE_APPEND, 0, junk, sizeof(junk), 1), 0);
  CHECK_HOST("/ab/f", want, want_len);
  memcpy(want + 1000, junk, sizeof(junk));
  CHECK_EQ_INT(write_file(v, "/ab/f", FTPS_VFS_WRITE_AT, 1000, junk, sizeof(junk), 1), 0);
  CHECK_HOST("/ab/f", want, 1000 + sizeof(junk));
  CHECK_EQ_INT(write_file(v, "/ab/f", FTPS_VFS_WRITE_TRUNCATE, 0, junk, 10, 1), 0);
  CHECK_HOST("/ab/f", junk, 10);
  CHECK_EQ_INT(tmp_files(host("/ab")), 0);
  free(want);
  free(old);
  rm_rf(host("/ab"));
}

static void test_excl_race(ftps_vfs *v) {
  ftps_vfs_file *f = NULL;
  CHECK_EQ_INT(v->ops->open_write(v, "/ex", FTPS_VFS_WRITE_EXCL, 0, &f), 0);
  CHECK_EQ_INT(v->ops->write(f, (const uint8_t *)"mine", 4), 0);
  host_put(host("/ex"), "theirs", 6); /* created meanwhile, outside the VFS */
  CHECK_EQ_INT(v->ops->commit(f), FTPS_ERR_EXIST);
  v->ops->close(f);
  CHECK_HOST("/ex", "theirs", 6);
  CHECK_EQ_INT(tmp_files(host("/")), 0);
  /* Two EXCL uploads of one name: the first commit wins. */
  ftps_vfs_file *g = NULL;
  CHECK_EQ_INT(v->ops->open_write(v, "/ex2", FTPS_VFS_WRITE_EXCL, 0, &f), 0);
  CHECK_EQ_INT(v->ops->open_write(v, "/ex2", FTPS_VFS_WRITE_EXCL, 0, &g), 0);
  CHECK_EQ_INT(v->ops->write(f, (const uint8_t *)"one", 3), 0);
  CHECK_EQ_INT(v->ops->write(g, (const uint8_t *)"two", 3), 0);
  CHECK_EQ_INT(v->ops->commit(g), 0);
  CHECK_EQ_INT(v->ops->commit(f), FTPS_ERR_EXIST);
  v->ops->close(f);
  v->ops->close(g);
  CHECK_HOST("/ex2", "two", 3);
  CHECK_EQ_INT(tmp_files(host("/")), 0);
  CHECK_EQ_INT(v->ops->unlink(v, "/ex"), 0);
  CHECK_EQ_INT(v->ops->unlink(v, "/ex2"), 0);
}

/* Symlinks inside the root, to "/etc", to "..", to a file in the root:
 * nothing goes through them. */
/* Interleaved uploads to one file: each commit sees the others, so no
 * append is lost (the red-team finding: the last rename won), and a STOR
 * between them is followed by the appends that commit after it. */
static void test_concurrent_commits(ftps_vfs *v) {
  ftps_vfs_file *a = NULL, *b = NULL, *c = NULL;
  CHECK_EQ_INT(put(v, "/cc", "base;"), 0);
  CHECK_EQ_INT(v->ops->open_write(v, "/cc", FTPS_VFS_WRITE_APPEND, 0, &a), 0);
  CHECK_EQ_INT(v->ops->open_write(v, "/cc", FTPS_VFS_WRITE_APPEND, 0, &b), 0);
  CHECK_EQ_INT(v->ops->write(a, (const uint8_t *)"A1;", 3), 0);
  CHECK_EQ_INT(v->ops->write(b, (const uint8_t *)"B1;", 3), 0);
  CHECK_EQ_INT(v->ops->write(a, (const uint8_t *)"A2;", 3), 0);
  CHECK_EQ_INT(v->ops->commit(b), 0);
  CHECK_EQ_INT(v->ops->commit(a), 0);
  v->ops->close(a);
  v->ops->close(b);
  CHECK_HOST("/cc", "base;B1;A1;A2;", 14);
  a = b = NULL;
  CHECK_EQ_INT(v->ops->open_write(v, "/cc", FTPS_VFS_WRITE_APPEND, 0, &a), 0);
  CHECK_EQ_INT(v->ops->open_write(v, "/cc", FTPS_VFS_WRITE_TRUNCATE, 0, &b), 0);
  CHECK_EQ_INT(v->ops->write(a, (const uint8_t *)"tail", 4), 0);
  CHECK_EQ_INT(v->ops->write(b, (const uint8_t *)"new;", 4), 0);
  CHECK_EQ_INT(v->ops->commit(b), 0);
  CHECK_EQ_INT(v->ops->commit(a), 0);
  v->ops->close(a);
  v->ops->close(b);
  CHECK_HOST("/cc", "new;tail", 8);
  /* Two appends to a file that does not exist yet, and one to a file
   * removed after it was opened. */
  a = b = NULL;
  CHECK_EQ_INT(v->ops->open_write(v, "/cn", FTPS_VFS_WRITE_APPEND, 0, &a), 0);
  CHECK_EQ_INT(v->ops->open_write(v, "/cn", FTPS_VFS_WRITE_APPEND, 0, &b), 0);
  CHECK_EQ_INT(v->ops->open_write(v, "/cc", FTPS_VFS_WRITE_APPEND, 0, &c), 0);
  CHECK_EQ_INT(v->ops->write(a, (const uint8_t *)"a", 1), 0);
  CHECK_EQ_INT(v->ops->write(b, (const uint8_t *)"b", 1), 0);
  CHECK_EQ_INT(v->ops->write(c, (const uint8_t *)"c", 1), 0);
  CHECK_EQ_INT(v->ops->commit(a), 0);
  CHECK_EQ_INT(v->ops->commit(b), 0);
  CHECK_EQ_INT(v->ops->unlink(v, "/cc"), 0);
  CHECK_EQ_INT(v->ops->commit(c), 0);
  v->ops->close(a);
  v->ops->close(b);
  v->ops->close(c);
  CHECK_HOST("/cn", "ab", 2);
  CHECK_HOST("/cc", "c", 1);
  CHECK_EQ_INT(tmp_files(g_root), 0);
  CHECK_EQ_INT(v->ops->unlink(v, "/cn"), 0);
  CHECK_EQ_INT(v->ops->unlink(v, "/cc"), 0);
}

/* A lock someone else holds forever: the commit gives up (after 2 s, so
 * tested once, not per resolver), the old file stays, nothing is left. */
static void test_lock_held_elsewhere(ftps_vfs *v) {
  static bool done;
  if (done)
    return;
  done = true;
  ftps_vfs_file *f = NULL;
  CHECK_EQ_INT(put(v, "/held", "old"), 0);
  int fd = open(host("/held"), O_RDONLY);
  CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0);
  CHECK_EQ_INT(v->ops->open_write(v, "/held", FTPS_VFS_WRITE_APPEND, 0, &f), 0);
  CHECK_EQ_INT(v->ops->write(f, (const uint8_t *)"new", 3), 0);
  CHECK_EQ_INT(v->ops->commit(f), FTPS_ERR_IO);
  v->ops->close(f);
  close(fd);
  CHECK_HOST("/held", "old", 3);
  CHECK_EQ_INT(tmp_files(g_root), 0);
  CHECK_EQ_INT(v->ops->unlink(v, "/held"), 0);
}

/* A committed upload keeps the old file's mode (the finding: chmod 600,
 * APPE one byte, and the file became 0644) and, as root, its owner; new
 * files follow the umask. */
static void test_keep_mode_owner(ftps_vfs *v) {
  struct stat hs;
  CHECK_EQ_INT(put(v, "/km", "secret"), 0);
  CHECK_EQ_INT(chmod(host("/km"), 0600), 0);
  CHECK_EQ_INT(write_file(v, "/km", FTPS_VFS_WRITE_APPEND, 0, "!", 1, 1), 0);
  CHECK_EQ_INT(stat(host("/km"), &hs), 0);
  CHECK_EQ_INT(hs.st_mode & 07777, 0600);
  CHECK_EQ_INT(chmod(host("/km"), 06640), 0);
  CHECK_EQ_INT(put(v, "/km", "stor"), 0);
  CHECK_EQ_INT(stat(host("/km"), &hs), 0);
  CHECK_EQ_INT(hs.st_mode & 07777, 0640); /* set-id bits dropped */
  if (geteuid() == 0) {
    CHECK_EQ_INT(chown(host("/km"), 65534, 65534), 0);
    CHECK_EQ_INT(write_file(v, "/km", FTPS_VFS_WRITE_APPEND, 0, "x", 1, 1), 0);
    CHECK_EQ_INT(stat(host("/km"), &hs), 0);
    CHECK_EQ_INT((long)hs.st_uid, 65534);
    CHECK_EQ_INT((long)hs.st_gid, 65534);
    CHECK_EQ_INT(hs.st_mode & 07777, 0640);
    CHECK_HOST("/km", "storx", 5);
  } else {
    printf("not root: the owner half of test_keep_mode_owner is skipped\n");
  }
  ftps_vfs_posix_set_umask(v, 027);
  CHECK_EQ_INT(put(v, "/um", "u"), 0);
  CHECK_EQ_INT(stat(host("/um"), &hs), 0);
  CHECK_EQ_INT(hs.st_mode & 07777, 0640);
  CHECK_EQ_INT(v->ops->mkdir(v, "/umd"), 0);
  CHECK_EQ_INT(stat(host("/umd"), &hs), 0);
  CHECK_EQ_INT(hs.st_mode & 07777, 0750);
  ftps_vfs_posix_set_umask(v, 022);
  CHECK_EQ_INT(v->ops->unlink(v, "/km"), 0);
  CHECK_EQ_INT(v->ops->unlink(v, "/um"), 0);
  CHECK_EQ_INT(v->ops->rmdir(v, "/umd"), 0);
}

/* The start-up sweep removes a crash's leftovers (old, unlocked), here and
 * in subdirectories, and keeps a live upload's file and anything else. */
static void test_sweep(ftps_vfs *v) {
  unsigned long removed = 99;
  ftps_vfs_file *live = NULL;
  CHECK_EQ_INT(v->ops->mkdir(v, "/sw"), 0);
  host_put(host("/" PREFIX "0000000000000001.tmp"), "x", 1);
  host_put(host("/sw/" PREFIX "0000000000000002.tmp"), "y", 1);
  host_put(host("/sw/keep.tmp"), "k", 1);
  struct timespec old[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
  CHECK_EQ_INT(utimensat(AT_FDCWD, host("/" PREFIX "0000000000000001.tmp"), old, 0), 0);
  CHECK_EQ_INT(utimensat(AT_FDCWD, host("/sw/" PREFIX "0000000000000002.tmp"), old, 0), 0);
  CHECK_EQ_INT(v->ops->open_write(v, "/sw/up", FTPS_VFS_WRITE_TRUNCATE, 0, &live), 0);
  DIR *d = opendir(host("/sw"));
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) /* age the live upload's file too */
    if (strncmp(de->d_name, PREFIX, strlen(PREFIX)) == 0)
      CHECK_EQ_INT(utimensat(dirfd(d), de->d_name, old, 0), 0);
  if (d)
    closedir(d);
  host_put(host("/sw/" PREFIX "0000000000000003.tmp"), "z", 1); /* too young */
  CHECK_EQ_INT(ftps_vfs_posix_sweep(v, &removed), 0);
  CHECK_EQ_INT((long)removed, 2);
  CHECK(!host_exists(host("/" PREFIX "0000000000000001.tmp")));
  CHECK(!host_exists(host("/sw/" PREFIX "0000000000000002.tmp")));
  CHECK(host_exists(host("/sw/" PREFIX "0000000000000003.tmp")));
  CHECK(host_exists(host("/sw/keep.tmp")));
  CHECK_EQ_INT(tmp_files(host("/sw")), 2); /* the young one and the live upload */
  CHECK_EQ_INT(v->ops->write(live, (const uint8_t *)"live", 4), 0);
  CHECK_EQ_INT(v->ops->commit(live), 0);
  v->ops->close(live);
  CHECK_HOST("/sw/up", "live", 4);
  CHECK_EQ_INT(unlink(host("/sw/" PREFIX "0000000000000003.tmp")), 0);
  CHECK_EQ_INT(unlink(host("/sw/keep.tmp")), 0);
  CHECK_EQ_INT(v->ops->unlink(v, "/sw/up"), 0);
  CHECK_EQ_INT(v->ops->rmdir(v, "/sw"), 0);
}

static void test_symlinks(ftps_vfs *v) {
  ftps_vfs_stat st;
  ftps_vfs_file *f = NULL;
  listing l;
  char out_new[256];
  CHECK_EQ_INT(symlink("/etc", host("/etc")), 0);
  CHECK_EQ_INT(symlink("..", host("/up")), 0);
  CHECK_EQ_INT(symlink(g_base, host("/abs")), 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/sd"), 0);
  CHECK_EQ_INT(symlink("../..", host("/sd/upup")), 0);
  CHECK_EQ_INT(put(v, "/target", "t"), 0);
  CHECK_EQ_INT(symlink("target", host("/tlink")), 0);

  CHECK_EQ_INT(v->ops->stat(v, "/etc", &st), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->stat(v, "/etc/passwd", &st), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->stat(v, "/up/outside.txt", &st), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->stat(v, "/sd/upup/outside.txt", &st), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->stat(v, "/tlink", &st), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->open_read(v, "/etc/passwd", 0, &f), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->open_read(v, "/up/outside.txt", 0, &f), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->open_read(v, "/tlink", 0, &f), FTPS_ERR_PERM);
  CHECK(f == NULL);
  CHECK_EQ_INT(put(v, "/up/pwned", "x"), FTPS_ERR_PERM);
  snprintf(out_new, sizeof(out_new), "%s/pwned", g_base);
  CHECK(!host_exists(out_new));
  CHECK_EQ_INT(put(v, "/up/outside.txt", "x"), FTPS_ERR_PERM);
  CHECK_EQ_INT(write_file(v, "/up/outside.txt", FTPS_VFS_WRITE_APPEND, 0, "x", 1, 1),
               FTPS_ERR_PERM);
  /* Writes through an absolute link go to a directory of ours, never /etc,
   * so a broken jail cannot damage the host running the test. */
  CHECK_EQ_INT(put(v, "/abs/pwned-abs", "x"), FTPS_ERR_PERM);
  snprintf(out_new, sizeof(out_new), "%s/pwned-abs", g_base);
  CHECK(!host_exists(out_new));
  CHECK_EQ_INT(put(v, "/tlink", "x"), FTPS_ERR_PERM); /* not over the link either */
  CHECK_EQ_INT(v->ops->mkdir(v, "/up/newdir"), FTPS_ERR_PERM);
  snprintf(out_new, sizeof(out_new), "%s/newdir", g_base);
  CHECK(!host_exists(out_new));
  CHECK_EQ_INT(v->ops->mkdir(v, "/abs/newdir-abs"), FTPS_ERR_PERM);
  snprintf(out_new, sizeof(out_new), "%s/newdir-abs", g_base);
  CHECK(!host_exists(out_new));
  CHECK_EQ_INT(do_list(v, "/abs", &l), FTPS_ERR_PERM);
  CHECK_EQ_INT(do_list(v, "/etc", &l), FTPS_ERR_PERM);
  CHECK_EQ_INT(do_list(v, "/up", &l), FTPS_ERR_PERM);
  CHECK_EQ_INT(do_list(v, "/sd/upup", &l), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->unlink(v, "/up/outside.txt"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->unlink(v, "/tlink"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->rmdir(v, "/up"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->rename(v, "/up/outside.txt", "/stolen"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->rename(v, "/target", "/up/escaped"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->rename(v, "/etc", "/x"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->rename(v, "/target", "/tlink"), FTPS_ERR_PERM);
  CHECK(host_exists(host("/up")) && host_exists(host("/tlink")));
  CHECK_CONTENT(v, "/target", "t", 1);
  snprintf(out_new, sizeof(out_new), "%s/outside.txt", g_base);
  size_t len;
  uint8_t *o = host_get(out_new, &len);
  CHECK_MEM(o, len, "outside\n", 8);
  free(o);
  /* The listing does not show symlinks. */
  CHECK_EQ_INT(do_list(v, "/", &l), 0);
  CHECK(listed(&l, "target") && listed(&l, "sd"));
  CHECK(!listed(&l, "etc") && !listed(&l, "up") && !listed(&l, "tlink") && !listed(&l, "abs"));
  unlink(host("/etc"));
  unlink(host("/up"));
  unlink(host("/abs"));
  unlink(host("/tlink"));
  rm_rf(host("/sd"));
  CHECK_EQ_INT(v->ops->unlink(v, "/target"), 0);
}

/* A symlinked directory in the middle of a path, swapped in after the VFS
 * opened: the resolver refuses it (no stale string check can help here). */
static void test_swap_to_symlink(ftps_vfs *v) {
  ftps_vfs_stat st;
  CHECK_EQ_INT(v->ops->mkdir(v, "/sw"), 0);
  CHECK_EQ_INT(put(v, "/sw/f", "f"), 0);
  CHECK_EQ_INT(v->ops->stat(v, "/sw/f", &st), 0);
  CHECK_EQ_INT(rename(host("/sw"), host("/sw-real")), 0);
  CHECK_EQ_INT(symlink(g_base, host("/sw")), 0);
  CHECK_EQ_INT(v->ops->stat(v, "/sw/outside.txt", &st), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->stat(v, "/sw/f", &st), FTPS_ERR_PERM);
  unlink(host("/sw"));
  rm_rf(host("/sw-real"));
}

static void test_big(ftps_vfs *v) {
  uint8_t *data = malloc(BIG_LEN);
  fill(data, BIG_LEN, 12345);
  ftps_vfs_file *f = NULL;
  CHECK_EQ_INT(v->ops->open_write(v, "/big", FTPS_VFS_WRITE_TRUNCATE, 0, &f), 0);
  for (size_t off = 0; off < BIG_LEN && f != NULL; off += 1u << 20)
    CHECK_EQ_INT(v->ops->write(f, data + off, 1u << 20), 0);
  CHECK_EQ_INT(v->ops->commit(f), 0);
  v->ops->close(f);
  ftps_vfs_stat st;
  CHECK_EQ_INT(v->ops->stat(v, "/big", &st), 0);
  CHECK_EQ_INT(st.size, BIG_LEN);
  uint8_t *got;
  size_t len;
  CHECK_EQ_INT(slurp(v, "/big", 0, &got, &len), 0);
  CHECK_EQ_INT(len, BIG_LEN);
  CHECK(len == BIG_LEN && memcmp(got, data, BIG_LEN) == 0);
  free(got);
  CHECK_EQ_INT(slurp(v, "/big", BIG_LEN - 100, &got, &len), 0);
  CHECK_MEM(got, len, data + BIG_LEN - 100, 100);
  free(got);
  CHECK_EQ_INT(v->ops->unlink(v, "/big"), 0);
  free(data);
}

static void run_suite(const char *sub, bool fallback) {
  int err = -1;
  snprintf(g_root, sizeof(g_root), "%s/%s", g_base, sub);
  if (mkdir(g_root, 0755) != 0) {
    fprintf(stderr, "mkdir %s: %s\n", g_root, strerror(errno));
    exit(1);
  }
  ftps_vfs *v = ftps_vfs_posix_new(g_root, &err);
  CHECK(v != NULL);
  CHECK_EQ_INT(err, 0);
  if (v == NULL)
    return;
  ftps_vfs_posix_force_fallback(v, fallback);
  unsigned before = testlib_failures();
  test_invalid_paths(v);
  test_long_paths(v);
  test_dirs(v);
  test_stat_files(v);
  test_rename(v);
  test_list(v);
  test_read(v);
  test_write_modes(v);
  test_abort(v);
  test_excl_race(v);
  test_concurrent_commits(v);
  test_keep_mode_owner(v);
  test_lock_held_elsewhere(v);
  test_sweep(v);
  test_symlinks(v);
  test_swap_to_symlink(v);
  test_big(v);
  listing l;
  CHECK_EQ_INT(do_list(v, "/", &l), 0);
  CHECK_EQ_INT(l.n, 0); /* every test cleaned up after itself */
  printf("%s resolver: %u failures\n", fallback ? "fallback" : "openat2",
         testlib_failures() - before);
  ftps_vfs_free(v);
}

int main(void) {
  snprintf(g_base, sizeof(g_base), "/tmp/ftpsfuzz-vfs-XXXXXX");
  if (mkdtemp(g_base) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  char p[128];
  snprintf(p, sizeof(p), "%s/outside.txt", g_base);
  host_put(p, "outside\n", 8);
  long probe = syscall(SYS_openat2, -1, "", NULL, 0);
  printf("kernel openat2: %s\n", probe < 0 && errno == ENOSYS ? "missing (both runs walk)" : "present");
  test_new();
  run_suite("root-openat2", false);
  run_suite("root-fallback", true);
  rm_rf(g_base);
  return testlib_finish();
}
