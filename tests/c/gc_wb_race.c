/* grt-test: exit=0 stdout="PASS" env="GRTMAXPROCS=2" env="GRTGC=off"
 *
 * The write barrier against the pause that turns it on. Cycles stop the world with a
 * signal, which can land anywhere, also inside GRT_STORE's few instructions. GRT_STORE
 * therefore stores first and tests grt_gc_wbenabled after (grt.h says why). With the other
 * order (test, then store) a mutator can read 0, be stopped by the pause that turns the
 * barrier on, and then store a white object into a heap object the collector has already
 * scanned; if the object is gone from the mutator's registers and frames by the time its
 * stack is scanned, it is freed while still reachable.
 *
 * Two mutator goroutines each own a heap array (grt_alloc'd, reachable from a global, so it
 * is scanned early in every cycle) of NSLOT slots. Each loop replaces a random slot with a
 * fresh object (serial, own address, a pattern) and forgets it: the array is the only place
 * that holds it. Even loops store with GRT_STORE itself; odd ones with store_wide, which does
 * what GRT_STORE does but with a gap (25 us to 1.6 ms) between the store and the flag test,
 * so the pauses often land inside it. The main goroutine runs grt_gc back to back for
 * GRT_STRESS_MS (default 1 s). Every slot is checked before it is replaced and all of them
 * every 256 loops: a freed object is soon handed out again (same size) and caught by its
 * serial or address.
 *
 * Teeth: gc_wb_race_teeth.c builds this with WB_TEETH, where store_wide tests the flag first
 * and stores after the gap (GRT_STORE's old order); it must die with "was freed".
 *
 * The run prints how many cycles it covered and how many times a pause turned the barrier on
 * inside one of store_wide's gaps (the race window), and fails if that never happened.
 */
#include "gc_tobj.h"

#ifndef WB_TEETH
#define WB_TEETH 0
#endif
#ifndef WB_DEFAULT_MS
#define WB_DEFAULT_MS 1000
#endif

#define NOINLINE __attribute__((noinline, noipa))
#define NMUT 2
#define NSLOT 256
/* store_wide's gap: 25 us << (0..6), up to 1.6 ms. A loss needs the collector to scan the
 * array inside the gap and the mutator's stack after it (the object is in the gap's frame
 * until the store): which lengths do that depends on the machine (native or qemu). */
#define GAP_MIN_NS 25000ull
#define GAP_SHIFTS 7

struct mut {
    int id;
    uint64_t rng;
    struct tobj **arr; /* grt_alloc'd: a scanned heap object */
    uint64_t serial[NSLOT];
    uint64_t loops, checks, turned_on;
};

static struct mut muts[NMUT];
static volatile int stop;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;
static uint64_t deadline_ms;

static uint64_t rnd(struct mut *m) { return tobj_rnd(&m->rng); }

static void check_slot(struct mut *m, unsigned i) {
    tobj_check("gc_wb_race", "", i, m->arr[i], m->serial[i]);
}

static void spin(struct mut *m) {
    uint64_t gap = GAP_MIN_NS << (rnd(m) % GAP_SHIFTS);
    uint64_t t0 = grt_nanotime();
    while (grt_nanotime() - t0 < gap) {
    }
}

/* GRT_STORE with a gap where a pause can land (or, WB_TEETH, GRT_STORE's old order). */
static NOINLINE void store_wide(struct mut *m, struct tobj **slot, struct tobj *v) {
    int before = grt_gc_wbenabled;
#if WB_TEETH
    if (before) grt_gc_shade(v);
    spin(m);
    *slot = v;
    m->turned_on += !before && grt_gc_wbenabled;
#else
    *slot = v;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    spin(m);
    int after = grt_gc_wbenabled;
    if (after) grt_gc_shade(v);
    m->turned_on += !before && after;
#endif
}

static void mutator(void *arg) {
    struct mut *m = arg;
    while (!stop) {
        unsigned i = (unsigned)(rnd(m) % NSLOT);
        check_slot(m, i);
        struct tobj *o = tobj_new();
        uint64_t s = o->serial;
        if (m->loops & 1)
            store_wide(m, &m->arr[i], o);
        else
            GRT_STORE(&m->arr[i], o);
        m->serial[i] = s;
        if (++m->loops % 256 == 0) {
            for (unsigned j = 0; j < NSLOT; j++) check_slot(m, j);
            m->checks++;
            CHECK_EQ(grt_yield(), GRT_OK); /* no preemption: let grt_gc's caller run */
        }
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void main_g(void *arg) {
    (void)arg;
    for (int id = 0; id < NMUT; id++) {
        struct mut *m = &muts[id];
        m->id = id;
        m->rng = 0x243f6a8885a308d3ull * (uint64_t)(id + 1);
        m->arr = grt_alloc(NSLOT * sizeof(struct tobj *));
        CHECK(m->arr != 0);
        for (unsigned i = 0; i < NSLOT; i++) {
            struct tobj *o = tobj_new();
            GRT_STORE(&m->arr[i], o);
            m->serial[i] = o->serial;
        }
    }
    CHECK_EQ(grt_wg_add(&wg, NMUT), GRT_OK);
    for (int id = 0; id < NMUT; id++) CHECK_EQ(grt_go(mutator, &muts[id]), GRT_OK);
    uint64_t end = grt_nanotime() + deadline_ms * 1000000ull;
    while (grt_nanotime() < end) CHECK_EQ(grt_gc(), GRT_OK);
    stop = 1;
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(grt_gc(), GRT_OK);
    uint64_t loops = 0, turned_on = 0;
    for (int id = 0; id < NMUT; id++) {
        for (unsigned j = 0; j < NSLOT; j++) check_slot(&muts[id], j);
        loops += muts[id].loops;
        turned_on += muts[id].turned_on;
    }
    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    t_puts(1, "covered:");
    t_put_kv("cycles", st.cycles);
    t_put_kv("stores", loops);
    t_put_kv("turned_on_in_gap", turned_on);
    t_puts(1, "\n");
    CHECK(turned_on > 0);
    t_puts(1, "PASS\n");
}

/* GRT_STRESS_MS=n in the environment: run n ms. */
int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    deadline_ms = t_env_u64(envp, "GRT_STRESS_MS", WB_DEFAULT_MS);
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    return 0;
}
