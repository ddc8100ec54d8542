/* grt-test: exit=0 stdout="ok the rescan covers the frames a longjmp left behind" stdout="PASS" builds=testhooks env="GRTGC=off" env="GRTDEBUG=gcstackbarrierall=1"
 *
 * A longjmp without grt_gc_unwind (a library's own) leaves the barriers of the frames it
 * skipped in the goroutine's list, and the program then builds new frames where those were:
 * here one with a large buffer it never writes, so the skipped frames' records, trampoline
 * address and all, are still there inside it. Mark termination's rescan stops at the lowest
 * barrier not hit (stkbar::rescan_limit): if that were a skipped one, the rescan would stop
 * inside the buffer, and the frames above it, jumper's among them, which changed after the
 * jump, would not be rescanned: an object moved there from the heap would be freed. The
 * frame chain tells the skipped barriers apart (stkbar::standing: the chain from the
 * stopped frame no longer passes them), so the limit must lie above jumper's locals.
 * Barriers are placed with the test hook grt_test_stkbar_install (as a scan places them);
 * grt_test_rescan_limit computes the limit as mark termination would with the goroutine
 * stopped there. Its teeth (gc_longjmp_limit_teeth.c, GRTDEBUG=gcnochaincheck=1) trust every
 * barrier and must fail the check.
 */
#include <setjmp.h>

#include "check.h"

int grt_test_stkbar_install(void);
int grt_test_stkbar_jumps(void);
int grt_test_stkbar_remove(void);
uintptr_t grt_test_rescan_limit(void);
void grt_stack_barrier(void); /* the trampoline: only its address is used */

#define BUF_BYTES 16384

static jmp_buf env;
static volatile int jump = 1;

__attribute__((noinline)) static long dive(int d) {
    volatile long local = d;
    if (d == 0) {
        CHECK(grt_test_stkbar_install() > 40); /* every frame, with gcstackbarrierall */
        if (jump) longjmp(env, 1);             /* no grt_gc_unwind */
        return 0;
    }
    return dive(d - 1) + local;
}

/* Trampoline addresses in the (never written) buffer: the skipped frames' records. */
static int stale_in(const uintptr_t *w, size_t n) {
    int k = 0;
    for (size_t i = 0; i < n; i++) k += w[i] == (uintptr_t)grt_stack_barrier;
    return k;
}

/* A frame built where the skipped ones were, with a buffer over them that it never writes. */
__attribute__((noinline)) static uintptr_t holder(volatile long *jumper_local, int *stale) {
    uintptr_t buf[BUF_BYTES / 8];
    __asm__ volatile("" : : "r"(buf) : "memory"); /* the buffer escapes, unwritten */
    *stale = stale_in(buf, BUF_BYTES / 8);
    uintptr_t limit = grt_test_rescan_limit();
    if (limit == 0) {
        t_puts(2, "gc_longjmp_limit: the frame chain could not tell the barriers apart\n");
        grt_exit(1);
    }
    if (limit <= (uintptr_t)jumper_local) {
        t_puts(2, "gc_longjmp_limit: the rescan would stop at 0x");
        t_putu(2, limit, 16);
        t_puts(2, ", below jumper's locals at 0x");
        t_putu(2, (uintptr_t)jumper_local, 16);
        t_puts(2, ": it trusts a barrier the longjmp skipped\n");
        grt_exit(1);
    }
    return limit;
}

/* The frame that called setjmp: it survives the jump, then calls holder. */
__attribute__((noinline)) static long jumper(int *stale) {
    volatile long here = 0;
    if (setjmp(env) == 0) {
        dive(40);
        return -1;
    }
    here = 5;
    CHECK(holder(&here, stale) > (uintptr_t)&here);
    return here + 2;
}

__attribute__((noinline)) static long outer(int *stale) {
    long r = jumper(stale);
    return r + 1;
}

static void body(void *arg) {
    (void)arg;
    for (int round = 0; round < 3; round++) {
        int stale = 0;
        int before = grt_test_stkbar_jumps();
        CHECK_EQ(outer(&stale), 8);
        /* The skipped frames' records were still there, in the buffer (so a limit inside it
         * was possible), and jumper's return passed over their barriers. */
        CHECK(stale > 0);
        CHECK_EQ(grt_test_stkbar_jumps(), before + 1);
        grt_test_stkbar_remove();
    }
    t_puts(1, "ok the rescan covers the frames a longjmp left behind\n");
    t_puts(1, "PASS\n");
}

int main(void) {
    return grt_main(body, 0);
}
