/* ftps_users.h - the user store: names and salted, slow password hashes.
 *
 * Passwords are kept only as PBKDF2-HMAC-SHA256(password, 16-byte random
 * salt, iterations); checks compare in constant time (CRYPTO_memcmp) and do
 * the same work for unknown users, so timing tells nothing about which names
 * exist. No function logs or returns a password.
 *
 * Users file: one entry per line, '#' comments and blank lines ignored:
 *   name:pbkdf2-sha256:<iterations>:<salt hex>:<hash hex>
 * Names are 1..64 bytes of [A-Za-z0-9._@-]. */
#ifndef FTPS_USERS_H
#define FTPS_USERS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ftps_users ftps_users;

/* Iterations for entries created for people (ftpsfuzz passwd, --users files). */
#define FTPS_USERS_DEFAULT_ITERATIONS 100000
/* Iterations of the built-in test configuration: cheap on purpose, so a
 * fuzzer can log in thousands of times a second. Never for real users. */
#define FTPS_USERS_TEST_ITERATIONS 1

/* Caps: users per store, iterations per entry (a users file cannot make a
 * login take minutes), and the length of a users-file line. */
#define FTPS_USERS_MAX 10000
#define FTPS_USERS_MAX_ITERATIONS 10000000u
#define FTPS_USERS_MAX_LINE 512

/* ftps_users_name_valid reports whether |name| is 1..64 bytes of
 * [A-Za-z0-9._@-]. */
bool ftps_users_name_valid(const char *name);

ftps_users *ftps_users_new(void);
void ftps_users_free(ftps_users *u); /* accepts NULL */

/* ftps_users_add adds or replaces |name| with |password| (|pw_len| bytes),
 * hashed with a fresh random salt and |iterations| (>= 1). Returns 0,
 * FTPS_ERR_INVAL for a bad name or iteration count, FTPS_ERR_LIMIT when the
 * store already holds FTPS_USERS_MAX users, or FTPS_ERR_NOMEM. */
int ftps_users_add(ftps_users *u, const char *name, const char *password, size_t pw_len,
                   unsigned iterations);

/* ftps_users_exists reports whether |name| is a user (not constant time; used
 * only after a successful check or for configuration). */
bool ftps_users_exists(const ftps_users *u, const char *name);

/* ftps_users_check reports whether |password| is |name|'s password. Takes the
 * same time whether or not |name| exists. */
bool ftps_users_check(const ftps_users *u, const char *name, const char *password, size_t pw_len);

/* ftps_users_load reads a users file into |u| (entries are added). On a bad
 * line returns FTPS_ERR_INVAL and writes "FILE:LINE: what was expected" into
 * |err| (|err_len| bytes); FTPS_ERR_IO when the file cannot be read. */
int ftps_users_load(ftps_users *u, const char *path, char *err, size_t err_len);

/* ftps_users_format_entry writes one users-file line (with '\n') for |name|
 * and |password| into |out| (|out_len| bytes, 256 is enough). Returns 0,
 * FTPS_ERR_INVAL or FTPS_ERR_LIMIT. */
int ftps_users_format_entry(char *out, size_t out_len, const char *name, const char *password,
                            size_t pw_len, unsigned iterations);

#endif
