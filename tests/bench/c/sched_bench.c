/*
 * grt's side of the scheduler benchmark of `cargo xtask bench`: the same three benchmarks
 * as tests/bench/go/sched.go, written against grt.h and timed the same way.
 *
 *   sched_bench <create|pingpong|yield> <iters> [runs]
 *   sched_bench wait_<gc|syscall|cgocall|alloc|pingpong|spin> <ms> [runs]
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

/* ---- longest wait of a yielding goroutine next to a load ----
 *
 * wait_<load> <ms>: procs load goroutines (one per P; pingpong: one pair per P) run the load
 * while a victim loops on grt_yield for ms milliseconds; "ns per op" is the victim's longest
 * wait between two of its turns, in ns. Loads: gc (grt_gc back to back), syscall
 * (grt_entersyscall, a 100 us nanosleep, grt_exitsyscall), cgocall (grt_cgocall of an empty
 * function), alloc (lists of 300 objects), pingpong (an unbuffered channel pair), spin (a
 * pure C loop: asynchronous preemption on for it, grt_async_preempt(1)). */

#include <time.h>

static volatile int wait_stop;
static grt_waitgroup wait_wg = GRT_WAITGROUP_INIT;

static void nothing(void *arg) { (void)arg; }

struct node {
    struct node *next;
    long v;
};

static volatile unsigned long wait_sink;

static void load_gc(void *arg) {
    (void)arg;
    while (!wait_stop) CHECK(grt_gc());
    CHECK(grt_wg_done(&wait_wg));
}

static void load_syscall(void *arg) {
    (void)arg;
    struct timespec ts = {0, 100000};
    while (!wait_stop) {
        CHECK(grt_entersyscall());
        nanosleep(&ts, 0);
        CHECK(grt_exitsyscall());
    }
    CHECK(grt_wg_done(&wait_wg));
}

static void load_cgocall(void *arg) {
    (void)arg;
    while (!wait_stop) CHECK(grt_cgocall(nothing, 0));
    CHECK(grt_wg_done(&wait_wg));
}

static void load_alloc(void *arg) {
    (void)arg;
    while (!wait_stop) {
        struct node *h = 0;
        for (int i = 0; i < 300; i++) {
            struct node *n = grt_alloc(sizeof *n);
            if (!n) fail("grt_alloc", GRT_ENOMEM);
            n->next = h;
            n->v = i;
            h = n;
        }
        wait_sink += (unsigned long)h->v;
    }
    CHECK(grt_wg_done(&wait_wg));
}

static void load_ping(void *arg) {
    grt_chan **c = arg;
    long v = 0;
    while (!wait_stop) {
        CHECK(grt_chan_send(c[0], &v));
        CHECK(grt_chan_recv(c[1], &v));
    }
    CHECK(grt_chan_close(c[0]));
    CHECK(grt_wg_done(&wait_wg));
}

static void load_pong(void *arg) {
    grt_chan **c = arg;
    long v;
    while (grt_chan_recv(c[0], &v) == GRT_OK) {
        v++;
        if (grt_chan_send(c[1], &v) != GRT_OK) break;
    }
    CHECK(grt_wg_done(&wait_wg));
}

static __attribute__((noinline)) void spin_loop(void) {
    while (!wait_stop) wait_sink++;
}

static void load_spin(void *arg) {
    (void)arg;
    (void)grt_async_preempt(1);
    spin_loop();
    CHECK(grt_wg_done(&wait_wg));
}

static const char *wait_load;

static double bench_wait(long ms) {
    int procs = grt_maxprocs(), loads = 0;
    grt_chan *pairs[16][2];
    wait_stop = 0;
    for (int i = 0; i < procs && i < 16; i++) {
        if (!strcmp(wait_load, "pingpong")) {
            CHECK(grt_chan_make(&pairs[i][0], sizeof(long), 0));
            CHECK(grt_chan_make(&pairs[i][1], sizeof(long), 0));
            CHECK(grt_wg_add(&wait_wg, 2));
            CHECK(grt_go(load_ping, pairs[i]));
            CHECK(grt_go(load_pong, pairs[i]));
            loads += 2;
            continue;
        }
        void (*f)(void *) = !strcmp(wait_load, "gc")        ? load_gc
                            : !strcmp(wait_load, "syscall") ? load_syscall
                            : !strcmp(wait_load, "cgocall") ? load_cgocall
                            : !strcmp(wait_load, "alloc")   ? load_alloc
                                                            : load_spin;
        CHECK(grt_wg_add(&wait_wg, 1));
        CHECK(grt_go(f, 0));
        loads++;
    }
    /* The victim is this goroutine. */
    uint64_t start = grt_nanotime(), last = start, now, worst = 0;
    while ((now = grt_nanotime()) - start < (uint64_t)ms * 1000000ull) {
        if (now - last > worst) worst = now - last;
        last = now;
        CHECK(grt_yield());
    }
    if (now - last > worst) worst = now - last;
    wait_stop = 1;
    CHECK(grt_wg_wait(&wait_wg));
    if (!strcmp(wait_load, "pingpong"))
        for (int i = 0; i < procs && i < 16; i++) {
            CHECK(grt_chan_free(pairs[i][0]));
            CHECK(grt_chan_free(pairs[i][1]));
        }
    (void)loads;
    return (double)worst;
}

/* ---- main ---- */

struct args {
    const char *name;
    double (*bench)(long);
    long iters, warm, runs;
};

static void main_goroutine(void *arg) {
    struct args *a = arg;
    if (a->warm) a->bench(a->warm);
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
        fprintf(stderr, "usage: sched_bench <create|pingpong|yield|wait_LOAD> <iters> [runs]\n");
        return 2;
    }
    struct args a = {.name = argv[1], .runs = 1};
    if (strcmp(a.name, "create") == 0)
        a.bench = bench_create;
    else if (strcmp(a.name, "pingpong") == 0)
        a.bench = bench_pingpong;
    else if (strcmp(a.name, "yield") == 0)
        a.bench = bench_yield;
    else if (strncmp(a.name, "wait_", 5) == 0 &&
             (!strcmp(a.name + 5, "gc") || !strcmp(a.name + 5, "syscall") ||
              !strcmp(a.name + 5, "cgocall") || !strcmp(a.name + 5, "alloc") ||
              !strcmp(a.name + 5, "pingpong") || !strcmp(a.name + 5, "spin"))) {
        a.bench = bench_wait;
        wait_load = a.name + 5;
    } else {
        fprintf(stderr, "sched_bench: unknown benchmark %s\n", a.name);
        return 2;
    }
    a.iters = parse_count(argv[2], "iteration count");
    if (argc == 4)
        a.runs = parse_count(argv[3], "run count");
    a.warm = a.iters / 10;
    if (a.bench == bench_wait) {
        a.warm = 0; /* no warm-up: the run is the measurement */
    } else if (a.bench == bench_create) {
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
