/* grt-test: exit=0 stdout="ok dropped objects are reported with their site" stdout="ok freed and kept objects are not" stdout="ok reallocated and duplicated ones" stdout="ok leaked cycles in one collection" stdout="ok frees after leak mode went off" stdout="PASS" builds=hosted env="GRTMAXPROCS=2" cflags="-Iinclude/grt-gc"
 *
 * Leak detection through gc/leak_detector.h (malloc, free, realloc, strdup of this unit are
 * gc.h's, with call sites), with GC_set_find_leak(1), as a bdwgc program finds leaks:
 * - 200 objects from malloc dropped without free: CHECK_LEAKS reports 99% of them, each once,
 *   with this file and the line of the malloc (stderr is caught and read back);
 * - 200 freed with free and 200 kept in a table: never reported, through 5 collections;
 * - realloc that moves an object reports the new one (at the realloc's line) when it is
 *   dropped, never the old one nor a moved one freed; strdup's copies dropped are reported
 *   at the strdup's line;
 * - a thread's objects are reported the same way;
 * - 100 leaked two-object cycles: both objects of (97% of) them reported by the first
 *   collection (leak reports impose no order);
 * - objects freed after GC_set_find_leak(0) are not reported, nor those allocated then;
 * - objects given a finalizer (GC_REGISTER_FINALIZER) are finalized, not reported.
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

static int line_dropped, line_freed, line_kept, line_moved, line_moved_old, line_dup, line_thread;
static int line_cyc_a, line_cyc_b, line_late, line_off;
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
        line_moved_old = __LINE__ + 1;
        char *p = malloc(16);
        line_moved = __LINE__ + 1;
        char *q = realloc(p, 4000); /* moves: a new object */
        if (!q) FAIL("out of memory");
        line_dup = __LINE__ + 1;
        char *s = strdup("leaked");
        if (!s) FAIL("out of memory");
        if (i % 2) free(q); /* half the moved ones are freed, half dropped */
    }
}

struct pair {
    struct pair *other;
    uint64_t pad;
};

static __attribute__((noinline, noipa)) void make_cycles(void) {
    for (int i = 0; i < N / 2; i++) {
        line_cyc_a = __LINE__ + 1;
        struct pair *a = malloc(sizeof *a);
        line_cyc_b = __LINE__ + 1;
        struct pair *b = malloc(sizeof *b);
        if (!a || !b) FAIL("out of memory");
        a->other = b;
        b->other = a;
    }
}

static int finalized;
static void on_final(void *obj, void *cd) {
    (void)obj;
    (void)cd;
    __atomic_fetch_add(&finalized, 1, __ATOMIC_RELAXED);
}

/* Objects given a finalizer are the program's business, not leaks. */
static int line_final;
static __attribute__((noinline, noipa)) void make_finalized(void) {
    for (int i = 0; i < N; i++) {
        line_final = __LINE__ + 1;
        void *p = malloc(24);
        if (!p) FAIL("out of memory");
        GC_REGISTER_FINALIZER(p, on_final, NULL, NULL, NULL);
    }
}

static __attribute__((noinline, noipa)) void leak_mode_off(void) {
    void *late[N];
    for (int i = 0; i < N; i++) {
        line_late = __LINE__ + 1;
        late[i] = malloc(24);
    }
    GC_set_find_leak(0);
    for (int i = 0; i < N; i++) free(late[i]);
    for (int i = 0; i < N; i++) {
        line_off = __LINE__ + 1;
        if (!malloc(24)) FAIL("out of memory");
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
    make_cycles();
    CHECK_LEAKS();
    fflush(stderr);
    size_t n = (size_t)pread(fileno(f), text, sizeof text - 1, 0);
    text[n < sizeof text ? n : 0] = 0;
    int cyc_a = reports_at(text, line_cyc_a), cyc_b = reports_at(text, line_cyc_b);
    make();
    make_moved();
    make_finalized();
    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, NULL) != 0 || pthread_join(t, NULL) != 0) FAIL("thread");
    for (int c = 0; c < 5; c++) CHECK_LEAKS();
    leak_mode_off();
    for (int c = 0; c < 3; c++) CHECK_LEAKS();
    fflush(stderr);
    dup2(saved, 2);
    n = (size_t)pread(fileno(f), text, sizeof text - 1, 0);
    text[n < sizeof text ? n : 0] = 0;
    int dropped = reports_at(text, line_dropped), freed = reports_at(text, line_freed),
        kept_n = reports_at(text, line_kept), moved = reports_at(text, line_moved),
        dup = reports_at(text, line_dup), thr = reports_at(text, line_thread),
        moved_old = reports_at(text, line_moved_old), late = reports_at(text, line_late),
        off = reports_at(text, line_off);
    printf("leaks dropped=%d freed=%d kept=%d moved=%d moved_old=%d dup=%d thread=%d of %d each;"
           " cycles %d+%d of %d after one collection; late=%d off=%d\n",
           dropped, freed, kept_n, moved, moved_old, dup, thr, N, cyc_a, cyc_b, N / 2, late, off);
    if (dropped < N - N / 100 || dropped > N) FAIL("dropped objects reported %d times", dropped);
    printf("ok dropped objects are reported with their site\n");
    if (freed || kept_n) FAIL("freed or kept objects reported");
    for (int i = 0; i < N; i++)
        if (((char *)kept[i])[0] != 0) FAIL("a kept object was reused");
    printf("ok freed and kept objects are not\n");
    if (moved < N / 2 - N / 100 || moved > N / 2 || moved_old || dup < N - N / 100 || dup > N ||
        thr < N - N / 100 || thr > N)
        FAIL("realloc, strdup or thread reports wrong");
    printf("ok reallocated and duplicated ones\n");
    /* (At most one report may still be on its way from grt's finalizer goroutine.) */
    if (cyc_a < N / 2 - 3 || cyc_b < N / 2 - 3) FAIL("leaked cycles not reported at once");
    printf("ok leaked cycles in one collection\n");
    int fin_rep = reports_at(text, line_final);
    printf("finalized=%d reported=%d of %d\n", finalized, fin_rep, N);
    if (fin_rep || finalized < N - N / 100) FAIL("objects with finalizers reported as leaks, or not finalized");
    if (late || off) FAIL("objects reported after leak mode went off");
    printf("ok frees after leak mode went off\n");
    printf("PASS\n");
    return 0;
}
