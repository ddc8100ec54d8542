/* grt-test: exit=0 stdout="ok sibling calls out of barriered frames" stdout="PASS" env="GRTMAXPROCS=2" env="GRTDEBUG=gcstackbarrierall=1" env="GRTPROF=@PROFILE@" env="GRTPROFHZ=10000" profile=sibcall
 *
 * Sibling calls (tail calls) out of frames that hold a stack barrier, with the profiler
 * walking the same stacks at its highest rate.
 *
 *     long tail_caller(long x) { long y = step(x); return tail_callee(y); }
 *
 * At -O2, gcc on aarch64 ends tail_caller with `ldp x29, x30, [sp], #N ; b tail_callee`: the
 * return address it reloads, which a barrier placed while step ran has replaced with the
 * trampoline's address, goes into tail_callee's own frame record, at another address
 * (tail_callee's frame is larger). The barrier has moved. Removal, the walkers and the
 * trampoline must find it by what does not move (the frame pointer the frame returns with),
 * not by the slot it was written to; before they did, this died with "stack barrier lost"
 * or "missed stack barrier". On x86_64 the same source ends in `leave ; jmp`, which leaves
 * the slot where it was: the test then checks the ordinary case.
 *
 * Workers run tail_caller in a loop; step and tail_callee park (grt_yield) so the collector
 * scans them there, with a barrier on every frame, while a collector goroutine runs cycles
 * back to back. Every frame holds a tracked object (gc_tobj.h) and checks it after each
 * park. Runs GRT_STRESS_MS (default 1000 ms); the profile must never show the trampoline.
 */
#include "gc_stress.h"

#define WORKERS 3

static volatile int stop;
static volatile unsigned long calls;

static __attribute__((noinline)) long step(long x) {
    struct tobj *volatile o = tobj_new();
    uint64_t s = o->serial;
    grt_yield();
    tobj_check("gc_sibcall", " (step)", 0, o, s);
    return x + 1;
}

static __attribute__((noinline)) long tail_callee(long y) {
    volatile long pad[24]; /* a larger frame than tail_caller's: its record lies lower */
    struct tobj *volatile o = tobj_new();
    uint64_t s = o->serial;
    for (int i = 0; i < 24; i++) pad[i] = y + i;
    grt_yield();
    tobj_check("gc_sibcall", " (tail_callee)", 0, o, s);
    grt_yield();
    return pad[3] + pad[20];
}

/* Must end in a sibling call at -O2 (checked in the disassembly by hand: `b tail_callee`
 * on aarch64, `jmp tail_callee` on x86_64). */
static __attribute__((noinline)) long tail_caller(long x) {
    long y = step(x);
    return tail_callee(y);
}

static __attribute__((noinline)) long outer(long x) {
    struct tobj *volatile o = tobj_new();
    uint64_t s = o->serial;
    long r = tail_caller(x);
    tobj_check("gc_sibcall", " (outer)", 0, o, s);
    return r;
}

static grt_waitgroup done = GRT_WAITGROUP_INIT;

static void worker(void *arg) {
    long x = (long)(uintptr_t)arg;
    while (!stop) {
        long r = outer(x);
        CHECK_EQ(r, 2 * (x + 1) + 23);
        calls++;
    }
    grt_wg_done(&done);
}

static struct gc_stress stress = {0, 0, &stop, &done};

static void main_goroutine(void *arg) {
    (void)arg;
    grt_wg_add(&done, WORKERS + 1);
    for (long i = 0; i < WORKERS; i++) CHECK_EQ(grt_go(worker, (void *)(uintptr_t)(i * 100)), GRT_OK);
    CHECK_EQ(grt_go(gc_stress_collector, &stress), GRT_OK);
    CHECK_EQ(grt_wg_wait(&done), GRT_OK);
    struct grt_gc_stats st;
    gc_stress_covered(&st);
    t_put_kv("calls", calls);
    t_puts(1, "\n");
    CHECK(calls > 0 && st.barriers_hit > 0);
    t_puts(1, "ok sibling calls out of barriered frames\n");
    t_puts(1, "PASS\n");
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    stress.ms = t_env_u64(envp, "GRT_STRESS_MS", 1000);
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
