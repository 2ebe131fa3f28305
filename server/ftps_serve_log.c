/* ftps_serve_log.c - the TCP front end's log: one line per event, for
 * people, journald and fail2ban alike.
 *
 * Every line is
 *   TIMESTAMP SESSION CLIENT MESSAGE
 * TIMESTAMP is ISO 8601 in UTC with milliseconds ("2026-12-07T19:04:49.123Z"),
 * SESSION is "#<id>" and CLIENT "ADDR:PORT" ("[V6]:PORT" for IPv6), both "-"
 * on lines about the server itself. Text the client chose (a user name, a
 * path) is quoted, with '"', '\' and every byte outside printable ASCII
 * escaped, so no client can forge or split a line. A password is never
 * logged (the core never reports one). README's serve section documents the
 * messages and gives a fail2ban filter. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ftps_serve_int.h"

/* stamp writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 bytes + NUL). */
static void stamp(char out[32]) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000L);
}

/* has_session_prefix: |msg| starts with "#<digits> <client> ", the form
 * every session line is written in (serve_log_conn, and callers that format
 * it themselves). */
static bool has_session_prefix(const char *msg) {
  if (msg[0] != '#' || msg[1] < '0' || msg[1] > '9')
    return false;
  const char *p = msg + 1;
  while (*p >= '0' && *p <= '9')
    p++;
  if (*p != ' ' || p[1] == ' ' || p[1] == '\0')
    return false;
  return strchr(p + 1, ' ') != NULL;
}

FILE *serve_log_file(const ftps_serve *srv) { return srv->log_own ? srv->log_own : srv->cfg.log; }

void serve_log(ftps_serve *srv, const char *fmt, ...) {
  FILE *f = serve_log_file(srv);
  if (!f)
    return;
  char line[2048], ts[32];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  /* One line per event, whatever a caller passed in. */
  for (char *p = line; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  stamp(ts);
  fprintf(f, "%s %s%s\n", ts, has_session_prefix(line) ? "" : "- - ", line);
  fflush(f);
}

void ftps_serve_note(ftps_serve *srv, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  serve_log(srv, "%s", msg);
}

void serve_log_quote(const char *in, char *out, size_t cap) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  if (cap < 3) {
    if (cap)
      out[0] = '\0';
    return;
  }
  out[o++] = '"';
  for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
    char esc[5];
    size_t n;
    if (*p == '"' || *p == '\\') {
      esc[0] = '\\';
      esc[1] = (char)*p;
      n = 2;
    } else if (*p < 0x20 || *p >= 0x7f) {
      esc[0] = '\\';
      esc[1] = 'x';
      esc[2] = hex[*p >> 4];
      esc[3] = hex[*p & 15];
      n = 4;
    } else {
      esc[0] = (char)*p;
      n = 1;
    }
    if (o + n + 2 > cap)
      break; /* cut; the closing quote always fits */
    memcpy(out + o, esc, n);
    o += n;
  }
  out[o++] = '"';
  out[o] = '\0';
}

void serve_log_event(serve_conn *c, const ftps_event *ev) {
  ftps_serve *srv = c->srv;
  char q[4 * sizeof(ev->detail) + 3];
  switch (ev->type) {
  case FTPS_EV_TLS_START:
    serve_log(srv, "#%lu %s TLS handshake started", c->id, c->peer_str);
    break;
  case FTPS_EV_TLS_READY:
    serve_log(srv, "#%lu %s TLS established (%s)", c->id, c->peer_str, ev->detail);
    break;
  case FTPS_EV_TLS_FAILED:
    serve_log(srv, "#%lu %s TLS handshake failed: %s", c->id, c->peer_str, ev->detail);
    break;
  case FTPS_EV_TLS_END:
    serve_log(srv, "#%lu %s TLS ended (control connection in plaintext)", c->id, c->peer_str);
    break;
  case FTPS_EV_LOGIN:
    serve_log_quote(ev->detail, q, sizeof(q));
    serve_log(srv, "#%lu %s login ok user=%s", c->id, c->peer_str, q);
    break;
  case FTPS_EV_LOGIN_FAILED:
    serve_log_quote(ev->detail, q, sizeof(q));
    serve_log(srv, "#%lu %s login failed user=%s", c->id, c->peer_str, q);
    break;
  case FTPS_EV_TRANSFER: {
    const ftps_transfer_info *x = &ev->xfer;
    serve_log_quote(ev->detail, q, sizeof(q));
    serve_log(srv, "#%lu %s transfer %s %s path=%s%s bytes=%" PRIu64 " seconds=%" PRIu64
                   ".%03u result=%d",
              c->id, c->peer_str, x->upload ? "upload" : "download", x->verb, q,
              x->path_cut ? " path-cut" : "", x->bytes, x->ms / 1000u, (unsigned)(x->ms % 1000u),
              x->code);
    break;
  }
  default:
    break;
  }
}
