/* learn_alphabet.c - see learn_alphabet.h. */
#include "learn_alphabet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transcript.h"

#define CORE (LEARN_ALPHA_CORE | LEARN_ALPHA_SECURITY | LEARN_ALPHA_FULL)
#define SEC (LEARN_ALPHA_SECURITY | LEARN_ALPHA_FULL)
#define FULL LEARN_ALPHA_FULL

/* Table order is the order of the learned machine's inputs. */
static const learn_alpha_input inputs[] = {
    {"AUTH_TLS", MODEL_EV_AUTH_TLS, CORE, "AUTH TLS"},
    {"HANDSHAKE", MODEL_EV_COUNT, CORE, "the client's TLS handshake on the control connection"},
    {"USER_OK", MODEL_EV_USER, CORE, "USER with the account's name"},
    {"PASS_OK", MODEL_EV_PASS, CORE, "PASS with the account's password"},
    {"PBSZ_0", MODEL_EV_PBSZ, CORE, "PBSZ 0"},
    {"PROT_P", MODEL_EV_PROT_P, CORE, "PROT P"},
    {"PASV", MODEL_EV_PASV, CORE, "PASV, then open the offered data connection"},
    {"LIST", MODEL_EV_LIST, CORE, "LIST (over the open data connection, if any)"},
    {"AUTH_SSL", MODEL_EV_AUTH_SSL, SEC, "AUTH SSL"},
    {"AUTH_TLS_PIPELINED", MODEL_EV_AUTH_TLS, SEC,
     "AUTH TLS and NOOP in one write (NOOP is the start of the TLS stream)"},
    {"CLOSE_NOTIFY", MODEL_EV_TLS_CLOSE_NOTIFY, SEC, "the client's close_notify (ends control TLS)"},
    {"PASS_BAD", MODEL_EV_PASS, SEC, "PASS with a wrong password"},
    {"PROT_C", MODEL_EV_PROT_C, SEC, "PROT C"},
    {"PROT_X", MODEL_EV_PROT_OTHER, SEC, "PROT X (no such level)"},
    {"CCC", MODEL_EV_CCC, SEC, "CCC"},
    {"REIN", MODEL_EV_REIN, SEC, "REIN"},
    {"RETR", MODEL_EV_RETR, SEC, "RETR of the fixture file"},
    {"PASV_DATA_TLS", MODEL_EV_PASV, SEC,
     "PASV, then open the data connection and start TLS on it whatever PROT said (which "
     "level does the server really use?)"},
    {"PASV_DATA_CLEAR", MODEL_EV_PASV, SEC,
     "PASV, then open the data connection and write clear bytes on it, never TLS, whatever "
     "PROT said (a failed data handshake under PROT P)"},
    {"USER_UNKNOWN", MODEL_EV_USER, FULL, "USER with a name no account has"},
    {"EPSV", MODEL_EV_EPSV, FULL, "EPSV, then open the offered data connection"},
    {"STOR", MODEL_EV_STOR, FULL, "STOR of a small file (send, then close the data connection)"},
    {"RNFR", MODEL_EV_RNFR, FULL, "RNFR of the fixture file"},
    {"REST", MODEL_EV_REST, FULL, "REST 0"},
    {"NOOP", MODEL_EV_NOOP, FULL, "NOOP"},
    {"QUIT", MODEL_EV_QUIT, FULL, "QUIT"},
};

#define N_INPUTS (sizeof(inputs) / sizeof(inputs[0]))
_Static_assert(N_INPUTS <= LEARN_ALPHA_MAX, "LEARN_ALPHA_MAX too small");

const learn_alpha_input *learn_alpha_inputs(size_t *out_n) {
  *out_n = N_INPUTS;
  return inputs;
}

int learn_alpha_find(const char *name) {
  for (size_t i = 0; i < N_INPUTS; i++)
    if (!strcmp(inputs[i].name, name))
      return (int)i;
  return -1;
}

static void known_names(char *buf, size_t len) {
  size_t used = 0;
  buf[0] = 0;
  for (size_t i = 0; i < N_INPUTS && used < len; i++) {
    int w = snprintf(buf + used, len - used, "%s%s", i ? " " : "", inputs[i].name);
    if (w < 0)
      break;
    used += (size_t)w;
  }
}

static int add(learn_alphabet *a, unsigned idx) {
  for (size_t i = 0; i < a->n; i++)
    if (a->idx[i] == idx)
      return -1;
  a->idx[a->n++] = idx;
  return 0;
}

/* from_file reads names one per line; '#' comments and blanks ignored. */
static int from_file(learn_alphabet *a, const char *path, char *err, size_t err_len) {
  uint8_t *text = NULL;
  size_t len = 0;
  if (transcript_read_file(path, &text, &len, err, err_len) != 0)
    return -1;
  int rc = -1;
  unsigned line = 0;
  char known[512];
  for (size_t pos = 0; pos < len;) {
    size_t end = pos;
    while (end < len && text[end] != '\n')
      end++;
    line++;
    size_t b = pos, e = end;
    while (b < e && (text[b] == ' ' || text[b] == '\t'))
      b++;
    while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r'))
      e--;
    pos = end + 1;
    if (b == e || text[b] == '#')
      continue;
    char name[64];
    if (e - b >= sizeof(name)) {
      snprintf(err, err_len, "%s:%u: line too long for an input name", path, line);
      goto out;
    }
    memcpy(name, text + b, e - b);
    name[e - b] = 0;
    int i = learn_alpha_find(name);
    if (i < 0) {
      known_names(known, sizeof(known));
      snprintf(err, err_len, "%s:%u: unknown input '%s' (known: %s)", path, line, name, known);
      goto out;
    }
    if (add(a, (unsigned)i) != 0) {
      snprintf(err, err_len, "%s:%u: input '%s' named twice", path, line, name);
      goto out;
    }
  }
  if (a->n == 0) {
    snprintf(err, err_len, "%s: names no input", path);
    goto out;
  }
  rc = 0;
out:
  free(text);
  return rc;
}

int learn_alphabet_select(learn_alphabet *out, const char *spec, char *err, size_t err_len) {
  memset(out, 0, sizeof(*out));
  unsigned set = 0;
  if (!strcmp(spec, "core"))
    set = LEARN_ALPHA_CORE;
  else if (!strcmp(spec, "security"))
    set = LEARN_ALPHA_SECURITY;
  else if (!strcmp(spec, "full"))
    set = LEARN_ALPHA_FULL;
  const char *slash = strrchr(spec, '/');
  snprintf(out->label, sizeof(out->label), "%s", slash ? slash + 1 : spec);
  if (set == 0)
    return from_file(out, spec, err, err_len);
  for (size_t i = 0; i < N_INPUTS; i++)
    if (inputs[i].sets & set)
      out->idx[out->n++] = (unsigned)i;
  return 0;
}
