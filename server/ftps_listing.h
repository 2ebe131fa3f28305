/* ftps_listing.h - directory listing formats: LIST (ls -l style), NLST
 * (names), MLSD/MLST facts (RFC 3659 section 7). */
#ifndef FTPS_LISTING_H
#define FTPS_LISTING_H

#include <stdbool.h>
#include <stddef.h>

#include "ftps_buf.h"
#include "ftps_vfs.h"

typedef enum ftps_listing_format {
  FTPS_LISTING_LS,     /* "-rw-r--r-- 1 ftp ftp 6 Jan  1  2024 hello.txt" */
  FTPS_LISTING_NAMES,  /* "hello.txt" */
  FTPS_LISTING_MLSD,   /* "type=file;size=6;modify=...;perm=...;unique=...; hello.txt" */
} ftps_listing_format;

/* ftps_listing_line appends one entry and CRLF to |out|. |read_only| drops
 * the write permissions from LS modes and MLSD perm facts. Returns 0 or an
 * ftps_buf error (|out| unchanged). */
int ftps_listing_line(ftps_buf *out, ftps_listing_format fmt, const char *name,
                      const ftps_vfs_stat *st, bool read_only);

/* ftps_listing_facts writes the RFC 3659 fact string of |st| ("type=file;
 * size=6;modify=20240101000000;perm=adfrw;unique=1a;") into |out|. */
void ftps_listing_facts(char *out, size_t cap, const ftps_vfs_stat *st, bool read_only);

#endif
