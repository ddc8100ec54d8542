/* grt-test: exit=0 stdout="PASS"
 *
 * Three contexts pass control around a ring many times; each checks it resumes exactly
 * where it left off with its locals intact. Then a context whose function returns goes to
 * its link, and the argument reaches the entry function.
 */
#include "check.h"

#define ROUNDS 200000

static grt_context main_ctx, a_ctx, b_ctx, done_ctx;
static volatile unsigned long trace;

static void a_body(void *arg) {
    unsigned long mine = (unsigned long)arg; /* lives in a callee-saved reg or on the stack */
    for (unsigned long i = 0; i < ROUNDS; i++) {
        CHECK_EQ(trace, 3 * i + 1);
        trace++;
        grt_context_switch(&a_ctx, &b_ctx);
        CHECK_EQ(mine, 0xa11ceUL);
    }
    grt_context_switch(&a_ctx, &main_ctx);
}

static void b_body(void *arg) {
    unsigned long mine = (unsigned long)arg;
    for (unsigned long i = 0; i < ROUNDS; i++) {
        CHECK_EQ(trace, 3 * i + 2);
        trace++;
        grt_context_switch(&b_ctx, &main_ctx);
        CHECK_EQ(mine, 0xb0bUL);
    }
}

static int returned;
static void returns(void *arg) { returned = *(int *)arg; }

int main(void) {
    grt_stack sa, sb, sc;
    CHECK_EQ(grt_stack_alloc(&sa, 0), GRT_OK);
    CHECK_EQ(grt_stack_alloc(&sb, 64 * 1024), GRT_OK);
    CHECK_EQ(grt_stack_alloc(&sc, GRT_STACK_MIN), GRT_OK);
    CHECK_EQ(grt_context_make(&a_ctx, &sa, a_body, (void *)0xa11ceUL, NULL), GRT_OK);
    CHECK_EQ(grt_context_make(&b_ctx, &sb, b_body, (void *)0xb0bUL, NULL), GRT_OK);
    for (unsigned long i = 0; i < ROUNDS; i++) {
        CHECK_EQ(trace, 3 * i);
        trace++;
        grt_context_switch(&main_ctx, &a_ctx);
    }
    CHECK_EQ(trace, 3UL * ROUNDS);
    grt_context_switch(&main_ctx, &a_ctx); /* a leaves its loop and comes back */
    t_puts(1, "ok ring of three contexts\n");

    int value = 42;
    CHECK_EQ(grt_context_make(&done_ctx, &sc, returns, &value, &main_ctx), GRT_OK);
    grt_context_switch(&main_ctx, &done_ctx);
    CHECK_EQ(returned, 42);
    t_puts(1, "ok returning entry function resumes its link\n");

    CHECK_EQ(grt_stack_free(&sa), GRT_OK);
    CHECK_EQ(grt_stack_free(&sb), GRT_OK);
    CHECK_EQ(grt_stack_free(&sc), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
