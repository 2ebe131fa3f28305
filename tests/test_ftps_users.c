/* test_ftps_users.c - the user store, the users-file loader and the
 * `ftpsfuzz passwd` subcommand end to end. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ftps_err.h"
#include "ftps_users.h"
#include "testlib.h"

static char tmpdir[64];

/* tmp_path returns tmpdir/name in one of 4 rotating static buffers: copy
 * it to keep it. */
static const char *tmp_path(const char *name) {
  static char buf[4][128];
  static int i;
  i = (i + 1) % 4;
  snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
  return buf[i];
}

static void write_text(const char *path, const char *text, size_t len) {
  FILE *fp = fopen(path, "wb");
  CHECK(fp != NULL);
  if (fp == NULL)
    return;
  CHECK_EQ_INT(fwrite(text, 1, len, fp), len);
  fclose(fp);
}

/* read_text reads at most |cap| - 1 bytes of |path| and NUL-terminates. */
static size_t read_text(const char *path, char *buf, size_t cap) {
  FILE *fp = fopen(path, "rb");
  size_t n = 0;
  buf[0] = '\0';
  if (fp == NULL)
    return 0;
  n = fread(buf, 1, cap - 1, fp);
  buf[n] = '\0';
  fclose(fp);
  return n;
}

static bool check_pw(const ftps_users *u, const char *name, const char *pw) {
  return ftps_users_check(u, name, pw, strlen(pw));
}

static void test_names(void) {
  CHECK(ftps_users_name_valid("alice"));
  CHECK(ftps_users_name_valid("a"));
  CHECK(ftps_users_name_valid("A.b_c@d-e9"));
  CHECK(ftps_users_name_valid("0123456789012345678901234567890123456789012345678901234567890123"));
  CHECK(!ftps_users_name_valid("01234567890123456789012345678901234567890123456789012345678901234"));
  CHECK(!ftps_users_name_valid(""));
  CHECK(!ftps_users_name_valid(NULL));
  CHECK(!ftps_users_name_valid("a:b"));
  CHECK(!ftps_users_name_valid("a b"));
  CHECK(!ftps_users_name_valid("a/b"));
  CHECK(!ftps_users_name_valid("caf\xc3\xa9"));
  CHECK(!ftps_users_name_valid("a\n"));
}

static void test_add_check(void) {
  ftps_users *u = ftps_users_new();
  CHECK(u != NULL);
  CHECK(!ftps_users_exists(u, "alice"));
  CHECK(!check_pw(u, "alice", "")); /* empty store: nobody */
  CHECK_EQ_INT(ftps_users_add(u, "alice", "wonderland", 10, FTPS_USERS_TEST_ITERATIONS), 0);
  CHECK(ftps_users_exists(u, "alice"));
  CHECK(!ftps_users_exists(u, "Alice"));
  CHECK(!ftps_users_exists(u, "bob"));
  CHECK(check_pw(u, "alice", "wonderland"));
  CHECK(!check_pw(u, "alice", "Wonderland"));
  CHECK(!check_pw(u, "alice", "wonderlan"));
  CHECK(!check_pw(u, "alice", "wonderland "));
  CHECK(!check_pw(u, "alice", ""));
  CHECK(!check_pw(u, "Alice", "wonderland"));
  CHECK(!check_pw(u, "bob", "wonderland"));
  CHECK(!check_pw(u, "", "wonderland"));
  CHECK(!check_pw(u, "a:b", "wonderland"));
  CHECK(!ftps_users_check(u, NULL, "wonderland", 10));
  CHECK(!ftps_users_check(u, "alice", NULL, 10));
  CHECK(!ftps_users_check(NULL, "alice", "wonderland", 10));

  /* Passwords are bytes: NUL, ':' and newlines included; the length counts. */
  static const char odd[] = {'p', 0, ':', '\n', '\xff', 'q'};
  CHECK_EQ_INT(ftps_users_add(u, "bob", odd, sizeof(odd), 3), 0);
  CHECK(ftps_users_check(u, "bob", odd, sizeof(odd)));
  CHECK(!ftps_users_check(u, "bob", odd, 1));
  CHECK(!ftps_users_check(u, "bob", odd, sizeof(odd) - 1));
  CHECK(check_pw(u, "alice", "wonderland")); /* alice unaffected */

  /* Replace: only the new password works. */
  CHECK_EQ_INT(ftps_users_add(u, "alice", "looking-glass", 13, 2), 0);
  CHECK(!check_pw(u, "alice", "wonderland"));
  CHECK(check_pw(u, "alice", "looking-glass"));
  CHECK(ftps_users_check(u, "bob", odd, sizeof(odd)));
  /* Empty passwords are stored and checked like any other. */
  CHECK_EQ_INT(ftps_users_add(u, "carol", "", 0, 1), 0);
  CHECK(check_pw(u, "carol", ""));
  CHECK(!check_pw(u, "carol", "x"));

  /* Refused: bad names, bad iteration counts. Nothing changes. */
  CHECK_EQ_INT(ftps_users_add(u, "a:b", "pw", 2, 1), FTPS_ERR_INVAL);
  CHECK_EQ_INT(ftps_users_add(u, "", "pw", 2, 1), FTPS_ERR_INVAL);
  CHECK_EQ_INT(ftps_users_add(u, "dave", "pw", 2, 0), FTPS_ERR_INVAL);
  CHECK_EQ_INT(ftps_users_add(u, "dave", "pw", 2, FTPS_USERS_MAX_ITERATIONS + 1), FTPS_ERR_INVAL);
  CHECK_EQ_INT(ftps_users_add(u, "dave", NULL, 2, 1), FTPS_ERR_INVAL);
  CHECK(!ftps_users_exists(u, "a:b"));
  CHECK(!ftps_users_exists(u, "dave"));
  ftps_users_free(u);
  ftps_users_free(NULL);
}

static void test_user_cap(void) {
  ftps_users *u = ftps_users_new();
  char name[16];
  int failures = 0;
  for (int i = 0; i < FTPS_USERS_MAX; i++) {
    snprintf(name, sizeof(name), "u%d", i);
    failures += ftps_users_add(u, name, "x", 1, 1) != 0;
  }
  CHECK_EQ_INT(failures, 0);
  CHECK_EQ_INT(ftps_users_add(u, "one-more", "x", 1, 1), FTPS_ERR_LIMIT);
  CHECK(!ftps_users_exists(u, "one-more"));
  CHECK_EQ_INT(ftps_users_add(u, "u7", "y", 1, 1), 0); /* replacing still works */
  CHECK(check_pw(u, "u7", "y"));
  ftps_users_free(u);
}

static void test_format_and_load(void) {
  char line[256], other[256], err[512], file[2048];
  CHECK_EQ_INT(ftps_users_format_entry(line, sizeof(line), "alice", "wonderland", 10, 1), 0);
  /* name:pbkdf2-sha256:1:<32 hex>:<64 hex>\n */
  CHECK_EQ_INT(strlen(line), strlen("alice:pbkdf2-sha256:1:") + 32 + 1 + 64 + 1);
  CHECK(strncmp(line, "alice:pbkdf2-sha256:1:", 22) == 0);
  CHECK(line[22 + 32] == ':');
  CHECK(line[strlen(line) - 1] == '\n');
  CHECK(strstr(line, "wonderland") == NULL);
  /* A fresh salt each time. */
  CHECK_EQ_INT(ftps_users_format_entry(other, sizeof(other), "alice", "wonderland", 10, 1), 0);
  CHECK(strcmp(line, other) != 0);
  CHECK_EQ_INT(ftps_users_format_entry(other, sizeof(other), "bob", "b\0b", 3, 7), 0);

  CHECK_EQ_INT(ftps_users_format_entry(err, sizeof(err), "a:b", "pw", 2, 1), FTPS_ERR_INVAL);
  CHECK_EQ_INT(ftps_users_format_entry(err, sizeof(err), "al ice", "pw", 2, 1), FTPS_ERR_INVAL);
  CHECK_EQ_INT(ftps_users_format_entry(err, sizeof(err), "alice", "pw", 2, 0), FTPS_ERR_INVAL);
  CHECK_EQ_INT(ftps_users_format_entry(err, 50, "alice", "pw", 2, 1), FTPS_ERR_LIMIT);
  CHECK_STR(err, "");

  /* Round trip, with comments, blank lines and a CRLF line. */
  int n = snprintf(file, sizeof(file), "# users\n\n   \n  # indented comment\n%s%.*s\r\n", line,
                   (int)strlen(other) - 1, other);
  write_text(tmp_path("good"), file, (size_t)n);
  ftps_users *u = ftps_users_new();
  CHECK_EQ_INT(ftps_users_add(u, "alice", "old", 3, 1), 0);
  CHECK_EQ_INT(ftps_users_add(u, "zed", "zzz", 3, 1), 0);
  CHECK_EQ_INT(ftps_users_load(u, tmp_path("good"), err, sizeof(err)), 0);
  CHECK_STR(err, "");
  CHECK(check_pw(u, "alice", "wonderland")); /* replaced by the file */
  CHECK(!check_pw(u, "alice", "old"));
  CHECK(ftps_users_check(u, "bob", "b\0b", 3));
  CHECK(!ftps_users_check(u, "bob", "b", 1));
  CHECK(check_pw(u, "zed", "zzz")); /* kept */
  ftps_users_free(u);

  /* Empty file: fine, no users. A missing file: FTPS_ERR_IO naming it. */
  write_text(tmp_path("empty"), "", 0);
  u = ftps_users_new();
  CHECK_EQ_INT(ftps_users_load(u, tmp_path("empty"), err, sizeof(err)), 0);
  CHECK(!ftps_users_exists(u, "alice"));
  CHECK_EQ_INT(ftps_users_load(u, tmp_path("missing"), err, sizeof(err)), FTPS_ERR_IO);
  CHECK(strncmp(err, tmp_path("missing"), strlen(tmp_path("missing"))) == 0);
  CHECK(strstr(err, "cannot open") != NULL);
  /* A NULL error buffer is allowed. */
  CHECK_EQ_INT(ftps_users_load(u, tmp_path("missing"), NULL, 0), FTPS_ERR_IO);
  ftps_users_free(u);
}

typedef struct bad_case {
  const char *line; /* the third line of the file */
  const char *expect; /* a phrase the message must hold */
} bad_case;

#define SALT "00112233445566778899aabbccddeeff"
#define HASH "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"

static void test_bad_lines(void) {
  static const bad_case cases[] = {
      {"alice:pbkdf2-sha256:1:" SALT, "5 fields"},
      {"alice:pbkdf2-sha256:1:" SALT ":" HASH ":extra", "5 fields"},
      {"alice", "5 fields"},
      {"a:b:pbkdf2-sha256:1:" SALT ":" HASH, "5 fields"},
      {":pbkdf2-sha256:1:" SALT ":" HASH, "user name"},
      {"al ice:pbkdf2-sha256:1:" SALT ":" HASH, "user name"},
      {" alice:pbkdf2-sha256:1:" SALT ":" HASH, "user name"},
      {"0123456789012345678901234567890123456789012345678901234567890123x:pbkdf2-sha256:1:" SALT
       ":" HASH,
       "user name"},
      {"alice:pbkdf2-sha1:1:" SALT ":" HASH, "scheme"},
      {"alice:PBKDF2-SHA256:1:" SALT ":" HASH, "scheme"},
      {"alice:pbkdf2-sha256:0:" SALT ":" HASH, "iterations"},
      {"alice:pbkdf2-sha256::" SALT ":" HASH, "iterations"},
      {"alice:pbkdf2-sha256:-1:" SALT ":" HASH, "iterations"},
      {"alice:pbkdf2-sha256:+1:" SALT ":" HASH, "iterations"},
      {"alice:pbkdf2-sha256: 1:" SALT ":" HASH, "iterations"},
      {"alice:pbkdf2-sha256:10000001:" SALT ":" HASH, "iterations"},
      {"alice:pbkdf2-sha256:99999999999999999999:" SALT ":" HASH, "iterations"},
      {"alice:pbkdf2-sha256:1:0011:" HASH, "salt"},
      {"alice:pbkdf2-sha256:1:" SALT "00:" HASH, "salt"},
      {"alice:pbkdf2-sha256:1:0011223344556677889900aabbccddeg:" HASH, "salt"},
      {"alice:pbkdf2-sha256:1:" SALT ":" SALT, "hash"},
      {"alice:pbkdf2-sha256:1:" SALT ":" HASH "0", "hash"},
      {"alice:pbkdf2-sha256:1:" SALT ":" HASH " ", "hash"},
      {"alice:pbkdf2-sha256:1:" SALT ":zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
       "hash"},
  };
  char good[256], file[2048], err[512], want[256];
  CHECK_EQ_INT(ftps_users_format_entry(good, sizeof(good), "bob", "builder", 7, 1), 0);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    /* A good user on line 2: a failed load must not add it. */
    int n = snprintf(file, sizeof(file), "# c\n%s%s\n# after\n", good, cases[i].line);
    write_text(tmp_path("bad"), file, (size_t)n);
    ftps_users *u = ftps_users_new();
    CHECK_EQ_INT(ftps_users_load(u, tmp_path("bad"), err, sizeof(err)), FTPS_ERR_INVAL);
    snprintf(want, sizeof(want), "%s:3: expected ", tmp_path("bad"));
    if (strncmp(err, want, strlen(want)) != 0 || strstr(err, cases[i].expect) == NULL)
      fprintf(stderr, "case %zu: line '%s' gave '%s'\n", i, cases[i].line, err);
    CHECK(strncmp(err, want, strlen(want)) == 0);
    CHECK(strstr(err, cases[i].expect) != NULL);
    CHECK(!ftps_users_exists(u, "bob"));
    CHECK(!ftps_users_exists(u, "alice"));
    ftps_users_free(u);
  }

  /* Duplicates, NUL bytes and over-long lines, each on line 2. */
  int n = snprintf(file, sizeof(file), "%s%s", good, good);
  write_text(tmp_path("dup"), file, (size_t)n);
  ftps_users *u = ftps_users_new();
  CHECK_EQ_INT(ftps_users_load(u, tmp_path("dup"), err, sizeof(err)), FTPS_ERR_INVAL);
  snprintf(want, sizeof(want), "%s:2: expected each user once", tmp_path("dup"));
  CHECK(strncmp(err, want, strlen(want)) == 0);

  static const char nul[] = "# ok\nbob\0:x\n";
  write_text(tmp_path("nul"), nul, sizeof(nul) - 1);
  CHECK_EQ_INT(ftps_users_load(u, tmp_path("nul"), err, sizeof(err)), FTPS_ERR_INVAL);
  snprintf(want, sizeof(want), "%s:2: expected text", tmp_path("nul"));
  CHECK(strncmp(err, want, strlen(want)) == 0);

  n = snprintf(file, sizeof(file), "# ok\n#%0600d\n", 0);
  write_text(tmp_path("long"), file, (size_t)n);
  CHECK_EQ_INT(ftps_users_load(u, tmp_path("long"), err, sizeof(err)), FTPS_ERR_INVAL);
  snprintf(want, sizeof(want), "%s:2: expected a line of at most 512 bytes", tmp_path("long"));
  CHECK_STR(err, want);
  CHECK(!ftps_users_exists(u, "bob"));

  /* A truncated error buffer is still a terminated string. */
  char small[8];
  CHECK_EQ_INT(ftps_users_load(u, tmp_path("long"), small, sizeof(small)), FTPS_ERR_INVAL);
  CHECK_EQ_INT(strlen(small), sizeof(small) - 1);
  ftps_users_free(u);
}

/* run_passwd runs `$FTPSFUZZ passwd ARGS` with |input| on standard input and
 * its standard error in tmpdir/stderr; returns the exit status. */
static int run_passwd(const char *args, const void *input, size_t input_len) {
  const char *exe = getenv("FTPSFUZZ");
  char cmd[1024];
  if (exe == NULL)
    return -1;
  snprintf(cmd, sizeof(cmd), "'%s' passwd %s 2>'%s'", exe, args, tmp_path("stderr"));
  FILE *p = popen(cmd, "w");
  if (p == NULL)
    return -1;
  if (input_len != 0)
    fwrite(input, 1, input_len, p);
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int file_mode(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    return -1;
  return (int)(st.st_mode & 07777);
}

static int count_entries(const char *path) {
  char buf[4096];
  read_text(path, buf, sizeof(buf));
  int n = 0;
  for (char *p = buf; (p = strstr(p, ":pbkdf2-sha256:")) != NULL; p++)
    n++;
  return n;
}

static bool no_temp_files(void) {
  DIR *d = opendir(tmpdir);
  struct dirent *e;
  bool clean = true;
  if (d == NULL)
    return false;
  while ((e = readdir(d)) != NULL)
    if (strstr(e->d_name, "tmp") != NULL)
      clean = false;
  closedir(d);
  return clean;
}

static bool load_check(const char *path, const char *name, const void *pw, size_t pw_len) {
  char err[512];
  ftps_users *u = ftps_users_new();
  bool ok = ftps_users_load(u, path, err, sizeof(err)) == 0 &&
            ftps_users_check(u, name, pw, pw_len);
  ftps_users_free(u);
  return ok;
}

static void test_passwd_command(void) {
  char args[512], before[4096], after[4096], msg[1024];
  char users[128];
  snprintf(users, sizeof(users), "%s", tmp_path("users"));
  CHECK(getenv("FTPSFUZZ") != NULL);

  /* Create: mode 0600, loadable, the password works. */
  snprintf(args, sizeof(args), "--file '%s' --iterations 2 alice", users);
  CHECK_EQ_INT(run_passwd(args, "open sesame\n", 12), 0);
  CHECK_EQ_INT(file_mode(users), 0600);
  CHECK_EQ_INT(count_entries(users), 1);
  CHECK(load_check(users, "alice", "open sesame", 11));
  CHECK(!load_check(users, "alice", "open sesame\n", 12));
  read_text(users, before, sizeof(before));
  CHECK(strncmp(before, "alice:pbkdf2-sha256:2:", 22) == 0);
  CHECK(strstr(before, "sesame") == NULL);

  /* Add a second user (no final newline on input), then a comment by hand. */
  snprintf(args, sizeof(args), "--iterations 1 --file '%s' bob", users);
  CHECK_EQ_INT(run_passwd(args, "b\0b", 3), 0);
  CHECK(load_check(users, "bob", "b\0b", 3));
  CHECK(load_check(users, "alice", "open sesame", 11));
  CHECK_EQ_INT(count_entries(users), 2);
  read_text(users, before, sizeof(before));
  size_t blen = strlen(before);
  FILE *fp = fopen(users, "ab");
  CHECK(fp != NULL);
  if (fp != NULL) {
    fputs("# keep me\n", fp);
    fclose(fp);
  }

  /* Replace alice: only her line changes; bob's line and the comment stay. */
  snprintf(args, sizeof(args), "--file '%s' --iterations 1 alice", users);
  CHECK_EQ_INT(run_passwd(args, "new pw\nignored second line\n", 27), 0);
  CHECK(load_check(users, "alice", "new pw", 6));
  CHECK(!load_check(users, "alice", "open sesame", 11));
  CHECK(load_check(users, "bob", "b\0b", 3));
  CHECK_EQ_INT(count_entries(users), 2);
  read_text(users, after, sizeof(after));
  const char *bob_before = strstr(before, "\nbob:");
  const char *bob_after = strstr(after, "\nbob:");
  CHECK(bob_before != NULL && bob_after != NULL);
  if (bob_before != NULL && bob_after != NULL)
    CHECK_MEM(bob_after, strlen(bob_after) - strlen("# keep me\n"), bob_before,
              (size_t)(before + blen - bob_before));
  CHECK(strncmp(after, "alice:pbkdf2-sha256:1:", 22) == 0); /* in place, first */
  CHECK(strstr(after, "# keep me\n") != NULL);
  CHECK_EQ_INT(file_mode(users), 0600);
  read_text(tmp_path("stderr"), msg, sizeof(msg));
  CHECK(strstr(msg, "replaced") != NULL);

  /* An existing file keeps its mode. */
  CHECK_EQ_INT(chmod(users, 0640), 0);
  CHECK_EQ_INT(run_passwd(args, "x\n", 2), 0);
  CHECK_EQ_INT(file_mode(users), 0640);
  CHECK(load_check(users, "alice", "x", 1));

  /* Refusals leave the file byte-identical. */
  read_text(users, before, sizeof(before));
  CHECK_EQ_INT(run_passwd(args, "\nsecond\n", 8), 2); /* empty first line */
  read_text(tmp_path("stderr"), msg, sizeof(msg));
  CHECK(strstr(msg, "non-empty password") != NULL);
  CHECK_EQ_INT(run_passwd(args, "", 0), 2); /* no input */
  snprintf(args, sizeof(args), "--file '%s' 'a:b'", users);
  CHECK_EQ_INT(run_passwd(args, "pw\n", 3), 2);
  snprintf(args, sizeof(args), "--file '%s' --iterations 0 carol", users);
  CHECK_EQ_INT(run_passwd(args, "pw\n", 3), 2);
  snprintf(args, sizeof(args), "--file '%s' carol dave", users);
  CHECK_EQ_INT(run_passwd(args, "pw\n", 3), 2);
  CHECK_EQ_INT(run_passwd("carol", "pw\n", 3), 2); /* no --file */
  snprintf(args, sizeof(args), "--file '%s'", users);
  CHECK_EQ_INT(run_passwd(args, "pw\n", 3), 2); /* no USER */
  read_text(users, after, sizeof(after));
  CHECK_STR(after, before);

  /* A users file the server would not load is not rewritten. */
  char broken[128];
  snprintf(broken, sizeof(broken), "%s", tmp_path("broken"));
  write_text(broken, "# fine\nnot a users line\n", 24);
  snprintf(args, sizeof(args), "--file '%s' --iterations 1 carol", broken);
  CHECK_EQ_INT(run_passwd(args, "pw\n", 3), 2);
  read_text(tmp_path("stderr"), msg, sizeof(msg));
  char want[256];
  snprintf(want, sizeof(want), "%s:2: expected", broken);
  CHECK(strstr(msg, want) != NULL);
  read_text(broken, after, sizeof(after));
  CHECK_STR(after, "# fine\nnot a users line\n");

  /* A file without a final newline gets one before the new line. */
  char nonl[128];
  snprintf(nonl, sizeof(nonl), "%s", tmp_path("nonl"));
  write_text(nonl, "# no newline", 12);
  snprintf(args, sizeof(args), "--file '%s' --iterations 1 carol", nonl);
  CHECK_EQ_INT(run_passwd(args, "pw\n", 3), 0);
  read_text(nonl, after, sizeof(after));
  CHECK(strncmp(after, "# no newline\ncarol:pbkdf2-sha256:1:", 35) == 0);
  CHECK(load_check(nonl, "carol", "pw", 2));

  CHECK(no_temp_files());
  unlink(users);
  unlink(broken);
  unlink(nonl);
}

static void remove_tmpdir(void) {
  static const char *names[] = {"good", "empty", "bad", "dup", "nul", "long", "stderr"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    unlink(tmp_path(names[i]));
  if (rmdir(tmpdir) != 0)
    fprintf(stderr, "warning: %s not removed\n", tmpdir);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN); /* a refusing child may exit before reading stdin */
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_ftps_users.XXXXXX");
  if (mkdtemp(tmpdir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  test_names();
  test_add_check();
  test_user_cap();
  test_format_and_load();
  test_bad_lines();
  test_passwd_command();
  remove_tmpdir();
  return testlib_finish();
}
