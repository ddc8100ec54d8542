/*
 * The allocation benchmark of `cargo xtask bench gc` (xtask/src/bench_gc.rs): binary trees in
 * the shape of the Ellis/Kovac/Boehm GCBench, one source built three ways:
 *
 *   -DGCB_GRT     grt_alloc / grt_alloc_atomic, run as grt_main's main goroutine; every
 *                 pointer stored into a node goes through GRT_STORE (grt.h's rule). Linked
 *                 with libgrt.a; xtask runs it with GRTMAXPROCS=1 (the collector's background
 *                 mark worker is its own thread).
 *   -DGCB_BDWGC   GC_INIT, GC_MALLOC / GC_MALLOC_ATOMIC from bdwgc (-lgc), with its defaults.
 *   -DGCB_GCH     the same source lines on grt through its gc.h (-Iinclude/grt-gc, libgrt.a): plain
 *                 stores (plain-store mode), the main thread a registered plain thread.
 *   -DGCB_MALLOC  malloc, and an explicit recursive free of every tree that is dropped.
 *
 *   gcbench            (no arguments)
 *
 * The work, in this order:
 *   - a stretch tree of depth STRETCH_DEPTH, built bottom-up and dropped (freed for malloc);
 *   - a long-lived tree of depth LONG_DEPTH (built top-down) and a long-lived array of
 *     ARRAY_LEN doubles (atomic allocation: no pointers), both kept to the end;
 *   - for d = MIN_DEPTH, MIN_DEPTH + 2, ..., MAX_DEPTH: iters(d) trees of depth d built
 *     top-down (allocate a node, then populate its children) and dropped one by one, then
 *     iters(d) built bottom-up (children first, then the node holding them) and dropped, with
 *     iters(d) = 2 * tree_size(STRETCH_DEPTH) / tree_size(d) and tree_size(d) = 2^(d+1) - 1
 *     (the standard count: each depth allocates about as many nodes as two stretch trees);
 *   - the long-lived tree and array are checked: every node of the tree still carries the
 *     stamp written after it was built (a node freed and reused by a dropped tree would be
 *     zeroed or restamped), the node count is right, and every array element still holds its
 *     value. A damaged structure ends the program with exit 1 and a message.
 * A node is { left, right, i, j }: two pointers, two ints.
 *
 * The time is taken with clock_gettime(CLOCK_MONOTONIC) around the work only (process
 * start-up, GC_INIT and grt_main's start are outside it). One line on stdout:
 *
 *   gcbench side=<grt|bdwgc|malloc> procs=<n> ms=<total> gcs=<cycles> pause_max_ns=<n>
 *           pause_total_ns=<n> alloc_wait_max_ns=<n> idle_mark_bytes=<n> markers=<n>
 *           markers_env=<GC_MARKERS or unset> maxrss_kb=<n> nodes=<n> check=ok
 *
 *   alloc_wait_max_ns  grt: the longest an allocation waited for the collector (its pacer);
 *                 the others 0 (bdwgc collects in the allocating thread: see pause_max_ns)
 *   idle_mark_bytes  grt: bytes of objects that Ms with no goroutine to run scanned while
 *                 cycles marked (0 unless a CPU was free: gcwork.rs); the others 0
 *
 *   procs         grt: grt_maxprocs() (GRTMAXPROCS); the others 1 (one thread allocates)
 *   gcs           collections during the work: grt_gc_stats' cycles, bdwgc's
 *                 GC_get_gc_no() difference; malloc 0
 *   pause_*       grt: its stop-the-world pauses (grt_gc_stats); bdwgc: each collection
 *                 from GC_EVENT_START to GC_EVENT_END (bdwgc stops the world for all of it;
 *                 its sweep is lazy, done by allocations afterwards); malloc 0
 *   markers       threads that mark: grt 1 (its background worker); bdwgc GC_get_parallel()+1;
 *                 malloc 0
 *   maxrss_kb     getrusage's peak resident set
 *   nodes         tree nodes allocated by the work (the same for every side)
 *
 * bdwgc's markers: a client that never creates a thread gets no parallel marker threads
 * (GC_get_parallel() stays 0, whatever GC_MARKERS says), so by default bdwgc marks with one
 * thread, the one that allocates, with the world stopped. GCB_BDWGC_PARALLEL=1 in the
 * environment makes this program call GC_start_mark_threads() after GC_INIT, as a threaded
 * program would get them: GC_MARKERS (default: the CPUs) threads mark in parallel.
 *
 * Build (grt):   gcc -O2 -fno-omit-frame-pointer -Iinclude -DGCB_GRT gcbench.c libgrt.a -lpthread
 *       (bdwgc): gcc -O2 -fno-omit-frame-pointer -DGCB_BDWGC gcbench.c -lgc
 *       (malloc):gcc -O2 -fno-omit-frame-pointer -DGCB_MALLOC gcbench.c
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#if defined(GCB_GRT) + defined(GCB_BDWGC) + defined(GCB_GCH) + defined(GCB_MALLOC) != 1
#error "build with exactly one of -DGCB_GRT, -DGCB_BDWGC, -DGCB_GCH, -DGCB_MALLOC"
#endif

#define STRETCH_DEPTH 18
#define LONG_DEPTH 16
#define ARRAY_LEN 500000
#define MIN_DEPTH 4
#define MAX_DEPTH 16

/* What the long-lived tree's nodes are stamped with (i), beside their depth (j). */
#define STAMP 0x5eedbeef

typedef struct node {
    struct node *left, *right;
    int i, j;
} node;

/* ---- the three allocators ---- */

#if defined(GCB_GRT)
#define SIDE "grt"
#define BENCH_NAME "gcbench"
#include "bench.h"
#define STORE(slot, v) GRT_STORE(slot, v)
static node *alloc_node(void) { return grt_alloc(sizeof(node)); }
static double *alloc_array(size_t n) { return grt_alloc_atomic(n * sizeof(double)); }
#define drop_tree(t) ((void)(t))
#elif defined(GCB_BDWGC)
#define SIDE "bdwgc"
/* For GC_get_parallel (Debian's libgc is built with threads and parallel marking). */
#define GC_THREADS 1
#include <gc.h>
#define STORE(slot, v) (*(slot) = (v))
static node *alloc_node(void) { return GC_MALLOC(sizeof(node)); }
static double *alloc_array(size_t n) { return GC_MALLOC_ATOMIC(n * sizeof(double)); }
#define drop_tree(t) ((void)(t))
#elif defined(GCB_GCH)
#define SIDE "grt-gc.h"
#include <gc.h> /* grt's (-Iinclude/grt-gc), not bdwgc's */
#define STORE(slot, v) (*(slot) = (v))
static node *alloc_node(void) { return GC_MALLOC(sizeof(node)); }
static double *alloc_array(size_t n) { return GC_MALLOC_ATOMIC(n * sizeof(double)); }
#define drop_tree(t) ((void)(t))
#else
#define SIDE "malloc"
#define STORE(slot, v) (*(slot) = (v))
static node *alloc_node(void) {
    node *n = malloc(sizeof(node));
    if (n == NULL) {
        fprintf(stderr, "gcbench: out of memory\n");
        exit(1);
    }
    n->left = n->right = NULL;
    n->i = n->j = 0;
    return n;
}
static double *alloc_array(size_t n) { return malloc(n * sizeof(double)); }
static void drop_tree(node *t) {
    if (t == NULL)
        return;
    drop_tree(t->left);
    drop_tree(t->right);
    free(t);
}
#endif

#ifndef GRT_BENCH_H /* bench.h (the grt build) has it */
static void die(const char *what) {
    fflush(stdout);
    fprintf(stderr, "gcbench: %s\n", what);
    exit(1);
}
#endif

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the trees ---- */

static long nodes_made;

static long tree_size(int depth) { return (1L << (depth + 1)) - 1; }

static long iters(int depth) { return 2 * tree_size(STRETCH_DEPTH) / tree_size(depth); }

static node *new_node(node *left, node *right) {
    node *n = alloc_node();
    if (n == NULL)
        die("allocation failed");
    nodes_made++;
    STORE(&n->left, left);
    STORE(&n->right, right);
    return n;
}

/* Top-down: the node exists first, its children are made and hung on it, then filled. */
static void populate(int depth, node *n) {
    if (depth <= 0)
        return;
    STORE(&n->left, new_node(NULL, NULL));
    STORE(&n->right, new_node(NULL, NULL));
    populate(depth - 1, n->left);
    populate(depth - 1, n->right);
}

/* Bottom-up: both subtrees first, then the node holding them. */
static node *make_tree(int depth) {
    if (depth <= 0)
        return new_node(NULL, NULL);
    node *l = make_tree(depth - 1);
    node *r = make_tree(depth - 1);
    return new_node(l, r);
}

static void stamp(node *n, int depth) {
    for (; n != NULL; n = n->right, depth--) {
        n->i = STAMP;
        n->j = depth;
        stamp(n->left, depth - 1);
    }
}

/* Nodes of an intact stamped tree of `depth`; -1 at the first node that is not. */
static long check(const node *n, int depth) {
    if (n == NULL)
        return 0;
    if (n->i != STAMP || n->j != depth || depth < 0)
        return -1;
    if ((n->left == NULL) != (n->right == NULL) || (n->left == NULL) != (depth == 0))
        return -1;
    long l = check(n->left, depth - 1);
    long r = check(n->right, depth - 1);
    return l < 0 || r < 0 ? -1 : 1 + l + r;
}

static void time_construction(int depth) {
    long n = iters(depth);
    for (long k = 0; k < n; k++) {
        node *t = new_node(NULL, NULL);
        populate(depth, t);
        drop_tree(t);
    }
    for (long k = 0; k < n; k++) {
        node *t = make_tree(depth);
        drop_tree(t);
    }
}

/* ---- collector statistics ---- */

struct gcinfo {
    uint64_t gcs, pause_max_ns, pause_total_ns, alloc_wait_max_ns, idle_mark_bytes;
    int markers;
};

#if defined(GCB_BDWGC)
static uint64_t bdw_start_ns, bdw_pause_max_ns, bdw_pause_total_ns;

/* Called with bdwgc's lock held, in the thread that collects. */
static void on_gc_event(GC_EventType e) {
    if (e == GC_EVENT_START) {
        bdw_start_ns = now_ns();
    } else if (e == GC_EVENT_END && bdw_start_ns != 0) {
        uint64_t d = now_ns() - bdw_start_ns;
        bdw_pause_total_ns += d;
        if (d > bdw_pause_max_ns)
            bdw_pause_max_ns = d;
        bdw_start_ns = 0;
    }
}
#endif

/* ---- the benchmark ---- */

static void run(void) {
#if defined(GCB_BDWGC)
    uint64_t gc0 = GC_get_gc_no();
    GC_set_on_collection_event(on_gc_event);
#endif
    uint64_t t0 = now_ns();

    node *stretch = make_tree(STRETCH_DEPTH);
    drop_tree(stretch);
    stretch = NULL;

    node *long_lived = new_node(NULL, NULL);
    populate(LONG_DEPTH, long_lived);
    stamp(long_lived, LONG_DEPTH);

    double *array = alloc_array(ARRAY_LEN);
    if (array == NULL)
        die("allocation of the array failed");
    for (long k = 0; k < ARRAY_LEN; k++)
        array[k] = 1.0 / (double)(k + 1);

    for (int d = MIN_DEPTH; d <= MAX_DEPTH; d += 2)
        time_construction(d);

    long found = check(long_lived, LONG_DEPTH);
    if (found != tree_size(LONG_DEPTH)) {
        fprintf(stderr, "gcbench: the long-lived tree is damaged (%s; expected %ld nodes)\n",
                found < 0 ? "a node lost its stamp or children" : "wrong node count",
                tree_size(LONG_DEPTH));
        die("check failed");
    }
    for (long k = 0; k < ARRAY_LEN; k++) {
        if (array[k] != 1.0 / (double)(k + 1)) {
            fprintf(stderr, "gcbench: the long-lived array is damaged at element %ld\n", k);
            die("check failed");
        }
    }
    uint64_t el = now_ns() - t0;

    struct gcinfo gi = {0, 0, 0, 0, 0, 0};
    int procs = 1;
#if defined(GCB_GRT) || defined(GCB_GCH)
    struct grt_gc_stats st;
    if (grt_gc_stats(&st) != GRT_OK)
        die("grt_gc_stats failed");
    gi.gcs = st.cycles;
    gi.pause_max_ns = st.pause_max_ns;
    gi.pause_total_ns = st.pause_total_ns;
    gi.alloc_wait_max_ns = st.alloc_wait_max_ns;
    gi.idle_mark_bytes = st.idle_mark_bytes;
    gi.markers = 1;
    procs = grt_maxprocs();
#elif defined(GCB_BDWGC)
    gi.gcs = GC_get_gc_no() - gc0;
    gi.pause_max_ns = bdw_pause_max_ns;
    gi.pause_total_ns = bdw_pause_total_ns;
    gi.markers = GC_get_parallel() + 1;
#endif
    const char *menv = getenv("GC_MARKERS");
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long expect = tree_size(STRETCH_DEPTH) + tree_size(LONG_DEPTH);
    for (int d = MIN_DEPTH; d <= MAX_DEPTH; d += 2)
        expect += 2 * iters(d) * tree_size(d);
    if (nodes_made != expect)
        die("node count differs from the trees' sizes");
    printf("gcbench side=" SIDE " procs=%d ms=%.1f gcs=%llu pause_max_ns=%llu pause_total_ns=%llu "
           "alloc_wait_max_ns=%llu idle_mark_bytes=%llu markers=%d markers_env=%s maxrss_kb=%ld "
           "nodes=%ld check=ok\n",
           procs, (double)el / 1e6, (unsigned long long)gi.gcs, (unsigned long long)gi.pause_max_ns,
           (unsigned long long)gi.pause_total_ns, (unsigned long long)gi.alloc_wait_max_ns,
           (unsigned long long)gi.idle_mark_bytes, gi.markers,
           menv != NULL && *menv != 0 ? menv : "unset", ru.ru_maxrss, nodes_made);
    fflush(stdout);

    /* Keep both alive to the end, whatever the compiler thinks of the locals. */
    __asm__ volatile("" : : "r"(long_lived), "r"(array) : "memory");
#if defined(GCB_MALLOC)
    drop_tree(long_lived);
    free(array);
#endif
}

#if defined(GCB_GRT)
static void main_goroutine(void *arg) {
    (void)arg;
    run();
}
#endif

int main(int argc, char **argv) {
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: gcbench   (no arguments; see the opening comment)\n");
        return 2;
    }
#if defined(GCB_GRT)
    int rc = grt_main(main_goroutine, NULL);
    if (rc != GRT_OK)
        fail("grt_main", rc);
#elif defined(GCB_BDWGC)
    /* GCB_BDWGC_PARALLEL=1: also start bdwgc's parallel markers, as a program that creates
     * threads would get them (GC_MARKERS, default: the CPUs, sets how many). */
    const char *par = getenv("GCB_BDWGC_PARALLEL");
    GC_INIT();
    if (par != NULL && strcmp(par, "1") == 0)
        GC_start_mark_threads();
    run();
#elif defined(GCB_GCH)
    GC_INIT();
    run();
#else
    run();
#endif
    return 0;
}
