/* ftps_cmd_fs.c - PWD, CWD, CDUP, MKD, RMD, DELE, RNFR, RNTO, SIZE, MDTM:
 * the filesystem commands that need no data connection. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ftps_cmd_util.h"
#include "ftps_commands.h"
#include "ftps_err.h"
#include "ftps_session_int.h"

bool session_resolve(ftps_session *s, const ftps_cmd *cmd, char out[FTPS_PATH_MAX]) {
  int err = ftps_path_resolve(out, s->cwd, (const char *)cmd->arg, cmd->arg_len);
  if (err == 0)
    return true;
  session_reply(s, 501, err == FTPS_ERR_LIMIT ? "Path too long." : "Invalid path.");
  return false;
}

/* Writes "\"<path>\" <suffix>" with embedded quotes doubled (RFC 959
 * appendix II). */
static void quoted_path_reply(ftps_session *s, int code, const char *path, const char *suffix) {
  char text[2 * FTPS_PATH_MAX + 64];
  size_t o = 0;
  text[o++] = '"';
  for (const char *p = path; *p && o < sizeof(text) - 64; p++) {
    if (*p == '"')
      text[o++] = '"';
    text[o++] = *p;
  }
  snprintf(text + o, sizeof(text) - o, "\" %s", suffix);
  session_reply(s, code, text);
}

/* Anonymous sessions are read-only. */
static bool may_write(ftps_session *s) {
  if (!s->anonymous)
    return true;
  session_reply(s, 550, "Permission denied: anonymous access is read-only.");
  return false;
}

void ftps_cmd_pwd(ftps_session *s, const ftps_cmd *cmd) {
  (void)cmd;
  quoted_path_reply(s, 257, s->cwd, "is the current directory.");
}

static void change_dir(ftps_session *s, const char *path) {
  ftps_vfs_stat st;
  int err = s->srv->vfs->ops->stat(s->srv->vfs, path, &st);
  if (err == 0 && !st.is_dir)
    err = FTPS_ERR_NOTDIR;
  if (err) {
    session_reply(s, 550, cmd_err_text(err));
    return;
  }
  memcpy(s->cwd, path, strlen(path) + 1);
  session_reply(s, 250, "Directory changed.");
}

void ftps_cmd_cwd(ftps_session *s, const ftps_cmd *cmd) {
  char path[FTPS_PATH_MAX];
  if (session_resolve(s, cmd, path))
    change_dir(s, path);
}

void ftps_cmd_cdup(ftps_session *s, const ftps_cmd *cmd) {
  (void)cmd;
  char path[FTPS_PATH_MAX];
  ftps_path_parent(path, s->cwd);
  change_dir(s, path);
}

void ftps_cmd_mkd(ftps_session *s, const ftps_cmd *cmd) {
  char path[FTPS_PATH_MAX];
  if (!may_write(s) || !session_resolve(s, cmd, path))
    return;
  int err = s->srv->vfs->ops->mkdir(s->srv->vfs, path);
  if (err)
    session_reply(s, 550, cmd_err_text(err));
  else
    quoted_path_reply(s, 257, path, "created.");
}

void ftps_cmd_rmd(ftps_session *s, const ftps_cmd *cmd) {
  char path[FTPS_PATH_MAX];
  if (!may_write(s) || !session_resolve(s, cmd, path))
    return;
  /* Removing the cwd or one of its ancestors would strand the session. */
  size_t n = strlen(path);
  if (strncmp(s->cwd, path, n) == 0 && (s->cwd[n] == '\0' || s->cwd[n] == '/' || n == 1)) {
    session_reply(s, 550, "Cannot remove the current directory or its parents.");
    return;
  }
  int err = s->srv->vfs->ops->rmdir(s->srv->vfs, path);
  session_reply(s, err ? 550 : 250, err ? cmd_err_text(err) : "Directory removed.");
}

void ftps_cmd_dele(ftps_session *s, const ftps_cmd *cmd) {
  char path[FTPS_PATH_MAX];
  if (!may_write(s) || !session_resolve(s, cmd, path))
    return;
  int err = s->srv->vfs->ops->unlink(s->srv->vfs, path);
  session_reply(s, err ? 550 : 250, err ? cmd_err_text(err) : "File deleted.");
}

void ftps_cmd_rnfr(ftps_session *s, const ftps_cmd *cmd) {
  char path[FTPS_PATH_MAX];
  if (!may_write(s) || !session_resolve(s, cmd, path))
    return;
  ftps_vfs_stat st;
  int err = s->srv->vfs->ops->stat(s->srv->vfs, path, &st);
  if (err) {
    session_reply(s, 550, cmd_err_text(err));
    return;
  }
  memcpy(s->rnfr, path, strlen(path) + 1);
  s->rnfr_set = true;
  session_reply(s, 350, "Ready for RNTO.");
}

void ftps_cmd_rnto(ftps_session *s, const ftps_cmd *cmd) {
  if (!s->rnfr_set) {
    session_reply(s, 503, "RNFR must come first.");
    return;
  }
  s->rnfr_set = false;
  char path[FTPS_PATH_MAX];
  if (!session_resolve(s, cmd, path))
    return;
  int err = s->srv->vfs->ops->rename(s->srv->vfs, s->rnfr, path);
  session_reply(s, err ? 553 : 250, err ? cmd_err_text(err) : "Renamed.");
}

/* Stats a file (not a directory) for SIZE and MDTM; replies 550 otherwise. */
static bool stat_file(ftps_session *s, const ftps_cmd *cmd, ftps_vfs_stat *st) {
  char path[FTPS_PATH_MAX];
  if (!session_resolve(s, cmd, path))
    return false;
  int err = s->srv->vfs->ops->stat(s->srv->vfs, path, st);
  if (err == 0 && st->is_dir)
    err = FTPS_ERR_ISDIR;
  if (err) {
    session_reply(s, 550, cmd_err_text(err));
    return false;
  }
  return true;
}

void ftps_cmd_size(ftps_session *s, const ftps_cmd *cmd) {
  ftps_vfs_stat st;
  if (!stat_file(s, cmd, &st))
    return;
  /* RFC 3659 section 4: the size is of the file as it would be transferred;
   * we report stored bytes for every TYPE, as most servers do. */
  char text[32];
  snprintf(text, sizeof(text), "%" PRIu64, st.size);
  session_reply(s, 213, text);
}

void ftps_cmd_mdtm(ftps_session *s, const ftps_cmd *cmd) {
  ftps_vfs_stat st;
  if (!stat_file(s, cmd, &st))
    return;
  /* RFC 3659 section 2.3: time-val = YYYYMMDDHHMMSS, UTC. */
  time_t t = (time_t)st.mtime;
  struct tm tm;
  char text[32];
  if (!gmtime_r(&t, &tm) || strftime(text, sizeof(text), "%Y%m%d%H%M%S", &tm) == 0) {
    session_reply(s, 550, "Modification time unavailable.");
    return;
  }
  session_reply(s, 213, text);
}
