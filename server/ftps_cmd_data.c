/* ftps_cmd_data.c - data-connection commands: PASV, EPSV, PORT, EPRT, REST,
 * RETR, STOR, APPE, STOU, LIST, NLST, MLSD, MLST, ABOR (RFC 959, RFC 2428,
 * RFC 3659, RFC 4217). The transfer itself runs in ftps_data.c. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ftps_cmd_util.h"
#include "ftps_commands.h"
#include "ftps_err.h"
#include "ftps_listing.h"
#include "ftps_session_int.h"

/* --- setting up the data connection --- */

static bool refuse_if_epsv_all(ftps_session *s) {
  /* RFC 2428 section 4: after EPSV ALL "the server MUST reject all data
   * connection setup commands other than EPSV". */
  if (!s->data.epsv_all)
    return false;
  session_reply(s, 503, "EPSV ALL in effect: only EPSV is accepted.");
  return true;
}

static bool refuse_if_busy(ftps_session *s) {
  if (!data_busy(s))
    return false;
  session_reply(s, 425, "A transfer is in progress; ABOR it first.");
  return true;
}

static void start_listen(ftps_session *s, bool extended) {
  data_forget_mode(s, "new data connection setup");
  s->data.mode = DATA_PASV_WAIT;
  s->data.extended = extended;
  session_event(s, FTPS_EV_DATA_LISTEN, extended ? "EPSV" : "PASV");
}

void ftps_cmd_pasv(ftps_session *s, const ftps_cmd *cmd) {
  (void)cmd;
  if (refuse_if_epsv_all(s) || refuse_if_busy(s))
    return;
  if (s->local.family != 4) {
    session_reply(s, 425, "PASV needs IPv4; use EPSV.");
    return;
  }
  start_listen(s, false);
}

void ftps_cmd_epsv(ftps_session *s, const ftps_cmd *cmd) {
  if (cmd_arg_is(cmd, "ALL")) {
    /* EPSV ALL sets up no data connection, so like any other command it
     * ends a pending REST (RFC 3659 section 5.3; the model keeps REST only
     * across PORT, PASV, EPRT and EPSV <proto>). */
    s->data.rest_set = false;
    s->data.epsv_all = true;
    session_reply(s, 200, "EPSV ALL ok.");
    return;
  }
  if (refuse_if_busy(s))
    return;
  /* RFC 2428 section 3: EPSV <net-prt>, 1 = IPv4, 2 = IPv6; the listener is
   * on the control connection's address family. */
  if (cmd->arg && !(cmd_arg_is(cmd, "1") && s->local.family == 4) &&
      !(cmd_arg_is(cmd, "2") && s->local.family == 6)) {
    session_reply(s, 522, s->local.family == 6 ? "Network protocol not supported, use (2)"
                                               : "Network protocol not supported, use (1)");
    return;
  }
  start_listen(s, true);
}

/* RFC 2577 section 3: no PORT to a third host (bounce) or a privileged
 * port. */
static bool active_target_ok(ftps_session *s, const ftps_addr *a) {
  if (a->family != s->peer.family || memcmp(a->ip, s->peer.ip, 16) != 0) {
    session_reply(s, 501, "Data connections only to the client's own address (RFC 2577).");
    return false;
  }
  if (a->port < 1024) {
    session_reply(s, 501, "Data connections to privileged ports are refused (RFC 2577).");
    return false;
  }
  return true;
}

static void set_active(ftps_session *s, const ftps_addr *a) {
  data_forget_mode(s, "new data connection setup");
  s->data.active = *a;
  s->data.mode = DATA_ACTIVE;
  session_reply(s, 200, "Data connection target accepted.");
}

/* Parses a decimal 0..max with no sign, no spaces; advances *p. */
static bool parse_num(const uint8_t **p, const uint8_t *end, unsigned max, unsigned *out) {
  unsigned v = 0;
  const uint8_t *q = *p;
  if (q == end || *q < '0' || *q > '9')
    return false;
  while (q < end && *q >= '0' && *q <= '9') {
    v = v * 10 + (unsigned)(*q - '0');
    if (v > max)
      return false;
    q++;
  }
  *p = q;
  *out = v;
  return true;
}

void ftps_cmd_port(ftps_session *s, const ftps_cmd *cmd) {
  if (refuse_if_epsv_all(s) || refuse_if_busy(s))
    return;
  /* RFC 959: PORT h1,h2,h3,h4,p1,p2 */
  const uint8_t *p = cmd->arg, *end = cmd->arg + cmd->arg_len;
  unsigned v[6];
  for (int i = 0; i < 6; i++) {
    if (!parse_num(&p, end, 255, &v[i]) || (i < 5 && (p == end || *p++ != ','))) {
      session_reply(s, 501, "Syntax: PORT h1,h2,h3,h4,p1,p2.");
      return;
    }
  }
  if (p != end) {
    session_reply(s, 501, "Syntax: PORT h1,h2,h3,h4,p1,p2.");
    return;
  }
  ftps_addr a = {.family = 4, .port = (uint16_t)(v[4] * 256 + v[5])};
  for (int i = 0; i < 4; i++)
    a.ip[i] = (uint8_t)v[i];
  if (active_target_ok(s, &a))
    set_active(s, &a);
}

void ftps_cmd_eprt(ftps_session *s, const ftps_cmd *cmd) {
  if (refuse_if_epsv_all(s) || refuse_if_busy(s))
    return;
  /* RFC 2428 section 2: EPRT <d><net-prt><d><net-addr><d><tcp-port><d>,
   * <d> any printable ASCII 33..126. */
  char field[3][64];
  size_t nf = 0, len = 0;
  uint8_t d = cmd->arg_len ? cmd->arg[0] : 0;
  bool ok = cmd->arg_len >= 7 && d >= 33 && d <= 126 && cmd->arg[cmd->arg_len - 1] == d;
  for (size_t i = 1; ok && i < cmd->arg_len; i++) {
    if (cmd->arg[i] == d) {
      if (nf >= 3) {
        ok = false;
        break;
      }
      field[nf++][len] = '\0';
      len = 0;
    } else if (nf < 3 && len < sizeof(field[0]) - 1) {
      field[nf][len++] = (char)cmd->arg[i];
    } else {
      ok = false;
    }
  }
  if (!ok || nf != 3) {
    session_reply(s, 501, "Syntax: EPRT |1|h.h.h.h|port| or |2|addr6|port|.");
    return;
  }
  ftps_addr a = {0};
  if (!strcmp(field[0], "1") && inet_pton(AF_INET, field[1], a.ip) == 1) {
    a.family = 4;
  } else if (!strcmp(field[0], "2") && inet_pton(AF_INET6, field[1], a.ip) == 1) {
    a.family = 6;
  } else if (strcmp(field[0], "1") && strcmp(field[0], "2")) {
    session_reply(s, 522, "Network protocol not supported, use (1,2)");
    return;
  } else {
    session_reply(s, 501, "Bad network address.");
    return;
  }
  const uint8_t *p = (const uint8_t *)field[2], *end = p + strlen(field[2]);
  unsigned port;
  if (!parse_num(&p, end, 65535, &port) || p != end) {
    session_reply(s, 501, "Bad port number.");
    return;
  }
  a.port = (uint16_t)port;
  if (active_target_ok(s, &a))
    set_active(s, &a);
}

void ftps_cmd_rest(ftps_session *s, const ftps_cmd *cmd) {
  /* RFC 3659 section 5: REST <decimal> in STREAM mode. */
  uint64_t v = 0;
  bool ok = cmd->arg_len > 0 && cmd->arg_len <= 18;
  for (size_t i = 0; ok && i < cmd->arg_len; i++) {
    ok = cmd->arg[i] >= '0' && cmd->arg[i] <= '9';
    v = v * 10 + (uint64_t)(cmd->arg[i] - '0');
  }
  if (!ok) {
    /* A REST that came between an earlier one and the transfer cancels it
     * even when refused: REST is for the command that immediately follows
     * (RFC 3659 section 5.3), as the model says. */
    s->data.rest_set = false;
    session_reply(s, 501, "REST needs a decimal byte offset.");
    return;
  }
  s->data.rest = v;
  s->data.rest_set = true;
  char text[64];
  snprintf(text, sizeof(text), "Restarting at %" PRIu64 ". Send RETR or STOR.", v);
  session_reply(s, 350, text);
}

/* --- transfers --- */

/* Checks shared by every transfer command; replies and returns false when
 * the transfer cannot start. */
static bool transfer_allowed(ftps_session *s) {
  if (refuse_if_busy(s))
    return false;
  if (s->data.mode != DATA_PASSIVE && s->data.mode != DATA_ACTIVE) {
    session_reply(s, 425, "Use PASV, EPSV, PORT or EPRT first.");
    return false;
  }
  /* RFC 4217 section 10.2: the protection level is checked on the transfer
   * command, not on PASV/PORT. */
  if (s->srv->policy.tls_required_data && s->prot != 'P') {
    session_reply(s, 522, "Data connections must be protected: send PBSZ 0 and PROT P first.");
    return false;
  }
  return true;
}

static uint64_t take_rest(ftps_session *s) {
  uint64_t r = s->data.rest_set ? s->data.rest : 0;
  s->data.rest_set = false;
  return r;
}

void ftps_cmd_retr(ftps_session *s, const ftps_cmd *cmd) {
  char path[FTPS_PATH_MAX];
  uint64_t offset = take_rest(s);
  if (!transfer_allowed(s) || !session_resolve(s, cmd, path))
    return;
  ftps_vfs_stat st;
  int err = s->srv->vfs->ops->stat(s->srv->vfs, path, &st);
  if (err == 0 && st.is_dir)
    err = FTPS_ERR_ISDIR;
  if (err == 0 && offset > st.size) {
    session_reply(s, 554, "REST offset is past the end of the file.");
    return;
  }
  if (err == 0)
    err = s->srv->vfs->ops->open_read(s->srv->vfs, path, offset, &s->data.file);
  if (err) {
    session_reply(s, 550, cmd_err_text(err));
    return;
  }
  char text[128];
  snprintf(text, sizeof(text), "Opening %s mode data connection (%" PRIu64 " bytes).",
           s->type == 'A' ? "ASCII" : "BINARY", st.size - offset);
  data_describe(s, cmd->verb, path);
  data_start(s, XFER_SEND, text);
}

static void store(ftps_session *s, const ftps_cmd *cmd, ftps_vfs_write_mode mode) {
  char path[FTPS_PATH_MAX];
  uint64_t offset = take_rest(s);
  if (!transfer_allowed(s))
    return;
  if (s->anonymous) {
    session_reply(s, 550, "Permission denied: anonymous access is read-only.");
    return;
  }
  if (!session_resolve(s, cmd, path))
    return;
  if (mode == FTPS_VFS_WRITE_TRUNCATE && offset > 0)
    mode = FTPS_VFS_WRITE_AT;
  int err = s->srv->vfs->ops->open_write(s->srv->vfs, path, mode, offset, &s->data.file);
  if (err) {
    session_reply(s, err == FTPS_ERR_INVAL && mode == FTPS_VFS_WRITE_AT ? 554 : 553,
                  err == FTPS_ERR_INVAL && mode == FTPS_VFS_WRITE_AT
                      ? "REST offset is past the end of the file."
                      : cmd_err_text(err));
    return;
  }
  data_describe(s, cmd->verb, path);
  data_start(s, XFER_RECV, "Ok to send data.");
}

void ftps_cmd_stor(ftps_session *s, const ftps_cmd *cmd) { store(s, cmd, FTPS_VFS_WRITE_TRUNCATE); }

void ftps_cmd_appe(ftps_session *s, const ftps_cmd *cmd) {
  (void)take_rest(s); /* APPE appends whatever REST said */
  store(s, cmd, FTPS_VFS_WRITE_APPEND);
}

void ftps_cmd_stou(ftps_session *s, const ftps_cmd *cmd) {
  (void)cmd;
  (void)take_rest(s);
  if (!transfer_allowed(s))
    return;
  if (s->anonymous) {
    session_reply(s, 550, "Permission denied: anonymous access is read-only.");
    return;
  }
  /* RFC 1123 section 4.1.2.9: the 150 reply names the file: "150 FILE: name". */
  for (int tries = 0; tries < 100; tries++) {
    char name[32], path[FTPS_PATH_MAX];
    snprintf(name, sizeof(name), "stou.%u", ++s->stou_counter);
    if (ftps_path_resolve(path, s->cwd, name, strlen(name)) != 0)
      break;
    int err = s->srv->vfs->ops->open_write(s->srv->vfs, path, FTPS_VFS_WRITE_EXCL, 0, &s->data.file);
    if (err == FTPS_ERR_EXIST)
      continue;
    if (err) {
      session_reply(s, 553, cmd_err_text(err));
      return;
    }
    char text[64];
    snprintf(text, sizeof(text), "FILE: %s", name);
    data_describe(s, "STOU", path);
    data_start(s, XFER_RECV, text);
    return;
  }
  session_reply(s, 553, "Cannot make a unique file name.");
}

/* Skips ls-style options ("-la") that clients put before the path. */
static void strip_list_options(ftps_cmd *c) {
  while (c->arg && c->arg_len > 0 && c->arg[0] == '-') {
    size_t i = 0;
    while (i < c->arg_len && c->arg[i] != ' ')
      i++;
    while (i < c->arg_len && c->arg[i] == ' ')
      i++;
    c->arg += i;
    c->arg_len -= i;
  }
  if (c->arg && c->arg_len == 0)
    c->arg = NULL;
}

typedef struct listing_ctx {
  ftps_buf *out;
  ftps_listing_format fmt;
  bool read_only;
  size_t max_entries;
  size_t entries;
  int err;
} listing_ctx;

static int add_entry(void *ctx, const char *name, const ftps_vfs_stat *st) {
  listing_ctx *l = ctx;
  if (l->entries >= l->max_entries)
    return 1;
  l->err = ftps_listing_line(l->out, l->fmt, name, st, l->read_only);
  l->entries++;
  return l->err ? 1 : 0;
}

/* Lists |path| (a directory's entries, or a file itself) into |out|.
 * Returns 0 or an FTPS_ERR_* code. */
static int build_listing(ftps_session *s, const char *path, ftps_listing_format fmt, ftps_buf *out,
                         size_t max_entries, size_t *out_entries) {
  ftps_vfs_stat st;
  int err = s->srv->vfs->ops->stat(s->srv->vfs, path, &st);
  if (err)
    return err;
  listing_ctx l = {out, fmt, s->anonymous, max_entries, 0, 0};
  if (!st.is_dir) {
    err = ftps_listing_line(out, fmt, fmt == FTPS_LISTING_NAMES ? path : ftps_path_basename(path),
                            &st, s->anonymous);
    l.entries = 1;
  } else {
    err = s->srv->vfs->ops->list(s->srv->vfs, path, add_entry, &l);
    if (l.err)
      err = l.err;
    else if (err > 0)
      err = 0; /* stopped at max_entries */
  }
  if (out_entries)
    *out_entries = l.entries;
  return err;
}

static void list_transfer(ftps_session *s, const ftps_cmd *cmd_in, ftps_listing_format fmt) {
  ftps_cmd cmd = *cmd_in;
  if (fmt != FTPS_LISTING_MLSD)
    strip_list_options(&cmd);
  char path[FTPS_PATH_MAX];
  if (!transfer_allowed(s))
    return;
  if (cmd.arg) {
    if (!session_resolve(s, &cmd, path))
      return;
  } else {
    memcpy(path, s->cwd, strlen(s->cwd) + 1);
  }
  if (fmt == FTPS_LISTING_MLSD) {
    /* RFC 3659 section 7.2: MLSD of a non-directory is an error. */
    ftps_vfs_stat st;
    int e = s->srv->vfs->ops->stat(s->srv->vfs, path, &st);
    if (e == 0 && !st.is_dir) {
      session_reply(s, 501, "MLSD needs a directory; use MLST for a file.");
      return;
    }
  }
  ftps_buf_reset(&s->data.listing);
  int err = build_listing(s, path, fmt, &s->data.listing, SIZE_MAX, NULL);
  if (err) {
    session_reply(s, err == FTPS_ERR_LIMIT ? 451 : 550,
                  err == FTPS_ERR_LIMIT ? "Listing too large." : cmd_err_text(err));
    ftps_buf_reset(&s->data.listing);
    return;
  }
  data_describe(s, cmd.verb, path);
  data_start(s, XFER_SEND, "Here comes the directory listing.");
}

void ftps_cmd_list(ftps_session *s, const ftps_cmd *cmd) { list_transfer(s, cmd, FTPS_LISTING_LS); }
void ftps_cmd_nlst(ftps_session *s, const ftps_cmd *cmd) { list_transfer(s, cmd, FTPS_LISTING_NAMES); }
void ftps_cmd_mlsd(ftps_session *s, const ftps_cmd *cmd) { list_transfer(s, cmd, FTPS_LISTING_MLSD); }

void ftps_cmd_mlst(ftps_session *s, const ftps_cmd *cmd) {
  char path[FTPS_PATH_MAX];
  if (cmd->arg) {
    if (!session_resolve(s, cmd, path))
      return;
  } else {
    memcpy(path, s->cwd, strlen(s->cwd) + 1);
  }
  ftps_vfs_stat st;
  int err = s->srv->vfs->ops->stat(s->srv->vfs, path, &st);
  if (err) {
    session_reply(s, 550, cmd_err_text(err));
    return;
  }
  /* RFC 3659 section 7.2: "250-Listing <path>", " <facts> <pathname>",
   * "250 End". The reply writer adds the leading space. */
  char facts[192], entry[FTPS_PATH_MAX + 200], first[FTPS_PATH_MAX + 16];
  ftps_listing_facts(facts, sizeof(facts), &st, s->anonymous);
  snprintf(entry, sizeof(entry), "%s %s", facts, path);
  snprintf(first, sizeof(first), "Listing %s", path);
  const char *lines[3] = {first, entry, "End"};
  session_reply_lines(s, 250, lines, 3);
}

void ftps_cmd_abor(ftps_session *s, const ftps_cmd *cmd) {
  (void)cmd;
  /* RFC 959 ABOR: the transfer command gets 426, then ABOR gets 226; with
   * nothing in progress ABOR gets 225/226. */
  if (data_busy(s)) {
    data_abort(s, 426, "Transfer aborted.");
    session_reply(s, 226, "ABOR successful.");
    return;
  }
  data_forget_mode(s, "ABOR");
  session_reply(s, 225, "No transfer to abort.");
}

/* STAT <path> (RFC 959): the listing over the control connection, bounded. */
void ftps_cmd_stat_path(ftps_session *s, const ftps_cmd *cmd) {
  char path[FTPS_PATH_MAX];
  ftps_cmd c = *cmd;
  strip_list_options(&c);
  if (!c.arg)
    memcpy(path, s->cwd, strlen(s->cwd) + 1);
  else if (!session_resolve(s, &c, path))
    return;
  enum { MAX_ENTRIES = 100 };
  ftps_buf listing;
  ftps_buf_init(&listing, 48 * 1024);
  size_t n = 0;
  int err = build_listing(s, path, FTPS_LISTING_LS, &listing, MAX_ENTRIES, &n);
  if (err && err != FTPS_ERR_LIMIT) {
    ftps_buf_cleanup(&listing);
    session_reply(s, 550, cmd_err_text(err));
    return;
  }
  /* Split the CRLF text into reply lines. */
  const char *lines[MAX_ENTRIES + 3];
  size_t nl = 0;
  char first[FTPS_PATH_MAX + 16];
  snprintf(first, sizeof(first), "Status of %s:", path);
  lines[nl++] = first;
  for (size_t i = 0, start = 0; i + 1 < listing.len && nl < MAX_ENTRIES + 1; i++) {
    if (listing.data[i] == '\r' && listing.data[i + 1] == '\n') {
      listing.data[i] = '\0';
      lines[nl++] = (const char *)listing.data + start;
      start = i + 2;
    }
  }
  lines[nl++] = n >= MAX_ENTRIES ? "End of status (truncated; use LIST)." : "End of status.";
  session_reply_lines(s, 213, lines, nl);
  ftps_buf_cleanup(&listing);
}
