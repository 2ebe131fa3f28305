/* campaign_sig.c - see campaign_sig.h. */
#include "campaign_sig.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FRAMES_MAX 3
#define LOG_LINES_MAX 20000 /* lines of a log searched for the first stack */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static uint64_t fnv(uint64_t h, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ull;
  }
  return h;
}

/* canon hashes |s| (|n| bytes) without what changes from input to input of
 * one bug: 0x addresses and numbers, except a free-standing three-digit
 * number (a reply code). */
static uint64_t canon(uint64_t h, const char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (s[i] == '0' && i + 1 < n && s[i + 1] == 'x') {
      i += 2;
      while (i < n && is_hex(s[i]))
        i++;
      continue;
    }
    if (is_digit(s[i])) {
      size_t j = i;
      while (j < n && is_digit(s[j]))
        j++;
      bool code = j - i == 3 && (i == 0 || !is_alnum(s[i - 1])) && (j == n || !is_alnum(s[j]));
      if (code)
        h = fnv(h, s + i, 3);
      i = j;
      continue;
    }
    h = fnv(h, s + i, 1);
    i++;
  }
  return h;
}

/* word copies the [A-Za-z0-9_-] run at |p| into |out|. */
static void word(const char *p, char *out, size_t len) {
  size_t k = 0;
  while ((is_alnum(*p) || *p == '-') && k + 1 < len)
    out[k++] = *p++;
  out[k] = '\0';
}

void campaign_sig_kind(const char *line, char *out, size_t out_len) {
  char w[96];
  const char *p;
  if (!strncmp(line, "FINDING ", 8) || !strncmp(line, "VIOLATION ", 10)) {
    bool fin = line[0] == 'F';
    word(line + (fin ? 8 : 10), w, sizeof(w));
    snprintf(out, out_len, "%s:%s", fin ? "FINDING" : "VIOLATION", w);
  } else if ((p = strstr(line, "ERROR: AddressSanitizer: ")) != NULL) {
    word(p + 25, w, sizeof(w));
    snprintf(out, out_len, "asan:%s", w);
  } else if (strstr(line, "LeakSanitizer") != NULL) {
    snprintf(out, out_len, "leak");
  } else if (strstr(line, "runtime error:") != NULL) {
    snprintf(out, out_len, "ubsan");
  } else if (!strncmp(line, "hang:", 5) || strstr(line, "ALARM: working on") != NULL ||
             strstr(line, "libFuzzer: timeout") != NULL) {
    snprintf(out, out_len, "hang");
  } else if (strstr(line, "out-of-memory") != NULL) {
    snprintf(out, out_len, "oom");
  } else if (!strcmp(line, "does not reproduce alone")) {
    snprintf(out, out_len, "unreproducible");
  } else {
    snprintf(out, out_len, "other");
  }
}

/* runtime_frame says whether a function belongs to the sanitizers, libFuzzer
 * or libc's abort path rather than to the code under test. */
static bool runtime_frame(const char *fn) {
  static const char *const prefixes[] = {"__asan", "__sanitizer", "__ubsan", "__interceptor",
                                         "__lsan", "fuzzer::", "__libc", "__GI_", "abort",
                                         "raise", "__pthread", "pthread_kill", "gsignal"};
  for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
    if (!strncmp(fn, prefixes[i], strlen(prefixes[i])))
      return true;
  return false;
}

/* frames hashes the first FRAMES_MAX frames of the first stack trace in
 * |log| ("    #3 0x55d4c0 in fn file:line") that are not runtime frames. */
static uint64_t frames(uint64_t h, const char *log) {
  FILE *f = log != NULL ? fopen(log, "r") : NULL;
  char line[1024];
  int taken = 0, lines = 0;
  bool in_stack = false;
  if (f == NULL)
    return h;
  while (taken < FRAMES_MAX && lines++ < LOG_LINES_MAX && fgets(line, sizeof(line), f) != NULL) {
    const char *p = line;
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p != '#' || !is_digit(p[1])) {
      if (in_stack)
        break; /* the first stack ended */
      continue;
    }
    in_stack = true;
    const char *in = strstr(p, " in ");
    if (in == NULL)
      continue;
    in += 4;
    size_t n = strcspn(in, " \n");
    char fn[256];
    snprintf(fn, sizeof(fn), "%.*s", (int)(n < sizeof(fn) ? n : sizeof(fn) - 1), in);
    if (runtime_frame(fn))
      continue;
    h = fnv(h, fn, strlen(fn));
    h = fnv(h, "\n", 1);
    taken++;
  }
  fclose(f);
  return h;
}

void campaign_sig_of(const char *harness, const char *line, const char *log,
                     char out[CAMPAIGN_SIG_MAX]) {
  char kind[128];
  uint64_t h = 14695981039346656037ull;
  campaign_sig_kind(line, kind, sizeof(kind));
  h = fnv(h, kind, strlen(kind));
  h = fnv(h, "\n", 1);
  if (!strncmp(kind, "FINDING:", 8) || !strncmp(kind, "VIOLATION:", 10)) {
    /* the why: after "INV:" or "INV step N:", up to the oracle's state */
    const char *why = strchr(line, ':');
    why = why != NULL ? why + 1 : line;
    const char *end = strstr(why, " (state:");
    h = canon(h, why, end != NULL ? (size_t)(end - why) : strlen(why));
  } else {
    if (!strcmp(kind, "ubsan") || !strcmp(kind, "other")) {
      const char *msg = strstr(line, "runtime error:");
      h = canon(h, msg != NULL ? msg : line, strlen(msg != NULL ? msg : line));
    }
    h = frames(h, log);
  }
  snprintf(out, CAMPAIGN_SIG_MAX, "%s/%s/%016llx", harness, kind, (unsigned long long)h);
}

int campaign_sig_load(const char *dir, campaign_strs *out) {
  char path[CAMPAIGN_PATH_MAX], line[CAMPAIGN_SIG_MAX + 128];
  if (campaign_path(path, sizeof(path), "%s/%s", dir, CAMPAIGN_SIG_FILE) != 0)
    return -1;
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return campaign_is_file(path) ? -1 : 0;
  int rc = 0;
  while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
    size_t n = strcspn(line, " \t\r\n");
    if (n == 0 || line[0] == '#')
      continue;
    line[n] = '\0';
    if (!campaign_strs_has(out, line))
      rc = campaign_strs_push(out, line);
  }
  fclose(f);
  return rc;
}

int campaign_sig_add(const char *dir, const char *sig, const char *name) {
  char path[CAMPAIGN_PATH_MAX];
  if (campaign_path(path, sizeof(path), "%s/%s", dir, CAMPAIGN_SIG_FILE) != 0)
    return -1;
  FILE *f = fopen(path, "a");
  if (f == NULL) {
    fprintf(stderr, "ftpsfuzz fuzz: cannot write %s\n", path);
    return -1;
  }
  fprintf(f, "%s %s\n", sig, name);
  return fclose(f) == 0 ? 0 : -1;
}
