/* bench_harnesses.c - execs/s of every fuzz harness over its seed corpus,
 * measured side by side by this one binary in one run, on one core.
 *
 * Each harness file is compiled in with its entry points renamed
 * (bench/CMakeLists.txt), so what runs is exactly what libFuzzer and AFL++
 * run, minus the engine and its instrumentation. Build with the release
 * preset (no sanitizers). Every harness replays its own seeds
 * (corpus/seeds/<harness>/) round-robin for the measurement time, each line
 * in a child process of its own (harnesses set process-wide state in their
 * initialisation, as they do in their own binaries); lines:
 *   fuzz_session/plain   seeds without the TLS flag     goal >= 50,000/s
 *   fuzz_session/tls     seeds that shake hands first
 *   fuzz_sequence/plain  seeds without a T: step        goal >= 20,000/s
 *   fuzz_sequence/all    every seed (TLS on control and data connections,
 *                        resumed TLS 1.2 handshakes: fuzz_fast_tls)
 *                                                       goal >= 20,000/s
 *   fuzz_sequence/fullhs the same with FTPSFUZZ_FULL_HANDSHAKES=1: a full
 *                        TLS 1.3 handshake each time (the "before")
 *   and one line for each other harness over all of its seeds.
 * usage: bench_harnesses CORPUS_DIR [seconds per line, default 2] [LABEL...]
 * (with LABELs, only the lines whose label starts with one of them). */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "transcript.h"

#define ENTRY(h)                                                   \
  int bench_##h##_one(const uint8_t *data, size_t size);           \
  int bench_##h##_init(int *argc, char ***argv) __attribute__((weak));
ENTRY(cmdline)
ENTRY(session)
ENTRY(transcript)
ENTRY(sequence)
ENTRY(tls_server)
ENTRY(tls_mitm)
ENTRY(data_tls)
#undef ENTRY

/* Inputs larger than this are skipped (a seed is never near it). */
#define INPUT_MAX (1u << 20)
#define INPUTS_MAX 4096u

typedef struct input {
  uint8_t *data;
  size_t len;
} input;

typedef struct inputs {
  input v[INPUTS_MAX];
  size_t n;
} inputs;

typedef bool (*input_filter)(const input *in);

typedef struct harness {
  const char *label, *dir;
  int (*init)(int *, char ***);
  int (*one)(const uint8_t *, size_t);
  input_filter keep;
  double goal; /* execs/s; 0: none */
  const char *env; /* "NAME=VALUE" set before its initialisation, or NULL */
} harness;

/* CPU seconds of this process: on the shared machine a wall clock measures
 * the load of the moment (bench_tls_harness.c says by how much). */
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool session_plain(const input *in) { return in->len > 0 && !(in->data[0] & 1); }
static bool session_tls(const input *in) { return in->len > 0 && (in->data[0] & 1); }

/* A fuzz_sequence input without a T: step (no TLS anywhere). */
static bool sequence_plain(const input *in) {
  transcript t;
  char err[128];
  transcript_init(&t);
  bool ok = transcript_decode_binary(&t, in->data, in->len, err, sizeof(err)) == 0;
  for (size_t i = 0; ok && i < t.n; i++)
    if (t.steps[i].kind == TRANSCRIPT_T)
      ok = false;
  transcript_cleanup(&t);
  return ok;
}

/* selected: no |labels| at all, or |label| starts with one of them. */
static bool selected(const char *label, int n, char **labels) {
  for (int i = 0; i < n; i++)
    if (strncmp(label, labels[i], strlen(labels[i])) == 0)
      return true;
  return n <= 0;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool read_file(const char *path, input *out) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return false;
  uint8_t *buf = malloc(INPUT_MAX);
  size_t n = buf != NULL ? fread(buf, 1, INPUT_MAX, f) : 0;
  bool ok = buf != NULL && !ferror(f) && n < INPUT_MAX;
  fclose(f);
  if (!ok) {
    free(buf);
    return false;
  }
  out->data = buf;
  out->len = n;
  return true;
}

/* load reads the regular files of |dir| in name order (README* and dot
 * files skipped) that |keep| accepts. Returns the count, or -1. */
static long load(const char *dir, input_filter keep, inputs *out) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    fprintf(stderr, "bench_harnesses: %s: cannot open\n", dir);
    return -1;
  }
  char *names[INPUTS_MAX];
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < INPUTS_MAX)
    if (e->d_name[0] != '.' && strncmp(e->d_name, "README", 6) != 0 &&
        (names[n] = strdup(e->d_name)) != NULL)
      n++;
  closedir(d);
  qsort(names, n, sizeof(names[0]), cmp_names);
  out->n = 0;
  for (size_t i = 0; i < n; i++) {
    char path[4096];
    struct stat st;
    input in;
    int w = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
    free(names[i]);
    if (w < 0 || (size_t)w >= sizeof(path) || stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !read_file(path, &in))
      continue;
    if (keep != NULL && !keep(&in)) {
      free(in.data);
      continue;
    }
    out->v[out->n++] = in;
  }
  return (long)out->n;
}

static void unload(inputs *in) {
  for (size_t i = 0; i < in->n; i++)
    free(in->v[i].data);
  in->n = 0;
}

/* measure replays |in| round-robin for |seconds| (after one warm-up pass)
 * and returns execs per second. */
static double measure(const harness *h, const inputs *in, double seconds) {
  for (size_t i = 0; i < in->n; i++)
    h->one(in->v[i].data, in->v[i].len);
  unsigned long long execs = 0;
  size_t next = 0;
  double t0 = now_s(), t;
  do {
    for (int k = 0; k < 8; k++, execs++) {
      h->one(in->v[next].data, in->v[next].len);
      next = next + 1 == in->n ? 0 : next + 1;
    }
    t = now_s();
  } while (t - t0 < seconds);
  return (double)execs / (t - t0);
}

/* run_line measures one line (in a child process) and prints it. Returns 0
 * (goal met or none), 1 (missed) or 2 (no inputs or error). */
static int run_line(const harness *h, char *argv0, const char *corpus, double seconds) {
  static inputs in; /* large: not on the stack */
  int fargc = 1;
  char *fargv0[] = {argv0, NULL};
  char **fargv = fargv0;
  char dir[2048];
  if (snprintf(dir, sizeof(dir), "%s/seeds/%s", corpus, h->dir) >= (int)sizeof(dir)) {
    fprintf(stderr, "bench_harnesses: %s: path too long\n", corpus);
    return 2;
  }
  if (load(dir, h->keep, &in) <= 0) {
    printf("%-20s %7s %12s  no inputs in %s\n", h->label, "0", "-", dir);
    fflush(stdout);
    return 2;
  }
  if (h->env != NULL && putenv((char *)h->env) != 0)
    return 2;
  if (h->init != NULL)
    h->init(&fargc, &fargv);
  double r = measure(h, &in, seconds);
  char goal[64] = "";
  bool met = true;
  if (h->goal > 0) {
    met = r >= h->goal;
    snprintf(goal, sizeof(goal), ">= %.0f: %s", h->goal, met ? "met" : "MISSED");
  }
  printf("%-20s %7zu %12.0f  %s\n", h->label, in.n, r, goal);
  fflush(stdout);
  unload(&in);
  return met ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_harnesses CORPUS_DIR [seconds per line, default 2] [LABEL...]\n");
    return 2;
  }
  double seconds = argc >= 3 ? atof(argv[2]) : 2.0;
  if (seconds <= 0) {
    fprintf(stderr, "bench_harnesses: seconds must be > 0\n");
    return 2;
  }
  const harness hs[] = {
      {"fuzz_cmdline", "fuzz_cmdline", bench_cmdline_init, bench_cmdline_one, NULL, 0, NULL},
      {"fuzz_session/plain", "fuzz_session", bench_session_init, bench_session_one, session_plain,
       50000, NULL},
      {"fuzz_session/tls", "fuzz_session", bench_session_init, bench_session_one, session_tls, 0,
       NULL},
      {"fuzz_transcript", "fuzz_transcript", bench_transcript_init, bench_transcript_one, NULL, 0,
       NULL},
      {"fuzz_sequence/plain", "fuzz_sequence", bench_sequence_init, bench_sequence_one,
       sequence_plain, 20000, NULL},
      {"fuzz_sequence/all", "fuzz_sequence", bench_sequence_init, bench_sequence_one, NULL, 20000,
       NULL},
      {"fuzz_sequence/fullhs", "fuzz_sequence", bench_sequence_init, bench_sequence_one, NULL, 0,
       "FTPSFUZZ_FULL_HANDSHAKES=1"},
      {"fuzz_tls_server", "fuzz_tls_server", bench_tls_server_init, bench_tls_server_one, NULL, 0,
       NULL},
      {"fuzz_tls_mitm", "fuzz_tls_mitm", bench_tls_mitm_init, bench_tls_mitm_one, NULL, 0, NULL},
      {"fuzz_data_tls", "fuzz_data_tls", bench_data_tls_init, bench_data_tls_one, NULL, 0, NULL},
  };
  printf("execs per CPU second of each harness over its seeds, %.1f CPU s a line\n",
         seconds);
  printf("%-20s %7s %12s  %s\n", "harness", "inputs", "execs/s", "goal");
  fflush(stdout);
  int missed = 0;
  for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
    if (!selected(hs[i].label, argc - 3, argv + 3))
      continue;
    pid_t pid = fork();
    if (pid < 0) {
      perror("bench_harnesses: fork");
      return 2;
    }
    if (pid == 0)
      _exit(run_line(&hs[i], argv[0], argv[1], seconds));
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) > 1) {
      printf("%-20s %7s %12s  failed\n", hs[i].label, "-", "-");
      missed++;
      continue;
    }
    missed += WEXITSTATUS(status);
  }
  return missed ? 1 : 0;
}
