/*
 * What the C benchmark programs share: ending with a message when a grt call fails.
 * Define BENCH_NAME (the program's name, for messages) before including this.
 */
#ifndef GRT_BENCH_H
#define GRT_BENCH_H

#include <stdio.h>
#include <stdlib.h>

#include "grt.h"

static void fail(const char *what, int code) {
    fflush(stdout);
    fprintf(stderr, BENCH_NAME ": %s: %s (%d)\n", what, grt_strerror(code), code);
    exit(1);
}

/* Calls a grt function that returns GRT_OK or an error code. */
#define CHECK(call)                     \
    do {                                \
        int rc_ = (call);               \
        if (rc_ != GRT_OK)              \
            fail(#call, rc_);           \
    } while (0)

#endif
