/* grt-test: exit=0 stdout="ok objects held on registered threads' stacks survive" stdout="ok bad input" stdout="PASS" stderr="grt: grt_register_thread:" env="GRTMAXPROCS=2"
 *
 * Threads that are not goroutines, registered with grt_register_thread: two threads (made
 * with grt_thread_start: pthreads, or raw clone threads in the freestanding build) each keep
 * 64 tracked objects whose only pointers are on their own stacks, and keep allocating
 * garbage and replacing objects, while the main goroutine runs collections back to back.
 * Every object is checked each round; one freed and handed out again is caught. The
 * threads unregister at the end; a third registers and exits without unregistering (grt
 * forgets it at the next stop). Bad input: registering twice, from a goroutine, unregistering
 * an unregistered thread. Runs GRT_STRESS_MS (default 1000).
 * Teeth: gc_regthread_teeth.c (GRTDEBUG=gcnoregthreads=1).
 */
#include "gc_tobj.h"

#ifndef STRESS_DEFAULT_MS
#define STRESS_DEFAULT_MS 1000
#endif
#define K 64

static volatile int stop;
static uint64_t stress_ms;
static unsigned long rounds[2];
static int second_register_rc, unregister_rc;

static __attribute__((noinline, noipa)) void churn(int n) {
    for (int i = 0; i < n; i++) (void)tobj_new();
}

static void worker(void *arg) {
    int id = (int)(uintptr_t)arg;
    CHECK_EQ(grt_register_thread(0), GRT_OK);
    if (id == 0) second_register_rc = grt_register_thread(0);
    struct tobj *volatile mine[K]; /* on this thread's stack only */
    uint64_t serial[K];
    for (int i = 0; i < K; i++) {
        struct tobj *o = tobj_new();
        serial[i] = o->serial;
        mine[i] = o;
    }
    uint64_t rnd = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);
    while (!stop) {
        for (int i = 0; i < K; i++) tobj_check("gc_regthread", " (a registered thread's stack)", (unsigned)i, mine[i], serial[i]);
        churn(50);
        unsigned i = (unsigned)(tobj_rnd(&rnd) % K);
        struct tobj *o = tobj_new();
        serial[i] = o->serial;
        mine[i] = o;
        rounds[id]++;
    }
    for (int i = 0; i < K; i++) tobj_check("gc_regthread", " (a registered thread's stack)", (unsigned)i, mine[i], serial[i]);
    CHECK_EQ(grt_unregister_thread(), GRT_OK);
    if (id == 0) unregister_rc = grt_unregister_thread();
}

static void leaver(void *arg) {
    (void)arg;
    CHECK_EQ(grt_register_thread(0), GRT_OK); /* exits registered */
}

static void main_g(void *arg) {
    (void)arg;
    grt_thread *t[3];
    CHECK_EQ(grt_thread_start(&t[2], leaver, 0), GRT_OK);
    CHECK_EQ(grt_thread_join(t[2]), GRT_OK);
    for (int i = 0; i < 2; i++) CHECK_EQ(grt_thread_start(&t[i], worker, (void *)(uintptr_t)i), GRT_OK);
    uint64_t end = grt_nanotime() + stress_ms * 1000000ull;
    unsigned long gcs = 0;
    while (grt_nanotime() < end) {
        CHECK_EQ(grt_gc(), GRT_OK);
        gcs++;
    }
    stop = 1;
    for (int i = 0; i < 2; i++) CHECK_EQ(grt_thread_join(t[i]), GRT_OK);
    t_puts(1, "covered:");
    t_put_kv("collections", gcs);
    t_put_kv("rounds0", rounds[0]);
    t_put_kv("rounds1", rounds[1]);
    t_puts(1, "\n");
    CHECK(gcs > 2 && rounds[0] > 2 && rounds[1] > 2);
    t_puts(1, "ok objects held on registered threads' stacks survive\n");
    CHECK_EQ(second_register_rc, GRT_EINVAL);
    CHECK_EQ(unregister_rc, GRT_EINVAL);
    CHECK_EQ(grt_register_thread(0), GRT_EINVAL); /* a goroutine */
    t_puts(1, "ok bad input\n");
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    stress_ms = t_env_u64(envp, "GRT_STRESS_MS", STRESS_DEFAULT_MS);
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
