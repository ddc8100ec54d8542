/* grt-test: exit=0 stdout="ok objects read through weak pointers between cycles die" stdout="PASS" env="GRTMAXPROCS=2" env="GRTGC=off"
 *
 * Reading a weak pointer hands out a strong one, which the collector must see while a cycle
 * marks (the read shades the object, as Go's makeStrongFromWeak does). Between cycles there
 * is nothing to shade for: the shade then went into the M's write-barrier buffer, the next
 * mark termination flushed it, and every object whose weak pointer was read between two
 * cycles lived through the next one for nothing.
 *
 * N objects with weak pointers, held through a first cycle by a global table, then dropped.
 * The main goroutine then reads every weak pointer and runs a collection, CYCLES times, with
 * no allocation in between (nothing refills the allocation cache, which would flush the
 * buffer). By the end at least 90% must read NULL (a conservative collector may keep a few
 * through stale words). Before the fix, all N lived through every cycle.
 */
#include "gc_tobj.h"

#define N 64
#define CYCLES 4

static grt_weak *weak[N];
static struct tobj *volatile keep[N]; /* volatile: written only */
static uint64_t serial[N];

static __attribute__((noinline, noipa)) void make(void) {
    for (int i = 0; i < N; i++) {
        struct tobj *o = tobj_new();
        keep[i] = o;
        serial[i] = o->serial;
        weak[i] = grt_weak_make(o);
        CHECK(weak[i] != 0);
    }
    /* Garbage of the same size: the cache's run that holds the objects is used up. */
    for (int i = 0; i < 2000; i++) (void)tobj_new();
}

/* Zeroes the stack below the caller's frame, where make and the allocator left addresses. */
static __attribute__((noinline, noipa)) void scrub(void) {
    volatile char buf[32 << 10];
    for (unsigned i = 0; i < sizeof buf; i++) buf[i] = 0;
}

static __attribute__((noinline, noipa)) int count_alive(void) {
    int alive = 0;
    for (int i = 0; i < N; i++) alive += grt_weak_get(weak[i]) != 0;
    return alive;
}

static void main_goroutine(void *arg) {
    (void)arg;
    make();
    scrub();
    CHECK_EQ(grt_gc(), GRT_OK);
    CHECK_EQ(count_alive(), N); /* held by the table */
    for (int i = 0; i < N; i++) tobj_check("gc_weak_float", " (held)", (unsigned)i, keep[i], serial[i]);
    for (int i = 0; i < N; i++) keep[i] = 0;
    int alive = N;
    for (int c = 0; c < CYCLES; c++) {
        alive = count_alive();
        scrub();
        CHECK_EQ(grt_gc(), GRT_OK);
        t_puts(1, "cycle");
        t_put_kv("n", (uint64_t)c + 1);
        t_put_kv("alive_before", (uint64_t)alive);
        t_puts(1, "\n");
    }
    alive = count_alive();
    if (alive > N / 10) {
        t_puts(2, "gc_weak_float: objects whose weak pointers were read between cycles lived on "
                  "(");
        t_putu(2, (uint64_t)alive, 10);
        t_puts(2, " of ");
        t_putu(2, N, 10);
        t_puts(2, " after ");
        t_putu(2, CYCLES, 10);
        t_puts(2, " cycles)\n");
        grt_exit(1);
    }
    for (int i = 0; i < N; i++) CHECK_EQ(grt_weak_free(weak[i]), GRT_OK);
    t_puts(1, "ok objects read through weak pointers between cycles die\n");
    t_puts(1, "PASS\n");
}

int main(void) { return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1; }
