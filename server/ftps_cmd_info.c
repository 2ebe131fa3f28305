/* ftps_cmd_info.c - FEAT, HELP, STAT, SYST, NOOP, OPTS, ALLO and the
 * transfer parameters TYPE, MODE, STRU. */
#include <stdio.h>
#include <string.h>

#include "ftps_cmd_util.h"
#include "ftps_cmdtab.h"
#include "ftps_commands.h"
#include "ftps_session_int.h"

void ftps_cmd_feat(ftps_session *s, const ftps_cmd *cmd) {
  (void)cmd;
  /* RFC 2389 section 3.2: "211-<text>", one feature per line, each starting
   * with a single space, then "211 <text>". The reply writer adds the space. */
  const char *lines[16];
  size_t n = 0;
  lines[n++] = "Extensions supported:";
  lines[n++] = "AUTH TLS";
  lines[n++] = "PBSZ";
  lines[n++] = "PROT";
  if (s->srv->policy.ccc_allowed && !s->srv->policy.tls_required_login)
    lines[n++] = "CCC";
  lines[n++] = "EPRT";
  lines[n++] = "EPSV";
  lines[n++] = "MDTM";
  lines[n++] = "MLST type*;size*;modify*;perm*;unique*;";
  lines[n++] = "REST STREAM";
  lines[n++] = "SIZE";
  lines[n++] = "TVFS";
  lines[n++] = "UTF8";
  lines[n++] = "End";
  session_reply_lines(s, 211, lines, n);
}

void ftps_cmd_help(ftps_session *s, const ftps_cmd *cmd) {
  if (cmd->arg && cmd->arg_len > 0) {
    char verb[5] = {0};
    const ftps_cmd_def *def = NULL;
    if (cmd->arg_len <= 4) {
      for (size_t i = 0; i < cmd->arg_len; i++) {
        unsigned char c = cmd->arg[i];
        verb[i] = (char)((c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c);
      }
      def = ftps_cmdtab_find(verb);
    }
    if (!def) {
      session_reply(s, 501, "Unknown command.");
      return;
    }
    char text[64];
    snprintf(text, sizeof(text), "%s is %s.", def->verb, def->handler ? "implemented" : "recognized but not implemented");
    session_reply(s, 214, text);
    return;
  }
  /* Eight verbs per line keeps lines short and the reply bounded. */
  char rows[16][64];
  const char *lines[18];
  size_t n = 0, row = 0;
  lines[n++] = "The following commands are recognized:";
  for (size_t i = 0; i < ftps_cmdtab_len && row < 16; i += 8, row++) {
    size_t off = 0;
    for (size_t j = i; j < i + 8 && j < ftps_cmdtab_len; j++)
      off += (size_t)snprintf(rows[row] + off, sizeof(rows[row]) - off, "%-5s", ftps_cmdtab[j].verb);
    lines[n++] = rows[row];
  }
  lines[n++] = "Help OK.";
  session_reply_lines(s, 214, lines, n);
}

void ftps_cmd_stat(ftps_session *s, const ftps_cmd *cmd) {
  if (cmd->arg) {
    if (s->login != LOGIN_DONE) {
      session_reply(s, 530, "Please log in with USER and PASS.");
      return;
    }
    ftps_cmd_stat_path(s, cmd);
    return;
  }
  const char *lines[6];
  size_t n = 0;
  lines[n++] = "ftpsfuzz status:";
  lines[n++] = s->sec == SEC_SECURE ? "Control connection protected by TLS" : "Control connection in plaintext";
  lines[n++] = s->login == LOGIN_DONE ? "Logged in" : "Not logged in";
  lines[n++] = s->type == 'I' ? "TYPE: BINARY" : "TYPE: ASCII";
  lines[n++] = s->prot == 'P' ? "Data protection: P" : "Data protection: C";
  lines[n++] = "End of status.";
  session_reply_lines(s, 211, lines, n);
}

void ftps_cmd_syst(ftps_session *s, const ftps_cmd *cmd) {
  (void)cmd;
  session_reply(s, 215, "UNIX Type: L8");
}

void ftps_cmd_noop(ftps_session *s, const ftps_cmd *cmd) {
  (void)cmd;
  session_reply(s, 200, "NOOP ok.");
}

void ftps_cmd_opts(ftps_session *s, const ftps_cmd *cmd) {
  /* RFC 2640 / RFC 2389: OPTS UTF8 ON. Paths are bytes; we always speak
   * UTF-8 (FEAT lists UTF8). */
  if (cmd_arg_is(cmd, "UTF8 ON") || cmd_arg_is(cmd, "UTF8")) {
    session_reply(s, 200, "UTF8 mode is always on.");
    return;
  }
  session_reply(s, 501, "Option not understood.");
}

void ftps_cmd_allo(ftps_session *s, const ftps_cmd *cmd) {
  (void)cmd;
  session_reply(s, 202, "ALLO is not needed.");
}

void ftps_cmd_type(ftps_session *s, const ftps_cmd *cmd) {
  /* RFC 959: A [N], I, L 8 supported; E and other formats are not. */
  if (cmd_arg_is(cmd, "A") || cmd_arg_is(cmd, "A N")) {
    s->type = 'A';
    session_reply(s, 200, "Type set to A.");
  } else if (cmd_arg_is(cmd, "I") || cmd_arg_is(cmd, "L 8")) {
    s->type = 'I';
    session_reply(s, 200, "Type set to I.");
  } else if (cmd_arg_is(cmd, "E") || cmd_arg_is(cmd, "A T") || cmd_arg_is(cmd, "A C") ||
             cmd_arg_is(cmd, "E N") || cmd_arg_is(cmd, "E T") || cmd_arg_is(cmd, "E C")) {
    session_reply(s, 504, "Type not supported.");
  } else {
    session_reply(s, 501, "Unknown type.");
  }
}

void ftps_cmd_mode(ftps_session *s, const ftps_cmd *cmd) {
  if (cmd_arg_is(cmd, "S"))
    session_reply(s, 200, "Mode set to S.");
  else if (cmd_arg_is(cmd, "B") || cmd_arg_is(cmd, "C"))
    session_reply(s, 504, "Only stream mode is supported.");
  else
    session_reply(s, 501, "Unknown mode.");
}

void ftps_cmd_stru(ftps_session *s, const ftps_cmd *cmd) {
  if (cmd_arg_is(cmd, "F"))
    session_reply(s, 200, "Structure set to F.");
  else if (cmd_arg_is(cmd, "R") || cmd_arg_is(cmd, "P"))
    session_reply(s, 504, "Only file structure is supported.");
  else
    session_reply(s, 501, "Unknown structure.");
}
