/* grt-test: exit=0 stdout="ok links to live objects hold" stdout="ok short links to dead objects clear" stdout="ok short before finalizers, long after" stdout="ok a link in an object kept for its finalizer is cleared" stdout="ok short links to what only finalizable objects reach clear first" stdout="ok links in dead objects are dropped unwritten" stdout="ok register, move, unregister" stdout="ok bad input" stdout="ok readers never see a dead object" stdout="PASS" stderr="grt: grt_link_register:" env="GRTMAXPROCS=2"
 *
 * Disappearing links (grt_link_register; bdwgc's GC_general_register_disappearing_link):
 * - 500 links to objects kept reachable, half in a static array, half in heap holders kept
 *   reachable: never cleared through 20 cycles, each revealing its intact object;
 * - 500 links to objects dropped (the same two homes): 99% cleared within 5 cycles (a
 *   conservative collector may keep a few through stale words), and a link not yet cleared
 *   always reveals its intact object (never one freed and handed out again);
 * - 200 dropped objects with a finalizer, a short and a long link each: when the finalizer
 *   runs the short link is NULL and the long one still names the object; the long links
 *   clear once the finalizers ran;
 * - 200 dropped holders with a finalizer and a short link (in the holder) to a target only
 *   it names: when the finalizer runs, the link is cleared (the target died with it; a
 *   link forgotten unwritten would name a freed object);
 * - 200 dropped parents with a finalizer, each the only holder of a child with a short link
 *   (in a static array): the link is cleared before the finalizers' marking keeps the child
 *   (bdwgc's order), so the finalizer reads NULL there and finds its child intact;
 * - 300 links whose own word is in a heap object dropped while their target lives: the
 *   holders' memory is handed out again (tracked objects whose serial sits where the links
 *   were), then the targets are dropped: no tracked object may be overwritten;
 * - register twice (GRT_LINK_DUPLICATE), move (GRT_OK, GRT_LINK_NOT_FOUND,
 *   GRT_LINK_DUPLICATE), unregister (1, then 0); a moved link clears at its new place only,
 *   an unregistered one not at all;
 * - bad input: NULL or unaligned links, an object outside the heap, bad flags;
 * - two goroutines keep a ring of links to objects they drop at once, read them back (one
 *   with grt_link_get, one revealing the hidden pointer under grt_gc_lock_links) and check
 *   the object, for GRT_STRESS_MS (default 1000 ms) while a third runs collections back
 *   to back. (Read without either, the hidden word may be in a register when a cycle ends:
 *   the object is freed while the reader is about to use it; seen once in 30 runs.)
 * Teeth: gc_links_teeth.c (GRTDEBUG=gcnolinkclear=1: links are forgotten, not cleared);
 * gc_links_finpass_teeth.c (GRTDEBUG=gcfinpassalways=1: the concurrent pass over the
 * finalizable objects runs although short links exist, and marks the children first).
 * gc_links_protect.c runs it with plain-store write protection (the collector's clearing
 * write into a protected heap page goes through the fault handler).
 */
#include "gc_stress.h"

#define N 500
#define NFIN 200
#define NHOLD 300
#define NFILL 20000
#define RING 64

/* A holder: a heap object with a link word at offset 8, where a tobj keeps its serial. */
struct holder {
    uint64_t tag;
    uintptr_t link;
    uint64_t pad[4];
};

static uintptr_t live_s[N / 2], dead_s[N / 2];
static uint64_t live_serial[N], dead_serial[N];

static uintptr_t *link_at(uintptr_t *stat, struct holder **heap, int i) {
    return i < N / 2 ? &stat[i] : &heap[i - N / 2]->link;
}

static __attribute__((noinline, noipa)) void churn(int n) {
    for (int i = 0; i < n; i++) (void)tobj_new();
}

/* 1 and 2: links to live and dropped objects. */
static __attribute__((noinline, noipa)) void make_links(struct tobj **keep, struct holder **lh,
                                                        struct holder **dh) {
    for (int i = 0; i < N / 2; i++) {
        GRT_STORE(&lh[i], grt_alloc(sizeof(struct holder)));
        GRT_STORE(&dh[i], grt_alloc(sizeof(struct holder)));
        CHECK(lh[i] && dh[i]);
    }
    for (int i = 0; i < N; i++) {
        struct tobj *o = tobj_new();
        live_serial[i] = o->serial;
        GRT_STORE(&keep[i], o);
        uintptr_t *l = link_at(live_s, lh, i);
        *l = GRT_HIDE_POINTER(o);
        CHECK_EQ(grt_link_register((void **)l, (char *)o + 8, 0), GRT_OK); /* interior */
        struct tobj *d = tobj_new();
        dead_serial[i] = d->serial;
        l = link_at(dead_s, dh, i);
        *l = GRT_HIDE_POINTER(d);
        CHECK_EQ(grt_link_register((void **)l, d, 0), GRT_OK);
    }
}

static void live_and_dead(void) {
    struct tobj **keep = grt_alloc(N * sizeof *keep);
    struct holder **lh = grt_alloc(N / 2 * sizeof *lh), **dh = grt_alloc(N / 2 * sizeof *dh);
    CHECK(keep && lh && dh);
    make_links(keep, lh, dh);
    int cleared_at = -1, cleared = 0;
    for (int c = 1; c <= 20; c++) {
        churn(2000);
        CHECK_EQ(grt_gc(), GRT_OK);
        cleared = 0;
        for (int i = 0; i < N; i++) {
            CHECK(grt_link_get((void **)link_at(live_s, lh, i)) == keep[i]);
            tobj_check("gc_links", " (live)", (unsigned)i, keep[i], live_serial[i]);
            uintptr_t *l = link_at(dead_s, dh, i);
            struct tobj *d = grt_link_get((void **)l);
            if (d == 0) {
                if (*l != 0) {
                    t_puts(2, "gc_links: a link to a dead object was forgotten, not cleared\n");
                    grt_exit(1);
                }
                cleared++;
            } else {
                CHECK(*l == GRT_HIDE_POINTER(d));
                tobj_check("gc_links", " (dropped, link not yet cleared)", (unsigned)i, d,
                           dead_serial[i]);
            }
        }
        if (cleared >= N - N / 100 && cleared_at < 0) cleared_at = c;
    }
    t_puts(1, "links");
    t_put_kv("cleared_99pct_after_cycles", (uint64_t)cleared_at);
    t_put_kv("cleared", (uint64_t)cleared);
    t_put_kv("of", N);
    t_puts(1, "\n");
    t_puts(1, "ok links to live objects hold\n");
    if (!(cleared_at > 0 && cleared_at <= 5)) {
        t_puts(2, "gc_links: short links to dead objects not cleared\n");
        grt_exit(1);
    }
    t_puts(1, "ok short links to dead objects clear\n");
    for (int i = 0; i < N; i++) CHECK(grt_link_unregister((void **)link_at(live_s, lh, i), 0) == 1);
}

/* 3: finalizers between short and long links. */
static uintptr_t fin_short[NFIN], fin_long[NFIN];
static int fin_ran, fin_bad;

static void fin(void *obj, void *arg) {
    int i = (int)(uintptr_t)arg;
    if (fin_short[i] != 0 || fin_long[i] != GRT_HIDE_POINTER(obj))
        __atomic_fetch_add(&fin_bad, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&fin_ran, 1, __ATOMIC_RELAXED);
}

static __attribute__((noinline, noipa)) void make_fin(void) {
    for (int i = 0; i < NFIN; i++) {
        struct tobj *o = tobj_new();
        fin_short[i] = fin_long[i] = GRT_HIDE_POINTER(o);
        CHECK_EQ(grt_link_register((void **)&fin_short[i], o, 0), GRT_OK);
        CHECK_EQ(grt_link_register((void **)&fin_long[i], o, GRT_LINK_LONG), GRT_OK);
        CHECK_EQ(grt_set_finalizer(o, fin, (void *)(uintptr_t)i), GRT_OK);
    }
}

static void short_long(void) {
    make_fin();
    int long_cleared = 0;
    for (int c = 0; c < 20; c++) {
        churn(2000);
        CHECK_EQ(grt_gc(), GRT_OK);
        (void)grt_run_finalizers();
        long_cleared = 0;
        for (int i = 0; i < NFIN; i++) long_cleared += fin_long[i] == 0;
        if (fin_ran >= NFIN - NFIN / 100 && long_cleared >= NFIN - NFIN / 100) break;
    }
    t_puts(1, "finalized");
    t_put_kv("ran", (uint64_t)fin_ran);
    t_put_kv("out_of_order", (uint64_t)fin_bad);
    t_put_kv("long_cleared", (uint64_t)long_cleared);
    t_puts(1, "\n");
    CHECK_EQ(fin_bad, 0);
    CHECK(fin_ran >= NFIN - NFIN / 100);
    CHECK(long_cleared >= NFIN - NFIN / 100);
    t_puts(1, "ok short before finalizers, long after\n");
}

/* 3b: a short link inside an object kept for its finalizer: cleared (its target died in
 * the same cycle), not forgotten with the link still naming a freed target. */
static int fh_ran, fh_cleared;
static uint64_t fh_serial[NFIN];

static void fin_holder(void *obj, void *arg) {
    struct holder *h = obj;
    int i = (int)(uintptr_t)arg;
    if (h->link == 0)
        __atomic_fetch_add(&fh_cleared, 1, __ATOMIC_RELAXED);
    else /* a stale word kept the target: it must be intact */
        tobj_check("gc_links", " (target of a link in a finalized holder)", (unsigned)i,
                   GRT_REVEAL_POINTER(h->link), fh_serial[i]);
    __atomic_fetch_add(&fh_ran, 1, __ATOMIC_RELAXED);
}

static __attribute__((noinline, noipa)) void make_fin_holders(void) {
    for (int i = 0; i < NFIN; i++) {
        struct holder *h = grt_alloc(sizeof *h);
        struct tobj *t = tobj_new();
        CHECK(h != 0);
        fh_serial[i] = t->serial;
        h->link = GRT_HIDE_POINTER(t);
        CHECK_EQ(grt_link_register((void **)&h->link, t, 0), GRT_OK);
        CHECK_EQ(grt_set_finalizer(h, fin_holder, (void *)(uintptr_t)i), GRT_OK);
    }
}

static void fin_holders(void) {
    make_fin_holders();
    for (int c = 0; c < 20 && __atomic_load_n(&fh_ran, __ATOMIC_RELAXED) < NFIN - NFIN / 100; c++) {
        churn(2000);
        CHECK_EQ(grt_gc(), GRT_OK);
        (void)grt_run_finalizers();
    }
    t_puts(1, "finalized_holders");
    t_put_kv("ran", (uint64_t)fh_ran);
    t_put_kv("link_cleared", (uint64_t)fh_cleared);
    t_puts(1, "\n");
    CHECK(fh_ran >= NFIN - NFIN / 100);
    if (fh_cleared < fh_ran - NFIN / 100) {
        t_puts(2, "gc_links: links in objects kept for their finalizer were not cleared\n");
        grt_exit(1);
    }
    t_puts(1, "ok a link in an object kept for its finalizer is cleared\n");
}

/* 3c: a short link to an object only a finalizable one points to: cleared before the
 * finalizers' marking keeps the object, so its finalizer reads NULL through it. */
struct parent {
    struct tobj *child;
    uint64_t serial;
};
static uintptr_t fc_link[NFIN];
static int fc_ran, fc_cleared;

static void fin_parent(void *obj, void *arg) {
    struct parent *p = obj;
    int i = (int)(uintptr_t)arg;
    if (fc_link[i] == 0) __atomic_fetch_add(&fc_cleared, 1, __ATOMIC_RELAXED);
    tobj_check("gc_links", " (child of a finalized parent)", (unsigned)i, p->child, p->serial);
    __atomic_fetch_add(&fc_ran, 1, __ATOMIC_RELAXED);
}

static __attribute__((noinline, noipa)) void make_fin_parents(void) {
    for (int i = 0; i < NFIN; i++) {
        struct parent *p = grt_alloc(sizeof *p);
        CHECK(p != 0);
        struct tobj *c = tobj_new();
        GRT_STORE(&p->child, c);
        p->serial = c->serial;
        fc_link[i] = GRT_HIDE_POINTER(c);
        CHECK_EQ(grt_link_register((void **)&fc_link[i], c, 0), GRT_OK);
        CHECK_EQ(grt_set_finalizer(p, fin_parent, (void *)(uintptr_t)i), GRT_OK);
    }
}

static void fin_parents(void) {
    make_fin_parents();
    for (int c = 0; c < 20 && __atomic_load_n(&fc_ran, __ATOMIC_RELAXED) < NFIN - NFIN / 100; c++) {
        churn(2000);
        CHECK_EQ(grt_gc(), GRT_OK);
        (void)grt_run_finalizers();
    }
    t_puts(1, "finalized_parents");
    t_put_kv("ran", (uint64_t)fc_ran);
    t_put_kv("link_cleared", (uint64_t)fc_cleared);
    t_puts(1, "\n");
    CHECK(fc_ran >= NFIN - NFIN / 100);
    if (fc_cleared < fc_ran - NFIN / 100) {
        t_puts(2, "gc_links: short links to children only finalizable parents reach were not "
                  "cleared before the finalizers' marking\n");
        grt_exit(1);
    }
    t_puts(1, "ok short links to what only finalizable objects reach clear first\n");
}

/* 4: links inside holders that die before their targets. */
static __attribute__((noinline, noipa)) void make_holders(struct tobj **targets) {
    for (int i = 0; i < NHOLD; i++) {
        struct holder *h = grt_alloc(sizeof *h);
        struct tobj *t = tobj_new();
        CHECK(h != 0);
        GRT_STORE(&targets[i], t);
        h->link = GRT_HIDE_POINTER(t);
        CHECK_EQ(grt_link_register((void **)&h->link, t, i % 2 ? GRT_LINK_LONG : 0), GRT_OK);
    }
}

static __attribute__((noinline, noipa)) void fill(struct tobj **f, uint64_t *serial) {
    for (int i = 0; i < NFILL; i++) {
        struct tobj *o = tobj_new();
        serial[i] = o->serial;
        GRT_STORE(&f[i], o);
    }
}

static void dead_holders(void) {
    struct tobj **targets = grt_alloc(NHOLD * sizeof *targets);
    struct tobj **f = grt_alloc(NFILL * sizeof *f);
    uint64_t *serial = grt_alloc_atomic(NFILL * sizeof *serial);
    CHECK(targets && f && serial);
    make_holders(targets);
    for (int c = 0; c < 3; c++) CHECK_EQ(grt_gc(), GRT_OK); /* the holders die */
    fill(f, serial); /* their memory handed out again */
    for (int i = 0; i < NHOLD; i++) GRT_STORE(&targets[i], 0);
    for (int c = 0; c < 3; c++) CHECK_EQ(grt_gc(), GRT_OK); /* the targets die */
    for (int i = 0; i < NFILL; i++) tobj_check("gc_links", " (filler)", (unsigned)i, f[i], serial[i]);
    t_puts(1, "ok links in dead objects are dropped unwritten\n");
}

/* 5: the calls' results, on NMOVE objects (a conservative collector may keep one or two). */
#define NMOVE 50
static uintptr_t ma[NMOVE], mb[NMOVE], mc[NMOVE], was[NMOVE];

static __attribute__((noinline, noipa)) void make_moved(void) {
    for (int i = 0; i < NMOVE; i++) {
        struct tobj *o = tobj_new();
        ma[i] = mb[i] = mc[i] = was[i] = GRT_HIDE_POINTER(o);
        CHECK_EQ(grt_link_register((void **)&ma[i], o, 0), GRT_OK);
        CHECK_EQ(grt_link_register((void **)&ma[i], o, 0), GRT_LINK_DUPLICATE);
        CHECK_EQ(grt_link_register((void **)&mc[i], o, 0), GRT_OK);
        CHECK_EQ(grt_link_move((void **)&ma[i], (void **)&mc[i], 0), GRT_LINK_DUPLICATE);
        CHECK_EQ(grt_link_unregister((void **)&mc[i], 0), 1);
        CHECK_EQ(grt_link_unregister((void **)&mc[i], 0), 0);
        CHECK_EQ(grt_link_move((void **)&ma[i], (void **)&ma[i], 0), GRT_OK);
        CHECK_EQ(grt_link_move((void **)&ma[i], (void **)&mb[i], 0), GRT_OK);
        CHECK_EQ(grt_link_move((void **)&ma[i], (void **)&mb[i], 0), GRT_LINK_NOT_FOUND);
        CHECK_EQ(grt_link_move((void **)&mb[i], (void **)&ma[i], GRT_LINK_LONG),
                 GRT_LINK_NOT_FOUND);
    }
}

static void calls(void) {
    make_moved();
    int cleared = 0;
    for (int c = 0; c < 8 && cleared < NMOVE - 2; c++) {
        churn(2000);
        CHECK_EQ(grt_gc(), GRT_OK);
        cleared = 0;
        for (int i = 0; i < NMOVE; i++) cleared += mb[i] == 0;
    }
    for (int i = 0; i < NMOVE; i++) {
        CHECK(mb[i] == 0 || mb[i] == was[i]); /* moved here: cleared (or its object kept) */
        CHECK_EQ(ma[i], was[i]);              /* moved away: untouched */
        CHECK_EQ(mc[i], was[i]);              /* unregistered: untouched */
    }
    CHECK(cleared >= NMOVE - 2);
    t_puts(1, "ok register, move, unregister\n");

    struct tobj *o = tobj_new();
    uintptr_t w[2];
    CHECK_EQ(grt_link_register(0, o, 0), GRT_EINVAL);
    CHECK_EQ(grt_link_register((void **)((char *)w + 4), o, 0), GRT_EINVAL);
    CHECK_EQ(grt_link_register((void **)&w[0], w, 0), GRT_EINVAL); /* not in the heap */
    CHECK_EQ(grt_link_register((void **)&w[0], o, 2), GRT_EINVAL);
    CHECK_EQ(grt_link_unregister((void **)&w[0], 3), GRT_EINVAL);
    CHECK_EQ(grt_link_move((void **)&w[0], 0, 0), GRT_EINVAL);
    t_puts(1, "ok bad input\n");
}

/* 6: readers next to the collector. */
static volatile int stop;
static grt_waitgroup done = GRT_WAITGROUP_INIT;
static struct gc_stress stress = {0, 0, &stop, &done};
static uintptr_t ring[2][RING];
static uint64_t ring_serial[2][RING];
static uint64_t reads_alive[2];

static __attribute__((noinline, noipa)) void put(int k, int i) {
    uintptr_t *l = &ring[k][i];
    if (*l) CHECK(grt_link_unregister((void **)l, 0) == 1);
    struct tobj *o = tobj_new();
    ring_serial[k][i] = o->serial;
    *l = GRT_HIDE_POINTER(o);
    CHECK_EQ(grt_link_register((void **)l, o, 0), GRT_OK);
}

static void reader(void *arg) {
    int k = (int)(uintptr_t)arg;
    uint64_t x = 0x9876 + (uint64_t)k;
    for (int i = 0; i < RING; i++) put(k, i);
    while (!stop) {
        int i = (int)(tobj_rnd(&x) % RING);
        /* Reader 0 asks grt for the object; reader 1 reveals its hidden pointer itself,
         * under the links' lock. */
        struct tobj *volatile o;
        if (k == 0) {
            o = grt_link_get((void **)&ring[k][i]);
        } else {
            grt_gc_lock_links();
            uintptr_t h = __atomic_load_n(&ring[k][i], __ATOMIC_RELAXED);
            o = h ? GRT_REVEAL_POINTER(h) : 0;
            grt_gc_unlock_links();
        }
        if (o == 0) {
            put(k, i);
            continue;
        }
        for (int j = 0; j < 50; j++) (void)tobj_new(); /* a cycle may end meanwhile */
        tobj_check("gc_links", " (ring, read through its link)", (unsigned)i, o,
                   ring_serial[k][i]);
        reads_alive[k]++;
        if (tobj_rnd(&x) % 4 == 0) put(k, i);
    }
    grt_wg_done(&done);
}

static void readers(void) {
    grt_wg_add(&done, 3);
    for (long k = 0; k < 2; k++) CHECK_EQ(grt_go(reader, (void *)k), GRT_OK);
    CHECK_EQ(grt_go(gc_stress_collector, &stress), GRT_OK);
    CHECK_EQ(grt_wg_wait(&done), GRT_OK);
    struct grt_gc_stats st;
    gc_stress_covered(&st);
    t_put_kv("reads", reads_alive[0] + reads_alive[1]);
    t_puts(1, "\n");
    CHECK(st.cycles > 0);
    t_puts(1, "ok readers never see a dead object\n");
}

static void main_g(void *arg) {
    (void)arg;
    live_and_dead();
    short_long();
    fin_holders();
    fin_parents();
    dead_holders();
    calls();
    readers();
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    stress.ms = t_env_u64(envp, "GRT_STRESS_MS", 1000);
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
