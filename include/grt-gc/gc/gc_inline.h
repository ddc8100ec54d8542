/*
 * gc/gc_inline.h over grt: bdwgc's inline allocation macros (8.x). bdwgc's versions pop
 * objects off a caller-owned array of free lists (tiny_fl) and refill it with
 * GC_generic_malloc_many; grt's allocation is already a per-thread bump from a cached run,
 * so these allocate directly (the slow path bdwgc's take when a list is empty) and leave
 * tiny_fl as they found it (zeroed, as bdwgc asks the caller to supply it).
 *   GC_MALLOC_WORDS, GC_MALLOC_ATOMIC_WORDS, GC_MALLOC_WORDS_KIND, GC_CONS,
 *   GC_FAST_MALLOC_GRANS     default_expr, then init
 *   GC_malloc_kind, GC_malloc_kind_global   GC_generic_malloc (gc/gc_mark.h)
 *   GC_generic_malloc_many   a list of objects linked through their first word (GC_NEXT)
 */
#ifndef GRT_GC_INLINE_H
#define GRT_GC_INLINE_H

#include "gc.h"
#include "gc_mark.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GC_SIZEOF_PTR 8
#ifndef GC_GRANULE_BYTES
#define GC_GRANULE_BYTES 16
#endif
#define GC_GRANULE_PTRS (GC_GRANULE_BYTES / GC_SIZEOF_PTR)
#define GC_GRANULE_WORDS GC_GRANULE_PTRS
#define GC_PTRS_TO_GRANULES(n) ((n) / GC_GRANULE_PTRS)
#define GC_PTRS_TO_WHOLE_GRANULES(n) GC_PTRS_TO_GRANULES((n) + GC_GRANULE_PTRS - 1)
#define GC_WORDS_TO_GRANULES(n) GC_PTRS_TO_GRANULES(n)
#define GC_WORDS_TO_WHOLE_GRANULES(n) GC_PTRS_TO_WHOLE_GRANULES(n)
#define GC_RAW_BYTES_FROM_INDEX(i) (GC_GRANULE_BYTES * (i))
#ifndef GC_TINY_FREELISTS
#define GC_TINY_FREELISTS 25
#endif

static inline void *GC_malloc_kind(size_t n, int kind) { return GC_generic_malloc(n, kind); }
static inline void *GC_malloc_kind_global(size_t n, int kind) { return GC_malloc_kind(n, kind); }

static inline void GC_generic_malloc_many(size_t n, int kind, void **result) {
    (void)kind; /* the list's links are pointers: its objects are scanned, whatever kind */
    *result = GC_malloc_many(n);
}

#define GC_FAST_MALLOC_GRANS(result, lg, tiny_fl, num_direct, k, default_expr, init) \
    do {                                                                              \
        (void)(tiny_fl);                                                              \
        (void)(num_direct);                                                           \
        (void)(k);                                                                    \
        (void)(lg);                                                                   \
        result = (default_expr);                                                      \
        if (result) {                                                                 \
            init;                                                                     \
        }                                                                             \
    } while (0)

#define GC_MALLOC_WORDS_KIND(result, n, tiny_fl, k, init)                                \
    do {                                                                                  \
        size_t grt_lg_ = GC_PTRS_TO_WHOLE_GRANULES(n);                                    \
        GC_FAST_MALLOC_GRANS(result, grt_lg_, tiny_fl, 0, k,                              \
                             GC_malloc_kind(GC_RAW_BYTES_FROM_INDEX(grt_lg_), k), init); \
    } while (0)
#define GC_MALLOC_WORDS(result, n, tiny_fl) \
    GC_MALLOC_WORDS_KIND(result, n, tiny_fl, GC_I_NORMAL, (void)0)
#define GC_MALLOC_ATOMIC_WORDS(result, n, tiny_fl) \
    GC_MALLOC_WORDS_KIND(result, n, tiny_fl, GC_I_PTRFREE, (void)0)
#define GC_CONS(result, first, second, tiny_fl)                                   \
    do {                                                                          \
        void *grt_l_ = (void *)(first), *grt_r_ = (void *)(second);              \
        GC_MALLOC_WORDS_KIND(result, 2, tiny_fl, GC_I_NORMAL, (void)0);           \
        if ((result) != NULL) {                                                   \
            GRT_STORE((void **)(result), grt_l_);                                 \
            GRT_STORE((void **)(result) + 1, grt_r_);                             \
        }                                                                         \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif
