/* grt-test: exit=0 stdout="ok the victim ran within the bound next to two spinners" stdout="PASS" env="GRTMAXPROCS=2" env="GRTDEBUG=asyncpreempt=1"
 *
 * Asynchronous preemption (GRTDEBUG=asyncpreempt=1): two goroutines spin in pure C loops
 * that never call grt, one per P, next to a victim that loops on grt_yield. sysmon marks a
 * spinner that has held its P for a slice (10 ms) while the victim waits and sends its
 * thread the suspend signal; the handler finds it in the program's own code and makes it
 * yield. The victim must run at least every BOUND_MS (50 ms) for RUN_MS; the longest wait
 * is printed. Without preemption nothing ever takes a P from a spinner: a watchdog thread
 * (not a goroutine) ends the run if the victim has not finished in WATCHDOG_MS. The teeth
 * (sched_async_teeth.c, GRTDEBUG=asyncpreempt=0) must see that.
 */
#include "check.h"

#ifndef BOUND_MS
#define BOUND_MS 50
#endif
#define RUN_MS 1000
#define WATCHDOG_MS 8000



static volatile int stop, victim_finished;
static volatile unsigned long spins[2];
static uint64_t worst;
static unsigned long yields;

/* The program's own loop: no call at all, a frame record (frame pointers on). */
static __attribute__((noinline)) void spin(int i) {
    while (!stop) spins[i]++;
}

static grt_waitgroup spinners = GRT_WAITGROUP_INIT, victim_wg = GRT_WAITGROUP_INIT;

static void spinner(void *arg) {
    spin((int)(intptr_t)arg);
    grt_wg_done(&spinners);
}

static void victim(void *arg) {
    (void)arg;
    /* Let the spinners take both Ps first. */
    while (spins[0] == 0 || spins[1] == 0) CHECK_EQ(grt_yield(), GRT_OK);
    uint64_t start = grt_nanotime(), last = start, now;
    while ((now = grt_nanotime()) - start < RUN_MS * 1000000ull) {
        if (now - last > worst) worst = now - last;
        last = now;
        CHECK_EQ(grt_yield(), GRT_OK);
        yields++;
    }
    if (now - last > worst) worst = now - last;
    victim_finished = 1;
    grt_wg_done(&victim_wg);
}

static void watchdog(void *arg) {
    (void)arg;
    uint64_t end = grt_nanotime() + WATCHDOG_MS * 1000000ull;
    while (!victim_finished) {
        if (grt_nanotime() > end) {
            struct grt_preempt_stats st;
            CHECK_EQ(grt_preempt_stats(&st), GRT_OK);
            t_puts(2, "sched_async: the victim waited longer than the bound next to two spinners (it never ran;");
            t_puts(2, " preemption requests ");
            t_putu(2, st.requests, 10);
            t_puts(2, ", preempted ");
            t_putu(2, st.preempted, 10);
            t_puts(2, ", refused runtime/foreign/frame/room/stale ");
            t_putu(2, st.refused_runtime, 10), t_puts(2, "/"), t_putu(2, st.refused_foreign, 10);
            t_puts(2, "/"), t_putu(2, st.refused_frame, 10), t_puts(2, "/"), t_putu(2, st.refused_room, 10);
            t_puts(2, "/"), t_putu(2, st.refused_stale, 10);
            t_puts(2, ")\n");
            grt_exit(1);
        }
        for (volatile int k = 0; k < 100000; k++) {
        }
    }
}

static void main_goroutine(void *arg) {
    (void)arg;
    grt_thread *w;
    CHECK_EQ(grt_thread_start(&w, watchdog, 0), GRT_OK);
    grt_wg_add(&spinners, 2);
    grt_wg_add(&victim_wg, 1);
    CHECK_EQ(grt_go(spinner, (void *)0), GRT_OK);
    CHECK_EQ(grt_go(spinner, (void *)1), GRT_OK);
    CHECK_EQ(grt_go(victim, 0), GRT_OK);
    CHECK_EQ(grt_wg_wait(&victim_wg), GRT_OK);
    stop = 1;
    CHECK_EQ(grt_wg_wait(&spinners), GRT_OK);
    CHECK_EQ(grt_thread_join(w), GRT_OK);
    struct grt_preempt_stats st;
    CHECK_EQ(grt_preempt_stats(&st), GRT_OK);
    t_puts(1, "longest wait of the victim, us:");
    t_put_kv("wait", worst / 1000);
    t_put_kv("yields", yields);
    t_put_kv("preempted", st.preempted);
    t_put_kv("refused", st.refused_runtime + st.refused_foreign + st.refused_frame + st.refused_room);
    t_puts(1, "\n");
    if (worst > BOUND_MS * 1000000ull) {
        t_puts(2, "sched_async: the victim waited longer than the bound next to two spinners\n");
        grt_exit(1);
    }
    CHECK(st.preempted > 0);
    t_puts(1, "ok the victim ran within the bound next to two spinners\n");
    t_puts(1, "PASS\n");
}

int main(void) {
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
