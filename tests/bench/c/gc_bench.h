/*
 * What the collector's benchmark programs (gc_rescan_bench.c, gc_pause_bench.c) share: the
 * stamped objects that prove nothing reachable was freed, the churn of top frames (a chain of
 * fresh objects linked with GRT_STORE), and small helpers. Include after bench.h (its die and cmp_u64).
 */
#ifndef GRT_GC_BENCH_H
#define GRT_GC_BENCH_H

#include <stdint.h>
#include <stdlib.h>

#define FRAME_STAMP 0xf4a3e0000000ull
#define CHURN_STAMP 0xc4c40000000ull

struct obj {
    uint64_t stamp;
    struct obj *next;
};

/* Makes the compiler keep *p in memory across calls (the frames must be real). */
__attribute__((noinline)) static void opaque(void *p) {
    __asm__ volatile("" : : "r"(p) : "memory");
}

static struct obj *new_obj(uint64_t stamp) {
    struct obj *o = grt_alloc(sizeof *o);
    if (o == NULL)
        die("grt_alloc returned NULL");
    o->stamp = stamp;
    return o;
}

__attribute__((noinline)) static struct obj *churn_leaf(struct obj *prev, uint64_t k) {
    struct obj *o = new_obj(CHURN_STAMP + k);
    GRT_STORE(&o->next, prev);
    return o;
}

__attribute__((noinline)) static struct obj *churn_pair(struct obj *prev, uint64_t k) {
    struct obj *a = churn_leaf(prev, k);
    struct obj *b = churn_leaf(a, k + 1);
    opaque(&b);
    return b;
}

/* Objects on the list from `head` that do not carry the stamps they were made with. */
static long check_chain(const struct obj *head, long rounds) {
    long bad = 0;
    uint64_t k = 2 * (uint64_t)rounds;
    for (; k > 0 && head != NULL; head = head->next)
        bad += head->stamp != CHURN_STAMP + --k;
    return bad + (k != 0 || head != NULL);
}

static uint64_t median(uint64_t *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_u64);
    return v[n / 2];
}

static int parse(const char *s, int lo, int hi, const char *what) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end != 0 || v < lo || v > hi) {
        fprintf(stderr, BENCH_NAME ": bad %s %s (%d..%d)\n", what, s, lo, hi);
        exit(2);
    }
    return (int)v;
}

#endif
