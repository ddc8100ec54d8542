/* grt-test: exit=0 env="GRTMAXPROCS=1" stdout="reader: blocking in read(2) on an empty pipe" stdout="main: all 4 results in: 1^2 + ... + 100000^2 = 333338333350000 (right)" stdout="main: the reader is still blocked; writing into the pipe" stdout="reader: read(2) returned 7 bytes: wake up" stdout="main: done"
 *
 * cargo xtask demo: goroutines, channels and a blocking system call together, profiled.
 *
 * A reader goroutine blocks in read(2) on an empty pipe (inside grt_entersyscall/
 * grt_exitsyscall, so its thread may block). Meanwhile four worker goroutines each add up
 * the squares of a quarter of 1..100000 and send their result on a channel; the main
 * goroutine collects them, then writes into the pipe, and the reader wakes up. Even with
 * GRTMAXPROCS=1 (one thread running goroutines) the workers are not held up by the
 * blocked reader: its thread hands the goroutines over to another one.
 *
 * Each square is worked out the slow way (square_slowly: a few thousand multiply-adds that
 * come back to i*i) so that the workers burn enough CPU for a profile: `cargo xtask demo` runs
 * this with GRTPROF=target/examples/demo.pprof GRTPROFHZ=1000 and then draws the flame graph.
 */
#include <grt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MS 1000000LL
#define WORKERS 4
#define N 100000

struct result {
    int worker;
    uint64_t sum;
    uint64_t goid;
};

static int fds[2];
static grt_chan *results; /* struct result, unbuffered */
static grt_chan *reader_done; /* the reader's blocked time in ms */
static int reader_blocked;

static void reader(void *arg) {
    (void)arg;
    char buf[32];
    printf("reader: blocking in read(2) on an empty pipe\n");
    __atomic_store_n(&reader_blocked, 1, __ATOMIC_RELEASE);
    uint64_t t0 = grt_nanotime();
    grt_entersyscall();
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    grt_exitsyscall();
    int64_t ms = (int64_t)((grt_nanotime() - t0) / MS);
    buf[n > 0 ? n : 0] = 0;
    printf("reader: read(2) returned %zd bytes: %s (blocked for %" PRId64 " ms)\n", n, buf, ms);
    grt_chan_send(reader_done, &ms);
}

#define SLOW 8000 /* multiply-adds per square */

static volatile uint64_t hash_sink; /* keeps the hash from being optimised away */

/* i*i, after SLOW rounds of a hash whose result only goes to hash_sink. */
__attribute__((noinline)) static uint64_t square_slowly(uint64_t i) {
    uint64_t h = i;
    for (int k = 0; k < SLOW; k++) h = h * 6364136223846793005ull + 1442695040888963407ull;
    hash_sink = h;
    return i * i;
}

static void worker(void *arg) {
    int w = (int)(intptr_t)arg;
    struct result r = {w, 0, grt_goid()};
    uint64_t lo = (uint64_t)w * (N / WORKERS) + 1, hi = lo + N / WORKERS - 1;
    for (uint64_t i = lo; i <= hi; i++) {
        r.sum += square_slowly(i);
        if (i % 5000 == 0) grt_yield(); /* be nice to the others */
    }
    grt_chan_send(results, &r); /* waits until main takes it */
}

static void main_goroutine(void *arg) {
    (void)arg;
    printf("main: goroutines run on %d thread%s at a time (GRTMAXPROCS)\n", grt_maxprocs(),
           grt_maxprocs() == 1 ? "" : "s");
    if (pipe(fds) != 0 || grt_chan_make(&results, sizeof(struct result), 0) != GRT_OK ||
        grt_chan_make(&reader_done, sizeof(int64_t), 0) != GRT_OK)
        return;

    grt_go(reader, NULL);
    while (!__atomic_load_n(&reader_blocked, __ATOMIC_ACQUIRE)) grt_sleep_ns(MS);
    grt_sleep_ns(10 * MS); /* give it time to really block */

    printf("main: starting %d workers, each adding up squares of a quarter of 1..%d\n", WORKERS, N);
    for (int w = 0; w < WORKERS; w++) grt_go(worker, (void *)(intptr_t)w);

    uint64_t total = 0;
    for (int i = 0; i < WORKERS; i++) {
        struct result r;
        grt_chan_recv(results, &r);
        printf("main:   got %" PRIu64 " from worker %d (goroutine %" PRIu64 ")\n", r.sum, r.worker,
               r.goid);
        total += r.sum;
    }
    uint64_t want = (uint64_t)N * (N + 1) * (2 * N + 1) / 6;
    printf("main: all %d results in: 1^2 + ... + %d^2 = %" PRIu64 " (%s)\n", WORKERS, N, total,
           total == want ? "right" : "WRONG");

    printf("main: the reader is still blocked; writing into the pipe\n");
    const char *msg = "wake up";
    grt_entersyscall();
    ssize_t n = write(fds[1], msg, strlen(msg));
    grt_exitsyscall();
    (void)n;
    int64_t ms = 0;
    grt_chan_recv(reader_done, &ms);
    printf("main: done: %d workers computed while the reader's thread sat in read(2) for %" PRId64
           " ms\n", WORKERS, ms);
}

int main(void) {
    int rc = grt_main(main_goroutine, NULL);
    if (rc != GRT_OK) {
        fprintf(stderr, "grt_main: %s\n", grt_strerror(rc));
        return 1;
    }
    return 0;
}
