/*
 * gc/gc.h: the Boehm-Demers-Weiser collector's API (bdwgc 8.x) over grt, so that a program
 * written for bdwgc builds unchanged and links with libgrt.a (libc build, with -lpthread).
 * Written for grt; bdwgc's own header is not used. What each call does here:
 *
 * Served:
 *   GC_INIT/GC_init          grt_init (the runtime in the background), the calling thread
 *                            registered, plain-store mode on (bdwgc programs store pointers
 *                            with plain assignments): GRT_PLAIN_STORES_RESCAN, every marked
 *                            object rescanned at the end of a cycle (no protection, no
 *                            faults); any first use of the API does the same
 *   GC_enable_incremental    GRT_PLAIN_STORES_PROTECT: pages written while a cycle marks
 *                            tracked by write protection, only they rescanned (as bdwgc's
 *                            incremental mode: a system call writing into GC_MALLOC memory
 *                            may then fail with EFAULT; see grt.h)
 *   GC_MALLOC, GC_malloc, GC_MALLOC_ATOMIC, GC_malloc_atomic, GC_NEW, GC_NEW_ATOMIC,
 *   GC_MALLOC_IGNORE_OFF_PAGE, GC_malloc_ignore_off_page, GC_malloc_atomic_ignore_off_page,
 *   GC_STRDUP, GC_strdup, GC_STRNDUP, GC_strndup
 *                            grt_try_alloc / grt_try_alloc_atomic: zeroed, NULL when it cannot
 *                            be had (a size no heap can hold); a thread that allocates is
 *                            registered on its first allocation (bdwgc's implicit
 *                            registration), and deregistered when it exits
 *   GC_set_max_heap_size     grt_gc_set_max_heap (a hard cap: past it, after a full
 *                            collection, an allocation returns NULL or what GC_oom_fn gives)
 *   GC_set_oom_fn, GC_get_oom_fn
 *   GC_REALLOC, GC_realloc   grt_realloc (NULL pointer: an allocation; size 0: NULL)
 *   GC_malloc_many, GC_NEXT  a list of objects (about a page of them) linked through their
 *                            first word
 *   GC_MALLOC_UNCOLLECTABLE, GC_malloc_uncollectable, GC_MALLOC_ATOMIC_UNCOLLECTABLE,
 *   GC_malloc_atomic_uncollectable, GC_NEW_UNCOLLECTABLE   grt_alloc_uncollectable[_atomic]
 *   GC_FREE, GC_free         grt_free: an uncollectable object becomes collectable; the
 *                            memory of any object is reused once a cycle finds it
 *                            unreachable, not at once (so a dangling pointer never sees
 *                            another object)
 *   GC_memalign, GC_posix_memalign, GC_valloc, GC_pvalloc   grt_alloc_aligned (alignments
 *                            above 4096 give a pointer into the object: GC_base differs)
 *   GC_base, GC_size, GC_is_heap_ptr   grt_base, grt_size
 *   GC_gcollect              grt_gc
 *   GC_get_heap_size, GC_get_free_bytes, GC_get_gc_no   from grt_gc_stats
 *   GC_register_finalizer, GC_REGISTER_FINALIZER, GC_register_finalizer_ignore_self,
 *   GC_register_finalizer_no_order, GC_register_finalizer_unreachable
 *                            grt_set_finalizer (Go's order: an object reachable from another
 *                            finalizable one is finalized in a later cycle, and a cycle of
 *                            finalizable objects never is, _no_order or not; pointers into
 *                            itself do not count). The old finalizer is not returned: *ofn
 *                            and *ocd are set to NULL. A pointer that is not the start of a
 *                            heap object is ignored, as bdwgc does.
 *   GC_invoke_finalizers     grt_run_finalizers (finalizers also run on grt's own goroutine)
 *   GC_general_register_disappearing_link, GC_register_disappearing_link,
 *   GC_register_long_link, GC_unregister_disappearing_link, GC_unregister_long_link,
 *   GC_move_disappearing_link, GC_move_long_link
 *                            grt_link_register, grt_link_unregister, grt_link_move (cleared
 *                            with the world stopped; reveal a link's hidden pointer inside
 *                            GC_call_with_alloc_lock, as bdwgc asks)
 *   GC_call_with_alloc_lock, GC_call_with_reader_lock, GC_alloc_lock, GC_alloc_unlock
 *                            grt_gc_lock_links: no collection ends while held (the function
 *                            must not allocate)
 *   GC_add_roots, GC_remove_roots   grt_add_roots, grt_remove_roots
 *   GC_register_my_thread, GC_unregister_my_thread, GC_thread_is_registered,
 *   GC_get_stack_base, GC_call_with_stack_base
 *                            grt_register_thread and friends (stacks from pthread_getattr_np)
 *   GC_pthread_create, GC_pthread_join, GC_pthread_detach
 *                            the new thread is registered before GC_pthread_create returns
 *                            and deregistered when it ends; with GC_THREADS defined and
 *                            GC_NO_THREAD_REDIRECTS not, pthread_create/join/detach are
 *                            redirected to them (as bdwgc's gc_pthread_redirects.h)
 *   GC_HIDE_POINTER, GC_REVEAL_POINTER, GC_HIDE_NZ_POINTER, GC_REVEAL_NZ_POINTER,
 *   GC_reachable_here, GC_noop1, GC_noop1_ptr, GC_PTR_STORE_AND_DIRTY, GC_ptr_store_and_dirty
 *   GC_finalized_malloc (gc/gc_disclaim.h)   an object with a finalizer (see that header)
 *
 * Accepted, with no effect (grt does it anyway, or it does not apply):
 *   GC_set_all_interior_pointers   interior pointers always keep their object
 *   GC_allow_register_threads, GC_start_mark_threads, GC_set_manual_vdb_allowed,
 *   GC_END_STUBBORN_CHANGE, GC_end_stubborn_change, GC_set_thr_restart_signal,
 *   GC_init_finalized_malloc
 *   GC_set_find_leak(0)      GC_get_find_leak() is 0
 *   GC_DEBUG                 the debugging allocator is not provided: plain allocation
 *   GC_get_suspend_signal    SIGURG, grt's suspend signal
 *
 * In the other headers: gc/gc_disclaim.h (GC_finalized_malloc), gc/gc_typed.h (typed
 * allocation), gc/gc_inline.h (the inline allocation macros), gc/javaxfc.h (GC_finalize_all),
 * gc/gc_backptr.h (declares nothing: the back-pointer calls need bdwgc's debugging
 * allocator): see each.
 *
 * Not provided (a program using them does not build): leak detection
 * (GC_set_find_leak(1) says so and does nothing), custom kinds and mark procedures
 * (gc_mark.h), the debugging allocator's calls (GC_debug_*), gcj-style allocation.
 */
#ifndef GRT_GC_GC_H
#define GRT_GC_GC_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../grt.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(GC_THREADS) && !defined(GC_PTHREADS)
#define GC_PTHREADS 1
#endif

typedef unsigned long GC_word;
typedef long GC_signed_word;
typedef uintptr_t GC_uintptr_t;
typedef GC_uintptr_t GC_hidden_pointer;
typedef void (*GC_finalization_proc)(void *obj, void *client_data);

#define GC_API extern
#define GC_CALL
#define GC_CALLBACK
#define GC_ATTR_MALLOC __attribute__((__malloc__))
#ifndef GC_ATTR_ALLOC_SIZE
#define GC_ATTR_ALLOC_SIZE(argnum) __attribute__((__alloc_size__(argnum)))
#endif
#define GC_ATTR_NONNULL(argnum) __attribute__((__nonnull__(argnum)))
#define GC_ATTR_UNUSED __attribute__((__unused__))

/* bdwgc's result codes. */
#define GC_SUCCESS 0
#define GC_DUPLICATE 1
#define GC_NO_THREADS 2
#define GC_NO_MEMORY 2
#define GC_UNIMPLEMENTED 3
#define GC_NOT_FOUND 4

#define GC_HIDE_POINTER(p) (~(GC_hidden_pointer)(p))
#define GC_REVEAL_POINTER(p) ((void *)GC_HIDE_POINTER(p))
#define GC_HIDE_NZ_POINTER(p) ((GC_hidden_pointer)(-(GC_signed_word)(p)))
#define GC_REVEAL_NZ_POINTER(p) ((void *)GC_HIDE_NZ_POINTER(p))

/* ---- threads (the calling thread registered on first use) --------------------------------- */

static __thread int grt_gc_registered_ __attribute__((__unused__));
static pthread_once_t grt_gc_key_once_ __attribute__((__unused__)) = PTHREAD_ONCE_INIT;
static pthread_key_t grt_gc_key_ __attribute__((__unused__));

static inline void grt_gc_thread_exit_(void *v) {
    (void)v;
    if (grt_thread_registered() == 1) (void)grt_unregister_thread(); /* not a goroutine (2) */
    grt_gc_registered_ = 0; /* a later destructor that allocates registers it again */
}

static inline void grt_gc_make_key_(void) { (void)pthread_key_create(&grt_gc_key_, grt_gc_thread_exit_); }

/* The runtime started, and plain-store mode on unless already chosen (any first use of the
 * API: bdwgc programs may skip GC_INIT). */
static inline void grt_gc_start_(void) {
    if (grt_init() != GRT_OK) {
        fprintf(stderr, "gc.h: grt_init failed\n");
        abort();
    }
    if (grt_gc_plain_stores() == 0) (void)grt_gc_set_plain_stores(GRT_PLAIN_STORES_RESCAN);
}

/* Registers the calling thread (stack top found by grt) unless it is a goroutine or already
 * registered; a thread registered here is deregistered at its exit (a pthread key's
 * destructor). A failed registration (grt says why) is not retried. */
static inline void grt_gc_register_self_(void) {
    grt_gc_start_();
    if (grt_thread_registered()) {
        grt_gc_registered_ = 1;
        return;
    }
    if (grt_register_thread(NULL) != GRT_OK) {
        grt_gc_registered_ = 2;
        return;
    }
    grt_gc_registered_ = 1;
    (void)pthread_once(&grt_gc_key_once_, grt_gc_make_key_);
    (void)pthread_setspecific(grt_gc_key_, (void *)1);
}

static inline void grt_gc_autoregister_(void) {
    if (__builtin_expect(!grt_gc_registered_, 0)) grt_gc_register_self_();
}

/* glibc's (declared by <pthread.h> only under _GNU_SOURCE, which the program may not set). */
extern int pthread_getattr_np(pthread_t thread, pthread_attr_t *attr);

struct GC_stack_base {
    void *mem_base; /* the top of the stack (its highest address) */
};
typedef void *(*GC_stack_base_func)(struct GC_stack_base *sb, void *arg);

static inline int GC_get_stack_base(struct GC_stack_base *sb) {
    pthread_attr_t a;
    void *lo;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &a) != 0) return GC_UNIMPLEMENTED;
    int r = pthread_attr_getstack(&a, &lo, &size);
    (void)pthread_attr_destroy(&a);
    if (r != 0) return GC_UNIMPLEMENTED;
    sb->mem_base = (char *)lo + size;
    return GC_SUCCESS;
}

static inline void *GC_call_with_stack_base(GC_stack_base_func fn, void *arg) {
    struct GC_stack_base sb;
    if (GC_get_stack_base(&sb) != GC_SUCCESS) sb.mem_base = NULL;
    return fn(&sb, arg);
}

static inline int GC_thread_is_registered(void) { return grt_thread_registered(); }

static inline int GC_register_my_thread(const struct GC_stack_base *sb) {
    grt_gc_start_();
    if (grt_thread_registered()) return GC_DUPLICATE;
    if (grt_register_thread(sb ? sb->mem_base : NULL) != GRT_OK) return GC_UNIMPLEMENTED;
    grt_gc_registered_ = 1;
    return GC_SUCCESS;
}

static inline int GC_unregister_my_thread(void) {
    return grt_unregister_thread() == GRT_OK ? GC_SUCCESS : GC_NOT_FOUND;
}

static inline void GC_allow_register_threads(void) {}

struct grt_gc_start_ {
    void *(*fn)(void *);
    void *arg;
    volatile int state; /* 0: starting, 1: registered (the creator may return) */
};

static inline void grt_gc_unregister_(void *v) {
    (void)v;
    (void)grt_unregister_thread();
}

static inline void *grt_gc_thread_entry_(void *p) {
    struct grt_gc_start_ *s = (struct grt_gc_start_ *)p;
    void *(*fn)(void *) = s->fn;
    void *arg = s->arg;
    (void)grt_register_thread(NULL);
    grt_gc_registered_ = 1;
    /* From here this thread's stack (holding arg) is scanned: the creator may go on. */
    __atomic_store_n(&s->state, 1, __ATOMIC_RELEASE);
    void *r;
    pthread_cleanup_push(grt_gc_unregister_, NULL);
    r = fn(arg);
    pthread_cleanup_pop(1);
    return r;
}

/* pthread_create, with the new thread registered before it returns (until then its argument
 * may be only in the creator's frame, which the collector scans). */
static inline int GC_pthread_create(pthread_t *t, const pthread_attr_t *attr,
                                    void *(*fn)(void *), void *arg) {
    grt_gc_autoregister_();
    struct grt_gc_start_ s = {fn, arg, 0};
    int r = pthread_create(t, attr, grt_gc_thread_entry_, &s);
    if (r != 0) return r;
    while (!__atomic_load_n(&s.state, __ATOMIC_ACQUIRE)) sched_yield();
    return 0;
}

static inline int GC_pthread_join(pthread_t t, void **ret) { return pthread_join(t, ret); }
static inline int GC_pthread_detach(pthread_t t) { return pthread_detach(t); }
static inline int GC_get_suspend_signal(void) { return SIGURG; }
static inline void GC_set_thr_restart_signal(int sig) { (void)sig; }
static inline void GC_start_mark_threads(void) {}

/* ---- start-up and tuning ------------------------------------------------------------------- */

static inline void GC_init(void) {
    grt_gc_start_();
    grt_gc_autoregister_();
}
/* GC_INIT also applies GC_MAXIMUM_HEAP_SIZE when the program defines it (as bdwgc's does);
 * GC_INITIAL_HEAP_SIZE is accepted with no effect (the heap grows as needed). */
#ifdef GC_MAXIMUM_HEAP_SIZE
#define GC_INIT() (GC_init(), (void)grt_gc_set_max_heap((size_t)(GC_MAXIMUM_HEAP_SIZE)))
#else
#define GC_INIT() GC_init()
#endif

static inline void GC_enable_incremental(void) {
    grt_gc_start_();
    (void)grt_gc_set_plain_stores(GRT_PLAIN_STORES_PROTECT);
}
static inline int GC_is_incremental_mode(void) {
    return grt_gc_plain_stores() == GRT_PLAIN_STORES_PROTECT;
}
static inline void GC_set_all_interior_pointers(int on) { (void)on; }
static inline int GC_get_all_interior_pointers(void) { return 1; }
static inline void GC_set_manual_vdb_allowed(int on) { (void)on; }
static inline int GC_get_find_leak(void) { return 0; }
static inline void GC_set_find_leak(int on) {
    if (on) fprintf(stderr, "GC_set_find_leak: leak detection is not provided by grt's gc.h\n");
}

/* ---- allocation ---------------------------------------------------------------------------- */

/* bdwgc's out-of-memory hook: what an allocation that fails returns (default: NULL). One
 * per program (a weak symbol shared by every unit that includes this header). */
typedef void *(*GC_oom_func)(size_t bytes_requested);
__attribute__((__weak__)) GC_oom_func grt_gc_oom_fn_;
static inline void GC_set_oom_fn(GC_oom_func fn) { grt_gc_oom_fn_ = fn; }
static inline GC_oom_func GC_get_oom_fn(void) { return grt_gc_oom_fn_; }
static inline void *grt_gc_oom_(size_t n) { return grt_gc_oom_fn_ ? grt_gc_oom_fn_(n) : NULL; }
static inline void GC_set_max_heap_size(GC_word n) { (void)grt_gc_set_max_heap((size_t)n); }

/* (Always inlined: a call left out of line would make gcc check a constant size against
 * the largest object, as it does for malloc, where bdwgc programs ask for huge sizes on
 * purpose to see NULL.) */
GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) static inline __attribute__((__always_inline__)) void *
GC_malloc(size_t n) {
    grt_gc_autoregister_();
    void *p = grt_try_alloc(n);
    return p ? p : grt_gc_oom_(n);
}
GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) static inline __attribute__((__always_inline__)) void *
GC_malloc_atomic(size_t n) {
    grt_gc_autoregister_();
    void *p = grt_try_alloc_atomic(n);
    return p ? p : grt_gc_oom_(n);
}
static inline void *GC_malloc_ignore_off_page(size_t n) { return GC_malloc(n); }
static inline void *GC_malloc_atomic_ignore_off_page(size_t n) { return GC_malloc_atomic(n); }

static inline void *GC_realloc(void *p, size_t n) {
    grt_gc_autoregister_();
    if (p == NULL) return GC_malloc(n);
    if (n == 0) return NULL;
    return grt_realloc(p, n);
}

static inline void GC_free(void *p) { (void)grt_free(p); }

/* A list of objects of n bytes linked through their first word (GC_NEXT), about a page of
 * them (at most 64); NULL when the heap cannot have one. */
#define GC_NEXT(p) (*(void **)(p))
static inline void *GC_malloc_many(size_t n) {
    grt_gc_autoregister_();
    if (n < sizeof(void *)) n = sizeof(void *);
    size_t k = n >= 4096 ? 1 : 4096 / n;
    if (k > 64) k = 64;
    void *head = NULL;
    for (size_t i = 0; i < k; i++) {
        void *p = grt_try_alloc(n);
        if (p == NULL) break;
        GRT_STORE((void **)p, head);
        head = p;
    }
    return head;
}

/* Uncollectable objects (never freed until GC_FREE), and aligned ones. */
static inline void *GC_malloc_uncollectable(size_t n) {
    grt_gc_autoregister_();
    void *p = grt_alloc_uncollectable(n);
    return p ? p : grt_gc_oom_(n);
}
static inline void *GC_malloc_atomic_uncollectable(size_t n) {
    grt_gc_autoregister_();
    void *p = grt_alloc_uncollectable_atomic(n);
    return p ? p : grt_gc_oom_(n);
}
#define GC_MALLOC_UNCOLLECTABLE(n) GC_malloc_uncollectable(n)
#define GC_MALLOC_ATOMIC_UNCOLLECTABLE(n) GC_malloc_atomic_uncollectable(n)
#define GC_NEW_UNCOLLECTABLE(t) ((t *)GC_MALLOC_UNCOLLECTABLE(sizeof(t)))
static inline void *GC_memalign(size_t align, size_t n) {
    grt_gc_autoregister_();
    if (align == 0 || (align & (align - 1)) != 0) return NULL;
    void *p = grt_alloc_aligned(align, n);
    return p ? p : grt_gc_oom_(n);
}
static inline int GC_posix_memalign(void **memptr, size_t align, size_t n) {
    if (align < sizeof(void *) || (align & (align - 1)) != 0) return EINVAL;
    void *p = GC_memalign(align, n);
    if (p == NULL) return ENOMEM;
    *memptr = p;
    return 0;
}
static inline void *GC_valloc(size_t n) { return GC_memalign(4096, n); }
static inline void *GC_pvalloc(size_t n) { return GC_memalign(4096, (n + 4095) & ~(size_t)4095); }

static inline char *GC_strndup(const char *s, size_t n) {
    size_t len = strnlen(s, n);
    char *d = (char *)GC_malloc_atomic(len + 1);
    if (d) memcpy(d, s, len);
    return d;
}
static inline char *GC_strdup(const char *s) { return s ? GC_strndup(s, strlen(s)) : NULL; }

#define GC_MALLOC(n) GC_malloc(n)
#define GC_MALLOC_ATOMIC(n) GC_malloc_atomic(n)
#define GC_MALLOC_IGNORE_OFF_PAGE(n) GC_malloc_ignore_off_page(n)
#define GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(n) GC_malloc_atomic_ignore_off_page(n)
#define GC_REALLOC(p, n) GC_realloc(p, n)
#define GC_FREE(p) GC_free(p)
#define GC_STRDUP(s) GC_strdup(s)
#define GC_STRNDUP(s, n) GC_strndup(s, n)
#define GC_NEW(t) ((t *)GC_MALLOC(sizeof(t)))
#define GC_NEW_ATOMIC(t) ((t *)GC_MALLOC_ATOMIC(sizeof(t)))

/* ---- objects ------------------------------------------------------------------------------- */

static inline void *GC_base(void *p) { return grt_base(p); }
static inline size_t GC_size(const void *p) { return grt_size(p); }
static inline int GC_is_heap_ptr(const void *p) { return grt_base(p) != NULL; }

static inline void GC_noop1(GC_word x) { __asm__ volatile("" : : "r"(x) : "memory"); }
static inline void GC_noop1_ptr(volatile void *p) { __asm__ volatile("" : : "r"(p) : "memory"); }
#define GC_reachable_here(p) __asm__ volatile("" : : "X"(p) : "memory")

static inline void GC_end_stubborn_change(const void *p) { (void)p; }
#define GC_END_STUBBORN_CHANGE(p) GC_end_stubborn_change(p)
static inline void GC_ptr_store_and_dirty(void *slot, const void *v) { *(const void **)slot = v; }
#define GC_PTR_STORE_AND_DIRTY(slot, v) GC_ptr_store_and_dirty(slot, v)

/* ---- collection and statistics ------------------------------------------------------------ */

static inline void GC_gcollect(void) {
    grt_gc_autoregister_();
    (void)grt_gc();
}

static inline struct grt_gc_stats grt_gc_stats_now_(void) {
    struct grt_gc_stats st;
    memset(&st, 0, sizeof st);
    (void)grt_gc_stats(&st);
    return st;
}
static inline size_t GC_get_heap_size(void) { return (size_t)grt_gc_stats_now_().heap_mapped; }
static inline size_t GC_get_free_bytes(void) {
    struct grt_gc_stats st = grt_gc_stats_now_();
    return (size_t)(st.heap_mapped > st.heap_inuse ? st.heap_mapped - st.heap_inuse : 0);
}
static inline GC_word GC_get_gc_no(void) { return (GC_word)grt_gc_stats_now_().cycles; }

/* ---- roots --------------------------------------------------------------------------------- */

static inline void GC_add_roots(void *lo, void *hi) {
    if (grt_add_roots(lo, hi) != GRT_OK) abort();
}
static inline void GC_remove_roots(void *lo, void *hi) { (void)grt_remove_roots(lo, hi); }

/* ---- finalization -------------------------------------------------------------------------- */

static inline void GC_register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
                                         GC_finalization_proc *ofn, void **ocd) {
    grt_gc_autoregister_();
    if (ofn) *ofn = 0;
    if (ocd) *ocd = 0;
    if (obj != NULL && grt_base(obj) == obj) (void)grt_set_finalizer(obj, fn, cd);
}
static inline void GC_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn,
                                                     void *cd, GC_finalization_proc *ofn,
                                                     void **ocd) {
    GC_register_finalizer(obj, fn, cd, ofn, ocd);
}
static inline void GC_register_finalizer_no_order(void *obj, GC_finalization_proc fn, void *cd,
                                                  GC_finalization_proc *ofn, void **ocd) {
    GC_register_finalizer(obj, fn, cd, ofn, ocd);
}
static inline void GC_register_finalizer_unreachable(void *obj, GC_finalization_proc fn,
                                                     void *cd, GC_finalization_proc *ofn,
                                                     void **ocd) {
    GC_register_finalizer(obj, fn, cd, ofn, ocd);
}
#define GC_REGISTER_FINALIZER(p, f, d, of, od) GC_register_finalizer(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_IGNORE_SELF(p, f, d, of, od) \
    GC_register_finalizer_ignore_self(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_NO_ORDER(p, f, d, of, od) \
    GC_register_finalizer_no_order(p, f, d, of, od)

static inline int GC_invoke_finalizers(void) {
    grt_gc_autoregister_();
    int n = grt_run_finalizers();
    return n > 0 ? n : 0;
}
static inline int GC_should_invoke_finalizers(void) { return 0; }

/* ---- disappearing links -------------------------------------------------------------------- */

static inline int grt_gc_link_result_(int r) {
    if (r == GRT_OK) return GC_SUCCESS;
    if (r == GRT_LINK_DUPLICATE) return GC_DUPLICATE;
    if (r == GRT_ENOMEM) return GC_NO_MEMORY;
    abort(); /* a NULL or unaligned link, or obj not in the heap: bdwgc aborts too */
}
static inline int GC_general_register_disappearing_link(void **link, const void *obj) {
    grt_gc_autoregister_();
    return grt_gc_link_result_(grt_link_register(link, obj, 0));
}
static inline int GC_register_disappearing_link(void **link) {
    return GC_general_register_disappearing_link(link, grt_base(link));
}
static inline int GC_register_long_link(void **link, const void *obj) {
    grt_gc_autoregister_();
    return grt_gc_link_result_(grt_link_register(link, obj, GRT_LINK_LONG));
}
static inline int GC_unregister_disappearing_link(void **link) {
    return grt_link_unregister(link, 0) == 1;
}
static inline int GC_unregister_long_link(void **link) {
    return grt_link_unregister(link, GRT_LINK_LONG) == 1;
}
static inline int grt_gc_move_result_(int r) {
    if (r == GRT_LINK_NOT_FOUND) return GC_NOT_FOUND;
    return grt_gc_link_result_(r);
}
typedef void *(*GC_fn_type)(void *client_data);
static inline void GC_alloc_lock(void) {
    grt_gc_autoregister_();
    grt_gc_lock_links();
}
static inline void GC_alloc_unlock(void) { grt_gc_unlock_links(); }
static inline void *GC_call_with_alloc_lock(GC_fn_type fn, void *cd) {
    GC_alloc_lock();
    void *r = fn(cd);
    GC_alloc_unlock();
    return r;
}
static inline void *GC_call_with_reader_lock(GC_fn_type fn, void *cd, int release) {
    (void)release;
    return GC_call_with_alloc_lock(fn, cd);
}
static inline int GC_move_disappearing_link(void **link, void **new_link) {
    return grt_gc_move_result_(grt_link_move(link, new_link, 0));
}
static inline int GC_move_long_link(void **link, void **new_link) {
    return grt_gc_move_result_(grt_link_move(link, new_link, GRT_LINK_LONG));
}

/* ---- pthread redirection (bdwgc's gc_pthread_redirects.h) ---------------------------------- */

#if defined(GC_PTHREADS) && !defined(GC_NO_THREAD_REDIRECTS)
#undef pthread_create
#undef pthread_join
#undef pthread_detach
#define pthread_create GC_pthread_create
#define pthread_join GC_pthread_join
#define pthread_detach GC_pthread_detach
#endif

#ifdef __cplusplus
}
#endif

#endif
