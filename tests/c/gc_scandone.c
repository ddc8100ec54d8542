/* grt-test: exit=0 stdout="ok deep frames survive skipped scans" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * A stack the collector did not scan in a cycle is rescanned whole at mark termination,
 * whatever barriers it still holds (Go's gcscandone).
 *
 * The shape that broke it: a plain thread (not a goroutine) walks a 600-frame goroutine with
 * grt_traceback in a loop while cycles run back to back. grt_traceback holds the goroutine's
 * scan bit (grt_suspend) and then its stack lock. So
 *   - in one cycle, mark termination finds the stack lock held and keeps the barriers, and
 *   - in a later cycle, the concurrent scan finds the goroutine held by grt_suspend and skips
 *     it. If mark termination then trusted the old barriers, it would rescan only below the
 *     lowest one and never look at the frames above it in this cycle: the objects only those
 *     frames hold are freed and handed out again (garbage allocations overwrite them).
 * Each of the 600 frames holds a tracked object (gc_tobj.h) in a volatile local and checks it
 * on the way out; the bottom frame checks them all every few milliseconds. The run lasts GRT_STRESS_MS (default 1000 ms) and reports how often the
 * collector had to rescan a stack whole (grt_gc_stats.stacks_rescanned_whole), which must
 * happen: otherwise the test did not reach the case.
 */
#define DEPTH 600
#define GC_DEEP_MAX DEPTH
#define GC_DEEP_TEST "gc_scandone"
#include "gc_stress.h"

#ifndef SCANDONE_DEFAULT_MS
#define SCANDONE_DEFAULT_MS 1000
#endif

static volatile int stop;
static volatile uint64_t deep_goid;
static volatile unsigned long walks;

/* The bottom frame checks every frame's object every few milliseconds, so a loss is caught
 * while the run goes on. */
static void bottom(void) {
    deep_goid = grt_goid();
    while (!stop) {
        grt_sleep_ns(200000); /* parked: scanned with barriers, then held */
        gc_deep_check();
    }
}

static grt_waitgroup done = GRT_WAITGROUP_INIT;

static void deep_goroutine(void *arg) {
    (void)arg;
    CHECK_EQ(gc_deep(DEPTH, bottom), DEPTH + 1);
    grt_wg_done(&done);
}

/* A plain thread: grt_traceback holds the goroutine (scan bit), then its stack lock. */
static void walker(void *arg) {
    (void)arg;
    uintptr_t pcs[64];
    while (!stop) {
        uint64_t id = deep_goid;
        if (id && grt_traceback(id, pcs, 64) > 0) walks++;
    }
}

/* Back-to-back cycles, and garbage of the tracked objects' size to take freed slots. */
static struct gc_stress stress = {0, 2000, &stop, &done};

static void main_goroutine(void *arg) {
    (void)arg;
    grt_thread *t;
    grt_wg_add(&done, 2);
    CHECK_EQ(grt_go(deep_goroutine, 0), GRT_OK);
    while (!deep_goid) grt_yield();
    CHECK_EQ(grt_thread_start(&t, walker, 0), GRT_OK);
    CHECK_EQ(grt_go(gc_stress_collector, &stress), GRT_OK);
    CHECK_EQ(grt_wg_wait(&done), GRT_OK);
    CHECK_EQ(grt_thread_join(t), GRT_OK);
    struct grt_gc_stats st;
    gc_stress_covered(&st);
    t_put_kv("walks", walks);
    t_puts(1, "\n");
    CHECK(walks > 0);
    CHECK(st.barriers_installed > 0);
    CHECK(st.stacks_rescanned_whole > 0);
    t_puts(1, "ok deep frames survive skipped scans\n");
    t_puts(1, "PASS\n");
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    stress.ms = t_env_u64(envp, "GRT_STRESS_MS", SCANDONE_DEFAULT_MS);
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
