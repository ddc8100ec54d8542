/* grt-test: exit=0 env="GRTMAXPROCS=1" stdout="reader: blocking in read(2) on an empty pipe" stdout="ticker: tick 5 (the reader is still blocked)" stdout="reader: read 22 bytes: hello through the pipe" stdout="main: the ticker ticked 5 times while the reader's thread was blocked"
 *
 * A blocking system call inside grt_entersyscall/grt_exitsyscall. Run with GRTMAXPROCS=1:
 * one M runs goroutines, yet while the reader goroutine's thread sits in read(2) on an empty
 * pipe, the ticker goroutine keeps printing, because grt_entersyscall let another M take
 * over the goroutines. After five ticks the ticker writes into the pipe and the reader
 * wakes up.
 */
#include <grt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MS 1000000LL

static int fds[2];
static int reader_done;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static void reader(void *arg) {
    (void)arg;
    char buf[64];
    printf("reader: blocking in read(2) on an empty pipe\n");
    grt_entersyscall();
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    grt_exitsyscall();
    buf[n > 0 ? n : 0] = 0;
    printf("reader: read %zd bytes: %s\n", n, buf);
    __atomic_store_n(&reader_done, 1, __ATOMIC_RELEASE);
    grt_wg_done(&wg);
}

static void ticker(void *arg) {
    int *ticks = arg;
    for (int i = 1; i <= 5; i++) {
        grt_sleep_ns(10 * MS);
        *ticks = i;
        printf("ticker: tick %d (the reader is %s)\n", i,
               __atomic_load_n(&reader_done, __ATOMIC_ACQUIRE) ? "done" : "still blocked");
    }
    const char *msg = "hello through the pipe";
    printf("ticker: writing into the pipe\n");
    grt_entersyscall(); /* a pipe write can block too */
    ssize_t n = write(fds[1], msg, strlen(msg));
    grt_exitsyscall();
    (void)n;
    grt_wg_done(&wg);
}

static void main_goroutine(void *arg) {
    (void)arg;
    if (pipe(fds) != 0) return;
    printf("main: %d M for goroutines\n", grt_maxprocs());
    int ticks = 0;
    grt_wg_add(&wg, 2);
    grt_go(reader, NULL);
    grt_go(ticker, &ticks);
    grt_wg_wait(&wg);
    printf("main: the ticker ticked %d times while the reader's thread was blocked\n", ticks);
}

int main(void) {
    return grt_main(main_goroutine, NULL) == GRT_OK ? 0 : 1;
}
