/* grt-test: exit=0 stdout="ok 4 acceptors took 200 connections" stdout="ok 8 readers shared 4000 bytes" stdout="ok grt_fd_wait on a ready descriptor" stdout="ok a passed deadline wins over data" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * Many goroutines waiting on one descriptor, and edges they share:
 * - 4 goroutines accept on one listener while a client makes 200 connections in bursts:
 *   every connection is accepted, and no acceptor waits out its 5 s deadline while a
 *   connection sits in the backlog (an edge for two connections that woke one acceptor
 *   once left the other asleep);
 * - 8 goroutines read one byte at a time from one socket written 4,000 bytes at once: every
 *   byte is read, none of them waits out its deadline meanwhile;
 * - grt_fd_wait on a socket that is already writable returns at once, every time (edge
 *   triggering alone would report only the first);
 * - a deadline that passed before the call gives GRT_ETIMEDOUT even with data waiting.
 */
#include "check.h"
#include "tsys.h"

#define MS 1000000LL

static int listener;
static int accepted, acceptor_timeouts;
static volatile int accept_done;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static void acceptor(void *arg) {
    (void)arg;
    while (!accept_done) {
        int fd = grt_accept(listener, 0, 0, (int64_t)grt_nanotime() + 5000 * MS);
        if (fd >= 0) {
            __atomic_fetch_add(&accepted, 1, __ATOMIC_RELAXED);
            CHECK_EQ(grt_fd_close(fd), GRT_OK);
            continue;
        }
        if (fd == GRT_ETIMEDOUT && !accept_done) __atomic_fetch_add(&acceptor_timeouts, 1, __ATOMIC_RELAXED);
        if (fd == GRT_ECLOSED || fd == GRT_EINVAL) break;
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static int rs[2];
static int got_bytes, reader_timeouts;
static volatile int read_done;

static void reader(void *arg) {
    (void)arg;
    while (!read_done) {
        char b;
        long r = grt_read(rs[0], &b, 1, (int64_t)grt_nanotime() + 3000 * MS);
        if (r == 1) {
            if (__atomic_add_fetch(&got_bytes, 1, __ATOMIC_RELAXED) == 4000) read_done = 1;
            grt_yield();
            continue;
        }
        if (r == GRT_ETIMEDOUT && !read_done) __atomic_fetch_add(&reader_timeouts, 1, __ATOMIC_RELAXED);
        if (r == GRT_ECLOSED) break;
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void main_g(void *arg) {
    (void)arg;
    uint16_t port;
    listener = t_listen_tcp(&port);
    CHECK(listener >= 0);
    CHECK_EQ(grt_wg_add(&wg, 4), GRT_OK);
    for (int i = 0; i < 4; i++) CHECK_EQ(grt_go(acceptor, 0), GRT_OK);
    grt_sleep_ns(10 * MS);
    struct t_sockaddr_in a = t_loopback(port);
    int conns[200];
    for (int burst = 0; burst < 10; burst++) {
        for (int i = 0; i < 20; i++) {
            int c = t_socket_tcp();
            CHECK(c >= 0);
            CHECK_EQ(grt_connect(c, (const struct sockaddr *)&a, sizeof a, 0), GRT_OK);
            conns[burst * 20 + i] = c;
        }
        grt_sleep_ns(2 * MS);
    }
    uint64_t t0 = grt_nanotime();
    while (__atomic_load_n(&accepted, __ATOMIC_RELAXED) < 200 && grt_nanotime() - t0 < 10000 * MS) grt_sleep_ns(MS);
    accept_done = 1;
    CHECK_EQ(grt_fd_close(listener), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    t_puts(1, "accept");
    t_put_kv("accepted", (uint64_t)accepted);
    t_put_kv("timeouts", (uint64_t)acceptor_timeouts);
    t_puts(1, "\n");
    CHECK_EQ(accepted, 200);
    CHECK_EQ(acceptor_timeouts, 0);
    for (int i = 0; i < 200; i++) CHECK_EQ(grt_fd_close(conns[i]), GRT_OK);
    t_puts(1, "ok 4 acceptors took 200 connections\n");

    CHECK_EQ(t_socketpair(rs), 0);
    CHECK_EQ(grt_wg_add(&wg, 8), GRT_OK);
    for (int i = 0; i < 8; i++) CHECK_EQ(grt_go(reader, 0), GRT_OK);
    grt_sleep_ns(10 * MS);
    static char buf[4000];
    CHECK_EQ(grt_write(rs[1], buf, sizeof buf, 0), (long)sizeof buf);
    t0 = grt_nanotime();
    while (!read_done && grt_nanotime() - t0 < 10000 * MS) grt_sleep_ns(MS);
    CHECK_EQ(grt_fd_close(rs[0]), GRT_OK); /* wakes the readers still waiting */
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    t_puts(1, "readers");
    t_put_kv("bytes", (uint64_t)got_bytes);
    t_put_kv("timeouts", (uint64_t)reader_timeouts);
    t_puts(1, "\n");
    CHECK_EQ(got_bytes, 4000);
    CHECK_EQ(reader_timeouts, 0);
    t_puts(1, "ok 8 readers shared 4000 bytes\n");

    int s[2];
    CHECK_EQ(t_socketpair(s), 0);
    for (int i = 0; i < 3; i++) {
        t0 = grt_nanotime();
        CHECK_EQ(grt_fd_wait(s[0], GRT_POLLOUT, (int64_t)t0 + 2000 * MS), GRT_OK);
        CHECK(grt_nanotime() - t0 < 1000 * MS);
    }
    t_puts(1, "ok grt_fd_wait on a ready descriptor\n");
    CHECK_EQ(grt_write(s[1], "x", 1, 0), 1);
    char b;
    CHECK_EQ(grt_read(s[0], &b, 1, (int64_t)grt_nanotime() - 1), GRT_ETIMEDOUT);
    CHECK_EQ(grt_read(s[0], &b, 1, 0), 1);
    t_puts(1, "ok a passed deadline wins over data\n");
    CHECK_EQ(grt_fd_close(s[0]), GRT_OK);
    CHECK_EQ(grt_fd_close(rs[1]), GRT_OK);
    CHECK_EQ(grt_fd_close(s[1]), GRT_OK);
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
