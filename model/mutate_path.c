/* mutate_path.c - the PATH operator (mutate.h, mutate_internal.h): the
 * argument of a command that names a file or directory becomes a path of a
 * boundary length or shape, in the same directory when it had one.
 *
 * Why its own operator: a path is where a server copies client bytes into
 * buffers (the name of a rename, an upload's temporary name, a listing
 * line), and a memory error there shows only for a name longer than some
 * buffer - after a login and a RNFR the model mutator reaches, but with
 * the seeds' short names. TOKEN only swaps in dictionary words, OVERLONG
 * makes the whole line too long to be run. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mutate.h"
#include "mutate_internal.h"

/* The verbs whose argument is a path (RFC 959, 3659; the X forms of RFC 775). */
static const char *const kPathVerbs[] = {
    "RETR", "STOR", "APPE", "DELE", "RMD",  "MKD",  "CWD",  "RNFR", "RNTO", "SIZE",
    "MDTM", "MLST", "MLSD", "LIST", "NLST", "XCWD", "XMKD", "XRMD", "SMNT", "STAT",
};

/* Name lengths on both sides of the usual buffer sizes; the longest keep
 * the line under FTPS_LINE_MAX (2048) so it is still run. */
static const uint16_t kLengths[] = {1,  15,  16,  17,  31,  32,  33,  63,   64,  65,
                                    127, 128, 129, 255, 256, 257, 511, 1023, 1500};

/* Odd but legal names: a path's shape rather than its length. */
static const char *const kShapes[] = {
    "..",         "../..",           ".",            "//",           "./a/../b",
    "a b",        " lead",           "trail ",       "*",            "?[a]",
    "%s%n",       "-rf",             "caf\xc3\xa9",  "\xff\xfe",     "a\\b",
    "~",          "~root",           "...",          "a/",           "CON",
};

/* Verbs that give the server a name to create: it keeps that name (a
 * renamed file, an upload, a directory) and copies it on (replies, logs,
 * temporary names, listings), so they are picked three times as often. */
static const char *const kCreateVerbs[] = {"RNTO", "STOR", "APPE", "MKD", "XMKD"};

static unsigned weight_of(const transcript_step *st, size_t verb_len) {
  for (size_t i = 0; i < sizeof(kCreateVerbs) / sizeof(kCreateVerbs[0]); i++) {
    size_t k = 0;
    if (strlen(kCreateVerbs[i]) != verb_len)
      continue;
    while (k < verb_len && (st->data[k] & 0xdf) == (uint8_t)kCreateVerbs[i][k])
      k++;
    if (k == verb_len)
      return 3;
  }
  return 1;
}

static bool is_path_verb(const transcript_step *st, size_t *verb_len) {
  size_t n = 0;
  while (n < st->len && st->data[n] != ' ' && st->data[n] != '\r' && st->data[n] != '\n')
    n++;
  for (size_t i = 0; i < sizeof(kPathVerbs) / sizeof(kPathVerbs[0]); i++) {
    size_t vl = strlen(kPathVerbs[i]);
    if (n != vl)
      continue;
    size_t k = 0;
    while (k < vl && (st->data[k] & 0xdf) == (uint8_t)kPathVerbs[i][k])
      k++;
    if (k == vl) {
      *verb_len = n;
      return true;
    }
  }
  return false;
}

int mutate_op_path(transcript *t, gen_rng *rng) {
  size_t total = 0, vl = 0;
  for (size_t i = 0; i < t->n; i++)
    if (t->steps[i].kind == TRANSCRIPT_C && is_path_verb(&t->steps[i], &vl))
      total += weight_of(&t->steps[i], vl);
  if (total == 0)
    return MUTATE_NOT_APPLICABLE;
  size_t k = gen_rng_below(rng, total), idx = 0;
  for (size_t i = 0; i < t->n; i++) {
    if (t->steps[i].kind != TRANSCRIPT_C || !is_path_verb(&t->steps[i], &vl))
      continue;
    size_t w = weight_of(&t->steps[i], vl);
    if (k < w) {
      idx = i;
      break;
    }
    k -= w;
  }
  transcript_step *st = &t->steps[idx];
  is_path_verb(st, &vl);
  /* the argument, up to the line's end (a merged step holds more lines) */
  size_t arg = vl < st->len && st->data[vl] == ' ' ? vl + 1 : vl;
  size_t end = arg;
  while (end < st->len && st->data[end] != '\r' && st->data[end] != '\n')
    end++;
  /* keep the directory part: a rename or upload in a writable directory
   * still succeeds with the new name */
  size_t dir = end;
  while (dir > arg && st->data[dir - 1] != '/')
    dir--;
  size_t shape = gen_rng_below(rng, 4);
  uint8_t name[1600];
  size_t n = 0;
  if (shape < 2) {
    /* a long name: letters, so only its length is unusual */
    n = kLengths[gen_rng_below(rng, sizeof(kLengths) / sizeof(kLengths[0]))];
    uint8_t c = (uint8_t)('a' + gen_rng_below(rng, 26));
    for (size_t j = 0; j < n; j++)
      name[j] = (uint8_t)(c + j % 26 > 'z' ? c + j % 26 - 26 : c + j % 26);
  } else if (shape == 2) {
    const char *s = kShapes[gen_rng_below(rng, sizeof(kShapes) / sizeof(kShapes[0]))];
    n = strlen(s);
    memcpy(name, s, n);
  } else {
    /* deep: the old name under many directory levels */
    size_t depth = 1 + gen_rng_below(rng, 64), old = end - dir;
    if (old == 0 || old > 24)
      old = 0;
    for (size_t d = 0; d < depth && n + 3 + old < sizeof(name); d++) {
      memcpy(name + n, "d/", 2);
      n += 2;
    }
    memcpy(name + n, st->data + dir, old);
    n += old;
  }
  uint8_t *out = malloc(st->len - (end - dir) + n + 2);
  if (out == NULL)
    return MUTATE_ERR_NOMEM;
  size_t len = 0;
  memcpy(out, st->data, dir);
  len = dir;
  if (arg == vl) {
    /* no argument before: "LIST" becomes "LIST <name>" */
    out[len++] = ' ';
  }
  memcpy(out + len, name, n);
  len += n;
  memcpy(out + len, st->data + end, st->len - end);
  len += st->len - end;
  if (len > TRANSCRIPT_STEP_MAX) {
    free(out);
    return MUTATE_NOT_APPLICABLE;
  }
  out[len] = 0;
  free(st->data);
  st->data = out;
  st->len = len;
  return MUTATE_APPLIED;
}
