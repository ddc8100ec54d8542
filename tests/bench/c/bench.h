/*
 * What the C benchmark programs share: ending with a message when a grt call fails or a
 * check does, and sorting their figures.
 * Define BENCH_NAME (the program's name, for messages) before including this.
 */
#ifndef GRT_BENCH_H
#define GRT_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "grt.h"

static void fail(const char *what, int code) {
    fflush(stdout);
    fprintf(stderr, BENCH_NAME ": %s: %s (%d)\n", what, grt_strerror(code), code);
    exit(1);
}

/* Ends the program with a message (a damaged structure, a failed check). */
static inline void die(const char *what) {
    fflush(stdout);
    fprintf(stderr, BENCH_NAME ": %s\n", what);
    exit(1);
}

/* For qsort: ascending uint64_t. */
static inline int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Calls a grt function that returns GRT_OK or an error code. */
#define CHECK(call)                     \
    do {                                \
        int rc_ = (call);               \
        if (rc_ != GRT_OK)              \
            fail(#call, rc_);           \
    } while (0)

#endif
