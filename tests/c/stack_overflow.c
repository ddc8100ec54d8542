/* grt-test: signal=6 stderr="fatal error: goroutine stack overflow" stderr="stack=[" stderr="#0"
 *
 * Unbounded recursion on a grt stack runs into the guard region: grt reports it and aborts.
 */
#include "check.h"

static grt_context main_ctx, co;

static __attribute__((noinline)) unsigned long recurse(unsigned long n) {
    volatile char pad[256];
    pad[0] = (char)n;
    if (n == ~0UL) return 0; /* never true; keeps the compiler from calling it infinite */
    return recurse(n + 1) + pad[0];
}

static void entry(void *arg) {
    (void)arg;
    recurse(0);
    grt_context_switch(&co, &main_ctx);
}

int main(void) {
    grt_stack s;
    CHECK_EQ(grt_stack_alloc(&s, 64 * 1024), GRT_OK);
    CHECK_EQ(grt_context_make(&co, &s, entry, 0, NULL), GRT_OK);
    grt_context_switch(&main_ctx, &co);
    t_puts(1, "not reached\n");
    return 0;
}
