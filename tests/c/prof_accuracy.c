/* grt-test: exit=0 stdout="PASS" env="GRTMAXPROCS=2" env="GRTPROF=@PROFILE@" env="GRTPROFHZ=1000" profile=accuracy
 *
 * Profiler accuracy. Two goroutines on two Ms (GRTMAXPROCS=2) each run
 * prof_main -> worker -> { leaf70, leaf30 }, where every round of worker spends 7k units of the
 * same work in leaf70 and 3k in leaf30, for a fixed number of rounds (so a fixed CPU time,
 * about 2.5 s per worker natively, however busy the machine is: the timers count CPU time).
 * The whole run is profiled with GRTPROF (so this runs in the freestanding build too) at
 * 1000 Hz (the kernel's tick makes that ~250 per thread-second); the check in
 * xtask/src/profchecks.rs symbolizes the profile against this binary and wants 70 +- 5 % of
 * the leaf samples in leaf70, every sample in a leaf or in worker to carry the chain
 * prof_main -> worker -> leaf, and `go tool pprof -top` to read the file.
 */
#include "check.h"

#define ROUNDS 112000 /* rounds of worker, 8.5 of its k on average */
#ifndef EXPECT_PER_THREAD
#define EXPECT_PER_THREAD 1 /* prof_setitimer.c includes this file with 0 */
#endif
#define UNIT 240     /* iterations of the work loop in one unit (~0.3 us native) */

static volatile uint64_t sink;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

/* One unit of work per n: the same loop in both leaves, so CPU time is proportional to n. */
#define WORK(n)                                                  \
    do {                                                         \
        uint64_t x = sink;                                       \
        for (long i = 0; i < (long)(n) * UNIT; i++)              \
            x = x * 6364136223846793005ull + 1442695040888963407ull; \
        sink = x;                                                \
    } while (0)

/* Aligned so that neither loop crosses a page: qemu-user ends a translation block at a page
 * boundary and does not chain blocks across one, so a loop that crosses a page runs several
 * times slower there (and the emulated CPU time is no longer 70:30: one more PLT entry in
 * libgrt.a's imports once moved leaf30's loop across a page, and it took 74% of the time). */
__attribute__((noinline, aligned(256))) void leaf70(int n) { WORK(n); }
__attribute__((noinline, aligned(256))) void leaf30(int n) { WORK(n); }

/* Each round does 7k units in leaf70 and 3k in leaf30 with k random in 1..16: CPU time stays
 * 70:30, and rounds of random length keep the sampling (at the kernel's tick, a fixed period)
 * from falling into step with them, which made consecutive samples correlated and the share
 * wander by more than the sample count explains. */
__attribute__((noinline)) void worker(int rounds) {
    uint64_t x = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&x;
    for (int r = 0; r < rounds; r++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int k = 1 + (int)(x % 16);
        leaf70(7 * k);
        leaf30(3 * k);
    }
}

__attribute__((noinline)) void prof_main(void *arg) {
    worker((int)(intptr_t)arg);
    grt_wg_done(&wg);
}

static void gomain(void *arg) {
    (void)arg;
    grt_wg_add(&wg, 2);
    CHECK(grt_go(prof_main, (void *)(intptr_t)ROUNDS) == GRT_OK);
    CHECK(grt_go(prof_main, (void *)(intptr_t)ROUNDS) == GRT_OK);
    grt_wg_wait(&wg);
    grt_prof_stats st;
    CHECK(grt_prof_read_stats(&st) == GRT_OK);
    CHECK(st.running == 1 && st.hz == 1000 && st.per_thread == EXPECT_PER_THREAD);
    CHECK(st.samples > 0);
    t_puts(1, "samples ");
    t_putu(1, st.samples, 10);
    t_puts(1, " lost ");
    t_putu(1, st.lost, 10);
    t_puts(1, "\nPASS\n");
}

int main(void) {
    CHECK(grt_main(gomain, 0) == GRT_OK);
    return 0;
}
