/* grt-test: exit=0 stdout="ok deadline times out" stdout="ok past deadline at once" stdout="ok no timeout after data" stdout="ok fd_wait deadline" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * Deadlines of descriptor waits (absolute, grt_nanotime clock):
 * - a read of an empty pipe with a deadline 20 ms ahead returns GRT_ETIMEDOUT, not before the
 *   deadline (how late is printed);
 * - a deadline already past returns GRT_ETIMEDOUT at once, without parking;
 * - a read whose data comes before its deadline returns the data, and the deadline does not
 *   fire afterwards: the next wait on the same descriptor (no deadline) gets the next data,
 *   long after the first deadline passed, and a sleeping goroutine wakes at its own time;
 * - grt_fd_wait with a deadline, for reading and writing at once, on a pipe whose write end
 *   is full: times out; and a readable descriptor returns GRT_OK before its deadline.
 */
#include "check.h"
#include "tsys.h"

#define MS 1000000LL

static int p[2];
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static void late_writer(void *arg) {
    grt_sleep_ns((int64_t)(uintptr_t)arg);
    CHECK_EQ(grt_write(p[1], "x", 1, 0), 1);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void main_g(void *arg) {
    (void)arg;
    CHECK_EQ(t_pipe(p), 0);
    char b[8];

    int64_t t0 = (int64_t)grt_nanotime();
    int64_t dl = t0 + 20 * MS;
    CHECK_EQ(grt_read(p[0], b, 1, dl), GRT_ETIMEDOUT);
    int64_t t1 = (int64_t)grt_nanotime();
    CHECK(t1 >= dl);
    t_puts(1, "deadline");
    t_put_kv("late_us", (uint64_t)(t1 - dl) / 1000);
    t_puts(1, "\n");
    t_puts(1, "ok deadline times out\n");

    t0 = (int64_t)grt_nanotime();
    CHECK_EQ(grt_read(p[0], b, 1, t0 - 1), GRT_ETIMEDOUT);
    CHECK_EQ(grt_read(p[0], b, 1, 1), GRT_ETIMEDOUT);
    CHECK((int64_t)grt_nanotime() - t0 < 100 * MS);
    t_puts(1, "ok past deadline at once\n");

    /* Data at 5 ms, deadline at 50 ms. */
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(late_writer, (void *)(uintptr_t)(5 * MS)), GRT_OK);
    t0 = (int64_t)grt_nanotime();
    CHECK_EQ(grt_read(p[0], b, 1, t0 + 50 * MS), 1);
    CHECK_EQ(b[0], 'x');
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    /* Next data at 150 ms, well after the old deadline; no deadline now. */
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(late_writer, (void *)(uintptr_t)(150 * MS)), GRT_OK);
    CHECK_EQ(grt_read(p[0], b, 1, 0), 1);
    CHECK_EQ(b[0], 'x');
    CHECK((int64_t)grt_nanotime() - t0 >= 140 * MS);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    /* A sleep after a deadline wait: wakes at its own time. */
    t0 = (int64_t)grt_nanotime();
    CHECK_EQ(grt_sleep_ns(30 * MS), GRT_OK);
    CHECK((int64_t)grt_nanotime() - t0 >= 30 * MS);
    t_puts(1, "ok no timeout after data\n");

    /* Fill the pipe, then wait for either direction: neither comes. */
    static char big[4096];
    long filled = 0;
    for (;;) {
        long r = grt_write(p[1], big, sizeof big, (int64_t)grt_nanotime() + 2 * MS);
        if (r == GRT_ETIMEDOUT) break;
        CHECK(r > 0);
        filled += r;
        if (r < (long)sizeof big) {
            CHECK_EQ(grt_write(p[1], big, sizeof big, (int64_t)grt_nanotime() + 2 * MS), GRT_ETIMEDOUT);
            break;
        }
    }
    CHECK(filled >= 4096);
    t0 = (int64_t)grt_nanotime();
    CHECK_EQ(grt_fd_wait(p[1], GRT_POLLOUT, t0 + 10 * MS), GRT_ETIMEDOUT);
    CHECK((int64_t)grt_nanotime() >= t0 + 10 * MS);
    CHECK_EQ(grt_fd_wait(p[0], GRT_POLLIN, (int64_t)grt_nanotime() + 1000 * MS), GRT_OK);
    t_puts(1, "ok fd_wait deadline\n");
    CHECK_EQ(grt_fd_close(p[0]), GRT_OK);
    CHECK_EQ(grt_fd_close(p[1]), GRT_OK);
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
