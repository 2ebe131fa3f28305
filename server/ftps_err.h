/* ftps_err.h - the one error space of the server library.
 *
 * Functions return 0 on success or one of these negative codes. Protocol
 * errors never surface here: the session turns them into FTP replies. */
#ifndef FTPS_ERR_H
#define FTPS_ERR_H

enum {
  FTPS_OK = 0,
  FTPS_ERR_NOMEM = -1,    /* an allocation failed */
  FTPS_ERR_LIMIT = -2,    /* a hard size limit would be exceeded */
  FTPS_ERR_INVAL = -3,    /* malformed argument or input */
  FTPS_ERR_TLS = -4,      /* the TLS library reported an error */
  FTPS_ERR_CLOSED = -5,   /* the session or stream is closed */
  FTPS_ERR_NOENT = -6,    /* no such file or directory */
  FTPS_ERR_EXIST = -7,    /* already exists */
  FTPS_ERR_NOTDIR = -8,   /* a path component is not a directory */
  FTPS_ERR_ISDIR = -9,    /* is a directory where a file was expected */
  FTPS_ERR_NOTEMPTY = -10,/* directory not empty */
  FTPS_ERR_PERM = -11,    /* not permitted (jail, read-only, policy) */
  FTPS_ERR_IO = -12,      /* an I/O error from the operating system */
  FTPS_ERR_AGAIN = -13,   /* would block; call again later */
};

/* ftps_strerror returns a static, human-readable name for |err|. */
const char *ftps_strerror(int err);

#endif
