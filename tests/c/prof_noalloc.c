/* grt-test: exit=0 stdout="ok no allocation in the handler" stdout="PASS" env="GRTMAXPROCS=2" builds=testhooks profile=any
 *
 * The SIGPROF handler never allocates. Built against the test-only libgrt.a (testhooks):
 * grt counts its own allocator's calls made while a thread is inside the handler
 * (grt_test_sigprof_allocs), and this program wraps malloc/calloc/realloc/free and counts the
 * calls made while grt_test_in_sigprof() says the calling thread is in the handler. Goroutines
 * that burn CPU and allocate (channels, goroutines, malloc) are profiled at 1000 Hz; both
 * counts must stay 0 while samples were taken.
 * prof_noalloc_teeth.c runs the same with GRTDEBUG=profalloc=1 (the handler allocates) and
 * must see this test fail.
 */
#include <stdlib.h>

#include "check.h"

int grt_test_in_sigprof(void);
uint64_t grt_test_sigprof_allocs(void);
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static volatile long libc_in_handler;

void *malloc(size_t n) {
    if (grt_test_in_sigprof()) libc_in_handler++;
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    if (grt_test_in_sigprof()) libc_in_handler++;
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    if (grt_test_in_sigprof()) libc_in_handler++;
    return __libc_realloc(p, n);
}
void free(void *p) {
    if (grt_test_in_sigprof()) libc_in_handler++;
    __libc_free(p);
}

static volatile uint64_t sink;

static void churn(void *arg) {
    uint64_t end = grt_nanotime() + 500000000ull, x = 1;
    while (grt_nanotime() < end) {
        for (int i = 0; i < 20000; i++) x = x * 6364136223846793005ull + 1;
        void *p = malloc(64 + (x & 1023));
        sink += (uintptr_t)p;
        free(p);
        grt_chan *c;
        CHECK(grt_chan_make(&c, 8, 1) == GRT_OK);
        uint64_t v = x;
        CHECK(grt_chan_send(c, &v) == GRT_OK);
        CHECK(grt_chan_free(c) == GRT_OK);
    }
    sink += x;
    grt_wg_done(arg);
}

static void gomain(void *arg) {
    (void)arg;
    const char *path = getenv("GRT_TEST_PROFILE");
    CHECK(path && grt_prof_start(1000, path) == GRT_OK);
    static grt_waitgroup wg = GRT_WAITGROUP_INIT;
    grt_wg_add(&wg, 3);
    for (int i = 0; i < 3; i++) CHECK(grt_go(churn, &wg) == GRT_OK);
    grt_wg_wait(&wg);
    grt_prof_stats st;
    CHECK(grt_prof_read_stats(&st) == GRT_OK);
    CHECK(grt_prof_stop() == GRT_OK);
    CHECK(st.samples > 50);
    if (grt_test_sigprof_allocs() != 0 || libc_in_handler != 0) {
        t_puts(2, "FAIL: allocated in the SIGPROF handler: grt allocator ");
        t_putu(2, grt_test_sigprof_allocs(), 10);
        t_puts(2, " times, malloc family ");
        t_putu(2, (unsigned long long)libc_in_handler, 10);
        t_puts(2, " times\n");
        grt_exit(1);
    }
    t_puts(1, "ok no allocation in the handler (");
    t_putu(1, st.samples, 10);
    t_puts(1, " samples)\nPASS\n");
}

int main(void) {
    CHECK(grt_main(gomain, 0) == GRT_OK);
    return 0;
}
