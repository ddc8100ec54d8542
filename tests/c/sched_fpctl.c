/* grt-test: exit=0 stdout="PASS" env="GRTMAXPROCS=2"
 *
 * The FP control words are each goroutine's own (include/grt.h, "Floating point"): the
 * runtime's switch leaves them to the scheduler, which carries them for a goroutine that
 * changed them and gives its thread its own back. Goroutines that set their own rounding
 * mode (x86_64: MXCSR and the x87 control word; aarch64: FPCR), each a different one, and
 * goroutines that never touch them run side by side on two threads, yielding, sleeping
 * (so they move between threads) and allocating; after every switch each checks that the
 * words in force are its own. Teeth (sched_fpctl_teeth.c, GRTDEBUG=schednofpctl=1): the
 * scheduler does not carry them, and a goroutine sees another's.
 */
#include "check.h"

#define CHANGERS 3
#define PLAIN 3
#define ROUNDS 3000

static unsigned long get_ctl(void) {
#if defined(__x86_64__)
    unsigned int mxcsr;
    unsigned short cw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return (mxcsr & 0xffc0u) | (unsigned long)cw << 32; /* control bits, not sticky flags */
#elif defined(__aarch64__)
    unsigned long v;
    __asm__ volatile("mrs %0, fpcr" : "=r"(v));
    return v;
#endif
}

/* A distinct, valid setting per changer i (1..CHANGERS). */
static void set_ctl_for(int i) {
#if defined(__x86_64__)
    unsigned int mxcsr = 0x1f80u | (unsigned)i << 13; /* rounding control: down, up, zero */
    unsigned short cw = (unsigned short)(0x037fu | (unsigned)i << 10);
    __asm__ volatile("ldmxcsr %0" ::"m"(mxcsr));
    __asm__ volatile("fldcw %0" ::"m"(cw));
#elif defined(__aarch64__)
    unsigned long v = (unsigned long)i << 22; /* RMode: +inf, -inf, zero */
    __asm__ volatile("msr fpcr, %0" ::"r"(v));
#endif
}

static unsigned long initial;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static void check(unsigned long want, int who) {
    unsigned long now = get_ctl();
    if (now != want) {
        t_puts(2, "sched_fpctl: goroutine ");
        t_putu(2, (unsigned long)who, 10);
        t_puts(2, " finds control words 0x");
        t_putu(2, now, 16);
        t_puts(2, ", not its own 0x");
        t_putu(2, want, 16);
        t_puts(2, "\n");
        grt_exit(1);
    }
}

static void body(void *arg) {
    int i = (int)(uintptr_t)arg; /* 0: never changes them */
    unsigned long want = initial;
    if (i) {
        set_ctl_for(i);
        want = get_ctl();
        CHECK(want != initial);
    }
    for (int r = 0; r < ROUNDS; r++) {
        grt_yield();
        check(want, i);
        if (r % 64 == 0) {
            grt_sleep_ns(20000);
            check(want, i);
        }
        if (r % 16 == 0) {
            CHECK(grt_alloc(64) != NULL);
            check(want, i);
        }
    }
    grt_wg_done(&wg);
}

static void main_goroutine(void *arg) {
    (void)arg;
    initial = get_ctl();
    grt_wg_add(&wg, CHANGERS + PLAIN);
    for (int k = 0; k < CHANGERS + PLAIN; k++)
        CHECK_EQ(grt_go(body, (void *)(uintptr_t)(k < CHANGERS ? k + 1 : 0)), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    check(initial, 0);
    t_puts(1, "ok control words stay each goroutine's own\n");
    t_puts(1, "PASS\n");
}

int main(void) {
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
