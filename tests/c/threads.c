/* grt-test: exit=0 stdout="PASS"
 *
 * Four grt threads (pthreads with libc, raw clone() threads freestanding), each running two
 * contexts that ping-pong 20,000 times on its own stacks; the main thread does the same.
 */
#include "check.h"

#define THREADS 4
#define ROUNDS 20000

struct pair {
    grt_context home, co;
    grt_stack stack;
    unsigned long count;
};

static void co_body(void *arg) {
    struct pair *p = arg;
    for (;;) {
        p->count++;
        grt_context_switch(&p->co, &p->home);
    }
}

static void run_pair(void *arg) {
    struct pair *p = arg;
    CHECK_EQ(grt_stack_alloc(&p->stack, 0), GRT_OK);
    CHECK_EQ(grt_context_make(&p->co, &p->stack, co_body, p, NULL), GRT_OK);
    for (unsigned long i = 0; i < ROUNDS; i++) {
        CHECK_EQ(p->count, i);
        grt_context_switch(&p->home, &p->co);
    }
    CHECK_EQ(grt_stack_free(&p->stack), GRT_OK);
}

static struct pair pairs[THREADS + 1];

int main(void) {
    grt_thread *t[THREADS];
    for (int i = 0; i < THREADS; i++) CHECK_EQ(grt_thread_start(&t[i], run_pair, &pairs[i]), GRT_OK);
    run_pair(&pairs[THREADS]);
    for (int i = 0; i < THREADS; i++) CHECK_EQ(grt_thread_join(t[i]), GRT_OK);
    for (int i = 0; i <= THREADS; i++) CHECK_EQ(pairs[i].count, ROUNDS);
    t_puts(1, "ok contexts on 5 threads\n");
    t_puts(1, "PASS\n");
    return 0;
}
