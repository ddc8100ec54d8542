/* grt-test: exit=0 stdout="ok RSS falls after a spike" stdout="PASS" env="GRTMAXPROCS=2" builds=hosted
 *
 * The scavenger: free heap pages go back to the kernel (madvise MADV_DONTNEED) once they have
 * stayed free for about a second, so the resident set falls after a spike. The spike: 1 GiB
 * held at once by a goroutine (16,384 objects of 64 KiB, written), which then exits; two
 * cycles find it dead and
 * the sweep frees it. The goroutine then sleeps, reading /proc/self/statm every 100 ms, until
 * the process's RSS above its level before the spike is below 10 % of the spike's, for at
 * most 10 s; it prints how long that took. grt_gc_stats' heap_released must have grown.
 */
#include <stdio.h>

#include "check.h"

#define OBJ (64 << 10)
#define NOBJ 16384 /* 1 GiB */

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    CHECK(f != 0);
    long size = 0, res = 0;
    CHECK(fscanf(f, "%ld %ld", &size, &res) == 2);
    fclose(f);
    return res * 4; /* pages of 4 KiB (both architectures here) */
}

static grt_waitgroup spiked = GRT_WAITGROUP_INIT;

/* On a goroutine of its own that then exits: no stale copy of a pointer to the spike stays in
 * a frame or register the collector scans (it is conservative). */
static void spike(void *arg) {
    (void)arg;
    char **hold = grt_alloc(NOBJ * sizeof(char *));
    CHECK(hold != 0);
    for (int i = 0; i < NOBJ; i++) {
        char *p = grt_alloc(OBJ);
        CHECK(p != 0);
        for (int k = 0; k < OBJ; k += 4096) p[k] = (char)i;
        GRT_STORE(&hold[i], p);
    }
    for (int i = 0; i < NOBJ; i += 97) CHECK(hold[i][4096] == (char)i);
    grt_wg_done(&spiked);
}

static void main_goroutine(void *arg) {
    (void)arg;
    long base = rss_kib();
    grt_wg_add(&spiked, 1);
    CHECK_EQ(grt_go(spike, 0), GRT_OK);
    CHECK_EQ(grt_wg_wait(&spiked), GRT_OK);
    long peak = rss_kib();
    CHECK_EQ(grt_gc(), GRT_OK);
    CHECK_EQ(grt_gc(), GRT_OK);
    struct grt_gc_stats st0, st;
    CHECK_EQ(grt_gc_stats(&st0), GRT_OK);
    uint64_t t0 = grt_nanotime();
    long now = rss_kib();
    while ((now - base) * 10 >= (peak - base) && grt_nanotime() - t0 < 10000000000ull) {
        grt_sleep_ns(100000000);
        now = rss_kib();
    }
    uint64_t ms = (grt_nanotime() - t0) / 1000000;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    t_puts(1, "rss:");
    t_put_kv("before_kib", (uint64_t)base);
    t_put_kv("spike_kib", (uint64_t)peak);
    t_put_kv("after_kib", (uint64_t)now);
    t_put_kv("ms_to_fall", ms);
    t_put_kv("heap_released_kib", st.heap_released / 1024);
    t_put_kv("heap_mapped_kib", st.heap_mapped / 1024);
    t_puts(1, "\n");
    CHECK(peak - base >= (1 << 20) * 9 / 10); /* the spike was resident */
    CHECK((now - base) * 10 < (peak - base));
    CHECK(st.heap_released_total > st0.heap_released_total || st.heap_released > 0);
    t_puts(1, "ok RSS falls after a spike\n");
    t_puts(1, "PASS\n");
}

int main(void) { return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1; }
