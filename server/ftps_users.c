/* ftps_users.c - the user store (see ftps_users.h).
 *
 * Timing: every check costs the store's largest iteration count, whatever
 * the name. A known user is hashed with its own salt and iterations, then,
 * if those are fewer than the largest, a dummy hash runs the difference; an
 * unknown user is hashed once with a fixed dummy salt and the largest count.
 * The name scan visits every entry without stopping early. */
#include "ftps_alloc.h"
#include "ftps_users.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/digest.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/rand.h>

#include "ftps_err.h"

#define NAME_MAX_LEN 64
#define SALT_LEN 16
#define HASH_LEN 32
#define SCHEME "pbkdf2-sha256"

typedef struct users_entry {
  char name[NAME_MAX_LEN + 1];
  unsigned iterations;
  uint8_t salt[SALT_LEN];
  uint8_t hash[HASH_LEN];
} users_entry;

struct ftps_users {
  users_entry *e;
  size_t n, cap;
  unsigned max_iterations; /* largest in the store, 0 when empty */
};

/* A fixed salt for the dummy work; its value does not matter. */
static const uint8_t dummy_salt[SALT_LEN] = "ftpsfuzz-dummy!";

bool ftps_users_name_valid(const char *name) {
  if (name == NULL)
    return false;
  size_t i = 0;
  for (; name[i] != '\0'; i++) {
    unsigned char c = (unsigned char)name[i];
    if (i >= NAME_MAX_LEN)
      return false;
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '_' || c == '@' || c == '-'))
      return false;
  }
  return i > 0;
}

ftps_users *ftps_users_new(void) { return ftps_calloc(1, sizeof(ftps_users)); }

void ftps_users_free(ftps_users *u) {
  if (u == NULL)
    return;
  if (u->e != NULL)
    OPENSSL_cleanse(u->e, u->cap * sizeof(*u->e));
  ftps_free(u->e);
  ftps_free(u);
}

static int pbkdf2(const char *pw, size_t pw_len, const uint8_t *salt, unsigned iterations,
                  uint8_t out[HASH_LEN]) {
  if (pw == NULL || pw_len == 0)
    pw = ""; /* never hand HMAC a NULL key */
  if (!PKCS5_PBKDF2_HMAC(pw, pw_len, salt, SALT_LEN, iterations, EVP_sha256(), HASH_LEN, out))
    return FTPS_ERR_NOMEM;
  return 0;
}

/* make_entry hashes |password| with a fresh salt. */
static int make_entry(users_entry *out, const char *name, const char *password, size_t pw_len,
                      unsigned iterations) {
  if (!ftps_users_name_valid(name) || iterations < 1 || iterations > FTPS_USERS_MAX_ITERATIONS ||
      (password == NULL && pw_len != 0))
    return FTPS_ERR_INVAL;
  memset(out, 0, sizeof(*out));
  memcpy(out->name, name, strlen(name));
  out->iterations = iterations;
  if (!RAND_bytes(out->salt, SALT_LEN))
    return FTPS_ERR_NOMEM;
  return pbkdf2(password, pw_len, out->salt, iterations, out->hash);
}

/* find scans every entry (no early exit) and returns the match or NULL. */
static users_entry *find(const ftps_users *u, const char *name) {
  users_entry *hit = NULL;
  if (name == NULL)
    return NULL;
  for (size_t i = 0; i < u->n; i++)
    if (strncmp(u->e[i].name, name, NAME_MAX_LEN + 1) == 0)
      hit = &u->e[i];
  return hit;
}

static void update_max(ftps_users *u) {
  u->max_iterations = 0;
  for (size_t i = 0; i < u->n; i++)
    if (u->e[i].iterations > u->max_iterations)
      u->max_iterations = u->e[i].iterations;
}

/* reserve makes room for |more| entries beyond the current count. */
static int reserve(ftps_users *u, size_t more) {
  if (more > FTPS_USERS_MAX - u->n)
    return FTPS_ERR_LIMIT;
  size_t need = u->n + more;
  if (need <= u->cap)
    return 0;
  size_t cap = u->cap == 0 ? 4 : u->cap;
  while (cap < need)
    cap *= 2;
  if (cap > FTPS_USERS_MAX)
    cap = FTPS_USERS_MAX;
  users_entry *e = ftps_calloc(cap, sizeof(*e));
  if (e == NULL)
    return FTPS_ERR_NOMEM;
  /* Copy rather than realloc, so the old hashes can be wiped. */
  if (u->n != 0)
    memcpy(e, u->e, u->n * sizeof(*e));
  if (u->e != NULL)
    OPENSSL_cleanse(u->e, u->cap * sizeof(*u->e));
  ftps_free(u->e);
  u->e = e;
  u->cap = cap;
  return 0;
}

/* put adds or replaces; room must have been reserved for a new name. */
static void put(ftps_users *u, const users_entry *entry) {
  users_entry *old = find(u, entry->name);
  bool was_max = old != NULL && old->iterations == u->max_iterations;
  if (old == NULL)
    old = &u->e[u->n++];
  *old = *entry;
  if (entry->iterations >= u->max_iterations)
    u->max_iterations = entry->iterations;
  else if (was_max)
    update_max(u); /* the largest may have gone down */
}

int ftps_users_add(ftps_users *u, const char *name, const char *password, size_t pw_len,
                   unsigned iterations) {
  users_entry entry;
  int rc = make_entry(&entry, name, password, pw_len, iterations);
  if (rc != 0)
    goto out;
  if (find(u, name) == NULL && (rc = reserve(u, 1)) != 0)
    goto out;
  put(u, &entry);
out:
  OPENSSL_cleanse(&entry, sizeof(entry));
  return rc;
}

bool ftps_users_exists(const ftps_users *u, const char *name) {
  return u != NULL && find(u, name) != NULL;
}

bool ftps_users_check(const ftps_users *u, const char *name, const char *password,
                      size_t pw_len) {
  uint8_t got[HASH_LEN], junk[HASH_LEN];
  bool ok = false;
  if (u == NULL || (password == NULL && pw_len != 0))
    return false;
  const users_entry *e = find(u, name);
  unsigned max = u->max_iterations != 0 ? u->max_iterations : 1;
  if (e != NULL) {
    int rc = pbkdf2(password, pw_len, e->salt, e->iterations, got);
    if (e->iterations < max)
      pbkdf2(password, pw_len, dummy_salt, max - e->iterations, junk);
    ok = rc == 0 && CRYPTO_memcmp(got, e->hash, HASH_LEN) == 0;
  } else {
    pbkdf2(password, pw_len, dummy_salt, max, got);
    /* Compare against something, as a known user would. */
    static const uint8_t nothing[HASH_LEN];
    (void)CRYPTO_memcmp(got, nothing, HASH_LEN);
  }
  OPENSSL_cleanse(got, sizeof(got));
  OPENSSL_cleanse(junk, sizeof(junk));
  return ok;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* parse_hex decodes exactly 2 * |n| hex digits. */
static bool parse_hex(const char *s, size_t len, uint8_t *out, size_t n) {
  if (len != 2 * n)
    return false;
  for (size_t i = 0; i < n; i++) {
    int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return true;
}

/* parse_line parses one entry line (|len| bytes, no newline, no NUL).
 * Returns NULL or what was expected. */
static const char *parse_line(const char *line, size_t len, users_entry *out) {
  const char *field[5];
  size_t flen[5];
  size_t nf = 0;
  const char *p = line, *end = line + len;
  memset(out, 0, sizeof(*out));
  for (;;) {
    const char *colon = memchr(p, ':', (size_t)(end - p));
    const char *fend = colon != NULL ? colon : end;
    if (nf == 5)
      return "expected name:" SCHEME ":ITERATIONS:SALT:HASH (5 fields separated by ':')";
    field[nf] = p;
    flen[nf] = (size_t)(fend - p);
    nf++;
    if (colon == NULL)
      break;
    p = colon + 1;
  }
  if (nf != 5)
    return "expected name:" SCHEME ":ITERATIONS:SALT:HASH (5 fields separated by ':')";

  if (flen[0] < 1 || flen[0] > NAME_MAX_LEN)
    return "expected a user name of 1..64 bytes of [A-Za-z0-9._@-]";
  memcpy(out->name, field[0], flen[0]);
  if (!ftps_users_name_valid(out->name))
    return "expected a user name of 1..64 bytes of [A-Za-z0-9._@-]";

  if (flen[1] != strlen(SCHEME) || memcmp(field[1], SCHEME, flen[1]) != 0)
    return "expected the scheme '" SCHEME "' in field 2";

  uint64_t it = 0;
  if (flen[2] == 0 || flen[2] > 10)
    return "expected iterations, a decimal number from 1 to 10000000, in field 3";
  for (size_t i = 0; i < flen[2]; i++) {
    char c = field[2][i];
    if (c < '0' || c > '9')
      return "expected iterations, a decimal number from 1 to 10000000, in field 3";
    it = it * 10 + (uint64_t)(c - '0');
  }
  if (it < 1 || it > FTPS_USERS_MAX_ITERATIONS)
    return "expected iterations, a decimal number from 1 to 10000000, in field 3";
  out->iterations = (unsigned)it;

  if (!parse_hex(field[3], flen[3], out->salt, SALT_LEN))
    return "expected a salt of 32 hex digits in field 4";
  if (!parse_hex(field[4], flen[4], out->hash, HASH_LEN))
    return "expected a hash of 64 hex digits in field 5";
  return NULL;
}

static bool is_blank_or_comment(const char *line, size_t len) {
  size_t i = 0;
  while (i < len && (line[i] == ' ' || line[i] == '\t'))
    i++;
  return i == len || line[i] == '#';
}

static void set_err(char *err, size_t err_len, const char *path, unsigned long lineno,
                    const char *what) {
  if (err == NULL || err_len == 0)
    return;
  if (lineno != 0)
    snprintf(err, err_len, "%s:%lu: %s", path, lineno, what);
  else
    snprintf(err, err_len, "%s: %s", path, what);
}

/* merge adds every entry of |from| to |u|, all or nothing. */
static int merge(ftps_users *u, const ftps_users *from) {
  size_t fresh = 0;
  for (size_t i = 0; i < from->n; i++)
    if (find(u, from->e[i].name) == NULL)
      fresh++;
  int rc = reserve(u, fresh);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < from->n; i++)
    put(u, &from->e[i]);
  return 0;
}

int ftps_users_load(ftps_users *u, const char *path, char *err, size_t err_len) {
  char line[FTPS_USERS_MAX_LINE + 1];
  char msg[160];
  unsigned long lineno = 0;
  users_entry entry;
  ftps_users *tmp = NULL;
  FILE *fp = NULL;
  int rc = FTPS_ERR_INVAL;

  if (err != NULL && err_len != 0)
    err[0] = '\0';
  if (u == NULL || path == NULL)
    return FTPS_ERR_INVAL;
  fp = fopen(path, "rb");
  if (fp == NULL) {
    snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
    set_err(err, err_len, path, 0, msg);
    return FTPS_ERR_IO;
  }
  tmp = ftps_users_new();
  if (tmp == NULL) {
    rc = FTPS_ERR_NOMEM;
    goto out;
  }
  for (;;) {
    size_t len = 0;
    int c;
    bool has_nul = false, eof = false;
    while ((c = getc(fp)) != EOF && c != '\n') {
      if (len == FTPS_USERS_MAX_LINE) {
        lineno++;
        set_err(err, err_len, path, lineno, "expected a line of at most 512 bytes");
        rc = FTPS_ERR_INVAL;
        goto out;
      }
      if (c == '\0')
        has_nul = true;
      line[len++] = (char)c;
    }
    if (c == EOF) {
      if (ferror(fp)) {
        snprintf(msg, sizeof(msg), "read error: %s", strerror(errno));
        set_err(err, err_len, path, 0, msg);
        rc = FTPS_ERR_IO;
        goto out;
      }
      eof = true;
      if (len == 0)
        break;
    }
    lineno++;
    line[len] = '\0';
    if (len > 0 && line[len - 1] == '\r')
      line[--len] = '\0'; /* CRLF files */
    if (has_nul) {
      set_err(err, err_len, path, lineno, "expected text, found a NUL byte");
      rc = FTPS_ERR_INVAL;
      goto out;
    }
    if (!is_blank_or_comment(line, len)) {
      const char *what = parse_line(line, len, &entry);
      if (what != NULL) {
        set_err(err, err_len, path, lineno, what);
        rc = FTPS_ERR_INVAL;
        goto out;
      }
      if (find(tmp, entry.name) != NULL) {
        snprintf(msg, sizeof(msg), "expected each user once; '%s' appears again", entry.name);
        set_err(err, err_len, path, lineno, msg);
        rc = FTPS_ERR_INVAL;
        goto out;
      }
      if ((rc = reserve(tmp, 1)) != 0) {
        set_err(err, err_len, path, lineno,
                rc == FTPS_ERR_LIMIT ? "expected at most 10000 users" : "out of memory");
        goto out;
      }
      put(tmp, &entry);
    }
    if (eof)
      break;
  }
  if ((rc = merge(u, tmp)) != 0)
    set_err(err, err_len, path, 0,
            rc == FTPS_ERR_LIMIT ? "expected at most 10000 users in all" : "out of memory");
out:
  OPENSSL_cleanse(&entry, sizeof(entry));
  ftps_users_free(tmp);
  if (fp != NULL)
    fclose(fp);
  return rc;
}

static void to_hex(char *out, const uint8_t *in, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = '\0';
}

int ftps_users_format_entry(char *out, size_t out_len, const char *name, const char *password,
                            size_t pw_len, unsigned iterations) {
  users_entry e;
  char salt_hex[2 * SALT_LEN + 1], hash_hex[2 * HASH_LEN + 1];
  if (out == NULL)
    return FTPS_ERR_INVAL;
  if (out_len != 0)
    out[0] = '\0';
  int rc = make_entry(&e, name, password, pw_len, iterations);
  if (rc != 0)
    goto out;
  to_hex(salt_hex, e.salt, SALT_LEN);
  to_hex(hash_hex, e.hash, HASH_LEN);
  int n = snprintf(out, out_len, "%s:" SCHEME ":%u:%s:%s\n", e.name, e.iterations, salt_hex,
                   hash_hex);
  if (n < 0 || (size_t)n >= out_len) {
    if (out_len != 0)
      out[0] = '\0';
    rc = FTPS_ERR_LIMIT;
  }
out:
  OPENSSL_cleanse(&e, sizeof(e));
  return rc;
}
