/* grt-test: exit=0 stdout="ok every preempted pc read as its own function" stdout="PASS" env="GRTMAXPROCS=1" env="GRTDEBUG=asyncpreempt=1"
 *
 * A goroutine preempted at a function's first instruction, seen by a walker that reads every
 * frame after the first as a return address (the profile writes callers as `address - 1`;
 * pprof and addr2line users of grt_traceback do the same). The spinner loops in ae_spin
 * (sched_async_entry_<arch>.S), whose loop head is its first instruction (on x86_64 a
 * `rep lodsb`, where an interrupt leaves the pc whatever the core) and whose neighbour
 * below is ae_before, never called. With one P, sysmon preempts the spinner after
 * its slice because main waits; main then runs and walks the spinner, parked in its yield
 * (grt_traceback: the stub's signal frame, then the interrupted pc). Every round the walk
 * must name ae_spin as `address - 1` readers see it, never ae_before; some rounds must have
 * caught the spinner at ae_spin's first instruction (printed). A walker that reports the
 * interrupted pc as it is (as grt did) puts ae_before in the walk. (ae_spin's caller is not
 * checked: grt_traceback reads no unwind tables, and the first step from a frameless leaf
 * in a loop does not guess where its return address is.)
 */
#include "check.h"

#define ROUNDS 40

void ae_before(void);
/* buf, n and their copies: x86_64's spin reads them (sched_async_entry_x86_64.S). */
void ae_spin(volatile int *flag, const char *buf, const char *buf_again, long n, long n_again);
#define SPIN_BYTES 4096
static char spin_buf[SPIN_BYTES];
extern char ae_spin_end[];

static volatile int stop;
static volatile uint64_t spinner_goid;

static __attribute__((noinline)) void ae_caller(void) {
    ae_spin(&stop, spin_buf, spin_buf, SPIN_BYTES, SPIN_BYTES);
    __asm__ volatile("" ::: "memory"); /* not a sibling call: ae_caller stays in the chain */
}

static void spinner(void *arg) {
    (void)arg;
    spinner_goid = grt_goid();
    ae_caller();
}

static int in(uintptr_t a, const void *lo, const void *hi) {
    return a >= (uintptr_t)lo && a < (uintptr_t)hi;
}

static void main_g(void *arg) {
    (void)arg;
    CHECK_EQ(grt_go(spinner, 0), GRT_OK);
    int walked = 0, at_entry = 0;
    for (int round = 0; round < ROUNDS; round++) {
        grt_yield(); /* the spinner runs until sysmon preempts it for us */
        if (!spinner_goid) continue;
        uintptr_t pcs[64];
        int n = grt_traceback(spinner_goid, pcs, 64);
        CHECK(n > 0);
        int spin_at = -1;
        for (int i = 1; i < n; i++) {
            uintptr_t a = pcs[i] - 1; /* a caller, as a return-address reader sees it */
            if (in(a, (const void *)ae_before, (const void *)ae_spin)) {
                t_puts(2, "a frame read as ae_before, never called: 0x");
                t_putu(2, pcs[i], 16);
                t_puts(2, "\n");
                CHECK(!"a preempted pc is read as the function before it");
            }
            if (spin_at < 0 && in(a, (const void *)ae_spin, ae_spin_end)) spin_at = i;
        }
        if (spin_at < 0) continue; /* not preempted in ae_spin this round (still starting) */
        walked++;
        if (pcs[spin_at] == (uintptr_t)ae_spin + 1) at_entry++;
    }
    stop = 1;
    t_put_kv("rounds_walked", (uint64_t)walked);
    t_put_kv("at_first_instruction", (uint64_t)at_entry);
    t_puts(1, "\n");
    CHECK(walked >= ROUNDS / 2);
    CHECK(at_entry > 0);
    t_puts(1, "ok every preempted pc read as its own function\n");
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
