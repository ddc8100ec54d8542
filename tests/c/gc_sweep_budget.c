/* grt-test: exit=0 stdout="ok one allocation sweeps at most the budget, nothing live reused" stdout="PASS" env="GRTMAXPROCS=2" env="GRTGC=off"
 *
 * An allocation sweeps at most SWEEP_BUDGET spans (mheap.rs SWEEP_CLASS_BUDGET) of its size
 * class looking for room, then takes fresh pages: it holds the heap lock, and waits, for a
 * bounded time however many of the class's spans are full of live objects.
 *
 * NLIVE objects of one size class stay reachable (from a heap array a global points to),
 * about 2,350 spans (170 to a page) that each flip leaves unswept and full. A goroutine
 * runs grt_gc(); the main goroutine waits for that cycle's mark termination (its pause in
 * grt_gc_stats) and allocates NNEW objects of that class at once, while the collector
 * sweeps in the background (grt_gc returns only after the sweep). The first of them finds
 * no span with room: with the budget it sweeps exactly SWEEP_BUDGET spans and takes a fresh
 * one (the background sweep gets through far fewer than 2,350 spans in the time). The test
 * checks the most spans one allocation swept (grt_gc_stats' alloc_sweep_max_spans: exactly
 * the budget), that every live object kept its stamp, and that no new object landed on a
 * live one.
 *
 * Teeth: gc_sweep_budget_teeth.c, with GRTDEBUG=gcnosweepbudget=1 (no budget: the first
 * allocation sweeps the class until it finds room, hundreds of spans).
 */
#include "check.h"

#define NLIVE 400000
#define NNEW 4000
#define CYCLES 4
#define SWEEP_BUDGET 64
#define STAMP 0x5b0d6e7000000000ull

/* 48 bytes: one size class for all of them. */
struct obj {
    uint64_t stamp;
    uint64_t pad[5];
};

static struct obj **live; /* a heap array: a root through this global */

static void put_kv_line(const char *what, uint64_t v) {
    t_puts(1, what);
    t_put_kv("value", v);
    t_puts(1, "\n");
}

static grt_waitgroup gc_done = GRT_WAITGROUP_INIT;

static void gc_once(void *arg) {
    (void)arg;
    CHECK_EQ(grt_gc(), GRT_OK);
    CHECK_EQ(grt_wg_done(&gc_done), GRT_OK);
}

static void main_goroutine(void *arg) {
    (void)arg;
    live = grt_alloc(NLIVE * sizeof *live);
    CHECK(live != 0);
    for (long i = 0; i < NLIVE; i++) {
        live[i] = grt_alloc(sizeof(struct obj));
        CHECK(live[i] != 0);
        live[i]->stamp = STAMP + (uint64_t)i;
    }
    struct obj **fresh = grt_alloc(NNEW * sizeof *fresh);
    CHECK(fresh != 0);
    struct grt_gc_stats st;
    for (int c = 0; c < CYCLES; c++) {
        CHECK_EQ(grt_gc_stats(&st), GRT_OK);
        uint64_t markterm = st.last_markterm_ns, cycles = st.cycles;
        CHECK_EQ(grt_wg_add(&gc_done, 1), GRT_OK);
        CHECK_EQ(grt_go(gc_once, 0), GRT_OK);
        /* Until the cycle's mark termination is over: its sweep has just begun. */
        do {
            CHECK_EQ(grt_gc_stats(&st), GRT_OK);
            CHECK(st.cycles == cycles); /* not over yet (then the sweep would be, too) */
        } while (st.last_markterm_ns == markterm);
        for (int i = 0; i < NNEW; i++) {
            fresh[i] = grt_alloc(sizeof(struct obj));
            CHECK(fresh[i] != 0);
            /* A fresh object is zeroed: one that landed on a live object would not be, or
             * that object's stamp below would be gone. */
            CHECK_EQ(fresh[i]->stamp, 0);
            fresh[i]->stamp = ~0ull;
        }
        CHECK_EQ(grt_wg_wait(&gc_done), GRT_OK);
        for (long i = 0; i < NLIVE; i++) CHECK_EQ(live[i]->stamp, STAMP + (uint64_t)i);
    }
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    put_kv_line("alloc_sweep_max_spans", st.alloc_sweep_max_spans);
    if (st.alloc_sweep_max_spans > SWEEP_BUDGET) {
        t_puts(2, "gc_sweep_budget: one allocation swept ");
        t_putu(2, st.alloc_sweep_max_spans, 10);
        t_puts(2, " spans, more than the budget\n");
        grt_exit(1);
    }
    /* The budget's path ran: a search used all of it (the class's spans were full). */
    CHECK_EQ(st.alloc_sweep_max_spans, SWEEP_BUDGET);
    t_puts(1, "ok one allocation sweeps at most the budget, nothing live reused\n");
    t_puts(1, "PASS\n");
}

int main(void) { return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1; }
