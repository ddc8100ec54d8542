/*
 * grt's side of the scheduler benchmark of `cargo xtask bench`: the same three benchmarks
 * as tests/bench/go/sched.go, written against grt.h and timed the same way.
 *
 *   sched_bench <create|pingpong|yield> <iters> [runs]
 *
 * The benchmarks:
 *   create    goroutine create + run + exit. Goroutines are started in batches of 1000
 *             (grt_wg_add(1000), 1000 times grt_go(worker, &wg), grt_wg_wait, repeat), so
 *             the live set stays bounded; each worker adds 1 to a counter and calls
 *             grt_wg_done. ns per goroutine; iters is rounded up to whole batches.
 *   pingpong  the main goroutine sends on an unbuffered channel, a second goroutine receives
 *             the value and sends it back (plus one) on another. ns per round trip.
 *   yield     two goroutines each call grt_yield() iters times. ns per grt_yield call (one
 *             switch). Meant for GRTMAXPROCS=1.
 *
 * A warm-up of iters/10 comes first, once; then each run prints one line:
 *
 *   <bench> procs=<grt_maxprocs()> iters=<n> ns_per_op=<x>
 *
 * GRTMAXPROCS comes from the environment; xtask sets it.
 * Build: gcc -O2 -fno-omit-frame-pointer -Iinclude sched_bench.c libgrt.a -lpthread
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_NAME "sched_bench"
#include "bench.h"

#define BATCH 1000


/* ---- create ---- */

static int64_t counter;

static void worker(void *arg) {
    grt_waitgroup *wg = arg;
    __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST);
    CHECK(grt_wg_done(wg));
}

/* ns per goroutine over iters goroutines (a whole number of batches). */
static double bench_create(long iters) {
    grt_waitgroup wg = GRT_WAITGROUP_INIT;
    __atomic_store_n(&counter, 0, __ATOMIC_SEQ_CST);
    uint64_t t = grt_nanotime();
    for (long b = 0; b < iters / BATCH; b++) {
        CHECK(grt_wg_add(&wg, BATCH));
        for (int i = 0; i < BATCH; i++)
            CHECK(grt_go(worker, &wg));
        CHECK(grt_wg_wait(&wg));
    }
    uint64_t el = grt_nanotime() - t;
    int64_t n = __atomic_load_n(&counter, __ATOMIC_SEQ_CST);
    if (n != iters) {
        fflush(stdout);
        fprintf(stderr, "sched_bench: create: %lld goroutines ran, expected %ld\n",
                (long long)n, iters);
        exit(1);
    }
    return (double)el / (double)iters;
}

/* ---- pingpong ---- */

struct pingpong {
    grt_chan *ping, *pong;
    grt_waitgroup wg;
};

static void ponger(void *arg) {
    struct pingpong *p = arg;
    int64_t v;
    int rc;
    while ((rc = grt_chan_recv(p->ping, &v)) == GRT_OK) {
        v++;
        CHECK(grt_chan_send(p->pong, &v));
    }
    if (rc != GRT_ECLOSED)
        fail("grt_chan_recv(ping)", rc);
    CHECK(grt_wg_done(&p->wg));
}

/* ns per round trip. */
static double bench_pingpong(long iters) {
    struct pingpong p = {.wg = GRT_WAITGROUP_INIT};
    CHECK(grt_chan_make(&p.ping, sizeof(int64_t), 0));
    CHECK(grt_chan_make(&p.pong, sizeof(int64_t), 0));
    CHECK(grt_wg_add(&p.wg, 1));
    CHECK(grt_go(ponger, &p));
    int64_t v = 0;
    uint64_t t = grt_nanotime();
    for (long i = 0; i < iters; i++) {
        CHECK(grt_chan_send(p.ping, &v));
        CHECK(grt_chan_recv(p.pong, &v));
    }
    uint64_t el = grt_nanotime() - t;
    CHECK(grt_chan_close(p.ping));
    CHECK(grt_wg_wait(&p.wg));
    CHECK(grt_chan_free(p.ping));
    CHECK(grt_chan_free(p.pong));
    if (v != iters) {
        fflush(stdout);
        fprintf(stderr, "sched_bench: pingpong: got %lld back, expected %ld\n", (long long)v,
                iters);
        exit(1);
    }
    return (double)el / (double)iters;
}

/* ---- yield ---- */

struct yielder {
    long n;
    grt_waitgroup wg;
};

static void yielder(void *arg) {
    struct yielder *y = arg;
    for (long i = 0; i < y->n; i++)
        CHECK(grt_yield());
    CHECK(grt_wg_done(&y->wg));
}

/* ns per grt_yield call. */
static double bench_yield(long iters) {
    struct yielder y = {.n = iters, .wg = GRT_WAITGROUP_INIT};
    CHECK(grt_wg_add(&y.wg, 2));
    uint64_t t = grt_nanotime();
    CHECK(grt_go(yielder, &y));
    CHECK(grt_go(yielder, &y));
    CHECK(grt_wg_wait(&y.wg));
    uint64_t el = grt_nanotime() - t;
    return (double)el / (double)(2 * iters);
}

/* ---- main ---- */

struct args {
    const char *name;
    double (*bench)(long);
    long iters, warm, runs;
};

static void main_goroutine(void *arg) {
    struct args *a = arg;
    a->bench(a->warm);
    for (long r = 0; r < a->runs; r++) {
        double ns = a->bench(a->iters);
        printf("%s procs=%d iters=%ld ns_per_op=%.1f\n", a->name, grt_maxprocs(), a->iters, ns);
        fflush(stdout);
    }
}

static long parse_count(const char *s, const char *what) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end != 0 || v <= 0 || v > (1L << 40)) {
        fprintf(stderr, "sched_bench: bad %s %s\n", what, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: sched_bench <create|pingpong|yield> <iters> [runs]\n");
        return 2;
    }
    struct args a = {.name = argv[1], .runs = 1};
    if (strcmp(a.name, "create") == 0)
        a.bench = bench_create;
    else if (strcmp(a.name, "pingpong") == 0)
        a.bench = bench_pingpong;
    else if (strcmp(a.name, "yield") == 0)
        a.bench = bench_yield;
    else {
        fprintf(stderr, "sched_bench: unknown benchmark %s\n", a.name);
        return 2;
    }
    a.iters = parse_count(argv[2], "iteration count");
    if (argc == 4)
        a.runs = parse_count(argv[3], "run count");
    a.warm = a.iters / 10;
    if (a.bench == bench_create) {
        a.iters = (a.iters + BATCH - 1) / BATCH * BATCH;
        a.warm = (a.warm + BATCH - 1) / BATCH * BATCH;
    } else if (a.warm == 0) {
        a.warm = 1;
    }
    int rc = grt_main(main_goroutine, &a);
    if (rc != GRT_OK)
        fail("grt_main", rc);
    return 0;
}
