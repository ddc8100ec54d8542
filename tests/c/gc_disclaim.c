/* grt-test: exit=0 stdout="ok kept objects are not asked" stdout="ok dropped objects are asked once and freed" stdout="ok a kept answer is asked again" stdout="ok contents are kept while the outer object is asked" stdout="ok a removed disclaim is not asked" stdout="ok bad input" stdout="ok a weak table never loses an entry it revived" stdout="PASS" stderr="grt: grt_set_disclaim:" env="GRTMAXPROCS=2"
 *
 * Disclaims (grt_set_disclaim; bdwgc's disclaim procedures):
 * - 500 objects with a disclaim, kept in an array the goroutine holds: never asked through
 *   10 cycles (the disclaim gets the argument it was set with);
 * - then dropped: 99% asked within 5 cycles, none twice, each intact when asked; answered
 *   0, 1,000 big ones (16 KiB each) are freed (heap_inuse falls), while 1,000 that answer 1
 *   forever stay (and are asked again every cycle or so);
 * - 200 that answer 1 three times, then 0: asked exactly 4 times each (99% of them), intact
 *   each time;
 * - 200 pairs outer -> inner, both with a GRT_DISCLAIM_MARK_CONTENTS disclaim: an inner one
 *   is never asked before its outer one answered 0; without the flag some inner ones are
 *   asked while their outer one is still pending (both in one cycle);
 * - a disclaim set, then removed (fn NULL): never asked;
 * - bad input: NULL, a stack address, an interior pointer, unknown flags;
 * - a weak hash table (the pattern disclaims are for; bdwgc's weakmap test does the same):
 *   entries held only through hidden pointers, 64 buckets with a lock each; a lookup that
 *   finds an entry revives it (grt_gc_set_mark_bit under the bucket's lock), a disclaim
 *   (under the same lock, trylock) removes the entries nobody revived. Three goroutines
 *   intern keys and keep some of the entries; every entry a goroutine holds must still be
 *   the table's entry for its key, while a fourth runs collections back to back for
 *   GRT_STRESS_MS (default 1000 ms).
 * Teeth: gc_disclaim_teeth.c (GRTDEBUG=gcnodisclaimrevive=1: a pending object's mark reads 0
 * even when revived, so the disclaim drops an entry a goroutine just got).
 */
#include "gc_stress.h"

#define N 500
#define NBIG 1000
#define BIG (16 << 10)
#define NKEEP 200
#define NPAIR 200

/* ---- asked once, and freed ------------------------------------------------------------ */

static uint64_t serial_of[N];
static int asked[N];
static int asked_twice;

static int drop_fn(void *obj, void *arg) {
    CHECK(arg == (void *)serial_of); /* the argument given */
    struct tobj *o = obj;
    unsigned i = (unsigned)o->pad[0];
    CHECK(i < N);
    tobj_check("gc_disclaim", " (asked)", i, o, serial_of[i]);
    if (__atomic_fetch_add(&asked[i], 1, __ATOMIC_RELAXED) != 0)
        __atomic_store_n(&asked_twice, 1, __ATOMIC_RELAXED);
    return 0;
}

static __attribute__((noinline, noipa)) struct tobj **make_dropped(void) {
    struct tobj **keep = grt_alloc(N * sizeof *keep);
    CHECK(keep != 0);
    for (int i = 0; i < N; i++) {
        struct tobj *o = tobj_new();
        o->pad[0] = (uint64_t)i;
        serial_of[i] = o->serial;
        CHECK_EQ(grt_set_disclaim(o, drop_fn, serial_of, 0), GRT_OK);
        GRT_STORE(&keep[i], o);
    }
    return keep;
}

static __attribute__((noinline, noipa)) void churn(int n) {
    for (int i = 0; i < n; i++) (void)tobj_new();
}

static int count_asked(void) {
    int n = 0;
    for (int i = 0; i < N; i++) n += __atomic_load_n(&asked[i], __ATOMIC_RELAXED) != 0;
    return n;
}

/* A cycle, then what is due run here (the finalizer goroutine may take some). */
static void cycle(void) {
    CHECK_EQ(grt_gc(), GRT_OK);
    (void)grt_run_finalizers();
}

static void asked_once(void) {
    struct tobj **keep = make_dropped();
    for (int c = 0; c < 10; c++) {
        churn(1000);
        cycle();
    }
    CHECK_EQ(count_asked(), 0);
    t_puts(1, "ok kept objects are not asked\n");
    for (int i = 0; i < N; i++) GRT_STORE(&keep[i], (struct tobj *)0);
    int at = -1;
    for (int c = 1; c <= 20 && at < 0; c++) {
        churn(1000);
        cycle();
        if (count_asked() >= N - N / 100) at = c;
    }
    t_puts(1, "asked");
    t_put_kv("of", N);
    t_put_kv("count", (uint64_t)count_asked());
    t_put_kv("after_cycles", (uint64_t)at);
    t_puts(1, "\n");
    CHECK(at > 0 && at <= 5);
    for (int c = 0; c < 5; c++) cycle();
    CHECK_EQ(__atomic_load_n(&asked_twice, __ATOMIC_RELAXED), 0);
}

static int big_go_asked, big_stay_asked;

static int big_go(void *obj, void *arg) {
    (void)arg;
    CHECK_EQ(*(uint64_t *)obj, 0x60);
    __atomic_fetch_add(&big_go_asked, 1, __ATOMIC_RELAXED);
    return 0;
}

static int big_stay(void *obj, void *arg) {
    (void)arg;
    CHECK_EQ(*(uint64_t *)obj, 0x57);
    __atomic_fetch_add(&big_stay_asked, 1, __ATOMIC_RELAXED);
    return 1;
}

static __attribute__((noinline, noipa)) void make_big(int (*fn)(void *, void *), uint64_t tag) {
    for (int i = 0; i < NBIG; i++) {
        uint64_t *p = grt_alloc_atomic(BIG);
        CHECK(p != 0);
        p[0] = tag;
        CHECK_EQ(grt_set_disclaim(p, fn, 0, 0), GRT_OK);
    }
}

static uint64_t inuse(void) {
    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    return st.heap_inuse;
}

static void freed_or_kept(void) {
    uint64_t before = inuse();
    make_big(big_go, 0x60);
    make_big(big_stay, 0x57);
    for (int c = 0; c < 8; c++) cycle();
    uint64_t after = inuse();
    t_puts(1, "big");
    t_put_kv("inuse_before_kib", before >> 10);
    t_put_kv("inuse_after_kib", after >> 10);
    t_put_kv("go_asked", (uint64_t)big_go_asked);
    t_put_kv("stay_asked", (uint64_t)big_stay_asked);
    t_puts(1, "\n");
    /* The ones that stay are all there; of the ones that go, at most 5% are left. */
    /* (Less what was in use before and died meanwhile: the earlier parts' leftovers.) */
    CHECK(after + (256u << 10) >= before + (uint64_t)NBIG * BIG);
    CHECK(after <= before + (uint64_t)NBIG * BIG + (uint64_t)NBIG * BIG / 20 + (2u << 20));
    CHECK(big_go_asked >= NBIG - NBIG / 100 && big_go_asked <= NBIG);
    /* Asked again whenever a cycle finds them unreachable: more than once each. */
    CHECK(big_stay_asked >= 2 * NBIG);
    t_puts(1, "ok dropped objects are asked once and freed\n");
}

/* ---- asked again after a kept answer ------------------------------------------------- */

static uint64_t keep_serial[NKEEP];
static int keep_asked[NKEEP];

static int keep3_fn(void *obj, void *arg) {
    (void)arg;
    struct tobj *o = obj;
    unsigned i = (unsigned)o->pad[0];
    CHECK(i < NKEEP);
    tobj_check("gc_disclaim", " (kept, asked again)", i, o, keep_serial[i]);
    int n = __atomic_add_fetch(&keep_asked[i], 1, __ATOMIC_RELAXED);
    CHECK(n <= 4);
    return n < 4;
}

static __attribute__((noinline, noipa)) void make_keep3(void) {
    for (int i = 0; i < NKEEP; i++) {
        struct tobj *o = tobj_new();
        o->pad[0] = (uint64_t)i;
        keep_serial[i] = o->serial;
        CHECK_EQ(grt_set_disclaim(o, keep3_fn, 0, 0), GRT_OK);
    }
}

static void asked_again(void) {
    make_keep3();
    int four = 0;
    for (int c = 0; c < 30 && four < NKEEP - NKEEP / 100; c++) {
        churn(500);
        cycle();
        four = 0;
        for (int i = 0; i < NKEEP; i++) four += __atomic_load_n(&keep_asked[i], __ATOMIC_RELAXED) == 4;
    }
    t_puts(1, "asked4");
    t_put_kv("count", (uint64_t)four);
    t_put_kv("of", NKEEP);
    t_puts(1, "\n");
    CHECK(four >= NKEEP - NKEEP / 100);
    t_puts(1, "ok a kept answer is asked again\n");
}

/* ---- contents kept while the outer object is asked ---------------------------------- */

struct pair_obj {
    uint64_t tag; /* 0x0 outer, 0x1 inner */
    uint64_t idx;
    struct pair_obj *inner;
    uint64_t flagged; /* 1: GRT_DISCLAIM_MARK_CONTENTS */
};

static int outer_answered[2][NPAIR];
static int inner_asked[2][NPAIR];
static int inner_early[2]; /* inner asked before its outer answered */

static int pair_fn(void *obj, void *arg) {
    (void)arg;
    struct pair_obj *p = obj;
    int f = (int)p->flagged;
    CHECK(p->idx < NPAIR && (f == 0 || f == 1));
    if (p->tag == 0) {
        CHECK(p->inner != 0 && p->inner->tag == 1 && p->inner->idx == p->idx);
        __atomic_store_n(&outer_answered[f][p->idx], 1, __ATOMIC_RELEASE);
    } else {
        CHECK_EQ(p->tag, 1);
        if (!__atomic_load_n(&outer_answered[f][p->idx], __ATOMIC_ACQUIRE))
            __atomic_fetch_add(&inner_early[f], 1, __ATOMIC_RELAXED);
        __atomic_store_n(&inner_asked[f][p->idx], 1, __ATOMIC_RELAXED);
    }
    return 0;
}

static __attribute__((noinline, noipa)) void make_pairs(int f) {
    for (int i = 0; i < NPAIR; i++) {
        struct pair_obj *in = grt_alloc(sizeof *in), *out = grt_alloc(sizeof *out);
        CHECK(in && out);
        in->tag = 1;
        in->idx = out->idx = (uint64_t)i;
        in->flagged = out->flagged = (uint64_t)f;
        GRT_STORE(&out->inner, in);
        int flags = f ? GRT_DISCLAIM_MARK_CONTENTS : 0;
        CHECK_EQ(grt_set_disclaim(in, pair_fn, 0, flags), GRT_OK);
        CHECK_EQ(grt_set_disclaim(out, pair_fn, 0, flags), GRT_OK);
    }
}

static void contents(void) {
    make_pairs(1);
    make_pairs(0);
    int done[2] = {0, 0};
    for (int c = 0; c < 20 && (done[0] < NPAIR - NPAIR / 100 || done[1] < NPAIR - NPAIR / 100); c++) {
        churn(500);
        cycle();
        for (int f = 0; f < 2; f++) {
            done[f] = 0;
            for (int i = 0; i < NPAIR; i++) done[f] += __atomic_load_n(&inner_asked[f][i], __ATOMIC_RELAXED);
        }
    }
    t_puts(1, "pairs");
    t_put_kv("inner_asked_flagged", (uint64_t)done[1]);
    t_put_kv("inner_early_flagged", (uint64_t)inner_early[1]);
    t_put_kv("inner_asked_plain", (uint64_t)done[0]);
    t_put_kv("inner_early_plain", (uint64_t)inner_early[0]);
    t_puts(1, "\n");
    CHECK(done[1] >= NPAIR - NPAIR / 100 && done[0] >= NPAIR - NPAIR / 100);
    CHECK_EQ(inner_early[1], 0);
    CHECK(inner_early[0] > 0);
    t_puts(1, "ok contents are kept while the outer object is asked\n");
}

/* ---- removed, and bad input ------------------------------------------------------------ */

static int removed_asked;

static int removed_fn(void *obj, void *arg) {
    (void)arg;
    (void)obj;
    __atomic_fetch_add(&removed_asked, 1, __ATOMIC_RELAXED);
    return 0;
}

static __attribute__((noinline, noipa)) void make_removed(void) {
    for (int i = 0; i < 100; i++) {
        struct tobj *o = tobj_new();
        CHECK_EQ(grt_set_disclaim(o, removed_fn, 0, 0), GRT_OK);
        CHECK_EQ(grt_set_disclaim(o, 0, 0, 0), GRT_OK);
    }
}

static void removed_and_bad(void) {
    make_removed();
    for (int c = 0; c < 5; c++) cycle();
    CHECK_EQ(removed_asked, 0);
    t_puts(1, "ok a removed disclaim is not asked\n");
    int local = 0;
    struct tobj *o = tobj_new();
    CHECK_EQ(grt_set_disclaim(0, removed_fn, 0, 0), GRT_EINVAL);
    CHECK_EQ(grt_set_disclaim(&local, removed_fn, 0, 0), GRT_EINVAL);
    CHECK_EQ(grt_set_disclaim((char *)o + 8, removed_fn, 0, 0), GRT_EINVAL);
    CHECK_EQ(grt_set_disclaim(o, removed_fn, 0, 6), GRT_EINVAL);
    CHECK_EQ(grt_set_disclaim(o, 0, 0, 0), GRT_OK); /* none set: nothing to remove */
    t_puts(1, "ok bad input\n");
}

/* ---- the weak table ----------------------------------------------------------------------- */

#define NB 64
#define NKEYS 2048
#define POP 64
#define WORKERS 3
#define ENT_MAGIC 0x656e747279000000ull

struct ent {
    uint64_t key;
    uint64_t magic; /* ENT_MAGIC ^ key */
    uintptr_t self;
};

struct node {
    uintptr_t hidden; /* GRT_HIDE_POINTER(entry): not a reference */
    struct node *next;
};

static grt_mutex bucket_mu[NB]; /* all zero: GRT_MUTEX_INIT */
static struct node *bucket[NB];
static uint64_t wt_added, wt_found, wt_removed, wt_revived, wt_locked;
static volatile int wt_stop;

static unsigned bucket_of(uint64_t key) { return (unsigned)((key * 0x9e3779b97f4a7c15ull) >> 58); }

static void ent_check(const struct ent *e, uint64_t key, const char *where) {
    if (e->self == (uintptr_t)e && e->key == key && e->magic == (ENT_MAGIC ^ key)) return;
    t_puts(2, "gc_disclaim: the entry for key ");
    t_putu(2, key, 10);
    t_puts(2, where);
    t_puts(2, " at 0x");
    t_putu(2, (uintptr_t)e, 16);
    t_puts(2, " was freed: it holds key ");
    t_putu(2, e->key, 10);
    t_puts(2, "\n");
    grt_exit(1);
}

static int ent_disclaim(void *obj, void *arg) {
    (void)arg;
    struct ent *e = obj;
    ent_check(e, e->key, " (asked)");
    unsigned b = bucket_of(e->key);
    if (grt_mutex_trylock(&bucket_mu[b]) != GRT_OK) {
        __atomic_fetch_add(&wt_locked, 1, __ATOMIC_RELAXED);
        return 1;
    }
    if (grt_gc_is_marked(e)) {
        CHECK_EQ(grt_mutex_unlock(&bucket_mu[b]), GRT_OK);
        __atomic_fetch_add(&wt_revived, 1, __ATOMIC_RELAXED);
        return 1;
    }
    struct node **pp = &bucket[b];
    while (*pp && GRT_REVEAL_POINTER((*pp)->hidden) != (void *)e) pp = &(*pp)->next;
    CHECK(*pp != 0);
    GRT_STORE(pp, (*pp)->next);
    CHECK_EQ(grt_mutex_unlock(&bucket_mu[b]), GRT_OK);
    __atomic_fetch_add(&wt_removed, 1, __ATOMIC_RELAXED);
    return 0;
}

static __attribute__((noinline, noipa)) struct ent *intern(uint64_t key) {
    unsigned b = bucket_of(key);
    CHECK_EQ(grt_mutex_lock(&bucket_mu[b]), GRT_OK);
    for (struct node *n = bucket[b]; n; n = n->next) {
        struct ent *e = GRT_REVEAL_POINTER(n->hidden);
        if (e->key == key) {
            /* Under the bucket's lock, which the disclaim takes too: revived before it can
             * look. */
            grt_gc_set_mark_bit(e);
            CHECK_EQ(grt_mutex_unlock(&bucket_mu[b]), GRT_OK);
            __atomic_fetch_add(&wt_found, 1, __ATOMIC_RELAXED);
            return e;
        }
    }
    struct ent *e = grt_alloc(sizeof *e);
    struct node *n = grt_alloc(sizeof *n);
    CHECK(e && n);
    e->key = key;
    e->magic = ENT_MAGIC ^ key;
    e->self = (uintptr_t)e;
    CHECK_EQ(grt_set_disclaim(e, ent_disclaim, 0, 0), GRT_OK);
    n->hidden = GRT_HIDE_POINTER(e);
    GRT_STORE(&n->next, bucket[b]);
    GRT_STORE(&bucket[b], n);
    CHECK_EQ(grt_mutex_unlock(&bucket_mu[b]), GRT_OK);
    __atomic_fetch_add(&wt_added, 1, __ATOMIC_RELAXED);
    return e;
}

static grt_waitgroup wt_wg;

static void worker(void *arg) {
    uint64_t rnd = 0x9e3779b97f4a7c15ull * (uint64_t)(uintptr_t)arg + 1;
    struct ent *pop[POP] = {0};
    while (!wt_stop) {
        uint64_t r = tobj_rnd(&rnd);
        uint64_t key = r % NKEYS;
        struct ent *e = intern(key);
        ent_check(e, key, " (interned)");
        pop[(r >> 32) % POP] = e;
        struct ent *h = pop[(r >> 40) % POP];
        if (h) {
            ent_check(h, h->key, " (held)");
            struct ent *again = intern(h->key);
            if (again != h) {
                t_puts(2, "gc_disclaim: a held entry (key ");
                t_putu(2, h->key, 10);
                t_puts(2, ") is no longer the table's: its disclaim removed it after a lookup revived it\n");
                grt_exit(1);
            }
        }
    }
    grt_wg_done(&wt_wg);
}

static uint64_t stress_ms;

static void weak_table(void) {
    struct gc_stress s = {stress_ms, 0, &wt_stop, &wt_wg};
    grt_wg_add(&wt_wg, WORKERS + 1);
    for (uintptr_t i = 0; i < WORKERS; i++) CHECK(grt_go(worker, (void *)(i + 1)) == GRT_OK);
    CHECK(grt_go(gc_stress_collector, &s) == GRT_OK);
    grt_wg_wait(&wt_wg);
    struct grt_gc_stats st;
    gc_stress_covered(&st);
    t_put_kv("added", wt_added);
    t_put_kv("found", wt_found);
    t_put_kv("removed", wt_removed);
    t_put_kv("revived", wt_revived);
    t_put_kv("locked", wt_locked);
    t_puts(1, "\n");
    CHECK(wt_removed > 0);
    t_puts(1, "ok a weak table never loses an entry it revived\n");
}

static void main_g(void *arg) {
    (void)arg;
    asked_once();
    freed_or_kept();
    asked_again();
    contents();
    removed_and_bad();
    weak_table();
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    stress_ms = t_env_u64(envp, "GRT_STRESS_MS", 1000);
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
