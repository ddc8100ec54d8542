/* grt-test: exit=0 stdout="ok longjmp over barriers" stdout="PASS" builds=testhooks env="GRTGC=off" env="GRTDEBUG=gcstackbarrierall=1"
 *
 * grt_gc_unwind before a longjmp: the jump skips frames that hold stack barriers (installed
 * here with the test hook grt_test_stkbar_install, as the collector installs them), and the
 * barriers in the frames it skips are taken off the goroutine's list: the next return through
 * a barrier above finds its own entry next, and the trampoline never has to pass over any
 * (G.stkbar_jumps stays 0). gc_jump.c (GC_UNWIND_SKIP=1) leaves grt_gc_unwind out: then the
 * trampoline passes over the skipped barriers itself.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

int grt_test_stkbar_install(void);
int grt_test_stkbar_hits(void);
int grt_test_stkbar_remove(void);
int grt_test_stkbar_jumps(void);

static int skip_unwind;
static jmp_buf env;
static volatile long anchor_sp; /* a local of the function that called setjmp */
static volatile int jump = 1;    /* (a path that returns, for the compiler's sake) */

__attribute__((noinline)) static long dive(int d) {
    volatile long local = d;
    if (d == 0) {
        int n = grt_test_stkbar_install();
        CHECK(n > 40); /* every frame, with gcstackbarrierall */
        if (!skip_unwind) CHECK_EQ(grt_gc_unwind((const void *)anchor_sp), GRT_OK);
        if (jump) longjmp(env, 1);
        return 0;
    }
    return dive(d - 1) + local;
}

/* The frame that called setjmp, and returns normally afterwards: through its own barrier
 * and its callers'. */
__attribute__((noinline)) static long jumper(void) {
    volatile long here = 0;
    anchor_sp = (long)&here;
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

static void body(void *arg) {
    (void)arg;
    long r = outer();
    CHECK_EQ(r, 8);
    /* Barriers in jumper's and outer's frames were hit on the way back: after the skipped
     * ones, passed over by the first of those returns without grt_gc_unwind. */
    CHECK(grt_test_stkbar_hits() >= 2);
    CHECK_EQ(grt_test_stkbar_jumps(), skip_unwind ? 1 : 0);
    grt_test_stkbar_remove();
    t_puts(1, "ok longjmp over barriers\n");
    CHECK_EQ(grt_gc_unwind((const void *)0x10), GRT_EINVAL);
    t_puts(1, "PASS\n");
}

int main(void) {
    const char *s = getenv("GC_UNWIND_SKIP");
    skip_unwind = s && strcmp(s, "1") == 0;
    return grt_main(body, 0);
}
