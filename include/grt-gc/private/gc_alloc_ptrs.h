/*
 * What bdwgc's private gc_alloc_ptrs.h gives programs that include it: the addresses of the
 * free lists of the predefined kinds and two counters of allocated and freed bytes. grt
 * keeps no such lists (allocation bumps through per-thread runs); the pointers name empty
 * arrays of the size bdwgc's have, and the counters are accepted with no effect (grt
 * counts its own allocation).
 */
#ifndef GRT_GC_ALLOC_PTRS_H
#define GRT_GC_ALLOC_PTRS_H

#include "../gc/gc.h"

#ifdef __cplusplus
extern "C" {
#endif

__attribute__((__weak__)) void *grt_gc_empty_fl_[4][129];
__attribute__((__weak__)) void **const GC_objfreelist_ptr = grt_gc_empty_fl_[0];
__attribute__((__weak__)) void **const GC_aobjfreelist_ptr = grt_gc_empty_fl_[1];
__attribute__((__weak__)) void **const GC_uobjfreelist_ptr = grt_gc_empty_fl_[2];
__attribute__((__weak__)) void **const GC_auobjfreelist_ptr = grt_gc_empty_fl_[3];

static inline void GC_incr_bytes_allocd(size_t n) { (void)n; }
static inline void GC_incr_bytes_freed(size_t n) { (void)n; }

#ifdef __cplusplus
}
#endif

#endif
