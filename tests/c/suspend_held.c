/* grt-test: exit=0 stdout="ok a suspended runnable goroutine is set aside" stdout="ok a suspended sleeper wakes only after resume" stdout="PASS" env="GRTMAXPROCS=1"
 *
 * With one P (GRTMAXPROCS=1), the goroutine that will call grt_resume must still get to run
 * while another goroutine is suspended:
 *   - a goroutine suspended while runnable (just created) is picked by the scheduler, which
 *     must set it aside rather than wait for grt_resume holding the only P (a hang);
 *   - a goroutine suspended while sleeping: its timer fires, and the M that runs the timer
 *     must not wait for grt_resume either; the sleeper runs only after grt_resume.
 * Both goroutines run to completion after grt_resume.
 */
#include "check.h"

#define MS 1000000LL

static int ran, slept;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static void runner(void *arg) {
    (void)arg;
    __atomic_store_n(&ran, 1, __ATOMIC_RELEASE);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void sleeper(void *arg) {
    (void)arg;
    CHECK_EQ(grt_sleep_ns(5 * MS), GRT_OK);
    __atomic_store_n(&slept, 1, __ATOMIC_RELEASE);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void main_g(void *arg) {
    (void)arg;
    grt_gregs r;

    /* Created, not yet run: runnable. */
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(runner, 0), GRT_OK);
    uint64_t id = grt_goid() + 1; /* ids are handed out in order; the next one is runner's */
    CHECK_EQ(grt_suspend(id, &r), GRT_OK);
    CHECK_EQ(r.state, GRT_GSTATE_RUNNABLE);
    for (int i = 0; i < 5; i++) CHECK_EQ(grt_sleep_ns(4 * MS), GRT_OK); /* the M picks it */
    CHECK_EQ(__atomic_load_n(&ran, __ATOMIC_ACQUIRE), 0);
    CHECK_EQ(grt_resume(id), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(ran, 1);
    t_puts(1, "ok a suspended runnable goroutine is set aside\n");

    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(sleeper, 0), GRT_OK);
    id = grt_goid() + 2;
    CHECK_EQ(grt_yield(), GRT_OK); /* let it start sleeping */
    CHECK_EQ(grt_suspend(id, &r), GRT_OK);
    CHECK_EQ(r.state, GRT_GSTATE_WAITING);
    CHECK_EQ(grt_sleep_ns(30 * MS), GRT_OK); /* its timer fires meanwhile */
    CHECK_EQ(__atomic_load_n(&slept, __ATOMIC_ACQUIRE), 0);
    CHECK_EQ(grt_resume(id), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(slept, 1);
    t_puts(1, "ok a suspended sleeper wakes only after resume\n");
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
