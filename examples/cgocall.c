/* grt-test: exit=0 env="GRTMAXPROCS=1" stdout="library: 5133 primes below 50000" stdout="main: worker is in grt_cgocall, state SYSCALL" stdout="main: its stack, innermost first: call_library, worker_body" stdout="worker: the library returned 5133"
 *
 * grt_cgocall: running foreign code that blocks its OS thread (here a "library" that
 * computes, then sleeps in usleep(3)) without holding up the other goroutines. The function
 * runs on the M's own stack with the goroutine in the syscall state, so even with
 * GRTMAXPROCS=1 the main goroutine keeps running meanwhile; it uses that to look at the
 * worker: grt_suspend says where it is and grt_traceback walks its (frozen) stack.
 */
#include <grt.h>
#include <stdio.h>
#include <unistd.h>

#define MS 1000000LL

struct call {
    int limit;
    int result;
};

static int looked; /* main has looked at the worker: the library may return */
static int in_library;

/* The "library": plain C, no grt calls. */
static void count_primes(void *arg) {
    struct call *c = arg;
    int n = 0;
    for (int i = 2; i < c->limit; i++) {
        int prime = 1;
        for (int d = 2; d * d <= i; d++)
            if (i % d == 0) {
                prime = 0;
                break;
            }
        n += prime;
    }
    c->result = n;
    printf("library: %d primes below %d\n", n, c->limit);
    __atomic_store_n(&in_library, 1, __ATOMIC_RELEASE);
    /* Block the thread until main has had its look (at most 5 s). */
    for (int i = 0; i < 5000 && !__atomic_load_n(&looked, __ATOMIC_ACQUIRE); i++) usleep(1000);
}

static __attribute__((noinline, noipa)) int call_library(int limit) {
    struct call c = {limit, 0};
    grt_cgocall(count_primes, &c);
    return c.result;
}

static uint64_t worker_id;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static void worker_body(void *arg) {
    (void)arg;
    __atomic_store_n(&worker_id, grt_goid(), __ATOMIC_RELEASE);
    int n = call_library(50000);
    printf("worker: the library returned %d\n", n);
    grt_wg_done(&wg);
}

/* Names the function a return address is in: the known function that starts closest below
 * it (good enough for the two we know). */
static const char *name_of(uintptr_t pc) {
    uintptr_t a = (uintptr_t)call_library, b = (uintptr_t)worker_body;
    const char *best = "?";
    uintptr_t best_start = 0;
    if (pc > a && pc - a < 512 && a > best_start) best = "call_library", best_start = a;
    if (pc > b && pc - b < 512 && b > best_start) best = "worker_body", best_start = b;
    return best;
}

static void main_goroutine(void *arg) {
    (void)arg;
    grt_wg_add(&wg, 1);
    grt_go(worker_body, NULL);
    int ticks = 0;
    while (!__atomic_load_n(&in_library, __ATOMIC_ACQUIRE) && ticks < 5000) {
        grt_sleep_ns(MS); /* this goroutine runs while the worker's thread is busy */
        ticks++;
    }
    uint64_t id = __atomic_load_n(&worker_id, __ATOMIC_ACQUIRE);
    grt_gregs regs;
    if (grt_suspend(id, &regs) == GRT_OK) {
        printf("main: worker is in grt_cgocall, state %s\n",
               regs.state == GRT_GSTATE_SYSCALL ? "SYSCALL" : "other");
        grt_resume(id);
    }
    uintptr_t pcs[16];
    int n = grt_traceback(id, pcs, 16);
    if (n >= 2) printf("main: its stack, innermost first: %s, %s\n", name_of(pcs[0]), name_of(pcs[1]));
    __atomic_store_n(&looked, 1, __ATOMIC_RELEASE);
    grt_wg_wait(&wg);
}

int main(void) {
    return grt_main(main_goroutine, NULL) == GRT_OK ? 0 : 1;
}
