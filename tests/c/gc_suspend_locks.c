/* grt-test: exit=0 stdout="ok no deadlock between grt_suspend and the world lock" stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcrescanpushslow=1"
 *
 * grt_suspend stops a running goroutine's M wherever it is, also inside the runtime with one
 * of its locks held: here, inside a push to the collector's rescan list (RESCAN_LOCK), which
 * the test-only GRTDEBUG=gcrescanpushslow=1 makes last 20 µs. The collector must then wait
 * for that lock until grt_resume lets the M go, and grt_resume takes SUSPEND_LOCK: the world
 * lock must not hold SUSPEND_LOCK while it waits for the others (mgc.rs, lock order). Before,
 * it took SUSPEND_LOCK second and waited forever (found as a hang of gc_scandone_teeth under
 * qemu: a plain thread's grt_traceback had stopped an M inside a push).
 *
 *   - WORKERS goroutines yield in a loop: each one's first run after its scan in a cycle
 *     pushes it on the rescan list, from its M's scheduler (on g0, before it switches to it);
 *   - a plain thread (grt_thread_start, not an M) suspends them in turn, and holds each one
 *     it stopped on a CPU for HOLD_US before grt_resume: stopped in its own code (the
 *     registers from the signal), or with its M on g0 between switches (reported as its
 *     saved context, on_signal 0), which is where the pushes are;
 *   - a goroutine runs collections back to back for GRT_STRESS_MS (default 2000 ms);
 *   - a second plain thread watches the collections: none finished for WATCHDOG_MS is a
 *     deadlock (stderr "deadlock", exit 1).
 * The run must have finished collections and stopped Ms both ways, on g0 too (else it
 * proved nothing). Teeth: gc_suspend_locks_teeth.c (GRTDEBUG=gcsuspendlockfirst=1).
 */
#include "check.h"

#define WORKERS 16
#define HOLD_US 100
#define WATCHDOG_MS 10000
#ifndef SUSPEND_LOCKS_DEFAULT_MS
#define SUSPEND_LOCKS_DEFAULT_MS 2000
#endif

static volatile int stop;
static volatile uint64_t goids[WORKERS];
static volatile uint64_t cycles, stopped_running, stopped_on_g0, suspensions;
static grt_waitgroup done = GRT_WAITGROUP_INIT;
static uint64_t run_ms;

static void worker(void *arg) {
    goids[(uintptr_t)arg] = grt_goid();
    while (!stop) {
        for (volatile int k = 0; k < 200; k++) {
        }
        CHECK_EQ(grt_yield(), GRT_OK);
    }
    grt_wg_done(&done);
}

static void spin_us(uint64_t us) {
    uint64_t end = grt_nanotime() + us * 1000;
    while (grt_nanotime() < end) {
    }
}

/* A plain thread: suspend each worker in turn; hold the ones stopped on a CPU. */
static void suspender(void *arg) {
    (void)arg;
    while (!stop) {
        for (int i = 0; i < WORKERS && !stop; i++) {
            grt_gregs r;
            uint64_t id = goids[i];
            if (!id || grt_suspend(id, &r) != GRT_OK) continue;
            suspensions++;
            if (r.state == GRT_GSTATE_RUNNING) {
                if (r.on_signal)
                    stopped_running++;
                else
                    stopped_on_g0++;
                spin_us(HOLD_US);
            }
            CHECK_EQ(grt_resume(id), GRT_OK);
        }
    }
}

/* A plain thread: a collection must finish every WATCHDOG_MS while the run lasts. */
static void watchdog(void *arg) {
    (void)arg;
    uint64_t seen = cycles, since = grt_nanotime();
    while (!stop) {
        spin_us(1000);
        if (cycles != seen) {
            seen = cycles;
            since = grt_nanotime();
        } else if (grt_nanotime() - since > (uint64_t)WATCHDOG_MS * 1000000) {
            t_puts(2, "gc_suspend_locks: deadlock: no collection finished for ");
            t_putu(2, WATCHDOG_MS, 10);
            t_puts(2, " ms\n");
            grt_exit(1);
        }
    }
}

static void collector(void *arg) {
    (void)arg;
    uint64_t end = grt_nanotime() + run_ms * 1000000;
    while (grt_nanotime() < end) {
        CHECK_EQ(grt_gc(), GRT_OK);
        cycles++;
    }
    stop = 1;
    grt_wg_done(&done);
}

static void main_goroutine(void *arg) {
    (void)arg;
    grt_thread *s, *w;
    grt_wg_add(&done, WORKERS + 1);
    for (uintptr_t i = 0; i < WORKERS; i++) CHECK_EQ(grt_go(worker, (void *)i), GRT_OK);
    for (int i = 0; i < WORKERS; i++)
        while (!goids[i]) grt_yield();
    CHECK_EQ(grt_thread_start(&w, watchdog, 0), GRT_OK);
    CHECK_EQ(grt_thread_start(&s, suspender, 0), GRT_OK);
    CHECK_EQ(grt_go(collector, 0), GRT_OK);
    CHECK_EQ(grt_wg_wait(&done), GRT_OK);
    CHECK_EQ(grt_thread_join(s), GRT_OK);
    CHECK_EQ(grt_thread_join(w), GRT_OK);
    t_puts(1, "covered:");
    t_put_kv("cycles", cycles);
    t_put_kv("suspensions", suspensions);
    t_put_kv("stopped_running", stopped_running);
    t_put_kv("stopped_on_g0", stopped_on_g0);
    t_puts(1, "\n");
    CHECK(cycles > 10);
    CHECK(stopped_running > 10);
    CHECK(stopped_on_g0 > 0);
    t_puts(1, "ok no deadlock between grt_suspend and the world lock\n");
    t_puts(1, "PASS\n");
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    run_ms = t_env_u64(envp, "GRT_STRESS_MS", SUSPEND_LOCKS_DEFAULT_MS);
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
