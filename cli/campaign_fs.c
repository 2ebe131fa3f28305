/* campaign_fs.c - file-system helpers for the campaign tooling (see
 * campaign_fs.h). */
#include "campaign_fs.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>

#define LIST_DEPTH_MAX 16
#define HASH_FILE_MAX (64u << 20)

void campaign_strs_init(campaign_strs *l) { memset(l, 0, sizeof(*l)); }

void campaign_strs_cleanup(campaign_strs *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof(*l));
}

int campaign_strs_push(campaign_strs *l, const char *s) {
  if (l->n >= CAMPAIGN_LIST_MAX)
    return -1;
  if (l->n == l->cap) {
    size_t ncap = l->cap ? l->cap * 2 : 16;
    char **nv = realloc(l->v, ncap * sizeof(*nv));
    if (nv == NULL)
      return -1;
    l->v = nv;
    l->cap = ncap;
  }
  char *copy = strdup(s);
  if (copy == NULL)
    return -1;
  l->v[l->n++] = copy;
  return 0;
}

int campaign_strs_pushf(campaign_strs *l, const char *fmt, ...) {
  char buf[CAMPAIGN_PATH_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return campaign_strs_push(l, buf);
}

bool campaign_strs_has(const campaign_strs *l, const char *s) {
  for (size_t i = 0; i < l->n; i++)
    if (!strcmp(l->v[i], s))
      return true;
  return false;
}

bool campaign_corpus_name(const char *name) {
  return name[0] != '.' && strcmp(name, "README") != 0 && strcmp(name, "README.md") != 0;
}

bool campaign_is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool campaign_is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool campaign_is_exec(const char *path) { return campaign_is_file(path) && access(path, X_OK) == 0; }

int campaign_path(char *out, size_t out_len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(out, out_len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= out_len) {
    fprintf(stderr, "ftpsfuzz: path too long (limit %zu bytes): %.80s...\n", out_len, out);
    return -1;
  }
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_dir(const char *dir, bool recurse, int depth, campaign_strs *out) {
  if (depth > LIST_DEPTH_MAX) {
    fprintf(stderr, "ftpsfuzz: %s: nested deeper than %d directories\n", dir, LIST_DEPTH_MAX);
    return -1;
  }
  DIR *d = opendir(dir);
  if (d == NULL) {
    fprintf(stderr, "ftpsfuzz: %s: %s\n", dir, strerror(errno));
    return -1;
  }
  campaign_strs names;
  campaign_strs_init(&names);
  int rc = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!campaign_corpus_name(de->d_name))
      continue;
    if (campaign_strs_pushf(&names, "%s/%s", dir, de->d_name) != 0) {
      fprintf(stderr, "ftpsfuzz: %s: too many entries or out of memory\n", dir);
      rc = -1;
      goto out;
    }
  }
  if (names.n > 1)
    qsort(names.v, names.n, sizeof(*names.v), cmp_str);
  for (size_t i = 0; i < names.n && rc == 0; i++) {
    if (campaign_is_dir(names.v[i])) {
      if (recurse)
        rc = list_dir(names.v[i], recurse, depth + 1, out);
    } else if (campaign_is_file(names.v[i])) {
      if (campaign_strs_push(out, names.v[i]) != 0) {
        fprintf(stderr, "ftpsfuzz: %s: too many inputs or out of memory\n", dir);
        rc = -1;
      }
    }
  }
out:
  closedir(d);
  campaign_strs_cleanup(&names);
  return rc;
}

int campaign_list_inputs(const char *path, bool recurse, campaign_strs *out) {
  if (campaign_is_dir(path))
    return list_dir(path, recurse, 0, out);
  if (campaign_is_file(path))
    return campaign_strs_push(out, path);
  fprintf(stderr, "ftpsfuzz: %s: no such file or directory\n", path);
  return -1;
}

int campaign_list_subdirs(const char *dir, campaign_strs *out) {
  DIR *d = opendir(dir);
  campaign_strs names;
  int rc = 0;
  if (d == NULL) {
    fprintf(stderr, "ftpsfuzz: %s: %s\n", dir, strerror(errno));
    return -1;
  }
  campaign_strs_init(&names);
  struct dirent *de;
  while ((de = readdir(d)) != NULL && rc == 0) {
    if (de->d_name[0] == '.')
      continue;
    char path[CAMPAIGN_PATH_MAX];
    if (campaign_path(path, sizeof(path), "%s/%s", dir, de->d_name) != 0)
      rc = -1;
    else if (campaign_is_dir(path) && campaign_strs_push(&names, path) != 0)
      rc = -1;
  }
  closedir(d);
  if (names.n > 1)
    qsort(names.v, names.n, sizeof(*names.v), cmp_str);
  for (size_t i = 0; i < names.n && rc == 0; i++)
    rc = campaign_strs_push(out, names.v[i]);
  campaign_strs_cleanup(&names);
  return rc;
}

size_t campaign_count_files(const char *dir, const char *prefix) {
  DIR *d = opendir(dir);
  size_t n = 0, plen = strlen(prefix);
  if (d == NULL)
    return 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (campaign_corpus_name(de->d_name) && !strncmp(de->d_name, prefix, plen))
      n++;
  closedir(d);
  return n;
}

int campaign_mkdirs(const char *path) {
  char buf[CAMPAIGN_PATH_MAX];
  if (campaign_path(buf, sizeof(buf), "%s", path) != 0)
    return -1;
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "ftpsfuzz: cannot create %s: %s\n", buf, strerror(errno));
        return -1;
      }
      *p = c;
      if (c == '\0')
        break;
    }
  }
  if (!campaign_is_dir(path)) {
    fprintf(stderr, "ftpsfuzz: %s exists and is not a directory\n", path);
    return -1;
  }
  return 0;
}

int campaign_copy_file(const char *src, const char *dst) {
  FILE *in = fopen(src, "rb"), *out = NULL;
  int rc = -1;
  char buf[65536];
  if (in == NULL) {
    fprintf(stderr, "ftpsfuzz: %s: %s\n", src, strerror(errno));
    return -1;
  }
  out = fopen(dst, "wb");
  if (out == NULL) {
    fprintf(stderr, "ftpsfuzz: %s: %s\n", dst, strerror(errno));
    goto out;
  }
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
    if (fwrite(buf, 1, n, out) != n) {
      fprintf(stderr, "ftpsfuzz: %s: write failed\n", dst);
      goto out;
    }
  if (ferror(in)) {
    fprintf(stderr, "ftpsfuzz: %s: read failed\n", src);
    goto out;
  }
  rc = 0;
out:
  fclose(in);
  if (out != NULL && fclose(out) != 0 && rc == 0) {
    fprintf(stderr, "ftpsfuzz: %s: write failed\n", dst);
    rc = -1;
  }
  return rc;
}

int campaign_read_file(const char *path, size_t max, uint8_t **out, size_t *out_len) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  int rc = -1;
  struct stat st;
  if (f == NULL)
    return -1;
  if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > max)
    goto out;
  size_t len = (size_t)st.st_size;
  buf = malloc(len + 1);
  if (buf == NULL || (len && fread(buf, 1, len, f) != len))
    goto out;
  buf[len] = 0;
  *out = buf;
  *out_len = len;
  buf = NULL;
  rc = 0;
out:
  free(buf);
  fclose(f);
  return rc;
}

int campaign_sha256_file(const char *path, char hex[65]) {
  uint8_t *data = NULL;
  size_t len = 0;
  uint8_t md[SHA256_DIGEST_LENGTH];
  if (campaign_read_file(path, HASH_FILE_MAX, &data, &len) != 0) {
    fprintf(stderr, "ftpsfuzz: %s: cannot read (or larger than %u bytes)\n", path, HASH_FILE_MAX);
    return -1;
  }
  SHA256(data, len, md);
  free(data);
  for (size_t i = 0; i < sizeof(md); i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  return 0;
}

int campaign_self_dir(char *out, size_t out_len) {
  char buf[CAMPAIGN_PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) {
    fprintf(stderr, "ftpsfuzz: cannot find the ftpsfuzz executable: %s\n", strerror(errno));
    return -1;
  }
  buf[n] = '\0';
  return campaign_path(out, out_len, "%s", dirname(buf));
}
