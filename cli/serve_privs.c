/* serve_privs.c - `serve --run-as USER`: bind port 21 as root, then serve as
 * an unprivileged user, so file permissions apply to what clients do (root
 * would overwrite a read-only file). */
#include "serve_privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int serve_privs_drop(const char *user, char *err, size_t err_len) {
  errno = 0;
  struct passwd *pw = getpwnam(user);
  if (!pw) {
    snprintf(err, err_len, "--run-as %s: %s", user, errno ? strerror(errno) : "no such user");
    return -1;
  }
  uid_t uid = pw->pw_uid;
  gid_t gid = pw->pw_gid;
  if (uid == 0) {
    snprintf(err, err_len, "--run-as %s: that user is root; name an unprivileged user", user);
    return -1;
  }
  /* Groups first: after setuid() they can no longer be changed. */
  if (initgroups(user, gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
    snprintf(err, err_len, "--run-as %s: cannot switch to uid %u gid %u: %s", user,
             (unsigned)uid, (unsigned)gid, strerror(errno));
    return -1;
  }
  uid_t r, e, s;
  gid_t rg, eg, sg;
  if (getresuid(&r, &e, &s) != 0 || getresgid(&rg, &eg, &sg) != 0 || r != uid || e != uid ||
      s != uid || rg != gid || eg != gid || sg != gid || setuid(0) == 0 || seteuid(0) == 0) {
    snprintf(err, err_len, "--run-as %s: root privileges could still be regained; refusing to serve",
             user);
    return -1;
  }
  return 0;
}
