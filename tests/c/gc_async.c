/* grt-test: exit=0 stdout="ok collector and profiler hold under asynchronous preemption" stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=asyncpreempt=1,gcstackbarrierall=1" env="GRTPROF=@PROFILE@" env="GRTPROFHZ=10000" profile=async
 *
 * The collector and the profiler next to asynchronous preemption. Two workers recurse
 * (arec, a tracked heap object in each frame, checked on the way out) down to a leaf loop
 * that makes no call (aspin, no frame of its own at -O2); a driver asks for their preemption
 * every 100 us (grt_test_preempt), so they are preempted in the leaf and in the recursion,
 * and sit preempted (the moved signal frame and the stub's record on their stacks) while a
 * collector goroutine runs cycles back to back with a stack barrier in every frame
 * (gcstackbarrierall) and the profiler samples at 10 kHz. No object may be lost (every
 * frame's object checked), no barrier missed (a fatal error), and no sample may name the
 * stub or the trampoline; every sample in the recursion names its real callers (profile
 * check `async`, which also covers samples of a goroutine inside its yield). Runs
 * GRT_STRESS_MS (default 1500 ms); needs preemptions (printed). Teeth (gc_async_teeth.c,
 * GRTDEBUG=asyncpreemptnowalk=1): walkers that treat the stub as a frame put it in samples.
 */
#include "gc_stress.h"

#define WORKERS 2
#define DEPTH 24

int grt_test_preempt(uint64_t goid);

static volatile int stop;
static volatile uint64_t goids[WORKERS];
static volatile unsigned long leaf_sink, rounds;

static __attribute__((noinline)) long aspin(unsigned long iters) {
    unsigned long acc = 0;
    for (unsigned long i = 0; i < iters; i++) acc += i * 3 + (acc >> 7);
    leaf_sink = acc;
    return 1;
}

static __attribute__((noinline)) long arec(int n, unsigned long iters) {
    struct tobj *volatile o = tobj_new();
    uint64_t s = o->serial;
    long r = n > 0 ? arec(n - 1, iters) : aspin(iters);
    for (unsigned long i = 0; i < iters / 8; i++) leaf_sink += i ^ (unsigned long)n;
    tobj_check("gc_async", " (frame)", (unsigned)n, o, s);
    return r + 1;
}

static grt_waitgroup done = GRT_WAITGROUP_INIT;

static __attribute__((noinline)) void aworker(int k) {
    goids[k] = grt_goid();
    uint64_t x = 0x12345 + (uint64_t)k;
    while (!stop) {
        int n = (int)(tobj_rnd(&x) % DEPTH);
        CHECK_EQ(arec(n, 20000 + tobj_rnd(&x) % 20000), n + 2);
        rounds++;
    }
}

static void worker(void *arg) {
    aworker((int)(intptr_t)arg);
    grt_wg_done(&done);
}

static struct gc_stress stress = {0, 0, &stop, &done};

static void driver(void *arg) {
    (void)arg;
    while (!stop) {
        for (int k = 0; k < WORKERS; k++)
            if (goids[k]) (void)grt_test_preempt(goids[k]);
        grt_sleep_ns(100000);
    }
    grt_wg_done(&done);
}

static void main_goroutine(void *arg) {
    (void)arg;
    grt_wg_add(&done, WORKERS + 2);
    for (long k = 0; k < WORKERS; k++) CHECK_EQ(grt_go(worker, (void *)k), GRT_OK);
    CHECK_EQ(grt_go(driver, 0), GRT_OK);
    CHECK_EQ(grt_go(gc_stress_collector, &stress), GRT_OK);
    CHECK_EQ(grt_wg_wait(&done), GRT_OK);
    struct grt_gc_stats st;
    gc_stress_covered(&st);
    struct grt_preempt_stats ps;
    CHECK_EQ(grt_preempt_stats(&ps), GRT_OK);
    t_put_kv("preempted", ps.preempted);
    t_put_kv("rounds", rounds);
    t_puts(1, "\n");
    CHECK(ps.preempted >= 20);
    CHECK(st.cycles > 0);
    t_puts(1, "ok collector and profiler hold under asynchronous preemption\n");
    t_puts(1, "PASS\n");
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    stress.ms = t_env_u64(envp, "GRT_STRESS_MS", 1500);
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
