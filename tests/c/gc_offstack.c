/* grt-test: exit=0 stdout="ok frames survive while the goroutine runs on a stack of its own" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * A running goroutine whose thread is stopped while it runs on some other stack: here a
 * context of the program's own (grt_context_make on a grt_stack_alloc stack), switched to
 * from 200 frames deep in the goroutine. The goroutine's saved context (g.sched) is from its
 * last trip through the scheduler, made before it recursed, so it is stale: scanning from it
 * would miss the 200 frames below it, and placing barriers along the chain it names would
 * write into whatever those frames now hold. The collector must scan such a stack whole, with
 * no barriers, and count it as not scanned.
 *
 * Each of the 200 frames holds a tracked object (gc_tobj.h) in a volatile local; the context
 * on the other stack checks them all (through a table masked so that it is no root) every
 * few thousand iterations while cycles run back to back, and the frames check their own on
 * the way out. Runs GRT_STRESS_MS (default 1000 ms).
 */
#define DEPTH 200
#define GC_DEEP_MAX DEPTH
#define GC_DEEP_TEST "gc_offstack"
#include "gc_stress.h"

static volatile int stop;
static volatile unsigned long checks;
static grt_context goroutine_ctx, side_ctx;
static grt_stack side_stack;

/* Runs on side_stack, on the goroutine's thread, until the collector goroutine is done. */
static void side(void *arg) {
    (void)arg;
    for (unsigned long i = 0; !stop; i++) {
        if (i % 4096 == 0) {
            gc_deep_check();
            checks++;
        }
    }
    grt_context_switch(&side_ctx, &goroutine_ctx);
}

/* The bottom of the recursion: off to the other stack. */
static void to_side(void) {
    grt_context_switch(&goroutine_ctx, &side_ctx);
}

static grt_waitgroup done = GRT_WAITGROUP_INIT;

static void deep_goroutine(void *arg) {
    (void)arg;
    grt_yield(); /* g.sched from here, before the recursion */
    CHECK_EQ(gc_deep(DEPTH, to_side), DEPTH + 1);
    grt_wg_done(&done);
}

static struct gc_stress stress = {0, 2000, &stop, &done};

static void main_goroutine(void *arg) {
    (void)arg;
    CHECK_EQ(grt_stack_alloc(&side_stack, 0), GRT_OK);
    CHECK_EQ(grt_context_make(&side_ctx, &side_stack, side, 0, 0), GRT_OK);
    grt_wg_add(&done, 2);
    CHECK_EQ(grt_go(deep_goroutine, 0), GRT_OK);
    CHECK_EQ(grt_go(gc_stress_collector, &stress), GRT_OK);
    CHECK_EQ(grt_wg_wait(&done), GRT_OK);
    struct grt_gc_stats st;
    gc_stress_covered(&st);
    t_put_kv("checks", checks);
    t_puts(1, "\n");
    CHECK(checks > 0);
    CHECK(st.stacks_rescanned_whole > 0);
    t_puts(1, "ok frames survive while the goroutine runs on a stack of its own\n");
    t_puts(1, "PASS\n");
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    stress.ms = t_env_u64(envp, "GRT_STRESS_MS", 1000);
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
