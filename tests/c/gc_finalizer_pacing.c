/* grt-test: exit=0 stdout="ok the goal does not grow over finalizable garbage" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * The heap goal with every garbage object finalizable (bdwgc's disclaim_bench does this).
 * A live table of LIVE_MIB MiB stays reachable throughout; then TOTAL_MIB MiB of OBJ-byte
 * objects are made, each given a finalizer (which counts it) and dropped at once. A cycle
 * finds them dead and keeps them, and all they reach, one cycle more for their finalizers:
 * they are live bytes of that cycle. Grown over like the rest (GRTGC=100: twice), they made
 * each goal larger than the last by the live table's size, cycle after cycle (linearly,
 * with no bound). The collector counts them in the goal without growing over them
 * (mgc.rs goal_for), so the goal stays near twice the live table plus one cycle's garbage:
 * the highest goal seen (grt_gc_stats, after every MiB, which also runs the due finalizers:
 * grt_run_finalizers) must stay under GOAL_MAX_MIB. At the
 * end, at least 99% of the finalizers have run and the live table is intact.
 * Teeth: gc_finalizer_pacing_teeth.c (GRTDEBUG=gcgrowrevived=1: grown over, as Go does).
 */
#include "check.h"

#define LIVE_MIB 4
#define TOTAL_MIB 64
#define OBJ 128
#define GOAL_MAX_MIB 32
#define LIVE_OBJ 4096

struct obj {
    struct obj *next;
    uint64_t serial;
    char pad[OBJ - 16];
};

static uint64_t finalized;

static void fin(void *o, void *arg) {
    (void)arg;
    CHECK(((struct obj *)o)->serial != 0);
    __atomic_add_fetch(&finalized, 1, __ATOMIC_RELAXED);
}

static void main_g(void *arg) {
    (void)arg;
    size_t nlive = (size_t)LIVE_MIB * 1024 * 1024 / LIVE_OBJ;
    void **live = grt_alloc(nlive * sizeof(void *));
    CHECK(live != 0);
    for (size_t i = 0; i < nlive; i++) {
        uint64_t *b = grt_alloc_atomic(LIVE_OBJ);
        CHECK(b != 0);
        b[0] = i + 1;
        GRT_STORE(&live[i], (void *)b);
    }
    struct grt_gc_stats st;
    uint64_t goal_max = 0, made = 0;
    size_t per_mib = 1024 * 1024 / OBJ;
    for (int mib = 0; mib < TOTAL_MIB; mib++) {
        for (size_t k = 0; k < per_mib; k++) {
            struct obj *o = grt_alloc(sizeof *o);
            CHECK(o != 0);
            o->serial = ++made;
            CHECK_EQ(grt_set_finalizer(o, fin, 0), GRT_OK);
        }
        /* Due finalizers not yet run are roots, not kept only for finalizers: run them
         * here, so that a finalizer goroutine lagging on a loaded machine (or under qemu)
         * cannot make the goal grow. */
        CHECK(grt_run_finalizers() >= 0);
        CHECK_EQ(grt_gc_stats(&st), GRT_OK);
        if (st.heap_goal > goal_max) goal_max = st.heap_goal;
    }
    /* The finalizers run on their own goroutine: give them cycles and time. */
    for (int i = 0; i < 200 && __atomic_load_n(&finalized, __ATOMIC_RELAXED) < made / 100 * 99; i++) {
        CHECK_EQ(grt_gc(), GRT_OK);
        grt_sleep_ns(1000000);
    }
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    t_puts(1, "covered:");
    t_put_kv("cycles", st.cycles);
    t_put_kv("made", made);
    t_put_kv("finalized", __atomic_load_n(&finalized, __ATOMIC_RELAXED));
    t_put_kv("goal_max_kib", goal_max / 1024);
    t_puts(1, "\n");
    for (size_t i = 0; i < nlive; i++) CHECK_EQ(((uint64_t *)live[i])[0], i + 1);
    CHECK(__atomic_load_n(&finalized, __ATOMIC_RELAXED) >= made / 100 * 99);
    if (goal_max >= (uint64_t)GOAL_MAX_MIB << 20) {
        t_puts(2, "gc_finalizer_pacing: the heap goal grew to ");
        t_putu(2, goal_max >> 20, 10);
        t_puts(2, " MiB over finalizable garbage (the bound is ");
        t_putu(2, GOAL_MAX_MIB, 10);
        t_puts(2, " MiB)\n");
        grt_exit(1);
    }
    t_puts(1, "ok the goal does not grow over finalizable garbage\n");
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
