/*
 * The pause benchmark of `cargo xtask bench gc` (xtask/src/bench_gc.rs): stop-the-world
 * pauses with many goroutines of mixed stack depth, most of them parked.
 *
 *   gc_pause_bench [goroutines [cycles]]        defaults: 1000 goroutines, 30 cycles
 *
 * Goroutine i recurses (i % 400) * 3 frames deep (0 to 1197; a stack of 64 KiB + 256 bytes
 * per frame from grt_go_stack). Every frame is a real, noinline frame with a small local
 * array holding the only pointer to a grt_alloc'ed object stamped with the frame's depth.
 * At the bottom, one goroutine in CHURN_EVERY churns its top frames until told to stop (a
 * loop calling a chain of small functions that allocate with grt_alloc and keep the new
 * objects on a list in the loop's local, checked and reset every CHAIN_RESET rounds, with
 * a grt_yield at each reset so that the main goroutine gets a P); the others park: odd i on a
 * receive from a channel nobody sends on, even i on a grt_mutex the main goroutine holds.
 *
 * Once every goroutine has reached its bottom (and a few milliseconds more, for the last to
 * park), the main goroutine runs `cycles` grt_gc() back to back (xtask: GRTMAXPROCS=2 and
 * GRTGC=off, so that every cycle is one of these) and after each reads grt_gc_stats.
 * Then it stops the churn, closes the channel, unlocks the mutex and waits for everyone to
 * unwind; each goroutine checks every frame's object on the way back up (an object freed
 * while a frame still pointed to it would have been reused and restamped). A damaged
 * object, a cycle count that does not move, or a failing call: exit 1.
 *
 * One line on stdout (medians over the cycles):
 *
 *   gc_pause goroutines=<n> churners=<n> max_depth=<n> cycles=<n> procs=<n> pause_max_ns=<n>
 *            cycle_pause_median_ns=<n> markterm_ns_median=<n> markterm_ns_max=<n>
 *            rescan_ns_median=<n> frames_rescanned_median=<n> frames_scanned=<n>
 *            barriers_installed=<n> barriers_hit=<n> extra_cycles=<n> scan_ns=<n>
 *            barriers_unprovable=<n> stacks_rescanned_median=<n> stop_ns_median=<n>
 *            roots_ns_median=<n> drain_ns_median=<n> rescan_rounds=<n> alloc_wait_max_ns=<n>
 *            round_yields=<n> check=ok
 *
 *   pause_max_ns           grt_gc_stats' longest stop-the-world pause (of the process)
 *   cycle_pause_median_ns  all stop-the-world pauses of one cycle (pause_total_ns moves)
 *   frames_scanned, barriers_*, rescan_rounds, round_yields  totals over the measured cycles
 *   extra_cycles           cycles beyond the ones asked for (0 with GRTGC=off)
 *
 * Build: gcc -O2 -fno-omit-frame-pointer -Iinclude gc_pause_bench.c libgrt.a -lpthread
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_NAME "gc_pause_bench"
#include "bench.h"
#include "gc_bench.h"

#define DEFAULT_GOROUTINES 1000
#define DEFAULT_CYCLES 30
#define MAX_CYCLES 10000
/* Depth of goroutine i: (i % DEPTH_MOD) * DEPTH_STEP frames. */
#define DEPTH_MOD 400
#define DEPTH_STEP 3
/* One goroutine in CHURN_EVERY churns; the others park. */
#define CHURN_EVERY 10
/* Churn rounds between resets of the list (two objects per round) and yields. */
#define CHAIN_RESET 64

/* Shared by every goroutine. */
static struct {
    grt_chan *park_chan;  /* nobody sends; closed at the end */
    grt_mutex park_mu;    /* held by main until the end */
    grt_waitgroup done;
    int ready;            /* goroutines at their bottom; __atomic */
    int stop;             /* set by main; __atomic */
    long bad;             /* damaged objects found; __atomic */
} shared = {NULL, GRT_MUTEX_INIT, GRT_WAITGROUP_INIT, 0, 0, 0};

struct worker {
    int depth;
    int churn;    /* 1: churn at the bottom; 0: park */
    int on_chan;  /* parking: 1 on the channel, 0 on the mutex */
};

/* ---- the churn ---- */

__attribute__((noinline)) static long churn(void) {
    struct obj *chain = NULL;
    long bad = 0, r = 0;
    while (!__atomic_load_n(&shared.stop, __ATOMIC_RELAXED)) {
        if (r == CHAIN_RESET) {
            bad += check_chain(chain, r);
            chain = NULL;
            r = 0;
            CHECK(grt_yield());
        }
        chain = churn_pair(chain, 2 * (uint64_t)r);
        r++;
    }
    return bad + check_chain(chain, r);
}

/* ---- parking ---- */

__attribute__((noinline)) static long park(const struct worker *w) {
    if (w->on_chan) {
        int v;
        int rc = grt_chan_recv(shared.park_chan, &v);
        if (rc != GRT_ECLOSED)
            fail("grt_chan_recv (expected the channel to be closed)", rc);
    } else {
        CHECK(grt_mutex_lock(&shared.park_mu));
        CHECK(grt_mutex_unlock(&shared.park_mu));
    }
    return 0;
}

/* ---- the stacks ---- */

__attribute__((noinline)) static long bottom(const struct worker *w) {
    __atomic_fetch_add(&shared.ready, 1, __ATOMIC_SEQ_CST);
    return w->churn ? churn() : park(w);
}

__attribute__((noinline)) static long descend(const struct worker *w, int n) {
    struct obj *keep[3];
    keep[0] = new_obj(FRAME_STAMP + (uint64_t)n);
    keep[1] = keep[0];
    keep[2] = (struct obj *)(uintptr_t)n;
    opaque(keep);
    long bad = n > 0 ? descend(w, n - 1) : bottom(w);
    opaque(keep);
    return bad + (keep[0]->stamp != FRAME_STAMP + (uint64_t)n) + (keep[1] != keep[0]);
}

static void worker_main(void *arg) {
    const struct worker *w = arg;
    long bad = w->depth > 0 ? descend(w, w->depth - 1) : bottom(w);
    __atomic_fetch_add(&shared.bad, bad, __ATOMIC_SEQ_CST);
    CHECK(grt_wg_done(&shared.done));
}

/* ---- main ---- */

struct args {
    int goroutines, cycles;
};

static void main_goroutine(void *arg) {
    const struct args *a = arg;
    int n = a->goroutines;
    /* From the GC heap: the array must stay reachable (malloc'd memory is not a root). */
    struct worker *ws = grt_alloc((size_t)n * sizeof *ws);
    if (ws == NULL)
        die("grt_alloc returned NULL");
    CHECK(grt_chan_make(&shared.park_chan, sizeof(int), 0));
    CHECK(grt_mutex_lock(&shared.park_mu));
    CHECK(grt_wg_add(&shared.done, n));
    int churners = 0, max_depth = 0;
    for (int i = 0; i < n; i++) {
        ws[i].depth = (i % DEPTH_MOD) * DEPTH_STEP;
        ws[i].churn = i % CHURN_EVERY == 0;
        ws[i].on_chan = i % 2 == 1;
        churners += ws[i].churn;
        if (ws[i].depth > max_depth)
            max_depth = ws[i].depth;
        size_t stack = 64 * 1024 + (size_t)ws[i].depth * 256;
        CHECK(grt_go_stack(worker_main, &ws[i], stack));
    }
    uint64_t t0 = grt_nanotime();
    while (__atomic_load_n(&shared.ready, __ATOMIC_SEQ_CST) < n) {
        if (grt_nanotime() - t0 > 30ull * 1000000000u)
            die("the goroutines did not all reach their bottom in 30 s");
        CHECK(grt_sleep_ns(1000000));
    }
    CHECK(grt_sleep_ns(20000000)); /* the last ones to park */

    uint64_t *markterm = calloc((size_t)a->cycles, sizeof(uint64_t));
    uint64_t *rescan = calloc((size_t)a->cycles, sizeof(uint64_t));
    uint64_t *frames = calloc((size_t)a->cycles, sizeof(uint64_t));
    uint64_t *pause = calloc((size_t)a->cycles, sizeof(uint64_t));
    /* Mark termination in parts: stacks rescanned, stopping, roots, final drain. */
    uint64_t *stacks = calloc((size_t)a->cycles, sizeof(uint64_t));
    uint64_t *stop = calloc((size_t)a->cycles, sizeof(uint64_t));
    uint64_t *roots = calloc((size_t)a->cycles, sizeof(uint64_t));
    uint64_t *drain = calloc((size_t)a->cycles, sizeof(uint64_t));
    if (markterm == NULL || rescan == NULL || frames == NULL || pause == NULL || stacks == NULL ||
        stop == NULL || roots == NULL || drain == NULL)
        die("out of memory");
    struct grt_gc_stats s0, prev, s;
    CHECK(grt_gc_stats(&s0));
    prev = s0;
    uint64_t markterm_max = 0;
    for (int c = 0; c < a->cycles; c++) {
        CHECK(grt_gc());
        CHECK(grt_gc_stats(&s));
        if (s.cycles <= prev.cycles)
            die("grt_gc returned but the cycle count did not move");
        markterm[c] = s.last_markterm_ns;
        rescan[c] = s.last_rescan_ns;
        frames[c] = s.last_frames_rescanned;
        pause[c] = s.pause_total_ns - prev.pause_total_ns;
        stacks[c] = s.last_stacks_rescanned;
        stop[c] = s.last_stop_ns;
        roots[c] = s.last_roots_ns;
        drain[c] = s.last_drain_ns;
        if (markterm[c] > markterm_max)
            markterm_max = markterm[c];
        prev = s;
    }

    __atomic_store_n(&shared.stop, 1, __ATOMIC_SEQ_CST);
    CHECK(grt_chan_close(shared.park_chan));
    CHECK(grt_mutex_unlock(&shared.park_mu));
    CHECK(grt_wg_wait(&shared.done));
    long bad = __atomic_load_n(&shared.bad, __ATOMIC_SEQ_CST);
    if (bad != 0) {
        fprintf(stderr, BENCH_NAME ": %ld objects reachable only from goroutine frames were "
                        "damaged (freed while in use?)\n", bad);
        die("check failed");
    }
    printf("gc_pause goroutines=%d churners=%d max_depth=%d cycles=%d procs=%d "
           "pause_max_ns=%llu cycle_pause_median_ns=%llu markterm_ns_median=%llu "
           "markterm_ns_max=%llu rescan_ns_median=%llu frames_rescanned_median=%llu "
           "frames_scanned=%llu barriers_installed=%llu barriers_hit=%llu extra_cycles=%llu "
           "scan_ns=%llu barriers_unprovable=%llu stacks_rescanned_median=%llu "
           "stop_ns_median=%llu roots_ns_median=%llu drain_ns_median=%llu "
           "rescan_rounds=%llu alloc_wait_max_ns=%llu round_yields=%llu check=ok\n",
           n, churners, max_depth, a->cycles, grt_maxprocs(), (unsigned long long)s.pause_max_ns,
           (unsigned long long)median(pause, a->cycles),
           (unsigned long long)median(markterm, a->cycles), (unsigned long long)markterm_max,
           (unsigned long long)median(rescan, a->cycles),
           (unsigned long long)median(frames, a->cycles),
           (unsigned long long)(s.frames_scanned - s0.frames_scanned),
           (unsigned long long)(s.barriers_installed - s0.barriers_installed),
           (unsigned long long)(s.barriers_hit - s0.barriers_hit),
           (unsigned long long)(s.cycles - s0.cycles - (uint64_t)a->cycles),
           (unsigned long long)(s.scan_ns - s0.scan_ns),
           (unsigned long long)(s.barriers_unprovable - s0.barriers_unprovable),
           (unsigned long long)median(stacks, a->cycles), (unsigned long long)median(stop, a->cycles),
           (unsigned long long)median(roots, a->cycles), (unsigned long long)median(drain, a->cycles),
           (unsigned long long)(s.rescan_rounds - s0.rescan_rounds),
           (unsigned long long)s.alloc_wait_max_ns,
           (unsigned long long)(s.round_yields - s0.round_yields));
    fflush(stdout);
    free(stacks);
    free(stop);
    free(roots);
    free(drain);
    free(markterm);
    free(rescan);
    free(frames);
    free(pause);
    CHECK(grt_chan_free(shared.park_chan));
}

int main(int argc, char **argv) {
    if (argc > 3) {
        fprintf(stderr, "usage: gc_pause_bench [goroutines [cycles]]\n");
        return 2;
    }
    struct args a = {DEFAULT_GOROUTINES, DEFAULT_CYCLES};
    if (argc > 1)
        a.goroutines = parse(argv[1], 1, 100000, "goroutine count");
    if (argc > 2)
        a.cycles = parse(argv[2], 1, MAX_CYCLES, "cycle count");
    int rc = grt_main(main_goroutine, &a);
    if (rc != GRT_OK)
        fail("grt_main", rc);
    return 0;
}
