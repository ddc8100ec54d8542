/* grt-test: exit=0 stdout="ok the heap's rescan on two CPUs loses nothing" stdout="ok the finalizers' first pass on two CPUs loses nothing" stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcparall=1,gcfinatmarkterm=1"
 *
 * Mark termination's helper thread (gc/mgcpar.rs): the parts of mark termination that grow
 * with the heap are shared between the collector and a helper on another CPU, item by item.
 * The test-only GRTDEBUG=gcparall=1 makes every such job wake the helper and wait for it to
 * join, so that it takes items in every cycle (under qemu too); the test checks that it did
 * (grt_gc_stats' mark_helper_jobs).
 *
 * 1. The heap's rescan (plain-store mode's rescan form: every marked object read again at
 *    mark termination, by heap parts of 256 KiB). NT tables of tracked objects, 1 MiB in
 *    all, hang from globals. Two mutator goroutines swap random slots between tables with
 *    plain stores, and now and then put a fresh object in a slot, while the main goroutine
 *    runs cycles back to back. An object moved into a table already scanned is found only
 *    by the rescan of that table's part, whichever marker reads it; one that is lost is
 *    freed and caught by its serial once handed out again ("was freed while reachable").
 * 2. The finalizers' first pass (runs of finalizer spans). NPAR parents, 512 KiB of them,
 *    each the only holder of a tracked child, get finalizers and are dropped. The pass marks
 *    each child from its parent's contents; a child left unmarked has its long link cleared,
 *    which its parent's finalizer checks first ("freed while reachable"). Mark termination
 *    makes this pass only where plain stores go unseen, or with the concurrent pass off
 *    (mfinal.rs markroot_spans): GRTDEBUG=gcfinatmarkterm=1 turns it off here.
 *
 * Teeth (GRTDEBUG=gcparlose=1: the helper claims items and marks nothing from them):
 * gc_parmark_teeth.c, part 1 alone (GRT_PARMARK_FIN=0), must fail with "while reachable";
 * gc_parmark_fin_teeth.c, part 2 alone (GRT_STRESS_MS=0), with "freed while reachable from
 * its parent".
 */
#include "gc_tobj.h"
#include "tsys.h"

#define NOINLINE __attribute__((noinline, noipa))
#define NMUT 2
#define NT 8
#define NSLOT 8192 /* 128 KiB per table */
#define NPAR 16384

struct slot {
    struct tobj *o;
    uint64_t serial;
};

static struct slot *T[NT]; /* heap tables, reachable from here */
static volatile int stop;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;
static uint64_t swaps[NMUT], fresh[NMUT];

static void check(unsigned t, unsigned i) {
    tobj_check("gc_parmark", " (a table's)", t * NSLOT + i, T[t][i].o, T[t][i].serial);
}

/* A plain swap of two slots: no barrier. */
static NOINLINE void swap(struct slot *x, struct slot *y) {
    struct slot t = *x;
    *x = *y;
    *y = t;
}

static void mutator(void *arg) {
    unsigned id = (unsigned)(uintptr_t)arg;
    uint64_t rng = 0x9e3779b97f4a7c15ull * (id + 1);
    uint64_t n = 0;
    while (!stop) {
        /* Slots i with i % NMUT == id are this mutator's, in every table. */
        unsigned t1 = (unsigned)(tobj_rnd(&rng) % NT), t2 = (unsigned)(tobj_rnd(&rng) % NT);
        unsigned i1 = (unsigned)(tobj_rnd(&rng) % (NSLOT / NMUT)) * NMUT + id;
        unsigned i2 = (unsigned)(tobj_rnd(&rng) % (NSLOT / NMUT)) * NMUT + id;
        check(t1, i1);
        check(t2, i2);
        swap(&T[t1][i1], &T[t2][i2]);
        if (++n % 8 == 0) {
            struct tobj *o = tobj_new();
            T[t1][i1].serial = o->serial;
            T[t1][i1].o = o; /* plain store; the old object becomes garbage */
            fresh[id]++;
        }
        swaps[id]++;
        if (n % 64 == 0) grt_yield();
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static uint64_t helper_jobs(void) {
    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    return st.mark_helper_jobs;
}

static NOINLINE void heap_rescan(uint64_t ms) {
    CHECK_EQ(grt_gc_set_plain_stores(GRT_PLAIN_STORES_RESCAN), GRT_OK);
    for (unsigned t = 0; t < NT; t++) {
        T[t] = grt_alloc(NSLOT * sizeof *T[t]);
        CHECK(T[t] != 0);
        for (unsigned i = 0; i < NSLOT; i++) {
            struct tobj *o = tobj_new();
            T[t][i].serial = o->serial;
            T[t][i].o = o;
        }
    }
    uint64_t jobs0 = helper_jobs();
    struct grt_gc_stats st0;
    CHECK_EQ(grt_gc_stats(&st0), GRT_OK);
    CHECK_EQ(grt_wg_add(&wg, NMUT), GRT_OK);
    for (unsigned id = 0; id < NMUT; id++) CHECK_EQ(grt_go(mutator, (void *)(uintptr_t)id), GRT_OK);
    uint64_t end = grt_nanotime() + ms * 1000000ull;
    while (grt_nanotime() < end) CHECK_EQ(grt_gc(), GRT_OK);
    stop = 1;
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(grt_gc(), GRT_OK);
    CHECK_EQ(grt_gc(), GRT_OK);
    for (unsigned t = 0; t < NT; t++)
        for (unsigned i = 0; i < NSLOT; i++) check(t, i);
    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    uint64_t nswaps = 0, nfresh = 0;
    for (int id = 0; id < NMUT; id++) nswaps += swaps[id], nfresh += fresh[id];
    t_puts(1, "heap rescan:");
    t_put_kv("cycles", st.cycles - st0.cycles);
    t_put_kv("swaps", nswaps);
    t_put_kv("fresh", nfresh);
    t_put_kv("full_rescans", st.dirty_full_rescans - st0.dirty_full_rescans);
    t_put_kv("par_jobs", st.mark_par_jobs - st0.mark_par_jobs);
    t_put_kv("helper_jobs", st.mark_helper_jobs - jobs0);
    t_puts(1, "\n");
    CHECK(st.cycles - st0.cycles >= 3);
    CHECK(st.dirty_full_rescans - st0.dirty_full_rescans >= 3);
    /* Every cycle's rescan was a job, and the helper took part in most (it is waited for up
     * to 100 ms; one may miss on a loaded machine). */
    CHECK(st.mark_par_jobs - st0.mark_par_jobs >= st.cycles - st0.cycles);
    CHECK(st.mark_helper_jobs - jobs0 >= (st.cycles - st0.cycles) / 2);
    CHECK_EQ(grt_gc_set_plain_stores(0), GRT_OK);
    for (unsigned t = 0; t < NT; t++) T[t] = 0;
    t_puts(1, "ok the heap's rescan on two CPUs loses nothing\n");
}

struct parent {
    uint64_t id;
    struct tobj *child;
    uint64_t child_serial;
};

/* A long link to each parent's child (hidden: no pointer for the collector). */
static void *child_link[NPAR];
static unsigned char ran[NPAR];
static int runs;

static void fin(void *obj, void *arg) {
    struct parent *p = obj;
    CHECK(arg == (void *)(uintptr_t)(p->id + 1));
    CHECK(p->id < NPAR);
    if (child_link[p->id] == 0) {
        t_puts(2, "gc_parmark: the child of finalized parent ");
        t_putu(2, p->id, 10);
        t_puts(2, " was found unreachable (its long link was cleared) and freed while "
                  "reachable from its parent, kept for this finalizer\n");
        grt_exit(1);
    }
    tobj_check("gc_parmark", " (a finalized parent's child)", (unsigned)p->id, p->child,
               p->child_serial);
    CHECK_EQ(ran[p->id], 0);
    ran[p->id] = 1;
    __atomic_fetch_add(&runs, 1, __ATOMIC_RELAXED);
}

static NOINLINE void make_parents(void) {
    for (uint64_t id = 0; id < NPAR; id++) {
        struct parent *p = grt_alloc(sizeof *p);
        CHECK(p != 0);
        p->id = id;
        struct tobj *c = tobj_new();
        p->child_serial = c->serial;
        GRT_STORE(&p->child, c);
        child_link[id] = (void *)GRT_HIDE_POINTER(c);
        CHECK_EQ(grt_link_register(&child_link[id], c, GRT_LINK_LONG), GRT_OK);
        CHECK_EQ(grt_set_finalizer(p, fin, (void *)(uintptr_t)(id + 1)), GRT_OK);
    }
}

static NOINLINE void churn(int n) {
    for (int i = 0; i < n; i++) (void)tobj_new();
}

static NOINLINE void finalizer_pass(void) {
    uint64_t jobs0 = helper_jobs();
    make_parents();
    /* A conservative collector may keep a few dead objects through stale words: 99% must be
     * finalized. */
    int c = 0;
    for (; c < 200 && __atomic_load_n(&runs, __ATOMIC_RELAXED) < NPAR; c++) {
        churn(2000);
        CHECK_EQ(grt_gc(), GRT_OK);
        grt_run_finalizers();
        grt_sleep_ns(1000000);
    }
    uint64_t jobs = helper_jobs() - jobs0;
    t_puts(1, "finalizers:");
    t_put_kv("ran", (uint64_t)runs);
    t_put_kv("of", NPAR);
    t_put_kv("cycles", (uint64_t)c);
    t_put_kv("helper_jobs", jobs);
    t_puts(1, "\n");
    CHECK(runs >= NPAR - NPAR / 100);
    CHECK(jobs >= 1);
    t_puts(1, "ok the finalizers' first pass on two CPUs loses nothing\n");
}

static uint64_t fin_part = 1;

static void main_g(void *arg) {
    uint64_t ms = (uint64_t)(uintptr_t)arg;
    if (ms != 0) heap_rescan(ms);
    if (fin_part) finalizer_pass();
    t_puts(1, "PASS\n");
}

/* GRT_STRESS_MS=n in the environment: run the swaps n ms (0: not at all, no part 1).
 * GRT_PARMARK_FIN=0: no part 2. */
int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    uint64_t ms = t_env_u64(envp, "GRT_STRESS_MS", 1500);
    fin_part = t_env_u64(envp, "GRT_PARMARK_FIN", 1);
    CHECK_EQ(grt_main(main_g, (void *)(uintptr_t)ms), GRT_OK);
    return 0;
}
