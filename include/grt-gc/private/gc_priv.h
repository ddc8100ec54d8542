/*
 * What bdwgc's tests take from its private gc_priv.h (they include it), for programs built
 * against grt's gc.h: the collector's API, a small random-number generator (GC_RAND_NEXT), a
 * clock (GET_TIME, MS_TIME_DIFF) and COVERT_DATAFLOW. Nothing of bdwgc's internals.
 */
#ifndef GRT_GC_PRIV_H
#define GRT_GC_PRIV_H

#include <time.h>

#include "../gc/gc.h"
#include "gc_atomic_ops.h"
#include "gcconfig.h"

#define GC_RAND_MAX 0x7fff
#define GC_RAND_STATE_T unsigned
#define GC_RAND_NEXT(pseed) \
    ((int)(*(pseed) = (*(pseed) * 1103515245u + 12345u) & (unsigned)GC_RAND_MAX))

/* Hides a value's origin from the optimizer. */
#define COVERT_DATAFLOW(w) (w)

#define CLOCK_TYPE struct timespec
#define GET_TIME(t) clock_gettime(CLOCK_MONOTONIC, &(t))
#define MS_TIME_DIFF(a, b)                                                   \
    ((unsigned long)(((a).tv_sec - (b).tv_sec) * 1000 +                      \
                     ((long)(a).tv_nsec - (long)(b).tv_nsec) / 1000000))
#define NS_FRAC_TIME_DIFF(a, b) \
    ((unsigned long)(((long)(a).tv_nsec - (long)(b).tv_nsec + 1000000000L) % 1000000))

#endif
