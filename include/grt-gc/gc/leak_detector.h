/*
 * gc/leak_detector.h over grt: the C allocation calls of the including unit become the
 * collector's, in leak-finding mode's debug form (GC_DEBUG: the call site is recorded), so
 * that memory a program forgets to free is reported (see "leak detection" in gc/gc.h).
 * Include it after the system headers; call GC_set_find_leak(1) before allocating.
 * CHECK_LEAKS() collects and reports now. aligned_alloc and friends are served by
 * GC_memalign (their objects are reported without a site).
 */
#ifndef GRT_GC_LEAK_DETECTOR_H
#define GRT_GC_LEAK_DETECTOR_H

#ifndef GC_DEBUG
#define GC_DEBUG
#endif
#include "gc.h"

#include <stdlib.h>
#include <string.h>

#undef malloc
#undef calloc
#undef free
#undef realloc
#undef reallocarray
#undef strdup
#undef strndup
#undef aligned_alloc
#undef memalign
#undef posix_memalign
#undef free_sized
#undef free_aligned_sized
#undef cfree
#undef _aligned_malloc
#undef _aligned_free
#undef valloc
#undef pvalloc
#undef malloc_usable_size

/* (calloc and reallocarray check m * n for overflow, as the C library does.) */
static inline size_t grt_gc_mul_(size_t m, size_t n) {
    size_t r;
    return __builtin_mul_overflow(m, n, &r) ? (size_t)-1 : r;
}
#define malloc(n) GC_MALLOC(n)
#define calloc(m, n) GC_MALLOC(grt_gc_mul_(m, n))
#define free(p) GC_FREE(p)
#define realloc(p, n) GC_REALLOC(p, n)
#define reallocarray(p, m, n) GC_REALLOC(p, grt_gc_mul_(m, n))
#define strdup(s) GC_STRDUP(s)
#define strndup(s, n) GC_STRNDUP(s, n)
#define aligned_alloc(a, n) GC_memalign(a, n)
#define memalign(a, n) GC_memalign(a, n)
#define posix_memalign(p, a, n) GC_posix_memalign(p, a, n)
#define free_sized(p, n) (GC_FREE(p), (void)(n))
#define free_aligned_sized(p, a, n) (GC_FREE(p), (void)(a), (void)(n))
#define cfree(p) GC_FREE(p)
#define _aligned_malloc(n, a) GC_memalign(a, n)
#define _aligned_free(p) GC_FREE(p)
#define valloc(n) GC_valloc(n)
#define pvalloc(n) GC_pvalloc(n)
#define malloc_usable_size(p) GC_size(p)

#ifndef CHECK_LEAKS
#define CHECK_LEAKS() GC_gcollect()
#endif

#endif
