/* ftps_cmdtab.h - the command table: the server's policy.
 *
 * One row per verb: its handler and the states it is allowed in. The session
 * checks a row before calling the handler, in this order:
 *   unknown verb -> 500; no handler -> 502;
 *   TLS required for login, control plaintext and the verb not FTPS_CMD_PRE_TLS
 *     -> the row's |refuse_plain| code (530 unless the row says otherwise);
 *   FTPS_CMD_LOGIN and not logged in -> 530;
 *   FTPS_CMD_ARG and no argument -> 501; FTPS_CMD_NOARG and an argument -> 501.
 * Verbs match exactly (case-insensitively, already upper-cased by the
 * parser): "USERX" is not "USER". */
#ifndef FTPS_CMDTAB_H
#define FTPS_CMDTAB_H

#include <stddef.h>
#include <stdint.h>

#include "ftps_cmdline.h"

struct ftps_session;
typedef void (*ftps_cmd_handler)(struct ftps_session *s, const ftps_cmd *cmd);

enum {
  FTPS_CMD_PRE_TLS = 1 << 0,  /* served in plaintext even when TLS is required */
  FTPS_CMD_LOGIN = 1 << 1,    /* needs a completed login */
  FTPS_CMD_ARG = 1 << 2,      /* needs an argument */
  FTPS_CMD_NOARG = 1 << 3,    /* takes no argument */
  FTPS_CMD_KEEP_RNFR = 1 << 4,/* does not cancel a pending RNFR */
  FTPS_CMD_KEEP_REST = 1 << 5,/* does not cancel a pending REST (transfer setup) */
  FTPS_CMD_XFER = 1 << 6,     /* uses the PASV/PORT offer; its final reply ends it */
};

typedef struct ftps_cmd_def {
  const char *verb;
  ftps_cmd_handler handler;   /* NULL: recognised but not implemented (502) */
  unsigned flags;
  int refuse_plain;           /* reply when TLS is required and not up; 0 = 530 */
} ftps_cmd_def;

/* ftps_cmdtab_find returns the row for upper-case |verb|, or NULL. */
const ftps_cmd_def *ftps_cmdtab_find(const char *verb);

/* The whole table, for tests and HELP. */
extern const ftps_cmd_def ftps_cmdtab[];
extern const size_t ftps_cmdtab_len;

#endif
