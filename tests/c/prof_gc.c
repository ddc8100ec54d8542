/* grt-test: exit=0 stdout="ok collections ran" stdout="PASS" env="GRTPROF=@PROFILE@" env="GRTPROFHZ=1000" env="GRTMAXPROCS=2" profile=gc
 *
 * The collector's CPU time shows in profiles: its thread (not an M) gets a CPU timer like
 * every M, and its samples are charged to `grt.GC`. The main goroutine keeps a linked list of
 * 200,000 objects alive and asks for collections back to back for about a second of wall
 * time; it waits for each one in a system call, so nearly all the CPU time is the collector's
 * marking and sweeping (profile check `gc`: at least half of the samples).
 */
#include "check.h"

#define NODES 200000

struct node {
    struct node *next;
    long v;
};

static struct node *volatile head;

static void main_goroutine(void *arg) {
    (void)arg;
    for (long i = 0; i < NODES; i++) {
        struct node *n = grt_alloc(sizeof *n);
        CHECK(n != 0);
        n->v = i;
        n->next = head;
        head = n;
    }
    uint64_t end = grt_nanotime() + 1000000000ull;
    unsigned long cycles = 0;
    while (grt_nanotime() < end) {
        CHECK_EQ(grt_gc(), GRT_OK);
        cycles++;
    }
    long n = 0;
    for (struct node *p = head; p; p = p->next) n++;
    CHECK_EQ(n, NODES);
    CHECK(cycles > 0);
    t_puts(1, "ok collections ran\n");
    t_puts(1, "PASS\n");
}

int main(void) {
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
