/*
 * The stack-rescan benchmark of `cargo xtask bench gc` (xtask/src/bench_gc.rs): what mark
 * termination rescans of one deep goroutine that keeps running only its top frames.
 *
 *   gc_rescan_bench [depth [cycles]]        defaults: 10000 frames, 30 cycles
 *
 * One goroutine (grt_go_stack, 8 MiB) recurses `depth` frames deep. Every frame is a real,
 * noinline frame with a small local array that holds the only pointer to a grt_alloc'ed
 * object stamped with the frame's depth. At the bottom it reports ready on a channel and then
 * churns its top frames until told to stop: a loop calling a chain of three small functions
 * that allocate with grt_alloc and link the new objects into a list kept in the loop's local
 * (reset every CHAIN_RESET rounds, after checking every object on it). Meanwhile the main
 * goroutine runs `cycles` grt_gc() back to back (xtask runs this with GRTMAXPROCS=2, so both
 * run at once, and GRTGC=off, so that every cycle is one of these) and after each reads
 * grt_gc_stats: last_rescan_ns, last_frames_rescanned, last_markterm_ns.
 *
 * With stack barriers, mark termination should rescan only the few frames above the
 * lowest barrier the churn returned through; with GRTDEBUG=gcstackbarrieroff=1, the whole
 * deep stack (it ran since its scan). xtask runs both and compares.
 *
 * At the end the goroutine unwinds and checks every frame's object: an object the collector
 * freed while a frame still pointed to it would have been reused and restamped by the churn.
 * A damaged object, a cycle count that does not move, or a failing call: exit 1.
 *
 * One line on stdout (medians over the cycles):
 *
 *   gc_rescan depth=<n> cycles=<n> procs=<n> rescan_ns_median=<n> frames_rescanned_median=<n>
 *             frames_rescanned_max=<n> markterm_ns_median=<n> pause_max_ns=<n>
 *             barriers_installed=<n> barriers_hit=<n> churned_cycles=<n> extra_cycles=<n>
 *             churn_rounds=<n> frames_scanned=<n> scan_ns=<n> barriers_unprovable=<n>
 *             check=ok
 *
 *   barriers_*, frames_scanned, scan_ns   grt_gc_stats totals over the measured cycles
 *   churned_cycles  cycles during which the churn made progress (it should be all of them)
 *   extra_cycles    cycles the collector ran beyond the ones asked for (0 with GRTGC=off)
 *
 * Build: gcc -O2 -fno-omit-frame-pointer -Iinclude gc_rescan_bench.c libgrt.a -lpthread
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_NAME "gc_rescan_bench"
#include "bench.h"
#include "gc_bench.h"

#define STACK_SIZE (8u << 20)
#define DEFAULT_DEPTH 10000
#define DEFAULT_CYCLES 30
#define MAX_CYCLES 10000
/* Churn rounds between resets of the list (two objects per round). */
#define CHAIN_RESET 64

struct deep {
    int depth;
    grt_chan *ready;
    grt_waitgroup done;
    int stop;       /* set by main; read with __atomic */
    long progress;  /* list resets so far; written with __atomic */
    long rounds;    /* churn rounds, when it stopped */
    long bad;       /* damaged objects found */
};

/* ---- the churn: the only frames that run after the deep stack is built ---- */

__attribute__((noinline)) static long churn(struct deep *d) {
    struct obj *chain = NULL;
    long bad = 0, r = 0, n = 0;
    while (!__atomic_load_n(&d->stop, __ATOMIC_RELAXED)) {
        if (r == CHAIN_RESET) {
            bad += check_chain(chain, r);
            chain = NULL;
            r = 0;
            __atomic_fetch_add(&d->progress, 1, __ATOMIC_RELAXED);
        }
        chain = churn_pair(chain, 2 * (uint64_t)r);
        r++;
        n++;
    }
    bad += check_chain(chain, r);
    d->rounds = n;
    return bad;
}

/* ---- the deep stack ---- */

__attribute__((noinline)) static long bottom(struct deep *d) {
    int one = 1;
    CHECK(grt_chan_send(d->ready, &one));
    return churn(d);
}

__attribute__((noinline)) static long descend(struct deep *d, int n) {
    struct obj *keep[3];
    keep[0] = new_obj(FRAME_STAMP + (uint64_t)n);
    keep[1] = keep[0];
    keep[2] = (struct obj *)(uintptr_t)n;
    opaque(keep);
    long bad = n > 0 ? descend(d, n - 1) : bottom(d);
    opaque(keep);
    return bad + (keep[0]->stamp != FRAME_STAMP + (uint64_t)n) + (keep[1] != keep[0]);
}

static void deep_main(void *arg) {
    struct deep *d = arg;
    d->bad = descend(d, d->depth - 1);
    CHECK(grt_wg_done(&d->done));
}

/* ---- main ---- */

struct args {
    int depth, cycles;
};

static void main_goroutine(void *arg) {
    struct args *a = arg;
    static struct deep d; /* in bss: a root; the goroutine gets a pointer to it anyway */
    d.depth = a->depth;
    d.done = (grt_waitgroup)GRT_WAITGROUP_INIT;
    CHECK(grt_chan_make(&d.ready, sizeof(int), 1));
    CHECK(grt_wg_add(&d.done, 1));
    CHECK(grt_go_stack(deep_main, &d, STACK_SIZE));
    int v;
    CHECK(grt_chan_recv(d.ready, &v));
    /* Let the churn get going (it runs on the other M). */
    uint64_t t0 = grt_nanotime();
    while (__atomic_load_n(&d.progress, __ATOMIC_RELAXED) == 0) {
        if (grt_nanotime() - t0 > 10ull * 1000000000u)
            die("the churning goroutine made no progress in 10 s");
        CHECK(grt_yield());
    }

    uint64_t *rescan = calloc((size_t)a->cycles, sizeof(uint64_t));
    uint64_t *frames = calloc((size_t)a->cycles, sizeof(uint64_t));
    uint64_t *markterm = calloc((size_t)a->cycles, sizeof(uint64_t));
    if (rescan == NULL || frames == NULL || markterm == NULL)
        die("out of memory");
    struct grt_gc_stats s0, prev, s;
    CHECK(grt_gc_stats(&s0));
    prev = s0;
    uint64_t frames_max = 0;
    int churned = 0;
    for (int c = 0; c < a->cycles; c++) {
        long p0 = __atomic_load_n(&d.progress, __ATOMIC_RELAXED);
        CHECK(grt_gc());
        long p1 = __atomic_load_n(&d.progress, __ATOMIC_RELAXED);
        CHECK(grt_gc_stats(&s));
        if (s.cycles <= prev.cycles)
            die("grt_gc returned but the cycle count did not move");
        churned += p1 != p0;
        rescan[c] = s.last_rescan_ns;
        frames[c] = s.last_frames_rescanned;
        markterm[c] = s.last_markterm_ns;
        if (frames[c] > frames_max)
            frames_max = frames[c];
        prev = s;
    }
    __atomic_store_n(&d.stop, 1, __ATOMIC_RELAXED);
    CHECK(grt_wg_wait(&d.done));
    if (d.bad != 0) {
        fprintf(stderr, BENCH_NAME ": %ld objects reachable only from the goroutine's frames "
                        "were damaged (freed while in use?)\n", d.bad);
        die("check failed");
    }
    printf("gc_rescan depth=%d cycles=%d procs=%d rescan_ns_median=%llu "
           "frames_rescanned_median=%llu frames_rescanned_max=%llu markterm_ns_median=%llu "
           "pause_max_ns=%llu barriers_installed=%llu barriers_hit=%llu churned_cycles=%d "
           "extra_cycles=%llu churn_rounds=%ld frames_scanned=%llu scan_ns=%llu "
           "barriers_unprovable=%llu check=ok\n",
           a->depth, a->cycles, grt_maxprocs(),
           (unsigned long long)median(rescan, a->cycles),
           (unsigned long long)median(frames, a->cycles), (unsigned long long)frames_max,
           (unsigned long long)median(markterm, a->cycles),
           (unsigned long long)s.pause_max_ns,
           (unsigned long long)(s.barriers_installed - s0.barriers_installed),
           (unsigned long long)(s.barriers_hit - s0.barriers_hit), churned,
           (unsigned long long)(s.cycles - s0.cycles - (uint64_t)a->cycles), d.rounds,
           (unsigned long long)(s.frames_scanned - s0.frames_scanned),
           (unsigned long long)(s.scan_ns - s0.scan_ns),
           (unsigned long long)(s.barriers_unprovable - s0.barriers_unprovable));
    fflush(stdout);
    free(rescan);
    free(frames);
    free(markterm);
    CHECK(grt_chan_free(d.ready));
}

int main(int argc, char **argv) {
    if (argc > 3) {
        fprintf(stderr, "usage: gc_rescan_bench [depth [cycles]]\n");
        return 2;
    }
    struct args a = {DEFAULT_DEPTH, DEFAULT_CYCLES};
    if (argc > 1)
        a.depth = parse(argv[1], 1, 50000, "depth");
    if (argc > 2)
        a.cycles = parse(argv[2], 1, MAX_CYCLES, "cycle count");
    int rc = grt_main(main_goroutine, &a);
    if (rc != GRT_OK)
        fail("grt_main", rc);
    return 0;
}
