/* grt-test: exit=0 stdout="ok longjmp without grt_gc_unwind" stdout="PASS" env="GRTMAXPROCS=2" env="GRTDEBUG=gcstackbarrierall=1" env="GRTPROF=@PROFILE@" env="GRTPROFHZ=10000" builds=hosted profile=longjmp
 *
 * longjmp out of barriered frames without grt_gc_unwind, as a library does with its own
 * setjmp/longjmp error handling, under collections back to back (a barrier on every frame)
 * and the profiler at its highest rate.
 *
 * Workers descend DEPTH levels, each holding a tracked object (gc_tobj.h), and park at the
 * bottom until the collector has scanned them there (a barrier appears in the bottom frame's
 * return slot, and so in every frame above); then, before that cycle ends, they longjmp back
 * to `jumper`, which calls `holder`: a frame with a large buffer it never
 * writes, built where the skipped frames were, so their records, trampoline addresses and
 * all, survive inside it. holder parks again (scans, rescans and profiles see the stack with
 * the skipped barriers still in its list), then checks jumper's objects. jumper's return
 * goes through its own barrier, after the skipped ones: the trampoline passes over them.
 * Fails on any crash, fatal error ("stack barrier", "missed stack barrier") or lost object;
 * grt_gc_stats.barriers_jumped must count the skipped barriers. The profile (check
 * `longjmp`) must never show the trampoline, and holder is always called from jumper.
 */
#include <setjmp.h>

#include "gc_stress.h"

#define WORKERS 3
#define DEPTH 30
#define HOLD_WORDS 2048
#define JUMPER_OBJS 4

void grt_stack_barrier(void); /* the trampoline: only its address is used */

static volatile int stop;
static volatile unsigned long jumps;
static volatile int jump = 1; /* (a path that returns, for the compiler's sake) */

struct wctx {
    jmp_buf env;
    unsigned long parks;
};

static __attribute__((noinline)) long level(int d, struct wctx *w) {
    struct tobj *volatile o = tobj_new();
    uint64_t s = o->serial;
    if (d == 0) {
        /* Park until a scan has put a barrier into this frame's own return slot (and so into
         * every frame above), then jump at once, before the cycle's end takes them out. */
        volatile uintptr_t *ret_slot = (uintptr_t *)__builtin_frame_address(0) + 1;
        for (int i = 0; i < 1000 && !stop; i++) {
            if (*ret_slot == (uintptr_t)grt_stack_barrier) break;
            grt_yield();
        }
        if (jump) longjmp(w->env, 1); /* no grt_gc_unwind */
        return 0;
    }
    long r = level(d - 1, w);
    tobj_check("gc_longjmp", " (level)", (unsigned)d, o, s);
    return r + 1;
}

static __attribute__((noinline)) long holder(struct tobj *volatile *objs, const uint64_t *serials,
                                              struct wctx *w) {
    uintptr_t buf[HOLD_WORDS];
    __asm__ volatile("" : : "r"(buf) : "memory"); /* escapes, never written */
    for (int i = 0; i < 8; i++) {
        grt_yield();
        w->parks++;
        uint64_t t0 = grt_nanotime(); /* some CPU time here, for the profiler */
        while (grt_nanotime() - t0 < 20000) {
        }
        for (int k = 0; k < JUMPER_OBJS; k++)
            tobj_check("gc_longjmp", " (jumper)", (unsigned)k, objs[k], serials[k]);
    }
    return 1;
}

static __attribute__((noinline)) long jumper(struct wctx *w) {
    struct tobj *volatile objs[JUMPER_OBJS];
    uint64_t serials[JUMPER_OBJS];
    if (setjmp(w->env) == 0) {
        level(DEPTH, w);
        return -1;
    }
    /* After the jump: new objects only this frame holds, across holder's parks. */
    for (int k = 0; k < JUMPER_OBJS; k++) {
        objs[k] = tobj_new();
        serials[k] = objs[k]->serial;
    }
    long r = holder(objs, serials, w);
    for (int k = 0; k < JUMPER_OBJS; k++)
        tobj_check("gc_longjmp", " (jumper, after)", (unsigned)k, objs[k], serials[k]);
    __atomic_add_fetch(&jumps, 1, __ATOMIC_RELAXED);
    return r + 1;
}

static __attribute__((noinline)) long outer(struct wctx *w) {
    long r = jumper(w);
    __asm__ volatile("" ::: "memory");
    return r + 1;
}

static grt_waitgroup done = GRT_WAITGROUP_INIT;

static void worker(void *arg) {
    (void)arg;
    struct wctx *w = grt_alloc(sizeof *w);
    CHECK(w != 0);
    while (!stop) CHECK_EQ(outer(w), 3);
    grt_wg_done(&done);
}

static struct gc_stress stress = {0, 8, &stop, &done};

static void main_goroutine(void *arg) {
    (void)arg;
    grt_wg_add(&done, WORKERS + 1);
    for (int i = 0; i < WORKERS; i++) CHECK_EQ(grt_go(worker, 0), GRT_OK);
    CHECK_EQ(grt_go(gc_stress_collector, &stress), GRT_OK);
    CHECK_EQ(grt_wg_wait(&done), GRT_OK);
    CHECK_EQ(grt_gc(), GRT_OK); /* counts what the last trampolines passed over */
    struct grt_gc_stats st;
    gc_stress_covered(&st);
    t_put_kv("barriers_jumped", st.barriers_jumped);
    t_put_kv("jumps", jumps);
    t_puts(1, "\n");
    CHECK(jumps > 0 && st.barriers_jumped > 0);
    t_puts(1, "ok longjmp without grt_gc_unwind\n");
    t_puts(1, "PASS\n");
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    stress.ms = t_env_u64(envp, "GRT_STRESS_MS", 1000);
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
