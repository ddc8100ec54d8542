/*
 * gc/gc_typed.h over grt: typed allocation (bdwgc 8.x). A descriptor says which words of an
 * object may hold pointers; grt scans every word of an object that may hold any (a
 * conservative scan finds every pointer a precise one would), so a descriptor only tells
 * objects with pointers from objects without: those are allocated atomic (never scanned).
 *   GC_make_descriptor       the bitmap's first n bits: any set, an object to scan
 *   GC_malloc_explicitly_typed, GC_malloc_explicitly_typed_ignore_off_page,
 *   GC_calloc_explicitly_typed, GC_calloc_prepare_explicitly_typed,
 *   GC_calloc_do_explicitly_typed, and their macros   grt_try_alloc or grt_try_alloc_atomic
 *                            (zeroed; NULL, or GC_oom_fn's answer, when the heap cannot have
 *                            it or n x size overflows)
 */
#ifndef GRT_GC_TYPED_H
#define GRT_GC_TYPED_H

#include <stddef.h>

#include "gc.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GC_WORDSZ (8 * sizeof(GC_word))
#define GC_SIZEOF_IN_PTRS(t) (sizeof(t) / sizeof(void *))
#define GC_OFFSETOF_IN_PTRS(t, f) (offsetof(t, f) / sizeof(void *))
#define GC_WORD_LEN(t) GC_SIZEOF_IN_PTRS(t)
#define GC_WORD_OFFSET(t, f) GC_OFFSETOF_IN_PTRS(t, f)
typedef GC_word *GC_bitmap;
#define GC_BITMAP_SIZE(t) ((GC_SIZEOF_IN_PTRS(t) + GC_WORDSZ - 1) / GC_WORDSZ)
#define GC_set_bit(bm, i) ((bm)[(i) / GC_WORDSZ] |= (GC_word)1 << ((i) % GC_WORDSZ))
#define GC_get_bit(bm, i) (((bm)[(i) / GC_WORDSZ] >> ((i) % GC_WORDSZ)) & 1)

/* grt's descriptors: GRT_GC_DESCR_SCAN set, the object may hold pointers. */
typedef GC_word GC_descr;
#define GRT_GC_DESCR_SCAN ((GC_descr)1)

static inline GC_descr GC_make_descriptor(const GC_word *bm, size_t nbits) {
    for (size_t i = 0; i < nbits; i++)
        if (GC_get_bit(bm, i)) return GRT_GC_DESCR_SCAN;
    return 0;
}

static inline void *GC_malloc_explicitly_typed(size_t n, GC_descr d) {
    return (d & GRT_GC_DESCR_SCAN) ? GC_malloc(n) : GC_malloc_atomic(n);
}
static inline void *GC_malloc_explicitly_typed_ignore_off_page(size_t n, GC_descr d) {
    return GC_malloc_explicitly_typed(n, d);
}
static inline void *GC_calloc_explicitly_typed(size_t n, size_t size, GC_descr d) {
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes)) return grt_gc_oom_(~(size_t)0);
    return GC_malloc_explicitly_typed(bytes, d);
}

/* The two-step form: a prepared request, then the allocation. */
#define GC_CALLOC_TYPED_DESCR_PTRS 1
#define GC_CALLOC_TYPED_DESCR_WORDS 8
struct GC_calloc_typed_descr_s {
    GC_uintptr_t opaque_p[GC_CALLOC_TYPED_DESCR_PTRS];
    GC_word opaque[GC_CALLOC_TYPED_DESCR_WORDS - GC_CALLOC_TYPED_DESCR_PTRS];
};
/* 1 when n x size fits (the request is ready), 0 when it overflows. */
static inline int GC_calloc_prepare_explicitly_typed(struct GC_calloc_typed_descr_s *pctd,
                                                     size_t sizeof_ctd, size_t n, size_t size,
                                                     GC_descr d) {
    size_t bytes;
    (void)sizeof_ctd;
    pctd->opaque[1] = d;
    if (__builtin_mul_overflow(n, size, &bytes)) {
        pctd->opaque[0] = ~(GC_word)0;
        return 0;
    }
    pctd->opaque[0] = bytes;
    return 1;
}
static inline void *GC_calloc_do_explicitly_typed(const struct GC_calloc_typed_descr_s *pctd,
                                                  size_t sizeof_ctd) {
    (void)sizeof_ctd;
    if (pctd->opaque[0] == ~(GC_word)0) return grt_gc_oom_(~(size_t)0);
    return GC_malloc_explicitly_typed((size_t)pctd->opaque[0], (GC_descr)pctd->opaque[1]);
}

#define GC_MALLOC_EXPLICITLY_TYPED(bytes, d) GC_malloc_explicitly_typed(bytes, d)
#define GC_MALLOC_EXPLICITLY_TYPED_IGNORE_OFF_PAGE(bytes, d) \
    GC_malloc_explicitly_typed_ignore_off_page(bytes, d)
#define GC_CALLOC_EXPLICITLY_TYPED(n, bytes, d) GC_calloc_explicitly_typed(n, bytes, d)

#ifdef __cplusplus
}
#endif

#endif
