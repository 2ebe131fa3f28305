/* test_ftps_path.c - canonical virtual paths: relative/absolute, ".", "..",
 * repeated and trailing slashes, the root as a floor, NUL and length limits. */
#include <string.h>

#include "ftps_err.h"
#include "ftps_path.h"
#include "testlib.h"

static void check_resolve(const char *cwd, const char *arg, const char *want) {
  char out[FTPS_PATH_MAX];
  int rc = ftps_path_resolve(out, cwd, arg, strlen(arg));
  CHECK_EQ_INT(rc, 0);
  if (rc == 0)
    CHECK_STR(out, want);
  else
    CHECK_STR(arg, "(failed)"); /* name the failing case */
}

static void test_resolve(void) {
  check_resolve("/", "", "/");
  check_resolve("/pub", "", "/pub");
  check_resolve("/", "pub", "/pub");
  check_resolve("/pub", "hello.txt", "/pub/hello.txt");
  check_resolve("/pub", "/upload", "/upload");
  check_resolve("/pub", ".", "/pub");
  check_resolve("/pub", "./", "/pub");
  check_resolve("/pub", "..", "/");
  check_resolve("/", "..", "/");
  check_resolve("/", "../../..", "/");
  check_resolve("/", "/../etc/passwd", "/etc/passwd");
  check_resolve("/pub", "../../../etc/passwd", "/etc/passwd");
  check_resolve("/a/b/c", "../../x", "/a/x");
  check_resolve("/a/b", "../../../../b/./c/", "/b/c");
  check_resolve("/", "a//b///c", "/a/b/c");
  check_resolve("/", "//", "/");
  check_resolve("/x", "///", "/");
  check_resolve("/", "a/b/", "/a/b");
  check_resolve("/", "a/./b/.", "/a/b");
  check_resolve("/", "...", "/...");
  check_resolve("/", "..a/.b/a..", "/..a/.b/a..");
  check_resolve("/", "a/../b/../c", "/c");
  check_resolve("/", "a b/\xc3\xa9\\", "/a b/\xc3\xa9\\");
  check_resolve("/a", "b/../../..", "/");
}

static void test_errors(void) {
  char out[FTPS_PATH_MAX];
  memcpy(out, "junk", 5);
  CHECK_EQ_INT(ftps_path_resolve(out, "/", "a\0b", 3), FTPS_ERR_INVAL);
  CHECK_STR(out, "");
  CHECK_EQ_INT(ftps_path_resolve(out, "/", "\0", 1), FTPS_ERR_INVAL);
  /* a NUL past arg_len is not looked at */
  CHECK_EQ_INT(ftps_path_resolve(out, "/", "ab\0c", 2), 0);
  CHECK_STR(out, "/ab");

  static char arg[3 * FTPS_PATH_MAX];
  /* the longest result that fits: '/' + 1022 bytes + NUL */
  memset(arg, 'a', FTPS_PATH_MAX - 2);
  CHECK_EQ_INT(ftps_path_resolve(out, "/", arg, FTPS_PATH_MAX - 2), 0);
  CHECK_EQ_INT(strlen(out), FTPS_PATH_MAX - 1);
  /* one more byte does not */
  memset(arg, 'a', FTPS_PATH_MAX - 1);
  memcpy(out, "junk", 5);
  CHECK_EQ_INT(ftps_path_resolve(out, "/", arg, FTPS_PATH_MAX - 1), FTPS_ERR_LIMIT);
  CHECK_STR(out, "");
  /* ... also when made of many components, or with the cwd's help */
  for (size_t i = 0; i < 2 * FTPS_PATH_MAX; i += 2)
    memcpy(arg + i, "x/", 2);
  CHECK_EQ_INT(ftps_path_resolve(out, "/", arg, 2 * FTPS_PATH_MAX), FTPS_ERR_LIMIT);
  memset(arg, 'a', FTPS_PATH_MAX - 4);
  CHECK_EQ_INT(ftps_path_resolve(out, "/b", arg, FTPS_PATH_MAX - 4), 0); /* "/b/" + 1020 */
  CHECK_EQ_INT(strlen(out), FTPS_PATH_MAX - 1);
  CHECK_EQ_INT(ftps_path_resolve(out, "/bc", arg, FTPS_PATH_MAX - 4), FTPS_ERR_LIMIT);
  /* an argument longer than the limit that resolves short is fine */
  size_t n = 0;
  for (int i = 0; i < 400; i++) {
    memcpy(arg + n, "abc/../", 7);
    n += 7;
  }
  arg[n++] = 'z';
  CHECK(n > FTPS_PATH_MAX);
  CHECK_EQ_INT(ftps_path_resolve(out, "/pub", arg, n), 0);
  CHECK_STR(out, "/pub/z");
}

static void test_base_parent(void) {
  char out[FTPS_PATH_MAX];
  CHECK_STR(ftps_path_basename("/"), "");
  CHECK_STR(ftps_path_basename("/pub"), "pub");
  CHECK_STR(ftps_path_basename("/pub/hello.txt"), "hello.txt");
  ftps_path_parent(out, "/");
  CHECK_STR(out, "/");
  ftps_path_parent(out, "/pub");
  CHECK_STR(out, "/");
  ftps_path_parent(out, "/pub/hello.txt");
  CHECK_STR(out, "/pub");
  ftps_path_parent(out, "/a/b/c");
  CHECK_STR(out, "/a/b");
}

int main(void) {
  test_resolve();
  test_errors();
  test_base_parent();
  return testlib_finish();
}
