/* grt-test: exit=0 stdout="ok callbacks under frame-pointer-less code" stdout="PASS" env="GRTMAXPROCS=2" env="GRTDEBUG=gcstackbarrierall=1" env="GRTPROF=@PROFILE@" env="GRTPROFHZ=10000" profile=fpless
 *
 * Callbacks called from frame-pointer-less code, the shape glibc's qsort or bsearch give
 * (tests/c/gc_fpless_<arch>.S: fpless_call keeps a pointer to a buffer of its own in the
 * frame-pointer register across the call, as -fomit-frame-pointer code may). The callback's
 * frame record links to that buffer, which looks like a frame record whose "return address"
 * is a word of the program's data: 0x123456, the address of a function's first instruction
 * (code, but not after a call), or a real return address (only fpless_call's unwind table,
 * which says it keeps no frame record, tells that one apart). Before the collector proved
 * return addresses and checked frame records against the unwind tables,
 * a scan with a barrier on every frame wrote the trampoline's address into the buffer
 * ("stack barrier lost ... holds 0x123456"), and the profiler reported the data word as a
 * caller.
 *
 * Workers call fpless_call(cb, ...) in a loop; cb parks (grt_yield) so the collector scans it
 * there, and checks after each park that the buffer is intact, and that its tracked object
 * survived; a collector goroutine runs cycles back to back; the profiler samples at 10 kHz
 * (profile check `fpless`: cb is called from fpless_call, fpless_call from outer when the walk
 * gets there, never from a data word). Runs GRT_STRESS_MS (default 1000 ms); reports how often
 * a scan stopped at an unprovable record (grt_gc_stats.barriers_unprovable), which must happen.
 */
#include "gc_stress.h"

#define WORKERS 2
#ifndef GC_FPLESS_DEFAULT_MS
#define GC_FPLESS_DEFAULT_MS 1000
#endif

long fpless_call(long (*cb)(long, uintptr_t *), long arg, uintptr_t fake_ret);

static volatile int stop;
static volatile unsigned long calls;

/* A function whose address is code but no return address (its first instruction). */
static __attribute__((noinline)) long not_after_a_call(long x) {
    return x * 3;
}

/* A real return address (into main_goroutine, right after a call): only the unwind table of
 * fpless_call, which says it keeps no frame record, tells the buffer from a record then. */
static uintptr_t real_ret;

static __attribute__((noinline)) uintptr_t my_return_address(void) {
    return (uintptr_t)__builtin_return_address(0);
}

static uintptr_t fake_for(long x) {
#ifdef FPLESS_ONLY_REAL
    (void)x;
    return real_ret;
#else
    switch (x % 3) {
    case 0: return (uintptr_t)0x123456;
    case 1: return (uintptr_t)not_after_a_call;
    default: return real_ret;
    }
#endif
}

static long cb(long x, uintptr_t *buf) {
    struct tobj *volatile o = tobj_new();
    uint64_t s = o->serial;
    for (int i = 0; i < 3; i++) {
        grt_yield();
        if (buf[1] != fake_for(x) || buf[0] != (uintptr_t)&buf[2]) {
            t_puts(2, "gc_fpless: the frame-pointer-less caller's buffer changed: word 1 is 0x");
            t_putu(2, buf[1], 16);
            t_puts(2, "\n");
            grt_exit(1);
        }
        tobj_check("gc_fpless", " (cb)", 0, o, s);
    }
    return x;
}

static __attribute__((noinline)) long outer(long x) {
    long r = fpless_call(cb, x, fake_for(x));
    __asm__ volatile("" ::: "memory");
    return r;
}

static grt_waitgroup done = GRT_WAITGROUP_INIT;

static void worker(void *arg) {
    long x = (long)(uintptr_t)arg;
    while (!stop) {
        long r = outer(x);
        if (r != x) { /* fpless_call's own checks: +1000 buffer, +2000 frame pointer */
            t_puts(2, (r - x) % 2000 ? "gc_fpless: the frame-pointer-less caller's buffer changed"
                                     : "gc_fpless: the frame-pointer-less caller's frame pointer changed");
            t_puts(2, " (seen by fpless_call)\n");
            grt_exit(1);
        }
        x++;
        calls++;
    }
    grt_wg_done(&done);
}

static struct gc_stress stress = {0, 0, &stop, &done};

static void main_goroutine(void *arg) {
    (void)arg;
    CHECK_EQ(not_after_a_call(1), 3);
    real_ret = my_return_address();
    __asm__ volatile("" ::: "memory");
    grt_wg_add(&done, WORKERS + 1);
    for (long i = 0; i < WORKERS; i++) CHECK_EQ(grt_go(worker, (void *)(uintptr_t)(i * 1000)), GRT_OK);
    CHECK_EQ(grt_go(gc_stress_collector, &stress), GRT_OK);
    CHECK_EQ(grt_wg_wait(&done), GRT_OK);
    struct grt_gc_stats st;
    gc_stress_covered(&st);
    t_put_kv("calls", calls);
    t_puts(1, "\n");
    CHECK(calls > 0);
    CHECK(st.barriers_unprovable > 0);
    t_puts(1, "ok callbacks under frame-pointer-less code\n");
    t_puts(1, "PASS\n");
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    stress.ms = t_env_u64(envp, "GRT_STRESS_MS", GC_FPLESS_DEFAULT_MS);
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
