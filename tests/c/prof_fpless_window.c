/* grt-test: exit=0 stdout="ok fw_in" stdout="ok fw_ret" stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTGC=off" env="GRTPROF=@PROFILE@" env="GRTPROFHZ=1000" profile=fpless_window
 *
 * Profiling samples of a function with a stack barrier in its frame record, called from
 * frame-pointer-less code (glibc's qsort calling a comparator, say), at two points held
 * still (tests/c/prof_fpless_window_<arch>.S; qemu would never let a signal land at the
 * second by chance, and natively it is one instruction in millions):
 *
 *   fw_in   inside the function, its record complete: the walk reads the record, resolves
 *           the trampoline's address through the barrier, and goes on from the
 *           frame-pointer-less caller by its unwind table;
 *   fw_ret  at the function's `ret`, its record popped: the return address (the
 *           trampoline's, at [rsp] on x86_64, in x30 on aarch64) must go through the barrier
 *           before the unwind table of the caller it names is consulted. Before this test,
 *           the walk asked that table about the trampoline instead, found a frame record,
 *           followed the caller's frame-pointer register (which holds a buffer of its own)
 *           and ended after one frame: 1 sample in about 300,000 of gc_fpless.
 *
 * For each: a goroutine calls fw_outer -> fw_fpless(fw_X, cb, 41) -> fw_X(cb, 41); cb puts a
 * stack barrier in every frame record above it it can prove (the test hook
 * grt_test_stkbar_install: fw_X's, whose caller keeps no record, is the last), and returns;
 * fw_X stops at its point and spins until released, while the profiler samples it for 60 ms.
 * Profile check `fpless_window`: every sample in fw_in or fw_ret goes on fw_fpless, fw_outer,
 * target, the goroutine's entry, and each point has samples.
 */
#include "check.h"

int grt_test_stkbar_install(void);

volatile int fw_in_window;
volatile int fw_go;

long fw_in(long (*cb)(long), long arg);
long fw_ret(long (*cb)(long), long arg);
long fw_fpless(long (*leaf)(long (*)(long), long), long (*cb)(long), long arg);

static const char *const names[] = {"fw_in", "fw_ret"};

static long cb(long x) {
    CHECK(grt_test_stkbar_install() >= 2); /* cb's record and fw_X's */
    return x;
}

static volatile long result;
static volatile int finished;

/* A direct call whose result is used after it (no sibling call). */
static __attribute__((noinline)) long fw_outer(int i) {
    long r = fw_fpless(i == 0 ? fw_in : fw_ret, cb, 41);
    __asm__ volatile("" ::: "memory");
    return r * 1;
}

static __attribute__((noinline)) void target(void *arg) {
    result = fw_outer((int)(uintptr_t)arg);
    __asm__ volatile("" ::: "memory");
    finished = 1;
}

static void run(int w) {
    fw_in_window = 0;
    fw_go = 0;
    finished = 0;
    CHECK_EQ(grt_go(target, (void *)(uintptr_t)w), GRT_OK);
    uint64_t deadline = grt_nanotime() + 10000000000ull;
    while (fw_in_window != w + 1) {
        CHECK(grt_nanotime() < deadline);
        grt_sleep_ns(1000000);
    }
    grt_sleep_ns(60000000); /* samples at the point */
    fw_go = 1;
    while (!finished) {
        CHECK(grt_nanotime() < deadline);
        grt_sleep_ns(1000000);
    }
    CHECK_EQ(result, 42);
    t_puts(1, "ok ");
    t_puts(1, names[w]);
    t_puts(1, "\n");
}

static void main_goroutine(void *arg) {
    (void)arg;
    run(0);
    run(1);
    t_puts(1, "PASS\n");
}

int main(void) {
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
