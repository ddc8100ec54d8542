/* grt-test: exit=0 stdout="ok marks after a cycle" stdout="ok enumeration" stdout="ok scanned or atomic" stdout="PASS" stderr="grt: grt_gc_enumerate:" env="GRTMAXPROCS=2" env="GRTGC=off"
 *
 * The collector's view of objects (grt_gc_is_marked, grt_gc_set_mark_bit, grt_gc_enumerate,
 * grt_gc_scanned), with GRTGC=off so that only grt_gc runs cycles:
 * - after a cycle, 1,000 kept objects read marked, and 99% of 1,000 dropped ones do not
 *   (they may be swept already: then they are no object at all); a kept object given
 *   grt_gc_set_mark_bit stays marked and intact through more cycles;
 * - grt_gc_enumerate sees every kept object exactly once, at its start and with its size,
 *   and no dropped object that reads unmarked; called under grt_gc_lock_links while 20
 *   cycles run, it never waits for them (they wait for the lock);
 * - grt_gc_scanned: 1 for grt_alloc, 0 for grt_alloc_atomic, -1 for a stack address; and a
 *   NULL callback is refused.
 */
#include "gc_tobj.h"

#define N 1000

static struct tobj **keep;
static uint64_t serial[N];
static uintptr_t dropped[N];
static unsigned char seen[N];
static int strays, bad;

static __attribute__((noinline, noipa)) void make(void) {
    keep = grt_alloc(N * sizeof *keep);
    CHECK(keep != 0);
    for (int i = 0; i < N; i++) {
        struct tobj *o = tobj_new();
        serial[i] = o->serial;
        GRT_STORE(&keep[i], o);
        dropped[i] = ~(uintptr_t)tobj_new();
    }
}

/* Under the heap lock: no grt call but lookups. */
static void visit(void *obj, size_t size, void *arg) {
    (void)arg;
    if (grt_base(obj) != obj || grt_size(obj) != size) bad++;
    struct tobj *t = obj;
    if (size == sizeof(struct tobj) && t->self == (uintptr_t)t && t->serial >= 1 &&
        t->serial <= 2 * N + 1) {
        for (int i = 0; i < N; i++)
            if (keep[i] == t) seen[i]++;
    }
    for (int i = 0; i < N; i++)
        if ((uintptr_t)obj == ~dropped[i]) strays++;
}

static grt_waitgroup cwg = GRT_WAITGROUP_INIT;
static int cycles_done;
static void cycles(void *arg) {
    (void)arg;
    for (int c = 0; c < 20; c++) CHECK_EQ(grt_gc(), GRT_OK);
    __atomic_store_n(&cycles_done, 1, __ATOMIC_RELEASE);
    CHECK_EQ(grt_wg_done(&cwg), GRT_OK);
}
static void count(void *obj, size_t size, void *arg) {
    (void)obj;
    (void)size;
    (void)arg;
}

static void main_g(void *arg) {
    (void)arg;
    make();
    CHECK_EQ(grt_gc(), GRT_OK);
    int unmarked = 0;
    for (int i = 0; i < N; i++) {
        CHECK_EQ(grt_gc_is_marked(keep[i]), 1);
        CHECK_EQ(grt_gc_is_marked((char *)keep[i] + 8), 1); /* interior */
        unmarked += grt_gc_is_marked((void *)~dropped[i]) == 0;
    }
    t_puts(1, "marks");
    t_put_kv("dropped_unmarked", (uint64_t)unmarked);
    t_puts(1, "\n");
    CHECK(unmarked >= N - N / 100);
    for (int i = 0; i < N; i += 2) grt_gc_set_mark_bit(keep[i]);
    for (int c = 0; c < 2; c++) CHECK_EQ(grt_gc(), GRT_OK);
    for (int i = 0; i < N; i++) {
        CHECK_EQ(grt_gc_is_marked(keep[i]), 1);
        tobj_check("gc_marks", " (kept)", (unsigned)i, keep[i], serial[i]);
    }
    int local;
    CHECK_EQ(grt_gc_is_marked(&local), 0);
    t_puts(1, "ok marks after a cycle\n");

    /* The dropped ones that still read marked (kept by a stale word) may be enumerated. */
    int still = 0;
    for (int i = 0; i < N; i++) still += grt_gc_is_marked((void *)~dropped[i]);
    int64_t n = grt_gc_enumerate(visit, 0);
    t_puts(1, "enumerate");
    t_put_kv("objects", (uint64_t)n);
    t_put_kv("dropped_seen", (uint64_t)strays);
    t_puts(1, "\n");
    CHECK(n >= N);
    CHECK_EQ(bad, 0);
    for (int i = 0; i < N; i++) CHECK_EQ(seen[i], 1);
    CHECK(strays <= still);
    CHECK_EQ(grt_gc_enumerate(0, 0), GRT_EINVAL);

    /* Under the links' lock (bdwgc programs enumerate under their allocator lock) while
     * cycles run: it must not wait for the marking, which waits for the lock. */
    CHECK_EQ(grt_wg_add(&cwg, 1), GRT_OK);
    CHECK_EQ(grt_go(cycles, 0), GRT_OK);
    uint64_t under_lock = 0;
    while (!__atomic_load_n(&cycles_done, __ATOMIC_ACQUIRE)) {
        grt_gc_lock_links();
        under_lock += (uint64_t)grt_gc_enumerate(count, 0);
        grt_gc_unlock_links();
        grt_yield();
    }
    CHECK_EQ(grt_wg_wait(&cwg), GRT_OK);
    CHECK(under_lock > 0);
    t_puts(1, "ok enumeration\n");

    CHECK_EQ(grt_gc_scanned(keep[0]), 1);
    void *a = grt_alloc_atomic(100);
    CHECK_EQ(grt_gc_scanned((char *)a + 50), 0);
    CHECK_EQ(grt_gc_scanned(&local), -1);
    t_puts(1, "ok scanned or atomic\n");
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
