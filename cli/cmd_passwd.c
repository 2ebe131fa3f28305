/* cmd_passwd.c - `ftpsfuzz passwd --file FILE [--iterations N] USER`.
 *
 * Adds USER to a users file (ftps_users.h format), or replaces USER's line,
 * with the password read from the first line of standard input. The file is
 * checked with the same loader the server uses before it is rewritten, and
 * the new content goes to a temporary file in the same directory that is
 * then renamed into place, so a crash leaves either the old file or the new
 * one, never half of one. A new file is created with mode 0600; an existing
 * file keeps its mode. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/mem.h>

#include "cli.h"
#include "ftps_err.h"
#include "ftps_users.h"

#define PASSWD_MAX_PASSWORD 1024
#define PASSWD_MAX_FILE (16u << 20)

static void passwd_usage(FILE *out) {
  fprintf(out,
          "usage: ftpsfuzz passwd --file FILE [--iterations N] USER\n"
          "  Adds USER to the users file FILE, or replaces USER's entry, reading the\n"
          "  password from the first line of standard input (its newline removed).\n"
          "  FILE is created with mode 0600 if missing. N defaults to %u.\n",
          (unsigned)FTPS_USERS_DEFAULT_ITERATIONS);
}

/* read_password reads the first line of standard input without its '\n'.
 * Returns 0, or prints what was expected and returns -1. */
static int read_password(char *pw, size_t cap, size_t *out_len) {
  size_t len = 0;
  int c;
  while ((c = getchar()) != EOF && c != '\n') {
    if (len == cap) {
      fprintf(stderr, "passwd: standard input: expected a password of at most %zu bytes\n", cap);
      return -1;
    }
    pw[len++] = (char)c;
  }
  if (c == EOF && ferror(stdin)) {
    fprintf(stderr, "passwd: standard input: read error: %s\n", strerror(errno));
    return -1;
  }
  if (len == 0) {
    fprintf(stderr, "passwd: standard input: expected a non-empty password on the first line\n");
    return -1;
  }
  *out_len = len;
  return 0;
}

/* read_file reads all of |path| into a NUL-terminated malloc'd buffer. */
static int read_file(const char *path, char **out, size_t *out_len) {
  FILE *fp = fopen(path, "rb");
  char *buf = NULL;
  size_t len = 0, cap = 0;
  int rc = -1;
  if (fp == NULL) {
    fprintf(stderr, "passwd: %s: cannot open: %s\n", path, strerror(errno));
    return -1;
  }
  for (;;) {
    if (cap - len < 4096) {
      if (cap >= PASSWD_MAX_FILE) {
        fprintf(stderr, "passwd: %s: expected a users file of at most %u bytes\n", path,
                PASSWD_MAX_FILE);
        goto out;
      }
      size_t ncap = cap == 0 ? 8192 : cap * 2;
      char *nb = realloc(buf, ncap + 1);
      if (nb == NULL) {
        fprintf(stderr, "passwd: out of memory\n");
        goto out;
      }
      buf = nb;
      cap = ncap;
    }
    size_t n = fread(buf + len, 1, cap - len, fp);
    len += n;
    if (n == 0) {
      if (ferror(fp)) {
        fprintf(stderr, "passwd: %s: read error: %s\n", path, strerror(errno));
        goto out;
      }
      break;
    }
  }
  buf[len] = '\0';
  *out = buf;
  *out_len = len;
  buf = NULL;
  rc = 0;
out:
  free(buf);
  fclose(fp);
  return rc;
}

/* line_is_user reports whether the line [p, p+n) is an entry for |user|. */
static bool line_is_user(const char *p, size_t n, const char *user) {
  size_t ulen = strlen(user);
  return n > ulen && memcmp(p, user, ulen) == 0 && p[ulen] == ':';
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* replace_file writes old content with |user|'s line replaced (or
 * appended) to a temporary file next to |path| and renames it over |path|. */
static int replace_file(const char *path, const char *old, size_t old_len, bool existed,
                        mode_t mode, const char *user, const char *entry, bool *out_replaced) {
  char tmp[PATH_MAX];
  int fd = -1, rc = -1;
  bool made = false;
  *out_replaced = false;
  if (old == NULL)
    old = ""; /* a new file */
  if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= sizeof(tmp)) {
    fprintf(stderr, "passwd: %s: expected a shorter path\n", path);
    return -1;
  }
  fd = mkstemp(tmp); /* mode 0600 */
  if (fd < 0) {
    fprintf(stderr, "passwd: %s: cannot create a temporary file: %s\n", tmp, strerror(errno));
    return -1;
  }
  made = true;
  if (existed && fchmod(fd, mode & 07777) != 0)
    goto io_error;
  const char *p = old, *end = old + old_len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
    if (!*out_replaced && line_is_user(p, n, user)) {
      if (write_all(fd, entry, strlen(entry)) != 0)
        goto io_error;
      *out_replaced = true;
    } else if (write_all(fd, p, n) != 0 || write_all(fd, "\n", 1) != 0) {
      goto io_error; /* a missing final newline is added */
    }
    p += n + (nl != NULL);
  }
  if (!*out_replaced && write_all(fd, entry, strlen(entry)) != 0)
    goto io_error;
  if (fsync(fd) != 0)
    goto io_error;
  if (close(fd) != 0) {
    fd = -1;
    goto io_error;
  }
  fd = -1;
  if (rename(tmp, path) != 0)
    goto io_error;
  made = false;
  rc = 0;
  /* Make the rename itself durable. */
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  if (slash == NULL)
    snprintf(dir, sizeof(dir), ".");
  else if (slash == path)
    snprintf(dir, sizeof(dir), "/");
  else
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    (void)fsync(dfd);
    close(dfd);
  }
  goto out;
io_error:
  fprintf(stderr, "passwd: %s: cannot write: %s\n", tmp, strerror(errno));
out:
  if (fd >= 0)
    close(fd);
  if (made)
    unlink(tmp);
  return rc;
}

int cmd_passwd(int argc, char **argv) {
  const char *file = NULL, *user = NULL;
  unsigned long iterations = FTPS_USERS_DEFAULT_ITERATIONS;
  char pw[PASSWD_MAX_PASSWORD];
  char entry[256];
  char err[512];
  size_t pw_len = 0, old_len = 0;
  char *old = NULL;
  ftps_users *check = NULL;
  int status = CLI_USAGE;
  struct stat st;
  bool existed = false, replaced = false;

  memset(&st, 0, sizeof(st));

  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      passwd_usage(stdout);
      return CLI_OK;
    } else if (!strcmp(argv[i], "--file") && i + 1 < argc) {
      file = argv[++i];
    } else if (!strcmp(argv[i], "--iterations") && i + 1 < argc) {
      char *endp;
      const char *s = argv[++i];
      errno = 0;
      iterations = strtoul(s, &endp, 10);
      if (s[0] < '0' || s[0] > '9' || *endp != '\0' || errno != 0 || iterations < 1 ||
          iterations > FTPS_USERS_MAX_ITERATIONS) {
        fprintf(stderr, "passwd: --iterations: expected a number from 1 to %u\n",
                FTPS_USERS_MAX_ITERATIONS);
        return CLI_USAGE;
      }
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      fprintf(stderr, "passwd: unknown or incomplete option '%s'\n", argv[i]);
      passwd_usage(stderr);
      return CLI_USAGE;
    } else if (user == NULL) {
      user = argv[i];
    } else {
      fprintf(stderr, "passwd: expected one USER, got a second one\n");
      passwd_usage(stderr);
      return CLI_USAGE;
    }
  }
  if (file == NULL || user == NULL) {
    passwd_usage(stderr);
    return CLI_USAGE;
  }
  if (!ftps_users_name_valid(user)) {
    fprintf(stderr, "passwd: expected USER of 1..64 bytes of [A-Za-z0-9._@-]\n");
    return CLI_USAGE;
  }

  if (stat(file, &st) == 0) {
    existed = true;
    if (!S_ISREG(st.st_mode)) {
      fprintf(stderr, "passwd: %s: expected a regular file\n", file);
      goto out;
    }
    /* Refuse to rewrite a file the server would not load. */
    check = ftps_users_new();
    if (check == NULL) {
      fprintf(stderr, "passwd: out of memory\n");
      goto out;
    }
    if (ftps_users_load(check, file, err, sizeof(err)) != 0) {
      fprintf(stderr, "passwd: %s\n", err);
      goto out;
    }
    if (read_file(file, &old, &old_len) != 0)
      goto out;
  } else if (errno != ENOENT) {
    fprintf(stderr, "passwd: %s: %s\n", file, strerror(errno));
    goto out;
  }

  if (read_password(pw, sizeof(pw), &pw_len) != 0)
    goto out;
  int rc = ftps_users_format_entry(entry, sizeof(entry), user, pw, pw_len, (unsigned)iterations);
  if (rc != 0) {
    fprintf(stderr, "passwd: cannot make the entry: %s\n", ftps_strerror(rc));
    goto out;
  }
  if (replace_file(file, old, old_len, existed, st.st_mode, user, entry, &replaced) != 0)
    goto out;
  fprintf(stderr, "passwd: %s user '%s' in %s\n", replaced ? "replaced" : "added", user, file);
  status = CLI_OK;
out:
  OPENSSL_cleanse(pw, sizeof(pw));
  OPENSSL_cleanse(entry, sizeof(entry));
  ftps_users_free(check);
  free(old);
  return status;
}
