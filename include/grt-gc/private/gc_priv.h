/*
 * What bdwgc's tests take from its private gc_priv.h (they include it), for programs built
 * against grt's gc.h: the collector's API, a small random-number generator (GC_RAND_NEXT), a
 * clock (GET_TIME, MS_TIME_DIFF), COVERT_DATAFLOW, tagged pointers (CPTR_SET_FLAGS),
 * LONG_MULT, GC_count_set_marks_in_hblk (from grt's mark bits), the word and block sizes, the predefined
 * kinds' numbers, and bdwgc's output calls (GC_printf to stdout, GC_log_printf and
 * GC_err_printf to stderr, ABORT). Nothing of bdwgc's internals.
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

/* A pointer with low tag bits set or cleared (bdwgc's, for flags kept in an aligned word). */
#define CPTR_SET_FLAGS(p, mask) ((void *)((GC_uintptr_t)(p) | (GC_uintptr_t)(mask)))
#define CPTR_CLEAR_FLAGS(p, mask) ((void *)((GC_uintptr_t)(p) & ~(GC_uintptr_t)(mask)))

/* Hides a value's origin from the optimizer. */
#define COVERT_DATAFLOW(w) (w)

#define CLOCK_TYPE struct timespec
#define GET_TIME(t) clock_gettime(CLOCK_MONOTONIC, &(t))
#define MS_TIME_DIFF(a, b)                                                   \
    ((unsigned long)(((a).tv_sec - (b).tv_sec) * 1000 +                      \
                     ((long)(a).tv_nsec - (long)(b).tv_nsec) / 1000000))
#define NS_FRAC_TIME_DIFF(a, b) \
    ((unsigned long)(((long)(a).tv_nsec - (long)(b).tv_nsec + 1000000000L) % 1000000))

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "../gc/gc_mark.h"

#define CPP_WORDSZ 64
#define CPP_PTRSZ 64
#define ALIGNMENT 8
#define GC_SIZEOF_PTR 8
#define HBLKSIZE 4096
#define PTRFREE GC_I_PTRFREE
#define NORMAL GC_I_NORMAL
#define UNCOLLECTABLE GRT_GC_KIND_UNCOLLECTABLE
#define AUNCOLLECTABLE GRT_GC_KIND_AUNCOLLECTABLE
#define ADDR(p) ((GC_word)(GC_uintptr_t)(p))
#define CAST_THRU_UINTPTR(t, x) ((t)(GC_uintptr_t)(x))
#define EXPECT(expr, outcome) __builtin_expect(expr, outcome)
#define BCOPY(x, y, n) memcpy(y, x, (size_t)(n))
#define BZERO(x, n) memset(x, 0, (size_t)(n))
#define GETENV(name) getenv(name)
#define VERBOSE 2
#define UNUSED_ARG(arg) ((void)(arg))
#define NUMERIC_TO_VPTR(v) ((void *)(GC_uintptr_t)(v))
typedef uint32_t unsigned32;
/* The 64-bit product of two 32-bit values, as its high and low halves. */
#define LONG_MULT(hprod, lprod, x, y)                                   \
    do {                                                                \
        uint64_t grt_prod_ = (uint64_t)(uint32_t)(x) * (uint32_t)(y);   \
        (hprod) = (unsigned32)(grt_prod_ >> 32);                        \
        (lprod) = (unsigned32)grt_prod_;                                \
    } while (0)

/* How many objects in p's HBLKSIZE block the last cycle kept (grt_gc_is_marked of each
 * object that starts in the block). */
static inline unsigned GC_count_set_marks_in_hblk(const void *p) {
    GC_uintptr_t lo = (GC_uintptr_t)p & ~(GC_uintptr_t)(HBLKSIZE - 1), a = lo;
    unsigned n = 0;
    while (a < lo + HBLKSIZE) {
        char *b = (char *)grt_base((void *)a);
        size_t sz = b ? grt_size(b) : 0;
        if (b == NULL || sz == 0) {
            a += 16; /* grt's smallest object */
            continue;
        }
        if ((GC_uintptr_t)b >= lo) n += grt_gc_is_marked(b) != 0;
        a = (GC_uintptr_t)b + sz;
    }
    return n;
}

static inline void GC_printf(const char *fmt, ...) __attribute__((__format__(__printf__, 1, 2)));
static inline void GC_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}
static inline void GC_log_printf(const char *fmt, ...) __attribute__((__format__(__printf__, 1, 2)));
static inline void GC_log_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}
#define GC_err_printf GC_log_printf
#define ABORT(msg)                                    \
    do {                                              \
        fprintf(stderr, "%s\n", (const char *)(msg)); \
        abort();                                      \
    } while (0)

#endif
