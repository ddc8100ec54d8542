/*
 * grt's side of the network benchmarks of `cargo xtask bench net` (bench_net.rs); Go's is
 * tests/bench/go/net/net.go, the same programs.
 *
 *   net_bench handoff_poll <iters>     (GRTMAXPROCS=1)
 *   net_bench handoff_syscall <iters>  (GRTMAXPROCS=1)
 *   net_bench idle_clients <port> <n>  (a plain C program: n idle connections, then sleeps)
 *
 * handoff: goroutine A makes goroutine B runnable (a send on a buffered channel B waits on),
 * notes the time and reads an empty pipe; B, once it runs, notes the time: the difference is
 * the hand-off, from A starting to wait on a descriptor until another runnable goroutine
 * runs. B then writes the byte that completes A's read and waits on the channel again.
 * `poll`: A's read is grt_read (it parks in the poller). `syscall`: A's read is read(2)
 * between grt_entersyscall and grt_exitsyscall on a blocking pipe (sysmon must retake the
 * P). Prints, after a warm-up of iters/10:
 *
 *   handoff_<how> iters=<n> mean_ns=<x> max_ns=<y>
 *
 * idle_clients: the client side of the idle-connections measurement (xtask measures the
 * server): opens n connections to 127.0.0.1:port, prints "connected <n>", sleeps until killed.
 */
#include <grt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The clock through the vDSO, as Go's time.Now reads it (grt_nanotime is a system call). */
static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int pfd[2];
static grt_chan *ch;
static int use_poll;
static volatile uint64_t t0;
static uint64_t sum, maxv, count;
static int recording;
static long iters;

static void side_b(void *arg) {
    (void)arg;
    for (;;) {
        int v;
        if (grt_chan_recv(ch, &v) != GRT_OK || v < 0) return;
        uint64_t d = now_ns() - t0;
        if (recording) {
            sum += d;
            count++;
            if (d > maxv) maxv = d;
        }
        if (write(pfd[1], "x", 1) != 1) abort();
    }
}

static void run(long n) {
    for (long i = 0; i < n; i++) {
        int v = 1;
        grt_chan_send(ch, &v);
        char b;
        t0 = now_ns();
        long r;
        if (use_poll) {
            r = grt_read(pfd[0], &b, 1, 0);
        } else {
            grt_entersyscall();
            r = read(pfd[0], &b, 1);
            grt_exitsyscall();
        }
        if (r != 1) {
            fprintf(stderr, "net_bench: read returned %ld\n", r);
            exit(1);
        }
    }
}

static void main_g(void *arg) {
    (void)arg;
    if (pipe(pfd) != 0 || grt_chan_make(&ch, sizeof(int), 1) != GRT_OK) exit(1);
    grt_go(side_b, NULL);
    run(iters / 10 + 1);
    recording = 1;
    run(iters);
    int stop = -1;
    grt_chan_send(ch, &stop);
    printf("handoff_%s iters=%ld mean_ns=%.1f max_ns=%llu\n", use_poll ? "poll" : "syscall",
           iters, (double)sum / (double)count, (unsigned long long)maxv);
}

static int idle_clients(int port, int n) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
            fprintf(stderr, "net_bench: connection %d: ", i);
            perror("");
            return 1;
        }
    }
    printf("connected %d\n", n);
    fflush(stdout);
    for (;;) pause();
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "idle_clients") == 0)
        return idle_clients(atoi(argv[2]), atoi(argv[3]));
    if (argc != 3 || (strcmp(argv[1], "handoff_poll") && strcmp(argv[1], "handoff_syscall"))) {
        fprintf(stderr, "usage: net_bench handoff_poll|handoff_syscall <iters> | idle_clients <port> <n>\n");
        return 2;
    }
    use_poll = strcmp(argv[1], "handoff_poll") == 0;
    iters = atol(argv[2]);
    if (iters <= 0) return 2;
    return grt_main(main_g, NULL) == GRT_OK ? 0 : 1;
}
