/* grt-test: exit=0 stdout="ok one allocation sweeps at most the budget, nothing live reused" stdout="PASS" env="GRTMAXPROCS=2" env="GRTGC=off"
 *
 * An allocation sweeps at most SWEEP_BUDGET pages' worth of its size class's unswept spans
 * (mheap.rs SWEEP_CLASS_BUDGET_PAGES) looking for room, then takes fresh pages: it holds the
 * heap lock, and waits, for a bounded time however many of the class's spans are full of
 * live objects.
 *
 * NLIVE objects of one size class (48 bytes, not scanned: grt_alloc_atomic) stay reachable,
 * about 2,350 one-page spans that each flip leaves unswept and full. A goroutine runs
 * grt_gc(); the main goroutine waits for that cycle's mark termination (its pause in
 * grt_gc_stats) and then allocates NNEW objects of that class at once, while the collector
 * sweeps in the background (grt_gc returns only after the sweep). The background sweep
 * takes the scanned classes first, and BALLAST live objects of a scanned class give the main
 * goroutine a head start of some 900 spans. The first allocation finds no span with room:
 * with the budget it sweeps exactly SWEEP_BUDGET spans and takes a fresh one. A cycle whose
 * mark termination the main goroutine saw only after the sweep was over (it was off its CPU)
 * is not counted; it tries again, up to MAX_TRIES cycles, until CAUGHT were caught. The test
 * checks the most pages one allocation swept (grt_gc_stats' alloc_sweep_max_pages: exactly
 * the budget), that every live object kept its stamp, and that no new object landed on a
 * live one.
 *
 * Teeth: gc_sweep_budget_teeth.c, with GRTDEBUG=gcnosweepbudget=1 (no budget: the first
 * allocation sweeps the class until it finds room, hundreds of spans).
 */
#include "check.h"

#define NLIVE 400000
#define BALLAST 230000
#define NNEW 4000
#define CAUGHT 2
#define MAX_TRIES 20
#define SWEEP_BUDGET 64
#define STAMP 0x5b0d6e7000000000ull

/* 48 bytes: one size class for all of them. */
struct obj {
    uint64_t stamp;
    uint64_t pad[5];
};

static struct obj **live; /* a heap array: a root through this global */
static void **ballast;    /* 32-byte scanned objects, kept */

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
    ballast = grt_alloc(BALLAST * sizeof *ballast);
    CHECK(live != 0 && ballast != 0);
    for (long i = 0; i < NLIVE; i++) {
        live[i] = grt_alloc_atomic(sizeof(struct obj));
        CHECK(live[i] != 0);
        live[i]->stamp = STAMP + (uint64_t)i;
    }
    for (long i = 0; i < BALLAST; i++) {
        ballast[i] = grt_alloc(32);
        CHECK(ballast[i] != 0);
    }
    struct obj **fresh = grt_alloc(NNEW * sizeof *fresh);
    CHECK(fresh != 0);
    struct grt_gc_stats st;
    int caught = 0, tries = 0;
    while (caught < CAUGHT && tries < MAX_TRIES) {
        tries++;
        CHECK_EQ(grt_gc_stats(&st), GRT_OK);
        uint64_t markterm = st.last_markterm_ns, cycles = st.cycles;
        CHECK_EQ(grt_wg_add(&gc_done, 1), GRT_OK);
        CHECK_EQ(grt_go(gc_once, 0), GRT_OK);
        /* Until the cycle's mark termination is over: its sweep has just begun. */
        int missed = 0;
        do {
            CHECK_EQ(grt_gc_stats(&st), GRT_OK);
            missed = st.cycles != cycles; /* over, sweep and all */
        } while (st.last_markterm_ns == markterm && !missed);
        for (int i = 0; i < NNEW; i++) {
            fresh[i] = grt_alloc_atomic(sizeof(struct obj));
            CHECK(fresh[i] != 0);
            /* A fresh object is zeroed: one that landed on a live object would not be, or
             * that object's stamp below would be gone. */
            CHECK_EQ(fresh[i]->stamp, 0);
            fresh[i]->stamp = ~0ull;
        }
        CHECK_EQ(grt_wg_wait(&gc_done), GRT_OK);
        CHECK_EQ(grt_gc_stats(&st), GRT_OK);
        caught += !missed && st.alloc_sweep_max_pages > 0;
        for (long i = 0; i < NLIVE; i++) CHECK_EQ(live[i]->stamp, STAMP + (uint64_t)i);
    }
    put_kv_line("alloc_sweep_max_pages", st.alloc_sweep_max_pages);
    t_puts(1, "cycles");
    t_put_kv("tried", (uint64_t)tries);
    t_put_kv("caught", (uint64_t)caught);
    t_puts(1, "\n");
    if (st.alloc_sweep_max_pages > SWEEP_BUDGET) {
        t_puts(2, "gc_sweep_budget: one allocation swept ");
        t_putu(2, st.alloc_sweep_max_pages, 10);
        t_puts(2, " pages of spans, more than the budget\n");
        grt_exit(1);
    }
    CHECK(caught > 0);
    /* The budget's path ran: a search used all of it (the class's spans were full). */
    CHECK_EQ(st.alloc_sweep_max_pages, SWEEP_BUDGET);
    t_puts(1, "ok one allocation sweeps at most the budget, nothing live reused\n");
    t_puts(1, "PASS\n");
}

int main(void) { return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1; }
