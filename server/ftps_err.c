/* ftps_err.c - names for the error space in ftps_err.h. */
#include "ftps_err.h"

const char *ftps_strerror(int err) {
  switch (err) {
  case FTPS_OK: return "ok";
  case FTPS_ERR_NOMEM: return "out of memory";
  case FTPS_ERR_LIMIT: return "size limit exceeded";
  case FTPS_ERR_INVAL: return "invalid argument";
  case FTPS_ERR_TLS: return "TLS error";
  case FTPS_ERR_CLOSED: return "closed";
  case FTPS_ERR_NOENT: return "no such file or directory";
  case FTPS_ERR_EXIST: return "already exists";
  case FTPS_ERR_NOTDIR: return "not a directory";
  case FTPS_ERR_ISDIR: return "is a directory";
  case FTPS_ERR_NOTEMPTY: return "directory not empty";
  case FTPS_ERR_PERM: return "not permitted";
  case FTPS_ERR_IO: return "I/O error";
  case FTPS_ERR_AGAIN: return "try again";
  }
  return "unknown error";
}
