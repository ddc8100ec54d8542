/* grt-test: exit=0 stdout="PASS" stderr="grt: grt_prof_start: hz must be from 1 to 10000 (got 0)" stderr="grt: grt_prof_start: path is NULL" stderr="grt: grt_prof_start: cannot create" stderr="grt: grt_prof_stop: the profiler is not running" stderr="grt: grt_prof_start: the profiler is already running" stderr="grt: grt_prof_read_stats: out is NULL" builds=hosted profile=valid
 *
 * The profiler's C API refuses bad input with an error code and a message, and can be
 * started and stopped again (before grt_main too): bad rates, NULL or empty or uncreatable
 * paths, stop without start, start twice, stats into NULL.
 */
#include <stdlib.h>

#include "check.h"

static volatile uint64_t sink;

static void spin(void *arg) {
    (void)arg;
    uint64_t end = grt_nanotime() + 100000000ull, x = 1;
    while (grt_nanotime() < end)
        for (int i = 0; i < 10000; i++) x = x * 6364136223846793005ull + 1;
    sink = x;
}

int main(void) {
    const char *path = getenv("GRT_TEST_PROFILE");
    CHECK(path);
    CHECK(grt_prof_start(0, path) == GRT_EINVAL);
    CHECK(grt_prof_start(-5, path) == GRT_EINVAL);
    CHECK(grt_prof_start(GRT_PROF_MAX_HZ + 1, path) == GRT_EINVAL);
    CHECK(grt_prof_start(100, NULL) == GRT_EINVAL);
    CHECK(grt_prof_start(100, "") == GRT_EINVAL);
    CHECK(grt_prof_start(100, "/nonexistent-dir/cpu.pprof") == GRT_ESYS);
    CHECK(grt_prof_stop() == GRT_EINVAL);
    CHECK(grt_prof_read_stats(NULL) == GRT_EINVAL);
    grt_prof_stats st;
    CHECK(grt_prof_read_stats(&st) == GRT_OK && st.running == 0);

    /* Before grt_main: the Ms started later arm their own timers. Twice in a row. */
    for (int round = 0; round < 2; round++) {
        CHECK(grt_prof_start(GRT_PROF_MAX_HZ, path) == GRT_OK);
        CHECK(grt_prof_start(100, path) == GRT_EBUSY);
        CHECK(grt_prof_read_stats(&st) == GRT_OK && st.running == 1 && st.hz == GRT_PROF_MAX_HZ);
        if (round == 0) CHECK(grt_main(spin, 0) == GRT_OK);
        else spin(0); /* the main thread is not an M: it has no timer of its own */
        CHECK(grt_prof_stop() == GRT_OK);
        CHECK(grt_prof_read_stats(&st) == GRT_OK && st.running == 0);
        if (round == 0) CHECK(st.samples > 0);
    }
    CHECK(grt_prof_stop() == GRT_EINVAL);
    t_puts(1, "PASS\n");
    return 0;
}
