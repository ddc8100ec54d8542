/* grt-test: exit=0 stdout="ok before grt_main" stdout="ok grt_add_roots errors" stdout="ok grt_gc_stats(NULL)" stdout="ok grt_alloc(0) is unique" stdout="ok memory comes zeroed" stdout="ok GRT_STORE is a plain store" stdout="ok GRTGC=off" stdout="ok grt_gc from a plain thread" stdout="ok GRT_STORE of any value during cycles" stdout="PASS" stderr="grt: grt_gc:" stderr="grt: grt_add_roots:" stderr="grt: grt_gc_stats:" env="GRTMAXPROCS=2" env="GRTGC=off"
 *
 * The collector's API errors and edge cases; none of them crashes. GRTGC=off, so the only
 * cycles are the ones this test asks for.
 *   - before grt_main: grt_gc is GRT_ENOTINIT (with a "grt: grt_gc:" message), no cycle is
 *     marking (grt_gc_wbenabled is 0);
 *   - grt_add_roots: a NULL bound or lo > hi is GRT_EINVAL with a "grt: grt_add_roots:"
 *     message; an empty range (lo == hi) and an ordinary one are GRT_OK; a range with
 *     unaligned bounds is accepted or refused, but does not break the next cycle;
 *   - grt_gc_stats(NULL) is GRT_EINVAL ("grt: grt_gc_stats:");
 *   - grt_alloc(0) and grt_alloc_atomic(0) give non-NULL pointers, all different, also from
 *     the ones allocated after a cycle while the first ones are still referenced;
 *   - grt_alloc / grt_alloc_atomic memory is zeroed, also when it reuses memory that a dead
 *     object had filled with 0xff (small, page-sized, large and multi-MiB objects);
 *   - GRT_STORE with no cycle marking is a plain store (into a heap object, a local through
 *     a pointer, a global; NULL and non-heap values too) that evaluates each argument once;
 *   - GRTGC=off: heap_goal is 0 and 16 MiB of garbage starts no cycle;
 *   - grt_gc from a plain thread (grt_thread_start) runs a cycle and returns GRT_OK;
 *   - GRT_STORE of NULL, a static address, a stack address and an interior heap pointer while
 *     cycles run (a plain thread calls grt_gc 50 times) works: grt_gc_shade must ignore what
 *     is not a heap pointer.
 */
#include "check.h"

#define NOINLINE __attribute__((noinline, noipa))
#define MS 1000000LL

static struct grt_gc_stats stats(void) {
    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    return st;
}

/* ---- grt_add_roots, grt_gc_stats ------------------------------------------------------------ */

static void *root_block[16];

static void test_add_roots(void) {
    char *p = (char *)root_block;
    CHECK_EQ(grt_add_roots(0, 0), GRT_EINVAL);
    CHECK_EQ(grt_add_roots(0, p), GRT_EINVAL);
    CHECK_EQ(grt_add_roots(p, 0), GRT_EINVAL);
    CHECK_EQ(grt_add_roots(p + 8, p), GRT_EINVAL);
    CHECK_EQ(grt_add_roots(p + sizeof root_block, p), GRT_EINVAL);
    CHECK_EQ(grt_add_roots(p, p), GRT_OK); /* empty */
    CHECK_EQ(grt_add_roots(p, p + sizeof root_block), GRT_OK);
    int rc = grt_add_roots(p + 1, p + 13); /* unaligned: the header does not say */
    CHECK(rc == GRT_OK || rc == GRT_EINVAL);
    CHECK_EQ(grt_gc(), GRT_OK);
    t_puts(1, "ok grt_add_roots errors\n");

    CHECK_EQ(grt_gc_stats(0), GRT_EINVAL);
    t_puts(1, "ok grt_gc_stats(NULL)\n");
}

/* ---- grt_alloc(0) --------------------------------------------------------------------------- */

#define NZERO 100

static void check_distinct(void **a, int n) {
    for (int i = 0; i < n; i++) {
        CHECK(a[i] != 0);
        for (int j = 0; j < i; j++) CHECK(a[i] != a[j]);
    }
}

static void test_alloc_zero(void) {
    void **keep = grt_alloc(4 * NZERO * sizeof(void *)); /* scanned: keeps them alive */
    CHECK(keep != 0);
    for (int i = 0; i < NZERO; i++) {
        GRT_STORE(&keep[i], grt_alloc(0));
        GRT_STORE(&keep[NZERO + i], grt_alloc_atomic(0));
    }
    check_distinct(keep, 2 * NZERO);
    CHECK_EQ(grt_gc(), GRT_OK);
    for (int i = 0; i < NZERO; i++) {
        GRT_STORE(&keep[2 * NZERO + i], grt_alloc(0));
        GRT_STORE(&keep[3 * NZERO + i], grt_alloc_atomic(0));
    }
    check_distinct(keep, 4 * NZERO);
    t_puts(1, "ok grt_alloc(0) is unique\n");
}

/* ---- zeroed memory -------------------------------------------------------------------------- */

static const size_t sizes[] = {1, 8, 24, 100, 1000, 4096, 8192, 40000, 3u << 20};
#define NSIZES (sizeof sizes / sizeof sizes[0])
#define ROUNDS 3

static void check_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0) {
            t_puts(2, "gc_bad_input: a fresh object of ");
            t_putu(2, n, 10);
            t_puts(2, " bytes is not zeroed at byte ");
            t_putu(2, i, 10);
            t_puts(2, "\n");
            grt_exit(1);
        }
}

/* Allocates one of each size (x4 for the small ones, so whole spans get dirty), checks that
 * they are zeroed, fills them with 0xff and drops them. */
static NOINLINE void dirty_round(void) {
    for (size_t k = 0; k < NSIZES; k++) {
        int reps = sizes[k] <= 8192 ? 64 : 1;
        for (int r = 0; r < reps; r++) {
            unsigned char *a = grt_alloc(sizes[k]);
            unsigned char *b = grt_alloc_atomic(sizes[k]);
            CHECK(a != 0 && b != 0);
            check_zero(a, sizes[k]);
            check_zero(b, sizes[k]);
            for (size_t i = 0; i < sizes[k]; i++) a[i] = b[i] = 0xff;
        }
    }
}

static void test_zeroed(void) {
    for (int round = 0; round < ROUNDS; round++) {
        dirty_round();
        CHECK_EQ(grt_gc(), GRT_OK); /* the 0xff objects are garbage: their memory is reused */
    }
    t_puts(1, "ok memory comes zeroed\n");
}

/* ---- GRT_STORE as a plain store ------------------------------------------------------------- */

static void *global_slot;
static int static_thing;

static NOINLINE void store_out(void **out, void *v) { GRT_STORE(out, v); }

static void test_store_plain(void) {
    CHECK_EQ(grt_gc_wbenabled, 0); /* GRTGC=off and no grt_gc running: nothing marks */
    void **obj = grt_alloc(8 * sizeof(void *));
    CHECK(obj != 0);
    void *target = grt_alloc(64);
    CHECK(target != 0);

    GRT_STORE(&obj[0], target);
    CHECK(obj[0] == target);
    GRT_STORE(&obj[1], (char *)target + 40); /* interior pointer */
    CHECK(obj[1] == (char *)target + 40);
    GRT_STORE(&obj[2], (void *)&static_thing);
    CHECK(obj[2] == (void *)&static_thing);
    GRT_STORE(&obj[0], (void *)0);
    CHECK(obj[0] == 0);

    void *local = 0;
    store_out(&local, target);
    CHECK(local == target);
    GRT_STORE(&global_slot, target);
    CHECK(global_slot == target);

    /* Each argument is evaluated exactly once. */
    void *vals[3] = {target, (void *)&static_thing, 0};
    int i = 3, j = 0;
    GRT_STORE(&obj[i++], vals[j++]);
    CHECK_EQ(i, 4);
    CHECK_EQ(j, 1);
    CHECK(obj[3] == target);
    CHECK(obj[4] == 0);

    CHECK_EQ(grt_gc(), GRT_OK);
    CHECK_EQ(grt_gc_wbenabled, 0); /* off again once the cycle is over */
    CHECK(obj[1] == (char *)target + 40 && obj[3] == target && global_slot == target);
    t_puts(1, "ok GRT_STORE is a plain store\n");
}

/* ---- GRTGC=off ------------------------------------------------------------------------------ */

static NOINLINE void garbage(size_t total, size_t each) {
    for (size_t done = 0; done < total; done += each) {
        char *p = grt_alloc(each);
        CHECK(p != 0);
        p[0] = 1;
    }
}

static void test_gc_off(void) {
    struct grt_gc_stats a = stats();
    CHECK_EQ(a.heap_goal, 0);
    garbage(16u << 20, 4096);
    CHECK_EQ(grt_sleep_ns(20 * MS), GRT_OK); /* time for a background cycle to start, if any */
    struct grt_gc_stats b = stats();
    CHECK_EQ(b.cycles, a.cycles);
    CHECK(b.nmalloc >= a.nmalloc + (16u << 20) / 4096);
    CHECK(b.heap_inuse >= a.heap_inuse + (16u << 20)); /* nothing swept it */
    CHECK(b.heap_mapped >= b.heap_inuse);
    CHECK_EQ(grt_gc(), GRT_OK);
    struct grt_gc_stats c = stats();
    CHECK(c.cycles >= b.cycles + 1);
    CHECK(c.nfree >= b.nfree + (16u << 20) / 4096 * 9 / 10);
    CHECK(c.heap_inuse < b.heap_inuse);
    CHECK(c.nmalloc >= c.nfree);
    CHECK_EQ(c.heap_goal, 0);
    t_puts(1, "ok GRTGC=off\n");
}

/* ---- from a plain thread -------------------------------------------------------------------- */

static int thread_rc = 1, thread_done;
static uint64_t thread_cycles;
static int thread_rounds;

static void gc_thread(void *arg) {
    (void)arg;
    for (int i = 0; i < thread_rounds; i++) {
        int rc = grt_gc();
        if (rc != GRT_OK) {
            thread_rc = rc;
            break;
        }
        thread_rc = rc;
    }
    struct grt_gc_stats st;
    if (grt_gc_stats(&st) == GRT_OK) thread_cycles = st.cycles;
    __atomic_store_n(&thread_done, 1, __ATOMIC_RELEASE);
}

static grt_thread *start_gc_thread(int rounds) {
    grt_thread *t;
    thread_rounds = rounds;
    thread_rc = 1;
    __atomic_store_n(&thread_done, 0, __ATOMIC_RELEASE);
    CHECK_EQ(grt_thread_start(&t, gc_thread, 0), GRT_OK);
    return t;
}

static void test_plain_thread(void) {
    struct grt_gc_stats a = stats();
    grt_thread *t = start_gc_thread(1);
    for (int i = 0; i < 10000 && !__atomic_load_n(&thread_done, __ATOMIC_ACQUIRE); i++)
        CHECK_EQ(grt_sleep_ns(MS), GRT_OK);
    CHECK_EQ(__atomic_load_n(&thread_done, __ATOMIC_ACQUIRE), 1);
    CHECK_EQ(grt_thread_join(t), GRT_OK);
    CHECK_EQ(thread_rc, GRT_OK);
    CHECK(thread_cycles >= a.cycles + 1);
    t_puts(1, "ok grt_gc from a plain thread\n");
}

/* ---- GRT_STORE of odd values while cycles mark ---------------------------------------------- */

static NOINLINE uint64_t store_odd_values(void **obj, void *heap_obj) {
    int on_stack = 0;
    void *local = 0;
    uint64_t seen_marking = 0;
    for (uint64_t n = 0; !__atomic_load_n(&thread_done, __ATOMIC_ACQUIRE); n++) {
        seen_marking += grt_gc_wbenabled != 0;
        GRT_STORE(&obj[0], (void *)0);
        GRT_STORE(&obj[1], (void *)&static_thing);
        GRT_STORE(&obj[2], (void *)&on_stack);
        GRT_STORE(&obj[3], (char *)heap_obj + 17);
        GRT_STORE(&obj[4], heap_obj);
        GRT_STORE(&obj[5], (void *)(uintptr_t)0x10);               /* a small integer */
        GRT_STORE(&obj[6], (void *)(uintptr_t)0xdeadbeefcafe0000ull); /* not mapped */
        store_out(&local, (char *)heap_obj + 63);
        CHECK(obj[0] == 0 && obj[1] == (void *)&static_thing && obj[2] == (void *)&on_stack);
        CHECK(obj[3] == (char *)heap_obj + 17 && obj[4] == heap_obj);
        CHECK(local == (char *)heap_obj + 63);
        if (n % 64 == 63) CHECK_EQ(grt_yield(), GRT_OK);
    }
    return seen_marking;
}

static void test_store_during_cycles(void) {
    void **obj = grt_alloc(8 * sizeof(void *));
    void *heap_obj = grt_alloc(64);
    CHECK(obj != 0 && heap_obj != 0);
    unsigned char *h = heap_obj;
    for (int i = 0; i < 64; i++) h[i] = (unsigned char)(i + 1);
    grt_thread *t = start_gc_thread(50);
    uint64_t seen = store_odd_values(obj, heap_obj);
    CHECK_EQ(grt_thread_join(t), GRT_OK);
    CHECK_EQ(thread_rc, GRT_OK);
    for (int i = 0; i < 64; i++) CHECK_EQ(h[i], i + 1); /* referenced from obj and our frame */
    CHECK(obj[4] == heap_obj);
    t_puts(1, "stores that saw the write barrier on: ");
    t_putu(1, seen, 10);
    t_puts(1, "\n");
    t_puts(1, "ok GRT_STORE of any value during cycles\n");
}

static void main_g(void *arg) {
    (void)arg;
    CHECK_EQ(grt_maxprocs(), 2);
    test_add_roots();
    test_alloc_zero();
    test_zeroed();
    test_store_plain();
    test_gc_off();
    test_plain_thread();
    test_store_during_cycles();
}

int main(void) {
    CHECK_EQ(grt_gc(), GRT_ENOTINIT);
    CHECK_EQ(grt_gc_wbenabled, 0);
    t_puts(1, "ok before grt_main\n");
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
