/* grt-test: signal=6 stdout="main: waiting for a value nobody sends" stderr="fatal error: all goroutines are asleep - deadlock!" stderr="goroutine 1 [" env="GRTMAXPROCS=2"
 *
 * Every goroutine blocked for good: the main goroutine receives from a channel nobody sends
 * on, another waits on a wait group that never reaches zero, a third is parked on a mutex
 * the main goroutine holds. With no timer pending and nobody in a system call nothing can
 * wake them: grt reports the deadlock, lists each blocked goroutine (`goroutine N
 * [reason]:` and its frames) and aborts.
 */
#include "check.h"

#define MS 1000000LL

static grt_waitgroup never_zero = GRT_WAITGROUP_INIT;
static grt_mutex held = GRT_MUTEX_INIT;
static int started;

static void wg_waiter(void *arg) {
    (void)arg;
    __atomic_fetch_add(&started, 1, __ATOMIC_RELEASE);
    grt_wg_wait(&never_zero);
    t_puts(1, "wg_waiter: not reached\n");
}

static void mutex_waiter(void *arg) {
    (void)arg;
    __atomic_fetch_add(&started, 1, __ATOMIC_RELEASE);
    grt_mutex_lock(&held);
    t_puts(1, "mutex_waiter: not reached\n");
}

static void main_g(void *arg) {
    (void)arg;
    grt_chan *ch;
    CHECK_EQ(grt_chan_make(&ch, sizeof(int), 0), GRT_OK);
    CHECK_EQ(grt_wg_add(&never_zero, 1), GRT_OK);
    CHECK_EQ(grt_mutex_lock(&held), GRT_OK);
    CHECK_EQ(grt_go(wg_waiter, 0), GRT_OK);
    CHECK_EQ(grt_go(mutex_waiter, 0), GRT_OK);
    for (int i = 0; i < 5000 && __atomic_load_n(&started, __ATOMIC_ACQUIRE) < 2; i++)
        CHECK_EQ(grt_sleep_ns(MS), GRT_OK);
    t_puts(1, "main: waiting for a value nobody sends\n");
    int v = 0;
    int rc = grt_chan_recv(ch, &v);
    t_puts(1, "main: not reached, grt_chan_recv returned\n");
    (void)rc;
}

int main(void) {
    grt_main(main_g, 0);
    t_puts(1, "grt_main returned: not reached\n");
    return 0;
}
