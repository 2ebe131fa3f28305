/* ftps_alloc.h - the server library's allocator entry points.
 *
 * Every allocation in server/ goes through these. The library defines them
 * as weak symbols that call malloc and friends, so a test can link strong
 * definitions that fail the Nth allocation (tests/test_failmalloc.c, after
 * nghttp2's failmalloc test) without any global state in the library. */
#ifndef FTPS_ALLOC_H
#define FTPS_ALLOC_H

#include <stddef.h>

void *ftps_malloc(size_t n);
void *ftps_calloc(size_t count, size_t size);
void *ftps_realloc(void *p, size_t n);
void ftps_free(void *p);

#endif
