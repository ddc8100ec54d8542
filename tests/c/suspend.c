/* grt-test: exit=0 stdout="ok suspend a running goroutine 50 times" stdout="ok traceback of a running goroutine" stdout="ok suspend from a plain thread" stdout="ok suspend a parked goroutine" stdout="ok bad goids" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * grt_suspend/grt_resume on 2 Ms:
 *   - a goroutine spinning in a C loop (volatile counter, no grt calls) is stopped by the
 *     signal: GRT_OK, state RUNNING, on_signal 1, pc inside the loop function, sp/fp on its
 *     own stack (x86_64: lr 0); while suspended its counter does not move, after
 *     grt_resume it moves again; 50 times;
 *   - grt_traceback of the spinning goroutine finds the return address into its body, and
 *     lets it run on;
 *   - a plain thread (grt_thread_start, not an M) can suspend and resume it too;
 *   - a goroutine parked on a channel: state WAITING, on_signal 0; while it is suspended,
 *     another goroutine's send to it completes but it does not run; after grt_resume it
 *     gets the value; grt_traceback of it finds the return address into its body;
 *   - goid 0, an unknown goid and the caller's own goid are GRT_EINVAL.
 */
#include "check.h"

#define MS 1000000LL
#define ROUNDS 50

static volatile uint64_t counter;
static int stop;
static uint64_t spinner_goid;
static uintptr_t spinner_mark, ret_into_spinner;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static __attribute__((noinline, noipa)) void spin_loop(void) {
    ret_into_spinner = (uintptr_t)__builtin_return_address(0);
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) counter++;
}

static void spinner(void *arg) {
    (void)arg;
    volatile char mark = 0;
    spinner_mark = (uintptr_t)&mark;
    __atomic_store_n(&spinner_goid, grt_goid(), __ATOMIC_RELEASE);
    spin_loop();
    __asm__ volatile("" ::: "memory");
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static int in_spin_loop(uintptr_t pc) {
    return pc >= (uintptr_t)spin_loop && pc < (uintptr_t)spin_loop + 256;
}

/* On the spinner's (default 256 KiB) stack, below its mark. */
static int on_spinner_stack(uintptr_t a) {
    return a > spinner_mark - (GRT_STACK_DEFAULT - 1024) && a < spinner_mark + 1024;
}

/* Waits (sleeping 1 ms at a time, at most ~5 s) until the counter moves past `from`. */
static int counter_moves(uint64_t from) {
    for (int i = 0; i < 5000; i++) {
        if (counter != from) return 1;
        CHECK_EQ(grt_sleep_ns(MS), GRT_OK);
    }
    return 0;
}

static void check_running_regs(const grt_gregs *r) {
    CHECK_EQ(r->state, GRT_GSTATE_RUNNING);
    CHECK_EQ(r->on_signal, 1);
    CHECK(in_spin_loop(r->pc));
    CHECK(r->sp != 0);
    CHECK(on_spinner_stack(r->sp));
    CHECK(on_spinner_stack(r->fp));
#if defined(__x86_64__)
    CHECK_EQ(r->lr, 0);
#endif
}

static void test_running(uint64_t g) {
    for (int round = 0; round < ROUNDS; round++) {
        grt_gregs r = {0, 0, 0, 0, 0, -1};
        CHECK_EQ(grt_suspend(g, &r), GRT_OK);
        check_running_regs(&r);
        uint64_t c1 = counter;
        CHECK_EQ(grt_sleep_ns(round % 5 == 0 ? 5 * MS : MS), GRT_OK);
        uint64_t c2 = counter;
        CHECK_EQ(c1, c2); /* stopped */
        CHECK_EQ(grt_resume(g), GRT_OK);
        CHECK(counter_moves(c2));
    }
    t_puts(1, "ok suspend a running goroutine 50 times\n");

    uintptr_t pcs[64];
    int n = grt_traceback(g, pcs, 64);
    CHECK(n >= 1);
    int found = 0;
    for (int i = 0; i < n && i < 4; i++) found |= pcs[i] == ret_into_spinner;
    CHECK(found);
    CHECK(counter_moves(counter)); /* the walk let it go again */
    t_puts(1, "ok traceback of a running goroutine\n");
}

/* A thread that is not an M: no goroutine, so it waits with grt_nanotime. */
static int thread_rounds, thread_done;

static void delay(uint64_t ns) {
    uint64_t t0 = grt_nanotime();
    while (grt_nanotime() - t0 < ns) {
    }
}

static void plain_thread(void *arg) {
    uint64_t g = (uint64_t)(uintptr_t)arg;
    CHECK_EQ(grt_goid(), 0);
    for (int round = 0; round < 5; round++) {
        grt_gregs r = {0, 0, 0, 0, 0, -1};
        CHECK_EQ(grt_suspend(g, &r), GRT_OK);
        check_running_regs(&r);
        uint64_t c1 = counter;
        delay(2 * MS);
        CHECK_EQ(counter, c1);
        CHECK_EQ(grt_resume(g), GRT_OK);
        uint64_t t0 = grt_nanotime();
        while (counter == c1) CHECK(grt_nanotime() - t0 < 5000 * MS);
        thread_rounds++;
    }
    __atomic_store_n(&thread_done, 1, __ATOMIC_RELEASE);
}

static void test_from_thread(uint64_t g) {
    grt_thread *t;
    CHECK_EQ(grt_thread_start(&t, plain_thread, (void *)(uintptr_t)g), GRT_OK);
    for (int i = 0; i < 10000 && !__atomic_load_n(&thread_done, __ATOMIC_ACQUIRE); i++)
        CHECK_EQ(grt_sleep_ns(MS), GRT_OK);
    CHECK_EQ(__atomic_load_n(&thread_done, __ATOMIC_ACQUIRE), 1);
    CHECK_EQ(grt_thread_join(t), GRT_OK); /* it has finished: no blocking here */
    CHECK_EQ(thread_rounds, 5);
    t_puts(1, "ok suspend from a plain thread\n");
}

static grt_chan *wake_ch;
static uint64_t waiter_goid;
static uintptr_t ret_into_waiter;
static int waiting, waiter_got, helper_sent;

static __attribute__((noinline, noipa)) int wait_here(void) {
    ret_into_waiter = (uintptr_t)__builtin_return_address(0);
    int v = 0;
    __atomic_store_n(&waiting, 1, __ATOMIC_RELEASE);
    CHECK_EQ(grt_chan_recv(wake_ch, &v), GRT_OK);
    return v;
}

static void waiter(void *arg) {
    (void)arg;
    __atomic_store_n(&waiter_goid, grt_goid(), __ATOMIC_RELEASE);
    int v = wait_here();
    __atomic_store_n(&waiter_got, v, __ATOMIC_RELEASE);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

/* Wakes the waiter; must wait while the waiter is suspended. */
static void helper_send(void *arg) {
    (void)arg;
    int v = 1234;
    CHECK_EQ(grt_chan_send(wake_ch, &v), GRT_OK);
    __atomic_store_n(&helper_sent, 1, __ATOMIC_RELEASE);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void test_parked(void) {
    CHECK_EQ(grt_chan_make(&wake_ch, sizeof(int), 0), GRT_OK);
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(waiter, 0), GRT_OK);
    for (int i = 0; i < 5000 && !__atomic_load_n(&waiting, __ATOMIC_ACQUIRE); i++)
        CHECK_EQ(grt_sleep_ns(MS), GRT_OK);
    CHECK_EQ(grt_sleep_ns(20 * MS), GRT_OK); /* parked in grt_chan_recv by now */
    uint64_t g = __atomic_load_n(&waiter_goid, __ATOMIC_ACQUIRE);
    CHECK(g > 1);

    grt_gregs r = {0, 0, 0, 0, 0, -1};
    CHECK_EQ(grt_suspend(g, &r), GRT_OK);
    CHECK_EQ(r.state, GRT_GSTATE_WAITING);
    CHECK_EQ(r.on_signal, 0);
    CHECK(r.sp != 0);
    CHECK(r.pc != 0);
    /* Another goroutine sends to it. The send completes (the value is handed over and the
     * sender goes on), but the suspended goroutine does not run until grt_resume. */
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(helper_send, 0), GRT_OK);
    for (int i = 0; i < 5000 && !__atomic_load_n(&helper_sent, __ATOMIC_ACQUIRE); i++)
        CHECK_EQ(grt_sleep_ns(MS), GRT_OK);
    CHECK_EQ(__atomic_load_n(&helper_sent, __ATOMIC_ACQUIRE), 1);
    CHECK_EQ(grt_sleep_ns(20 * MS), GRT_OK);
    CHECK_EQ(__atomic_load_n(&waiter_got, __ATOMIC_ACQUIRE), 0);

    uintptr_t pcs[64];
    CHECK_EQ(grt_resume(g), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK); /* the waiter and the helper */
    CHECK_EQ(__atomic_load_n(&waiter_got, __ATOMIC_ACQUIRE), 1234);
    CHECK_EQ(__atomic_load_n(&helper_sent, __ATOMIC_ACQUIRE), 1);

    /* A walk of a parked goroutine: its chain reaches the frame of its body. */
    waiting = 0;
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(waiter, 0), GRT_OK);
    for (int i = 0; i < 5000 && !__atomic_load_n(&waiting, __ATOMIC_ACQUIRE); i++)
        CHECK_EQ(grt_sleep_ns(MS), GRT_OK);
    CHECK_EQ(grt_sleep_ns(20 * MS), GRT_OK);
    g = __atomic_load_n(&waiter_goid, __ATOMIC_ACQUIRE);
    int n = grt_traceback(g, pcs, 64);
    CHECK(n >= 1);
    int found = 0;
    for (int i = 0; i < n; i++) found |= pcs[i] == ret_into_waiter;
    CHECK(found);
    int v = 99;
    CHECK_EQ(grt_chan_send(wake_ch, &v), GRT_OK); /* still parked: the walk did not wake it */
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(waiter_got, 99);
    CHECK_EQ(grt_chan_free(wake_ch), GRT_OK);
    t_puts(1, "ok suspend a parked goroutine\n");
}

static void test_bad_goids(void) {
    grt_gregs r;
    uintptr_t pcs[4];
    CHECK_EQ(grt_suspend(0, &r), GRT_EINVAL);
    CHECK_EQ(grt_suspend(987654321, &r), GRT_EINVAL);
    CHECK_EQ(grt_suspend(grt_goid(), &r), GRT_EINVAL); /* not on itself */
    CHECK_EQ(grt_resume(0), GRT_EINVAL);
    CHECK_EQ(grt_resume(987654321), GRT_EINVAL);
    CHECK_EQ(grt_traceback(0, pcs, 4), GRT_EINVAL);
    CHECK_EQ(grt_traceback(987654321, pcs, 4), GRT_EINVAL);
    t_puts(1, "ok bad goids\n");
}

static void main_g(void *arg) {
    (void)arg;
    CHECK_EQ(grt_maxprocs(), 2);
    test_bad_goids();
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(spinner, 0), GRT_OK);
    for (int i = 0; i < 5000 && !__atomic_load_n(&spinner_goid, __ATOMIC_ACQUIRE); i++)
        CHECK_EQ(grt_sleep_ns(MS), GRT_OK);
    uint64_t g = __atomic_load_n(&spinner_goid, __ATOMIC_ACQUIRE);
    CHECK(g > 1);
    CHECK(counter_moves(0));
    test_running(g);
    test_from_thread(g);
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    test_parked();
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
