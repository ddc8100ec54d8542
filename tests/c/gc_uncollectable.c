/* grt-test: exit=0 stdout="ok uncollectable objects and what they point to live" stdout="ok atomic ones live, what they hold does not" stdout="ok freed ones are collected" stdout="ok aligned objects" stdout="ok every finalizer run once" stdout="ok bad input" stdout="PASS" stderr="grt: grt_free:" stderr="grt: grt_alloc_aligned:" env="GRTMAXPROCS=2"
 *
 * Uncollectable, aligned and explicitly freed objects, and finalizers run on demand:
 * - 1,000 uncollectable objects, each the only holder of a tracked child (GRT_STORE), that
 *   the program keeps only as hidden pointers: both live through 20 cycles with garbage
 *   between them (checked, and weak pointers to them never clear);
 * - 1,000 atomic uncollectable objects holding a child's address: they live, the children
 *   die (99% of the weak pointers to them clear: the contents are not scanned);
 * - grt_free on half the scanned ones: those (and their children) are collected (99%),
 *   the others live;
 * - grt_alloc_aligned for every power of two from 1 to 4 MiB and sizes from 1 byte to
 *   40 KB: aligned, zeroed, n writable bytes inside one object (its start up to 2 MiB),
 *   intact through collections;
 * - 50 reachable objects with finalizers: grt_run_all_finalizers runs each once, now (on the
 *   calling goroutine, or the finalizer goroutine takes some), and never again;
 * - bad input: grt_free of a stack address or an interior pointer, alignments 0, 3, 24.
 */
#include "gc_tobj.h"

#define N 1000

struct ubox {
    struct tobj *child;
    uint64_t serial;
};

static uintptr_t hidden_u[N], hidden_a[N];
static grt_weak *wu[N], *wc[N], *wa[N], *wac[N];

static __attribute__((noinline, noipa)) void churn(int n) {
    for (int i = 0; i < n; i++) (void)tobj_new();
}

static __attribute__((noinline, noipa)) void make(void) {
    for (int i = 0; i < N; i++) {
        struct ubox *u = grt_alloc_uncollectable(sizeof *u);
        CHECK(u != 0 && u->child == 0);
        struct tobj *c = tobj_new();
        GRT_STORE(&u->child, c);
        u->serial = c->serial;
        hidden_u[i] = ~(uintptr_t)u;
        CHECK((wu[i] = grt_weak_make(u)) != 0);
        CHECK((wc[i] = grt_weak_make(c)) != 0);

        struct ubox *a = grt_alloc_uncollectable_atomic(sizeof *a);
        CHECK(a != 0);
        struct tobj *d = tobj_new();
        a->child = d; /* an atomic object: no barrier, and no reference */
        a->serial = d->serial;
        hidden_a[i] = ~(uintptr_t)a;
        CHECK((wa[i] = grt_weak_make(a)) != 0);
        CHECK((wac[i] = grt_weak_make(d)) != 0);
    }
}

static int cleared(grt_weak **w, int from, int to) {
    int n = 0;
    for (int i = from; i < to; i++) n += grt_weak_get(w[i]) == 0;
    return n;
}

static void uncollectable(void) {
    make();
    for (int c = 0; c < 20; c++) {
        churn(2000);
        CHECK_EQ(grt_gc(), GRT_OK);
        for (int i = 0; i < N; i++) {
            struct ubox *u = (struct ubox *)~hidden_u[i];
            CHECK(grt_weak_get(wu[i]) == u);
            tobj_check("gc_uncollectable", " (child of an uncollectable object)", (unsigned)i,
                       u->child, u->serial);
            CHECK(grt_weak_get(wa[i]) == (void *)~hidden_a[i]);
        }
    }
    t_puts(1, "ok uncollectable objects and what they point to live\n");
    int dead = cleared(wac, 0, N);
    t_puts(1, "atomic");
    t_put_kv("children_cleared", (uint64_t)dead);
    t_puts(1, "\n");
    CHECK(dead >= N - N / 100);
    t_puts(1, "ok atomic ones live, what they hold does not\n");

    for (int i = 0; i < N / 2; i++) CHECK_EQ(grt_free((void *)~hidden_u[i]), GRT_OK);
    for (int c = 0; c < 5; c++) {
        churn(2000);
        CHECK_EQ(grt_gc(), GRT_OK);
    }
    int freed = cleared(wu, 0, N / 2), children = cleared(wc, 0, N / 2);
    t_puts(1, "freed");
    t_put_kv("collected", (uint64_t)freed);
    t_put_kv("children_collected", (uint64_t)children);
    t_puts(1, "\n");
    CHECK(freed >= N / 2 - N / 200 && children >= N / 2 - N / 200);
    CHECK_EQ(cleared(wu, N / 2, N), 0);
    CHECK_EQ(cleared(wc, N / 2, N), 0);
    t_puts(1, "ok freed ones are collected\n");
}

#define NALIGN 23 /* 1 .. 4 MiB */
static const size_t sizes[] = {1, 24, 100, 1000, 5000, 40000};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void aligned(void) {
    unsigned char **keep = grt_alloc(NALIGN * NSIZES * sizeof *keep);
    CHECK(keep != 0);
    for (int k = 0; k < NALIGN; k++) {
        size_t align = (size_t)1 << k;
        for (unsigned j = 0; j < NSIZES; j++) {
            size_t n = sizes[j];
            unsigned char *p = grt_alloc_aligned(align, n);
            CHECK(p != 0);
            CHECK(((uintptr_t)p & (align - 1)) == 0);
            unsigned char *base = grt_base(p);
            CHECK(base != 0);
            if (align <= (2u << 20)) CHECK(base == p);
            CHECK((size_t)(p - base) + n <= grt_size(base));
            for (size_t b = 0; b < n; b++) CHECK(p[b] == 0);
            for (size_t b = 0; b < n; b++) p[b] = (unsigned char)(k * 7 + j + b);
            GRT_STORE(&keep[k * NSIZES + j], p);
        }
    }
    for (int c = 0; c < 3; c++) {
        churn(2000);
        CHECK_EQ(grt_gc(), GRT_OK);
    }
    for (int k = 0; k < NALIGN; k++)
        for (unsigned j = 0; j < NSIZES; j++)
            for (size_t b = 0; b < sizes[j]; b++)
                CHECK(keep[k * NSIZES + j][b] == (unsigned char)(k * 7 + j + b));
    t_puts(1, "ok aligned objects\n");
}

static int ran[50];
static void fin(void *obj, void *arg) {
    (void)obj;
    __atomic_fetch_add(&ran[(uintptr_t)arg], 1, __ATOMIC_RELEASE);
}

static void finalize_all(void) {
    struct tobj **keep = grt_alloc(50 * sizeof *keep);
    CHECK(keep != 0);
    for (int i = 0; i < 50; i++) {
        GRT_STORE(&keep[i], tobj_new());
        CHECK_EQ(grt_set_finalizer(keep[i], fin, (void *)(uintptr_t)i), GRT_OK);
    }
    int n = grt_run_all_finalizers();
    CHECK(n >= 0 && n <= 50);
    /* The finalizer goroutine may have taken some of them (and be running one): all 50 ran
     * within a second, each once, and never again. */
    int all = 0;
    for (int t = 0; t < 1000 && !all; t++) {
        all = 1;
        for (int i = 0; i < 50; i++) all &= __atomic_load_n(&ran[i], __ATOMIC_ACQUIRE) == 1;
        if (!all) grt_sleep_ns(1000000);
    }
    for (int c = 0; c < 3; c++) CHECK_EQ(grt_gc(), GRT_OK);
    (void)grt_run_finalizers();
    for (int i = 0; i < 50; i++) CHECK_EQ(ran[i], 1);
    t_puts(1, "ok every finalizer run once\n");
}

static void bad_input(void) {
    int local;
    CHECK_EQ(grt_free(&local), GRT_EINVAL);
    char *o = grt_alloc(64);
    CHECK_EQ(grt_free(o + 8), GRT_EINVAL);
    CHECK_EQ(grt_free(0), GRT_OK);
    CHECK(grt_alloc_aligned(0, 8) == 0);
    CHECK(grt_alloc_aligned(3, 8) == 0);
    CHECK(grt_alloc_aligned(24, 8) == 0);
    t_puts(1, "ok bad input\n");
}

static void main_g(void *arg) {
    (void)arg;
    uncollectable();
    aligned();
    finalize_all();
    bad_input();
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
