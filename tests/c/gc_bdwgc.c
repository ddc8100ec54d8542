/* grt-test: exit=0 stdout="ok threads and plain stores" stdout="ok finalizers" stdout="ok objects" stdout="PASS" builds=hosted env="GRTMAXPROCS=2" cflags="-Iinclude/grt-gc"
 *
 * A program written for bdwgc, built against grt's gc.h (no grt call, no GRT_STORE):
 * GC_INIT on the main thread, threads made by pthread_create (redirected to
 * GC_pthread_create by GC_THREADS), pointers stored with plain assignments while the
 * collector marks concurrently.
 * - NTHR threads each own slots of two heap tables and swap random slots between them (an
 *   object moved from the table not yet scanned into the one already scanned is found only
 *   through the written pages); every slot holds a node that carries its own address and a
 *   serial kept in the table beside it. The main thread runs GC_gcollect meanwhile. Every
 *   slot is checked when touched and all at the end.
 * - Finalizers: 1,000 dropped objects with GC_register_finalizer; GC_gcollect and
 *   GC_invoke_finalizers until 99% ran, each once.
 * - Objects: GC_base/GC_size on interior pointers, GC_REALLOC growing an array of pointers,
 *   GC_STRDUP, a size no heap can hold gives NULL, non-heap pointers give NULL/0,
 *   GC_register_my_thread on a registered thread says GC_DUPLICATE.
 * Teeth: gc_bdwgc_teeth.c (GRTDEBUG=gcnodirty=1: plain stores are not tracked).
 */
#define GC_THREADS
#include "gc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTHR 3
#define NSLOT 6000
#define FAIL(...)                          \
    do {                                   \
        fprintf(stderr, "gc_bdwgc: ");     \
        fprintf(stderr, __VA_ARGS__);      \
        fprintf(stderr, "\n");             \
        exit(1);                           \
    } while (0)

struct node {
    struct node *self;
    uint64_t serial;
    uint64_t pat;
};
struct slot {
    struct node *n;
    uint64_t serial;
};

static struct slot *A, *B;
static volatile int stop;
static uint64_t next_serial;

static uint64_t pat(uint64_t s) { return s * 0x9e3779b97f4a7c15ull | 0x8000000000000001ull; }

static struct node *node_new(void) {
    struct node *n = GC_NEW(struct node);
    if (!n) FAIL("out of memory");
    if (n->self || n->serial) FAIL("a fresh object at %p is not zero (serial %llu): it was freed while reachable", (void *)n, (unsigned long long)n->serial);
    n->self = n;
    n->serial = __atomic_add_fetch(&next_serial, 1, __ATOMIC_RELAXED);
    n->pat = pat(n->serial);
    return n;
}

static void check(const char *t, unsigned i, const struct slot *s) {
    const struct node *n = s->n;
    if (n->self != n || n->serial != s->serial || n->pat != pat(s->serial))
        FAIL("the object in table %s slot %u (serial %llu) at %p was freed while reachable: it holds serial %llu",
             t, i, (unsigned long long)s->serial, (void *)n, (unsigned long long)n->serial);
}

static __attribute__((noinline)) void swap(struct slot *x, struct slot *y) {
    struct slot t = *x;
    *x = *y;
    *y = t;
}

static void *worker(void *arg) {
    unsigned id = (unsigned)(uintptr_t)arg;
    uint64_t r = 0x2545f4914f6cdd1dull * (id + 1);
    unsigned long n = 0;
    while (!stop) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        unsigned i = (unsigned)(r % (NSLOT / NTHR)) * NTHR + id;
        unsigned j = (unsigned)((r >> 20) % (NSLOT / NTHR)) * NTHR + id;
        check("A", i, &A[i]);
        check("B", j, &B[j]);
        swap(&A[i], &B[j]);
        if ((r >> 40) % 8 == 0) {
            struct node *f = node_new();
            A[i].n = f; /* plain */
            A[i].serial = f->serial;
        }
        n++;
    }
    return (void *)n;
}

static int fin_ran[1000], fin_count;
static void fin(void *obj, void *cd) {
    uintptr_t k = (uintptr_t)cd;
    if (*(uintptr_t *)obj != k) FAIL("finalizer on a wrong object");
    if (__atomic_fetch_add(&fin_ran[k], 1, __ATOMIC_RELAXED) != 0) FAIL("finalizer %lu ran twice", (unsigned long)k);
    __atomic_fetch_add(&fin_count, 1, __ATOMIC_RELAXED);
}

static __attribute__((noinline)) void make_finalizable(void) {
    for (uintptr_t k = 0; k < 1000; k++) {
        uintptr_t *o = GC_MALLOC(64);
        if (!o) FAIL("out of memory");
        *o = k;
        GC_register_finalizer(o, fin, (void *)k, 0, 0);
    }
}

static void *stack_base_cb(struct GC_stack_base *sb, void *arg) {
    char here;
    if (!sb->mem_base || (char *)sb->mem_base < &here) FAIL("GC_call_with_stack_base gave %p", sb->mem_base);
    return arg;
}

int main(int argc, char **argv) {
    (void)argc;
    GC_INIT();
    long ms = getenv("GRT_STRESS_MS") ? atol(getenv("GRT_STRESS_MS")) : 1500;
    A = GC_MALLOC(NSLOT * sizeof *A);
    B = GC_MALLOC(NSLOT * sizeof *B);
    if (!A || !B) FAIL("out of memory");
    for (unsigned i = 0; i < NSLOT; i++) {
        A[i].n = node_new(), A[i].serial = A[i].n->serial;
        B[i].n = node_new(), B[i].serial = B[i].n->serial;
    }
    pthread_t th[NTHR];
    for (unsigned t = 0; t < NTHR; t++)
        if (pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t) != 0) FAIL("pthread_create");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned long cycles = 0;
    do {
        GC_gcollect();
        cycles++;
        clock_gettime(CLOCK_MONOTONIC, &t1);
    } while ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < ms);
    stop = 1;
    unsigned long swaps = 0;
    for (unsigned t = 0; t < NTHR; t++) {
        void *r;
        if (pthread_join(th[t], &r) != 0) FAIL("pthread_join");
        swaps += (unsigned long)r;
    }
    GC_gcollect();
    for (unsigned i = 0; i < NSLOT; i++) check("A", i, &A[i]), check("B", i, &B[i]);
    printf("covered: cycles=%lu swaps=%lu gc_no=%lu\n", cycles, swaps, (unsigned long)GC_get_gc_no());
    if (cycles < 3) FAIL("only %lu cycles", cycles);
    printf("ok threads and plain stores\n");

    make_finalizable();
    for (int k = 0; k < 200 && __atomic_load_n(&fin_count, __ATOMIC_RELAXED) < 990; k++) {
        GC_gcollect();
        GC_invoke_finalizers();
    }
    if (fin_count < 990) FAIL("only %d of 1000 finalizers ran", fin_count);
    printf("ok finalizers (%d ran)\n", fin_count);

    char *s = GC_STRDUP("hello, world");
    if (!s || strcmp(s, "hello, world") != 0 || GC_base(s + 3) != s || GC_size(s) < 13) FAIL("GC_STRDUP/GC_base/GC_size");
    void **arr = GC_MALLOC(4 * sizeof *arr);
    for (int i = 0; i < 4; i++) arr[i] = GC_MALLOC(16);
    for (size_t n = 8; n <= 4096; n *= 2) {
        arr = GC_REALLOC(arr, n * sizeof *arr);
        if (!arr) FAIL("GC_REALLOC");
        for (size_t i = n / 2; i < n; i++) arr[i] = GC_MALLOC(16);
        GC_gcollect();
        for (size_t i = 0; i < n; i++)
            if (GC_base(arr[i]) != arr[i]) FAIL("an object held by a reallocated array was freed");
    }
    if (GC_MALLOC(~(size_t)0 >> 1) != NULL || GC_MALLOC_ATOMIC(~(size_t)0 - 16) != NULL) FAIL("a huge allocation succeeded");
    if (GC_REALLOC(s, 0) != NULL) FAIL("GC_REALLOC(p, 0)");
    int local;
    if (GC_base(&local) || GC_size(&local) || GC_is_heap_ptr(argv) || !GC_is_heap_ptr(arr)) FAIL("queries on non-heap pointers");
    struct GC_stack_base sb;
    if (GC_get_stack_base(&sb) != GC_SUCCESS || GC_register_my_thread(&sb) != GC_DUPLICATE || !GC_thread_is_registered())
        FAIL("registration of the main thread");
    if (GC_call_with_stack_base(stack_base_cb, &local) != &local) FAIL("GC_call_with_stack_base");
    GC_FREE(s);
    printf("ok objects\n");
    printf("PASS\n");
    return 0;
}
