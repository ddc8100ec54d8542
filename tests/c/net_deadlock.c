/* grt-test: signal=6 stdout="ok a read woken from outside" stderr="fatal error: all goroutines are asleep - deadlock!" stderr="[chan receive]" env="GRTMAXPROCS=2"
 *
 * Deadlock detection with the poller in use:
 * - the main goroutine waits in grt_read on a pipe for 300 ms while every M is idle, and no
 *   timer is pending: no deadlock is reported, since a thread that is not a goroutine (it
 *   could as well be another process) writes to the pipe; the read returns its byte;
 * - then a real deadlock of channels (a receive nobody will ever send to), with the poller
 *   initialised and no descriptor waited on: still reported, with the goroutine's stack.
 */
#include "check.h"
#include "tsys.h"

static int p[2];

static void outside(void *arg) {
    (void)arg;
    /* 300 ms, without grt (this thread is no goroutine). */
    struct {
        long s, ns;
    } ts = {0, 300000000};
    t_sys6(
#if defined(__x86_64__)
        35 /* nanosleep */,
#else
        101,
#endif
        (long)&ts, 0, 0, 0, 0, 0);
    t_write(p[1], "z", 1);
}

static void main_g(void *arg) {
    (void)arg;
    CHECK_EQ(t_pipe(p), 0);
    grt_thread *t;
    CHECK_EQ(grt_thread_start(&t, outside, 0), GRT_OK);
    char b;
    CHECK_EQ(grt_read(p[0], &b, 1, 0), 1);
    CHECK_EQ(b, 'z');
    t_puts(1, "ok a read woken from outside\n");
    grt_chan *ch;
    CHECK_EQ(grt_chan_make(&ch, sizeof(int), 0), GRT_OK);
    int v;
    grt_chan_recv(ch, &v);
    t_puts(1, "not reached\n");
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS (not reached)\n");
    return 0;
}
