/* check_site.c - the checker's working directory on the live server:
 * create it (with /pub/hello.txt and /upload/), restore the fixture after a
 * sequence renamed or deleted it, and remove it at the end. Everything goes
 * through runner_run_tcp with generated scripts; the server's own PWD says
 * where the login's home is. */
#include "check_site.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"
#include "transcript_event.h"

static const char *const files[] = {"/pub/hello.txt",  "/pub/renamed.txt",    "/pub/missing.txt",
                                    "/upload/new.txt", "/upload/missing.txt", "/upload/x"};
static const char *const dirs[] = {"/upload/dir", "/upload/missing"};

static bool step_is(const transcript_step *st, transcript_kind k, const char *w) {
  size_t n = strlen(w);
  return st->kind == k && st->len >= n && !memcmp(st->data, w, n);
}

static bool has_event(const transcript *t, transcript_event_kind kind) {
  for (size_t i = 0; i < t->n; i++)
    if (transcript_event_is(&t->steps[i], kind))
      return true;
  return false;
}

/* parse_257 copies the quoted path of a 257 reply (RFC 959 appendix II:
 * embedded quotes are doubled) into |out|. Returns 0 or -1. */
static int parse_257(const uint8_t *p, size_t n, char *out, size_t out_len) {
  const uint8_t *q = memchr(p, '"', n);
  size_t o = 0;
  if (!q)
    return -1;
  for (size_t i = (size_t)(q - p) + 1; i < n; i++) {
    if (p[i] == '"') {
      if (i + 1 < n && p[i + 1] == '"') {
        i++;
      } else {
        if (o == 0)
          return -1;
        out[o] = 0;
        return 0;
      }
    }
    if (p[i] < 0x20 || p[i] == 0x7f || o + 1 >= out_len)
      return -1;
    out[o++] = (char)p[i];
  }
  return -1;
}

static int add(transcript *t, transcript_kind k, const char *s) {
  return transcript_add(t, k, s, strlen(s));
}

/* login_prefix: AUTH TLS + handshake (if |tls|), USER, PASS. */
static int login_prefix(transcript *t, const check_site *s) {
  if (s->tls && !s->opt.implicit_tls &&
      (add(t, TRANSCRIPT_C, s->auth_ssl ? "AUTH SSL" : "AUTH TLS") ||
       add(t, TRANSCRIPT_T, "handshake")))
    return -1;
  if (transcript_addf(t, TRANSCRIPT_C, "USER %s", s->user) ||
      transcript_addf(t, TRANSCRIPT_C, "PASS %s", s->pass))
    return -1;
  return 0;
}

static int upload_hello(transcript *t, const check_site *s, const char *path) {
  if (s->tls && (add(t, TRANSCRIPT_C, "PBSZ 0") || add(t, TRANSCRIPT_C, "PROT P")))
    return -1;
  if (add(t, TRANSCRIPT_C, "TYPE I") || add(t, TRANSCRIPT_C, "PASV") ||
      add(t, TRANSCRIPT_D, "open") || transcript_addf(t, TRANSCRIPT_C, "STOR %s", path) ||
      add(t, TRANSCRIPT_D, "send hello\n") || add(t, TRANSCRIPT_D, "close"))
    return -1;
  return 0;
}

static int play(const check_site *s, const transcript *script, transcript *got) {
  runner_options opt = s->opt;
  opt.script_name = "check-site";
  return runner_run_tcp(s->host, s->port, script, &opt, got, NULL);
}

static bool got_226(const transcript *t) {
  for (size_t i = 0; i < t->n; i++)
    if (step_is(&t->steps[i], TRANSCRIPT_S, "226") || step_is(&t->steps[i], TRANSCRIPT_S, "250"))
      return true;
  return false;
}

int check_site_setup(check_site *s, const char *dirname, char *note, size_t note_len) {
  int rc = -1;
  for (int attempt = 0; attempt < 2; attempt++) {
    transcript script, got;
    transcript_init(&script);
    transcript_init(&got);
    s->tls = attempt == 0;
    if (!s->tls && !s->plain_ok) {
      transcript_cleanup(&script);
      transcript_cleanup(&got);
      break;
    }
    if (login_prefix(&script, s) || add(&script, TRANSCRIPT_C, "PWD") ||
        transcript_addf(&script, TRANSCRIPT_C, "MKD %s", dirname) ||
        transcript_addf(&script, TRANSCRIPT_C, "CWD %s", dirname) ||
        add(&script, TRANSCRIPT_C, "MKD pub") || add(&script, TRANSCRIPT_C, "MKD upload") ||
        add(&script, TRANSCRIPT_C, "PWD") || upload_hello(&script, s, "pub/hello.txt") ||
        add(&script, TRANSCRIPT_C, "QUIT")) {
      transcript_cleanup(&script);
      transcript_cleanup(&got);
      return -1;
    }
    int r = play(s, &script, &got);
    if (r == RUNNER_ERR_CONNECT) {
      snprintf(note, note_len, "cannot connect to %s port %s", s->host, s->port);
      transcript_cleanup(&script);
      transcript_cleanup(&got);
      return -2;
    }
    if (s->tls && !has_event(&got, TRANSCRIPT_EV_HANDSHAKE_OK)) {
      snprintf(note, note_len, "setup: the TLS handshake on the control connection failed");
      transcript_cleanup(&script);
      transcript_cleanup(&got);
      continue;
    }
    /* The last 257 answers the PWD after CWD into the new directory. */
    char path[CHECK_BASE_MAX];
    path[0] = 0;
    for (size_t i = 0; i < got.n; i++)
      if (step_is(&got.steps[i], TRANSCRIPT_S, "257 ") &&
          parse_257(got.steps[i].data, got.steps[i].len, path, sizeof(path)) != 0)
        path[0] = 0;
    size_t pl = strlen(path), dl = strlen(dirname);
    /* Never trust a PWD that does not end in the directory just made: the
     * checker would otherwise write into (and later delete from) the home. */
    if (pl <= dl || path[pl - dl - 1] != '/' || strcmp(path + pl - dl, dirname) != 0) {
      snprintf(note, note_len,
               "setup: could not create and enter %s in the login's home (PWD said \"%s\")",
               dirname, path);
      transcript_cleanup(&script);
      transcript_cleanup(&got);
      break;
    }
    snprintf(s->base, sizeof(s->base), "%s", path);
    if (!got_226(&got))
      snprintf(note, note_len, "setup: the upload of %s/pub/hello.txt was not confirmed", s->base);
    transcript_cleanup(&script);
    transcript_cleanup(&got);
    rc = 0;
    break;
  }
  return rc;
}

int check_site_restore(const check_site *s) {
  transcript script, got;
  char path[CHECK_BASE_MAX + 32];
  int rc = -1;
  transcript_init(&script);
  transcript_init(&got);
  snprintf(path, sizeof(path), "%s/pub/hello.txt", s->base);
  if (!s->base[0] || login_prefix(&script, s) || upload_hello(&script, s, path) ||
      add(&script, TRANSCRIPT_C, "QUIT"))
    goto out;
  rc = play(s, &script, &got) < 0 ? -1 : 0;
out:
  transcript_cleanup(&script);
  transcript_cleanup(&got);
  return rc;
}

/* rmd_base_ok: the reply just before the 221 (to "RMD <base>") is 250. */
static bool rmd_base_ok(const transcript *got) {
  const transcript_step *prev = NULL;
  for (size_t i = 0; i < got->n; i++) {
    const transcript_step *st = &got->steps[i];
    if (st->kind != TRANSCRIPT_S)
      continue;
    if (step_is(st, TRANSCRIPT_S, "221"))
      return prev && step_is(prev, TRANSCRIPT_S, "250");
    prev = st;
  }
  return false;
}

static bool name_ok(const char *n, size_t len) {
  if (!len || len > 255 || (len == 1 && n[0] == '.') || (len == 2 && !memcmp(n, "..", 2)))
    return false;
  for (size_t i = 0; i < len; i++)
    if ((uint8_t)n[i] < 0x21 || (uint8_t)n[i] == 0x7f || n[i] == '/')
      return false;
  return true;
}

void check_site_note_names(check_site *s, const transcript *got) {
  /* "150 FILE: name" (RFC 1123 4.1.2.9 for STOU) */
  for (size_t i = 0; i < got->n; i++) {
    const transcript_step *st = &got->steps[i];
    if (st->kind != TRANSCRIPT_S)
      continue;
    const uint8_t *f = memmem(st->data, st->len, "FILE: ", 6);
    if (!f)
      continue;
    const char *n = (const char *)f + 6;
    size_t len = 0;
    while ((size_t)((const uint8_t *)n - st->data) + len < st->len && n[len] != ' ' &&
           n[len] != '\r')
      len++;
    if (!name_ok(n, len) || s->n_names >= CHECK_NAMES_MAX)
      continue;
    bool dup = false;
    for (size_t k = 0; k < s->n_names; k++)
      dup = dup || (strlen(s->names[k]) == len && !memcmp(s->names[k], n, len));
    if (!dup) {
      memcpy(s->names[s->n_names], n, len);
      s->names[s->n_names][len] = 0;
      s->n_names++;
    }
  }
}

/* list_names adds to |s| the last word of each line of a STAT listing. */
static void list_names(check_site *s, const transcript *got) {
  for (size_t i = 0; i < got->n; i++) {
    const transcript_step *st = &got->steps[i];
    if (st->kind != TRANSCRIPT_S || st->len < 10 || st->data[0] == '2')
      continue; /* "211-..." headers and the last line start with the code */
    const char *p = (const char *)st->data;
    size_t end = st->len, start = end;
    while (start > 0 && p[start - 1] != ' ')
      start--;
    if (p[0] != '-' && p[0] != ' ' && (st->data[0] | 0x20) != 'd' && p[0] != 'l')
      continue; /* not an ls -l line */
    if (name_ok(p + start, end - start) && s->n_names < CHECK_NAMES_MAX) {
      memcpy(s->names[s->n_names], p + start, end - start);
      s->names[s->n_names][end - start] = 0;
      s->n_names++;
    }
  }
}

static int cleanup_script(const check_site *s, transcript *t) {
  if (login_prefix(t, s))
    return -1;
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
    if (transcript_addf(t, TRANSCRIPT_C, "DELE %s%s", s->base, files[i]))
      return -1;
  for (size_t i = 0; i < s->n_names; i++)
    if (transcript_addf(t, TRANSCRIPT_C, "DELE %s/upload/%s", s->base, s->names[i]) ||
        transcript_addf(t, TRANSCRIPT_C, "DELE %s/pub/%s", s->base, s->names[i]) ||
        transcript_addf(t, TRANSCRIPT_C, "DELE %s/%s", s->base, s->names[i]) ||
        transcript_addf(t, TRANSCRIPT_C, "RMD %s/upload/%s", s->base, s->names[i]))
      return -1;
  for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
    if (transcript_addf(t, TRANSCRIPT_C, "RMD %s%s", s->base, dirs[i]))
      return -1;
  if (transcript_addf(t, TRANSCRIPT_C, "RMD %s/pub", s->base) ||
      transcript_addf(t, TRANSCRIPT_C, "RMD %s/upload", s->base) ||
      transcript_addf(t, TRANSCRIPT_C, "RMD %s", s->base) || add(t, TRANSCRIPT_C, "QUIT"))
    return -1;
  return 0;
}

int check_site_cleanup(check_site *s) {
  if (!s->base[0])
    return 0;
  for (int attempt = 0; attempt < 2; attempt++) {
    transcript script, got;
    transcript_init(&script);
    transcript_init(&got);
    int ok = -1;
    if (cleanup_script(s, &script) == 0 && play(s, &script, &got) >= 0 && rmd_base_ok(&got))
      ok = 0;
    transcript_cleanup(&script);
    transcript_cleanup(&got);
    if (ok == 0)
      return 0;
    if (attempt == 1)
      break;
    /* Something unknown is left: ask the server for listings on the
     * control connection (STAT <dir>, RFC 959) and delete what it names. */
    transcript_init(&script);
    transcript_init(&got);
    if (login_prefix(&script, s) == 0 &&
        transcript_addf(&script, TRANSCRIPT_C, "STAT %s/upload", s->base) == 0 &&
        transcript_addf(&script, TRANSCRIPT_C, "STAT %s/pub", s->base) == 0 &&
        transcript_addf(&script, TRANSCRIPT_C, "STAT %s", s->base) == 0 &&
        add(&script, TRANSCRIPT_C, "QUIT") == 0 && play(s, &script, &got) >= 0)
      list_names(s, &got);
    transcript_cleanup(&script);
    transcript_cleanup(&got);
  }
  return -1;
}
