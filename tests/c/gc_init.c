/* grt-test: exit=0 stdout="ok plain thread" stdout="ok grt_main after grt_init" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * grt_init: the runtime started from a plain thread (bdwgc's GC_INIT), with no main
 * goroutine. The calling thread registers itself, turns on plain-store mode, and builds a
 * linked list in the heap with plain stores whose only root is a local of this thread (in
 * its stack or registers), while goroutines it cannot see (none yet) and the collector run.
 * Cycles run (grt_gc from the plain thread, and the pacer's, with garbage allocated between);
 * the list must stay intact. Then grt_main runs a main goroutine after all. Bad input:
 * grt_init twice is fine (GRT_OK).
 */
#include "check.h"

#define NODES 20000

struct node {
    struct node *next;
    uint64_t id;
    uint64_t pat;
};

static uint64_t pat(uint64_t id) { return id * 0x9e3779b97f4a7c15ull | 1; }

static __attribute__((noinline, noipa)) struct node *build(void) {
    struct node *head = 0;
    for (uint64_t i = 0; i < NODES; i++) {
        struct node *n = grt_alloc(sizeof *n);
        CHECK(n != 0);
        n->next = head; /* plain */
        n->id = i;
        n->pat = pat(i);
        head = n;
    }
    return head;
}

static __attribute__((noinline, noipa)) void churn(void) {
    for (int i = 0; i < 20000; i++) CHECK(grt_alloc(64) != 0);
}

static __attribute__((noinline, noipa)) void check_list(struct node *head) {
    uint64_t i = NODES;
    for (struct node *n = head; n; n = n->next) {
        i--;
        if (n->id != i || n->pat != pat(i)) {
            t_puts(2, "gc_init: node ");
            t_putu(2, i, 10);
            t_puts(2, " was freed while reachable\n");
            grt_exit(1);
        }
    }
    CHECK_EQ(i, 0);
}

static int ran;
static void main_g(void *arg) {
    CHECK(arg == (void *)&ran);
    ran = 1;
}

int main(void) {
    CHECK_EQ(grt_init(), GRT_OK);
    CHECK_EQ(grt_init(), GRT_OK);
    CHECK_EQ(grt_register_thread(0), GRT_OK);
    CHECK_EQ(grt_gc_set_plain_stores(GRT_PLAIN_STORES_PROTECT), GRT_OK);
    struct node *head = build();
    for (int c = 0; c < 20; c++) {
        churn();
        /* Relink a stretch with plain stores while cycles may be marking. */
        struct node *a = head->next, *b = a->next;
        head->next = b;
        a->next = b->next;
        b->next = a;
        b = head->next; /* put it back: head, a, b, ... */
        a = b->next;
        head->next = a;
        b->next = a->next;
        a->next = b;
        CHECK_EQ(grt_gc(), GRT_OK);
        check_list(head);
    }
    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    CHECK(st.cycles >= 20);
    t_puts(1, "ok plain thread\n");
    CHECK_EQ(grt_main(main_g, &ran), GRT_OK);
    CHECK_EQ(ran, 1);
    CHECK_EQ(grt_main(main_g, &ran), GRT_EINVAL);
    t_puts(1, "ok grt_main after grt_init\n");
    check_list(head);
    CHECK_EQ(grt_unregister_thread(), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
