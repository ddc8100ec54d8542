/*
 * The code-shape corpus: the collector's and the profiler's stress workload, in the shapes of
 * code C compilers emit and C programs are made of, rather than the shapes grt's own tests
 * are written in. `cargo xtask test` builds it with gcc and with clang, at -O0, -O2 and -O3,
 * for both architectures (xtask/src/corpus.rs), this file with frame pointers and
 * shapes_nofp.c with -fomit-frame-pointer, and runs each binary with a barrier on every frame
 * (GRTDEBUG=gcstackbarrierall=1), collections back to back and the profiler at 10 kHz.
 *
 * Workers descend DEPTH levels again and again. Each level takes one shape (rotating from one
 * descent to the next), and every shape keeps tracked objects (gc_tobj.h) that only its frame
 * can reach and checks them when the descent comes back:
 *
 *   shape_plain    an ordinary frame
 *   shape_sibling  checks its object, then ends in a call: a sibling call at -O2/-O3 (and
 *                  `level` itself is a dispatcher whose every case is a tail call)
 *   shape_alloca   objects held only in an alloca'd block of varying size
 *   shape_vla      objects held only in a variable-length array
 *   shape_fnptr    the next level through a function pointer read from memory
 *   shape_qsort    the next level from inside glibc's qsort_r, in its comparator
 *   shape_bsearch  the same from bsearch's comparator: frame-pointer-less library frames in
 *                  the middle of the chain
 *   nofp_level     (shapes_nofp.c) a frame-pointer-less frame of the program's own
 *   shape_float    floating-point values kept across the call, in callee-saved d8-d10:
 *                  clang (LLVM) saves them below the frame record on aarch64 and reloads
 *                  x29/x30 before them in the epilogue, while the unwind row still describes
 *                  the record (gc_windows' win_cfi holds that window open)
 *   shape_setjmp   setjmp; one descent in four ends in a longjmp back here from the bottom
 *                  (never across the library's frames), every other one after
 *                  grt_gc_unwind, the others without it, as a library's own longjmp
 *
 * At the bottom the goroutine burns CPU in C through grt_cgocall, or in a system call
 * (grt_entersyscall), or spins in C without telling grt (so the collector stops it with the
 * signal), or yields. Fails on any crash, fatal error, or lost or corrupted object; prints
 * what it covered; the profile check `corpus` asks that no sample names the trampoline or a
 * word that is not code, and that the callers of the corpus's functions are real ones.
 */
#define _GNU_SOURCE
#include <alloca.h>
#include <setjmp.h>
#include <stdlib.h>

#include "gc_stress.h"

#define WORKERS 3
#define DEPTH 60
#define NSHAPES 10
#define BURN_NS 100000ull

struct ctx {
    unsigned long descents, jumps, rnd;
    jmp_buf *jb;      /* the innermost setjmp level's buffer (NULL: no jump) */
    void *jb_anchor;  /* a local of that frame, for grt_gc_unwind */
    int jump;         /* this descent's bottom jumps back to it */
};

long level(long d, struct ctx *c);
/* shapes_nofp.c, built with -fomit-frame-pointer. */
long nofp_level(long d, struct ctx *c, long (*next)(long, struct ctx *));

static volatile int stop;

static __attribute__((noinline)) void burn(void *arg) {
    (void)arg;
    volatile unsigned long x = 0;
    uint64_t t0 = grt_nanotime();
    do {
        for (int i = 0; i < 1024; i++) x += i ^ (x >> 3);
    } while (grt_nanotime() - t0 < BURN_NS);
}

static __attribute__((noinline)) long bottom(struct ctx *c) {
    c->rnd = c->rnd * 6364136223846793005ull + 1442695040888963407ull;
    switch ((c->rnd >> 33) % 4) {
    case 0:
        CHECK_EQ(grt_cgocall(burn, 0), GRT_OK);
        break;
    case 1:
        CHECK_EQ(grt_entersyscall(), GRT_OK);
        burn(0);
        CHECK_EQ(grt_exitsyscall(), GRT_OK);
        break;
    case 2:
        burn(0); /* running C: stopped by the signal */
        break;
    default:
        CHECK_EQ(grt_yield(), GRT_OK);
        break;
    }
    if (c->jump && c->jb) {
        c->jumps++;
        if (c->jumps % 2) CHECK_EQ(grt_gc_unwind(c->jb_anchor), GRT_OK);
        longjmp(*c->jb, 1);
    }
    return 0;
}

static __attribute__((noinline)) long shape_plain(long d, struct ctx *c) {
    struct tobj *volatile o = tobj_new();
    uint64_t s = o->serial;
    long r = level(d - 1, c);
    tobj_check("corpus", " (plain)", (unsigned)d, o, s);
    return r + 1;
}

static __attribute__((noinline)) long shape_sibling(long d, struct ctx *c) {
    struct tobj *volatile o = tobj_new();
    uint64_t s = o->serial;
    if (d % 3 == 0) CHECK_EQ(grt_yield(), GRT_OK);
    tobj_check("corpus", " (sibling)", (unsigned)d, o, s);
    return level(d - 1, c);
}

static __attribute__((noinline)) long shape_alloca(long d, struct ctx *c) {
    size_t n = 2 + (size_t)(d % 13);
    struct tobj **a = alloca(n * sizeof *a);
    uint64_t s[16];
    for (size_t i = 0; i < n; i++) {
        a[i] = tobj_new();
        s[i] = a[i]->serial;
    }
    long r = level(d - 1, c);
    for (size_t i = 0; i < n; i++) tobj_check("corpus", " (alloca)", (unsigned)i, a[i], s[i]);
    return r + 1;
}

static __attribute__((noinline)) long shape_vla(long d, struct ctx *c) {
    long n = 1 + d % 5;
    struct tobj *v[n];
    uint64_t s[5];
    for (long i = 0; i < n; i++) {
        v[i] = tobj_new();
        s[i] = v[i]->serial;
    }
    __asm__ volatile("" : : "r"(v) : "memory"); /* the array lives in memory */
    long r = level(d - 1, c);
    for (long i = 0; i < n; i++) tobj_check("corpus", " (vla)", (unsigned)i, v[i], s[i]);
    return r + 1;
}

static volatile double float_seed = 1.25;

static __attribute__((noinline)) long shape_float(long d, struct ctx *c) {
    struct tobj *volatile o = tobj_new();
    uint64_t s = o->serial;
    /* Three doubles live across the call: callee-saved FP registers at -O2/-O3. */
    double a = float_seed * (double)d, b = a * 0.5 + 3.0, e = a - b;
    long r = level(d - 1, c);
    tobj_check("corpus", " (float)", (unsigned)d, o, s);
    CHECK(a == float_seed * (double)d && b == a * 0.5 + 3.0 && e == a - b);
    return r + 1 + (long)(a + b + e) * 0;
}

static long (*volatile next_level)(long, struct ctx *) = level;

static __attribute__((noinline)) long shape_fnptr(long d, struct ctx *c) {
    struct tobj *volatile o = tobj_new();
    uint64_t s = o->serial;
    long r = next_level(d - 1, c);
    tobj_check("corpus", " (fnptr)", (unsigned)d, o, s);
    return r + 1;
}

/* The comparators continue the descent on their first call. */
struct cmpctx {
    struct ctx *c;
    long d, r;
    int done;
};

static int cmp_qsort(const void *a, const void *b, void *arg) {
    struct cmpctx *k = arg;
    if (!k->done) {
        k->done = 1;
        k->r = level(k->d - 1, k->c);
    }
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

struct bkey {
    int v;
    struct cmpctx k;
};

static int cmp_bsearch(const void *key, const void *elem) {
    struct bkey *b = (struct bkey *)(uintptr_t)key;
    if (!b->k.done) {
        b->k.done = 1;
        b->k.r = level(b->k.d - 1, b->k.c);
    }
    int y = *(const int *)elem;
    return (b->v > y) - (b->v < y);
}

static __attribute__((noinline)) long shape_qsort(long d, struct ctx *c) {
    struct tobj *volatile o = tobj_new();
    uint64_t s = o->serial;
    int arr[8] = {5, 3, 7, 1, 8, 2, 6, 4};
    struct cmpctx k = {c, d, 0, 0};
    jmp_buf *jb = c->jb; /* no longjmp across the library's frames */
    c->jb = 0;
    qsort_r(arr, 8, sizeof arr[0], cmp_qsort, &k);
    c->jb = jb;
    CHECK(k.done && arr[0] == 1 && arr[7] == 8);
    tobj_check("corpus", " (qsort)", (unsigned)d, o, s);
    return k.r + 1;
}

static __attribute__((noinline)) long shape_bsearch(long d, struct ctx *c) {
    static const int arr[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct tobj *volatile o = tobj_new();
    uint64_t s = o->serial;
    struct bkey key = {6, {c, d, 0, 0}};
    jmp_buf *jb = c->jb;
    c->jb = 0;
    const int *hit = bsearch(&key, arr, 8, sizeof arr[0], cmp_bsearch);
    c->jb = jb;
    CHECK(key.k.done && hit && *hit == 6);
    tobj_check("corpus", " (bsearch)", (unsigned)d, o, s);
    return key.k.r + 1;
}

static __attribute__((noinline)) long shape_setjmp(long d, struct ctx *c) {
    jmp_buf jb;
    volatile long anchor = d;
    struct tobj *volatile o = tobj_new();
    uint64_t s = o->serial;
    jmp_buf *volatile saved = c->jb;
    void *volatile saved_anchor = c->jb_anchor;
    volatile long r = -1;
    c->jb = &jb;
    c->jb_anchor = (void *)&anchor;
    if (setjmp(jb) == 0) r = level(d - 1, c);
    c->jb = saved;
    c->jb_anchor = saved_anchor;
    c->jump = 0; /* one jump a descent */
    CHECK_EQ(anchor, d);
    tobj_check("corpus", " (setjmp)", (unsigned)d, o, s);
    return r < 0 ? r : r + 1;
}

long level(long d, struct ctx *c) {
    if (d <= 0) return bottom(c);
    switch ((d + (long)c->descents) % NSHAPES) {
    case 0: return shape_plain(d, c);
    case 1: return shape_sibling(d, c);
    case 2: return shape_alloca(d, c);
    case 3: return shape_vla(d, c);
    case 4: return shape_fnptr(d, c);
    case 5: return shape_qsort(d, c);
    case 6: return shape_bsearch(d, c);
    case 7: return nofp_level(d, c, level);
    case 8: return shape_float(d, c);
    default: return shape_setjmp(d, c);
    }
}

static grt_waitgroup done = GRT_WAITGROUP_INIT;
static volatile unsigned long descents, jumps;

static volatile uint64_t worker_goids[WORKERS];

static __attribute__((noinline)) void worker(void *arg) {
    worker_goids[(uintptr_t)arg - 1] = grt_goid();
    struct ctx c = {0, 0, (uintptr_t)arg * 7919 + 1, 0, 0, 0};
    while (!stop) {
        c.jump = c.descents % 4 == 3;
        long r = level(DEPTH, &c);
        CHECK(r >= -1);
        c.descents++;
    }
    __atomic_add_fetch(&descents, c.descents, __ATOMIC_RELAXED);
    __atomic_add_fetch(&jumps, c.jumps, __ATOMIC_RELAXED);
    grt_wg_done(&done);
}

static struct gc_stress stress = {0, 0, &stop, &done};

/* Asynchronous preemption of the workers wherever the handler allows it (every 100 us: test
 * hook grt_test_preempt, as sysmon does at a time slice): the shapes of every compiler and
 * level are preempted mid-descent, and walked and scanned while preempted. */
int grt_test_preempt(uint64_t goid);

static void preempter(void *arg) {
    (void)arg;
    while (!stop) {
        for (int i = 0; i < WORKERS; i++)
            if (worker_goids[i]) (void)grt_test_preempt(worker_goids[i]);
        grt_sleep_ns(100000);
    }
    grt_wg_done(&done);
}

static void main_goroutine(void *arg) {
    (void)arg;
    grt_wg_add(&done, WORKERS + 2);
    for (long i = 0; i < WORKERS; i++) CHECK_EQ(grt_go(worker, (void *)(uintptr_t)(i + 1)), GRT_OK);
    CHECK_EQ(grt_go(gc_stress_collector, &stress), GRT_OK);
    CHECK_EQ(grt_go(preempter, 0), GRT_OK);
    CHECK_EQ(grt_wg_wait(&done), GRT_OK);
    struct grt_gc_stats st;
    gc_stress_covered(&st);
    grt_prof_stats p;
    CHECK_EQ(grt_prof_read_stats(&p), GRT_OK);
    t_put_kv("samples", p.samples);
    t_put_kv("descents", descents);
    t_put_kv("longjmps", jumps);
    t_put_kv("barriers_jumped", st.barriers_jumped);
    struct grt_preempt_stats ps;
    CHECK_EQ(grt_preempt_stats(&ps), GRT_OK);
    t_put_kv("preempted", ps.preempted);
    t_put_kv("preempt_refused", ps.refused_runtime + ps.refused_foreign + ps.refused_frame + ps.refused_room);
    t_puts(1, "\n");
    CHECK(descents > 0 && jumps > 0 && st.cycles > 0 && st.barriers_hit > 0 && ps.preempted > 0);
    t_puts(1, "PASS\n");
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    stress.ms = t_env_u64(envp, "GRT_STRESS_MS", 1000);
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
