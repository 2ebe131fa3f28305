/* test_config_tree.c - copies a disk directory into the test configuration's
 * in-memory fixture tree (--config's tree=PATH). The disk is only read:
 * every open is O_RDONLY, below the given directory nothing is followed
 * (O_NOFOLLOW, fstatat AT_SYMLINK_NOFOLLOW), and only regular files and
 * directories are copied. */
#include "test_config_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ftps_err.h"
#include "ftps_path.h"

typedef struct walk_ctx {
  test_config_tree *tree;
  const char *where;
  FILE *notes;
  char *err;
  size_t err_len;
} walk_ctx;

static int fail(walk_ctx *w, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(walk_ctx *w, int rc, const char *fmt, ...) {
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  snprintf(w->err, w->err_len, "%s: %s", w->where, what);
  return rc;
}

static void note(walk_ctx *w, const char *vpath, const char *why) {
  if (w->notes != NULL)
    fprintf(w->notes, "%s: note: skipped %s: %s\n", w->where, vpath, why);
}

void test_config_tree_free(test_config_tree *t) {
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->n; i++) {
    free(t->v[i].path);
    free(t->v[i].data);
  }
  free(t->v);
  free(t);
}

/* add appends an entry; it takes |data| (freed on failure too). */
static int add(walk_ctx *w, const char *vpath, bool is_dir, uint8_t *data, size_t len) {
  test_config_tree *t = w->tree;
  if (t->n + 1 >= FTPS_VFS_MEM_MAX_NODES) { /* "/" counts as a node */
    free(data);
    return fail(w, FTPS_ERR_LIMIT, "expected at most %u files and directories, the in-memory "
                "tree's cap (at %s)", (unsigned)FTPS_VFS_MEM_MAX_NODES - 1u, vpath);
  }
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    test_config_entry *v = realloc(t->v, cap * sizeof(*v));
    if (v == NULL) {
      free(data);
      return fail(w, FTPS_ERR_NOMEM, "out of memory");
    }
    t->v = v;
    t->cap = cap;
  }
  char *p = strdup(vpath);
  if (p == NULL) {
    free(data);
    return fail(w, FTPS_ERR_NOMEM, "out of memory");
  }
  t->v[t->n++] = (test_config_entry){.path = p, .data = data, .len = len, .is_dir = is_dir};
  return 0;
}

/* read_file reads the regular file |name| in |dirfd| whole, within what is
 * left of the byte cap, and adds it as |vpath|. */
static int read_file(walk_ctx *w, int dirfd, const char *name, const char *vpath) {
  /* O_NONBLOCK: should the name be swapped for a FIFO after fstatat, the
   * open does not hang; the fstat below then skips it. */
  int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return fail(w, FTPS_ERR_IO, "%s: cannot open: %s", vpath, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    note(w, vpath, "not a regular file");
    return 0;
  }
  uint64_t left = TEST_CONFIG_VFS_MAX_BYTES - w->tree->bytes;
  size_t cap = (uint64_t)st.st_size < left ? (size_t)st.st_size + 1 : (size_t)left + 1;
  uint8_t *data = malloc(cap);
  size_t len = 0;
  int rc = 0;
  if (data == NULL) {
    close(fd);
    return fail(w, FTPS_ERR_NOMEM, "out of memory");
  }
  for (;;) {
    if (len == cap) { /* the file grew since fstat: take more, within the cap */
      if (cap > left) {
        rc = fail(w, FTPS_ERR_LIMIT, "expected at most %u bytes of files, the in-memory tree's "
                  "cap (reached at %s)", TEST_CONFIG_VFS_MAX_BYTES, vpath);
        goto out;
      }
      size_t ncap = cap * 2 < left + 1 ? cap * 2 : (size_t)left + 1;
      uint8_t *nd = realloc(data, ncap);
      if (nd == NULL) {
        rc = fail(w, FTPS_ERR_NOMEM, "out of memory");
        goto out;
      }
      data = nd;
      cap = ncap;
    }
    ssize_t r = read(fd, data + len, cap - len);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      rc = fail(w, FTPS_ERR_IO, "%s: cannot read: %s", vpath, strerror(errno));
      goto out;
    }
    if (r == 0)
      break;
    len += (size_t)r;
  }
  if (len > left) {
    rc = fail(w, FTPS_ERR_LIMIT, "expected at most %u bytes of files, the in-memory tree's cap "
              "(reached at %s)", TEST_CONFIG_VFS_MAX_BYTES, vpath);
    goto out;
  }
  w->tree->bytes += len;
  close(fd);
  if (len == 0) {
    free(data);
    data = NULL;
  }
  return add(w, vpath, false, data, len);
out:
  close(fd);
  free(data);
  return rc;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* walk copies the directory open at |fd| (taken: closed here), whose
 * virtual path is |vpath| ("" for the root), at |depth| components. */
static int walk(walk_ctx *w, int fd, const char *vpath, unsigned depth) {
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return fail(w, FTPS_ERR_IO, "%s: cannot list: %s", vpath[0] ? vpath : "/", strerror(errno));
  }
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (e == NULL) {
      if (errno != 0)
        rc = fail(w, FTPS_ERR_IO, "%s: cannot list: %s", vpath[0] ? vpath : "/",
                  strerror(errno));
      break;
    }
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    if (n == FTPS_VFS_MEM_MAX_ENTRIES) {
      rc = fail(w, FTPS_ERR_LIMIT, "%s: expected at most %u entries per directory, the "
                "in-memory tree's cap", vpath[0] ? vpath : "/", (unsigned)FTPS_VFS_MEM_MAX_ENTRIES);
      break;
    }
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      char **nv = realloc(names, ncap * sizeof(*nv));
      if (nv == NULL) {
        rc = fail(w, FTPS_ERR_NOMEM, "out of memory");
        break;
      }
      names = nv;
      cap = ncap;
    }
    if ((names[n] = strdup(e->d_name)) == NULL) {
      rc = fail(w, FTPS_ERR_NOMEM, "out of memory");
      break;
    }
    n++;
  }
  if (rc == 0 && n > 1)
    qsort(names, n, sizeof(*names), cmp_names); /* the same notes and caps every run */
  for (size_t i = 0; rc == 0 && i < n; i++) {
    char child[FTPS_PATH_MAX];
    int len = snprintf(child, sizeof(child), "%s/%s", vpath, names[i]);
    if (len < 0 || (size_t)len >= sizeof(child)) {
      rc = fail(w, FTPS_ERR_LIMIT, "%s/%.32s...: expected paths shorter than %u bytes", vpath,
                names[i], (unsigned)FTPS_PATH_MAX);
      break;
    }
    struct stat st;
    if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
      rc = fail(w, FTPS_ERR_IO, "%s: cannot stat: %s", child, strerror(errno));
    } else if (S_ISLNK(st.st_mode)) {
      note(w, child, "a symbolic link");
    } else if (S_ISREG(st.st_mode)) {
      rc = read_file(w, dirfd(d), names[i], child);
    } else if (!S_ISDIR(st.st_mode)) {
      note(w, child, "not a regular file or directory");
    } else if (depth + 1 > FTPS_VFS_MEM_MAX_DEPTH) {
      rc = fail(w, FTPS_ERR_LIMIT, "%s: expected at most %u nested directories, the in-memory "
                "tree's cap", child, (unsigned)FTPS_VFS_MEM_MAX_DEPTH);
    } else {
      int sub = openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0)
        rc = fail(w, FTPS_ERR_IO, "%s: cannot open: %s", child, strerror(errno));
      else if ((rc = add(w, child, true, NULL, 0)) != 0)
        close(sub);
      else
        rc = walk(w, sub, child, depth + 1);
    }
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  closedir(d);
  return rc;
}

/* build makes an in-memory VFS holding |t|; on failure |*out_bad| is the
 * entry refused (t->n when the VFS itself could not be made). */
static int build(const test_config_tree *t, ftps_vfs **out, size_t *out_bad) {
  *out_bad = t->n;
  ftps_vfs *vfs = ftps_vfs_mem_new(TEST_CONFIG_VFS_MAX_BYTES, TEST_CONFIG_MTIME);
  if (vfs == NULL)
    return FTPS_ERR_NOMEM;
  for (size_t i = 0; i < t->n; i++) {
    const test_config_entry *e = &t->v[i];
    int rc = e->is_dir ? vfs->ops->mkdir(vfs, e->path)
                       : ftps_vfs_mem_put(vfs, e->path, e->data, e->len);
    if (rc != 0) {
      *out_bad = i;
      ftps_vfs_free(vfs);
      return rc;
    }
  }
  *out = vfs;
  return 0;
}

ftps_vfs *test_config_tree_vfs(const test_config_tree *t) {
  ftps_vfs *vfs = NULL;
  size_t bad;
  return build(t, &vfs, &bad) == 0 ? vfs : NULL;
}

int test_config_tree_load(test_config_tree **out, ftps_vfs **out_vfs, const char *dir,
                          const char *where, FILE *notes, char *err, size_t err_len) {
  walk_ctx w = {.where = where, .notes = notes, .err = err, .err_len = err_len};
  *out = NULL;
  *out_vfs = NULL;
  w.tree = calloc(1, sizeof(*w.tree));
  if (w.tree == NULL)
    return fail(&w, FTPS_ERR_NOMEM, "out of memory");
  /* The directory itself is followed as given (the configuration's choice). */
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int rc;
  if (fd < 0)
    rc = fail(&w, FTPS_ERR_IO, "expected a readable directory, cannot open '%s': %s", dir,
              strerror(errno));
  else
    rc = walk(&w, fd, "", 0);
  size_t bad;
  if (rc == 0 && (rc = build(w.tree, out_vfs, &bad)) != 0)
    rc = bad < w.tree->n ? fail(&w, rc, "%s: the in-memory tree cannot hold it: %s",
                                w.tree->v[bad].path, ftps_strerror(rc))
                         : fail(&w, rc, "out of memory");
  if (rc != 0) {
    test_config_tree_free(w.tree);
    return rc;
  }
  *out = w.tree;
  return 0;
}
