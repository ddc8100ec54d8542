/*
 * The marking benchmark of `cargo xtask bench gc` (xtask/src/bench_gc.rs): how long a cycle
 * takes to mark a large heap while the program has nothing to run, so that every P is free
 * to mark (gcwork.rs: Ms with nothing to run mark beside the collector, Go's idle mark
 * workers).
 *
 *   gc_mark_bench [depth [cycles]]        defaults: depth 20 (1,048,575 nodes), 10 cycles
 *
 * The main goroutine builds a binary tree of 2^depth - 1 nodes of 32 bytes (two pointers, a
 * stamp and a pad word, every pointer stored with GRT_STORE) hanging from a global, then
 * runs `cycles` grt_gc() back to back, timing each (it blocks until the cycle, sweep
 * included, is over; with GRTGC=off these are the only cycles). xtask runs it with
 * GRTMAXPROCS=2, with idle marking (the default) and without (GRTDEBUG=gcnoidlemark=1), and
 * the same work in Go (tests/bench/go/gcmark). At the end every node's stamp is checked.
 * A damaged node, or a failing call: exit 1.
 *
 * One line on stdout:
 *
 *   gc_mark collector=grt nodes=<n> cycles=<n> procs=<n> cycle_ns_median=<n>
 *           cycle_ns_min=<n> marked_bytes=<n> idle_share=<x> pause_max_ns=<n> check=ok
 *
 *   cycle_ns_*     a grt_gc() call, median and least over the cycles
 *   marked_bytes   what the last cycle found live (grt_gc_stats' last_marked)
 *   idle_share     of the bytes the cycles marked, the part idle Ps scanned
 *   pause_max_ns   the longest stop-the-world pause of the process (a warm-up cycle
 *                  included)
 *
 * Build: gcc -O2 -fno-omit-frame-pointer -Iinclude gc_mark_bench.c libgrt.a -lpthread
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define BENCH_NAME "gc_mark_bench"
#include "bench.h"

#define DEFAULT_DEPTH 20
#define DEFAULT_CYCLES 10
#define STAMP 0x3a4c5e0000000000ull

struct node {
    struct node *left, *right;
    uint64_t stamp, pad;
};

static struct node *root; /* the tree's only root */
static long next_id;

static struct node *build(int depth) {
    struct node *n = grt_alloc(sizeof *n);
    if (n == NULL)
        die("grt_alloc returned NULL");
    n->stamp = STAMP + (uint64_t)next_id++;
    if (depth > 1) {
        GRT_STORE(&n->left, build(depth - 1));
        GRT_STORE(&n->right, build(depth - 1));
    }
    return n;
}

static long check(const struct node *n, int depth, long *id) {
    long bad = n->stamp != STAMP + (uint64_t)(*id)++;
    if (depth > 1)
        bad += check(n->left, depth - 1, id) + check(n->right, depth - 1, id);
    return bad;
}

struct args {
    int depth, cycles;
};

static void main_goroutine(void *arg) {
    struct args *a = arg;
    root = build(a->depth);
    uint64_t *ns = calloc((size_t)a->cycles, sizeof(uint64_t));
    if (ns == NULL)
        die("out of memory");
    struct grt_gc_stats s0, s;
    CHECK(grt_gc()); /* the build's garbage and first sweep out of the way */
    CHECK(grt_gc_stats(&s0));
    double marked = 0;
    for (int i = 0; i < a->cycles; i++) {
        uint64_t t0 = grt_nanotime();
        CHECK(grt_gc());
        ns[i] = grt_nanotime() - t0;
        CHECK(grt_gc_stats(&s));
        marked += (double)s.last_marked;
    }
    if (s.cycles - s0.cycles != (uint64_t)a->cycles)
        die("cycles ran beyond the ones asked for (GRTGC not off?)");
    long id = 0;
    if (check(root, a->depth, &id) != 0 || id != next_id)
        die("the tree is damaged");
    qsort(ns, (size_t)a->cycles, sizeof *ns, cmp_u64);
    printf("gc_mark collector=grt nodes=%ld cycles=%d procs=%d cycle_ns_median=%llu "
           "cycle_ns_min=%llu marked_bytes=%llu idle_share=%.3f pause_max_ns=%llu check=ok\n",
           next_id, a->cycles, grt_maxprocs(), (unsigned long long)ns[a->cycles / 2],
           (unsigned long long)ns[0], (unsigned long long)s.last_marked,
           (double)(s.idle_mark_bytes - s0.idle_mark_bytes) / marked,
           (unsigned long long)s.pause_max_ns);
    fflush(stdout);
    free(ns);
}

int main(int argc, char **argv) {
    struct args a = {DEFAULT_DEPTH, DEFAULT_CYCLES};
    if (argc > 1)
        a.depth = atoi(argv[1]);
    if (argc > 2)
        a.cycles = atoi(argv[2]);
    if (argc > 3 || a.depth < 2 || a.depth > 26 || a.cycles < 1 || a.cycles > 1000) {
        fprintf(stderr, "usage: gc_mark_bench [depth (2-26) [cycles (1-1000)]]\n");
        return 2;
    }
    CHECK(grt_main(main_goroutine, &a));
    return 0;
}
