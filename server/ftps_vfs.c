/* ftps_vfs.c - the implementation-independent part of the VFS interface. */
#include "ftps_vfs.h"

void ftps_vfs_free(ftps_vfs *vfs) {
  if (vfs == NULL || vfs->ops == NULL || vfs->ops->free == NULL)
    return;
  vfs->ops->free(vfs);
}
