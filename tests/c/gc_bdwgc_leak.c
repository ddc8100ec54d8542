/* grt-test: exit=0 stdout="ok dropped objects are reported with their site" stdout="ok freed and kept objects are not" stdout="ok reallocated and duplicated ones" stdout="PASS" builds=hosted env="GRTMAXPROCS=2" cflags="-Iinclude/grt-gc"
 *
 * Leak detection through gc/leak_detector.h (malloc, free, realloc, strdup of this unit are
 * gc.h's, with call sites), with GC_set_find_leak(1), as a bdwgc program finds leaks:
 * - 200 objects from malloc dropped without free: CHECK_LEAKS reports 99% of them, each once,
 *   with this file and the line of the malloc (stderr is caught and read back);
 * - 200 freed with free and 200 kept in a table: never reported, through 5 collections;
 * - realloc that moves an object reports the new one (at the realloc's line) when it is
 *   dropped, never the old; strdup's copies dropped are reported at the strdup's line;
 * - a thread's objects are reported the same way.
 */
#define GC_THREADS
#include "gc/leak_detector.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define N 200

#define FAIL(...)                           \
    do {                                    \
        fprintf(stdout, "gc_bdwgc_leak: "); \
        fprintf(stdout, __VA_ARGS__);       \
        fprintf(stdout, "\n");              \
        exit(1);                            \
    } while (0)

static int line_dropped, line_freed, line_kept, line_moved, line_dup, line_thread;
static void **kept;

static __attribute__((noinline, noipa)) void make(void) {
    for (int i = 0; i < N; i++) {
        line_dropped = __LINE__ + 1;
        char *d = malloc(24);
        line_freed = __LINE__ + 1;
        char *f = malloc(24);
        line_kept = __LINE__ + 1;
        kept[i] = malloc(24);
        if (!d || !f || !kept[i]) FAIL("out of memory");
        d[0] = f[0] = 1;
        free(f);
    }
}

static __attribute__((noinline, noipa)) void make_moved(void) {
    for (int i = 0; i < N; i++) {
        char *p = malloc(16);
        line_moved = __LINE__ + 1;
        char *q = realloc(p, 4000); /* moves: a new object */
        if (!q) FAIL("out of memory");
        line_dup = __LINE__ + 1;
        char *s = strdup("leaked");
        if (!s) FAIL("out of memory");
        free(q); /* the moved one is freed: neither it nor the old one may be reported */
    }
}

static void *thread_main(void *arg) {
    (void)arg;
    for (int i = 0; i < N; i++) {
        line_thread = __LINE__ + 1;
        if (!malloc(40)) FAIL("out of memory");
    }
    return NULL;
}

/* How many lines of the caught stderr name this file at line. */
static int reports_at(const char *text, int line) {
    char tag[256];
    snprintf(tag, sizeof tag, "gc_bdwgc_leak.c:%d\n", line);
    int n = 0;
    for (const char *p = strstr(text, tag); p; p = strstr(p + 1, tag)) n++;
    return n;
}

static char text[1 << 20];

int main(void) {
    GC_set_find_leak(1);
    GC_INIT();
    if (!GC_get_find_leak()) FAIL("GC_get_find_leak is 0 after GC_set_find_leak(1)");
    /* Catch stderr in a file. */
    FILE *f = tmpfile();
    if (!f) FAIL("tmpfile");
    fflush(stderr);
    int saved = dup(2);
    if (saved < 0 || dup2(fileno(f), 2) < 0) FAIL("dup2");
    kept = GC_MALLOC_UNCOLLECTABLE(N * sizeof(void *));
    make();
    make_moved();
    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, NULL) != 0 || pthread_join(t, NULL) != 0) FAIL("thread");
    for (int c = 0; c < 5; c++) CHECK_LEAKS();
    fflush(stderr);
    dup2(saved, 2);
    size_t n = (size_t)pread(fileno(f), text, sizeof text - 1, 0);
    text[n < sizeof text ? n : 0] = 0;
    int dropped = reports_at(text, line_dropped), freed = reports_at(text, line_freed),
        kept_n = reports_at(text, line_kept), moved = reports_at(text, line_moved),
        dup = reports_at(text, line_dup), thr = reports_at(text, line_thread);
    printf("leaks dropped=%d freed=%d kept=%d moved=%d dup=%d thread=%d of %d each\n", dropped, freed,
           kept_n, moved, dup, thr, N);
    if (dropped < N - N / 100 || dropped > N) FAIL("dropped objects reported %d times", dropped);
    printf("ok dropped objects are reported with their site\n");
    if (freed || kept_n) FAIL("freed or kept objects reported");
    for (int i = 0; i < N; i++)
        if (((char *)kept[i])[0] != 0) FAIL("a kept object was reused");
    printf("ok freed and kept objects are not\n");
    if (moved || dup < N - N / 100 || dup > N || thr < N - N / 100 || thr > N)
        FAIL("realloc, strdup or thread reports wrong");
    printf("ok reallocated and duplicated ones\n");
    printf("PASS\n");
    return 0;
}
