/* ftps_path.c - see ftps_path.h.
 *
 * Resolution scans components right to left, counting ".." still to apply:
 * a ".." cancels the nearest normal component to its left, and a ".." with
 * none left to cancel is dropped, which is exactly "'..' at the root stays at
 * the root". Scanning this way needs no intermediate path, so an argument
 * longer than FTPS_PATH_MAX that resolves to a short path ("a/../b" repeated)
 * still works, and only the result is bounded. */
#include "ftps_path.h"

#include <stdint.h>
#include <string.h>

#include "ftps_err.h"

typedef struct {
  char buf[FTPS_PATH_MAX];
  size_t pos;   /* the result so far is buf[pos .. FTPS_PATH_MAX-1), NUL at the end */
  size_t skip;  /* ".." components waiting to cancel a component to the left */
} rev_path;

/* take_component applies one component (scanned right to left). */
static int take_component(rev_path *rp, const char *c, size_t n) {
  if (n == 0 || (n == 1 && c[0] == '.'))
    return 0;
  if (n == 2 && c[0] == '.' && c[1] == '.') {
    if (rp->skip == SIZE_MAX)
      return FTPS_ERR_LIMIT; /* unreachable: needs SIZE_MAX input bytes */
    rp->skip++;
    return 0;
  }
  if (rp->skip > 0) {
    rp->skip--;
    return 0;
  }
  if (n >= rp->pos) /* room for the component and its '/' */
    return FTPS_ERR_LIMIT;
  rp->pos -= n;
  memcpy(rp->buf + rp->pos, c, n);
  rp->buf[--rp->pos] = '/';
  return 0;
}

/* take_all applies every component of s[0..len) right to left. */
static int take_all(rev_path *rp, const char *s, size_t len) {
  size_t end = len;
  while (end > 0) {
    size_t start = end;
    while (start > 0 && s[start - 1] != '/')
      start--;
    int rc = take_component(rp, s + start, end - start);
    if (rc != 0)
      return rc;
    end = start > 0 ? start - 1 : 0;
  }
  return 0;
}

int ftps_path_resolve(char out[FTPS_PATH_MAX], const char *cwd, const char *arg, size_t arg_len) {
  rev_path rp;
  int rc;
  out[0] = '\0';
  if (arg_len > 0 && memchr(arg, '\0', arg_len) != NULL)
    return FTPS_ERR_INVAL;
  rp.pos = FTPS_PATH_MAX - 1;
  rp.buf[rp.pos] = '\0';
  rp.skip = 0;
  rc = take_all(&rp, arg, arg_len);
  if (rc != 0)
    return rc;
  if (arg_len == 0 || arg[0] != '/') {
    rc = take_all(&rp, cwd, strnlen(cwd, FTPS_PATH_MAX));
    if (rc != 0)
      return rc;
  }
  if (rp.pos == FTPS_PATH_MAX - 1)
    rp.buf[--rp.pos] = '/'; /* nothing left: the root */
  memcpy(out, rp.buf + rp.pos, FTPS_PATH_MAX - rp.pos);
  return 0;
}

const char *ftps_path_basename(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash != NULL ? slash + 1 : path;
}

void ftps_path_parent(char out[FTPS_PATH_MAX], const char *path) {
  const char *slash = strrchr(path, '/');
  size_t n = slash != NULL ? (size_t)(slash - path) : 0;
  if (n == 0 || n >= FTPS_PATH_MAX) {
    out[0] = '/';
    out[1] = '\0';
    return;
  }
  memcpy(out, path, n);
  out[n] = '\0';
}
