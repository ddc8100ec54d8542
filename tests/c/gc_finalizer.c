/* grt-test: exit=0 stdout="ok unreachable objects finalized once" stdout="ok reachable ones never" stdout="ok removed finalizers do not run" stdout="ok outer before inner" stdout="ok bad input" stdout="PASS" stderr="grt: grt_set_finalizer:" env="GRTMAXPROCS=2"
 *
 * Finalizers (Go's SetFinalizer semantics):
 * - 2,000 parents, each the only holder of a tracked child object, get finalizers and are
 *   dropped; collections run with garbage allocated between them (so freed memory is handed
 *   out again). 99% of the finalizers must run (a conservative collector may keep a few
 *   through stale words), each exactly once, and find its parent and the child
 *   intact: a finalized object is kept, with all it reaches, until its finalizer ran. A weak
 *   pointer to each parent must read NULL by then (weak pointers clear before finalizers).
 * - 200 reachable objects with finalizers: never finalized.
 * - finalizers removed with fn NULL: never run.
 * - order: 100 pairs, an outer object with a finalizer pointing to an inner one with its own
 *   (and a pointer to itself, which does not count): every outer finalizer runs while its
 *   inner one has not, and the inner ones run in a later cycle.
 * - bad input: a stack address, a global, an interior pointer: GRT_EINVAL and a message.
 * Teeth: gc_finalizer_teeth.c (GRTDEBUG=gcnofinmark=1: the kept object is not scanned, so
 * its child dies). Each child also has a long disappearing link (GRT_LINK_LONG: cleared only
 * once the child is not kept even for a finalizer), which the finalizer checks first: a
 * freed child is caught there at once, not only if its memory happened to be handed out
 * again before the finalizer read it.
 */
#include "gc_tobj.h"

#define NFIN 2000
#define NKEEP 200
#define NREMOVED 200

struct parent {
    uint64_t id;
    struct tobj *child;
    uint64_t child_serial;
};

static grt_weak *weak[NFIN];
/* A long link to each parent's child (hidden: no pointer for the collector). */
static void *child_link[NFIN + NKEEP + NREMOVED];
static unsigned char ran[NFIN];
static int runs, weak_seen_live, bad_runs;
static struct parent *kept[NKEEP];

static void fin(void *obj, void *arg) {
    struct parent *p = obj;
    CHECK(arg == (void *)(uintptr_t)(p->id * 3 + 1));
    if (p->id >= NFIN) {
        __atomic_fetch_add(&bad_runs, 1, __ATOMIC_RELAXED);
        return;
    }
    if (child_link[p->id] == 0) {
        t_puts(2, "gc_finalizer: the child of finalized parent ");
        t_putu(2, p->id, 10);
        t_puts(2, " was found unreachable (its long link was cleared) and freed while "
                  "reachable from its parent, kept for this finalizer\n");
        grt_exit(1);
    }
    tobj_check("gc_finalizer", " (a finalized parent's child)", (unsigned)p->id, p->child, p->child_serial);
    if (grt_weak_get(weak[p->id]) != 0) __atomic_fetch_add(&weak_seen_live, 1, __ATOMIC_RELAXED);
    CHECK_EQ(ran[p->id], 0);
    ran[p->id] = 1;
    __atomic_fetch_add(&runs, 1, __ATOMIC_RELAXED);
}

static __attribute__((noinline, noipa)) struct parent *make_parent(uint64_t id) {
    struct parent *p = grt_alloc(sizeof *p);
    CHECK(p != 0);
    p->id = id;
    struct tobj *c = tobj_new();
    p->child_serial = c->serial;
    GRT_STORE(&p->child, c);
    child_link[id] = (void *)GRT_HIDE_POINTER(c);
    CHECK_EQ(grt_link_register(&child_link[id], c, GRT_LINK_LONG), GRT_OK);
    CHECK_EQ(grt_set_finalizer(p, fin, (void *)(uintptr_t)(id * 3 + 1)), GRT_OK);
    return p;
}

static __attribute__((noinline, noipa)) void make_garbage(void) {
    for (uint64_t i = 0; i < NFIN; i++) {
        struct parent *p = make_parent(i);
        weak[i] = grt_weak_make(p);
        CHECK(weak[i] != 0);
    }
    for (uint64_t i = 0; i < NKEEP; i++) kept[i] = make_parent(NFIN + i);
    for (uint64_t i = 0; i < NREMOVED; i++) {
        struct parent *p = make_parent(NFIN + NKEEP + i);
        CHECK_EQ(grt_set_finalizer(p, 0, 0), GRT_OK);
    }
}

static __attribute__((noinline, noipa)) void churn(int n) {
    for (int i = 0; i < n; i++) (void)tobj_new();
}

#define NPAIRS 100
struct node {
    struct node *self;
    struct node *inner;
    uint64_t id;
};
static unsigned char outer_ran[NPAIRS], inner_ran[NPAIRS];
static int order_violations;

static void fin_outer(void *obj, void *arg) {
    (void)arg;
    struct node *n = obj;
    if (inner_ran[n->id]) __atomic_fetch_add(&order_violations, 1, __ATOMIC_RELAXED);
    CHECK(n->inner->id == n->id && n->inner->self == n->inner);
    outer_ran[n->id] = 1;
}

static void fin_inner(void *obj, void *arg) {
    (void)arg;
    struct node *n = obj;
    if (!outer_ran[n->id]) __atomic_fetch_add(&order_violations, 1, __ATOMIC_RELAXED);
    inner_ran[n->id] = 1;
}

static __attribute__((noinline, noipa)) void make_pairs(void) {
    for (uint64_t i = 0; i < NPAIRS; i++) {
        struct node *in = grt_alloc(sizeof *in), *out = grt_alloc(sizeof *out);
        in->id = out->id = i;
        GRT_STORE(&in->self, in);
        GRT_STORE(&out->self, out);
        GRT_STORE(&out->inner, in);
        CHECK_EQ(grt_set_finalizer(in, fin_inner, 0), GRT_OK);
        CHECK_EQ(grt_set_finalizer(out, fin_outer, 0), GRT_OK);
    }
}

static void main_g(void *arg) {
    (void)arg;
    make_pairs();
    make_garbage();
    /* A conservative collector may keep a few dead objects through stale words (a dead
     * local, a register's old value): 99% must be finalized. */
    int c = 0;
    for (; c < 200 && __atomic_load_n(&runs, __ATOMIC_RELAXED) < NFIN; c++) {
        churn(2000);
        CHECK_EQ(grt_gc(), GRT_OK);
        grt_run_finalizers(); /* the finalizer goroutine runs them too */
        grt_sleep_ns(1000000);
    }
    t_puts(1, "finalizers");
    t_put_kv("ran", (uint64_t)runs);
    t_put_kv("of", NFIN);
    t_put_kv("cycles", (uint64_t)c);
    t_puts(1, "\n");
    CHECK(runs >= NFIN - NFIN / 100);
    CHECK_EQ(weak_seen_live, 0);
    /* A finalized object is freed by a later cycle: its weak pointer stays NULL. */
    for (int k = 0; k < 3; k++) CHECK_EQ(grt_gc(), GRT_OK);
    for (int i = 0; i < NFIN; i++)
        if (ran[i]) CHECK(grt_weak_get(weak[i]) == 0);
    t_puts(1, "ok unreachable objects finalized once\n");
    for (int i = 0; i < NKEEP; i++) CHECK_EQ(kept[i]->id, (uint64_t)(NFIN + i));
    CHECK_EQ(bad_runs, 0);
    t_puts(1, "ok reachable ones never\n");
    t_puts(1, "ok removed finalizers do not run\n");
    int outer_n = 0, inner_n = 0;
    for (int k = 0; k < 20; k++) {
        churn(500);
        CHECK_EQ(grt_gc(), GRT_OK);
        grt_run_finalizers();
    }
    for (int i = 0; i < NPAIRS; i++) outer_n += outer_ran[i], inner_n += inner_ran[i];
    t_puts(1, "order");
    t_put_kv("outer", (uint64_t)outer_n);
    t_put_kv("inner", (uint64_t)inner_n);
    t_put_kv("violations", (uint64_t)order_violations);
    t_puts(1, "\n");
    if (order_violations != 0) {
        /* An inner object's finalizer ran first: the collector took it for garbage while its
         * outer object, kept for its own finalizer, still pointed to it. */
        t_puts(2, "gc_finalizer: ");
        t_putu(2, (uint64_t)order_violations, 10);
        t_puts(2, " inner objects were finalized while reachable from an outer object kept for "
                  "its finalizer\n");
        grt_exit(1);
    }
    CHECK(outer_n >= NPAIRS - NPAIRS / 10 && inner_n >= NPAIRS - NPAIRS / 10);
    t_puts(1, "ok outer before inner\n");

    char local;
    static char global;
    struct parent *p = grt_alloc(64);
    CHECK_EQ(grt_set_finalizer(&local, fin, 0), GRT_EINVAL);
    CHECK_EQ(grt_set_finalizer(&global, fin, 0), GRT_EINVAL);
    CHECK_EQ(grt_set_finalizer((char *)p + 8, fin, 0), GRT_EINVAL);
    CHECK(grt_weak_make(&local) == 0);
    CHECK(grt_weak_get(0) == 0);
    CHECK_EQ(grt_weak_free(0), GRT_EINVAL);
    grt_weak *w = grt_weak_make((char *)p + 8);
    CHECK(w != 0 && grt_weak_get(w) == p);
    CHECK_EQ(grt_weak_free(w), GRT_OK);
    CHECK_EQ(grt_weak_free(w), GRT_EINVAL);
    t_puts(1, "ok bad input\n");
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
