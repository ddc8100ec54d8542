/* grt-test: exit=0 stdout="main: switching to the producer" stdout="consumer: got 9" stdout="main: back in main after" stdout="main: it returned -22" stderr="grt: grt_stack_alloc:"
 *
 * The context layer under the goroutines: a producer and a consumer context hand values
 * back and forth through grt_context_switch, each on its own grt stack, and say what they
 * did.
 */
#include <grt.h>
#include <stdio.h>

static grt_context main_ctx, producer_ctx, consumer_ctx;
static int slot;

static void producer(void *arg) {
    const char *name = arg;
    for (int i = 1; i <= 3; i++) {
        slot = i * i;
        printf("  %s: made %d, switching to the consumer\n", name, slot);
        grt_context_switch(&producer_ctx, &consumer_ctx);
    }
    printf("  %s: done; returning, so grt switches to my link (main)\n", name);
}

static void consumer(void *arg) {
    const char *name = arg;
    for (;;) {
        printf("  %s: got %d, switching back to the producer\n", name, slot);
        grt_context_switch(&consumer_ctx, &producer_ctx);
    }
}

int main(void) {
    grt_stack ps, cs;
    if (grt_stack_alloc(&ps, 0) != GRT_OK || grt_stack_alloc(&cs, 64 * 1024) != GRT_OK) return 1;
    printf("main: producer stack [%p, %p), consumer stack [%p, %p), guard %zu bytes below each\n",
           ps.lo, ps.hi, cs.lo, cs.hi, ps.guard_size);
    grt_context_make(&producer_ctx, &ps, producer, "producer", &main_ctx);
    grt_context_make(&consumer_ctx, &cs, consumer, "consumer", NULL);

    uint64_t t0 = grt_nanotime();
    printf("main: switching to the producer\n");
    grt_context_switch(&main_ctx, &producer_ctx);
    printf("main: back in main after %llu ns\n", (unsigned long long)(grt_nanotime() - t0));

    printf("main: calling grt_stack_alloc with a bad size shows the error path:\n");
    fflush(stdout); /* grt writes its message straight to stderr */
    grt_stack bad;
    int rc = grt_stack_alloc(&bad, 100);
    printf("main: it returned %d (%s)\n", rc, grt_strerror(rc));
    grt_stack_free(&ps);
    grt_stack_free(&cs);
    return 0;
}
