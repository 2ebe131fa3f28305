/* replay_main.c - a standalone main for libFuzzer-style harnesses, so ctest
 * replays corpora with gcc and no fuzzing engine (FTPS_FUZZ_ENGINE=none).
 *
 * usage: HARNESS [-flag=value ...] PATH...
 * Runs LLVMFuzzerInitialize (if the harness defines it) once, then
 * LLVMFuzzerTestOneInput on every file named, directories recursively with
 * entries in byte order (dot files and README/README.md skipped). Arguments
 * starting with '-' are libFuzzer flags and are ignored, so the same command
 * line works for both builds.
 *
 * A finding is a crash: the harness aborts and this process dies with it.
 * The name of the input being run is printed to stderr before it runs when
 * FTPS_REPLAY_VERBOSE is set, and by a SIGABRT handler / sanitizer death
 * callback when the run dies, so a ctest log always names the culprit.
 * At the end it prints "replayed N inputs". Exit status: 0 all inputs ran,
 * 1 some path could not be read (one line each on stderr) or no input was
 * found, 2 usage. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

/* Inputs larger than this are refused (bounds memory on a stray file). */
#define REPLAY_FILE_MAX (64u << 20)
/* Directory nesting followed (a symlink loop cannot recurse forever). */
#define REPLAY_DEPTH_MAX 32

typedef struct replay_stats {
  size_t ran;
  size_t failed;
  bool verbose;
} replay_stats;

/* The input being run, for the crash handlers: a fixed buffer, written
 * before each run, read with write(2) only. */
static char current_path[4096];
static size_t current_len;

static void say_current(void) {
  static const char pre[] = "replay: died while running ";
  if (current_len == 0)
    return;
  (void)!write(STDERR_FILENO, pre, sizeof(pre) - 1);
  (void)!write(STDERR_FILENO, current_path, current_len);
  (void)!write(STDERR_FILENO, "\n", 1);
}

static void on_abort(int sig) {
  say_current();
  signal(sig, SIG_DFL);
  raise(sig);
}

static int read_input(const char *path, uint8_t **out, size_t *out_len) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  int rc = -1;
  struct stat st;
  if (f == NULL) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return -1;
  }
  if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > REPLAY_FILE_MAX) {
    fprintf(stderr, "replay: %s: cannot size the file or larger than %u bytes\n", path,
            REPLAY_FILE_MAX);
    goto out;
  }
  size_t len = (size_t)st.st_size;
  /* Exactly |len| bytes (1 for an empty file), so ASan sees an over-read. */
  buf = malloc(len ? len : 1);
  if (buf == NULL) {
    fprintf(stderr, "replay: %s: out of memory\n", path);
    goto out;
  }
  if (len && fread(buf, 1, len, f) != len) {
    fprintf(stderr, "replay: %s: short read\n", path);
    goto out;
  }
  *out = buf;
  *out_len = len;
  buf = NULL;
  rc = 0;
out:
  free(buf);
  fclose(f);
  return rc;
}

static void run_file(replay_stats *rs, const char *path) {
  uint8_t *data = NULL;
  size_t len = 0;
  if (read_input(path, &data, &len) != 0) {
    rs->failed++;
    return;
  }
  size_t n = strlen(path);
  if (n >= sizeof(current_path))
    n = sizeof(current_path) - 1;
  memcpy(current_path, path, n);
  current_len = n;
  if (rs->verbose)
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
  LLVMFuzzerTestOneInput(data, len);
  current_len = 0;
  free(data);
  rs->ran++;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool skipped_name(const char *name) {
  return name[0] == '.' || strcmp(name, "README") == 0 || strcmp(name, "README.md") == 0;
}

static void run_path(replay_stats *rs, const char *path, int depth);

static void run_dir(replay_stats *rs, const char *path, int depth) {
  DIR *d = opendir(path);
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  if (d == NULL) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    rs->failed++;
    return;
  }
  while ((de = readdir(d)) != NULL) {
    if (skipped_name(de->d_name))
      continue;
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      char **nn = realloc(names, ncap * sizeof(*nn));
      if (nn == NULL)
        goto nomem;
      names = nn;
      cap = ncap;
    }
    size_t len = strlen(path) + 1 + strlen(de->d_name) + 1;
    names[n] = malloc(len);
    if (names[n] == NULL)
      goto nomem;
    snprintf(names[n], len, "%s/%s", path, de->d_name);
    n++;
  }
  closedir(d);
  d = NULL;
  if (n > 0)
    qsort(names, n, sizeof(*names), cmp_names);
  for (size_t i = 0; i < n; i++)
    run_path(rs, names[i], depth + 1);
  goto out;
nomem:
  fprintf(stderr, "replay: %s: out of memory listing the directory\n", path);
  rs->failed++;
out:
  if (d != NULL)
    closedir(d);
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

static void run_path(replay_stats *rs, const char *path, int depth) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    rs->failed++;
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    if (depth >= REPLAY_DEPTH_MAX) {
      fprintf(stderr, "replay: %s: nested deeper than %d directories\n", path,
              REPLAY_DEPTH_MAX);
      rs->failed++;
      return;
    }
    run_dir(rs, path, depth);
  } else if (S_ISREG(st.st_mode)) {
    run_file(rs, path);
  }
}

int main(int argc, char **argv) {
  replay_stats rs = {0, 0, getenv("FTPS_REPLAY_VERBOSE") != NULL};
  int npaths = 0;
  for (int i = 1; i < argc; i++)
    if (argv[i][0] != '-')
      npaths++;
  if (npaths == 0) {
    fprintf(stderr,
            "usage: %s [-flag=value ...] FILE|DIR...\n"
            "Replays each input through the harness (no fuzzing engine). Set\n"
            "FTPS_REPLAY_VERBOSE=1 to print each file name before it runs.\n",
            argc > 0 ? argv[0] : "replay");
    return 2;
  }
  signal(SIGABRT, on_abort);
  if (__sanitizer_set_death_callback != NULL)
    __sanitizer_set_death_callback(say_current);
  if (LLVMFuzzerInitialize != NULL)
    LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc; i++)
    if (argv[i][0] != '-')
      run_path(&rs, argv[i], 0);
  printf("replayed %zu inputs\n", rs.ran);
  if (rs.failed > 0) {
    fprintf(stderr, "replay: %zu paths could not be read\n", rs.failed);
    return 1;
  }
  if (rs.ran == 0) {
    fprintf(stderr, "replay: no inputs found\n");
    return 1;
  }
  return 0;
}
