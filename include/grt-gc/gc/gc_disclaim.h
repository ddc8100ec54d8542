/*
 * gc/gc_disclaim.h over grt: finalized allocation. GC_finalized_malloc(size, fc) allocates an
 * object on which fc->proc(obj, fc->cd) runs once it is unreachable, with fc read then (so a
 * closure filled in after the allocation works, as with bdwgc). The object carries fc in a
 * hidden first 16 bytes (as bdwgc's does in its first word): GC_finalized_malloc returns the
 * address after them, and grt runs the call as the object's finalizer (grt_set_finalizer:
 * an object reachable from another finalizable one is finalized in a later cycle; bdwgc runs
 * it as the object is reclaimed, in any order). GC_init_finalized_malloc has no effect.
 * GC_register_disclaim_proc(kind, proc, mark_unconditionally): every object GC_generic_malloc
 * allocates of that kind from then on gets proc as its disclaim (grt_set_disclaim, with
 * GRT_DISCLAIM_MARK_CONTENTS for mark_unconditionally). proc runs on grt's finalizer
 * goroutine, not as the object is swept with the allocator lock held as in bdwgc: nonzero
 * keeps the object, 0 lets it go; while it is pending, GC_is_marked(obj) says whether
 * GC_set_mark_bit revived it since the cycle found it unreachable. proc is only ever called
 * on objects that were allocated (never on a free-list entry).
 */
#ifndef GRT_GC_DISCLAIM_H
#define GRT_GC_DISCLAIM_H

#include "gc.h"
#include "gc_mark.h"

typedef int(GC_CALLBACK *GC_disclaim_proc)(void * /* obj */);

static inline void GC_register_disclaim_proc(int kind, GC_disclaim_proc proc, int mark_unconditionally) {
    unsigned f = grt_gc_kind_flags_(kind); /* aborts with a message for a bad kind */
    if (f & GRT_GC_KIND_UNCOLL) {
        fprintf(stderr, "grt: gc.h: GC_register_disclaim_proc: kind %d is uncollectable\n", kind);
        abort();
    }
    __atomic_store_n(&grt_gc_kinds_[kind],
                     (unsigned char)(mark_unconditionally ? f | GRT_GC_KIND_DISCLAIM_MARK
                                                          : f & ~GRT_GC_KIND_DISCLAIM_MARK),
                     __ATOMIC_RELAXED);
    __atomic_store_n(&grt_gc_kind_disclaim_[kind], proc, __ATOMIC_RELEASE);
}

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
    grt_gc_unwatch_(base); /* leak mode: its finalizer, not a leak report */
    *(const struct GC_finalizer_closure **)base = fc;
    (void)grt_set_finalizer(base, grt_gc_fclos_run_, NULL);
    return base + GRT_GC_FCLOS_HDR;
}

#endif
