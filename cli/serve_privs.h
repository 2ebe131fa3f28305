/* serve_privs.h - `serve`'s privilege drop (--run-as USER). */
#ifndef SERVE_PRIVS_H
#define SERVE_PRIVS_H

#include <stddef.h>

/* serve_privs_drop makes the process |user| for good: its supplementary
 * groups (initgroups), its group, its user, in that order, then checks that
 * root cannot be regained. Called once the listener is bound and the key,
 * users file and root are open. Returns 0, or -1 with a message in |err|
 * (unknown user, the user is root, not permitted, root still reachable). */
int serve_privs_drop(const char *user, char *err, size_t err_len);

#endif
