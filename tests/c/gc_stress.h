/*
 * The collector side of the stress tests (gc_scandone.c, gc_offstack.c, gc_sibcall.c,
 * gc_fpless.c, tests/corpus/shapes.c): a goroutine that runs collections back to back for
 * GRT_STRESS_MS milliseconds, optionally allocating garbage of the tracked objects' size
 * between them (so that a slot freed by mistake is handed out again and overwritten), then
 * tells the workers to stop.
 */
#ifndef GRT_TEST_GC_STRESS_H
#define GRT_TEST_GC_STRESS_H

#include "gc_tobj.h"

struct gc_stress {
    uint64_t ms;           /* how long */
    unsigned junk;         /* garbage objects allocated before each cycle */
    volatile int *stop;    /* set at the end */
    grt_waitgroup *done;   /* and one grt_wg_done */
};

/* A goroutine body: arg is a struct gc_stress. */
static void gc_stress_collector(void *arg) {
    struct gc_stress *s = arg;
    uint64_t end = grt_nanotime() + s->ms * 1000000ull;
    while (grt_nanotime() < end) {
        for (unsigned i = 0; i < s->junk; i++) {
            uint64_t *junk = grt_alloc(sizeof(struct tobj));
            for (unsigned k = 0; k < sizeof(struct tobj) / 8; k++) junk[k] = 0x5a5a5a5a5a5a5a5aull;
        }
        CHECK_EQ(grt_gc(), GRT_OK);
    }
    *s->stop = 1;
    grt_wg_done(s->done);
}

/* Fills *st and prints "covered:" with the collector's counters (every stress test reports
 * the same ones); the test adds its own with t_put_kv and ends the line. */
static void gc_stress_covered(struct grt_gc_stats *st) {
    CHECK_EQ(grt_gc_stats(st), GRT_OK);
    t_puts(1, "covered:");
    t_put_kv("cycles", st->cycles);
    t_put_kv("frames_scanned", st->frames_scanned);
    t_put_kv("barriers_installed", st->barriers_installed);
    t_put_kv("barriers_hit", st->barriers_hit);
    t_put_kv("barriers_unprovable", st->barriers_unprovable);
    t_put_kv("stacks_rescanned_whole", st->stacks_rescanned_whole);
}

/* Objects only the frames of a recursion hold: gc_deep(n, bottom) recurses n frames, each
 * with a tracked object in a volatile local that it checks on the way out, and calls bottom()
 * at the end. The objects are also recorded masked (so the table is no root), so that
 * gc_deep_check() can check them all from the bottom or from elsewhere while the run goes on.
 * The test defines GC_DEEP_MAX (the deepest n) and GC_DEEP_TEST (its name) first. */
#ifdef GC_DEEP_MAX
#define GC_DEEP_MASK 0xa5a5a5a5a5a5a5a5ull
static uintptr_t gc_deep_masked[GC_DEEP_MAX + 1];
static uint64_t gc_deep_serials[GC_DEEP_MAX + 1];

static void gc_deep_check(void) {
    for (int i = 0; i <= GC_DEEP_MAX; i++)
        tobj_check(GC_DEEP_TEST, " (frame)", (unsigned)i,
                   (struct tobj *)(gc_deep_masked[i] ^ GC_DEEP_MASK), gc_deep_serials[i]);
}

static __attribute__((noinline)) long gc_deep(int n, void (*bottom)(void)) {
    struct tobj *volatile o = tobj_new();
    uint64_t s = o->serial;
    gc_deep_masked[n] = (uintptr_t)o ^ GC_DEEP_MASK;
    gc_deep_serials[n] = s;
    long r = 0;
    if (n > 0)
        r = gc_deep(n - 1, bottom);
    else
        bottom();
    tobj_check(GC_DEEP_TEST, " (frame)", (unsigned)n, o, s);
    return r + 1;
}
#endif

#endif
