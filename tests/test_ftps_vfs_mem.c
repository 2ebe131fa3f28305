/* test_ftps_vfs_mem.c - the in-memory VFS tree: every op, every error, the
 * nothing-lost rules of writes, list order and the caps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftps_err.h"
#include "ftps_vfs.h"
#include "testlib.h"

#define MTIME 1700000000

static ftps_vfs *mk(uint64_t max) {
  ftps_vfs *v = ftps_vfs_mem_new(max, MTIME);
  if (v == NULL) {
    fprintf(stderr, "ftps_vfs_mem_new failed\n");
    exit(1);
  }
  return v;
}

/* slurp reads the whole file at |path| into |buf|, a few bytes at a time. */
static int slurp(ftps_vfs *v, const char *path, uint64_t off, char *buf, size_t cap,
                 size_t *out_len) {
  ftps_vfs_file *f = NULL;
  size_t len = 0, n;
  *out_len = 0;
  int rc = v->ops->open_read(v, path, off, &f);
  if (rc != 0)
    return rc;
  do {
    size_t want = cap - len < 3 ? cap - len : 3;
    rc = v->ops->read(f, (uint8_t *)buf + len, want, &n);
    len += n;
  } while (rc == 0 && n != 0);
  v->ops->close(f);
  *out_len = len;
  return rc;
}

#define CHECK_CONTENT(v, path, want)                            \
  do {                                                          \
    char buf_[256];                                             \
    size_t len_;                                                \
    CHECK_EQ_INT(slurp(v, path, 0, buf_, sizeof(buf_), &len_), 0); \
    CHECK_MEM(buf_, len_, want, strlen(want));                  \
  } while (0)

static int put(ftps_vfs *v, const char *path, const char *s) {
  return ftps_vfs_mem_put(v, path, s, strlen(s));
}

/* write_file opens |path| in |mode|, writes |s| and commits if asked. */
static int write_file(ftps_vfs *v, const char *path, ftps_vfs_write_mode mode, uint64_t off,
                      const char *s, int commit) {
  ftps_vfs_file *f = NULL;
  int rc = v->ops->open_write(v, path, mode, off, &f);
  if (rc == 0)
    rc = v->ops->write(f, (const uint8_t *)s, strlen(s));
  if (rc == 0 && commit)
    rc = v->ops->commit(f);
  v->ops->close(f);
  return rc;
}

static int stat_rc(ftps_vfs *v, const char *path) {
  ftps_vfs_stat st;
  return v->ops->stat(v, path, &st);
}

typedef struct list_ctx {
  char names[512];
  size_t n;
  size_t stop_after; /* 0: never */
  uint64_t size_sum;
  int dirs;
} list_ctx;

static int list_cb(void *ctx, const char *name, const ftps_vfs_stat *st) {
  list_ctx *c = ctx;
  size_t used = strlen(c->names);
  snprintf(c->names + used, sizeof(c->names) - used, "%s%s", used ? "," : "", name);
  c->n++;
  c->size_sum += st->size;
  c->dirs += st->is_dir;
  return c->stop_after != 0 && c->n == c->stop_after ? 7 : 0;
}

static void test_root_and_stat(void) {
  ftps_vfs *v = mk(1000);
  ftps_vfs_stat st;
  CHECK_EQ_INT(v->ops->stat(v, "/", &st), 0);
  CHECK(st.is_dir);
  CHECK_EQ_INT(st.size, 0);
  CHECK_EQ_INT(st.mtime, MTIME);
  CHECK(st.writable);
  uint64_t root_unique = st.unique;

  CHECK_EQ_INT(put(v, "/f", "hello"), 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/d"), 0);
  CHECK_EQ_INT(v->ops->stat(v, "/f", &st), 0);
  CHECK(!st.is_dir);
  CHECK_EQ_INT(st.size, 5);
  CHECK_EQ_INT(st.mtime, MTIME);
  uint64_t f_unique = st.unique;
  CHECK(f_unique != root_unique);
  CHECK_EQ_INT(v->ops->stat(v, "/d", &st), 0);
  CHECK(st.is_dir);
  CHECK(st.unique != f_unique && st.unique != root_unique);
  CHECK_EQ_INT(st.mtime, MTIME);

  /* Replacing content keeps the object; renaming keeps it too. */
  CHECK_EQ_INT(put(v, "/f", "bye"), 0);
  CHECK_EQ_INT(v->ops->stat(v, "/f", &st), 0);
  CHECK_EQ_INT(st.unique, f_unique);
  CHECK_EQ_INT(st.size, 3);
  CHECK_EQ_INT(v->ops->rename(v, "/f", "/d/g"), 0);
  CHECK_EQ_INT(v->ops->stat(v, "/d/g", &st), 0);
  CHECK_EQ_INT(st.unique, f_unique);
  /* A new object after a delete gets a new number. */
  CHECK_EQ_INT(v->ops->unlink(v, "/d/g"), 0);
  CHECK_EQ_INT(put(v, "/d/g", "x"), 0);
  CHECK_EQ_INT(v->ops->stat(v, "/d/g", &st), 0);
  CHECK(st.unique != f_unique);

  CHECK_EQ_INT(stat_rc(v, "/missing"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(stat_rc(v, "/missing/x"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(stat_rc(v, "/d/g/x"), FTPS_ERR_NOTDIR);
  ftps_vfs_free(v);
  ftps_vfs_free(NULL);
}

static void test_canonical_paths(void) {
  ftps_vfs *v = mk(1000);
  static const char *bad[] = {"", "a", "a/b", "//", "/a/", "/a//b", "/.", "/..", "/a/.",
                              "/a/..", "/a/../b", "/./a", "//a"};
  CHECK_EQ_INT(v->ops->mkdir(v, "/a"), 0);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    ftps_vfs_file *f = NULL;
    if (stat_rc(v, bad[i]) != FTPS_ERR_INVAL)
      fprintf(stderr, "path '%s' not refused\n", bad[i]);
    CHECK_EQ_INT(stat_rc(v, bad[i]), FTPS_ERR_INVAL);
    CHECK_EQ_INT(v->ops->mkdir(v, bad[i]), FTPS_ERR_INVAL);
    CHECK_EQ_INT(v->ops->rmdir(v, bad[i]), FTPS_ERR_INVAL);
    CHECK_EQ_INT(v->ops->unlink(v, bad[i]), FTPS_ERR_INVAL);
    CHECK_EQ_INT(v->ops->rename(v, bad[i], "/z"), FTPS_ERR_INVAL);
    CHECK_EQ_INT(v->ops->rename(v, "/a", bad[i]), FTPS_ERR_INVAL);
    CHECK_EQ_INT(v->ops->list(v, bad[i], list_cb, &(list_ctx){0}), FTPS_ERR_INVAL);
    CHECK_EQ_INT(v->ops->open_read(v, bad[i], 0, &f), FTPS_ERR_INVAL);
    CHECK(f == NULL);
    CHECK_EQ_INT(v->ops->open_write(v, bad[i], FTPS_VFS_WRITE_TRUNCATE, 0, &f), FTPS_ERR_INVAL);
    CHECK(f == NULL);
    CHECK_EQ_INT(ftps_vfs_mem_put(v, bad[i], "x", 1), FTPS_ERR_INVAL);
  }
  CHECK_EQ_INT(stat_rc(v, NULL), FTPS_ERR_INVAL);
  /* Names that merely contain dots are ordinary. */
  CHECK_EQ_INT(v->ops->mkdir(v, "/a/..."), 0);
  CHECK_EQ_INT(put(v, "/a/.hidden", ""), 0);
  CHECK_EQ_INT(put(v, "/a/x..y", "1"), 0);
  CHECK_EQ_INT(stat_rc(v, "/a/..."), 0);
  CHECK_EQ_INT(stat_rc(v, "/a/.hidden"), 0);
  ftps_vfs_free(v);
}

static void test_mkdir_rmdir_unlink(void) {
  ftps_vfs *v = mk(1000);
  CHECK_EQ_INT(v->ops->mkdir(v, "/d"), 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/d"), FTPS_ERR_EXIST);
  CHECK_EQ_INT(v->ops->mkdir(v, "/"), FTPS_ERR_EXIST);
  CHECK_EQ_INT(v->ops->mkdir(v, "/d/e"), 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/x/e"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(put(v, "/d/f", "data"), 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/d/f"), FTPS_ERR_EXIST);
  CHECK_EQ_INT(v->ops->mkdir(v, "/d/f/g"), FTPS_ERR_NOTDIR);

  CHECK_EQ_INT(v->ops->rmdir(v, "/"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->rmdir(v, "/d"), FTPS_ERR_NOTEMPTY);
  CHECK_EQ_INT(v->ops->rmdir(v, "/d/f"), FTPS_ERR_NOTDIR);
  CHECK_EQ_INT(v->ops->rmdir(v, "/d/nope"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->rmdir(v, "/d/f/g"), FTPS_ERR_NOTDIR);
  CHECK_EQ_INT(v->ops->rmdir(v, "/d/e"), 0);
  CHECK_EQ_INT(stat_rc(v, "/d/e"), FTPS_ERR_NOENT);

  CHECK_EQ_INT(v->ops->unlink(v, "/"), FTPS_ERR_ISDIR);
  CHECK_EQ_INT(v->ops->unlink(v, "/d"), FTPS_ERR_ISDIR);
  CHECK_EQ_INT(v->ops->unlink(v, "/d/nope"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->unlink(v, "/nope/f"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->unlink(v, "/d/f/g"), FTPS_ERR_NOTDIR);
  CHECK_EQ_INT(v->ops->unlink(v, "/d/f"), 0);
  CHECK_EQ_INT(stat_rc(v, "/d/f"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->rmdir(v, "/d"), 0);
  CHECK_EQ_INT(stat_rc(v, "/d"), FTPS_ERR_NOENT);
  list_ctx c = {0};
  CHECK_EQ_INT(v->ops->list(v, "/", list_cb, &c), 0);
  CHECK_EQ_INT(c.n, 0);
  ftps_vfs_free(v);
}

static void test_rename(void) {
  ftps_vfs *v = mk(1000);
  ftps_vfs_stat st;
  CHECK_EQ_INT(v->ops->mkdir(v, "/a"), 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/a/b"), 0);
  CHECK_EQ_INT(put(v, "/a/b/f", "deep"), 0);
  CHECK_EQ_INT(put(v, "/g", "gee"), 0);
  CHECK_EQ_INT(put(v, "/h", "aitch"), 0);

  /* Errors first; nothing may change. */
  CHECK_EQ_INT(v->ops->rename(v, "/", "/z"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->rename(v, "/g", "/"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->rename(v, "/a", "/a/b/c"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->rename(v, "/a", "/a/c"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->rename(v, "/a", "/a/nope/c"), FTPS_ERR_PERM);
  CHECK_EQ_INT(v->ops->rename(v, "/nope", "/z"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->rename(v, "/g", "/nope/z"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->rename(v, "/g", "/h/z"), FTPS_ERR_NOTDIR);
  CHECK_EQ_INT(v->ops->rename(v, "/g", "/a"), FTPS_ERR_ISDIR);
  CHECK_EQ_INT(v->ops->rename(v, "/a/b", "/g"), FTPS_ERR_NOTDIR);
  CHECK_EQ_INT(v->ops->mkdir(v, "/e"), 0);
  CHECK_EQ_INT(v->ops->rename(v, "/a/b", "/e"), FTPS_ERR_EXIST);
  CHECK_CONTENT(v, "/g", "gee");
  CHECK_CONTENT(v, "/h", "aitch");
  CHECK_CONTENT(v, "/a/b/f", "deep");

  /* Same path: a no-op. */
  CHECK_EQ_INT(v->ops->rename(v, "/g", "/g"), 0);
  CHECK_CONTENT(v, "/g", "gee");
  /* A file over a file replaces it. */
  CHECK_EQ_INT(v->ops->stat(v, "/g", &st), 0);
  uint64_t g_unique = st.unique;
  CHECK_EQ_INT(v->ops->rename(v, "/g", "/h"), 0);
  CHECK_EQ_INT(stat_rc(v, "/g"), FTPS_ERR_NOENT);
  CHECK_CONTENT(v, "/h", "gee");
  CHECK_EQ_INT(v->ops->stat(v, "/h", &st), 0);
  CHECK_EQ_INT(st.unique, g_unique);
  /* A directory moves with everything under it; a name that only shares a
   * prefix with it is not "inside" it. */
  CHECK_EQ_INT(v->ops->rename(v, "/a", "/ab"), 0);
  CHECK_CONTENT(v, "/ab/b/f", "deep");
  CHECK_EQ_INT(stat_rc(v, "/a"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->rename(v, "/ab/b", "/e/b2"), 0);
  CHECK_CONTENT(v, "/e/b2/f", "deep");
  CHECK_EQ_INT(v->ops->rename(v, "/e/b2/f", "/top"), 0);
  CHECK_CONTENT(v, "/top", "deep");
  /* Within one directory, order follows the new name. */
  CHECK_EQ_INT(v->ops->rename(v, "/top", "/0top"), 0);
  list_ctx c = {0};
  CHECK_EQ_INT(v->ops->list(v, "/", list_cb, &c), 0);
  CHECK_STR(c.names, "0top,ab,e,h");
  ftps_vfs_free(v);
}

static void test_list(void) {
  ftps_vfs *v = mk(1000);
  static const char *names[] = {"b", "a", "B", "aa", "a0", "\xff", "-", "a.b"};
  CHECK_EQ_INT(v->ops->mkdir(v, "/d"), 0);
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    char path[16];
    snprintf(path, sizeof(path), "/d/%s", names[i]);
    if (i % 2)
      CHECK_EQ_INT(v->ops->mkdir(v, path), 0);
    else
      CHECK_EQ_INT(put(v, path, "12345"), 0);
  }
  list_ctx c = {0};
  CHECK_EQ_INT(v->ops->list(v, "/d", list_cb, &c), 0);
  CHECK_STR(c.names, "-,B,a,a.b,a0,aa,b,\xff"); /* byte order */
  CHECK_EQ_INT(c.n, 8);
  CHECK_EQ_INT(c.dirs, 4);
  CHECK_EQ_INT(c.size_sum, 20);
  /* A non-zero return stops the listing and is returned. */
  list_ctx s = {.stop_after = 3};
  CHECK_EQ_INT(v->ops->list(v, "/d", list_cb, &s), 7);
  CHECK_EQ_INT(s.n, 3);
  CHECK_STR(s.names, "-,B,a");
  list_ctx e = {0};
  CHECK_EQ_INT(v->ops->list(v, "/d/a", list_cb, &e), 0); /* empty directory */
  CHECK_EQ_INT(e.n, 0);
  CHECK_EQ_INT(v->ops->list(v, "/d/b", list_cb, &e), FTPS_ERR_NOTDIR);
  CHECK_EQ_INT(v->ops->list(v, "/d/zz", list_cb, &e), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->list(v, "/d/b/x", list_cb, &e), FTPS_ERR_NOTDIR);
  CHECK_EQ_INT(e.n, 0);
  list_ctx r = {0};
  CHECK_EQ_INT(v->ops->list(v, "/", list_cb, &r), 0);
  CHECK_STR(r.names, "d");
  ftps_vfs_free(v);
}

static void test_read(void) {
  ftps_vfs *v = mk(1000);
  ftps_vfs_file *f = NULL;
  char buf[64];
  size_t n;
  CHECK_EQ_INT(put(v, "/f", "0123456789"), 0);
  CHECK_EQ_INT(put(v, "/empty", ""), 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/d"), 0);
  CHECK_EQ_INT(slurp(v, "/f", 4, buf, sizeof(buf), &n), 0);
  CHECK_MEM(buf, n, "456789", 6);
  CHECK_EQ_INT(slurp(v, "/f", 10, buf, sizeof(buf), &n), 0);
  CHECK_EQ_INT(n, 0);
  CHECK_EQ_INT(slurp(v, "/f", 11, buf, sizeof(buf), &n), FTPS_ERR_INVAL);
  CHECK_EQ_INT(slurp(v, "/empty", 0, buf, sizeof(buf), &n), 0);
  CHECK_EQ_INT(n, 0);
  CHECK_EQ_INT(slurp(v, "/empty", 1, buf, sizeof(buf), &n), FTPS_ERR_INVAL);
  CHECK_EQ_INT(v->ops->open_read(v, "/d", 0, &f), FTPS_ERR_ISDIR);
  CHECK_EQ_INT(v->ops->open_read(v, "/", 0, &f), FTPS_ERR_ISDIR);
  CHECK_EQ_INT(v->ops->open_read(v, "/nope", 0, &f), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->open_read(v, "/f/x", 0, &f), FTPS_ERR_NOTDIR);
  CHECK(f == NULL);

  /* A reader keeps what it opened, whatever happens to the file. */
  CHECK_EQ_INT(v->ops->open_read(v, "/f", 0, &f), 0);
  CHECK_EQ_INT(v->ops->read(f, (uint8_t *)buf, 2, &n), 0);
  CHECK_MEM(buf, n, "01", 2);
  CHECK_EQ_INT(put(v, "/f", "replaced"), 0);
  CHECK_EQ_INT(v->ops->read(f, (uint8_t *)buf, 3, &n), 0);
  CHECK_MEM(buf, n, "234", 3);
  CHECK_EQ_INT(v->ops->unlink(v, "/f"), 0);
  CHECK_EQ_INT(v->ops->read(f, (uint8_t *)buf, sizeof(buf), &n), 0);
  CHECK_MEM(buf, n, "56789", 5);
  CHECK_EQ_INT(v->ops->read(f, (uint8_t *)buf, sizeof(buf), &n), 0);
  CHECK_EQ_INT(n, 0);
  /* A read handle cannot be written or committed. */
  CHECK_EQ_INT(v->ops->write(f, (const uint8_t *)"x", 1), FTPS_ERR_INVAL);
  CHECK_EQ_INT(v->ops->commit(f), FTPS_ERR_INVAL);
  v->ops->close(f);
  v->ops->close(NULL);
  ftps_vfs_free(v);
}

static void test_write_truncate_and_abort(void) {
  ftps_vfs *v = mk(1000);
  ftps_vfs_file *f = NULL;
  char buf[8];
  size_t n;
  /* A new file is invisible until commit. */
  CHECK_EQ_INT(v->ops->open_write(v, "/new", FTPS_VFS_WRITE_TRUNCATE, 0, &f), 0);
  CHECK_EQ_INT(v->ops->write(f, (const uint8_t *)"abc", 3), 0);
  CHECK_EQ_INT(stat_rc(v, "/new"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->read(f, (uint8_t *)buf, sizeof(buf), &n), FTPS_ERR_INVAL);
  CHECK_EQ_INT(v->ops->commit(f), 0);
  CHECK_CONTENT(v, "/new", "abc");
  CHECK_EQ_INT(v->ops->write(f, (const uint8_t *)"d", 1), FTPS_ERR_INVAL);
  CHECK_EQ_INT(v->ops->commit(f), FTPS_ERR_INVAL);
  v->ops->close(f);
  CHECK_CONTENT(v, "/new", "abc");

  /* Close without commit: a new file never appears... */
  CHECK_EQ_INT(write_file(v, "/never", FTPS_VFS_WRITE_TRUNCATE, 0, "zzz", 0), 0);
  CHECK_EQ_INT(stat_rc(v, "/never"), FTPS_ERR_NOENT);
  /* ...and an old one stays byte-identical, in every mode. */
  static const uint8_t old[] = {'o', 0, 'l', '\r', '\n', 0xff, 'd'};
  CHECK_EQ_INT(ftps_vfs_mem_put(v, "/old", old, sizeof(old)), 0);
  for (int mode = FTPS_VFS_WRITE_TRUNCATE; mode <= FTPS_VFS_WRITE_AT; mode++) {
    char got[32];
    CHECK_EQ_INT(write_file(v, "/old", (ftps_vfs_write_mode)mode, 2, "NEW", 0), 0);
    CHECK_EQ_INT(slurp(v, "/old", 0, got, sizeof(got), &n), 0);
    CHECK_MEM(got, n, old, sizeof(old));
  }
  /* While a replacement is being written, readers see the old content. */
  CHECK_EQ_INT(v->ops->open_write(v, "/new", FTPS_VFS_WRITE_TRUNCATE, 0, &f), 0);
  CHECK_EQ_INT(v->ops->write(f, (const uint8_t *)"XY", 2), 0);
  CHECK_CONTENT(v, "/new", "abc");
  CHECK_EQ_INT(v->ops->commit(f), 0);
  CHECK_CONTENT(v, "/new", "XY");
  v->ops->close(f);
  /* An empty commit makes an empty file. */
  CHECK_EQ_INT(write_file(v, "/new", FTPS_VFS_WRITE_TRUNCATE, 0, "", 1), 0);
  CHECK_CONTENT(v, "/new", "");
  ftps_vfs_stat st;
  CHECK_EQ_INT(v->ops->stat(v, "/new", &st), 0);
  CHECK_EQ_INT(st.size, 0);
  ftps_vfs_free(v);
}

static void test_write_append_at_excl(void) {
  ftps_vfs *v = mk(1000);
  ftps_vfs_file *f = NULL;
  CHECK_EQ_INT(put(v, "/f", "hello"), 0);
  CHECK_EQ_INT(write_file(v, "/f", FTPS_VFS_WRITE_APPEND, 99, " world", 1), 0);
  CHECK_CONTENT(v, "/f", "hello world");
  CHECK_EQ_INT(write_file(v, "/g", FTPS_VFS_WRITE_APPEND, 0, "fresh", 1), 0);
  CHECK_CONTENT(v, "/g", "fresh");

  /* AT n: the first n bytes of the old file, then the new bytes; the old
   * tail is gone. */
  CHECK_EQ_INT(write_file(v, "/f", FTPS_VFS_WRITE_AT, 5, "XY", 1), 0);
  CHECK_CONTENT(v, "/f", "helloXY");
  CHECK_EQ_INT(write_file(v, "/f", FTPS_VFS_WRITE_AT, 0, "ab", 1), 0);
  CHECK_CONTENT(v, "/f", "ab");
  CHECK_EQ_INT(write_file(v, "/f", FTPS_VFS_WRITE_AT, 2, "cd", 1), 0); /* at the end */
  CHECK_CONTENT(v, "/f", "abcd");
  CHECK_EQ_INT(write_file(v, "/f", FTPS_VFS_WRITE_AT, 5, "no", 1), FTPS_ERR_INVAL);
  CHECK_CONTENT(v, "/f", "abcd");
  CHECK_EQ_INT(write_file(v, "/h", FTPS_VFS_WRITE_AT, 1, "no", 1), FTPS_ERR_INVAL);
  CHECK_EQ_INT(write_file(v, "/h", FTPS_VFS_WRITE_AT, 0, "yes", 1), 0);
  CHECK_CONTENT(v, "/h", "yes");

  /* APPEND goes after the file as it is at commit: a commit in between is
   * kept (concurrent appends all land); AT keeps the prefix it opened with
   * (last writer wins). */
  CHECK_EQ_INT(v->ops->open_write(v, "/h", FTPS_VFS_WRITE_APPEND, 0, &f), 0);
  CHECK_EQ_INT(put(v, "/h", "other"), 0);
  CHECK_EQ_INT(v->ops->write(f, (const uint8_t *)"!", 1), 0);
  CHECK_EQ_INT(v->ops->commit(f), 0);
  v->ops->close(f);
  CHECK_CONTENT(v, "/h", "other!");
  CHECK_EQ_INT(v->ops->open_write(v, "/h", FTPS_VFS_WRITE_AT, 2, &f), 0);
  CHECK_EQ_INT(put(v, "/h", "yes"), 0);
  CHECK_EQ_INT(v->ops->write(f, (const uint8_t *)"s!", 2), 0);
  CHECK_EQ_INT(v->ops->commit(f), 0);
  v->ops->close(f);
  CHECK_CONTENT(v, "/h", "ots!");
  CHECK_EQ_INT(put(v, "/h", "yes!"), 0);

  /* EXCL: only a name that does not exist, checked at open and at commit. */
  CHECK_EQ_INT(write_file(v, "/h", FTPS_VFS_WRITE_EXCL, 0, "x", 1), FTPS_ERR_EXIST);
  CHECK_CONTENT(v, "/h", "yes!");
  CHECK_EQ_INT(v->ops->mkdir(v, "/d"), 0);
  CHECK_EQ_INT(write_file(v, "/d", FTPS_VFS_WRITE_EXCL, 0, "x", 1), FTPS_ERR_ISDIR);
  CHECK_EQ_INT(write_file(v, "/u", FTPS_VFS_WRITE_EXCL, 0, "unique", 1), 0);
  CHECK_CONTENT(v, "/u", "unique");
  CHECK_EQ_INT(v->ops->open_write(v, "/u2", FTPS_VFS_WRITE_EXCL, 0, &f), 0);
  CHECK_EQ_INT(v->ops->write(f, (const uint8_t *)"mine", 4), 0);
  CHECK_EQ_INT(put(v, "/u2", "theirs"), 0);
  CHECK_EQ_INT(v->ops->commit(f), FTPS_ERR_EXIST);
  v->ops->close(f);
  CHECK_CONTENT(v, "/u2", "theirs");

  /* Where a write cannot go. */
  CHECK_EQ_INT(write_file(v, "/", FTPS_VFS_WRITE_TRUNCATE, 0, "x", 1), FTPS_ERR_ISDIR);
  CHECK_EQ_INT(write_file(v, "/d", FTPS_VFS_WRITE_TRUNCATE, 0, "x", 1), FTPS_ERR_ISDIR);
  CHECK_EQ_INT(write_file(v, "/nope/x", FTPS_VFS_WRITE_TRUNCATE, 0, "x", 1), FTPS_ERR_NOENT);
  CHECK_EQ_INT(write_file(v, "/u/x", FTPS_VFS_WRITE_TRUNCATE, 0, "x", 1), FTPS_ERR_NOTDIR);
  CHECK_EQ_INT(v->ops->open_write(v, "/x", (ftps_vfs_write_mode)42, 0, &f), FTPS_ERR_INVAL);
  CHECK(f == NULL);

  /* The tree changes under an open write: commit re-checks and fails
   * cleanly; the handle still closes. */
  CHECK_EQ_INT(v->ops->mkdir(v, "/d/sub"), 0);
  CHECK_EQ_INT(v->ops->open_write(v, "/d/sub/f", FTPS_VFS_WRITE_TRUNCATE, 0, &f), 0);
  CHECK_EQ_INT(v->ops->write(f, (const uint8_t *)"x", 1), 0);
  CHECK_EQ_INT(v->ops->rmdir(v, "/d/sub"), 0);
  CHECK_EQ_INT(v->ops->commit(f), FTPS_ERR_NOENT);
  v->ops->close(f);
  CHECK_EQ_INT(v->ops->open_write(v, "/d/g", FTPS_VFS_WRITE_TRUNCATE, 0, &f), 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/d/g"), 0);
  CHECK_EQ_INT(v->ops->commit(f), FTPS_ERR_ISDIR);
  v->ops->close(f);
  CHECK_EQ_INT(stat_rc(v, "/d/g"), 0);
  ftps_vfs_free(v);
}

static void test_max_bytes(void) {
  ftps_vfs *v = mk(10);
  ftps_vfs_file *a = NULL, *b = NULL;
  CHECK_EQ_INT(put(v, "/a", "1234"), 0);
  /* 4 + 7 > 10: refused at write, nothing appears. */
  CHECK_EQ_INT(write_file(v, "/b", FTPS_VFS_WRITE_TRUNCATE, 0, "1234567", 1), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(stat_rc(v, "/b"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(write_file(v, "/b", FTPS_VFS_WRITE_TRUNCATE, 0, "123456", 1), 0); /* exactly 10 */
  /* Replacing counts the new size, not old + new. */
  CHECK_EQ_INT(put(v, "/a", "abcd"), 0);
  CHECK_EQ_INT(put(v, "/a", "abcde"), FTPS_ERR_LIMIT);
  CHECK_CONTENT(v, "/a", "abcd");
  CHECK_EQ_INT(write_file(v, "/a", FTPS_VFS_WRITE_APPEND, 0, "e", 1), FTPS_ERR_LIMIT);
  CHECK_CONTENT(v, "/a", "abcd");
  CHECK_EQ_INT(write_file(v, "/a", FTPS_VFS_WRITE_AT, 2, "XY", 1), 0);
  CHECK_CONTENT(v, "/a", "abXY");
  /* A write that hit the limit leaves the handle usable for what fit. */
  CHECK_EQ_INT(v->ops->open_write(v, "/a", FTPS_VFS_WRITE_AT, 1, &a), 0);
  CHECK_EQ_INT(v->ops->write(a, (const uint8_t *)"12", 2), 0);
  CHECK_EQ_INT(v->ops->write(a, (const uint8_t *)"34", 2), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(v->ops->commit(a), 0);
  v->ops->close(a);
  CHECK_CONTENT(v, "/a", "a12");
  /* Deleting frees room. */
  CHECK_EQ_INT(v->ops->unlink(v, "/b"), 0);
  CHECK_EQ_INT(put(v, "/c", "1234567"), 0);
  CHECK_EQ_INT(v->ops->unlink(v, "/c"), 0);
  /* Rename over a file frees the replaced content. */
  CHECK_EQ_INT(put(v, "/c", "1234567"), 0);
  CHECK_EQ_INT(v->ops->rename(v, "/a", "/c"), 0);
  CHECK_EQ_INT(put(v, "/d", "1234567"), 0);
  CHECK_EQ_INT(v->ops->unlink(v, "/c"), 0);
  CHECK_EQ_INT(v->ops->unlink(v, "/d"), 0);

  /* Bytes in open handles count too: two writers cannot buffer 2 * max. */
  CHECK_EQ_INT(v->ops->open_write(v, "/x", FTPS_VFS_WRITE_TRUNCATE, 0, &a), 0);
  CHECK_EQ_INT(v->ops->open_write(v, "/y", FTPS_VFS_WRITE_TRUNCATE, 0, &b), 0);
  CHECK_EQ_INT(v->ops->write(a, (const uint8_t *)"123456", 6), 0);
  CHECK_EQ_INT(v->ops->write(b, (const uint8_t *)"12345", 5), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(v->ops->write(b, (const uint8_t *)"1234", 4), 0);
  v->ops->close(b); /* discarded: its bytes are released */
  CHECK_EQ_INT(put(v, "/z", "1234"), 0);
  /* The total is checked again at commit: 4 + 6 fits, then not. */
  CHECK_EQ_INT(put(v, "/w", "1"), 0);
  CHECK_EQ_INT(v->ops->commit(a), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(stat_rc(v, "/x"), FTPS_ERR_NOENT);
  CHECK_EQ_INT(v->ops->unlink(v, "/w"), 0);
  CHECK_EQ_INT(v->ops->commit(a), 0);
  v->ops->close(a);
  CHECK_CONTENT(v, "/x", "123456");

  ftps_vfs *zero = mk(0);
  CHECK_EQ_INT(put(zero, "/empty", ""), 0);
  CHECK_EQ_INT(put(zero, "/full", "x"), FTPS_ERR_LIMIT);
  ftps_vfs_free(zero);
  ftps_vfs_free(v);
}

static void test_caps(void) {
  ftps_vfs *v = mk(1000);
  char path[FTPS_VFS_MEM_MAX_DEPTH * 3 + 600];
  char name[FTPS_VFS_MEM_MAX_NAME + 2];

  /* Names: 255 bytes fine, 256 refused. */
  memset(name, 'n', sizeof(name));
  snprintf(path, sizeof(path), "/%.*s", FTPS_VFS_MEM_MAX_NAME, name);
  CHECK_EQ_INT(v->ops->mkdir(v, path), 0);
  CHECK_EQ_INT(stat_rc(v, path), 0);
  snprintf(path, sizeof(path), "/%.*s", FTPS_VFS_MEM_MAX_NAME + 1, name);
  CHECK_EQ_INT(v->ops->mkdir(v, path), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(put(v, path, "x"), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(stat_rc(v, path), FTPS_ERR_LIMIT);

  /* Depth: 64 components fine, 65 refused, by mkdir and by rename. */
  size_t len = 0;
  for (int i = 0; i < FTPS_VFS_MEM_MAX_DEPTH; i++) {
    len += (size_t)snprintf(path + len, sizeof(path) - len, "/d");
    CHECK_EQ_INT(v->ops->mkdir(v, path), 0);
  }
  snprintf(path + len, sizeof(path) - len, "/d");
  CHECK_EQ_INT(v->ops->mkdir(v, path), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(put(v, path, "x"), FTPS_ERR_LIMIT);
  path[len] = '\0';
  CHECK_EQ_INT(put(v, "/leaf", "x"), 0);
  path[len - 2] = '\0'; /* depth 63 */
  CHECK_EQ_INT(v->ops->mkdir(v, "/two"), 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/two/levels"), 0);
  char to[sizeof(path) + 16];
  snprintf(to, sizeof(to), "%s/two", path); /* would reach depth 65 */
  CHECK_EQ_INT(v->ops->rename(v, "/two", to), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(stat_rc(v, "/two/levels"), 0);
  snprintf(to, sizeof(to), "%s/leaf", path); /* depth 64: fine */
  CHECK_EQ_INT(v->ops->rename(v, "/leaf", to), 0);
  CHECK_CONTENT(v, to, "x");
  ftps_vfs_free(v);

  /* Entries per directory. */
  v = mk(1000);
  CHECK_EQ_INT(v->ops->mkdir(v, "/full"), 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/other"), 0);
  CHECK_EQ_INT(put(v, "/other/f", "f"), 0);
  int failures = 0;
  for (int i = 0; i < FTPS_VFS_MEM_MAX_ENTRIES; i++) {
    snprintf(path, sizeof(path), "/full/%05d", i);
    failures += v->ops->mkdir(v, path) != 0;
  }
  CHECK_EQ_INT(failures, 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/full/more"), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(put(v, "/full/more", "x"), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(v->ops->rename(v, "/other/f", "/full/more"), FTPS_ERR_LIMIT);
  CHECK_CONTENT(v, "/other/f", "f");
  CHECK_EQ_INT(put(v, "/full/00000", "x"), FTPS_ERR_ISDIR);
  list_ctx c = {.stop_after = 2};
  CHECK_EQ_INT(v->ops->list(v, "/full", list_cb, &c), 7);
  CHECK_STR(c.names, "00000,00001");
  CHECK_EQ_INT(v->ops->rmdir(v, "/full/00001"), 0);
  CHECK_EQ_INT(v->ops->rename(v, "/other/f", "/full/more"), 0);
  ftps_vfs_free(v);

  /* Nodes in all: "/" plus FTPS_VFS_MEM_MAX_NODES - 1 more. */
  v = mk(1000);
  failures = 0;
  int made = 1, d = 0;
  while (made < FTPS_VFS_MEM_MAX_NODES) {
    snprintf(path, sizeof(path), "/%d", d);
    failures += v->ops->mkdir(v, path) != 0;
    made++;
    for (int i = 0; i < FTPS_VFS_MEM_MAX_ENTRIES - 1 && made < FTPS_VFS_MEM_MAX_NODES; i++) {
      snprintf(path, sizeof(path), "/%d/%d", d, i);
      failures += v->ops->mkdir(v, path) != 0;
      made++;
    }
    d++;
  }
  CHECK_EQ_INT(failures, 0);
  CHECK_EQ_INT(v->ops->mkdir(v, "/one-more"), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(put(v, "/one-more", "x"), FTPS_ERR_LIMIT);
  CHECK_EQ_INT(v->ops->rmdir(v, "/0/0"), 0);
  CHECK_EQ_INT(put(v, "/one-more", "x"), 0);
  ftps_vfs_free(v);
}

static int fake_stat(ftps_vfs *vfs, const char *path, ftps_vfs_stat *out) {
  (void)vfs;
  (void)path;
  (void)out;
  return FTPS_ERR_IO;
}

static int fake_freed;
static void fake_free(ftps_vfs *vfs) {
  (void)vfs;
  fake_freed++;
}

static void test_dispatch(void) {
  /* ftps_vfs_free goes through ops->free; ftps_vfs_mem_put refuses a VFS
   * that is not an in-memory tree. */
  static const ftps_vfs_ops fake_ops = {.stat = fake_stat, .free = fake_free};
  ftps_vfs fake = {&fake_ops};
  CHECK_EQ_INT(ftps_vfs_mem_put(&fake, "/x", "x", 1), FTPS_ERR_INVAL);
  CHECK_EQ_INT(ftps_vfs_mem_put(NULL, "/x", "x", 1), FTPS_ERR_INVAL);
  ftps_vfs_free(&fake);
  CHECK_EQ_INT(fake_freed, 1);
  ftps_vfs *v = mk(10);
  CHECK_EQ_INT(ftps_vfs_mem_put(v, "/x", NULL, 1), FTPS_ERR_INVAL);
  CHECK_EQ_INT(ftps_vfs_mem_put(v, "/x", NULL, 0), 0);
  CHECK_CONTENT(v, "/x", "");
  ftps_vfs_free(v);
}

int main(void) {
  test_root_and_stat();
  test_canonical_paths();
  test_mkdir_rmdir_unlink();
  test_rename();
  test_list();
  test_read();
  test_write_truncate_and_abort();
  test_write_append_at_excl();
  test_max_bytes();
  test_caps();
  test_dispatch();
  return testlib_finish();
}
