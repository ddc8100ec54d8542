/* grt-test: exit=0 stdout="ok objects held only by a grt_cgocall function survive" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * A function run by grt_cgocall (on its M's system stack, the goroutine frozen above it)
 * allocates tracked objects and holds them only in its own frame (an array and registers):
 * two goroutines do so over and over, checking every object between bursts of garbage (one
 * of them also runs grt_gc from inside the function, so its M waits for the cycle with the
 * objects in its frames), while a third runs collections back to back for GRT_STRESS_MS
 * (default 1000 ms). Mark
 * termination must take the stopped M's system stack and registers as roots; nothing else
 * points to these objects.
 * Teeth: gc_cgocall_alloc_teeth.c (GRTDEBUG=gcnosysstack=1: the system stacks are not
 * scanned, and the objects are freed under the function).
 */
#include "gc_stress.h"

#define K 64
#define WORKERS 2

static volatile int stop;
static grt_waitgroup wg;
static uint64_t rounds;

static __attribute__((noinline, noipa)) void hold(void *arg) {
    uintptr_t collect = (uintptr_t)arg; /* 1: run a collection itself, holding them */
    struct tobj *held[K];
    uint64_t ser[K];
    for (int i = 0; i < K; i++) {
        held[i] = tobj_new();
        ser[i] = held[i]->serial;
    }
    for (int r = 0; r < 200; r++) {
        for (int i = 0; i < K; i++) tobj_check("gc_cgocall_alloc", " (system stack)", (unsigned)i, held[i], ser[i]);
        for (int j = 0; j < 100; j++) (void)tobj_new();
        if (collect && r % 50 == 0) CHECK_EQ(grt_gc(), GRT_OK);
    }
    __atomic_fetch_add(&rounds, 1, __ATOMIC_RELAXED);
}

static void worker(void *arg) {
    while (!stop) CHECK_EQ(grt_cgocall(hold, arg), GRT_OK);
    grt_wg_done(&wg);
}

static uint64_t stress_ms;

static void main_g(void *arg) {
    (void)arg;
    struct gc_stress s = {stress_ms, 100, &stop, &wg};
    grt_wg_add(&wg, WORKERS + 1);
    for (uintptr_t i = 0; i < WORKERS; i++) CHECK_EQ(grt_go(worker, (void *)i), GRT_OK);
    CHECK_EQ(grt_go(gc_stress_collector, &s), GRT_OK);
    grt_wg_wait(&wg);
    struct grt_gc_stats st;
    gc_stress_covered(&st);
    t_put_kv("calls", rounds);
    t_puts(1, "\n");
    CHECK(st.cycles >= 10 && rounds > 0);
    t_puts(1, "ok objects held only by a grt_cgocall function survive\n");
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    stress_ms = t_env_u64(envp, "GRT_STRESS_MS", 1000);
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
