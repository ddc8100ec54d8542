/*
 * The stack_lock race tests (included by gc_race_*.c, each of which picks a RACE_MODE and
 * states its expectations in its grt-test line). The races are the seeds' (golang/go#11863,
 * #12528) and Go's TestStackBarrierProfiling:
 *
 *   RACE_SYSCALL  a goroutine deep in recursion sits in the syscall state
 *                 (grt_entersyscall .. grt_exitsyscall) burning CPU on its own stack, so
 *                 SIGPROF (per-thread CPU timers) hits its M and the handler walks its stack
 *                 from syscallpc, while the collector, from its own thread, scans that stack
 *                 and installs and removes barriers in it (#11863).
 *   RACE_CGO      the same inside grt_cgocall: the C function burns CPU on the M's system
 *                 stack, the handler walks the C frames and then the goroutine's from
 *                 syscallpc (#12528).
 *   RACE_DEEP     TestStackBarrierProfiling: several goroutines loop a recursion 1000 frames
 *                 deep that allocates 1 KiB in every frame, with a barrier in every frame
 *                 (GRTDEBUG=gcstackbarrierall=1), a collection always running (a goroutine
 *                 calls grt_gc back to back), profiling at the highest rate. (Go's test set
 *                 GOGC=1 instead; here that makes the workers wait for the collector in
 *                 grt_alloc, in step with it, and its scans then find them allocating, never
 *                 in C.) At the bottom of
 *                 each recursion the goroutine calls into C through grt_cgocall for a moment:
 *                 in grt, that is when the profiler walks a stack the collector may be
 *                 changing (a running goroutine's stack is changed only while its thread is
 *                 stopped, and a stopped thread takes no SIGPROF), so the test has teeth.
 *   RACE_NETPOLL  the poller: 2,000 goroutines sit parked in grt_read, each at the bottom of
 *                 a recursion whose every frame holds a heap object only it points to,
 *                 while deep workers burn CPU and park in the poller at the bottom of theirs
 *                 (a read with a 100 µs deadline on a socket a feeder writes to now and
 *                 then: woken by the data or by the deadline), with barriers everywhere,
 *                 collections back to back and profiling at the highest rate. The parked
 *                 stacks are scanned and barriered while parked; at the end each parked
 *                 goroutine gets its byte and checks every frame's object on the way up.
 *
 * The runs last GRT_STRESS_MS milliseconds (environment; default RACE_DEFAULT_MS), then print
 * what they covered: samples, collections, barriers installed and hit, stacks the concurrent
 * rescan rounds took (the deep variant requires some). A crash, "missed stack
 * barrier" (a fatal error in the walker), or a sample that names the trampoline or has a
 * foreign frame in the recursion (the profile check `stkbar`, xtask/src/profchecks.rs) fails
 * them. With the test-only GRTDEBUG=gcnostacklock=1 nobody takes G.stack_lock, and the
 * *_teeth.c tests assert that the walker then reports the missed barrier.
 */
#include "check.h"

#ifndef RACE_DEFAULT_MS
#define RACE_DEFAULT_MS 1500
#endif

#define RACE_SYSCALL 1
#define RACE_CGO 2
#define RACE_DEEP 3
#define RACE_NETPOLL 4

#if RACE_MODE == RACE_DEEP
#define DEPTH 1000
#define NWORKERS 3
#define BURN_NS 300000ULL
#elif RACE_MODE == RACE_NETPOLL
#include "tsys.h"
#define DEPTH 200
#define NWORKERS 2
#define BURN_NS 200000ULL
#define NPARKED 2000
#define PARKED_DEPTH 20
static int wsock[2];
static int psock[NPARKED][2];
static int parked_started;
static grt_waitgroup pwg = GRT_WAITGROUP_INIT;
static unsigned long timeouts, wakes;
#else
#define DEPTH 200
#define NWORKERS 1
#define BURN_NS 300000ULL
#endif

static volatile int stop;
static volatile unsigned long bursts;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

/* CPU work for about BURN_NS (checks the clock every 4096 steps). */
__attribute__((noinline)) static void burn(void *arg) {
    (void)arg;
    volatile unsigned long x = 0;
    uint64_t t0 = grt_nanotime();
    do {
        for (int i = 0; i < 4096; i++) x += i ^ (x >> 3);
    } while (grt_nanotime() - t0 < BURN_NS);
}

__attribute__((noinline)) static void race_bottom(void) {
    for (int k = 0; k < 4 && !stop; k++) {
#if RACE_MODE == RACE_NETPOLL
        burn(0);
        char b;
        long r = grt_read(wsock[0], &b, 1, (int64_t)grt_nanotime() + 100000);
        CHECK(r == 1 || r == GRT_ETIMEDOUT);
        if (r == 1)
            __atomic_fetch_add(&wakes, 1, __ATOMIC_RELAXED);
        else
            __atomic_fetch_add(&timeouts, 1, __ATOMIC_RELAXED);
#elif RACE_MODE == RACE_SYSCALL
        CHECK_EQ(grt_entersyscall(), GRT_OK);
        burn(0);
        CHECK_EQ(grt_exitsyscall(), GRT_OK);
#else
        CHECK_EQ(grt_cgocall(burn, 0), GRT_OK);
#endif
        bursts++;
    }
    /* grt does not preempt: let the goroutine that runs the collections have a P. */
    CHECK_EQ(grt_yield(), GRT_OK);
}

/* One frame of the recursion: a real frame with a live local (and, in RACE_DEEP, 1 KiB of
 * heap per frame, checked on the way back up). */
__attribute__((noinline)) static long race_rec(int d) {
    volatile long local[4] = {d, d + 1, d + 2, d + 3};
#if RACE_MODE == RACE_DEEP
    unsigned char *mine = grt_alloc(1024);
    mine[0] = (unsigned char)d;
    mine[1023] = (unsigned char)(d >> 3);
#endif
    long r;
    if (d == 0)
        race_bottom(), r = 0;
    else
        r = race_rec(d - 1) + 1;
#if RACE_MODE == RACE_DEEP
    CHECK(mine[0] == (unsigned char)d && mine[1023] == (unsigned char)(d >> 3));
#endif
    CHECK(local[0] == d && local[3] == d + 3);
    return r;
}

static void race_worker(void *arg) {
    (void)arg;
    while (!stop) CHECK_EQ(race_rec(DEPTH), DEPTH);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static long deadline_ms;

#if RACE_MODE == RACE_NETPOLL
/* A parked goroutine's recursion: one heap object per frame, reachable only from the frame. */
__attribute__((noinline)) static void parked_rec(int i, int d) {
    unsigned char *mine = grt_alloc(64);
    CHECK(mine != 0);
    for (int k = 0; k < 64; k++) mine[k] = (unsigned char)(i * 13 + d * 7 + k);
    if (d == 0) {
        __atomic_fetch_add(&parked_started, 1, __ATOMIC_RELEASE);
        char b;
        CHECK_EQ(grt_read(psock[i][0], &b, 1, 0), 1);
        CHECK_EQ(b, (char)i);
    } else {
        parked_rec(i, d - 1);
    }
    for (int k = 0; k < 64; k++) CHECK_EQ(mine[k], (unsigned char)(i * 13 + d * 7 + k));
}

static void parked(void *arg) {
    parked_rec((int)(uintptr_t)arg, PARKED_DEPTH);
    CHECK_EQ(grt_wg_done(&pwg), GRT_OK);
}

static void feeder(void *arg) {
    (void)arg;
    while (!stop) {
        CHECK_EQ(grt_write(wsock[1], "f", 1, 0), 1);
        grt_sleep_ns(1000000);
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}
#endif

static void race_main(void *arg) {
    (void)arg;
#if RACE_MODE == RACE_NETPOLL
    CHECK(t_raise_nofile(2 * NPARKED + 64) >= 2 * NPARKED + 64);
    CHECK_EQ(t_socketpair(wsock), 0);
    for (int i = 0; i < NPARKED; i++) CHECK_EQ(t_socketpair(psock[i]), 0);
    CHECK_EQ(grt_wg_add(&pwg, NPARKED), GRT_OK);
    for (int i = 0; i < NPARKED; i++) CHECK_EQ(grt_go(parked, (void *)(uintptr_t)i), GRT_OK);
    while (__atomic_load_n(&parked_started, __ATOMIC_ACQUIRE) < NPARKED) grt_sleep_ns(1000000);
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(feeder, 0), GRT_OK);
#endif
    CHECK_EQ(grt_wg_add(&wg, NWORKERS), GRT_OK);
    for (int i = 0; i < NWORKERS; i++) CHECK_EQ(grt_go(race_worker, 0), GRT_OK);
    uint64_t end = grt_nanotime() + (uint64_t)deadline_ms * 1000000ULL;
    unsigned long gcs = 0;
    while (grt_nanotime() < end) {
        CHECK_EQ(grt_gc(), GRT_OK);
        gcs++;
    }
    stop = 1;
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
#if RACE_MODE == RACE_NETPOLL
    for (int i = 0; i < NPARKED; i++) {
        char b = (char)i;
        CHECK_EQ(grt_write(psock[i][1], &b, 1, 0), 1);
    }
    CHECK_EQ(grt_wg_wait(&pwg), GRT_OK);
    t_puts(1, "netpoll: ");
    t_putu(1, NPARKED, 10);
    t_puts(1, " parked goroutines kept their objects; workers woken ");
    t_putu(1, wakes, 10);
    t_puts(1, " times by data, ");
    t_putu(1, timeouts, 10);
    t_puts(1, " by deadlines\n");
    CHECK(wakes > 0 && timeouts > 0);
#endif
    struct grt_gc_stats s;
    CHECK_EQ(grt_gc_stats(&s), GRT_OK);
    grt_prof_stats p;
    CHECK_EQ(grt_prof_read_stats(&p), GRT_OK);
    t_puts(1, "covered: ");
    t_putu(1, p.samples, 10);
    t_puts(1, " samples (");
    t_putu(1, p.pseudo, 10);
    t_puts(1, " pseudo), ");
    t_putu(1, s.cycles, 10);
    t_puts(1, " collections (");
    t_putu(1, gcs, 10);
    t_puts(1, " asked), ");
    t_putu(1, s.barriers_installed, 10);
    t_puts(1, " barriers installed, ");
    t_putu(1, s.barriers_hit, 10);
    t_puts(1, " hit, ");
    t_putu(1, s.round_stacks, 10);
    t_puts(1, " stacks rescanned in ");
    t_putu(1, s.rescan_rounds, 10);
    t_puts(1, " concurrent rounds, ");
    t_putu(1, bursts, 10);
    t_puts(1, " bursts in C\n");
    CHECK(s.cycles > 0 && s.barriers_installed > 0 && bursts > 0);
    /* The concurrent rescan rounds were on in these cycles (every cycle runs at least one
     * unless GRTDEBUG=gcnorescanrounds=1), with the workers in their bursts most of the time
     * (in C in the cgo and syscall variants: a round leaves such a goroutine to mark
     * termination and puts it back on the list). That a round met a worker in C is not
     * counted anywhere; the deep variant below checks that rounds rescanned stacks. */
    CHECK(s.rescan_rounds > 0);
#if RACE_MODE == RACE_DEEP
    /* The workers yield between bursts: some are parked after running since their scan, and
     * the concurrent rescan rounds take them (with barriers everywhere, under the profiler).
     * (In the cgo and syscall variants they are mostly in C then: those only report it.) */
    CHECK(s.round_stacks > 0);
#endif
    t_puts(1, "PASS\n");
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    deadline_ms = (long)t_env_u64(envp, "GRT_STRESS_MS", RACE_DEFAULT_MS);
    return grt_main(race_main, 0);
}
