/*
 * The RSS benchmark of `cargo xtask bench gc` (xtask/src/bench_gc.rs): how much memory a
 * collector gives back to the kernel after a spike, one source built three ways as
 * gcbench.c is (-DGCB_GRT, -DGCB_BDWGC with -lgc, -DGCB_MALLOC).
 *
 * The spike: 1 GiB held at once (16,384 objects of 64 KiB, every page written), then
 * dropped: grt_gc() twice on grt, GC_gcollect() twice on bdwgc (what a program of each does),
 * free() of each object on malloc. (Between the two the only reference is kept masked, so
 * neither collector finds it on the stack.) Then the program idles (sleeps) and reads its resident
 * set from /proc/self/statm after 0.5, 1, 2 and 3 s. One line on stdout:
 *
 *   gc_rss side=<grt|bdwgc|malloc> before_kib=<n> spike_kib=<n> after_500ms_kib=<n>
 *          after_1s_kib=<n> after_2s_kib=<n> after_3s_kib=<n> check=ok
 *
 * Build: gcc -O2 -fno-omit-frame-pointer -Iinclude gc_rss_bench.c (libgrt.a -lpthread | -lgc)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(GCB_GRT)
#include "grt.h"
#define SIDE "grt"
#elif defined(GCB_BDWGC)
#include <gc.h>
#define SIDE "bdwgc"
#elif defined(GCB_MALLOC)
#define SIDE "malloc"
#else
#error "define GCB_GRT, GCB_BDWGC or GCB_MALLOC"
#endif

#define OBJ (64 << 10)
#define NOBJ 16384

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = -1;
    if (f == NULL || fscanf(f, "%ld %ld", &size, &res) != 2) {
        fprintf(stderr, "gc_rss_bench: cannot read /proc/self/statm\n");
        exit(1);
    }
    fclose(f);
    return res * 4;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void *alloc(size_t n) {
#if defined(GCB_GRT)
    return grt_alloc(n);
#elif defined(GCB_BDWGC)
    return GC_MALLOC(n);
#else
    return malloc(n);
#endif
}

static void collect(void) {
#if defined(GCB_GRT)
    grt_gc();
    grt_gc();
#elif defined(GCB_BDWGC)
    GC_gcollect();
    GC_gcollect();
#endif
}

/* grt's rule: pointer stores into heap objects go through the write barrier. */
#if defined(GCB_GRT)
#define STORE(slot, v) GRT_STORE(slot, v)
#else
#define STORE(slot, v) (*(slot) = (v))
#endif

/* The only reference to the spike between spike() and drop(), masked so that it is no root. */
static uintptr_t held;
#define MASK 0x5a5a5a5a5a5a5a5aull

static __attribute__((noinline)) void spike(void) {
    char **hold = alloc(NOBJ * sizeof(char *));
    if (hold == NULL) {
        fprintf(stderr, "gc_rss_bench: out of memory\n");
        exit(1);
    }
    for (int i = 0; i < NOBJ; i++) {
        char *p = alloc(OBJ);
        if (p == NULL) {
            fprintf(stderr, "gc_rss_bench: out of memory\n");
            exit(1);
        }
        for (int k = 0; k < OBJ; k += 4096)
            p[k] = (char)i;
        STORE(&hold[i], p);
    }
    for (int i = 0; i < NOBJ; i++)
        if (hold[i][4096] != (char)i) {
            fprintf(stderr, "gc_rss_bench: object %d damaged\n", i);
            exit(1);
        }
    held = (uintptr_t)hold ^ MASK;
}

/* Drops the spike: frees it on malloc; on a collector, forgets it and collects. */
static __attribute__((noinline)) void drop(void) {
#if defined(GCB_MALLOC)
    char **hold = (char **)(held ^ MASK);
    for (int i = 0; i < NOBJ; i++)
        free(hold[i]);
    free(hold);
#endif
    held = 0;
    collect();
}

static void run(void) {
    long before = rss_kib();
    spike();
    long peak = rss_kib();
    drop();
    long after[4];
    long at[4] = {500, 1000, 2000, 3000}, slept = 0;
    for (int i = 0; i < 4; i++) {
        sleep_ms(at[i] - slept);
        slept = at[i];
        after[i] = rss_kib();
    }
    printf("gc_rss side=" SIDE " before_kib=%ld spike_kib=%ld after_500ms_kib=%ld after_1s_kib=%ld "
           "after_2s_kib=%ld after_3s_kib=%ld check=ok\n",
           before, peak, after[0], after[1], after[2], after[3]);
    fflush(stdout);
}

#if defined(GCB_GRT)
static void main_goroutine(void *arg) {
    (void)arg;
    run();
}
int main(void) { return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1; }
#else
int main(void) {
#if defined(GCB_BDWGC)
    GC_INIT();
#endif
    run();
    return 0;
}
#endif
