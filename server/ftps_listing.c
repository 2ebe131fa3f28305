/* ftps_listing.c - see ftps_listing.h. */
#include "ftps_listing.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void ftps_listing_facts(char *out, size_t cap, const ftps_vfs_stat *st, bool read_only) {
  char modify[16] = "19700101000000";
  time_t t = (time_t)st->mtime;
  struct tm tm;
  if (gmtime_r(&t, &tm))
    strftime(modify, sizeof(modify), "%Y%m%d%H%M%S", &tm);
  bool w = st->writable && !read_only;
  /* RFC 3659 section 7.5.5 perm: files a(ppend) d(elete) f(rename) r(etr)
   * w(rite); directories c(reate) d e(nter) f l(ist) m(kdir) p(urge). */
  const char *perm = st->is_dir ? (w ? "cdeflmp" : "el") : (w ? "adfrw" : "r");
  if (st->is_dir)
    snprintf(out, cap, "type=dir;modify=%s;perm=%s;unique=%" PRIx64 ";", modify, perm, st->unique);
  else
    snprintf(out, cap, "type=file;size=%" PRIu64 ";modify=%s;perm=%s;unique=%" PRIx64 ";",
             st->size, modify, perm, st->unique);
}

int ftps_listing_line(ftps_buf *out, ftps_listing_format fmt, const char *name,
                      const ftps_vfs_stat *st, bool read_only) {
  char head[192];
  size_t start = out->len;
  int err = 0;
  switch (fmt) {
  case FTPS_LISTING_NAMES:
    head[0] = '\0';
    break;
  case FTPS_LISTING_MLSD:
    ftps_listing_facts(head, sizeof(head) - 1, st, read_only);
    strcat(head, " ");
    break;
  case FTPS_LISTING_LS: {
    char date[16] = "Jan  1  1970";
    time_t t = (time_t)st->mtime;
    struct tm tm;
    if (gmtime_r(&t, &tm))
      strftime(date, sizeof(date), "%b %e  %Y", &tm);
    bool w = st->writable && !read_only;
    snprintf(head, sizeof(head), "%s 1 ftp ftp %12" PRIu64 " %s ",
             st->is_dir ? (w ? "drwxr-xr-x" : "dr-xr-xr-x") : (w ? "-rw-r--r--" : "-r--r--r--"),
             st->is_dir ? (uint64_t)0 : st->size, date);
    break;
  }
  }
  if ((err = ftps_buf_append_cstr(out, head)) == 0 && (err = ftps_buf_append_cstr(out, name)) == 0)
    err = ftps_buf_append(out, "\r\n", 2);
  if (err)
    ftps_buf_truncate(out, start);
  return err;
}
