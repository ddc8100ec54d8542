/* grt-test: exit=0 stdout="ok 100000 round trips" stdout="ok the third goroutine kept running" stdout="PASS" env="GRTMAXPROCS=1"
 *
 * One P: two goroutines ping-pong one byte over a pair of pipes 100,000 times (grt_read and
 * grt_write park them in the poller each time), while a third goroutine loops, counting and
 * yielding. Each pipe read that finds nothing must hand the only P to another goroutine at
 * once, and the poller must make the partner runnable again: the round trips finish, and
 * the third goroutine keeps making progress all along (it runs between round trips, not
 * only after them).
 */
#include "check.h"
#include "tsys.h"

#define ROUNDS 100000

static int ping[2], pong[2];
static int done;
static uint64_t spins, spins_at_half;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static void pinger(void *arg) {
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        unsigned char b = (unsigned char)i;
        CHECK_EQ(grt_write(ping[1], &b, 1, 0), 1);
        unsigned char r;
        CHECK_EQ(grt_read(pong[0], &r, 1, 0), 1);
        CHECK_EQ(r, (unsigned char)(i + 1));
        if (i == ROUNDS / 2) spins_at_half = __atomic_load_n(&spins, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void ponger(void *arg) {
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        unsigned char b;
        CHECK_EQ(grt_read(ping[0], &b, 1, 0), 1);
        CHECK_EQ(b, (unsigned char)i);
        b++;
        CHECK_EQ(grt_write(pong[1], &b, 1, 0), 1);
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void spinner(void *arg) {
    (void)arg;
    while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
        __atomic_fetch_add(&spins, 1, __ATOMIC_RELAXED);
        grt_yield();
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void main_g(void *arg) {
    (void)arg;
    CHECK_EQ(grt_maxprocs(), 1);
    CHECK_EQ(t_pipe(ping), 0);
    CHECK_EQ(t_pipe(pong), 0);
    CHECK_EQ(grt_wg_add(&wg, 3), GRT_OK);
    uint64_t t0 = grt_nanotime();
    CHECK_EQ(grt_go(spinner, 0), GRT_OK);
    CHECK_EQ(grt_go(pinger, 0), GRT_OK);
    CHECK_EQ(grt_go(ponger, 0), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    uint64_t ns = grt_nanotime() - t0;
    t_puts(1, "ping-pong");
    t_put_kv("round_trip_ns", ns / ROUNDS);
    t_put_kv("spins", spins);
    t_put_kv("spins_at_half", spins_at_half);
    t_puts(1, "\n");
    t_puts(1, "ok 100000 round trips\n");
    /* The spinner ran in the first half of the exchange, and kept running in the second. */
    CHECK(spins_at_half > 100);
    CHECK(spins > spins_at_half + 100);
    t_puts(1, "ok the third goroutine kept running\n");
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(grt_fd_close(ping[i]), GRT_OK);
        CHECK_EQ(grt_fd_close(pong[i]), GRT_OK);
    }
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
