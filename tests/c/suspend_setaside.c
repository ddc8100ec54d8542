/* grt-test: exit=0 stdout="ok a goroutine set aside and run again keeps its M" stdout="PASS" builds=testhooks env="GRTMAXPROCS=3" env="GRTDEBUG=schedwidensetaside=1"
 *
 * An M that pops a goroutine grt_suspend holds sets it aside for grt_resume, which queues it
 * again; another M may then run it before the first has let go of it. The first must not
 * clear the goroutine's M then: a plain store once did, and the next grt_suspend of the
 * running goroutine found no M to resume (grt_resume dereferenced null). Here a goroutine
 * yields in a loop (so it is often runnable, and picked by whichever M is free) while a plain
 * thread suspends and resumes it as fast as it can; the test-only knob
 * GRTDEBUG=schedwidensetaside=1 holds the set-aside window open for 200 us. Its teeth
 * (suspend_setaside_teeth.c, schedplainsetaside=1: the plain store) must crash.
 */
#include <time.h>

#include "check.h"

uint64_t grt_test_set_asides(void);

#ifndef ROUNDS
#define ROUNDS 1000
#endif

static volatile int stop;
static volatile uint64_t target_id;
static volatile unsigned long yields, rounds, held_runnable, held_running;

static void spin_us(uint64_t us) {
    uint64_t t0 = grt_nanotime();
    while (grt_nanotime() - t0 < us * 1000) {
    }
}

static void target(void *arg) {
    (void)arg;
    target_id = grt_goid();
    while (!stop) {
        /* Running, and runnable between yields. Work, not time: a spin timed by the clock
         * would run out while the suspender holds the target stopped, and the target would
         * then yield right after each resume, while the suspender is busy resuming. */
        for (volatile int i = 0; i < 4000; i++) {
        }
        CHECK_EQ(grt_yield(), GRT_OK);
        yields++;
    }
}

/* Keep the Ms busy, so the target moves between them and waits in run queues: four of them on
 * three Ps, so the target always shares a P (alone on a P, its yields take it straight back,
 * and a run was seen where 100,000 tries never found it runnable). */
#define NCHURN 4
static void churn(void *arg) {
    (void)arg;
    while (!stop) {
        for (volatile int i = 0; i < 2000; i++) {
        }
        CHECK_EQ(grt_yield(), GRT_OK);
    }
}

static void suspender(void *arg) {
    (void)arg;
    uint64_t rnd = 0x9e3779b97f4a7c15ull;
    while (!target_id) {
    }
#ifdef SETASIDE_UNTIL_CRASH
    /* The teeth: as many rounds as it takes, 30 s at most (a crash ends it first). */
    uint64_t until = grt_nanotime() + 30000000000ull;
    for (unsigned long r = 0; grt_nanotime() < until; r++) {
#else
    for (unsigned long r = 0; r < ROUNDS; r++) {
#endif
        grt_gregs g;
        /* Held while runnable, long enough for an M to pop it and set it aside (with the
         * knob that M keeps it 200 us before letting go). */
        for (int tries = 0; tries < 100; tries++) {
            CHECK_EQ(grt_suspend(target_id, &g), GRT_OK);
            int runnable = g.state == GRT_GSTATE_RUNNABLE;
            if (runnable) {
                held_runnable++;
                struct timespec hold = {0, 100000};
                nanosleep(&hold, 0);
            }
            CHECK_EQ(grt_resume(target_id), GRT_OK);
            if (runnable) break;
            /* A random gap before the next try: a suspend and resume take about as long as
             * the target's spin, and a fixed period can lock onto its running phase (seen:
             * 100,000 tries that all found it running). */
            rnd ^= rnd << 13;
            rnd ^= rnd >> 7;
            rnd ^= rnd << 17;
            spin_us(rnd % 64);
        }
        /* Queued again by grt_resume: once another M runs it, hold it running across the
         * end of that window, then resume it (its M must still be known). */
        unsigned long y = yields;
        uint64_t t0 = grt_nanotime();
        while (yields == y && grt_nanotime() - t0 < 2000000) {
        }
        CHECK_EQ(grt_suspend(target_id, &g), GRT_OK);
        if (g.state == GRT_GSTATE_RUNNING) held_running++;
        struct timespec ts = {0, 300000};
        nanosleep(&ts, 0);
        CHECK_EQ(grt_resume(target_id), GRT_OK);
        rounds++;
    }
    stop = 1;
}

static grt_waitgroup done = GRT_WAITGROUP_INIT;

static void wrap(void *arg) {
    ((void (*)(void *))arg)(0);
    grt_wg_done(&done);
}

static void main_goroutine(void *arg) {
    (void)arg;
    grt_thread *t;
    grt_wg_add(&done, 1 + NCHURN);
    CHECK_EQ(grt_go(wrap, (void *)target), GRT_OK);
    for (int i = 0; i < NCHURN; i++) CHECK_EQ(grt_go(wrap, (void *)churn), GRT_OK);
    CHECK_EQ(grt_thread_start(&t, suspender, 0), GRT_OK);
    CHECK_EQ(grt_thread_join(t), GRT_OK);
    CHECK_EQ(grt_wg_wait(&done), GRT_OK);
    t_puts(1, "covered:");
    t_put_kv("rounds", rounds);
    t_put_kv("held_runnable", held_runnable);
    t_put_kv("held_running", held_running);
    t_put_kv("yields", yields);
    t_put_kv("set_asides", grt_test_set_asides());
    t_puts(1, "\n");
#ifndef SETASIDE_UNTIL_CRASH
    CHECK(rounds == ROUNDS);
#endif
    CHECK(held_running > 0 && grt_test_set_asides() > 0);
    t_puts(1, "ok a goroutine set aside and run again keeps its M\n");
    t_puts(1, "PASS\n");
}

int main(void) {
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
