/* learn_alphabet.h - the abstract input alphabet of `ftpsfuzz learn` (data).
 *
 * Each input is a name (what the learned machine's edges say), the model
 * event it stands for (so a learned transition can be read with the model's
 * words, e.g. in Promela) and the alphabets it belongs to. What an input
 * sends on the wire is the mapper's business (driver/learn_ftps.c, one row
 * per name here; a test keeps the two tables in step).
 *
 * Alphabets: "core" (the AUTH TLS / login / PROT P / data path, 8 inputs,
 * enough to learn the upgrade), "security" (core plus what the security
 * invariants are about: AUTH SSL, pipelining behind AUTH, close_notify, a
 * wrong password, PROT C/X, CCC, REIN, RETR), "full" (every input), or a
 * file naming inputs one per line ('#' comments and blank lines ignored). */
#ifndef LEARN_ALPHABET_H
#define LEARN_ALPHABET_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

enum {
  LEARN_ALPHA_CORE = 1u << 0,
  LEARN_ALPHA_SECURITY = 1u << 1,
  LEARN_ALPHA_FULL = 1u << 2,
};

/* Most inputs an alphabet holds (every input once). */
#define LEARN_ALPHA_MAX 32u

typedef struct learn_alpha_input {
  const char *name;    /* "AUTH_TLS", "USER_OK", ... */
  model_event event;   /* the model event it is (MODEL_EV_COUNT: a TLS step) */
  unsigned sets;       /* LEARN_ALPHA_* it belongs to */
  const char *what;    /* one line for --help and the report */
} learn_alpha_input;

/* learn_alpha_inputs returns the table and its size. */
const learn_alpha_input *learn_alpha_inputs(size_t *out_n);

/* learn_alpha_find returns the index of |name| in the table, or -1. */
int learn_alpha_find(const char *name);

/* An alphabet: indices into the table, in table order for the named sets,
 * in file order for a file. */
typedef struct learn_alphabet {
  size_t n;
  unsigned idx[LEARN_ALPHA_MAX];
  char label[64];      /* "core", "security", "full" or the file's name */
} learn_alphabet;

/* learn_alphabet_select fills |*out| from |spec|: "core", "security",
 * "full", or the path of a file of names. Returns 0, or -1 with "why" in
 * |err| (an unknown name is "FILE:LINE: unknown input 'X' (known: ...)", a
 * duplicate or an empty file is refused). */
int learn_alphabet_select(learn_alphabet *out, const char *spec, char *err, size_t err_len);

#endif
