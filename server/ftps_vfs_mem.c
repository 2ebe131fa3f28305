/* ftps_vfs_mem.c - the in-memory VFS tree (fuzzing, tests).
 *
 * Every directory keeps its entries in a sorted array (byte order of the
 * names), so lookups are binary searches and list() is in name order.
 * File content lives in reference-counted immutable blobs: a read handle
 * holds the blob it opened, so replacing or deleting the file under a reader
 * never frees what it reads, and a write handle holds the old blob it will
 * keep a prefix of (APPEND, AT) without copying it.
 *
 * Writes: a write handle buffers only the new bytes. commit() resolves the
 * path again, builds the new blob and swaps it in, in that order, so a
 * failing commit (or close without commit) leaves the old file exactly as it
 * was. Between open_write and commit the file is last-writer-wins, except
 * APPEND, whose new bytes go after the file as it is at commit (concurrent
 * appends all land, as in the POSIX tree).
 *
 * Limits: |max_bytes| caps (a) the content of all files in the tree as it
 * would be after the commit, and (b) the new bytes buffered in all open write
 * handles together; so memory stays below about 2 * max_bytes plus the caps
 * on names and nodes in ftps_vfs.h. Every object is writable, "/" included
 * (it may be written into, never removed or renamed).
 *
 * Error choices where POSIX differs or is silent: rmdir, rename from or to
 * "/" and renaming a directory into its own subtree are FTPS_ERR_PERM;
 * renaming onto an existing directory is FTPS_ERR_EXIST (a file moved onto a
 * directory: FTPS_ERR_ISDIR); a directory onto a file is FTPS_ERR_NOTDIR.
 *
 * Not thread-safe. list() callbacks must not modify the tree. Close every
 * handle before freeing the tree. */
#include <stdlib.h>
#include <string.h>

#include "ftps_alloc.h"
#include "ftps_err.h"
#include "ftps_vfs.h"

typedef struct mem_blob {
  size_t refs;
  size_t len;
  uint8_t data[];
} mem_blob;

typedef struct mem_node {
  char *name; /* NUL-terminated; "" for the root */
  size_t name_len;
  bool is_dir;
  uint64_t unique;
  mem_blob *blob;         /* files: content, NULL when empty */
  struct mem_node **kids; /* directories: sorted by name */
  size_t n_kids, cap_kids;
} mem_node;

typedef struct mem_vfs {
  ftps_vfs base; /* first, so a ftps_vfs * is a mem_vfs * */
  mem_node *root;
  uint64_t max_bytes;
  uint64_t used_bytes;    /* content of all files in the tree */
  uint64_t pending_bytes; /* new bytes held by open write handles */
  int64_t mtime;
  uint64_t next_unique;
  size_t n_nodes;
} mem_vfs;

struct ftps_vfs_file {
  mem_vfs *vfs;
  bool writing;
  bool committed;
  mem_blob *blob; /* reading: the content; writing: the old file, for its prefix */
  size_t pos;     /* reading: next byte */
  /* writing */
  char *path;
  ftps_vfs_write_mode mode;
  size_t prefix_len; /* bytes of |blob| kept before the new ones */
  uint8_t *buf;
  size_t len, cap;
};

/* The result of resolving a path: the directory holding the last component
 * and that component's node (NULL when missing). For "/", parent is NULL and
 * node is the root. */
typedef struct mem_where {
  mem_node *parent;
  mem_node *node;
  const char *name;
  size_t name_len;
  size_t slot;  /* where |name| is or would be inserted in parent */
  size_t depth; /* components in the path */
} mem_where;

static const ftps_vfs_ops mem_ops;

static mem_blob *blob_ref(mem_blob *b) {
  if (b != NULL)
    b->refs++;
  return b;
}

static void blob_release(mem_blob *b) {
  if (b != NULL && --b->refs == 0)
    ftps_free(b);
}

static size_t blob_len(const mem_blob *b) { return b == NULL ? 0 : b->len; }

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  if (c != 0)
    return c;
  return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* find_slot returns the index of |name| in |dir| or where it would go. */
static size_t find_slot(const mem_node *dir, const char *name, size_t len, bool *found) {
  size_t lo = 0, hi = dir->n_kids;
  *found = false;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const mem_node *k = dir->kids[mid];
    int c = name_cmp(name, len, k->name, k->name_len);
    if (c == 0) {
      *found = true;
      return mid;
    }
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

/* check_path validates a canonical path (see ftps_path.h): it starts with
 * '/', has no empty, "." or ".." component and no trailing slash except for
 * "/". Returns 0 and the number of components, FTPS_ERR_INVAL or
 * FTPS_ERR_LIMIT (a name or the depth over the caps). */
static int check_path(const char *path, size_t *out_depth) {
  size_t depth = 0;
  if (path == NULL || path[0] != '/')
    return FTPS_ERR_INVAL;
  if (path[1] == '\0') {
    *out_depth = 0;
    return 0;
  }
  const char *p = path + 1;
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);
    if (len == 0)
      return FTPS_ERR_INVAL; /* "//" or a trailing slash */
    if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
      return FTPS_ERR_INVAL;
    if (len > FTPS_VFS_MEM_MAX_NAME)
      return FTPS_ERR_LIMIT;
    if (++depth > FTPS_VFS_MEM_MAX_DEPTH)
      return FTPS_ERR_LIMIT;
    if (slash == NULL)
      break;
    p = slash + 1;
  }
  *out_depth = depth;
  return 0;
}

/* resolve validates |path| and walks to its last component. Returns 0,
 * FTPS_ERR_INVAL, FTPS_ERR_LIMIT, FTPS_ERR_NOENT (a parent is missing) or
 * FTPS_ERR_NOTDIR (a parent is a file). A missing last component is not an
 * error: |w->node| is then NULL. */
static int resolve(mem_vfs *v, const char *path, mem_where *w) {
  size_t depth;
  int rc = check_path(path, &depth);
  if (rc != 0)
    return rc;
  memset(w, 0, sizeof(*w));
  w->depth = depth;
  if (depth == 0) {
    w->node = v->root;
    w->name = "";
    return 0;
  }
  mem_node *dir = v->root;
  const char *p = path + 1;
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);
    bool found;
    size_t slot = find_slot(dir, p, len, &found);
    if (slash == NULL) {
      w->parent = dir;
      w->node = found ? dir->kids[slot] : NULL;
      w->name = p;
      w->name_len = len;
      w->slot = slot;
      return 0;
    }
    if (!found)
      return FTPS_ERR_NOENT;
    dir = dir->kids[slot];
    if (!dir->is_dir)
      return FTPS_ERR_NOTDIR;
    p = slash + 1;
  }
}

/* reserve makes room in |dir| for one more entry, within the entry cap. */
static int reserve(mem_node *dir) {
  if (dir->n_kids >= FTPS_VFS_MEM_MAX_ENTRIES)
    return FTPS_ERR_LIMIT;
  if (dir->n_kids < dir->cap_kids)
    return 0;
  size_t cap = dir->cap_kids == 0 ? 8 : dir->cap_kids * 2;
  if (cap > FTPS_VFS_MEM_MAX_ENTRIES)
    cap = FTPS_VFS_MEM_MAX_ENTRIES;
  mem_node **kids = ftps_realloc(dir->kids, cap * sizeof(*kids));
  if (kids == NULL)
    return FTPS_ERR_NOMEM;
  dir->kids = kids;
  dir->cap_kids = cap;
  return 0;
}

/* insert_at puts |n| at |slot| of |dir|; reserve() must have succeeded. */
static void insert_at(mem_node *dir, size_t slot, mem_node *n) {
  memmove(&dir->kids[slot + 1], &dir->kids[slot], (dir->n_kids - slot) * sizeof(*dir->kids));
  dir->kids[slot] = n;
  dir->n_kids++;
}

static void remove_at(mem_node *dir, size_t slot) {
  memmove(&dir->kids[slot], &dir->kids[slot + 1], (dir->n_kids - slot - 1) * sizeof(*dir->kids));
  dir->n_kids--;
}

static char *dup_name(const char *name, size_t len) {
  char *s = ftps_malloc(len + 1);
  if (s != NULL) {
    memcpy(s, name, len);
    s[len] = '\0';
  }
  return s;
}

/* node_new makes a detached node, counted against the node cap. */
static int node_new(mem_vfs *v, const char *name, size_t len, bool is_dir, mem_node **out) {
  if (v->n_nodes >= FTPS_VFS_MEM_MAX_NODES)
    return FTPS_ERR_LIMIT;
  mem_node *n = ftps_calloc(1, sizeof(*n));
  if (n == NULL)
    return FTPS_ERR_NOMEM;
  n->name = dup_name(name, len);
  if (n->name == NULL) {
    ftps_free(n);
    return FTPS_ERR_NOMEM;
  }
  n->name_len = len;
  n->is_dir = is_dir;
  n->unique = v->next_unique++;
  v->n_nodes++;
  *out = n;
  return 0;
}

/* node_free frees |n| and everything under it (depth is capped, so the
 * recursion is bounded). */
static void node_free(mem_vfs *v, mem_node *n) {
  if (n == NULL)
    return;
  for (size_t i = 0; i < n->n_kids; i++)
    node_free(v, n->kids[i]);
  v->used_bytes -= blob_len(n->blob);
  blob_release(n->blob);
  ftps_free(n->kids);
  ftps_free(n->name);
  ftps_free(n);
  v->n_nodes--;
}

/* height is 1 for a file or an empty directory, plus the deepest level below. */
static size_t height(const mem_node *n) {
  size_t h = 0;
  for (size_t i = 0; i < n->n_kids; i++) {
    size_t k = height(n->kids[i]);
    if (k > h)
      h = k;
  }
  return h + 1;
}

static void fill_stat(const mem_vfs *v, const mem_node *n, ftps_vfs_stat *st) {
  memset(st, 0, sizeof(*st));
  st->is_dir = n->is_dir;
  st->size = n->is_dir ? 0 : blob_len(n->blob);
  st->mtime = v->mtime;
  st->unique = n->unique;
  st->writable = true;
}

static int mem_stat(ftps_vfs *vfs, const char *path, ftps_vfs_stat *out) {
  mem_vfs *v = (mem_vfs *)vfs;
  mem_where w;
  int rc = resolve(v, path, &w);
  if (rc != 0)
    return rc;
  if (w.node == NULL)
    return FTPS_ERR_NOENT;
  fill_stat(v, w.node, out);
  return 0;
}

static int mem_mkdir(ftps_vfs *vfs, const char *path) {
  mem_vfs *v = (mem_vfs *)vfs;
  mem_where w;
  mem_node *n;
  int rc = resolve(v, path, &w);
  if (rc != 0)
    return rc;
  if (w.node != NULL)
    return FTPS_ERR_EXIST;
  if ((rc = reserve(w.parent)) != 0)
    return rc;
  if ((rc = node_new(v, w.name, w.name_len, true, &n)) != 0)
    return rc;
  insert_at(w.parent, w.slot, n);
  return 0;
}

static int mem_rmdir(ftps_vfs *vfs, const char *path) {
  mem_vfs *v = (mem_vfs *)vfs;
  mem_where w;
  int rc = resolve(v, path, &w);
  if (rc != 0)
    return rc;
  if (w.parent == NULL)
    return FTPS_ERR_PERM; /* "/" */
  if (w.node == NULL)
    return FTPS_ERR_NOENT;
  if (!w.node->is_dir)
    return FTPS_ERR_NOTDIR;
  if (w.node->n_kids != 0)
    return FTPS_ERR_NOTEMPTY;
  remove_at(w.parent, w.slot);
  node_free(v, w.node);
  return 0;
}

static int mem_unlink(ftps_vfs *vfs, const char *path) {
  mem_vfs *v = (mem_vfs *)vfs;
  mem_where w;
  int rc = resolve(v, path, &w);
  if (rc != 0)
    return rc;
  if (w.node == NULL)
    return FTPS_ERR_NOENT;
  if (w.node->is_dir)
    return FTPS_ERR_ISDIR; /* "/" included */
  remove_at(w.parent, w.slot);
  node_free(v, w.node);
  return 0;
}

static int mem_rename(ftps_vfs *vfs, const char *from, const char *to) {
  mem_vfs *v = (mem_vfs *)vfs;
  mem_where src, dst;
  char *name = NULL;
  int rc = resolve(v, from, &src);
  if (rc != 0)
    return rc;
  if (src.parent == NULL)
    return FTPS_ERR_PERM;
  if (src.node == NULL)
    return FTPS_ERR_NOENT;
  if ((rc = resolve(v, to, &dst)) != 0) {
    /* A directory moved below itself: the walk would find the path, or not,
     * depending on what is there; say PERM either way. */
    size_t flen = strlen(from);
    if (src.node->is_dir && rc != FTPS_ERR_INVAL && rc != FTPS_ERR_LIMIT &&
        strncmp(to, from, flen) == 0 && to[flen] == '/')
      return FTPS_ERR_PERM;
    return rc;
  }
  if (dst.parent == NULL)
    return FTPS_ERR_PERM;
  if (dst.node == src.node)
    return 0; /* the same object: nothing to do, as rename(2) */
  if (src.node->is_dir) {
    size_t flen = strlen(from);
    if (strncmp(to, from, flen) == 0 && to[flen] == '/')
      return FTPS_ERR_PERM;
  }
  if (dst.node != NULL) {
    if (dst.node->is_dir)
      return src.node->is_dir ? FTPS_ERR_EXIST : FTPS_ERR_ISDIR;
    if (src.node->is_dir)
      return FTPS_ERR_NOTDIR;
  }
  if (dst.depth - 1 + height(src.node) > FTPS_VFS_MEM_MAX_DEPTH)
    return FTPS_ERR_LIMIT;
  /* Everything that can fail happens before the tree changes. */
  if (dst.node == NULL && dst.parent != src.parent && (rc = reserve(dst.parent)) != 0)
    return rc;
  if ((name = dup_name(dst.name, dst.name_len)) == NULL)
    return FTPS_ERR_NOMEM;

  mem_node *moving = src.node;
  remove_at(src.parent, src.slot);
  if (dst.node != NULL) {
    bool found;
    size_t slot = find_slot(dst.parent, dst.name, dst.name_len, &found);
    remove_at(dst.parent, slot);
    node_free(v, dst.node);
  }
  ftps_free(moving->name);
  moving->name = name;
  moving->name_len = dst.name_len;
  bool found;
  size_t slot = find_slot(dst.parent, name, dst.name_len, &found);
  insert_at(dst.parent, slot, moving); /* room: freed above or reserved */
  return 0;
}

static int mem_list(ftps_vfs *vfs, const char *dir, ftps_vfs_list_cb cb, void *ctx) {
  mem_vfs *v = (mem_vfs *)vfs;
  mem_where w;
  int rc = resolve(v, dir, &w);
  if (rc != 0)
    return rc;
  if (w.node == NULL)
    return FTPS_ERR_NOENT;
  if (!w.node->is_dir)
    return FTPS_ERR_NOTDIR;
  if (cb == NULL)
    return FTPS_ERR_INVAL;
  for (size_t i = 0; i < w.node->n_kids; i++) {
    ftps_vfs_stat st;
    fill_stat(v, w.node->kids[i], &st);
    rc = cb(ctx, w.node->kids[i]->name, &st);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int mem_open_read(ftps_vfs *vfs, const char *path, uint64_t offset, ftps_vfs_file **out) {
  mem_vfs *v = (mem_vfs *)vfs;
  mem_where w;
  *out = NULL;
  int rc = resolve(v, path, &w);
  if (rc != 0)
    return rc;
  if (w.node == NULL)
    return FTPS_ERR_NOENT;
  if (w.node->is_dir)
    return FTPS_ERR_ISDIR;
  if (offset > blob_len(w.node->blob))
    return FTPS_ERR_INVAL;
  ftps_vfs_file *f = ftps_calloc(1, sizeof(*f));
  if (f == NULL)
    return FTPS_ERR_NOMEM;
  f->vfs = v;
  f->blob = blob_ref(w.node->blob);
  f->pos = (size_t)offset;
  *out = f;
  return 0;
}

static int mem_read(ftps_vfs_file *f, uint8_t *buf, size_t cap, size_t *out_n) {
  *out_n = 0;
  if (f == NULL || f->writing)
    return FTPS_ERR_INVAL;
  size_t left = blob_len(f->blob) - f->pos;
  size_t n = cap < left ? cap : left;
  if (n != 0) {
    memcpy(buf, f->blob->data + f->pos, n);
    f->pos += n;
  }
  *out_n = n;
  return 0;
}

/* target_size is the current size of the file a write handle will replace
 * (0 when it does not exist yet or cannot be resolved). */
static uint64_t target_size(mem_vfs *v, const char *path) {
  mem_where w;
  if (resolve(v, path, &w) != 0 || w.node == NULL || w.node->is_dir)
    return 0;
  return blob_len(w.node->blob);
}

/* fits reports whether the tree may hold |total| bytes of new content for
 * the file at |path|, replacing what is there. */
static bool fits(mem_vfs *v, const char *path, uint64_t total) {
  if (total > v->max_bytes)
    return false;
  uint64_t others = v->used_bytes - target_size(v, path);
  return others <= v->max_bytes - total;
}

static int mem_open_write(ftps_vfs *vfs, const char *path, ftps_vfs_write_mode mode,
                          uint64_t offset, ftps_vfs_file **out) {
  mem_vfs *v = (mem_vfs *)vfs;
  mem_where w;
  *out = NULL;
  int rc = resolve(v, path, &w);
  if (rc != 0)
    return rc;
  if (w.parent == NULL || (w.node != NULL && w.node->is_dir))
    return FTPS_ERR_ISDIR;
  mem_blob *old = w.node != NULL ? w.node->blob : NULL;
  size_t prefix = 0;
  switch (mode) {
  case FTPS_VFS_WRITE_TRUNCATE:
    break;
  case FTPS_VFS_WRITE_EXCL:
    if (w.node != NULL)
      return FTPS_ERR_EXIST;
    break;
  case FTPS_VFS_WRITE_APPEND:
    prefix = blob_len(old);
    break;
  case FTPS_VFS_WRITE_AT:
    if (offset > blob_len(old))
      return FTPS_ERR_INVAL;
    prefix = (size_t)offset;
    break;
  default:
    return FTPS_ERR_INVAL;
  }
  /* A new name must have room in its directory; say so now, not after the
   * client has sent the data. commit() checks again. */
  if (w.node == NULL && w.parent->n_kids >= FTPS_VFS_MEM_MAX_ENTRIES)
    return FTPS_ERR_LIMIT;
  ftps_vfs_file *f = ftps_calloc(1, sizeof(*f));
  if (f == NULL)
    return FTPS_ERR_NOMEM;
  f->path = dup_name(path, strlen(path));
  if (f->path == NULL) {
    ftps_free(f);
    return FTPS_ERR_NOMEM;
  }
  f->vfs = v;
  f->writing = true;
  f->mode = mode;
  f->prefix_len = prefix;
  f->blob = prefix != 0 ? blob_ref(old) : NULL;
  *out = f;
  return 0;
}

static int mem_write(ftps_vfs_file *f, const uint8_t *buf, size_t n) {
  if (f == NULL || !f->writing || f->committed)
    return FTPS_ERR_INVAL;
  if (n == 0)
    return 0;
  mem_vfs *v = f->vfs;
  if (n > v->max_bytes - v->pending_bytes)
    return FTPS_ERR_LIMIT;
  uint64_t total = (uint64_t)f->prefix_len + f->len; /* <= max_bytes: checked before */
  if (n > v->max_bytes - total || !fits(v, f->path, total + n))
    return FTPS_ERR_LIMIT;
  size_t need = f->len + n; /* cannot overflow: both below max_bytes - prefix */
  if (need > f->cap) {
    size_t cap = f->cap == 0 ? 4096 : f->cap;
    while (cap < need)
      cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *nb = ftps_realloc(f->buf, cap);
    if (nb == NULL)
      return FTPS_ERR_NOMEM;
    f->buf = nb;
    f->cap = cap;
  }
  memcpy(f->buf + f->len, buf, n);
  f->len = need;
  v->pending_bytes += n;
  return 0;
}

/* drop_write releases what a write handle holds besides the handle itself. */
static void drop_write(ftps_vfs_file *f) {
  f->vfs->pending_bytes -= f->len;
  ftps_free(f->buf);
  f->buf = NULL;
  f->len = f->cap = 0;
  blob_release(f->blob);
  f->blob = NULL;
}

static int mem_commit(ftps_vfs_file *f) {
  if (f == NULL || !f->writing || f->committed)
    return FTPS_ERR_INVAL;
  mem_vfs *v = f->vfs;
  mem_where w;
  mem_node *created = NULL;
  mem_blob *nb = NULL;
  int rc = resolve(v, f->path, &w);
  if (rc != 0)
    return rc;
  if (w.node != NULL && w.node->is_dir)
    return FTPS_ERR_ISDIR;
  if (f->mode == FTPS_VFS_WRITE_EXCL && w.node != NULL)
    return FTPS_ERR_EXIST;
  if (f->mode == FTPS_VFS_WRITE_APPEND) {
    /* Appends go after the file as it is now, so one committed by another
     * session since open_write is kept (as in the POSIX tree). */
    mem_blob *cur = w.node != NULL ? blob_ref(w.node->blob) : NULL;
    blob_release(f->blob);
    f->blob = cur;
    f->prefix_len = blob_len(cur);
  }
  size_t total = f->prefix_len + f->len;
  if (!fits(v, f->path, total))
    return FTPS_ERR_LIMIT;
  if (total != 0) {
    nb = ftps_malloc(sizeof(*nb) + total);
    if (nb == NULL)
      return FTPS_ERR_NOMEM;
    nb->refs = 1;
    nb->len = total;
    if (f->prefix_len != 0)
      memcpy(nb->data, f->blob->data, f->prefix_len);
    if (f->len != 0)
      memcpy(nb->data + f->prefix_len, f->buf, f->len);
  }
  if (w.node == NULL) {
    if ((rc = reserve(w.parent)) != 0 ||
        (rc = node_new(v, w.name, w.name_len, false, &created)) != 0) {
      blob_release(nb);
      return rc;
    }
    insert_at(w.parent, w.slot, created);
    w.node = created;
  }
  v->used_bytes -= blob_len(w.node->blob);
  blob_release(w.node->blob);
  w.node->blob = nb;
  v->used_bytes += total;
  drop_write(f);
  f->committed = true;
  return 0;
}

static void mem_close(ftps_vfs_file *f) {
  if (f == NULL)
    return;
  if (f->writing)
    drop_write(f);
  blob_release(f->blob);
  ftps_free(f->path);
  ftps_free(f);
}

static void mem_free(ftps_vfs *vfs) {
  mem_vfs *v = (mem_vfs *)vfs;
  node_free(v, v->root);
  ftps_free(v);
}

static const ftps_vfs_ops mem_ops = {
    .stat = mem_stat,
    .mkdir = mem_mkdir,
    .rmdir = mem_rmdir,
    .unlink = mem_unlink,
    .rename = mem_rename,
    .list = mem_list,
    .open_read = mem_open_read,
    .read = mem_read,
    .open_write = mem_open_write,
    .write = mem_write,
    .commit = mem_commit,
    .close = mem_close,
    .free = mem_free,
};

ftps_vfs *ftps_vfs_mem_new(uint64_t max_bytes, int64_t mtime) {
  mem_vfs *v = ftps_calloc(1, sizeof(*v));
  if (v == NULL)
    return NULL;
  v->base.ops = &mem_ops;
  v->max_bytes = max_bytes;
  v->mtime = mtime;
  v->next_unique = 1;
  if (node_new(v, "", 0, true, &v->root) != 0) {
    ftps_free(v);
    return NULL;
  }
  return &v->base;
}

int ftps_vfs_mem_put(ftps_vfs *vfs, const char *path, const void *data, size_t len) {
  ftps_vfs_file *f = NULL;
  if (vfs == NULL || vfs->ops != &mem_ops || (data == NULL && len != 0))
    return FTPS_ERR_INVAL;
  int rc = mem_open_write(vfs, path, FTPS_VFS_WRITE_TRUNCATE, 0, &f);
  if (rc != 0)
    goto out;
  if ((rc = mem_write(f, data, len)) != 0)
    goto out;
  rc = mem_commit(f);
out:
  mem_close(f);
  return rc;
}
