/* ftps_path.h - resolving client path arguments to canonical virtual paths.
 *
 * A virtual path is absolute, '/'-separated, with no "", "." or ".."
 * components and no trailing slash (the root is "/"). ".." at the root stays
 * at the root, as in a chroot. Resolution is pure string work; the VFS still
 * enforces its own jail. */
#ifndef FTPS_PATH_H
#define FTPS_PATH_H

#include <stddef.h>

/* FTPS_PATH_MAX caps a canonical virtual path, in bytes with its NUL. */
#define FTPS_PATH_MAX 1024

/* ftps_path_resolve resolves |arg| (|arg_len| bytes, relative to |cwd| unless
 * it starts with '/') into |out| (FTPS_PATH_MAX bytes). Returns 0,
 * FTPS_ERR_INVAL if |arg| contains NUL, or FTPS_ERR_LIMIT if the result is too
 * long; on failure |out| is the empty string. Only the result is bounded: an
 * |arg| longer than FTPS_PATH_MAX that resolves to a short path is fine.
 * |cwd| must itself be canonical. */
int ftps_path_resolve(char out[FTPS_PATH_MAX], const char *cwd, const char *arg, size_t arg_len);

/* ftps_path_basename returns a pointer to the last component of canonical
 * |path| ("" for "/"). */
const char *ftps_path_basename(const char *path);

/* ftps_path_parent writes the parent of canonical |path| into |out|
 * ("/" for "/" and for top-level entries). */
void ftps_path_parent(char out[FTPS_PATH_MAX], const char *path);

#endif
