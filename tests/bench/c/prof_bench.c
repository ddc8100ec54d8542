/*
 * The profiler benchmark of `cargo xtask bench` (xtask/src/bench_prof.rs): one CPU-bound
 * workload, run unprofiled, under grt's profiler and under gperftools' libprofiler.
 *
 *   prof_bench none  0  <iters> <profile path>
 *   prof_bench grt   HZ <iters> <profile path>
 *   prof_bench gperf HZ <iters> <profile path>     (built with -DGRT_BENCH_GPERFTOOLS=1)
 *
 * The workload: under grt_main (GRTMAXPROCS=2, set by xtask), two goroutines each run
 * <iters> rounds of a multiply/xor-shift mix through three noinline, frame-pointer-keeping
 * functions (so both profilers have a real stack to walk), the main goroutine waits on a
 * wait group. Deterministic: the combined result is printed and must not depend on the mode.
 *
 * Around the workload (and only around it):
 *   grt    grt_prof_start(HZ, path) ... grt_prof_stop()
 *   gperf  ProfilerStart(path) ... ProfilerStop(). libprofiler reads its rate from
 *          CPUPROFILE_FREQUENCY when the library is loaded (its ProfileHandler singleton is
 *          built by a module initializer), so xtask sets it in the environment; this
 *          program only checks it agrees with HZ.
 *
 * Handler cost, measured the same way for both: once the profiler has installed its SIGPROF
 * action, this program reads it back (sigaction(SIGPROF, NULL, &prof)) and installs a
 * wrapper with the same flags and mask that reads CLOCK_MONOTONIC (vDSO) before and after
 * calling the profiler's handler, and stores the difference in a preallocated array. The
 * wrapper is taken out again (the profiler's action put back) before the profiler is
 * stopped. The count of wrapper calls is the number of SIGPROFs delivered. What this does not
 * see is the kernel's part of a signal (frame set-up, sigreturn): that shows in the overhead.
 *
 * libprofiler, once loaded, arms setitimer(ITIMER_PROF) at once (its module initializer
 * registers the main thread) with SIGPROF ignored until ProfilerStart. In the other modes
 * this program disarms that timer first, so neither `none` nor `grt` pays for it and the
 * wrapper under grt counts grt's signals only.
 *
 * Output, one line:
 *   prof mode=M hz=N procs=P wall_ns=.. cpu_ns=.. signals=.. handler_median_ns=..
 *        handler_p90_ns=.. samples=.. lost=.. forwarded=.. per_thread=.. itimer_us=..
 *        clock_floor_ns=.. result=<hex>
 * samples: grt_prof_read_stats().samples, or libprofiler's samples_gathered; lost and
 * forwarded are grt's (-1 for libprofiler); per_thread: grt's stats, 0 for libprofiler
 * (setitimer);
 * itimer_us: the ITIMER_PROF interval seen during the workload (0: none armed);
 * clock_floor_ns: median of two back-to-back clock reads, included in every handler figure.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define BENCH_NAME "prof_bench"
#include "bench.h"

#if GRT_BENCH_GPERFTOOLS
#include <gperftools/profiler.h>
#endif


static uint64_t clock_ns(clockid_t clk) {
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the workload ---- */

__attribute__((noinline)) static uint64_t mix(uint64_t x) {
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ull;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dull;
    x ^= x >> 33;
    __asm__ volatile("" : "+r"(x));
    return x;
}

__attribute__((noinline)) static uint64_t crunch(uint64_t seed, long n) {
    uint64_t acc = seed;
    for (long i = 0; i < n; i++)
        acc = mix(acc + (uint64_t)i);
    __asm__ volatile("" : "+r"(acc));
    return acc;
}

struct job {
    uint64_t seed;
    long iters;
    uint64_t result;
    grt_waitgroup *wg;
};

static void worker(void *arg) {
    struct job *j = arg;
    uint64_t acc = j->seed;
    /* Chunks, so the stack has one more frame above crunch most of the time. */
    for (long done = 0; done < j->iters; done += 1 << 16) {
        long n = j->iters - done < (1 << 16) ? j->iters - done : (1 << 16);
        acc ^= crunch(acc, n);
    }
    j->result = acc;
    CHECK(grt_wg_done(j->wg));
}

/* ---- the handler wrapper ---- */

#define MAX_DURATIONS (1 << 18)
static struct sigaction prof_action; /* the profiler's own */
static uint32_t durations[MAX_DURATIONS];
static uint64_t calls;

static void wrapper(int sig, siginfo_t *info, void *uc) {
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
    if (prof_action.sa_flags & SA_SIGINFO)
        prof_action.sa_sigaction(sig, info, uc);
    else
        prof_action.sa_handler(sig);
    uint64_t t1 = clock_ns(CLOCK_MONOTONIC);
    uint64_t i = __atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
    if (i < MAX_DURATIONS)
        durations[i] = (uint32_t)(t1 - t0 > UINT32_MAX ? UINT32_MAX : t1 - t0);
}

static void wrap_handler(void) {
    if (sigaction(SIGPROF, NULL, &prof_action) != 0)
        die("sigaction(SIGPROF) read failed");
    if (!(prof_action.sa_flags & SA_SIGINFO) &&
        (prof_action.sa_handler == SIG_IGN || prof_action.sa_handler == SIG_DFL))
        die("the profiler installed no SIGPROF handler");
    struct sigaction w = prof_action;
    w.sa_flags |= SA_SIGINFO;
    w.sa_sigaction = wrapper;
    if (sigaction(SIGPROF, &w, NULL) != 0)
        die("sigaction(SIGPROF) wrapper failed");
}

static void unwrap_handler(void) {
    if (sigaction(SIGPROF, &prof_action, NULL) != 0)
        die("sigaction(SIGPROF) restore failed");
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Median of two back-to-back CLOCK_MONOTONIC reads. */
static uint32_t clock_floor(void) {
    static uint32_t d[1001];
    for (int i = 0; i < 1001; i++) {
        uint64_t a = clock_ns(CLOCK_MONOTONIC);
        uint64_t b = clock_ns(CLOCK_MONOTONIC);
        d[i] = (uint32_t)(b - a);
    }
    qsort(d, 1001, sizeof d[0], cmp_u32);
    return d[500];
}

/* ---- main ---- */

enum mode { NONE, GRT, GPERF };

struct run {
    enum mode mode;
    const char *mode_name;
    int hz;
    long iters;
    const char *path;
    /* results */
    uint64_t wall_ns, cpu_ns, result;
    long itimer_us;
    long long samples, lost, forwarded;
    int per_thread, procs;
};

static long itimer_prof_us(void) {
    struct itimerval it;
    if (getitimer(ITIMER_PROF, &it) != 0)
        die("getitimer(ITIMER_PROF) failed");
    return it.it_interval.tv_sec * 1000000L + it.it_interval.tv_usec;
}

static void main_goroutine(void *arg) {
    struct run *r = arg;
    grt_waitgroup wg = GRT_WAITGROUP_INIT;
    struct job jobs[2] = {
        {.seed = 0x243f6a8885a308d3ull, .iters = r->iters, .wg = &wg},
        {.seed = 0x13198a2e03707344ull, .iters = r->iters, .wg = &wg},
    };

    if (r->mode == GRT) {
        CHECK(grt_prof_start(r->hz, r->path));
        wrap_handler();
    } else if (r->mode == GPERF) {
#if GRT_BENCH_GPERFTOOLS
        if (!ProfilerStart(r->path))
            die("ProfilerStart failed");
        wrap_handler();
#endif
    }
    r->itimer_us = itimer_prof_us();
    r->procs = grt_maxprocs();

    uint64_t c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
    CHECK(grt_wg_add(&wg, 2));
    CHECK(grt_go(worker, &jobs[0]));
    CHECK(grt_go(worker, &jobs[1]));
    CHECK(grt_wg_wait(&wg));
    r->wall_ns = clock_ns(CLOCK_MONOTONIC) - t0;
    r->cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
    r->result = jobs[0].result ^ (jobs[1].result * 3);

    r->samples = r->lost = r->forwarded = -1;
    if (r->mode == GRT) {
        unwrap_handler();
        CHECK(grt_prof_stop());
        grt_prof_stats st;
        CHECK(grt_prof_read_stats(&st));
        if (st.hz != r->hz)
            die("grt_prof_read_stats: hz is not the rate asked for");
        r->samples = (long long)st.samples;
        r->lost = (long long)st.lost;
        r->forwarded = (long long)st.forwarded;
        r->per_thread = st.per_thread;
    } else if (r->mode == GPERF) {
#if GRT_BENCH_GPERFTOOLS
        unwrap_handler();
        struct ProfilerState ps;
        ProfilerGetCurrentState(&ps);
        r->samples = ps.samples_gathered;
        ProfilerStop();
        r->per_thread = 0;
#endif
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: prof_bench <none|grt|gperf> <hz> <iters> <profile path>\n");
        return 2;
    }
    struct run r = {.mode_name = argv[1], .path = argv[4]};
    if (strcmp(argv[1], "none") == 0)
        r.mode = NONE;
    else if (strcmp(argv[1], "grt") == 0)
        r.mode = GRT;
    else if (strcmp(argv[1], "gperf") == 0)
        r.mode = GPERF;
    else
        die("unknown mode (none, grt, gperf)");
    char *end;
    r.hz = (int)strtol(argv[2], &end, 10);
    if (*end != 0 || r.hz < 0 || r.hz > GRT_PROF_MAX_HZ || (r.mode != NONE && r.hz == 0))
        die("bad hz");
    r.iters = strtol(argv[3], &end, 10);
    if (*end != 0 || r.iters <= 0)
        die("bad iteration count");

    if (r.mode == GPERF) {
#if GRT_BENCH_GPERFTOOLS
        const char *f = getenv("CPUPROFILE_FREQUENCY");
        if (f == NULL || atoi(f) != r.hz)
            die("gperf mode needs CPUPROFILE_FREQUENCY=<hz> in the environment");
#else
        die("built without gperftools (GRT_BENCH_GPERFTOOLS)");
#endif
    } else {
        /* libprofiler's load-time ITIMER_PROF (see the top comment), if it is linked in. */
        struct itimerval off;
        memset(&off, 0, sizeof off);
        setitimer(ITIMER_PROF, &off, NULL);
    }

    uint32_t floor_ns = clock_floor();
    CHECK(grt_main(main_goroutine, &r));

    uint64_t n = __atomic_load_n(&calls, __ATOMIC_SEQ_CST);
    uint64_t kept = n < MAX_DURATIONS ? n : MAX_DURATIONS;
    uint32_t med = 0, p90 = 0;
    if (kept > 0) {
        qsort(durations, kept, sizeof durations[0], cmp_u32);
        med = durations[kept / 2];
        p90 = durations[kept * 9 / 10];
    }
    printf("prof mode=%s hz=%d procs=%d wall_ns=%llu cpu_ns=%llu signals=%llu "
           "handler_median_ns=%u handler_p90_ns=%u samples=%lld lost=%lld forwarded=%lld "
           "per_thread=%d itimer_us=%ld clock_floor_ns=%u result=%016llx\n",
           r.mode_name, r.hz, r.procs, (unsigned long long)r.wall_ns,
           (unsigned long long)r.cpu_ns, (unsigned long long)n, med, p90, r.samples, r.lost,
           r.forwarded, r.per_thread, r.itimer_us, floor_ns, (unsigned long long)r.result);
    return 0;
}
