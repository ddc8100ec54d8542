/*
 * The machine's own noise, for `cargo xtask bench gc` (xtask/src/bench_gc.rs): how often a
 * thread that never blocks is kept off its CPU anyway (the hypervisor running something
 * else on that virtual CPU, interrupts, kernel threads). It is the floor under every pause
 * the collector measures: a stop-the-world pause needs the collector and every stopped
 * thread to run, and a gap in any of them lands in the pause.
 *
 *   sched_gap [threads [ms]]        defaults: 2 threads, 1500 ms
 *
 * Each thread reads CLOCK_MONOTONIC in a loop for `ms` milliseconds and counts the steps
 * between two reads longer than 50 and 100 µs (a read takes tens of ns). One line on stdout:
 *
 *   sched_gap threads=<n> ms=<n> gaps_50us_per_s=<x> gaps_100us_per_s=<x> gap_max_ns=<n>
 *             check=ok
 *
 *   gaps_*_per_s   per thread and second (totals over the threads / threads / seconds)
 *   gap_max_ns     the longest step of any thread
 *
 * Build: gcc -O2 sched_gap.c -lpthread
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_THREADS 64

struct probe {
    uint64_t ns;       /* how long to watch */
    uint64_t over50;   /* steps longer than 50 µs */
    uint64_t over100;  /* steps longer than 100 µs */
    uint64_t max;      /* the longest step, ns */
} __attribute__((aligned(64))); /* a cache line each: the threads do not share one */

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void *watch(void *arg)
{
    struct probe *p = arg;
    uint64_t last = now_ns();
    uint64_t end = last + p->ns;
    while (last < end) {
        uint64_t t = now_ns();
        uint64_t d = t - last;
        last = t;
        if (d > 50000)
            p->over50++;
        if (d > 100000)
            p->over100++;
        if (d > p->max)
            p->max = d;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    int ms = argc > 2 ? atoi(argv[2]) : 1500;
    if (n < 1 || n > MAX_THREADS || ms < 1) {
        fprintf(stderr, "sched_gap: usage: sched_gap [threads (1..%d) [ms (>= 1)]]\n",
                MAX_THREADS);
        return 2;
    }
    static struct probe probes[MAX_THREADS];
    pthread_t t[MAX_THREADS];
    for (int i = 0; i < n; i++) {
        probes[i].ns = (uint64_t)ms * 1000000u;
        if (pthread_create(&t[i], NULL, watch, &probes[i]) != 0) {
            fprintf(stderr, "sched_gap: pthread_create failed\n");
            return 1;
        }
    }
    uint64_t o50 = 0, o100 = 0, max = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        o50 += probes[i].over50;
        o100 += probes[i].over100;
        if (probes[i].max > max)
            max = probes[i].max;
    }
    double per = (double)n * (double)ms / 1000.0;
    printf("sched_gap threads=%d ms=%d gaps_50us_per_s=%.2f gaps_100us_per_s=%.2f "
           "gap_max_ns=%llu check=ok\n",
           n, ms, (double)o50 / per, (double)o100 / per, (unsigned long long)max);
    return 0;
}
