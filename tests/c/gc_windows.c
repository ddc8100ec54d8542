/* grt-test: exit=0 stdout="ok win_post" stdout="ok win_offset" stdout="ok win_sib_b" stdout="ok win_sib_stp" stdout="ok win_sib_in" stdout="ok win_cfi" stdout="ok win_tail" stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTGC=off" env="GRTDEBUG=gcstackbarrierall=1" env="GRTPROF=@PROFILE@" env="GRTPROFHZ=1000" profile=windows
 *
 * Stops, walks and samples that land in the windows of a return that C code opens: between
 * an epilogue's reload of the frame record and the `ret`, and around a sibling call (the
 * caller's frame gone, the return address handed to the callee in a register or a record of
 * its own). The windows are a few instructions long, and qemu runs such a sequence as one
 * block, so a signal would never land in them by chance: the helpers in
 * gc_windows_<arch>.S stop in each one and spin there until released (see the list there).
 *
 * For each window, a goroutine calls win_caller -> win_X(cb, 41); cb puts a stack barrier in
 * every frame record above it (the test hook grt_test_stkbar_install), win_X's own included,
 * and returns; win_X then stops in its window. While it spins there:
 *   1. the profiler (GRTPROF, 1000 Hz) samples it for 30 ms: each sample must name the
 *      real callers (profile check `windows`), never the trampoline;
 *   2. grt_traceback walks it from the suspend signal's registers: every frame after the
 *      interrupted pc must be one of the real return addresses, in order, each at most once
 *      (the window's own caller may be missing: the first step never guesses, but the
 *      barrier's entry must be consumed exactly once or the walk dies with "missed stack
 *      barrier"), and the outer ones must be there;
 *   3. a collection runs (grt_gc): its stops land in the window, and removing the barriers
 *      must take the trampoline's address out of wherever the window keeps it (the link
 *      register, a record at another address, the slot at sp), or the release below dies
 *      in the trampoline;
 *   4. the walk again.
 * Then win_X is released and must return 42 into win_caller.
 * win_cfi's window has unwind rows (LLVM's, on aarch64: they still describe the frame record
 * the epilogue has just reloaded): there the profiler, which reads the rows, must not miss
 * even the window's own caller (profile check `windows`), and neither may grt_traceback on
 * aarch64, whose first step reads the code back to the epilogue's `ldp x29, x30`. win_tail
 * is the case that reading must refuse: a pc after an early tail call's `ldp x29, x30`,
 * with the record in place and x30 left over from a call further down; a walk that takes
 * it reports a return address inside win_tail as a caller and fails the order check.
 */
#include "check.h"

int grt_test_stkbar_install(void);

volatile int win_in;
volatile int win_go;
volatile uintptr_t win_ret;

long win_post(long (*cb)(long), long arg);
long win_offset(long (*cb)(long), long arg);
long win_sib_b(long (*cb)(long), long arg);
long win_sib_stp(long (*cb)(long), long arg);
long win_sib_in(long (*cb)(long), long arg);
long win_cfi(long (*cb)(long), long arg);
long win_tail(long (*cb)(long), long arg);

static const char *const names[] = {"win_post", "win_offset", "win_sib_b", "win_sib_stp",
                                    "win_sib_in", "win_cfi", "win_tail"};
#define NWIN 7
/* The windows that open after the epilogue's `ldp x29, x30` (aarch64) in a function with an
 * unwind table (the code's reading takes x30 there only for a call into the function that
 * table bounds): win_cfi. */
#define RELOADED (1u << 5)

static long cb(long x) {
    CHECK(grt_test_stkbar_install() > 2);
    return x;
}

static volatile uintptr_t ra_win_caller, ra_target;
static volatile uint64_t target_goid;
static volatile long result;
static volatile int finished;

/* Direct calls (the first step from a signal only trusts a caller whose call instruction
 * targets the interrupted function), and the result used after the call (no tail call). */
static __attribute__((noinline)) long win_caller(int i) {
    ra_win_caller = (uintptr_t)__builtin_return_address(0);
    long r;
    switch (i) {
    case 0: r = win_post(cb, 41); break;
    case 1: r = win_offset(cb, 41); break;
    case 2: r = win_sib_b(cb, 41); break;
    case 3: r = win_sib_stp(cb, 41); break;
    case 4: r = win_sib_in(cb, 41); break;
    case 5: r = win_cfi(cb, 41); break;
    default: r = win_tail(cb, 41); break;
    }
    __asm__ volatile("" ::: "memory");
    return r * 1;
}

static __attribute__((noinline)) void target(void *arg) {
    ra_target = (uintptr_t)__builtin_return_address(0);
    target_goid = grt_goid();
    result = win_caller((int)(uintptr_t)arg);
    __asm__ volatile("" ::: "memory");
    finished = 1;
}

/* Every frame after pcs[0] is one of the real return addresses, in order, each at most once;
 * the two outer ones are there. */
static void check_walk(int w) {
    uintptr_t pcs[64];
    int n = grt_traceback(target_goid, pcs, 64);
    CHECK(n >= 3);
    const uintptr_t real[] = {win_ret, ra_win_caller, ra_target};
    int next = 0, seen_caller = 0, seen_target = 0;
    for (int i = 1; i < n && next < 3; i++) {
        while (next < 3 && pcs[i] != real[next]) next++;
        if (next == 3) {
            t_puts(2, names[w]);
            t_puts(2, ": grt_traceback frame ");
            t_putu(2, i, 10);
            t_puts(2, " is 0x");
            t_putu(2, pcs[i], 16);
            t_puts(2, ", not a real caller in order\n");
            grt_exit(1);
        }
        seen_caller |= next == 1;
        seen_target |= next == 2;
        next++;
    }
    CHECK(seen_caller && seen_target);
#ifdef __aarch64__
    /* After the epilogue's `ldp x29, x30`, the code says where the return address is (x30):
     * the window's own caller must be there too. */
    if (RELOADED & (1u << w) && !(n >= 2 && pcs[1] == win_ret)) {
        t_puts(2, names[w]);
        t_puts(2, ": grt_traceback lost the window's own caller after the record's reload: frame 1 is 0x");
        t_putu(2, n >= 2 ? pcs[1] : 0, 16);
        t_puts(2, ", not 0x");
        t_putu(2, win_ret, 16);
        t_puts(2, "\n");
        grt_exit(1);
    }
#endif
}

static void run(int w) {
    win_in = 0;
    win_go = 0;
    finished = 0;
    target_goid = 0;
    CHECK_EQ(grt_go(target, (void *)(uintptr_t)w), GRT_OK);
    uint64_t deadline = grt_nanotime() + 10000000000ull;
    while (win_in != w + 1) {
        CHECK(grt_nanotime() < deadline);
        grt_sleep_ns(1000000);
    }
    grt_sleep_ns(30000000); /* samples in the window */
    check_walk(w);
    CHECK_EQ(grt_gc(), GRT_OK);
    check_walk(w);
    win_go = 1;
    while (!finished) {
        CHECK(grt_nanotime() < deadline);
        grt_sleep_ns(1000000);
    }
    CHECK_EQ(result, 42);
    t_puts(1, "ok ");
    t_puts(1, names[w]);
    t_puts(1, "\n");
}

static void main_goroutine(void *arg) {
    (void)arg;
    for (int w = 0; w < NWIN; w++) run(w);
    t_puts(1, "PASS\n");
}

int main(void) {
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
