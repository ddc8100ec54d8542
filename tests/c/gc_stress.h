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

#endif
