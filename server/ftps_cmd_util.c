/* ftps_cmd_util.c - see ftps_cmd_util.h. */
#include "ftps_cmd_util.h"

#include <string.h>

#include "ftps_err.h"

static unsigned char ascii_upper(unsigned char c) {
  return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 'a' + 'A') : c;
}

bool cmd_arg_is(const ftps_cmd *cmd, const char *word) {
  size_t n = strlen(word);
  if (!cmd->arg || cmd->arg_len != n)
    return false;
  for (size_t i = 0; i < n; i++)
    if (ascii_upper(cmd->arg[i]) != ascii_upper((unsigned char)word[i]))
      return false;
  return true;
}

const char *cmd_err_text(int err) {
  switch (err) {
  case FTPS_ERR_NOENT: return "No such file or directory.";
  case FTPS_ERR_EXIST: return "File exists.";
  case FTPS_ERR_NOTDIR: return "Not a directory.";
  case FTPS_ERR_ISDIR: return "Is a directory.";
  case FTPS_ERR_NOTEMPTY: return "Directory not empty.";
  case FTPS_ERR_PERM: return "Permission denied.";
  case FTPS_ERR_LIMIT: return "Storage limit reached.";
  case FTPS_ERR_INVAL: return "Invalid file name.";
  default: return "Requested action not taken.";
  }
}
