/* grt-test: exit=0 stdout="ok objects held only in registers of registered threads survive" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * A pointer kept only in a callee-saved register of a registered thread keeps its object,
 * however mark termination stops the thread. Two registered threads (grt_thread_start) run
 * regs_hold (gc_regthread_regs_<arch>.S) round after round: it puts fresh tracked objects
 * into every callee-saved register (x86_64: rbx, r12-r15; aarch64: x19-x28) and nowhere
 * else (stale copies below the stack pointer are zeroed, the caller's saved registers are
 * masked), then
 *   - spins in assembly without a call: a stop there is the suspend signal's, and the
 *     objects are found only in the registers its ucontext holds;
 *   - calls grt_alloc over and over (garbage of the tracked objects' size, so a slot freed
 *     by mistake is soon handed out again): a stop there is mostly the thread's own, in its
 *     allocation path (regthreads.rs), with the registers spilled onto its stack, or in a
 *     wait for the collector (parked);
 * and hands the registers back for a check of every object. Meanwhile the main goroutine
 * runs grt_gc() back to back. Runs GRT_STRESS_MS (default 1000), at least MIN_CYCLES
 * cycles and MIN_ROUNDS rounds per thread.
 * Variants: gc_regthread_regs_signal.c (GRTDEBUG=gcnoselfstop=1: every stop is the signal's).
 * Teeth: gc_regthread_regs_teeth.c (GRTDEBUG=gcnoregthreadregs=1: neither the registers of a
 * thread stopped by the signal nor those a self-stop spilled are scanned).
 */
#include "gc_tobj.h"

#ifndef STRESS_DEFAULT_MS
#define STRESS_DEFAULT_MS 1000
#endif
#define MIN_CYCLES 100
#define MIN_ROUNDS 20
#define NTHREADS 2
#if defined(__x86_64__)
#define NREG 5
#elif defined(__aarch64__)
#define NREG 10
#endif
/* Spin rounds and allocations per regs_hold. */
#ifndef SPINS
#define SPINS 20000
#endif
#define ALLOCS 2000

void regs_hold(void *(*make)(long), long spins, long allocs, void *(*churn)(void), void **out);

static volatile int stop;
static uint64_t stress_ms;
static unsigned long rounds[NTHREADS];
/* The serials of the objects regs_hold holds now, per thread (numbers, not pointers). */
static uint64_t serials[NTHREADS][NREG];
static void *make_for(int id, long i) {
    struct tobj *o = tobj_new();
    serials[id][i] = o->serial;
    return o;
}
/* One per thread (no TLS in the freestanding build). */
static void *make0(long i) { return make_for(0, i); }
static void *make1(long i) { return make_for(1, i); }
static void *(*const makers[NTHREADS])(long) = {make0, make1};

static void *churn(void) { return grt_alloc(sizeof(struct tobj)); }

static void worker(void *arg) {
    int id = (int)(uintptr_t)arg;
    CHECK_EQ(grt_register_thread(0), GRT_OK);
    void *out[NREG];
    while (!stop) {
        regs_hold(makers[id], SPINS, ALLOCS, churn, out);
        for (unsigned i = 0; i < NREG; i++)
            tobj_check("gc_regthread_regs", " (a callee-saved register of a registered thread)", i,
                       out[i], serials[id][i]);
        rounds[id]++;
    }
    CHECK_EQ(grt_unregister_thread(), GRT_OK);
}

static void main_g(void *arg) {
    (void)arg;
    grt_thread *t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) CHECK_EQ(grt_thread_start(&t[i], worker, (void *)(uintptr_t)i), GRT_OK);
    uint64_t end = grt_nanotime() + stress_ms * 1000000ull;
    unsigned long gcs = 0;
    for (;;) {
        CHECK_EQ(grt_gc(), GRT_OK);
        gcs++;
        int enough = gcs >= MIN_CYCLES;
        for (int i = 0; i < NTHREADS; i++) enough = enough && rounds[i] >= MIN_ROUNDS;
        if (enough && grt_nanotime() >= end) break;
    }
    stop = 1;
    for (int i = 0; i < NTHREADS; i++) CHECK_EQ(grt_thread_join(t[i]), GRT_OK);
    t_puts(1, "covered:");
    t_put_kv("collections", gcs);
    t_put_kv("rounds0", rounds[0]);
    t_put_kv("rounds1", rounds[1]);
    t_puts(1, "\n");
    t_puts(1, "ok objects held only in registers of registered threads survive\n");
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    stress_ms = t_env_u64(envp, "GRT_STRESS_MS", STRESS_DEFAULT_MS);
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
