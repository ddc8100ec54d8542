/* grt-test: exit=0 stdout="ok weak links" stdout="ok typed allocation" stdout="ok inline allocation" stdout="ok uncollectable and aligned" stdout="ok kinds and marks" stdout="ok disclaim procedures" stdout="ok finalize all" stdout="ok heap cap and oom hook" stdout="PASS" builds=hosted env="GRTMAXPROCS=2" cflags="-Iinclude/grt-gc"
 *
 * More of bdwgc's API through grt's gc.h, as a bdwgc program uses it (no grt call):
 * - weak links: GC_general_register_disappearing_link on hidden pointers to 1,000 dropped
 *   objects clear (99%) and never reveal a reused object; links to kept objects hold;
 *   GC_register_long_link, GC_move_disappearing_link, GC_unregister_disappearing_link give
 *   bdwgc's results;
 * - gc_typed.h: a descriptor with a pointer bit keeps the referent alive, one without gives
 *   an object whose words are not followed (the referent dies); GC_calloc_explicitly_typed
 *   overflow gives NULL;
 * - gc_inline.h: GC_MALLOC_WORDS, GC_MALLOC_ATOMIC_WORDS, GC_CONS, GC_malloc_many lists;
 * - GC_MALLOC_UNCOLLECTABLE keeps what 100 objects reference alive with no other reference,
 *   until GC_FREE (then 95% of the referents are collected);
 *   GC_memalign, GC_posix_memalign (EINVAL for a bad alignment);
 * - gc_mark.h: objects of a kind made with GC_new_kind keep their referents when the
 *   descriptor adds the size (scanned), not when it is 0 | GC_DS_LENGTH alone; mark bits,
 *   GC_get_kind_and_size, GC_enumerate_reachable_objects_inner;
 * - gc_disclaim.h: a kind's disclaim procedure (GC_register_disclaim_proc, mark
 *   unconditionally) is asked about dropped objects only, sees them and what they point to
 *   intact, and keeps each while it answers nonzero (asked exactly twice when it keeps once);
 * - javaxfc.h: GC_finalize_all runs every registered finalizer once;
 * - GC_set_max_heap_size with GC_set_oom_fn: a request past the cap gets the hook's answer.
 */
#define GC_THREADS
#include "gc.h"
#include "gc/gc_disclaim.h"
#include "gc/gc_inline.h"
#include "gc/gc_mark.h"
#include "gc/gc_typed.h"
#include "gc/javaxfc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FAIL(...)                          \
    do {                                   \
        fprintf(stderr, "gc_bdwgc_api: "); \
        fprintf(stderr, __VA_ARGS__);      \
        fprintf(stderr, "\n");             \
        exit(1);                           \
    } while (0)
#define N 1000

struct obj {
    uint64_t serial;
    uint64_t pat;
    void *ref;
};
static uint64_t next_serial;
static uint64_t pat(uint64_t s) { return s * 0x9e3779b97f4a7c15ull | 0x8000000000000001ull; }

static __attribute__((noinline, noipa)) struct obj *obj_new(void) {
    struct obj *o = GC_NEW(struct obj);
    if (!o) FAIL("out of memory");
    if (o->serial) FAIL("a fresh object at %p holds serial %llu", (void *)o, (unsigned long long)o->serial);
    o->serial = ++next_serial;
    o->pat = pat(o->serial);
    return o;
}
static void obj_check(const struct obj *o, uint64_t s, const char *what) {
    if (o->serial != s || o->pat != pat(s))
        FAIL("%s: the object at %p (serial %llu) was freed while reachable: it holds %llu", what,
             (const void *)o, (unsigned long long)s, (unsigned long long)o->serial);
}
static __attribute__((noinline, noipa)) void churn(int n) {
    for (int i = 0; i < n; i++) (void)obj_new();
}
static void collect(int n) {
    for (int i = 0; i < n; i++) {
        churn(2000);
        GC_gcollect();
    }
}

/* Weak pointers through a hidden pointer: the object, or NULL once it died. */
static GC_hidden_pointer dead_l[N], live_l[N];
static uint64_t dead_s[N], live_s[N];

static __attribute__((noinline, noipa)) struct obj **make_links(void) {
    struct obj **keep = GC_MALLOC(N * sizeof *keep);
    for (int i = 0; i < N; i++) {
        struct obj *d = obj_new(), *k = obj_new();
        dead_s[i] = d->serial;
        live_s[i] = k->serial;
        keep[i] = k;
        dead_l[i] = GC_HIDE_POINTER(d);
        live_l[i] = GC_HIDE_POINTER(k);
        if (GC_general_register_disappearing_link((void **)&dead_l[i], d) != GC_SUCCESS ||
            GC_general_register_disappearing_link((void **)&live_l[i], k) != GC_SUCCESS)
            FAIL("GC_general_register_disappearing_link failed");
    }
    if (GC_general_register_disappearing_link((void **)&dead_l[0], keep[0]) != GC_DUPLICATE)
        FAIL("a second registration is not GC_DUPLICATE");
    return keep;
}

/* A link's object, revealed under the allocator lock as bdwgc asks, or NULL once cleared. */
static void *reveal_fn(void *l) {
    GC_hidden_pointer h = *(GC_hidden_pointer *)l;
    return h ? GC_REVEAL_POINTER(h) : NULL;
}
static struct obj *reveal(GC_hidden_pointer *l) { return GC_call_with_alloc_lock(reveal_fn, l); }

static void links(void) {
    struct obj **keep = make_links();
    int cleared = 0;
    for (int c = 0; c < 8 && cleared < N - N / 100; c++) {
        collect(1);
        cleared = 0;
        for (int i = 0; i < N; i++) {
            struct obj *k = reveal(&live_l[i]), *d = reveal(&dead_l[i]);
            if (k == NULL) FAIL("a link to a kept object was cleared");
            obj_check(k, live_s[i], "kept, through its link");
            if (d == NULL)
                cleared++;
            else
                obj_check(d, dead_s[i], "dropped, link not cleared");
        }
    }
    printf("links cleared=%d of %d\n", cleared, N);
    if (cleared < N - N / 100) FAIL("links to dead objects not cleared");
    for (int i = 0; i < N; i++) obj_check(keep[i], live_s[i], "kept");

    static GC_hidden_pointer a, b, l;
    struct obj *o = obj_new();
    a = b = l = GC_HIDE_POINTER(o);
    if (GC_general_register_disappearing_link((void **)&a, o) != GC_SUCCESS) FAIL("register");
    if (GC_register_long_link((void **)&l, o) != GC_SUCCESS) FAIL("long link");
    if (GC_move_disappearing_link((void **)&a, (void **)&b) != GC_SUCCESS) FAIL("move");
    if (GC_move_disappearing_link((void **)&a, (void **)&b) != GC_NOT_FOUND) FAIL("move twice");
    if (GC_move_long_link((void **)&l, (void **)&l) != GC_SUCCESS) FAIL("long move in place");
    if (GC_unregister_disappearing_link((void **)&b) != 1) FAIL("unregister");
    if (GC_unregister_disappearing_link((void **)&b) != 0) FAIL("unregister twice");
    if (GC_unregister_long_link((void **)&l) != 1) FAIL("unregister long");
    printf("ok weak links\n");
}

/* gc_typed.h: word 2 (ref) is a pointer in one type, not in the other. */
static void typed(void) {
    GC_word bm[GC_BITMAP_SIZE(struct obj)] = {0};
    GC_set_bit(bm, GC_WORD_OFFSET(struct obj, ref));
    GC_descr with = GC_make_descriptor(bm, GC_WORD_LEN(struct obj));
    GC_word none[GC_BITMAP_SIZE(struct obj)] = {0};
    GC_descr without = GC_make_descriptor(none, GC_WORD_LEN(struct obj));
    static GC_hidden_pointer holders[2][N];
    static uint64_t ref_s[N];
    static GC_hidden_pointer weak_ref[N];
    for (int i = 0; i < N; i++) {
        struct obj *h = GC_MALLOC_EXPLICITLY_TYPED(sizeof(struct obj), with);
        struct obj *g = GC_malloc_explicitly_typed(sizeof(struct obj), without);
        if (!h || !g) FAIL("typed allocation failed");
        struct obj *r = obj_new(), *s = obj_new();
        ref_s[i] = r->serial;
        h->ref = r;
        g->ref = s;
        weak_ref[i] = GC_HIDE_POINTER(s);
        if (GC_general_register_disappearing_link((void **)&weak_ref[i], s) != GC_SUCCESS)
            FAIL("register");
        holders[0][i] = GC_HIDE_POINTER(h);
        holders[1][i] = GC_HIDE_POINTER(g);
    }
    /* The holders themselves are kept by a typed array of pointers. */
    GC_word abm[1] = {~(GC_word)0};
    void **arr = GC_CALLOC_EXPLICITLY_TYPED(2 * N, sizeof(void *), GC_make_descriptor(abm, 1));
    if (!arr) FAIL("GC_calloc_explicitly_typed failed");
    for (int i = 0; i < N; i++) {
        arr[2 * i] = GC_REVEAL_POINTER(holders[0][i]);
        arr[2 * i + 1] = GC_REVEAL_POINTER(holders[1][i]);
    }
    collect(4);
    int gone = 0;
    for (int i = 0; i < N; i++) {
        struct obj *h = arr[2 * i];
        obj_check(h->ref, ref_s[i], "referent of a typed object with a pointer word");
        gone += weak_ref[i] == 0;
    }
    printf("typed referents_of_pointer_free_objects_collected=%d of %d\n", gone, N);
    if (gone < N - N / 100) FAIL("a pointer-free typed object kept its referent");
    if (GC_calloc_explicitly_typed(~(size_t)0 / 2, 4, with) != NULL) FAIL("overflow gave memory");
    struct GC_calloc_typed_descr_s ctd;
    if (!GC_calloc_prepare_explicitly_typed(&ctd, sizeof ctd, 10, sizeof(struct obj), with) ||
        GC_calloc_do_explicitly_typed(&ctd, sizeof ctd) == NULL)
        FAIL("the two-step typed calloc failed");
    if (GC_calloc_prepare_explicitly_typed(&ctd, sizeof ctd, ~(size_t)0, 2, with)) FAIL("overflow prepared");
    printf("ok typed allocation\n");
}

static void inline_alloc(void) {
    void *tfl[GC_TINY_FREELISTS] = {0};
    void *w, *a, *c;
    GC_MALLOC_WORDS(w, 11, tfl);
    GC_MALLOC_ATOMIC_WORDS(a, 20, tfl);
    struct obj *x = obj_new(), *y = obj_new();
    uint64_t xs = x->serial, ys = y->serial;
    GC_CONS(c, x, y, tfl);
    if (!w || !a || !c) FAIL("inline allocation failed");
    if (GC_size(w) < 11 * sizeof(void *) || GC_size(a) < 20 * sizeof(void *)) FAIL("too small");
    x = y = NULL;
    collect(2);
    obj_check(((struct obj **)c)[0], xs, "GC_CONS car");
    obj_check(((struct obj **)c)[1], ys, "GC_CONS cdr");
    void *list = GC_malloc_many(48);
    int n = 0;
    for (void *p = list; p; p = GC_NEXT(p)) {
        if (GC_size(p) < 48) FAIL("GC_malloc_many object too small");
        n++;
    }
    if (n < 1) FAIL("GC_malloc_many gave nothing");
    printf("inline many=%d\n", n);
    printf("ok inline allocation\n");
}

#define NU 100
static GC_hidden_pointer hidden_u[NU], weak_u_ref[NU];
static uint64_t u_ref_s[NU];

static __attribute__((noinline, noipa)) void make_uncollectable(void) {
    for (int i = 0; i < NU; i++) {
        struct obj *u = GC_MALLOC_UNCOLLECTABLE(sizeof(struct obj));
        struct obj *r = obj_new();
        if (!u) FAIL("GC_MALLOC_UNCOLLECTABLE failed");
        u->ref = r;
        u_ref_s[i] = r->serial;
        hidden_u[i] = GC_HIDE_POINTER(u);
        weak_u_ref[i] = GC_HIDE_POINTER(r);
        if (GC_general_register_disappearing_link((void **)&weak_u_ref[i], r) != GC_SUCCESS)
            FAIL("register");
    }
}

static __attribute__((noinline, noipa)) void free_uncollectable(void) {
    for (int i = 0; i < NU; i++) GC_FREE(GC_REVEAL_POINTER(hidden_u[i]));
}

static void uncollectable_aligned(void) {
    make_uncollectable();
    collect(3);
    for (int i = 0; i < NU; i++) {
        struct obj *u = GC_REVEAL_POINTER(hidden_u[i]);
        if (weak_u_ref[i] == 0) FAIL("the referent of an uncollectable object died");
        obj_check(u->ref, u_ref_s[i], "referent of an uncollectable object");
    }
    free_uncollectable();
    int gone = 0;
    for (int c = 0; c < 6 && gone < NU - NU / 20; c++) {
        collect(1);
        gone = 0;
        for (int i = 0; i < NU; i++) gone += weak_u_ref[i] == 0;
    }
    printf("uncollectable freed_referents_collected=%d of %d\n", gone, NU);
    /* A conservative collector may keep a few through stale words. */
    if (gone < NU - NU / 20) FAIL("after GC_FREE the uncollectable objects still kept their referents");
    for (size_t al = 8; al <= 8192; al *= 2) {
        char *p = GC_memalign(al, 100);
        if (!p || ((uintptr_t)p & (al - 1)) != 0) FAIL("GC_memalign(%zu) gave %p", al, (void *)p);
        void *q = NULL;
        if (GC_posix_memalign(&q, al, 300) != 0 || ((uintptr_t)q & (al - 1)) != 0)
            FAIL("GC_posix_memalign(%zu)", al);
    }
    void *q;
    if (GC_posix_memalign(&q, 24, 8) != EINVAL) FAIL("GC_posix_memalign(24) is not EINVAL");
    printf("ok uncollectable and aligned\n");
}

/* gc_mark.h: a scanned kind keeps what its objects point to, a pointer-free one does not. */
static GC_hidden_pointer kind_obj[2][N], kind_ref[2][N];
static unsigned reachable;
static void count_obj(void *obj, size_t size, void *cd) {
    (void)cd;
    if (GC_base(obj) != obj || GC_size(obj) != size) FAIL("enumerated %p (%zu bytes) is no object start", obj, size);
    reachable++;
}

static __attribute__((noinline, noipa)) void make_kinds(int k[2]) {
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < N; i++) {
            struct obj *o = GC_generic_malloc(sizeof(struct obj), k[j]);
            if (!o) FAIL("GC_generic_malloc failed");
            struct obj *r = obj_new();
            o->ref = r;
            kind_obj[j][i] = GC_HIDE_POINTER(o);
            kind_ref[j][i] = GC_HIDE_POINTER(r);
            if (GC_general_register_disappearing_link((void **)&kind_ref[j][i], r) != GC_SUCCESS)
                FAIL("register");
        }
}

static void kinds(void) {
    int k[2];
    k[0] = (int)GC_new_kind(GC_new_free_list(), 0 | GC_DS_LENGTH, 1, 1);
    k[1] = (int)GC_new_kind(GC_new_free_list(), 0 | GC_DS_LENGTH, 0, 1);
    if (k[0] < 4 || k[1] != k[0] + 1) FAIL("GC_new_kind gave %d, %d", k[0], k[1]);
    make_kinds(k);
    /* The objects themselves are kept by a scanned array. */
    void **arr = GC_MALLOC(2 * N * sizeof(void *));
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < N; i++) arr[j * N + i] = GC_REVEAL_POINTER(kind_obj[j][i]);
    collect(4);
    int kept = 0, gone = 0;
    for (int i = 0; i < N; i++) {
        kept += kind_ref[0][i] != 0;
        gone += kind_ref[1][i] == 0;
        if (!GC_is_marked(arr[i])) FAIL("a kept object of a new kind reads unmarked");
    }
    printf("kinds scanned_kept=%d ptrfree_collected=%d of %d\n", kept, gone, N);
    if (kept != N || gone < N - N / 100) FAIL("a kind's objects not scanned as its descriptor says");
    size_t sz;
    if (GC_get_kind_and_size(arr[0], &sz) != GC_I_NORMAL || sz != GC_size(arr[0]) ||
        GC_get_kind_and_size(arr[N], NULL) != GC_I_PTRFREE)
        FAIL("GC_get_kind_and_size");
    GC_set_mark_bit(arr[0]);
    GC_clear_mark_bit(arr[0]);
    GC_enumerate_reachable_objects_inner(count_obj, NULL);
    printf("kinds reachable=%u\n", reachable);
    if (reachable < 2 * N) FAIL("GC_enumerate_reachable_objects_inner saw %u objects", reachable);
    printf("ok kinds and marks\n");
}

/* gc_disclaim.h: a kind's disclaim procedure is asked about each dropped object of the kind
 * (never a kept one), sees it intact with what it points to (mark_unconditionally), and
 * keeps it while it answers nonzero. */
#define ND 200
static uint64_t disc_serial[ND], disc_ref_serial[ND];
static int disc_asked[ND], disc_bad;

static int GC_CALLBACK disc_proc(void *p) {
    struct obj *o = p;
    uint64_t i = o->pat;
    if (i >= ND || o->serial != disc_serial[i]) {
        __atomic_store_n(&disc_bad, 1, __ATOMIC_RELAXED);
        return 0;
    }
    const struct obj *r = o->ref;
    if (r == NULL || r->serial != disc_ref_serial[i] || r->pat != pat(r->serial))
        __atomic_store_n(&disc_bad, 2, __ATOMIC_RELAXED);
    if (GC_is_marked(o)) __atomic_store_n(&disc_bad, 3, __ATOMIC_RELAXED); /* nobody revived it */
    return __atomic_add_fetch(&disc_asked[i], 1, __ATOMIC_RELAXED) < 2; /* kept once */
}

static __attribute__((noinline, noipa)) void make_disclaimed(int k, struct obj **keep) {
    for (int i = 0; i < ND; i++) {
        struct obj *o = GC_generic_malloc(sizeof(struct obj), k);
        if (!o) FAIL("GC_generic_malloc failed");
        o->serial = ++next_serial;
        o->pat = (uint64_t)i; /* the index, for disc_proc */
        disc_serial[i] = o->serial;
        struct obj *r = obj_new();
        disc_ref_serial[i] = r->serial;
        o->ref = r;
        if (i % 2) keep[i] = o;
    }
}

static void disclaim(void) {
    int k = (int)GC_new_kind(GC_new_free_list(), 0 | GC_DS_LENGTH, 1, 1);
    GC_register_disclaim_proc(k, disc_proc, 1);
    struct obj **keep = GC_MALLOC(ND * sizeof *keep);
    make_disclaimed(k, keep);
    int twice = 0;
    for (int c = 0; c < 20 && twice < ND / 2 - ND / 100; c++) {
        collect(1);
        (void)GC_invoke_finalizers();
        twice = 0;
        for (int i = 0; i < ND; i += 2) twice += __atomic_load_n(&disc_asked[i], __ATOMIC_RELAXED) == 2;
    }
    int kept_asked = 0, more = 0;
    for (int i = 0; i < ND; i++) {
        int a = __atomic_load_n(&disc_asked[i], __ATOMIC_RELAXED);
        if (i % 2) kept_asked += a != 0;
        else more += a > 2;
    }
    printf("disclaim asked_twice=%d of %d kept_asked=%d asked_more=%d bad=%d\n", twice, ND / 2,
           kept_asked, more, disc_bad);
    if (disc_bad) FAIL("a disclaim procedure saw a wrong object (%d)", disc_bad);
    if (twice < ND / 2 - ND / 100 || kept_asked || more) FAIL("disclaim procedures asked wrongly");
    for (int i = 1; i < ND; i += 2)
        if (keep[i]->serial != disc_serial[i]) FAIL("a kept object of a disclaimed kind was freed");
    printf("ok disclaim procedures\n");
}

static int fin_ran[50];
static void fin(void *obj, void *cd) {
    (void)obj;
    __atomic_fetch_add(&fin_ran[(uintptr_t)cd], 1, __ATOMIC_RELEASE);
}

static void finalize_all(void) {
    struct obj **keep = GC_MALLOC(50 * sizeof *keep);
    for (int i = 0; i < 50; i++) {
        keep[i] = obj_new();
        GC_REGISTER_FINALIZER(keep[i], fin, (void *)(uintptr_t)i, NULL, NULL);
    }
    GC_finalize_all();
    /* grt's finalizer goroutine may be running the last of them: a second at most. */
    for (int t = 0; t < 1000; t++) {
        int all = 1;
        for (int i = 0; i < 50; i++) all &= __atomic_load_n(&fin_ran[i], __ATOMIC_ACQUIRE) == 1;
        if (all) break;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    collect(2);
    (void)GC_invoke_finalizers();
    for (int i = 0; i < 50; i++)
        if (fin_ran[i] != 1) FAIL("finalizer %d ran %d times", i, fin_ran[i]);
    printf("ok finalize all\n");
}

static int oom_calls;
static char oom_buf[64];
static void *oom(size_t n) {
    (void)n;
    oom_calls++;
    return oom_buf;
}

static void cap(void) {
    GC_set_max_heap_size(64u << 20);
    GC_set_oom_fn(oom);
    if (GC_get_oom_fn() != oom) FAIL("GC_get_oom_fn");
    if (GC_MALLOC(128u << 20) != oom_buf || oom_calls != 1) FAIL("past the cap: not the hook's answer");
    if (GC_MALLOC(1000) == oom_buf) FAIL("under the cap: the hook's answer");
    GC_set_max_heap_size(0);
    printf("ok heap cap and oom hook\n");
}

int main(void) {
    GC_INIT();
    links();
    typed();
    inline_alloc();
    uncollectable_aligned();
    kinds();
    disclaim();
    finalize_all();
    cap();
    printf("PASS\n");
    return 0;
}
