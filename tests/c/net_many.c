/* grt-test: exit=0 stdout="ok every goroutine read its own bytes" stdout="PASS" env="GRTMAXPROCS=4"
 *
 * 10,000 goroutines each wait to read its own socketpair end (grt_read; the two ends of a
 * pair belong to two goroutines, so 10,000 descriptors do): they park in grt's poller, so
 * the process has no more threads than GRTMAXPROCS plus grt's few of its own (sysmon, the
 * M-starter, the collector's worker, one M blocked in the poller, at most a spinning one):
 * counted in /proc/self/task while they all wait. Then each end's peer is written (in
 * reverse order), and every goroutine must read exactly its own 16 bytes. Fewer goroutines
 * only when the descriptor limit cannot be raised to 10,000 (printed).
 */
#include "check.h"
#include "tsys.h"

#define MAXN 10000
#define MSG 16
#define MAXPROCS 4
/* Threads that are not Ms (the main thread parked in grt_main, sysmon, the M-starter, the
 * collector's worker), and Ms without a P (the one blocked in the poller, a spinning one, one
 * on its way to idle), and one to spare. */
#define EXTRA_THREADS 8

/* Goroutine i reads end rd[i]; its peer wr[i] is the other end of the same pair. */
static int rd[MAXN], wr[MAXN];
static int parked;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static void fill(unsigned char *b, int i) {
    for (int k = 0; k < MSG; k++) b[k] = (unsigned char)(i * 31 + k * 7);
}

static void reader(void *arg) {
    int i = (int)(uintptr_t)arg;
    unsigned char got[MSG], want[MSG];
    fill(want, i);
    __atomic_fetch_add(&parked, 1, __ATOMIC_RELEASE);
    long n = 0;
    while (n < MSG) {
        long r = grt_read(rd[i], got + n, MSG - n, 0);
        CHECK(r > 0);
        n += r;
    }
    for (int k = 0; k < MSG; k++) CHECK_EQ(got[k], want[k]);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void main_g(void *arg) {
    (void)arg;
    uint64_t lim = t_raise_nofile(MAXN + 64);
    int n = MAXN;
    if (lim < MAXN + 64) n = (int)(lim - 64) & ~1;
    for (int i = 0; i < n; i += 2) {
        int sv[2];
        CHECK_EQ(t_socketpair(sv), 0);
        rd[i] = sv[0];
        wr[i] = sv[1];
        rd[i + 1] = sv[1];
        wr[i + 1] = sv[0];
    }
    CHECK_EQ(grt_wg_add(&wg, n), GRT_OK);
    for (int i = 0; i < n; i++) CHECK_EQ(grt_go(reader, (void *)(uintptr_t)i), GRT_OK);
    while (__atomic_load_n(&parked, __ATOMIC_ACQUIRE) < n) grt_sleep_ns(1000000);
    grt_sleep_ns(50000000); /* let the last ones reach the poller */
    int threads = t_count_threads();
    t_puts(1, "goroutines waiting");
    t_put_kv("n", (uint64_t)n);
    t_put_kv("threads", (uint64_t)threads);
    t_put_kv("limit", MAXPROCS + EXTRA_THREADS);
    t_puts(1, "\n");
    CHECK(threads > 0 && threads <= MAXPROCS + EXTRA_THREADS);
    for (int i = n - 1; i >= 0; i--) {
        unsigned char b[MSG];
        fill(b, i);
        CHECK_EQ(grt_write(wr[i], b, MSG, 0), MSG);
    }
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    for (int i = 0; i < n; i++) CHECK_EQ(grt_fd_close(rd[i]), GRT_OK);
    t_puts(1, "ok every goroutine read its own bytes\n");
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
