/* campaign_harness.c - the harness list, corpus paths and .options files
 * (see campaign_harness.h). */
#include "campaign_harness.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define LINE_MAX_LEN 1024

static bool valid_name(const char *s, size_t n) {
  if (n == 0 || n >= CAMPAIGN_NAME_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '_')
      return false;
  return true;
}

/* trim strips leading and trailing blanks in place and returns the start. */
static char *trim(char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
    s[--n] = '\0';
  return s;
}

int campaign_harness_list(const char *list_path, campaign_strs *out) {
  FILE *f = fopen(list_path, "r");
  char line[LINE_MAX_LEN];
  unsigned lineno = 0;
  int rc = -1;
  if (f == NULL) {
    fprintf(stderr, "ftpsfuzz: %s: cannot read the harness list (configure the build first)\n",
            list_path);
    return -1;
  }
  while (fgets(line, sizeof(line), f) != NULL) {
    lineno++;
    char *s = trim(line);
    if (s[0] == '\0' || s[0] == '#')
      continue;
    if (!valid_name(s, strlen(s))) {
      fprintf(stderr, "%s:%u: expected a harness name ([A-Za-z0-9_], < %d bytes)\n", list_path,
              lineno, CAMPAIGN_NAME_MAX);
      goto out;
    }
    if (!campaign_strs_has(out, s) && campaign_strs_push(out, s) != 0)
      goto out;
  }
  rc = 0;
out:
  fclose(f);
  return rc;
}

int campaign_harness_of_path(const char *path, int is_file, const campaign_strs *known,
                             char out[CAMPAIGN_NAME_MAX]) {
  size_t end = strlen(path);
  if (is_file) { /* drop the file name */
    while (end > 0 && path[end - 1] != '/')
      end--;
  }
  while (end > 0) {
    while (end > 0 && path[end - 1] == '/')
      end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
      start--;
    size_t n = end - start;
    if (n > 0 && n < CAMPAIGN_NAME_MAX) {
      char comp[CAMPAIGN_NAME_MAX];
      memcpy(comp, path + start, n);
      comp[n] = '\0';
      if (campaign_strs_has(known, comp)) {
        memcpy(out, comp, n + 1);
        return 0;
      }
    }
    end = start;
  }
  return -1;
}

int campaign_options(const char *src, const char *harness, campaign_strs *flags,
                     char dict[CAMPAIGN_PATH_MAX]) {
  char path[CAMPAIGN_PATH_MAX], line[LINE_MAX_LEN];
  unsigned lineno = 0;
  bool in_libfuzzer = false;
  dict[0] = '\0';
  if (campaign_path(path, sizeof(path), "%s/fuzz/%s.options", src, harness) != 0)
    return -1;
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return 0; /* no options: engine defaults */
  int rc = -1;
  while (fgets(line, sizeof(line), f) != NULL) {
    lineno++;
    char *s = trim(line);
    if (s[0] == '\0' || s[0] == '#' || s[0] == ';')
      continue;
    if (s[0] == '[') {
      in_libfuzzer = !strcmp(s, "[libfuzzer]");
      continue;
    }
    char *eq = strchr(s, '=');
    if (eq == NULL) {
      fprintf(stderr, "%s:%u: expected 'key = value' or '[section]'\n", path, lineno);
      goto out;
    }
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    if (!valid_name(key, strlen(key)) || value[0] == '\0') {
      fprintf(stderr, "%s:%u: expected a libFuzzer flag name and a value\n", path, lineno);
      goto out;
    }
    if (!in_libfuzzer)
      continue;
    if (!strcmp(key, "dict")) {
      if (value[0] == '/' ? campaign_path(dict, CAMPAIGN_PATH_MAX, "%s", value)
                          : campaign_path(dict, CAMPAIGN_PATH_MAX, "%s/fuzz/%s", src, value))
        goto out;
      if (!campaign_is_file(dict)) {
        fprintf(stderr, "%s:%u: dictionary %s not found\n", path, lineno, dict);
        goto out;
      }
      if (campaign_strs_pushf(flags, "-dict=%s", dict) != 0)
        goto out;
    } else if (campaign_strs_pushf(flags, "-%s=%s", key, value) != 0) {
      goto out;
    }
  }
  rc = 0;
out:
  fclose(f);
  return rc;
}
