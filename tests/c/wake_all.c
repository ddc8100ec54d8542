/* grt-test: exit=0 stdout="ok every grt_gc caller returns" stdout="ok every wait group waiter returns" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * Wake-alls wake all. Every place grt wakes "everyone" waiting on a word must wake every
 * waiter, however many there are. FUTEX_WAKE reads its count as a C int, so a count of
 * UINT32_MAX is -1 and wakes exactly one thread: the others sleep on, forever.
 *
 *   - grt_gc from many callers at once: 8 goroutines (each waits as a system call, so each
 *     ends up on an M of its own) and 4 plain threads (wait directly) call grt_gc in a loop.
 *     All of them wait on the collector's cycle counter and must all come back, every
 *     round (the rounds run in lock step, so each cycle's end has many waiters). With the one-waiter wake, most callers never return (found by an outside
 *     check: 2 of 4 threads returned within 10 s, every run). The new Ms the goroutines
 *     need start while cycles stop the world, so Ms also wait for the world to restart.
 *   - A wait group with 64 goroutines parked in grt_wg_wait: one grt_wg_done releases all.
 *
 * Progress is watched by the main goroutine: no caller may go 5 s without a return.
 */
#include "check.h"

#define GOROUTINES 8
#define THREADS 4
#define ROUNDS 12
#define WG_WAITERS 64
#define STALL_NS 5000000000ull

static volatile unsigned long returned;   /* grt_gc calls that came back */
static volatile unsigned long round_open; /* callers start round r once this is r */

/* Rounds in lock step: every caller is inside grt_gc at about the same time, so a cycle's
 * end has many waiters, and a round hangs unless each of them is woken. */
static void gc_loop(int goroutine) {
    for (unsigned long r = 1; r <= ROUNDS; r++) {
        while (__atomic_load_n(&round_open, __ATOMIC_ACQUIRE) < r) {
            if (goroutine) grt_yield();
        }
        CHECK_EQ(grt_gc(), GRT_OK);
        __atomic_add_fetch(&returned, 1, __ATOMIC_RELEASE);
    }
}

static void gc_goroutine(void *arg) {
    (void)arg;
    gc_loop(1);
}

static void gc_thread(void *arg) {
    (void)arg;
    gc_loop(0);
}

static grt_waitgroup gate = GRT_WAITGROUP_INIT;
static grt_waitgroup waiters_done = GRT_WAITGROUP_INIT;
static volatile unsigned long parked;

static void wg_waiter(void *arg) {
    (void)arg;
    __atomic_add_fetch(&parked, 1, __ATOMIC_RELAXED);
    CHECK_EQ(grt_wg_wait(&gate), GRT_OK);
    grt_wg_done(&waiters_done);
}

/* Waits until *count reaches want, failing when *progress does not move for STALL_NS. */
static void watch(volatile unsigned long *progress, volatile unsigned long *count,
                  unsigned long want, const char *what) {
    unsigned long last = *progress;
    uint64_t since = grt_nanotime();
    while (__atomic_load_n(count, __ATOMIC_ACQUIRE) < want) {
        grt_sleep_ns(10000000);
        unsigned long now = *progress;
        if (now != last) {
            last = now;
            since = grt_nanotime();
        } else if (grt_nanotime() - since > STALL_NS) {
            t_puts(2, "hung: ");
            t_puts(2, what);
            t_puts(2, ": ");
            t_putu(2, *count, 10);
            t_puts(2, " of ");
            t_putu(2, want, 10);
            t_puts(2, " done, no progress for 5 s\n");
            grt_exit(1);
        }
    }
}

static void main_goroutine(void *arg) {
    (void)arg;
    grt_thread *threads[THREADS];
    for (int i = 0; i < THREADS; i++) CHECK_EQ(grt_thread_start(&threads[i], gc_thread, 0), GRT_OK);
    for (int i = 0; i < GOROUTINES; i++) CHECK_EQ(grt_go(gc_goroutine, 0), GRT_OK);
    for (unsigned long r = 1; r <= ROUNDS; r++) {
        __atomic_store_n(&round_open, r, __ATOMIC_RELEASE);
        watch(&returned, &returned, r * (GOROUTINES + THREADS), "grt_gc calls");
    }
    for (int i = 0; i < THREADS; i++) CHECK_EQ(grt_thread_join(threads[i]), GRT_OK);
    t_puts(1, "ok every grt_gc caller returns\n");

    grt_wg_add(&gate, 1);
    grt_wg_add(&waiters_done, WG_WAITERS);
    for (int i = 0; i < WG_WAITERS; i++) CHECK_EQ(grt_go(wg_waiter, 0), GRT_OK);
    while (__atomic_load_n(&parked, __ATOMIC_RELAXED) < WG_WAITERS) grt_yield();
    for (int i = 0; i < 10; i++) grt_yield(); /* let the last ones reach grt_wg_wait */
    grt_wg_done(&gate);
    CHECK_EQ(grt_wg_wait(&waiters_done), GRT_OK);
    t_puts(1, "ok every wait group waiter returns\n");
    t_puts(1, "PASS\n");
}

int main(void) {
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
