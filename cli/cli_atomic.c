/* cli_atomic.c - see cli_atomic.h. */
#include "cli_atomic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_atomic_open(cli_atomic *a, const char *path, char *err, size_t err_len) {
  static const char suffix[] = ".tmp.XXXXXX";
  size_t n = strlen(path);
  int fd = -1;
  a->f = NULL;
  a->path = strdup(path);
  a->tmp_path = malloc(n + sizeof(suffix));
  if (a->path == NULL || a->tmp_path == NULL) {
    snprintf(err, err_len, "%s: out of memory", path);
    goto fail;
  }
  memcpy(a->tmp_path, path, n);
  memcpy(a->tmp_path + n, suffix, sizeof(suffix));
  fd = mkstemp(a->tmp_path);
  if (fd < 0) {
    snprintf(err, err_len, "%s: cannot create a temporary file: %s", path, strerror(errno));
    free(a->tmp_path);
    a->tmp_path = NULL; /* nothing to remove */
    goto fail;
  }
  /* mkstemp makes 0600; give the result the mode a plain fopen would. */
  mode_t mask = umask(0);
  umask(mask);
  (void)fchmod(fd, 0666 & ~mask);
  a->f = fdopen(fd, "wb");
  if (a->f == NULL) {
    snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
    close(fd);
    goto fail;
  }
  return 0;
fail:
  cli_atomic_abort(a);
  return -1;
}

int cli_atomic_commit(cli_atomic *a, char *err, size_t err_len) {
  int failed = fflush(a->f) != 0 || ferror(a->f) || fsync(fileno(a->f)) != 0;
  int saved = errno;
  if (fclose(a->f) != 0 && !failed) {
    failed = 1;
    saved = errno;
  }
  a->f = NULL;
  if (failed) {
    snprintf(err, err_len, "%s: cannot write: %s", a->path, strerror(saved));
    goto fail;
  }
  if (rename(a->tmp_path, a->path) != 0) {
    snprintf(err, err_len, "%s: cannot rename the temporary file into place: %s", a->path,
             strerror(errno));
    goto fail;
  }
  free(a->tmp_path);
  a->tmp_path = NULL;
  free(a->path);
  a->path = NULL;
  return 0;
fail:
  cli_atomic_abort(a);
  return -1;
}

void cli_atomic_abort(cli_atomic *a) {
  if (a->f != NULL) {
    fclose(a->f);
    a->f = NULL;
  }
  if (a->tmp_path != NULL) {
    unlink(a->tmp_path);
    free(a->tmp_path);
    a->tmp_path = NULL;
  }
  free(a->path);
  a->path = NULL;
}
