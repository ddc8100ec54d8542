/* grt-test: exit=0 stdout="ok a scan between grt_gc_unwind and longjmp" stdout="PASS" builds=hosted env="GRTMAXPROCS=2" env="GRTGC=off" env="GRTDEBUG=gcstackbarrierall=1"
 *
 * A collection that scans a goroutine between its grt_gc_unwind and its longjmp. The
 * barriers grt_gc_unwind took out are gone, but the scan sees the frames the jump is about
 * to skip and, unless told otherwise, puts new barriers into them: they are never hit, and
 * the next return through a barrier above the jump's target finds them first. (That was a
 * fatal error until the trampoline learned to pass over barriers a jump skipped; it still
 * costs that goroutine a longer rescan.) grt_gc_unwind keeps barriers out of the frames below
 * its target until a scan finds the goroutine at or above it (G.stkbar_floor), so none is
 * ever passed over here: grt_gc_stats.barriers_jumped stays 0. The corpus (tests/corpus) hit
 * this about once in 25 runs; here each round holds the goroutine between the two calls until
 * the cycle has scanned it (a barrier appears in the return slot of `outer`, far above the
 * jump's target), and jumps at once, before the cycle's end removes the barriers.
 * Its teeth (gc_unwind_scan_teeth.c, GRTDEBUG=gcnounwindfloor=1) must see barriers jumped.
 */
#include <setjmp.h>

#include "check.h"

#ifndef ROUNDS
#define ROUNDS 20
#endif

void grt_stack_barrier(void); /* the trampoline: only its address is used */

static jmp_buf env;
static volatile long anchor_sp;
static volatile uintptr_t *outer_ret_slot; /* outer's return-address slot */
static volatile int round_open, in_window, round_done; /* round numbers, a handshake */
static volatile int counted;                /* the last count is in grt_gc_stats */
static volatile int jump = 1;
static unsigned long seen;                 /* rounds in which the scan came in the window */

__attribute__((noinline)) static long dive(int d) {
    volatile long local = d;
    if (d == 0) {
        CHECK_EQ(grt_gc_unwind((const void *)anchor_sp), GRT_OK);
        in_window = round_open;
        /* Running C: the collector stops us here, every frame below the target still there.
         * Jump as soon as its scan has put a barrier into outer's frame (or after 2 s). */
        uint64_t t0 = grt_nanotime();
        while (*outer_ret_slot != (uintptr_t)grt_stack_barrier) {
            if (grt_nanotime() - t0 > 2000000000ull) break;
        }
        seen += *outer_ret_slot == (uintptr_t)grt_stack_barrier;
        if (jump) longjmp(env, 1);
        return 0;
    }
    return dive(d - 1) + local;
}

/* Called by setjmp's frame, whose own barrier (and its callers') must be hit normally. */
__attribute__((noinline)) static long jumper(void) {
    volatile long here = 0;
    anchor_sp = (long)&here;
    /* jumper's frame record holds outer's frame pointer; outer's record, its return slot. */
    uintptr_t *outer_fp = *(uintptr_t **)__builtin_frame_address(0);
    outer_ret_slot = outer_fp + 1;
    if (setjmp(env) == 0) {
        dive(40);
        return -1;
    }
    return here + 7;
}

__attribute__((noinline)) static long outer(void) {
    long r = jumper();
    return r + 1;
}

static grt_waitgroup done = GRT_WAITGROUP_INIT;

static void target(void *arg) {
    (void)arg;
    for (int r = 1; r <= ROUNDS; r++) {
        while (round_open != r) grt_yield();
        CHECK_EQ(outer(), 8);
        round_done = r;
    }
    /* Parked until a collection has rescanned this stack: it adds the trampoline's count of
     * barriers passed over to grt_gc_stats. */
    while (!counted) grt_yield();
    grt_wg_done(&done);
}

static void main_goroutine(void *arg) {
    (void)arg;
    grt_wg_add(&done, 1);
    CHECK_EQ(grt_go(target, 0), GRT_OK);
    for (int r = 1; r <= ROUNDS; r++) {
        round_open = r;
        while (in_window != r) grt_yield();
        CHECK_EQ(grt_gc(), GRT_OK); /* scans target inside the window */
        while (round_done != r) grt_yield();
    }
    CHECK_EQ(grt_gc(), GRT_OK);
    counted = 1;
    CHECK_EQ(grt_wg_wait(&done), GRT_OK);
    CHECK(seen > 0);
    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    if (st.barriers_jumped != 0) {
        t_puts(2, "gc_unwind_scan: the trampoline passed over ");
        t_putu(2, st.barriers_jumped, 10);
        t_puts(2, " barriers placed in frames the longjmp skipped\n");
        grt_exit(1);
    }
    t_puts(1, "ok a scan between grt_gc_unwind and longjmp\n");
    t_puts(1, "PASS\n");
}

int main(void) {
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
