/* check_adapt.c - adapt a script written for the built-in test configuration
 * to a live server (see check.h).
 *
 * The client's writes (C: text + CRLF, R: raw bytes) are joined into one byte
 * stream and cut into lines at LF; each line is rewritten on its own; then the
 * original write boundaries are mapped onto the new stream (an offset inside
 * a line keeps its distance from the line start, clamped to the new line), so
 * a pipelined write stays one write and a split line stays split, and bytes
 * never move across a T: step (plaintext stays plaintext, TLS stays TLS). */
#include "check.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ftps_buf.h"

#define LINES_MAX 4096u
#define WRITES_MAX 4096u
#define FAKE_USER "ftpsfuzz-nobody"

/* Names inside <base> that write commands may touch (the generator's and the
 * mutator's, mapped; plus the catch-all "upload/x"). */
static const char *const allowed_rel[] = {
    "/pub/hello.txt",   "/pub/renamed.txt", "/pub/missing.txt", "/upload/new.txt",
    "/upload/missing.txt", "/upload/dir",  "/upload/missing",  "/upload/x",
};

/* Verbs that change the server's file system (or may: SITE). */
static const char *const write_verbs[] = {"STOR", "STOU", "APPE", "DELE", "RMD",  "XRMD",
                                          "MKD",  "XMKD", "RNFR", "RNTO", "SITE", "MFMT",
                                          "MFCT", "MFF",  "CHMOD"};

typedef struct line_info {
  size_t start, content_len, term_len; /* in the old stream */
  size_t new_start, new_content_len;   /* in the new stream */
  bool cwd_after, cwd_before;
  bool tls; /* the line starts after a T: handshake (and no close_notify since) */
} line_info;

typedef struct adapt_state {
  const check_adapt_ctx *c;
  ftps_buf out; /* the new stream */
  bool needs_login, touches_fixture;
  /* An AUTH line was sent in plaintext and no handshake followed yet: the
   * lines behind it belong to the TLS stream (pipelined), so a login among
   * them is no login - nothing may be written after it in plaintext. */
  bool auth_pending;
} adapt_state;

static bool ieq(const uint8_t *a, size_t n, const char *b) {
  size_t m = strlen(b);
  if (n != m)
    return false;
  for (size_t i = 0; i < n; i++) {
    uint8_t x = a[i];
    if (x >= 'a' && x <= 'z')
      x = (uint8_t)(x - 32);
    uint8_t y = (uint8_t)b[i];
    if (y >= 'a' && y <= 'z')
      y = (uint8_t)(y - 32);
    if (x != y)
      return false;
  }
  return true;
}

/* contains_word_ci: |w| (upper case) occurs in |p| ignoring case. */
static bool contains_ci(const uint8_t *p, size_t n, const char *w) {
  size_t m = strlen(w);
  for (size_t i = 0; i + m <= n; i++)
    if (ieq(p + i, m, w))
      return true;
  return false;
}

static bool is_write_verb(const uint8_t *v, size_t n) {
  for (size_t i = 0; i < sizeof(write_verbs) / sizeof(write_verbs[0]); i++)
    if (ieq(v, n, write_verbs[i]))
      return true;
  return false;
}

static bool mentions_write_verb(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < sizeof(write_verbs) / sizeof(write_verbs[0]); i++)
    if (contains_ci(p, n, write_verbs[i]))
      return true;
  return false;
}

static bool has_control(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] < 0x20 || p[i] >= 0x7f)
      return true;
  return false;
}

static int put(adapt_state *s, const void *p, size_t n) {
  return ftps_buf_append(&s->out, p, n) == 0 ? 0 : -1;
}
static int puts_(adapt_state *s, const char *p) { return put(s, p, strlen(p)); }

/* put_mapped writes |arg| with /pub and /upload path tokens moved under the
 * working directory (a token starts the argument or follows a space). */
static int put_mapped(adapt_state *s, const uint8_t *arg, size_t n) {
  const char *base = s->c->base;
  for (size_t i = 0; i < n;) {
    bool tok = i == 0 || arg[i - 1] == ' ';
    size_t pl = 0;
    if (tok && base[0]) {
      if (n - i >= 4 && !memcmp(arg + i, "/pub", 4))
        pl = 4;
      else if (n - i >= 7 && !memcmp(arg + i, "/upload", 7))
        pl = 7;
      if (pl && i + pl < n && arg[i + pl] != '/' && arg[i + pl] != ' ')
        pl = 0;
    }
    if (pl) {
      if (puts_(s, base) != 0)
        return -1;
    }
    if (put(s, arg + i, 1) != 0)
      return -1;
    i++;
  }
  return 0;
}

/* write_arg_ok: |arg| (already mapped) is one of the allowed names. */
static bool write_arg_ok(const char *base, const uint8_t *arg, size_t n) {
  size_t bl = strlen(base);
  if (!bl || n <= bl || memcmp(arg, base, bl) != 0)
    return false;
  for (size_t i = 0; i < sizeof(allowed_rel) / sizeof(allowed_rel[0]); i++)
    if (n - bl == strlen(allowed_rel[i]) && !memcmp(arg + bl, allowed_rel[i], n - bl))
      return true;
  return false;
}

static bool touches_pub(const char *base, const uint8_t *arg, size_t n) {
  size_t bl = strlen(base);
  return bl && n > bl + 4 && !memcmp(arg, base, bl) && !memcmp(arg + bl, "/pub", 4);
}

/* rewrite_port: "PORT h1,h2,h3,h4,p1,p2" with a valid host -> our address. */
static int rewrite_port(adapt_state *s, const uint8_t *arg, size_t n) {
  unsigned v[6];
  size_t k = 0, i = 0;
  struct in_addr ip;
  if (!s->c->local_ip[0] || inet_pton(AF_INET, s->c->local_ip, &ip) != 1)
    return 1;
  while (k < 6) {
    size_t d = 0;
    unsigned x = 0;
    while (i < n && arg[i] >= '0' && arg[i] <= '9' && d < 4) {
      x = x * 10 + (unsigned)(arg[i] - '0');
      i++;
      d++;
    }
    if (!d || x > 255)
      return 1;
    v[k++] = x;
    if (k < 6) {
      if (i >= n || arg[i] != ',')
        return 1;
      i++;
    }
  }
  if (i != n)
    return 1;
  const uint8_t *b = (const uint8_t *)&ip.s_addr;
  char tmp[64];
  snprintf(tmp, sizeof(tmp), "PORT %u,%u,%u,%u,%u,%u", b[0], b[1], b[2], b[3], v[4], v[5]);
  return puts_(s, tmp);
}

/* rewrite_eprt: "EPRT |p|addr|port|" with a valid address -> our address. */
static int rewrite_eprt(adapt_state *s, const uint8_t *arg, size_t n) {
  if (!s->c->local_ip[0] || n < 7 || arg[0] != '|')
    return 1;
  const uint8_t *p2 = memchr(arg + 1, '|', n - 1);
  if (!p2)
    return 1;
  const uint8_t *a = p2 + 1;
  const uint8_t *p3 = memchr(a, '|', n - (size_t)(a - arg));
  if (!p3 || (size_t)(p3 - a) >= 64)
    return 1;
  char addr[64];
  memcpy(addr, a, (size_t)(p3 - a));
  addr[p3 - a] = 0;
  uint8_t tmpbuf[16];
  if (inet_pton(AF_INET, addr, tmpbuf) != 1 && inet_pton(AF_INET6, addr, tmpbuf) != 1)
    return 1;
  const uint8_t *port = p3 + 1;
  size_t rest = n - (size_t)(port - arg);
  char head[96];
  snprintf(head, sizeof(head), "EPRT |%c|%s|", s->c->ipv6 ? '2' : '1', s->c->local_ip);
  if (puts_(s, head) != 0 || put(s, port, rest) != 0)
    return -1;
  return 0;
}

/* rewrite_line writes the adapted |p|/|n| (no terminator) to the stream.
 * Returns 0 or -1; sets the line's insertion flags. */
static int rewrite_line(adapt_state *s, const uint8_t *p, size_t n, line_info *li) {
  const check_adapt_ctx *c = s->c;
  bool have_base = c->base && c->base[0];
  size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == '\t'))
    i++;
  size_t v0 = i;
  while (i < n && ((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z')))
    i++;
  const uint8_t *verb = p + v0;
  size_t vlen = i - v0;
  size_t a0 = i;
  while (a0 < n && p[a0] == ' ')
    a0++;
  const uint8_t *arg = p + a0;
  size_t alen = n - a0;
  bool clean = !has_control(p, n);
  if (li->tls)
    s->auth_pending = false;

  /* Writes: confined to the working directory, in canonical form. */
  if (mentions_write_verb(p, n)) {
    bool verb_is_write = vlen && is_write_verb(verb, vlen) && (i == n || p[i] == ' ');
    if (!clean || !have_base) {
      if (verb_is_write || !clean)
        return puts_(s, "NOOP");
    }
    if (verb_is_write) {
      char vb[8] = {0};
      for (size_t k = 0; k < vlen && k < sizeof(vb) - 1; k++)
        vb[k] = (char)((verb[k] >= 'a' && verb[k] <= 'z') ? verb[k] - 32 : verb[k]);
      if (!strcmp(vb, "SITE"))
        return puts_(s, "SITE HELP");
      if (!strcmp(vb, "STOU")) {
        li->cwd_before = true;
        return puts_(s, "STOU");
      }
      /* map, then compare with the allowed names */
      size_t mark = s->out.len;
      if (puts_(s, vb) != 0 || puts_(s, " ") != 0)
        return -1;
      size_t amark = s->out.len;
      if (put_mapped(s, arg, alen) != 0)
        return -1;
      const uint8_t *mapped = s->out.data + amark;
      size_t mlen = s->out.len - amark;
      if (!write_arg_ok(c->base, mapped, mlen)) {
        ftps_buf_truncate(&s->out, mark);
        if (puts_(s, vb) != 0 || puts_(s, " ") != 0 || puts_(s, c->base) != 0 ||
            puts_(s, "/upload/x") != 0)
          return -1;
      } else if (touches_pub(c->base, mapped, mlen)) {
        s->touches_fixture = true;
      }
      return 0;
    }
  }
  if (vlen && v0 == 0 && ieq(verb, vlen, "AUTH") && !li->tls)
    s->auth_pending = true;
  /* A target that refuses AUTH TLS but takes AUTH SSL (check_conn) */
  if (c->auth_ssl && vlen && v0 == 0 && ieq(verb, vlen, "AUTH") && ieq(arg, alen, "TLS"))
    return puts_(s, "AUTH SSL");
  if (vlen && v0 == 0 && ieq(verb, vlen, "USER") && alen == 5 && !memcmp(arg, "alice", 5)) {
    if (puts_(s, "USER ") != 0)
      return -1;
    return puts_(s, c->user ? c->user : FAKE_USER);
  }
  if (vlen && v0 == 0 && ieq(verb, vlen, "PASS") && alen == 10 && !memcmp(arg, "wonderland", 10)) {
    /* The real password never crosses the wire in plaintext when TLS is
     * required for login: the refusal is what is being checked. */
    if (c->no_plain_secret && !li->tls)
      return puts_(s, "PASS x");
    s->needs_login = true;
    if (!c->pass)
      return puts_(s, "PASS x");
    li->cwd_after = have_base && !s->auth_pending;
    if (puts_(s, "PASS ") != 0)
      return -1;
    return puts_(s, c->pass);
  }
  if (clean && vlen && v0 == 0 && ieq(verb, vlen, "PORT") && a0 > i) {
    int r = rewrite_port(s, arg, alen);
    if (r <= 0)
      return r;
  }
  if (clean && vlen && v0 == 0 && ieq(verb, vlen, "EPRT") && a0 > i) {
    int r = rewrite_eprt(s, arg, alen);
    if (r <= 0)
      return r;
  }
  if (!have_base)
    return put(s, p, n);
  if (put(s, p, a0) != 0)
    return -1;
  return put_mapped(s, arg, alen);
}

size_t check_client_steps(const transcript *t) {
  size_t n = 0;
  for (size_t i = 0; i < t->n; i++) {
    transcript_kind k = t->steps[i].kind;
    if (k == TRANSCRIPT_C || k == TRANSCRIPT_R || k == TRANSCRIPT_T || k == TRANSCRIPT_W ||
        k == TRANSCRIPT_D)
      n++;
  }
  return n;
}

/* map_offset maps an old stream offset |p| to the new stream. */
static size_t map_offset(const line_info *lines, size_t n_lines, size_t old_len, size_t new_len,
                         size_t p) {
  if (p >= old_len)
    return new_len;
  for (size_t l = 0; l < n_lines; l++) {
    const line_info *li = &lines[l];
    size_t end = li->start + li->content_len + li->term_len;
    if (p < li->start || p >= end)
      continue;
    size_t k = p - li->start;
    if (k <= li->content_len)
      return li->new_start + (k < li->new_content_len ? k : li->new_content_len);
    return li->new_start + li->new_content_len + (k - li->content_len);
  }
  return new_len;
}

static int add_cwd(transcript *out, const char *base) {
  return transcript_addf(out, TRANSCRIPT_C, "CWD %s/upload", base) == 0 ? 0 : -1;
}

static bool is_config_line(const transcript_step *st) {
  size_t i = 0;
  if (st->kind != TRANSCRIPT_COMMENT)
    return false;
  while (i < st->len && st->data[i] == ' ')
    i++;
  return st->len - i >= 7 && !memcmp(st->data + i, "config:", 7);
}

static int adapt(const check_adapt_ctx *c, const transcript *in, transcript *out,
                 bool *out_touches) {
  int rc = -1;
  ftps_buf old;
  adapt_state s;
  line_info *lines = NULL;
  size_t *wend = NULL, *nwend = NULL; /* old/new end offset of the i-th write step */
  size_t *tls_at = NULL;               /* old offsets where TLS turns on/off, alternating */
  size_t n_tls = 0;
  bool tls_on = false;
  size_t n_lines = 0;
  memset(&s, 0, sizeof(s));
  s.c = c;
  ftps_buf_init(&old, TRANSCRIPT_FILE_MAX);
  ftps_buf_init(&s.out, TRANSCRIPT_FILE_MAX);
  lines = calloc(LINES_MAX, sizeof(*lines));
  wend = calloc(in->n + 1, sizeof(*wend));
  nwend = calloc(in->n + 1, sizeof(*nwend));
  tls_at = calloc(in->n + 1, sizeof(*tls_at));
  if (!lines || !wend || !nwend || !tls_at)
    goto out;
  /* 1. the old stream and the end offset of each write */
  for (size_t i = 0; i < in->n; i++) {
    const transcript_step *st = &in->steps[i];
    if (st->kind == TRANSCRIPT_C || st->kind == TRANSCRIPT_R) {
      if (ftps_buf_append(&old, st->data, st->len) != 0)
        goto out;
      if (st->kind == TRANSCRIPT_C && ftps_buf_append(&old, "\r\n", 2) != 0)
        goto out;
    } else if (st->kind == TRANSCRIPT_T) {
      bool hs = st->len == 9 && !memcmp(st->data, "handshake", 9);
      if (hs != tls_on) {
        tls_at[n_tls++] = old.len;
        tls_on = hs;
      }
    }
    wend[i] = old.len;
  }
  /* 2. lines, rewritten */
  const uint8_t *ob = old.data;
  size_t olen = old.len;
  for (size_t p = 0; p < olen;) {
    if (n_lines == LINES_MAX)
      goto out;
    line_info *li = &lines[n_lines++];
    const uint8_t *lf = memchr(ob + p, '\n', olen - p);
    size_t end = lf ? (size_t)(lf - ob) + 1 : olen;
    li->start = p;
    li->term_len = lf ? 1 : 0;
    if (lf && end - p >= 2 && ob[end - 2] == '\r')
      li->term_len = 2;
    li->content_len = end - p - li->term_len;
    li->new_start = s.out.len;
    for (size_t k = 0; k < n_tls && tls_at[k] <= p; k++)
      li->tls = (k % 2) == 0;
    if (rewrite_line(&s, ob + p, li->content_len, li) != 0)
      goto out;
    li->new_content_len = s.out.len - li->new_start;
    if (put(&s, ob + p + li->content_len, li->term_len) != 0)
      goto out;
    p = end;
  }
  if (s.needs_login && !c->pass) {
    rc = 1;
    goto out;
  }
  const uint8_t *nb = s.out.data;
  size_t nlen = s.out.len;
  for (size_t i = 0; i < in->n; i++)
    nwend[i] = map_offset(lines, n_lines, olen, nlen, wend[i]);
  /* 3. re-emit the steps */
  size_t prev_old = 0, prev_new = 0;
  bool have_base = c->base && c->base[0];
  for (size_t i = 0; i < in->n; i++) {
    const transcript_step *st = &in->steps[i];
    /* "# config:" lines set the in-process server the script was written
     * for; the target's policy is the one the user declared (check_write_
     * outputs writes it into every saved .fts), so they go. */
    if (st->kind == TRANSCRIPT_S || st->kind == TRANSCRIPT_E || is_config_line(st))
      continue;
    if (st->kind != TRANSCRIPT_C && st->kind != TRANSCRIPT_R) {
      if (transcript_add(out, st->kind, st->data, st->len) != 0)
        goto out;
      continue;
    }
    size_t a = prev_new, b = nwend[i] < prev_new ? prev_new : nwend[i];
    /* a CWD before a write that starts a STOU line */
    for (size_t l = 0; have_base && l < n_lines; l++)
      if (lines[l].cwd_before && lines[l].start >= prev_old && lines[l].start < wend[i] &&
          add_cwd(out, c->base) != 0)
        goto out;
    if (st->kind == TRANSCRIPT_C && b - a >= 2 && nb[b - 2] == '\r' && nb[b - 1] == '\n') {
      if (transcript_add(out, TRANSCRIPT_C, nb + a, b - a - 2) != 0)
        goto out;
    } else if (b > a) {
      if (transcript_add(out, TRANSCRIPT_R, nb + a, b - a) != 0)
        goto out;
    }
    /* a CWD after the write that completes a login line */
    for (size_t l = 0; have_base && l < n_lines; l++) {
      size_t lend = lines[l].start + lines[l].content_len + lines[l].term_len;
      if (lines[l].cwd_after && lines[l].term_len && lend > prev_old && lend <= wend[i] &&
          add_cwd(out, c->base) != 0)
        goto out;
    }
    prev_old = wend[i];
    prev_new = b;
  }
  if (out_touches)
    *out_touches = s.touches_fixture;
  rc = 0;
out:
  free(lines);
  free(wend);
  free(nwend);
  free(tls_at);
  ftps_buf_cleanup(&old);
  ftps_buf_cleanup(&s.out);
  return rc;
}

int check_adapt(const check_adapt_ctx *c, const transcript *in, transcript *out,
                bool *out_touches) {
  if (!c->implicit)
    return adapt(c, in, out, out_touches);
  /* Implicit TLS: adapted as written (the login after the AUTH counts as
   * under TLS), then played without the AUTH and its handshake. */
  if (!check_conn_implicit_keeps(in))
    return 2;
  transcript tmp;
  transcript_init(&tmp);
  int rc = adapt(c, in, &tmp, out_touches);
  if (rc == 0 && check_conn_implicit_strip(&tmp, out) != 0)
    rc = -1;
  transcript_cleanup(&tmp);
  return rc;
}
