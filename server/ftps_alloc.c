/* ftps_alloc.c - default (weak) allocator entry points; see ftps_alloc.h. */
#include "ftps_alloc.h"

#include <stdlib.h>

__attribute__((weak)) void *ftps_malloc(size_t n) { return malloc(n); }
__attribute__((weak)) void *ftps_calloc(size_t count, size_t size) { return calloc(count, size); }
__attribute__((weak)) void *ftps_realloc(void *p, size_t n) { return realloc(p, n); }
__attribute__((weak)) void ftps_free(void *p) { free(p); }
