/* grt-test: signal=6 stderr="fatal error: goroutine stack overflow"
 *
 * A stack overflow on a grt thread (not the main thread) is reported too: every grt thread
 * has its own alternate signal stack.
 */
#include "check.h"

static __attribute__((noinline)) unsigned long recurse(unsigned long n) {
    volatile char pad[512];
    pad[0] = (char)n;
    if (n == ~0UL) return 0; /* never true; keeps the compiler from calling it infinite */
    return recurse(n + 1) + pad[0];
}

static grt_context home, co;
static void body(void *arg) { (void)arg; recurse(0); }

static void thread_main(void *arg) {
    (void)arg;
    grt_stack s;
    CHECK_EQ(grt_stack_alloc(&s, 32 * 1024), GRT_OK);
    CHECK_EQ(grt_context_make(&co, &s, body, 0, &home), GRT_OK);
    grt_context_switch(&home, &co);
}

int main(void) {
    grt_thread *t;
    CHECK_EQ(grt_thread_start(&t, thread_main, 0), GRT_OK);
    grt_thread_join(t);
    t_puts(1, "not reached\n");
    return 0;
}
