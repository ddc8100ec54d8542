/*
 * The finalizers benchmark of `cargo xtask bench gc` (xtask/src/bench_gc.rs): the pause of a
 * cycle that finds many finalizable objects dropped, each the only holder of a structure.
 * What such an object points to must be marked before its finalizer runs. grt marks it
 * with the world running, just before mark termination (gc/mfinal.rs markroot_spans, as
 * Go's markrootSpans does during its mark); GRTDEBUG=gcfinatmarkterm=1 leaves it all to
 * mark termination, as grt did before, to compare.
 *
 *   gc_fin_bench [cycles]        default: 20 cycles
 *
 * First the main goroutine makes NLIVE objects with a finalizer that stay reachable to the
 * end (one in four objects allocated then: spread over spans), which mark termination
 * should not have to walk each cycle. Before each cycle it makes NFIN handles, each with a
 * finalizer and the only pointer to a chain of CHAIN nodes, and drops them; then grt_gc() and
 * grt_run_finalizers(). (xtask: GRTMAXPROCS=2 and GRTGC=off, so that every cycle is one of
 * these.) Each finalizer walks its handle's chain and checks the sum of its values: a node
 * freed while its handle's finalizer could reach it would be reused and restamped, or
 * zeroed. After the measured cycles, two more run the last finalizers. A damaged chain,
 * fewer than 99% of the finalizers run, a cycle count that does not move, or a failing
 * call: exit 1.
 *
 * One line on stdout (medians over the cycles):
 *
 *   gc_fin collector=grt cycles=<n> procs=<n> live=<n> finalizable=<n> chain=<n>
 *          cycle_pause_ns_median=<n> cycle_pause_ns_max=<n> markterm_ns_median=<n>
 *          markterm_ns_max=<n> finalized=<n> check=ok
 *
 *   cycle_pause_ns_*   a cycle's stop-the-world pauses together (pause_total_ns moves)
 *   markterm_ns_*      mark termination's pause
 *   finalized          finalizers run, of cycles × finalizable
 *
 * Build: gcc -O2 -fno-omit-frame-pointer -Iinclude gc_fin_bench.c libgrt.a -lpthread
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define BENCH_NAME "gc_fin_bench"
#include "bench.h"

#define DEFAULT_CYCLES 20
#define NFIN 20000
#define CHAIN 8
/* Finalizable objects kept reachable all along (open files, say), one per span of small
 * objects: mark termination must not walk them each cycle. */
#define NLIVE 100000

struct node {
    struct node *next;
    uint64_t v;
};

struct handle {
    struct node *chain;
    uint64_t sum;
};

static uint64_t finalized, bad, made;
static void **live; /* NLIVE objects with a finalizer, reachable to the end */

static void fin(void *obj, void *arg) {
    (void)arg;
    const struct handle *h = obj;
    uint64_t s = 0;
    int n = 0;
    for (const struct node *p = h->chain; p != NULL && n <= CHAIN; p = p->next, n++) s += p->v;
    /* Finalizers run on grt's finalizer goroutine and in grt_run_finalizers, maybe at once. */
    if (n != CHAIN || s != h->sum)
        __atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&finalized, 1, __ATOMIC_RELAXED);
}

/* A reachable object's finalizer: it must never run. */
static void fin_live(void *obj, void *arg) {
    (void)obj;
    (void)arg;
    __atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
}

/* NFIN handles, dropped at once (nothing keeps them). */
static __attribute__((noinline)) void make_handles(void) {
    for (int i = 0; i < NFIN; i++) {
        struct handle *h = grt_alloc(sizeof *h);
        if (h == NULL)
            die("grt_alloc returned NULL");
        uint64_t sum = 0;
        for (int k = 0; k < CHAIN; k++) {
            struct node *n = grt_alloc(sizeof *n);
            if (n == NULL)
                die("grt_alloc returned NULL");
            n->v = made * CHAIN + (uint64_t)k + 1;
            sum += n->v;
            GRT_STORE(&n->next, h->chain);
            GRT_STORE(&h->chain, n);
        }
        h->sum = sum;
        made++;
        CHECK(grt_set_finalizer(h, fin, NULL));
    }
}

struct args {
    int cycles;
};

static void main_goroutine(void *arg) {
    struct args *a = arg;
    uint64_t *pause = calloc((size_t)a->cycles, sizeof(uint64_t));
    uint64_t *mt = calloc((size_t)a->cycles, sizeof(uint64_t));
    if (!pause || !mt)
        die("out of memory");
    live = grt_alloc(NLIVE * sizeof *live);
    if (live == NULL)
        die("grt_alloc returned NULL");
    for (int i = 0; i < NLIVE; i++) {
        void *o = grt_alloc(64);
        if (o == NULL)
            die("grt_alloc returned NULL");
        CHECK(grt_set_finalizer(o, fin_live, NULL));
        GRT_STORE(&live[i], o);
        /* Spread over spans: garbage between them. */
        for (int k = 0; k < 3; k++) (void)grt_alloc(64);
    }
    struct grt_gc_stats s0, s, prev;
    CHECK(grt_gc()); /* the start-up's garbage and first sweep out of the way */
    CHECK(grt_gc_stats(&s0));
    prev = s0;
    for (int i = 0; i < a->cycles; i++) {
        make_handles();
        CHECK(grt_gc());
        CHECK(grt_gc_stats(&s));
        pause[i] = s.pause_total_ns - prev.pause_total_ns;
        mt[i] = s.last_markterm_ns;
        prev = s;
        grt_run_finalizers();
    }
    if (s.cycles - s0.cycles != (uint64_t)a->cycles)
        die("cycles ran beyond the ones asked for (GRTGC not off?)");
    for (int k = 0; k < 2; k++) {
        CHECK(grt_gc());
        grt_run_finalizers();
    }
    if (bad != 0)
        die("a finalizer found its handle's chain damaged (freed while reachable from it), or "
            "a reachable object's finalizer ran");
    if (finalized * 100 < made * 99)
        die("fewer than 99% of the finalizers ran");
    qsort(pause, (size_t)a->cycles, sizeof *pause, cmp_u64);
    qsort(mt, (size_t)a->cycles, sizeof *mt, cmp_u64);
    int m = a->cycles / 2;
    printf("gc_fin collector=grt cycles=%d procs=%d live=%d finalizable=%d chain=%d "
           "cycle_pause_ns_median=%llu cycle_pause_ns_max=%llu markterm_ns_median=%llu "
           "markterm_ns_max=%llu finalized=%llu check=ok\n",
           a->cycles, grt_maxprocs(), NLIVE, NFIN, CHAIN, (unsigned long long)pause[m],
           (unsigned long long)pause[a->cycles - 1], (unsigned long long)mt[m],
           (unsigned long long)mt[a->cycles - 1], (unsigned long long)finalized);
    fflush(stdout);
    free(pause);
    free(mt);
}

int main(int argc, char **argv) {
    struct args a = {DEFAULT_CYCLES};
    if (argc > 1)
        a.cycles = atoi(argv[1]);
    if (argc > 2 || a.cycles < 1 || a.cycles > 1000) {
        fprintf(stderr, "usage: gc_fin_bench [cycles (1-1000)]\n");
        return 2;
    }
    CHECK(grt_main(main_goroutine, &a));
    return 0;
}
