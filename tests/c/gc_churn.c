/* grt-test: exit=0 stdout="ok live list intact" stdout="ok heap stays bounded" stdout="ok everything but the live set is freed" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * The heap in use stays bounded while the collector runs cycle after cycle under churn.
 *
 * A mutator goroutine keeps a live set: a linked list of 1,000 nodes of 64 bytes (its head in
 * a global), whose every node carries its index, a generation and a payload computed from
 * both. Once per completed cycle (never more: the garbage allocated per cycle stays
 * bounded) it walks the list, checks every node, and replaces a tenth of them piece by piece
 * (new node linked in with GRT_STORE, old one dropped), then allocates ~100 KiB of garbage:
 * 100 objects of 16..2048 bytes (scanned and atomic, some linked to each other, some holding
 * NULL, a static address or an interior pointer stored with GRT_STORE), a 48 KiB large
 * object, every 64th time a 1 MiB one and every 1024th time a 3 MiB one (a mapping of its
 * own).
 *
 * Meanwhile a GC goroutine forces 10,000 cycles with grt_gc() (GRTTEST_GC_CYCLES=n
 * overrides; if a time budget of 25 s, GRTTEST_GC_BUDGET_MS, runs out first, as it may under
 * emulation, at least 2,000 must have been done), and after each one checks
 *     heap_inuse <= 4 x live set + 8 MiB
 * (what can be in use after a cycle: the live set, the nodes and garbage allocated while
 * that cycle ran, and one step's garbage since), and heap_mapped <= 64 MiB. It prints the
 * largest values seen, the cycles done and the collector's counters.
 *
 * Finally, with the mutator stopped and two more cycles, nmalloc - nfree grew by at most
 * 1,000 objects over the whole run (everything but the live set was freed, up to a little
 * conservative retention), and heap_inuse is within 1 MiB of the live set.
 */
#include "check.h"

#define NOINLINE __attribute__((noinline, noipa))
#define US 1000LL
#define MS 1000000LL

#define NNODES 1000
#define REPLACE_EVERY 10 /* a tenth of the nodes per step */
#define NGARBAGE 100
#define LIVE_BYTES ((uint64_t)NNODES * sizeof(struct node))
#define INUSE_BOUND (4 * LIVE_BYTES + (8u << 20))
#define MAPPED_BOUND (64ull << 20)
#define MIN_CYCLES 2000

struct node {
    struct node *next;
    uint64_t id;
    uint64_t gen;
    uint64_t pay[5];
};

static struct node *head;
static uint64_t gens[NNODES];

static inline uint64_t pat(uint64_t id, uint64_t gen, uint64_t i) {
    uint64_t x = id * 0x9e3779b97f4a7c15ull + gen * 0xd1b54a32d192ed03ull + i;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    return x | 0x8000000000000001ull; /* never a heap address */
}

static __attribute__((noreturn)) void fail_node(uint64_t idx, const struct node *n, const char *what, uint64_t got,
                      uint64_t want) {
    t_puts(2, "gc_churn: list node ");
    t_putu(2, idx, 10);
    t_puts(2, " at 0x");
    t_putu(2, (uintptr_t)n, 16);
    t_puts(2, " was freed or overwritten: ");
    t_puts(2, what);
    t_puts(2, " is 0x");
    t_putu(2, got, 16);
    t_puts(2, ", want 0x");
    t_putu(2, want, 16);
    t_puts(2, "\n");
    grt_exit(1);
}

static struct node *new_node(uint64_t id, uint64_t gen) {
    struct node *n = grt_alloc(sizeof *n);
    CHECK(n != 0);
    CHECK(n->next == 0 && n->id == 0 && n->gen == 0 && n->pay[0] == 0 && n->pay[4] == 0);
    n->id = id;
    n->gen = gen;
    for (int i = 0; i < 5; i++) n->pay[i] = pat(id, gen, (uint64_t)i);
    return n;
}

/* Walks the list, checking every node; replaces those with id % REPLACE_EVERY == which. */
static NOINLINE void walk_and_replace(uint64_t which) {
    struct node **link = &head;
    uint64_t i = 0;
    for (struct node *n = head; n; i++) {
        if (i >= NNODES) fail_node(i, n, "list length", i + 1, NNODES);
        if (n->id != i) fail_node(i, n, "id", n->id, i);
        if (n->gen != gens[i]) fail_node(i, n, "gen", n->gen, gens[i]);
        for (int k = 0; k < 5; k++)
            if (n->pay[k] != pat(i, gens[i], (uint64_t)k))
                fail_node(i, n, "payload", n->pay[k], pat(i, gens[i], (uint64_t)k));
        if (i % REPLACE_EVERY == which) {
            struct node *r = new_node(i, gens[i] + 1);
            GRT_STORE(&r->next, n->next);
            GRT_STORE(link, r); /* link is &head or the previous node's next */
            gens[i]++;
            n = r;
        }
        link = &n->next;
        n = n->next;
    }
    if (i != NNODES) fail_node(i, 0, "list length", i, NNODES);
}

static int static_thing;

static NOINLINE void make_garbage(uint64_t step) {
    void **prev = 0;
    for (int i = 0; i < NGARBAGE; i++) {
        size_t size = (size_t)16 << ((step + (uint64_t)i) % 8); /* 16 .. 2048 */
        size += (size_t)((i * 8) % 24);
        if (i % 3 == 0) {
            char *p = grt_alloc_atomic(size);
            CHECK(p != 0);
            CHECK(p[0] == 0 && p[size - 1] == 0);
            p[0] = p[size - 1] = 1;
        } else {
            void **p = grt_alloc(size < 32 ? 32 : size);
            CHECK(p != 0);
            CHECK(p[0] == 0 && p[1] == 0 && p[3] == 0);
            GRT_STORE(&p[0], (void *)prev);              /* garbage -> garbage */
            GRT_STORE(&p[1], (void *)0);
            GRT_STORE(&p[2], (void *)&static_thing);     /* not a heap pointer */
            GRT_STORE(&p[3], (void *)((char *)head + 8)); /* interior pointer into live data */
            prev = p;
        }
    }
    char *big = grt_alloc(48u << 10);
    CHECK(big != 0);
    CHECK(big[0] == 0 && big[(48u << 10) - 1] == 0);
    big[0] = big[(48u << 10) - 1] = 1;
    if (step % 64 == 63) {
        char *p = grt_alloc_atomic(1u << 20);
        CHECK(p != 0);
        CHECK(p[0] == 0 && p[(1u << 20) - 1] == 0);
        p[0] = p[(1u << 20) - 1] = 1;
    }
    if (step % 1024 == 1023) {
        char *p = grt_alloc(3u << 20);
        CHECK(p != 0);
        CHECK(p[0] == 0 && p[(3u << 20) - 1] == 0);
        p[0] = p[(3u << 20) - 1] = 1;
    }
}

/* ---- the goroutines ----------------------------------------------------------------------- */

static int done;
static uint64_t steps;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;
static uint64_t ncycles = 10000, budget_ms = 25000;

static void mutator(void *arg) {
    (void)arg;
    uint64_t last = ~0ull;
    while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
        struct grt_gc_stats st;
        CHECK_EQ(grt_gc_stats(&st), GRT_OK);
        if (st.cycles == last) {
            CHECK_EQ(grt_sleep_ns(20 * US), GRT_OK);
            continue;
        }
        last = st.cycles;
        walk_and_replace(steps % REPLACE_EVERY);
        make_garbage(steps);
        __atomic_store_n(&steps, steps + 1, __ATOMIC_RELEASE);
    }
    walk_and_replace(~0ull); /* check only */
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static uint64_t cycles_done, max_inuse, max_mapped, elapsed_ms;
static int budget_hit;

static void gc_goroutine(void *arg) {
    (void)arg;
    struct grt_gc_stats a, st, b;
    CHECK_EQ(grt_gc_stats(&a), GRT_OK);
    uint64_t t0 = grt_nanotime();
    uint64_t i = 0;
    for (; i < ncycles; i++) {
        CHECK_EQ(grt_gc(), GRT_OK);
        CHECK_EQ(grt_gc_stats(&st), GRT_OK);
        if (st.heap_inuse > max_inuse) max_inuse = st.heap_inuse;
        if (st.heap_mapped > max_mapped) max_mapped = st.heap_mapped;
        if (st.heap_inuse > INUSE_BOUND || st.heap_mapped > MAPPED_BOUND) {
            t_puts(2, "gc_churn: after cycle ");
            t_putu(2, i + 1, 10);
            t_puts(2, ": heap_inuse ");
            t_putu(2, st.heap_inuse, 10);
            t_puts(2, " (bound ");
            t_putu(2, INUSE_BOUND, 10);
            t_puts(2, "), heap_mapped ");
            t_putu(2, st.heap_mapped, 10);
            t_puts(2, " (bound ");
            t_putu(2, MAPPED_BOUND, 10);
            t_puts(2, ")\n");
            grt_exit(1);
        }
        if ((grt_nanotime() - t0) / MS > budget_ms && i + 1 >= MIN_CYCLES) {
            budget_hit = 1;
            i++;
            break;
        }
    }
    CHECK_EQ(grt_gc_stats(&b), GRT_OK);
    CHECK(b.cycles - a.cycles >= i); /* every grt_gc ran a full cycle of its own */
    cycles_done = i;
    elapsed_ms = (grt_nanotime() - t0) / MS;
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void main_g(void *arg) {
    (void)arg;
    CHECK_EQ(grt_maxprocs(), 2);
    for (uint64_t i = NNODES; i-- > 0;) { /* built back to front */
        struct node *n = new_node(i, 0);
        GRT_STORE(&n->next, head);
        head = n;
    }
    walk_and_replace(~0ull);
    CHECK_EQ(grt_gc(), GRT_OK);
    struct grt_gc_stats a;
    CHECK_EQ(grt_gc_stats(&a), GRT_OK);
    CHECK(a.heap_goal > 0); /* GRTGC is not off */

    CHECK_EQ(grt_wg_add(&wg, 2), GRT_OK);
    CHECK_EQ(grt_go(mutator, 0), GRT_OK);
    CHECK_EQ(grt_go(gc_goroutine, 0), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    walk_and_replace(~0ull);
    t_puts(1, "ok live list intact\n");

    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    t_puts(1, "gc_churn:");
    t_put_kv("cycles", cycles_done);
    t_put_kv("all_cycles", st.cycles - a.cycles);
    t_put_kv("steps", steps);
    t_put_kv("elapsed_ms", elapsed_ms);
    t_put_kv("budget_hit", (uint64_t)budget_hit);
    t_put_kv("max_heap_inuse", max_inuse);
    t_put_kv("bound", INUSE_BOUND);
    t_put_kv("max_heap_mapped", max_mapped);
    t_put_kv("barriers_installed", st.barriers_installed);
    t_put_kv("barriers_hit", st.barriers_hit);
    t_put_kv("frames_scanned", st.frames_scanned);
    t_put_kv("frames_rescanned", st.frames_rescanned);
    t_put_kv("pause_total_ns", st.pause_total_ns);
    t_put_kv("pause_max_ns", st.pause_max_ns);
    t_put_kv("last_sweep_ns", st.last_sweep_ns);
    t_puts(1, "\n");
    CHECK(cycles_done == ncycles || (budget_hit && cycles_done >= MIN_CYCLES));
    CHECK(steps >= cycles_done / 100); /* the heap really churned */
    CHECK(steps >= 10);
    t_puts(1, "ok heap stays bounded\n");

    /* Mutator gone: all it allocated but the live list is garbage. */
    CHECK_EQ(grt_gc(), GRT_OK);
    CHECK_EQ(grt_gc(), GRT_OK);
    struct grt_gc_stats z;
    CHECK_EQ(grt_gc_stats(&z), GRT_OK);
    uint64_t dm = z.nmalloc - a.nmalloc, df = z.nfree - a.nfree;
    t_puts(1, "after:");
    t_put_kv("nmalloc", dm);
    t_put_kv("nfree", df);
    t_put_kv("heap_inuse", z.heap_inuse);
    t_put_kv("live", LIVE_BYTES);
    t_puts(1, "\n");
    CHECK(dm >= steps * NGARBAGE);
    /* The live list (1000 nodes), plus a little slack: the collector is conservative, and a
     * stale word (a dead register value on some stack) may keep a few objects, even one of
     * the 3 MiB ones, alive for a while. A leak would keep ~steps * NGARBAGE of them. */
    CHECK(df + 1000 + 64 >= dm);
    CHECK(z.heap_inuse <= a.heap_inuse + (8u << 20));
    t_puts(1, "ok everything but the live set is freed\n");
}

/* GRTTEST_GC_CYCLES=n / GRTTEST_GC_BUDGET_MS=n in the environment override the defaults. */
int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    ncycles = t_env_u64(envp, "GRTTEST_GC_CYCLES", ncycles);
    budget_ms = t_env_u64(envp, "GRTTEST_GC_BUDGET_MS", budget_ms);
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
