/* grt-test: exit=0 stdout="ok every register survives" stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=asyncpreempt=1"
 *
 * Every register survives asynchronous preemption. A goroutine runs async_regs_spin
 * (sched_async_regs_<arch>.S) over and over: it loads every register it can with values
 * that change each call (x86_64: rax..r15 but rsp/rbp, DF set, ymm0-15 or xmm0-15, MXCSR and
 * the x87 control word; aarch64: x0-x28, v0-v31 whole, FPCR), spins without touching them,
 * and stores them. Meanwhile a driver goroutine asks for its preemption every 100 us
 * (grt_test_preempt: what sysmon does at a time slice), so it is preempted in the middle of
 * the spin again and again, and resumes on either thread, while a third goroutine computes
 * with other values in every register the compiler uses. After every call each register must
 * hold what was loaded. Runs until TARGET preemptions or GRT_STRESS_MS (default 3000 ms), and
 * needs at least MIN_PREEMPTED (printed).
 */
#include "check.h"

/* 1 (the teeth): async preemption only inside the spin; see sched_async_regs_teeth.c. */
#ifndef ONLY_IN_SPIN
#define ONLY_IN_SPIN 0
#endif

#define TARGET 3000
#define MIN_PREEMPTED 200

int grt_test_preempt(uint64_t goid);
long async_regs_spin(uint64_t iters, uint64_t *out, const uint64_t *vals, long avx);

#if defined(__x86_64__)
#define NVALS 79
#define NOUT (24 + 64)
static const char *const gpr_names[] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8",
                                        "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
#define NGPR 14
static long have_avx(void) {
    unsigned a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if (!(c & (1u << 27)) || !(c & (1u << 28))) return 0; /* OSXSAVE, AVX */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 6) == 6; /* the OS saves XMM and YMM state */
}
#elif defined(__aarch64__)
#define NVALS 94
#define NOUT (32 + 64)
#define NGPR 29
static long have_avx(void) { return 0; }
#endif

static volatile int stop;
static volatile uint64_t spinner_goid;
static unsigned long calls;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static uint64_t rnd(uint64_t *x) {
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

static void fail(const char *what, int i, uint64_t got, uint64_t want) {
    t_puts(2, "sched_async_regs: ");
    t_puts(2, what);
    if (i >= 0) t_putu(2, (unsigned long)i, 10);
    t_puts(2, " is 0x");
    t_putu(2, got, 16);
    t_puts(2, ", not 0x");
    t_putu(2, want, 16);
    t_puts(2, " after preemption\n");
    grt_exit(1);
}

static void check(const uint64_t *out, const uint64_t *vals, long avx) {
#if defined(__x86_64__)
    for (int i = 0; i < NGPR; i++)
        if (out[i] != vals[65 + i]) fail(gpr_names[i], -1, out[i], vals[65 + i]);
    if (!(out[15] & (1u << 10))) fail("DF in rflags", -1, out[15], 1u << 10);
    uint64_t ctl = out[16] & 0x0000ffff0000ffc0ull, want = vals[64] & 0x0000ffff0000ffc0ull;
    if (ctl != want) fail("MXCSR | x87 CW << 32", -1, ctl, want);
    for (int r = 0; r < 16; r++)
        for (int w = 0; w < (avx ? 4 : 2); w++)
            if (out[24 + 4 * r + w] != vals[4 * r + w]) fail("vector register word ", 4 * r + w, out[24 + 4 * r + w], vals[4 * r + w]);
#elif defined(__aarch64__)
    (void)avx;
    for (int i = 0; i < NGPR; i++)
        if (out[i] != vals[65 + i]) fail("x", i, out[i], vals[65 + i]);
    if (out[29] != vals[64]) fail("FPCR", -1, out[29], vals[64]);
    for (int w = 0; w < 64; w++)
        if (out[32 + w] != vals[w]) fail("vector register word ", w, out[32 + w], vals[w]);
#endif
}

static void spinner(void *arg) {
    (void)arg;
    if (ONLY_IN_SPIN) (void)grt_async_preempt(0);
    long avx = have_avx();
    spinner_goid = grt_goid();
    uint64_t x = 0x9e3779b97f4a7c15ull, vals[NVALS], out[NOUT];
    while (!stop) {
        for (int i = 0; i < NVALS; i++) vals[i] = rnd(&x);
#if defined(__x86_64__)
        /* Valid control words: rounding down/up/zero, masks on; x87 rounding and precision. */
        vals[64] = (0x1f80u | (unsigned)(1 + x % 3) << 13) | (uint64_t)(0x027fu | (unsigned)(x % 4) << 10) << 32;
#elif defined(__aarch64__)
        vals[64] = (uint64_t)(1 + x % 3) << 22; /* RMode: +inf, -inf, zero */
#endif
        if (ONLY_IN_SPIN) (void)grt_async_preempt(1);
        async_regs_spin(200000, out, vals, avx);
        if (ONLY_IN_SPIN) (void)grt_async_preempt(0);
        check(out, vals, avx);
        calls++;
    }
    grt_wg_done(&wg);
}

/* Other values in the registers the compiler uses, on the other thread. */
static volatile double sink;
static void busy(void *arg) {
    (void)arg;
    if (ONLY_IN_SPIN) (void)grt_async_preempt(0);
    double a = 1.5, b = 0.25;
    uint64_t x = 12345;
    while (!stop) {
        for (int i = 0; i < 1000; i++) {
            a = a * 1.0000001 + b;
            b = b * 0.9999999 + (double)(rnd(&x) & 255);
        }
        sink = a + b;
        grt_yield();
    }
    grt_wg_done(&wg);
}

static void main_goroutine(void *arg) {
    (void)arg;
    if (ONLY_IN_SPIN) (void)grt_async_preempt(0);
    grt_wg_add(&wg, 2);
    CHECK_EQ(grt_go(spinner, 0), GRT_OK);
    CHECK_EQ(grt_go(busy, 0), GRT_OK);
    while (!spinner_goid) grt_sleep_ns(1000000);
    uint64_t end = grt_nanotime() + 3000ull * 1000000ull;
    struct grt_preempt_stats st;
    do {
        (void)grt_test_preempt(spinner_goid);
        grt_sleep_ns(100000);
        CHECK_EQ(grt_preempt_stats(&st), GRT_OK);
    } while (st.preempted < TARGET && grt_nanotime() < end);
    stop = 1;
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(grt_preempt_stats(&st), GRT_OK);
    t_put_kv("preempted", st.preempted);
    t_put_kv("calls", calls);
    t_put_kv("refused", st.refused_runtime + st.refused_foreign + st.refused_frame + st.refused_room);
    t_puts(1, "\n");
    CHECK(st.preempted >= MIN_PREEMPTED);
    t_puts(1, "ok every register survives asynchronous preemption\n");
    t_puts(1, "PASS\n");
}

int main(void) {
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
