/* grt-test: exit=0 stdout="ok objects in deep frames survive" stdout="ok out-parameter stores survive" stdout="ok registered roots survive" stdout="ok globals survive" stdout="ok stack barriers" stdout="ok garbage is reclaimed" stdout="ok an unregistered atomic block is not scanned" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * The collector frees nothing that is still reachable, and does free what is not.
 *
 * Every tracked object carries a unique serial number, its own address, its size and, in all
 * its payload words, a pattern computed from the serial; whoever holds a pointer to it also
 * holds its serial somewhere else (a volatile local, a global array), so an object that was
 * wrongly freed and handed out again (zeroed, then filled with another object's serial and
 * pattern) is caught the next time its holder checks it. Every third scanned object has a
 * child reachable only through it (scanned or atomic); a quarter of the objects are atomic
 * (grt_alloc_atomic); some are large (40 KiB: a span of their own).
 *
 * Phase 1, concurrent (GRTMAXPROCS=2): a GC goroutine forces 1,000 cycles with grt_gc() (300
 * in the GRTDEBUG variants gc_survive_all.c / gc_survive_off.c; GRTTEST_GC_CYCLES=n overrides)
 * while two mutator goroutines churn the heap (garbage of the same sizes as the tracked
 * objects, so a wrongly freed slot is soon reused) and move tracked objects between places
 * where the only pointer to them lives:
 *   (a) deep frames: a 200-deep recursion where every frame keeps its object in a volatile
 *       local (so it lives in the frame, not in a register) and checks it after the
 *       recursion below has returned; on the way back up each frame replaces its object with
 *       one *moved* out of a heap "pool" (load the pool slot, overwrite it, keep the old
 *       object only in the local). A frame that ran since its scan must be rescanned: this
 *       is what the stack barriers have to get right. The recursion parks (yield, sleep) at
 *       its bottom and every 25 frames on the way up, and every other round waits at the
 *       bottom until a whole cycle has completed with the 200 frames on the stack;
 *   (b) out-parameters: at the bottom of the recursion, 16 frames deeper still, make()
 *       moves an object out of the pool into a local of a frame far up the stack (the
 *       mutator's own frame, 200+ frames up, and the bottom frame's) with GRT_STORE: those
 *       frames did not run, so the stack barriers do not make them rescanned; only the
 *       write barrier keeps the object alive;
 *   (c) registered roots: a block from grt_alloc_atomic (kept alive by a global, but never
 *       scanned as an object: atomic) registered with grt_add_roots, so its words are
 *       scanned only because they were registered (phase 3 shows the same kind of block is
 *       not scanned without it); in the libc build also a block from malloc (not a root
 *       either) registered the same way. Stores into them use GRT_STORE;
 *   (d) globals: pointers in .bss and .data, stored with plain stores (allowed by THE RULE).
 *       Also 64 objects set up before the phase and never moved, checked by the GC goroutine
 *       after every one of its cycles.
 * The mutators check all their objects at the bottom of every recursion; the phase ends
 * after the cycles and once each mutator has done at least 4 rounds.
 *
 * Stack-barrier statistics: barriers were installed and some were hit (in the
 * gcstackbarrieroff=1 variant: none at all).
 *
 * Phase 2: 10,000 unreferenced objects of 1 KiB (allocated in a function that returns, the
 * stack below scrubbed) are reclaimed: after three cycles nfree has grown by >= 9,000 and
 * heap_inuse is back within 1 MiB of what it was (a conservative collector may keep a few).
 *
 * Phase 3: 1,000 objects of 1 KiB whose only pointers are in a registered atomic block
 * survive cycles with garbage churned in between; 1,000 whose only pointers are in an
 * unregistered atomic block are freed (nfree grows by >= 900).
 */
#include "check.h"

#if __STDC_HOSTED__
#include <stdlib.h>
#endif

#ifndef GC_SURVIVE_CYCLES
#define GC_SURVIVE_CYCLES 1000
#endif
/* 0: default stack barriers; 1: GRTDEBUG=gcstackbarrieroff=1; 2: gcstackbarrierall=1. */
#ifndef GC_SURVIVE_MODE
#define GC_SURVIVE_MODE 0
#endif

#define NOINLINE __attribute__((noinline, noipa))
#define US 1000LL
#define MS 1000000LL

#define NMUT 2        /* mutator goroutines */
#define DEPTH 200     /* frames of the recursion */
#define DESCEND 16    /* frames between the bottom and make() */
#define NPOOL 64      /* pool slots per mutator (a heap object) */
#define NBSS 32       /* .bss slots per mutator */
#define NDATA 16      /* .data slots per mutator */
#define NROOT 32      /* slots of each registered block */
#define NFIXED 32     /* never-moved objects, in .bss and in .data each */
#define MIN_ROUNDS 4  /* rounds each mutator completes before the phase may end */
#define LARGE_WORDS 5000

/* ---- tracked objects ---------------------------------------------------------------------- */

struct obj {
    uintptr_t self;     /* its own address */
    uint64_t serial;    /* unique, never 0 */
    uint64_t nwords;    /* payload words */
    struct obj *kid;    /* scanned objects only: a child reachable only from here, or NULL */
    uint64_t kid_serial;
    uint64_t w[];       /* pat(serial, i) */
};

static uint64_t next_serial;

static inline uint64_t mix(uint64_t x) {
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 32;
    return x;
}

/* Random-looking 64-bit words: not pointers into the heap. */
static inline uint64_t pat(uint64_t serial, uint64_t i) {
    return mix(serial * 0x9e3779b97f4a7c15ull + i + 1) | 0x8000000000000001ull;
}

static const uint16_t small_words[] = {0, 1, 2, 3, 5, 8, 12, 20, 30, 60, 124, 250};

static uint64_t nwords_for(uint64_t serial) {
    if (serial % 256 == 1) return LARGE_WORDS;
    return small_words[(serial / 7) % (sizeof small_words / sizeof small_words[0])];
}
static int atomic_for(uint64_t serial) { return serial % 4 == 0; }
static int has_kid(uint64_t serial) { return !atomic_for(serial) && serial % 3 == 0; }

static __attribute__((noreturn)) void fail_obj(const char *where, const struct obj *o,
                                               uint64_t serial, const char *what, uint64_t got,
                                               uint64_t want) {
    t_puts(2, "gc_survive: ");
    t_puts(2, where);
    t_puts(2, ": object with serial ");
    t_putu(2, serial, 10);
    t_puts(2, " at 0x");
    t_putu(2, (uintptr_t)o, 16);
    t_puts(2, " was freed or overwritten: ");
    t_puts(2, what);
    t_puts(2, " is 0x");
    t_putu(2, got, 16);
    t_puts(2, ", want 0x");
    t_putu(2, want, 16);
    t_puts(2, "\n");
    grt_exit(1);
}

static void check_obj(const char *where, const struct obj *o, uint64_t serial, int depth) {
    if (!o) fail_obj(where, o, serial, "pointer", 0, 1);
    if (o->self != (uintptr_t)o) fail_obj(where, o, serial, "self", o->self, (uintptr_t)o);
    if (o->serial != serial) fail_obj(where, o, serial, "serial", o->serial, serial);
    uint64_t nw = nwords_for(serial);
    if (o->nwords != nw) fail_obj(where, o, serial, "nwords", o->nwords, nw);
    for (uint64_t i = 0; i < nw; i++)
        if (o->w[i] != pat(serial, i)) fail_obj(where, o, serial, "a payload word", o->w[i], pat(serial, i));
    if (has_kid(serial) && depth == 0) {
        if (!o->kid) fail_obj(where, o, serial, "kid", 0, 1);
        check_obj(where, o->kid, o->kid_serial, 1);
    }
}

/* A new tracked object of nw payload words; grt_alloc's memory must come zeroed. */
static struct obj *new_obj_sized(uint64_t serial, uint64_t nw, int atomic) {
    size_t size = sizeof(struct obj) + nw * 8;
    struct obj *o = atomic ? grt_alloc_atomic(size) : grt_alloc(size);
    CHECK(o != 0);
    const uint64_t *words = (const uint64_t *)o;
    for (size_t i = 0; i < size / 8; i++) CHECK_EQ(words[i], 0);
    o->self = (uintptr_t)o;
    o->serial = serial;
    o->nwords = nw;
    for (uint64_t i = 0; i < nw; i++) o->w[i] = pat(serial, i);
    return o;
}

static struct obj *new_obj(void) {
    uint64_t s = __atomic_add_fetch(&next_serial, 1, __ATOMIC_RELAXED);
    struct obj *o = new_obj_sized(s, nwords_for(s), atomic_for(s));
    if (has_kid(s)) {
        uint64_t ks = __atomic_add_fetch(&next_serial, 1, __ATOMIC_RELAXED);
        /* The kid is a leaf: no grandchild even if its serial would say so. */
        struct obj *k = new_obj_sized(ks, nwords_for(ks), atomic_for(ks));
        GRT_STORE(&o->kid, k);
        o->kid_serial = ks;
    }
    return o;
}

/* ---- mutator state ----------------------------------------------------------------------- */

struct mut {
    int id;
    uint64_t rng;
    struct obj **pool;          /* grt_alloc'd: scanned heap object, reachable from muts[] */
    uint64_t pool_serial[NPOOL];
    struct obj **rootblk;       /* grt_alloc_atomic'd and registered with grt_add_roots */
    uint64_t rootblk_serial[NROOT];
#if __STDC_HOSTED__
    struct obj **mblk;          /* malloc'd and registered */
    uint64_t mblk_serial[NROOT];
#endif
    uint64_t rounds, moves, checks, deep_checks, out_checks, waits;
    uint64_t gseq;              /* garbage counter */
};

static struct mut muts[NMUT];
static int done;                /* set by the GC goroutine when its cycles are over */
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

/* (d) globals: .bss ... */
static struct obj *bss_slot[NMUT][NBSS];
static uint64_t bss_serial[NMUT][NBSS];
static struct obj *fixed_bss[NFIXED];
static uint64_t fixed_bss_serial[NFIXED];
/* ... and .data (the non-zero magic puts the whole block there). */
static struct data_roots {
    uint64_t magic;
    struct obj *slot[NMUT][NDATA];
    uint64_t serial[NMUT][NDATA];
    struct obj *fixed[NFIXED];
    uint64_t fixed_serial[NFIXED];
} data_roots = {0x6461746164617461ull, {{0}}, {{0}}, {0}, {0}};

static uint64_t rnd(struct mut *m) {
    m->rng ^= m->rng << 13;
    m->rng ^= m->rng >> 7;
    m->rng ^= m->rng << 17;
    return m->rng;
}

static int is_done(void) { return __atomic_load_n(&done, __ATOMIC_ACQUIRE); }

/* Garbage of the tracked objects' sizes, some of it linked (pointers between garbage). */
static NOINLINE void churn(struct mut *m, int n) {
    void **prev = 0;
    for (int i = 0; i < n; i++) {
        uint64_t s = ++m->gseq * 2654435761u;
        uint64_t nw = nwords_for(s);
        if (nw == LARGE_WORDS && m->gseq % 8 != 0) nw = 30; /* fewer large ones */
        size_t words = 5 + nw;
        void **p = (s & 1) ? grt_alloc(words * 8) : grt_alloc_atomic(words * 8);
        CHECK(p != 0);
        CHECK(p[0] == 0);
        CHECK(p[words - 1] == 0);
        p[words - 1] = (void *)(uintptr_t)pat(s, 0);
        if (s & 1) {
            GRT_STORE(&p[0], (void *)prev); /* garbage pointing to garbage */
            prev = p;
        }
    }
}

/* Moves an object out of the pool: the pool slot gets a fresh object; the old one is
 * returned (after a check) and from then on referenced only by what the caller does with it. */
static NOINLINE struct obj *take(struct mut *m, uint64_t *serial) {
    unsigned i = (unsigned)(rnd(m) % NPOOL);
    struct obj *o = m->pool[i];
    uint64_t s = m->pool_serial[i];
    check_obj("pool", o, s, 0);
    struct obj *f = new_obj();
    GRT_STORE(&m->pool[i], f);
    m->pool_serial[i] = f->serial;
    *serial = s;
    m->moves++;
    return o;
}

static void verify_all(struct mut *m) {
    int id = m->id;
    for (int i = 0; i < NPOOL; i++) check_obj("pool", m->pool[i], m->pool_serial[i], 0);
    for (int i = 0; i < NBSS; i++) check_obj("bss global", bss_slot[id][i], bss_serial[id][i], 0);
    for (int i = 0; i < NDATA; i++)
        check_obj("data global", data_roots.slot[id][i], data_roots.serial[id][i], 0);
    for (int i = 0; i < NROOT; i++)
        check_obj("registered atomic block", m->rootblk[i], m->rootblk_serial[i], 0);
#if __STDC_HOSTED__
    for (int i = 0; i < NROOT; i++)
        check_obj("registered malloc block", m->mblk[i], m->mblk_serial[i], 0);
#endif
    m->checks++;
}

/* Waits (parked) until a cycle that started after the call has completed, or the phase ends. */
static void wait_cycle(struct mut *m) {
    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    uint64_t c0 = st.cycles;
    uint64_t t0 = grt_nanotime();
    while (!is_done()) {
        CHECK_EQ(grt_sleep_ns(100 * US), GRT_OK);
        CHECK_EQ(grt_gc_stats(&st), GRT_OK);
        if (st.cycles >= c0 + 2) break;
        if (grt_nanotime() - t0 > 30000 * MS) {
            t_puts(2, "gc_survive: no cycle completed in 30 s\n");
            grt_exit(1);
        }
    }
    m->waits++;
}

/* (b): writes the caller's caller's ... local through `out`, from DESCEND frames below. */
static NOINLINE void make(struct mut *m, struct obj *volatile *out, volatile uint64_t *serial) {
    uint64_t s;
    struct obj *o = take(m, &s);
    if (rnd(m) & 1) CHECK_EQ(grt_yield(), GRT_OK); /* parked with o only in this frame */
    GRT_STORE(out, o);
    *serial = s;
}

static NOINLINE void descend(struct mut *m, int depth, struct obj *volatile *out,
                             volatile uint64_t *serial) {
    if (depth > 0)
        descend(m, depth - 1, out, serial);
    else
        make(m, out, serial);
    __asm__ volatile("" ::: "memory"); /* no tail call: every frame stays */
}

static NOINLINE void bottom(struct mut *m, struct obj *volatile *outslot,
                            volatile uint64_t *outserial) {
    int id = m->id;
    verify_all(m);

    /* Objects move from the pool into globals (plain stores) and registered blocks. */
    for (int k = 0; k < 4; k++) {
        unsigned j = (unsigned)(rnd(m) % NBSS);
        bss_slot[id][j] = take(m, &bss_serial[id][j]);
        j = (unsigned)(rnd(m) % NDATA);
        data_roots.slot[id][j] = take(m, &data_roots.serial[id][j]);
        uint64_t s;
        j = (unsigned)(rnd(m) % NROOT);
        GRT_STORE(&m->rootblk[j], take(m, &s));
        m->rootblk_serial[j] = s;
#if __STDC_HOSTED__
        j = (unsigned)(rnd(m) % NROOT);
        GRT_STORE(&m->mblk[j], take(m, &s));
        m->mblk_serial[j] = s;
#endif
    }

    /* (b): out-parameters written from DESCEND frames further down. */
    struct obj *volatile bslot = 0;
    volatile uint64_t bserial = 0;
    for (int k = 0; k < 4; k++) {
        descend(m, DESCEND, &bslot, &bserial);
        descend(m, DESCEND, outslot, outserial);
        churn(m, 8);
        check_obj("out-parameter (bottom frame)", bslot, bserial, 0);
        check_obj("out-parameter (mutator frame)", *outslot, *outserial, 0);
        m->out_checks += 2;
    }

    CHECK_EQ(grt_yield(), GRT_OK);
    if (m->rounds % 2 == 0) wait_cycle(m); /* a whole cycle with all 200 frames below us */
    churn(m, 32);
    check_obj("out-parameter (bottom frame)", bslot, bserial, 0);
    check_obj("out-parameter (mutator frame)", *outslot, *outserial, 0);
    m->out_checks += 2;
    verify_all(m);
}

/* (a): every frame holds an object in a volatile local, checked after the recursion below
 * returns, then replaced by one moved out of the pool. */
static NOINLINE void deep(struct mut *m, int depth, struct obj *volatile *outslot,
                          volatile uint64_t *outserial) {
    struct obj *volatile mine;
    volatile uint64_t mine_serial;
    uint64_t s;
    mine = take(m, &s);
    mine_serial = s;
    if (depth > 0)
        deep(m, depth - 1, outslot, outserial);
    else
        bottom(m, outslot, outserial);
    check_obj("deep frame", mine, mine_serial, 0);
    mine = take(m, &s);
    mine_serial = s;
    churn(m, 2);
    if (depth % 25 == 0) {
        if (depth % 50 == 0)
            CHECK_EQ(grt_sleep_ns(20 * US), GRT_OK);
        else
            CHECK_EQ(grt_yield(), GRT_OK);
    }
    check_obj("deep frame (moved in)", mine, mine_serial, 0);
    m->deep_checks += 2;
}

static void mutator(void *arg) {
    struct mut *m = arg;
    struct obj *volatile outslot = new_obj(); /* written by make() from 200+ frames down */
    volatile uint64_t outserial = outslot->serial;
    while (!is_done()) { /* set only once every mutator has done MIN_ROUNDS */
        deep(m, DEPTH, &outslot, &outserial);
        check_obj("out-parameter (mutator frame)", outslot, outserial, 0);
        __atomic_store_n(&m->rounds, m->rounds + 1, __ATOMIC_RELEASE);
        CHECK_EQ(grt_yield(), GRT_OK);
    }
    verify_all(m);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void setup_mutator(struct mut *m, int id) {
    m->id = id;
    m->rng = 0x243f6a8885a308d3ull * (uint64_t)(id + 1);
    m->pool = grt_alloc(NPOOL * sizeof(struct obj *));
    CHECK(m->pool != 0);
    for (int i = 0; i < NPOOL; i++) {
        struct obj *o = new_obj();
        GRT_STORE(&m->pool[i], o);
        m->pool_serial[i] = o->serial;
    }
    /* (c): atomic, so never scanned as an object: scanned only because it is registered. */
    m->rootblk = grt_alloc_atomic(NROOT * sizeof(struct obj *));
    CHECK(m->rootblk != 0);
    CHECK_EQ(grt_add_roots(m->rootblk, m->rootblk + NROOT), GRT_OK);
    for (int i = 0; i < NROOT; i++) {
        struct obj *o = new_obj();
        GRT_STORE(&m->rootblk[i], o);
        m->rootblk_serial[i] = o->serial;
    }
#if __STDC_HOSTED__
    m->mblk = calloc(NROOT, sizeof(struct obj *));
    CHECK(m->mblk != 0);
    CHECK_EQ(grt_add_roots(m->mblk, m->mblk + NROOT), GRT_OK);
    for (int i = 0; i < NROOT; i++) {
        struct obj *o = new_obj();
        GRT_STORE(&m->mblk[i], o);
        m->mblk_serial[i] = o->serial;
    }
#endif
    for (int i = 0; i < NBSS; i++) {
        bss_slot[id][i] = new_obj();
        bss_serial[id][i] = bss_slot[id][i]->serial;
    }
    for (int i = 0; i < NDATA; i++) {
        data_roots.slot[id][i] = new_obj();
        data_roots.serial[id][i] = data_roots.slot[id][i]->serial;
    }
}

static void verify_fixed(void) {
    for (int i = 0; i < NFIXED; i++) check_obj("fixed bss global", fixed_bss[i], fixed_bss_serial[i], 0);
    for (int i = 0; i < NFIXED; i++)
        check_obj("fixed data global", data_roots.fixed[i], data_roots.fixed_serial[i], 0);
}

/* ---- phase 1: the GC goroutine ------------------------------------------------------------ */

static uint64_t ncycles = GC_SURVIVE_CYCLES;
static uint64_t gc_calls, gc_cycles_seen, elapsed_ms;

static int mutators_warm(void) {
    for (int i = 0; i < NMUT; i++)
        if (__atomic_load_n(&muts[i].rounds, __ATOMIC_ACQUIRE) < MIN_ROUNDS) return 0;
    return 1;
}

static void gc_goroutine(void *arg) {
    (void)arg;
    struct grt_gc_stats a, b;
    CHECK_EQ(grt_gc_stats(&a), GRT_OK);
    uint64_t t0 = grt_nanotime();
    uint64_t i = 0;
    for (; i < ncycles || !mutators_warm(); i++) {
        CHECK_EQ(grt_gc(), GRT_OK);
        verify_fixed();
        if (i >= ncycles && grt_nanotime() - t0 > 120000 * MS) {
            t_puts(2, "gc_survive: the mutators made no progress in 120 s\n");
            grt_exit(1);
        }
    }
    CHECK_EQ(grt_gc_stats(&b), GRT_OK);
    CHECK(b.cycles - a.cycles >= i); /* every grt_gc ran a full cycle of its own */
    gc_calls = i;
    gc_cycles_seen = b.cycles - a.cycles;
    elapsed_ms = (grt_nanotime() - t0) / MS;
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void phase_concurrent(void) {
    for (int i = 0; i < NFIXED; i++) {
        fixed_bss[i] = new_obj();
        fixed_bss_serial[i] = fixed_bss[i]->serial;
        data_roots.fixed[i] = new_obj();
        data_roots.fixed_serial[i] = data_roots.fixed[i]->serial;
    }
    for (int i = 0; i < NMUT; i++) setup_mutator(&muts[i], i);
    CHECK_EQ(grt_wg_add(&wg, NMUT + 1), GRT_OK);
    for (int i = 0; i < NMUT; i++) CHECK_EQ(grt_go(mutator, &muts[i]), GRT_OK);
    CHECK_EQ(grt_go(gc_goroutine, 0), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    verify_fixed();
    for (int i = 0; i < NMUT; i++) verify_all(&muts[i]);

    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    t_puts(1, "gc_survive:");
    t_put_kv("grt_gc_calls", gc_calls);
    t_put_kv("cycles", gc_cycles_seen);
    t_put_kv("elapsed_ms", elapsed_ms);
    for (int i = 0; i < NMUT; i++) {
        t_put_kv("rounds", muts[i].rounds);
        t_put_kv("moves", muts[i].moves);
        t_put_kv("waits", muts[i].waits);
    }
    t_put_kv("heap_inuse", st.heap_inuse);
    t_put_kv("heap_mapped", st.heap_mapped);
    t_put_kv("nmalloc", st.nmalloc);
    t_put_kv("nfree", st.nfree);
    t_put_kv("frames_scanned", st.frames_scanned);
    t_put_kv("frames_rescanned", st.frames_rescanned);
    t_put_kv("barriers_installed", st.barriers_installed);
    t_put_kv("barriers_hit", st.barriers_hit);
    t_put_kv("pause_max_ns", st.pause_max_ns);
    t_puts(1, "\n");

    CHECK(gc_cycles_seen >= ncycles);
    for (int i = 0; i < NMUT; i++) {
        CHECK(muts[i].rounds >= MIN_ROUNDS);
        CHECK(muts[i].deep_checks >= (uint64_t)MIN_ROUNDS * (DEPTH + 1) * 2);
    }
    t_puts(1, "ok objects in deep frames survive\n");
    t_puts(1, "ok out-parameter stores survive\n");
    t_puts(1, "ok registered roots survive\n");
    t_puts(1, "ok globals survive\n");

    CHECK(st.nfree > 0); /* garbage was collected all along */
    CHECK(st.frames_scanned > 0);
#if GC_SURVIVE_MODE == 1
    CHECK_EQ(st.barriers_installed, 0);
    CHECK_EQ(st.barriers_hit, 0);
#else
    CHECK(st.barriers_installed > 0);
    CHECK(st.barriers_hit > 0); /* the recursion returned through barriers */
    CHECK(st.barriers_hit <= st.barriers_installed);
#if GC_SURVIVE_MODE == 2
    /* A barrier in every frame but each stack's innermost: far more than the logarithmic
     * default would install. */
    CHECK(st.barriers_installed * 4 >= st.frames_scanned);
#endif
#endif
    t_puts(1, "ok stack barriers\n");
}

/* ---- phases 2 and 3: reclaiming ----------------------------------------------------------- */

#define N_DROP 10000
#define KIB_WORDS 124 /* sizeof(struct obj) + 124 * 8 = 1024 bytes */

/* Allocates n objects of 1 KiB and forgets them (nothing outlives the call). */
static NOINLINE void alloc_and_drop(int n) {
    for (int i = 0; i < n; i++) {
        uint64_t *p = grt_alloc(1024);
        CHECK(p != 0);
        p[0] = pat((uint64_t)i, 0);
        p[127] = pat((uint64_t)i, 127);
    }
}

/* Overwrites the stack below the caller, where dead frames left pointers. */
static NOINLINE void scrub_stack(void) {
    volatile uint64_t buf[2048];
    for (int i = 0; i < 2048; i++) buf[i] = 0;
    __asm__ volatile("" : : "r"(buf) : "memory");
}

static void gc_n(int n) {
    for (int i = 0; i < n; i++) CHECK_EQ(grt_gc(), GRT_OK);
}

static void phase_reclaim(void) {
    struct grt_gc_stats a, b;
    gc_n(2);
    CHECK_EQ(grt_gc_stats(&a), GRT_OK);
    alloc_and_drop(N_DROP);
    scrub_stack();
    gc_n(3);
    CHECK_EQ(grt_gc_stats(&b), GRT_OK);
    t_puts(1, "reclaim:");
    t_put_kv("nmalloc", b.nmalloc - a.nmalloc);
    t_put_kv("nfree", b.nfree - a.nfree);
    t_put_kv("heap_inuse_before", a.heap_inuse);
    t_put_kv("heap_inuse_after", b.heap_inuse);
    t_puts(1, "\n");
    CHECK(b.cycles - a.cycles >= 3);
    CHECK(b.nmalloc - a.nmalloc >= N_DROP);
    CHECK(b.nfree - a.nfree >= N_DROP * 9 / 10);
    CHECK(b.heap_inuse <= a.heap_inuse + (1 << 20));
    t_puts(1, "ok garbage is reclaimed\n");
}

#define N_BLK 1000
static struct obj **reg_blk, **unreg_blk; /* the atomic blocks, kept alive from .bss */
static uint64_t reg_serial[N_BLK];

static NOINLINE void fill_block(struct obj **blk, uint64_t *serials) {
    for (int i = 0; i < N_BLK; i++) {
        uint64_t s = __atomic_add_fetch(&next_serial, 1, __ATOMIC_RELAXED);
        struct obj *o = new_obj_sized(s, KIB_WORDS, 0);
        GRT_STORE(&blk[i], o);
        if (serials) serials[i] = s;
    }
}

static void check_kib(const char *where, const struct obj *o, uint64_t serial) {
    if (!o || o->self != (uintptr_t)o || o->serial != serial || o->nwords != KIB_WORDS)
        fail_obj(where, o, serial, "header", o ? o->serial : 0, serial);
    for (uint64_t i = 0; i < KIB_WORDS; i++)
        if (o->w[i] != pat(serial, i)) fail_obj(where, o, serial, "a payload word", o->w[i], pat(serial, i));
}

static void phase_atomic_blocks(void) {
    /* Registered: the objects survive, with 1 KiB garbage reusing any freed slot. */
    reg_blk = grt_alloc_atomic(N_BLK * sizeof(struct obj *));
    CHECK(reg_blk != 0);
    CHECK_EQ(grt_add_roots(reg_blk, reg_blk + N_BLK), GRT_OK);
    fill_block(reg_blk, reg_serial);
    scrub_stack();
    for (int round = 0; round < 3; round++) {
        CHECK_EQ(grt_gc(), GRT_OK);
        alloc_and_drop(2 * N_BLK);
        scrub_stack();
    }
    CHECK_EQ(grt_gc(), GRT_OK);
    alloc_and_drop(N_BLK);
    for (int i = 0; i < N_BLK; i++) check_kib("registered atomic block", reg_blk[i], reg_serial[i]);

    /* Not registered: nothing scans the block, so its objects are garbage. */
    struct grt_gc_stats a, b;
    unreg_blk = grt_alloc_atomic(N_BLK * sizeof(struct obj *));
    CHECK(unreg_blk != 0);
    gc_n(2);
    CHECK_EQ(grt_gc_stats(&a), GRT_OK);
    fill_block(unreg_blk, 0);
    scrub_stack();
    gc_n(2);
    CHECK_EQ(grt_gc_stats(&b), GRT_OK);
    t_puts(1, "unregistered atomic block:");
    t_put_kv("nfree", b.nfree - a.nfree);
    t_puts(1, "\n");
    CHECK(b.nfree - a.nfree >= N_BLK * 9 / 10);
    /* The registered block still holds its objects. */
    for (int i = 0; i < N_BLK; i++) check_kib("registered atomic block", reg_blk[i], reg_serial[i]);
    t_puts(1, "ok an unregistered atomic block is not scanned\n");
}

static void main_g(void *arg) {
    (void)arg;
    CHECK_EQ(grt_maxprocs(), 2);
    phase_concurrent();
    phase_reclaim();
    phase_atomic_blocks();
}

/* GRTTEST_GC_CYCLES=n in the environment overrides the number of forced cycles. */
int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    ncycles = t_env_u64(envp, "GRTTEST_GC_CYCLES", GC_SURVIVE_CYCLES);
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
