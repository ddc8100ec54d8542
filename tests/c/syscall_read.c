/* grt-test: exit=0 stdout="ok others run while the readers block" stdout="ok readers got their data" stdout="PASS" env="GRTMAXPROCS=1" builds=hosted
 *
 * Blocking system calls with one M for goroutines (GRTMAXPROCS=1): two goroutines block in
 * read(2) on empty pipes between grt_entersyscall and grt_exitsyscall. Meanwhile the other
 * goroutines keep running (a counter goroutine advances while the main goroutine sleeps and
 * watches it), which needs the blocked goroutines' M to hand its work on. Then writer
 * goroutines write into the pipes (second pipe first) and each reader gets exactly its
 * data, and goes on using grt after grt_exitsyscall.
 * An alarm ends the test (SIGALRM) if a goroutine never gets to run again.
 */
#include <string.h>
#include <unistd.h>

#include "check.h"

#define MS 1000000LL

struct reader {
    int fds[2];
    const char *msg;
    int state; /* 1: about to read, 2: read returned */
    long n;
    char buf[64];
};

static struct reader readers[2] = {
    {{-1, -1}, "first pipe: hello from the writer", 0, -1, ""},
    {{-1, -1}, "second pipe: 0123456789", 0, -1, ""},
};
static grt_waitgroup wg = GRT_WAITGROUP_INIT;
static uint64_t counter;
static int stop_counter;

static void reader(void *arg) {
    struct reader *r = arg;
    __atomic_store_n(&r->state, 1, __ATOMIC_RELEASE);
    CHECK_EQ(grt_entersyscall(), GRT_OK);
    long n = read(r->fds[0], r->buf, sizeof r->buf);
    CHECK_EQ(grt_exitsyscall(), GRT_OK);
    r->n = n;
    __atomic_store_n(&r->state, 2, __ATOMIC_RELEASE);
    CHECK_EQ(grt_yield(), GRT_OK); /* still a goroutine */
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void writer(void *arg) {
    struct reader *r = arg;
    size_t len = strlen(r->msg);
    CHECK_EQ(grt_entersyscall(), GRT_OK);
    long n = write(r->fds[1], r->msg, len);
    CHECK_EQ(grt_exitsyscall(), GRT_OK);
    CHECK_EQ(n, (long)len);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void count(void *arg) {
    (void)arg;
    while (!__atomic_load_n(&stop_counter, __ATOMIC_ACQUIRE)) {
        __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
        CHECK_EQ(grt_yield(), GRT_OK);
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void main_g(void *arg) {
    (void)arg;
    CHECK_EQ(grt_maxprocs(), 1);
    for (int i = 0; i < 2; i++) CHECK_EQ(pipe(readers[i].fds), 0);

    CHECK_EQ(grt_wg_add(&wg, 3), GRT_OK);
    CHECK_EQ(grt_go(reader, &readers[0]), GRT_OK);
    CHECK_EQ(grt_go(reader, &readers[1]), GRT_OK);
    CHECK_EQ(grt_go(count, 0), GRT_OK);
    for (int i = 0; i < 2; i++)
        for (int t = 0; t < 2000 && __atomic_load_n(&readers[i].state, __ATOMIC_ACQUIRE) != 1; t++)
            CHECK_EQ(grt_sleep_ns(MS), GRT_OK);
    CHECK_EQ(grt_sleep_ns(20 * MS), GRT_OK); /* both are in read(2) by now */

    for (int round = 0; round < 3; round++) {
        uint64_t c1 = __atomic_load_n(&counter, __ATOMIC_RELAXED);
        CHECK_EQ(grt_sleep_ns(10 * MS), GRT_OK);
        uint64_t c2 = __atomic_load_n(&counter, __ATOMIC_RELAXED);
        CHECK(c2 > c1 + 5);
    }
    CHECK_EQ(__atomic_load_n(&readers[0].state, __ATOMIC_ACQUIRE), 1); /* still blocked */
    CHECK_EQ(__atomic_load_n(&readers[1].state, __ATOMIC_ACQUIRE), 1);
    t_puts(1, "ok others run while the readers block\n");

    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(writer, &readers[1]), GRT_OK);
    for (int t = 0; t < 2000 && __atomic_load_n(&readers[1].state, __ATOMIC_ACQUIRE) != 2; t++)
        CHECK_EQ(grt_sleep_ns(MS), GRT_OK);
    CHECK_EQ(__atomic_load_n(&readers[1].state, __ATOMIC_ACQUIRE), 2);
    CHECK_EQ(__atomic_load_n(&readers[0].state, __ATOMIC_ACQUIRE), 1);

    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(writer, &readers[0]), GRT_OK);
    for (int t = 0; t < 2000 && __atomic_load_n(&readers[0].state, __ATOMIC_ACQUIRE) != 2; t++)
        CHECK_EQ(grt_sleep_ns(MS), GRT_OK);
    __atomic_store_n(&stop_counter, 1, __ATOMIC_RELEASE);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);

    for (int i = 0; i < 2; i++) {
        struct reader *r = &readers[i];
        CHECK_EQ(r->state, 2);
        CHECK_EQ(r->n, (long)strlen(r->msg));
        CHECK(memcmp(r->buf, r->msg, (size_t)r->n) == 0);
        close(r->fds[0]);
        close(r->fds[1]);
    }
    t_puts(1, "ok readers got their data\n");
}

int main(void) {
    alarm(20);
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
