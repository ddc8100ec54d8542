/* grt-test: exit=0 stdout="ok args set while marking kept" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * Mark termination does not collect the finalizers' args again (O(finalizers) with the world
 * stopped): the concurrent root phase collected them, and an arg set after it is shaded as it
 * is set (mfinal.rs's shade_record, Dijkstra's barrier on grt's own store). This test moves
 * objects from the heap into finalizer args while cycles mark:
 *
 * A table T of NSLOT tracked objects (one large grt_alloc'd object, reachable from a global)
 * is scanned from its start by each cycle's drain. A mutator goroutine walks T from its end:
 * for each slot it reads the object P, allocates a holder F (no pointer in it: P's serial and
 * slot only), sets F's finalizer with P as its arg, and clears the slot with GRT_STORE (whose
 * barrier shades the new value, NULL, not P). A slot cleared before the cycle's drain got
 * there leaves P only in the finalizer's record. Another goroutine runs grt_gc back to back;
 * when the mutator reaches the start of T, T is filled again with fresh objects (reusing the
 * memory of any P wrongly freed). Each finalizer checks its P's serial (tobj_check): a P
 * freed while its finalizer's arg held it is caught once handed out again.
 *
 * Teeth: gc_finalizer_shade_teeth.c (GRTDEBUG=gcnofinshade=1: no shade) must die with
 * "was freed while reachable".
 */
#include "gc_tobj.h"

#define NOINLINE __attribute__((noinline, noipa))
#define NSLOT (256 * 1024)

struct holder {
    uint64_t serial;
    uint64_t slot;
};

static struct tobj **T; /* a global: T is greyed by the root phase, scanned by the drain */
static volatile int stop;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;
static uint64_t deadline_ms, deadline_ns, fins, rounds, cycles;

static void fin(void *obj, void *arg) {
    struct holder *h = obj;
    tobj_check("gc_finalizer_shade", " (a finalizer's arg)", (unsigned)h->slot, arg, h->serial);
    __atomic_fetch_add(&fins, 1, __ATOMIC_RELAXED);
}

static NOINLINE void fill(void) {
    for (unsigned i = 0; i < NSLOT; i++) GRT_STORE(&T[i], tobj_new());
}

static NOINLINE void move_one(unsigned i) {
    struct tobj *p = T[i];
    struct holder *h = grt_alloc_atomic(sizeof *h);
    CHECK(h != 0);
    h->serial = p->serial;
    h->slot = i;
    CHECK_EQ(grt_set_finalizer(h, fin, p), GRT_OK);
    GRT_STORE(&T[i], (struct tobj *)0);
}

static void mutator(void *arg) {
    (void)arg;
    while (!stop) {
        for (unsigned i = NSLOT; i-- > 0 && !stop;) move_one(i);
        fill();
        rounds++;
    }
    grt_wg_done(&wg);
}

static void collector(void *arg) {
    (void)arg;
    while (!stop) {
        CHECK_EQ(grt_gc(), GRT_OK);
        cycles++;
        grt_run_finalizers();
        if (grt_nanotime() >= deadline_ns) stop = 1;
    }
    grt_wg_done(&wg);
}

static void main_g(void *arg) {
    (void)arg;
    T = grt_alloc(NSLOT * sizeof *T);
    CHECK(T != 0);
    fill();
    deadline_ns = grt_nanotime() + deadline_ms * 1000000ull;
    CHECK_EQ(grt_wg_add(&wg, 2), GRT_OK);
    CHECK_EQ(grt_go(mutator, 0), GRT_OK);
    CHECK_EQ(grt_go(collector, 0), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    for (int k = 0; k < 3; k++) {
        CHECK_EQ(grt_gc(), GRT_OK);
        grt_run_finalizers();
    }
    t_puts(1, "covered:");
    t_put_kv("cycles", cycles);
    t_put_kv("rounds", rounds);
    t_put_kv("finalizers", fins);
    t_puts(1, "\n");
    CHECK(cycles >= 3 && fins > 0);
    t_puts(1, "ok args set while marking kept\n");
}

/* GRT_STRESS_MS=n in the environment: run n ms. */
int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    deadline_ms = t_env_u64(envp, "GRT_STRESS_MS", 1500);
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
