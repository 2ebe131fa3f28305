/* check_site.h - the checker's working directory on a live server (used by
 * check.c only): <home>/ftpsfuzz-check-<hex>/{pub/hello.txt,upload/}. */
#ifndef CHECK_SITE_H
#define CHECK_SITE_H

#include <stdbool.h>
#include <stddef.h>

#include "check.h"

typedef struct check_site {
  const char *host, *port, *user, *pass;
  runner_options opt;          /* every connection's (check_conn_runner_options) */
  bool plain_ok;               /* the policy allows a plaintext login */
  bool auth_ssl;               /* log in with AUTH SSL (AUTH TLS refused) */
  bool tls;                    /* set up over TLS (else plaintext) */
  char base[CHECK_BASE_MAX];   /* absolute path, "" until set up */
  char names[CHECK_NAMES_MAX][256]; /* server-chosen names seen (STOU) */
  size_t n_names;
} check_site;

/* check_site_setup logs in (TLS first; plaintext if |plain_ok|), creates
 * |dirname| in the home and pub/, upload/ in it, uploads pub/hello.txt, and
 * sets |base| from the server's PWD - only if that PWD ends in /|dirname|.
 * Returns 0, -1 (with |note|), or -2 when the target cannot be reached. */
int check_site_setup(check_site *s, const char *dirname, char *note, size_t note_len);
/* check_site_restore uploads <base>/pub/hello.txt again. 0 or -1. */
int check_site_restore(const check_site *s);
/* check_site_note_names remembers the names in "FILE: name" replies. */
void check_site_note_names(check_site *s, const transcript *got);
/* check_site_cleanup deletes what the checker may have made and the
 * directory itself. 0 when "RMD <base>" succeeded, else -1. */
int check_site_cleanup(check_site *s);

#endif
