/* ftps_cmd_util.h - small helpers shared by the command handlers. */
#ifndef FTPS_CMD_UTIL_H
#define FTPS_CMD_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "ftps_cmdline.h"

/* cmd_arg_is reports whether the argument equals |word| ignoring ASCII case. */
bool cmd_arg_is(const ftps_cmd *cmd, const char *word);

/* cmd_err_text returns the reply text for a VFS error code. */
const char *cmd_err_text(int err);

#endif
