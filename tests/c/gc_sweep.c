/* grt-test: exit=0 stdout="ok swept memory reused, reachable objects kept" stdout="PASS" env="GRTMAXPROCS=2" env="GRTGC=off"
 *
 * Lazy sweeping (mheap.rs): mark termination only flips the sweep generation; allocations
 * sweep the spans they need, the collector's thread the rest.
 *
 * 1. Memory a cycle finds dead is handed out again before the next cycle: 20,000 objects are
 *    allocated and dropped, a cycle runs, and of the next 20,000 allocations of that size
 *    most land where the dead ones were (their addresses are kept masked, so they are no
 *    roots).
 * 2. A reachable object is never handed out: two goroutines keep rings of tracked objects
 *    (gc_tobj.h), replacing one at a time with a new one and checking the old, while a third
 *    runs cycles back to back for GRT_STRESS_MS (default 1000 ms). New objects come from
 *    spans swept in this cycle only; an object allocated in a span not yet swept would be
 *    freed by that span's sweep (it was not marked) and handed out again, which a ring's
 *    check or tobj_new's check of the fresh object catches.
 *
 * Teeth: gc_sweep_teeth.c, with GRTDEBUG=gcnosweepgen=1 (allocation goes on in spans not
 * swept in this cycle).
 */
#include "gc_tobj.h"

#ifndef SWEEP_DEFAULT_MS
#define SWEEP_DEFAULT_MS 1000
#endif

#define NDEAD 20000
#define MASK 0x5a5a5a5a5a5a5a5aull
#define RING 4096

static uintptr_t dead_masked[NDEAD];

/* A heap sort (the freestanding build has no qsort). */
static void sort_u(uintptr_t *v, long n) {
    for (long i = n / 2 - 1; i >= 0; i--)
        for (long r = i;;) {
            long c = 2 * r + 1;
            if (c >= n) break;
            if (c + 1 < n && v[c + 1] > v[c]) c++;
            if (v[r] >= v[c]) break;
            uintptr_t t = v[r]; v[r] = v[c]; v[c] = t; r = c;
        }
    for (long e = n - 1; e > 0; e--) {
        uintptr_t t = v[0]; v[0] = v[e]; v[e] = t;
        for (long r = 0;;) {
            long c = 2 * r + 1;
            if (c >= e) break;
            if (c + 1 < e && v[c + 1] > v[c]) c++;
            if (v[r] >= v[c]) break;
            t = v[r]; v[r] = v[c]; v[c] = t; r = c;
        }
    }
}

static int was_dead(uintptr_t p) {
    long lo = 0, hi = NDEAD;
    while (lo < hi) {
        long mid = (lo + hi) / 2;
        uintptr_t v = dead_masked[mid] ^ MASK;
        if (v == p) return 1;
        if (v < p) lo = mid + 1; else hi = mid;
    }
    return 0;
}

static __attribute__((noinline)) void make_garbage(void) {
    for (int i = 0; i < NDEAD; i++) {
        void *p = grt_alloc(sizeof(struct tobj));
        CHECK(p != 0);
        dead_masked[i] = (uintptr_t)p;
    }
    sort_u(dead_masked, NDEAD);
    for (int i = 0; i < NDEAD; i++) dead_masked[i] ^= MASK;
}

static volatile int stop;
static grt_waitgroup wg;

struct ring {
    struct tobj **slot; /* a heap array (scanned) */
    uint64_t serial[RING];
};
static struct ring rings[2];

static void ring_worker(void *arg) {
    struct ring *r = arg;
    r->slot = grt_alloc(RING * sizeof(struct tobj *));
    CHECK(r->slot != 0);
    uint64_t rnd = (uintptr_t)arg | 1;
    unsigned long replaced = 0;
    while (!stop) {
        unsigned i = (unsigned)(tobj_rnd(&rnd) % RING);
        struct tobj *old = r->slot[i];
        if (old) tobj_check("gc_sweep", " (ring)", i, old, r->serial[i]);
        struct tobj *o = tobj_new();
        r->serial[i] = o->serial;
        GRT_STORE(&r->slot[i], o);
        if (++replaced % 256 == 0) grt_yield();
    }
    for (unsigned i = 0; i < RING; i++)
        if (r->slot[i]) tobj_check("gc_sweep", " (ring)", i, r->slot[i], r->serial[i]);
    grt_wg_done(&wg);
}

static uint64_t stress_ms;

static void main_goroutine(void *arg) {
    (void)arg;
    /* 1. Reuse. */
    make_garbage();
    CHECK_EQ(grt_gc(), GRT_OK);
    int reused = 0;
    for (int i = 0; i < NDEAD; i++) {
        void *p = grt_alloc(sizeof(struct tobj));
        CHECK(p != 0);
        reused += was_dead((uintptr_t)p);
    }
    t_puts(1, "reuse:");
    t_put_kv("dead", NDEAD);
    t_put_kv("handed_out_again", (uint64_t)reused);
    t_puts(1, "\n");
    CHECK(reused >= NDEAD * 9 / 10);

    /* 2. Rings under back-to-back cycles. */
    struct grt_gc_stats before, st;
    CHECK_EQ(grt_gc_stats(&before), GRT_OK);
    grt_wg_add(&wg, 2);
    CHECK_EQ(grt_go(ring_worker, &rings[0]), GRT_OK);
    CHECK_EQ(grt_go(ring_worker, &rings[1]), GRT_OK);
    uint64_t end = grt_nanotime() + stress_ms * 1000000ull;
    while (grt_nanotime() < end) CHECK_EQ(grt_gc(), GRT_OK);
    stop = 1;
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    t_puts(1, "rings:");
    t_put_kv("cycles", st.cycles - before.cycles);
    t_put_kv("objects_freed", st.nfree - before.nfree);
    t_put_kv("spans_swept_by_alloc", st.spans_swept_by_alloc - before.spans_swept_by_alloc);
    t_put_kv("sweep_batch_max_us", st.sweep_batch_max_ns / 1000);
    t_puts(1, "\n");
    CHECK(st.cycles - before.cycles >= 3);
    CHECK(st.spans_swept_by_alloc > before.spans_swept_by_alloc);
    t_puts(1, "ok swept memory reused, reachable objects kept\n");
    t_puts(1, "PASS\n");
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    stress_ms = t_env_u64(envp, "GRT_STRESS_MS", SWEEP_DEFAULT_MS);
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
