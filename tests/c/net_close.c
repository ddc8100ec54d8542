/* grt-test: exit=0 stdout="ok 100 waiters closed" stdout="ok the reused number saw nothing of the old descriptor" stdout="PASS" env="GRTMAXPROCS=4"
 *
 * grt_fd_close while goroutines wait on the descriptor:
 * - 100 goroutines wait to read one socket; grt_fd_close wakes every one of them with
 *   GRT_ECLOSED.
 * - 48 goroutines each write 1 MiB of their own byte in one grt_write call into one socket
 *   that a slow reader drains: at any moment some are parked and some are inside their
 *   write(2). Once a byte of every writer has come out of the socket (each is inside its
 *   one call, or done), grt_fd_close, and at once a new socket pair, which takes the freed
 *   number. The old
 *   writers must all end (GRT_ECLOSED, or a short count) and not one byte of theirs may
 *   reach the new pair: grt releases the number only after the calls in flight on it
 *   returned. Teeth: net_close_teeth (GRTDEBUG=netpollnoclosewait=1) closes the number at
 *   once, and an old writer's next write lands in the new socket.
 * Rounds: GRT_TEST_ROUNDS (default 10).
 */
#include "check.h"
#include "tsys.h"

#define WAITERS 100
#define WRITERS 48
#define CHUNK (1 << 20)

static int s[2];
static grt_waitgroup wg = GRT_WAITGROUP_INIT;
static int closed_results;
static char abuf[WRITERS][CHUNK];
static int seen[WRITERS + 1], nseen;
static volatile int stop_drain;
static int teeth; /* net_close_teeth.c */

static void waiter(void *arg) {
    (void)arg;
    char b;
    long r = grt_read(s[0], &b, 1, 0);
    if (r == GRT_ECLOSED) __atomic_fetch_add(&closed_results, 1, __ATOMIC_RELAXED);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static int wfd;
static void writer(void *arg) {
    int i = (int)(uintptr_t)arg;
    long r = grt_write(wfd, abuf[i], CHUNK, 0);
    /* Teeth: a writer that wrote into a closed number may see anything; the count of stray
     * bytes is what the test judges. */
    if (!teeth) CHECK(r == GRT_ECLOSED || (r >= 0 && r <= CHUNK));
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static grt_waitgroup dwg = GRT_WAITGROUP_INIT;
static void drainer(void *arg) {
    int fd = (int)(uintptr_t)arg;
    static char b[512];
    while (!stop_drain) {
        long r = grt_read(fd, b, sizeof b, (int64_t)grt_nanotime() + 1000000);
        if (r == GRT_ETIMEDOUT) continue;
        if (r <= 0) break;
        for (long k = 0; k < r; k++)
            if (b[k] >= 1 && b[k] <= WRITERS && !seen[(int)b[k]]) {
                seen[(int)b[k]] = 1;
                __atomic_fetch_add(&nseen, 1, __ATOMIC_RELEASE);
            }
        grt_yield();
    }
    CHECK_EQ(grt_wg_done(&dwg), GRT_OK);
}

/* Counts what reaches the new pair, until told to stop (so a stray writer never blocks). */
static volatile int stop_count;
static uint64_t hits;
static grt_waitgroup cwg = GRT_WAITGROUP_INIT;
static void counter(void *arg) {
    int fd = (int)(uintptr_t)arg;
    static char b[2][4096];
    char *buf = b[fd & 1];
    for (;;) {
        int stopping = stop_count;
        long r = grt_read(fd, buf, 4096, (int64_t)grt_nanotime() + 1000000);
        if (r > 0) {
            __atomic_fetch_add(&hits, (uint64_t)r, __ATOMIC_RELAXED);
            continue;
        }
        if (stopping) break;
    }
    CHECK_EQ(grt_wg_done(&cwg), GRT_OK);
}

static uint64_t rounds = 10;

static void main_g(void *arg) {
    (void)arg;
    for (int w = 0; w < WRITERS; w++)
        for (int i = 0; i < CHUNK; i++) abuf[w][i] = (char)(w + 1);

    CHECK_EQ(t_socketpair(s), 0);
    CHECK_EQ(grt_wg_add(&wg, WAITERS), GRT_OK);
    for (int i = 0; i < WAITERS; i++) CHECK_EQ(grt_go(waiter, 0), GRT_OK);
    grt_sleep_ns(20000000);
    CHECK_EQ(grt_fd_close(s[0]), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(closed_results, WAITERS);
    CHECK_EQ(grt_fd_close(s[1]), GRT_OK);
    t_puts(1, "ok 100 waiters closed\n");

    for (uint64_t round = 0; round < rounds; round++) {
        int old[2];
        CHECK_EQ(t_socketpair(old), 0);
        stop_drain = 0;
        for (int w = 0; w <= WRITERS; w++) seen[w] = 0;
        nseen = 0;
        wfd = old[0];
        CHECK_EQ(grt_wg_add(&dwg, 1), GRT_OK);
        CHECK_EQ(grt_go(drainer, (void *)(uintptr_t)old[1]), GRT_OK);
        CHECK_EQ(grt_wg_add(&wg, WRITERS), GRT_OK);
        for (int i = 0; i < WRITERS; i++) CHECK_EQ(grt_go(writer, (void *)(uintptr_t)i), GRT_OK);
        /* Every writer is inside its one call (or done with it): a call that began after the
         * close would rightly write to whatever the number is then. */
        while (__atomic_load_n(&nseen, __ATOMIC_ACQUIRE) < WRITERS) grt_sleep_ns(200000);
        grt_sleep_ns((int64_t)(round % 5) * 300000);
        int num = old[0];
        CHECK_EQ(grt_fd_close(old[0]), GRT_OK);
        /* Non-blocking from the start: under the teeth an old writer's write(2) may reach it
         * before a counter registered it, and a blocking one would hold its thread (and P)
         * until the counters, maybe queued behind it, drain the pair. */
        int nw[2];
        CHECK_EQ(t_socketpair_nb(nw), 0);
        CHECK(nw[0] == num || nw[1] == num);
        /* Whatever reaches the new pair is readable at either end. */
        stop_count = 0;
        CHECK_EQ(grt_wg_add(&cwg, 2), GRT_OK);
        CHECK_EQ(grt_go(counter, (void *)(uintptr_t)nw[0]), GRT_OK);
        CHECK_EQ(grt_go(counter, (void *)(uintptr_t)nw[1]), GRT_OK);
        CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
        stop_count = 1;
        CHECK_EQ(grt_wg_wait(&cwg), GRT_OK);
        stop_drain = 1;
        CHECK_EQ(grt_wg_wait(&dwg), GRT_OK);
        CHECK_EQ(grt_fd_close(old[1]), GRT_OK);
        CHECK_EQ(grt_fd_close(nw[0]), GRT_OK);
        CHECK_EQ(grt_fd_close(nw[1]), GRT_OK);
        if (hits) break;
    }
    t_puts(1, "reuse");
    t_put_kv("rounds", rounds);
    t_put_kv("stray_bytes", hits);
    t_puts(1, "\n");
    CHECK_EQ(hits, 0);
    t_puts(1, "ok the reused number saw nothing of the old descriptor\n");
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    rounds = t_env_u64(envp, "GRT_TEST_ROUNDS", 10);
#ifdef NET_CLOSE_TEETH
    teeth = 1;
#endif
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
