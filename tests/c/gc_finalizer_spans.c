/* grt-test: exit=0 stdout="ok dense finalizers" stdout="ok spans reused" stdout="ok run all" stdout="ok dead objects refused" stdout="PASS" stderr="grt: grt_set_finalizer:" env="GRTMAXPROCS=2"
 *
 * Finalizers kept with their objects' spans (mfinal.rs's FinSpan): many per span, replaced,
 * removed, and spans that die and are made again.
 * - Dense: NOBJ small objects in a row (a few hundred per span), each given a finalizer;
 *   then every third one's is removed and every fifth one's replaced with another argument.
 *   All are dropped. The finalizers left must run (99%: a conservative collector may keep a
 *   few through stale words), each once, with the argument set last; no removed one may run.
 * - Reuse: the same again twice, so the spans of the first round, dead and swept, are made
 *   anew for other objects whose finalizers must run too (a span's records are dropped with
 *   its last finalizer and made again for the new span).
 * - Run all: grt_run_all_finalizers runs the finalizers of reachable objects, once.
 * - Dead objects: objects reached only through hidden pointers (bdwgc's GC_HIDE_POINTER) are
 *   found dead by a cycle; a finalizer set on one afterwards (freed, or dead and not swept
 *   yet) is refused with GRT_EINVAL and a message, and later cycles and the memory reused
 *   are unharmed.
 */
#include "gc_tobj.h"

#define NOBJ 60000
#define ROUNDS 3

struct obj {
    uint32_t round, id;
};

/* Per round and object: 0 no finalizer expected, 1 expected (arg 1), 2 expected (arg 2). */
static unsigned char want[ROUNDS][NOBJ];
static unsigned char ran[ROUNDS][NOBJ];
static int runs[ROUNDS], wrong;

static void fin(void *obj, void *arg) {
    struct obj *o = obj;
    if (o->round >= ROUNDS || o->id >= NOBJ || want[o->round][o->id] == 0 ||
        (uintptr_t)arg != want[o->round][o->id] || ran[o->round][o->id]) {
        __atomic_fetch_add(&wrong, 1, __ATOMIC_RELAXED);
        return;
    }
    ran[o->round][o->id] = 1;
    __atomic_fetch_add(&runs[o->round], 1, __ATOMIC_RELAXED);
}

static __attribute__((noinline, noipa)) int make_round(uint32_t r) {
    static struct obj *tmp[NOBJ]; /* zeroed before return: not a root past this call */
    int expect = 0;
    for (uint32_t i = 0; i < NOBJ; i++) {
        struct obj *o = grt_alloc(sizeof *o);
        CHECK(o != 0);
        o->round = r;
        o->id = i;
        CHECK_EQ(grt_set_finalizer(o, fin, (void *)1), GRT_OK);
        tmp[i] = o;
    }
    for (uint32_t i = 0; i < NOBJ; i++) {
        want[r][i] = 1;
        if (i % 3 == 0) {
            CHECK_EQ(grt_set_finalizer(tmp[i], 0, 0), GRT_OK);
            want[r][i] = 0;
        } else if (i % 5 == 0) {
            CHECK_EQ(grt_set_finalizer(tmp[i], fin, (void *)2), GRT_OK);
            want[r][i] = 2;
        }
        expect += want[r][i] != 0;
        tmp[i] = 0;
    }
    return expect;
}

static __attribute__((noinline, noipa)) void churn(int n) {
    for (int i = 0; i < n; i++) (void)tobj_new();
}

static void collect_round(uint32_t r, int expect) {
    int c = 0;
    for (; c < 100 && __atomic_load_n(&runs[r], __ATOMIC_RELAXED) < expect; c++) {
        churn(1000);
        CHECK_EQ(grt_gc(), GRT_OK);
        grt_run_finalizers();
        grt_sleep_ns(1000000);
    }
    t_puts(1, "round");
    t_put_kv("r", r);
    t_put_kv("ran", (uint64_t)runs[r]);
    t_put_kv("of", (uint64_t)expect);
    t_put_kv("cycles", (uint64_t)c);
    t_put_kv("wrong", (uint64_t)wrong);
    t_puts(1, "\n");
    CHECK_EQ(wrong, 0);
    CHECK(runs[r] >= expect - expect / 100);
}

static int all_ran;
static void fin_all(void *obj, void *arg) {
    (void)obj;
    CHECK(arg == (void *)7);
    __atomic_fetch_add(&all_ran, 1, __ATOMIC_RELAXED);
}

static void dead_objects(void);

static void main_g(void *arg) {
    (void)arg;
    for (uint32_t r = 0; r < ROUNDS; r++) {
        int expect = make_round(r);
        collect_round(r, expect);
        if (r == 0) t_puts(1, "ok dense finalizers\n");
    }
    /* Later collections run nothing more (each finalizer ran once, checked in fin). */
    for (int k = 0; k < 3; k++) {
        CHECK_EQ(grt_gc(), GRT_OK);
        grt_run_finalizers();
    }
    CHECK_EQ(wrong, 0);
    t_puts(1, "ok spans reused\n");

    enum { NALL = 1000 };
    static struct obj *keep[NALL];
    for (int i = 0; i < NALL; i++) {
        keep[i] = grt_alloc(sizeof *keep[i]);
        CHECK(keep[i] != 0);
        CHECK_EQ(grt_set_finalizer(keep[i], fin_all, (void *)7), GRT_OK);
    }
    (void)grt_run_all_finalizers();
    for (int k = 0; k < 3 && __atomic_load_n(&all_ran, __ATOMIC_RELAXED) < NALL; k++)
        grt_sleep_ns(10000000); /* some may run on the finalizer goroutine */
    CHECK_EQ(all_ran, NALL);
    for (int k = 0; k < 3; k++) {
        CHECK_EQ(grt_gc(), GRT_OK);
        grt_run_finalizers();
    }
    CHECK_EQ(all_ran, NALL);
    for (int i = 0; i < NALL; i++) CHECK(keep[i]->round == 0 && keep[i]->id == 0);
    t_puts(1, "ok run all\n");
    dead_objects();
    t_puts(1, "ok dead objects refused\n");
}

#define NHID 200
static uintptr_t hidden[NHID];

static __attribute__((noinline, noipa)) void make_hidden(void) {
    for (int i = 0; i < NHID; i++) {
        /* Large ones too: a span of their own, unmapped once freed. */
        size_t n = i % 10 == 0 ? (size_t)3 << 20 : i % 3 == 0 ? 4096 : 32;
        struct obj *o = grt_alloc(n);
        CHECK(o != 0);
        o->round = 99;
        hidden[i] = ~(uintptr_t)o;
    }
}

static __attribute__((noinline, noipa)) void dead_objects(void) {
    make_hidden();
    /* Two: objects allocated while a cycle marked were allocated black, and live through it. */
    CHECK_EQ(grt_gc(), GRT_OK);
    CHECK_EQ(grt_gc(), GRT_OK);
    int refused = 0;
    for (int i = 0; i < NHID; i++) {
        int r = grt_set_finalizer((void *)~hidden[i], fin, (void *)1);
        CHECK(r == GRT_OK || r == GRT_EINVAL);
        refused += r == GRT_EINVAL;
    }
    for (int k = 0; k < 4; k++) {
        churn(5000);
        CHECK_EQ(grt_gc(), GRT_OK);
        grt_run_finalizers();
    }
    t_puts(1, "dead");
    t_put_kv("refused", (uint64_t)refused);
    t_put_kv("of", NHID);
    t_put_kv("wrong", (uint64_t)wrong);
    t_puts(1, "\n");
    /* A conservative collector may keep some through stale words: those are accepted. */
    CHECK(refused >= NHID * 3 / 4);
    CHECK_EQ(wrong, 0);
}

int main(void) {
    (void)tobj_check; /* gc_tobj.h's; only tobj_new is used here */
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
