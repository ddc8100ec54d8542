/*
 * gc/javaxfc.h over grt: Java-style finalization (bdwgc 8.x).
 *   GC_finalize_all          grt_run_all_finalizers: every finalizer set runs now, whether
 *                            its object is reachable or not, each once (on the calling
 *                            thread, or grt's finalizer goroutine takes some); for the end
 *                            of a program
 */
#ifndef GRT_GC_JAVAXFC_H
#define GRT_GC_JAVAXFC_H

#include "gc.h"

#ifdef __cplusplus
extern "C" {
#endif

static inline void GC_finalize_all(void) {
    grt_gc_autoregister_();
    (void)grt_run_all_finalizers();
}

#ifdef __cplusplus
}
#endif

#endif
