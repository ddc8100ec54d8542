/* grt-test: exit=0 stdout="ok cgocall without a goroutine" stdout="ok traceback in cgocall" stdout="ok suspend in cgocall" stdout="ok frozen until resumed" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * A goroutine in grt_cgocall, looked at from the main goroutine (GRTMAXPROCS=2):
 * body() -> outer() -> inner() -> grt_cgocall(spin), where spin busy-waits on the M's system
 * stack (no grt calls but grt_nanotime) until released.
 *   - grt_traceback walks the goroutine's own stack from where it entered grt_cgocall: the
 *     first return address is in inner(), the next two are exactly the return addresses
 *     into outer() and body() that inner() and outer() recorded themselves; a walk with a
 *     smaller max returns fewer; the walk lets the goroutine go on;
 *   - grt_suspend reports GRT_GSTATE_SYSCALL, not from a signal, with pc in inner() and sp/fp
 *     on the goroutine's stack (not on the system stack spin runs on);
 *   - released while suspended, the goroutine does not return into inner() (its stack is
 *     frozen) until grt_resume; then it finishes, and its id is unknown afterwards.
 * From a thread that is not running a goroutine grt_cgocall just calls the function.
 */
#include "check.h"

#define MS 1000000LL
#define STACK (64 * 1024)

static int released;      /* spin of round r returns once released >= r */
static int spinning;      /* round number while spin runs, 0 otherwise */
static int done_round;    /* rounds whose cgocall returned into inner() */
static uint64_t target;   /* goid of body */
static uintptr_t inner_mark, inner_fp, ret_into_outer, ret_into_body, spin_mark;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static void spin(void *arg) {
    int round = (int)(uintptr_t)arg;
    volatile char local = 0;
    spin_mark = (uintptr_t)&local;
    __atomic_store_n(&spinning, round, __ATOMIC_RELEASE);
    uint64_t t0 = grt_nanotime();
    while (__atomic_load_n(&released, __ATOMIC_ACQUIRE) < round) {
        if (grt_nanotime() - t0 > 20000 * MS) {
            t_puts(2, "spin: never released\n");
            grt_exit(1);
        }
    }
    __atomic_store_n(&spinning, 0, __ATOMIC_RELEASE);
}

static __attribute__((noinline, noipa)) void inner(int round) {
    volatile char mark = 0;
    inner_mark = (uintptr_t)&mark;
    inner_fp = (uintptr_t)__builtin_frame_address(0);
    ret_into_outer = (uintptr_t)__builtin_return_address(0);
    int rc = grt_cgocall(spin, (void *)(uintptr_t)round);
    CHECK_EQ(rc, GRT_OK);
    __atomic_store_n(&done_round, round, __ATOMIC_RELEASE);
}

static __attribute__((noinline, noipa)) void outer(int round) {
    ret_into_body = (uintptr_t)__builtin_return_address(0);
    inner(round);
    __asm__ volatile("" ::: "memory"); /* no tail call: outer's frame stays on the stack */
}

static void body(void *arg) {
    (void)arg;
    __atomic_store_n(&target, grt_goid(), __ATOMIC_RELEASE);
    outer(1);
    outer(2);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

/* Sleeps in 1 ms steps until *p == want (at most ~5 s); returns the last value seen. */
static int wait_for(int *p, int want) {
    int v = 0;
    for (int i = 0; i < 5000 && (v = __atomic_load_n(p, __ATOMIC_ACQUIRE)) != want; i++)
        CHECK_EQ(grt_sleep_ns(MS), GRT_OK);
    return v;
}

static int in_inner(uintptr_t pc) { return pc > (uintptr_t)inner && pc < (uintptr_t)inner + 512; }

/* On body's stack near inner()'s frame: its 64 KiB stack holds inner_mark near the top. */
static int on_goroutine_stack(uintptr_t a) {
    return a > inner_mark - (STACK - 1024) && a < inner_mark + 1024;
}

static void main_g(void *arg) {
    (void)arg;
    CHECK_EQ(grt_maxprocs(), 2);
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go_stack(body, 0, STACK), GRT_OK);
    CHECK_EQ(wait_for(&spinning, 1), 1);
    uint64_t g = __atomic_load_n(&target, __ATOMIC_ACQUIRE);
    CHECK(g > 1);
    CHECK(!on_goroutine_stack(spin_mark)); /* fn runs on the M's system stack */

    uintptr_t pcs[64];
    for (int i = 0; i < 64; i++) pcs[i] = 0;
    int n = grt_traceback(g, pcs, 64);
    CHECK(n >= 3);
    CHECK(n <= 64);
    CHECK(in_inner(pcs[0]));
    CHECK_EQ(pcs[1], ret_into_outer);
    CHECK_EQ(pcs[2], ret_into_body);
    uintptr_t one[2] = {0, 0};
    CHECK_EQ(grt_traceback(g, one, 1), 1);
    CHECK_EQ(one[0], pcs[0]);
    CHECK_EQ(one[1], 0);
    CHECK_EQ(__atomic_load_n(&spinning, __ATOMIC_ACQUIRE), 1); /* still in spin */
    CHECK_EQ(__atomic_load_n(&done_round, __ATOMIC_ACQUIRE), 0);
    t_puts(1, "ok traceback in cgocall\n");

    grt_gregs r = {0, 0, 0, 0, 0, -1};
    CHECK_EQ(grt_suspend(g, &r), GRT_OK);
    CHECK_EQ(r.state, GRT_GSTATE_SYSCALL);
    CHECK_EQ(r.on_signal, 0);
    CHECK(in_inner(r.pc));
    CHECK(r.sp != 0);
    CHECK(r.fp != 0);
    CHECK(on_goroutine_stack(r.sp));
    CHECK(on_goroutine_stack(r.fp));
    CHECK(r.fp >= r.sp);
    CHECK(r.sp <= inner_fp); /* at or below inner()'s frame */
    CHECK_EQ(grt_resume(g), GRT_OK);
    __atomic_store_n(&released, 1, __ATOMIC_RELEASE);
    CHECK_EQ(wait_for(&done_round, 1), 1);
    t_puts(1, "ok suspend in cgocall\n");

    /* Round 2: released while suspended. spin returns, but the goroutine stays put. */
    CHECK_EQ(wait_for(&spinning, 2), 2);
    CHECK_EQ(grt_suspend(g, &r), GRT_OK);
    CHECK_EQ(r.state, GRT_GSTATE_SYSCALL);
    __atomic_store_n(&released, 2, __ATOMIC_RELEASE);
    CHECK_EQ(wait_for(&spinning, 0), 0); /* spin returned on the M */
    CHECK_EQ(grt_sleep_ns(20 * MS), GRT_OK);
    CHECK_EQ(__atomic_load_n(&done_round, __ATOMIC_ACQUIRE), 1); /* not back in inner() */
    CHECK_EQ(grt_resume(g), GRT_OK);
    CHECK_EQ(wait_for(&done_round, 2), 2);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    t_puts(1, "ok frozen until resumed\n");

    /* Once it has exited, its id is unknown. */
    int rc = GRT_OK;
    for (int i = 0; i < 2000; i++) {
        rc = grt_suspend(g, &r);
        if (rc != GRT_OK) break;
        CHECK_EQ(grt_resume(g), GRT_OK); /* between grt_wg_done and its end */
        CHECK_EQ(grt_sleep_ns(MS), GRT_OK);
    }
    CHECK_EQ(rc, GRT_EINVAL);
    CHECK_EQ(grt_traceback(g, pcs, 64), GRT_EINVAL);
}

static void set_flag(void *arg) { *(int *)arg = 1; }

int main(void) {
    int flag = 0;
    CHECK_EQ(grt_cgocall(set_flag, &flag), GRT_OK); /* no goroutine: just a call */
    CHECK_EQ(flag, 1);
    t_puts(1, "ok cgocall without a goroutine\n");
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
