/*
 * gc/gc_disclaim.h over grt: finalized allocation. GC_finalized_malloc(size, fc) allocates an
 * object on which fc->proc(obj, fc->cd) runs once it is unreachable, with fc read then (so a
 * closure filled in after the allocation works, as with bdwgc). The object carries fc in a
 * hidden first 16 bytes (as bdwgc's does in its first word): GC_finalized_malloc returns the
 * address after them, and grt runs the call as the object's finalizer (grt_set_finalizer:
 * an object reachable from another finalizable one is finalized in a later cycle; bdwgc runs
 * it as the object is reclaimed, in any order). GC_init_finalized_malloc has no effect.
 * Disclaim procedures of custom kinds (GC_register_disclaim_proc) are not provided.
 */
#ifndef GRT_GC_DISCLAIM_H
#define GRT_GC_DISCLAIM_H

#include "gc.h"

struct GC_finalizer_closure {
    GC_finalization_proc proc;
    void *cd;
};

/* Bytes before the object GC_finalized_malloc returns: the closure's address, padded to
 * keep the object 16-aligned. */
#define GRT_GC_FCLOS_HDR 16

static inline void GC_init_finalized_malloc(void) {}

static inline void grt_gc_fclos_run_(void *base, void *unused) {
    (void)unused;
    const struct GC_finalizer_closure *fc = *(const struct GC_finalizer_closure **)base;
    if (fc && fc->proc) fc->proc((char *)base + GRT_GC_FCLOS_HDR, fc->cd);
}

static inline void *GC_finalized_malloc(size_t n, const struct GC_finalizer_closure *fc) {
    if (n > (size_t)-1 - GRT_GC_FCLOS_HDR) return NULL;
    char *base = (char *)GC_malloc(n + GRT_GC_FCLOS_HDR);
    if (!base) return NULL;
    *(const struct GC_finalizer_closure **)base = fc;
    (void)grt_set_finalizer(base, grt_gc_fclos_run_, NULL);
    return base + GRT_GC_FCLOS_HDR;
}

#endif
