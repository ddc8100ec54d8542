/* grt-test: exit=0 stdout="ok the limit paces the heap with GRTGC=off" stdout="ok no limit, no cycles" stdout="ok a limit set at run time caps the goal" stdout="PASS" env="GRTMAXPROCS=2" env="GRTGC=off" env="GRTMEMLIMIT=16MiB"
 *
 * The soft memory limit (GRTMEMLIMIT, grt_gc_set_memory_limit; Go's GOMEMLIMIT), with
 * GRTGC=off so that only the limit starts cycles:
 * - 256 MiB of garbage in 4 KiB pieces: cycles run, and the heap in use never passes twice
 *   the limit (the pacer's hard wait is at 1.5 x the goal; the peak is printed);
 * - the limit removed (the call returns the old one, 16 MiB) and a cycle asked for before
 *   it over: 64 MiB more garbage, no cycle;
 * - a limit of 8 MiB set at run time: the goal is at most 8 MiB at once, and 64 MiB of
 *   garbage keeps the heap under 16 MiB.
 */
#include "check.h"

#define PIECE 4096u

static struct grt_gc_stats stats(void) {
    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    return st;
}

static __attribute__((noinline, noipa)) uint64_t churn(uint64_t bytes) {
    uint64_t peak = 0;
    for (uint64_t i = 0; i < bytes / PIECE; i++) {
        char *p = grt_alloc(PIECE);
        p[0] = 1;
        if (i % 64 == 0) {
            uint64_t u = stats().heap_inuse;
            if (u > peak) peak = u;
        }
    }
    return peak;
}

static void main_g(void *arg) {
    (void)arg;
    uint64_t c0 = stats().cycles;
    uint64_t peak = churn(256u << 20);
    uint64_t c1 = stats().cycles;
    t_puts(1, "limit");
    t_put_kv("cycles", c1 - c0);
    t_put_kv("peak_inuse_kib", peak >> 10);
    t_put_kv("goal_kib", stats().heap_goal >> 10);
    t_puts(1, "\n");
    CHECK(c1 - c0 >= 4);
    CHECK(peak <= 2 * (16u << 20));
    t_puts(1, "ok the limit paces the heap with GRTGC=off\n");

    CHECK_EQ(grt_gc_set_memory_limit(INT64_MAX), (int64_t)16 << 20);
    CHECK_EQ(grt_gc_set_memory_limit(-1), INT64_MAX);
    CHECK_EQ(grt_gc(), GRT_OK); /* a cycle the limit asked for before is over */
    uint64_t c2 = stats().cycles;
    (void)churn(64u << 20);
    CHECK_EQ(stats().cycles, c2);
    CHECK_EQ(stats().heap_goal, 0);
    t_puts(1, "ok no limit, no cycles\n");

    CHECK_EQ(grt_gc(), GRT_OK); /* the garbage goes, the next goal follows from little */
    CHECK_EQ(grt_gc_set_memory_limit(8 << 20), INT64_MAX);
    CHECK(stats().heap_goal <= (8u << 20));
    peak = churn(64u << 20);
    t_puts(1, "limit8");
    t_put_kv("peak_inuse_kib", peak >> 10);
    t_puts(1, "\n");
    CHECK(peak <= 2 * (8u << 20));
    t_puts(1, "ok a limit set at run time caps the goal\n");
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
