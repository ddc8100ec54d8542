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
 *                            above 2 MiB give a pointer into the object: GC_base differs)
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
 *   GC_set_find_leak, GC_get_find_leak, gc/leak_detector.h   leak detection through
 *                            disclaims of gc.h's own (see "leak detection" below)
 *   GC_disable, GC_enable, GC_is_disabled, GC_set_disable_automatic_collection
 *                            grt_gc_set_percent(-1) while off (GC_disable also makes
 *                            GC_gcollect do nothing; a cycle under way finishes)
 *   GC_get_total_bytes, GC_get_bytes_since_gc, GC_get_memory_use, GC_get_unmapped_bytes,
 *   GC_get_obtained_from_os_bytes, GC_get_heap_usage_safe, GC_get_prof_stats(_unsafe),
 *   GC_get_size_map_at, GC_get_full_gc_total_time, GC_get_stopped_mark_total_time,
 *   GC_get_avg_stopped_mark_time_ns   from grt_gc_stats and grt_alloc_size (the times are
 *                            grt's stop-the-world pauses: its cycles run concurrently)
 *   GC_same_obj, GC_is_visible, GC_is_valid_displacement, GC_PTR_ADD, GC_PRE_INCR,
 *   GC_POST_INCR, GC_POST_DECR, GC_PTR_STORE   (every displacement is valid and every
 *                            pointer visible to grt; GC_same_obj calls its print procedure)
 *   GC_toggleref_add, GC_TOGGLEREF_ADD   GC_SUCCESS, nothing registered (as bdwgc without a
 *                            callback); a callback (GC_set_toggleref_func) is refused with
 *                            a message and abort()
 *   GC_clear_roots, GC_dlopen, GC_pthread_cancel, GC_do_blocking, GC_call_with_gc_active,
 *   GC_get_my_stackbottom, GC_set_stackbottom (the calling thread's own)
 *   GC_pthread_sigmask       pthread_sigmask that never blocks SIGURG (redirected too)
 *   GC_get_version (8.3.0), GC_is_init_called, GC_get_supported_vdbs, GC_get_actual_vdb,
 *   GC_incremental_protection_needs (mprotect: GRT_PLAIN_STORES_PROTECT)
 *
 * Accepted, with no effect (grt does it anyway, or it does not apply):
 *   GC_set_all_interior_pointers   interior pointers always keep their object
 *   GC_allow_register_threads, GC_start_mark_threads, GC_set_manual_vdb_allowed,
 *   GC_END_STUBBORN_CHANGE, GC_end_stubborn_change, GC_set_thr_restart_signal,
 *   GC_init_finalized_malloc
 *   GC_DEBUG                 the allocation macros record their call site for leak reports;
 *                            the debugging allocator's headers and checks are not provided
 *   GC_get_suspend_signal    SIGURG, grt's suspend signal (GC_set_suspend_signal of another
 *                            says so and changes nothing; GC_get_thr_restart_signal: SIGURG)
 *   Tuning read back as set, with no effect on grt's pacing (it has its own: GRTGC,
 *   GRTMEMLIMIT): GC_set/get_min_bytes_allocd, rate, max_prior_attempts,
 *   free_space_divisor, full_freq, max_retries, dont_expand, dont_precollect,
 *   force_unmap_on_gcollect, no_dls, non_gc_bytes, allocd_bytes_per_finalizer,
 *   finalize_on_demand, java_finalization, interrupt_finalizers, pages_executable,
 *   time_limit, time_limit_tv; GC_expand_hp (1: the heap grows as needed),
 *   GC_collect_a_little (0: grt's collector thread does the work), GC_gcollect_and_unmap
 *   (GC_gcollect: free pages go back to the kernel about a second after they are free),
 *   GC_start_performance_measurement, GC_set_markers_count
 *   Hooks remembered and never called (grt has no such events): GC_set/get_warn_proc,
 *   abort_func, on_collection_event, on_heap_resize, on_thread_event, finalizer_notifier,
 *   await_finalize_proc, sp_corrector, stop_func, GC_set_start_callback (gc_mark.h)
 *   GC_exclude_static_roots, GC_register_has_static_roots_callback   grt scans all data
 *   GC_get_hblk_size (4096), GC_get_dont_add_byte_at_end (1: no byte is added)
 *
 * With a weaker effect:
 *   GC_stop_world_external, GC_start_world_external   the allocator lock (no collection
 *                            ends meanwhile); the other threads are not stopped
 *
 * In the other headers: gc/gc_disclaim.h (GC_finalized_malloc), gc/gc_typed.h (typed
 * allocation), gc/gc_inline.h (the inline allocation macros), gc/javaxfc.h (GC_finalize_all),
 * gc/gc_backptr.h (declares nothing: the back-pointer calls need bdwgc's debugging
 * allocator): see each.
 *
 * Not provided (a program using them does not build): the debugging allocator's calls
 * (GC_debug_*) and back pointers (gc/gc_backptr.h, with a message), gcj-style allocation,
 * fork handling (GC_atfork_prepare, _parent, _child: a message; GC_set_handle_fork is
 * accepted with no effect; private/gcconfig.h does not define CAN_HANDLE_FORK: the child of
 * a threaded grt program may only exec), thread suspension (GC_suspend_thread). Mark
 * procedures and kinds: see gc/gc_mark.h.
 */
#ifndef GRT_GC_GC_H
#define GRT_GC_GC_H

#include <dlfcn.h>
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
__attribute__((__weak__)) int grt_gc_started_;
static inline void grt_gc_start_(void) {
    if (grt_init() != GRT_OK) {
        fprintf(stderr, "gc.h: grt_init failed\n");
        abort();
    }
    __atomic_store_n(&grt_gc_started_, 1, __ATOMIC_RELAXED);
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

/* ---- leak detection (bdwgc's find-leak mode) ----------------------------------------------- *
 * GC_set_find_leak(1), before the allocations to watch: every collectable object allocated
 * through this header from then on carries a disclaim of gc.h's own (grt_set_disclaim),
 * removed by GC_FREE. One that becomes unreachable without GC_FREE is reported on stderr
 * when its disclaim runs ("grt: gc.h: leaked object at 0x... (n bytes), allocated at
 * file:line": the site is known when the allocation macros were used with GC_DEBUG
 * defined, as gc/leak_detector.h does), then freed. Disclaims impose no order: a leaked
 * cycle or chain is reported in one collection. GC_gcollect runs the due reports on the
 * calling thread (grt's finalizer goroutine may be printing some at the same time), so a
 * collection reports the leaks it found as it returns (bdwgc's CHECK_LEAKS).
 * Uncollectable objects are never reported; an object given a finalizer or a disclaim of
 * the program's (GC_register_finalizer, a kind's, GC_finalized_malloc's) is not watched. Allocations on threads grt cannot
 * register (inside a grt_cgocall function) are not watched. */
__attribute__((__weak__)) int grt_gc_find_leak_;
/* Leak mode was on at some point: frees stop watching even after it went off. */
__attribute__((__weak__)) int grt_gc_find_leak_ever_;
static inline int GC_get_find_leak(void) { return __atomic_load_n(&grt_gc_find_leak_, __ATOMIC_RELAXED); }
static inline void GC_set_find_leak(int on) {
    if (on) __atomic_store_n(&grt_gc_find_leak_ever_, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&grt_gc_find_leak_, on != 0, __ATOMIC_RELAXED);
}
static inline int grt_gc_leaked_(void *obj, void *site) {
    if (site)
        fprintf(stderr, "grt: gc.h: leaked object at %p (%zu bytes), allocated at %s\n", obj,
                grt_size(obj), (const char *)site);
    else
        fprintf(stderr, "grt: gc.h: leaked object at %p (%zu bytes)\n", obj, grt_size(obj));
    (void)grt_free(obj);
    return 0; /* let it go */
}
/* p, watched for leaks (leak mode) with its allocation site ("file:line", or NULL). */
static inline void *grt_gc_watch_(void *p, const char *site) {
    if (p != NULL && __builtin_expect(__atomic_load_n(&grt_gc_find_leak_, __ATOMIC_RELAXED), 0) &&
        grt_thread_registered() != 0)
        (void)grt_set_disclaim(grt_base(p), grt_gc_leaked_, (void *)site, 0);
    return p;
}
/* A call that frees (GC_FREE, a GC_REALLOC that moves or shrinks to 0) stops watching. */
static inline void grt_gc_unwatch_(void *p) {
    if (p != NULL && __builtin_expect(__atomic_load_n(&grt_gc_find_leak_ever_, __ATOMIC_RELAXED), 0) &&
        grt_thread_registered() != 0 && grt_base(p) == p)
        (void)grt_set_disclaim(p, NULL, NULL, 0);
}
/* The call site as a string literal ("file:line"). */
#define GRT_GC_STR2_(x) #x
#define GRT_GC_STR_(x) GRT_GC_STR2_(x)
#define GRT_GC_SITE_ (__FILE__ ":" GRT_GC_STR_(__LINE__))

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
grt_gc_malloc_at_(size_t n, const char *site) {
    grt_gc_autoregister_();
    void *p = grt_try_alloc(n);
    return grt_gc_watch_(p ? p : grt_gc_oom_(n), site);
}
GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) static inline __attribute__((__always_inline__)) void *
grt_gc_malloc_atomic_at_(size_t n, const char *site) {
    grt_gc_autoregister_();
    void *p = grt_try_alloc_atomic(n);
    return grt_gc_watch_(p ? p : grt_gc_oom_(n), site);
}
GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) static inline __attribute__((__always_inline__)) void *
GC_malloc(size_t n) {
    return grt_gc_malloc_at_(n, NULL);
}
GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) static inline __attribute__((__always_inline__)) void *
GC_malloc_atomic(size_t n) {
    return grt_gc_malloc_atomic_at_(n, NULL);
}
static inline void *GC_malloc_ignore_off_page(size_t n) { return GC_malloc(n); }
static inline void *GC_malloc_atomic_ignore_off_page(size_t n) { return GC_malloc_atomic(n); }

static inline void *grt_gc_realloc_at_(void *p, size_t n, const char *site) {
    grt_gc_autoregister_();
    if (p == NULL) return grt_gc_malloc_at_(n, site);
    if (n == 0) {
        grt_gc_unwatch_(p);
        return NULL;
    }
    void *q = grt_realloc(p, n);
    if (q != NULL && q != p) {
        grt_gc_unwatch_(p);
        (void)grt_gc_watch_(q, site);
    }
    return q;
}
static inline void *GC_realloc(void *p, size_t n) { return grt_gc_realloc_at_(p, n, NULL); }

static inline void GC_free(void *p) {
    if (p != NULL) grt_gc_autoregister_();
    grt_gc_unwatch_(p);
    (void)grt_free(p);
}

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
        void *p = grt_gc_watch_(grt_try_alloc(n), NULL);
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
    return grt_gc_watch_(p ? p : grt_gc_oom_(n), NULL);
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

static inline char *grt_gc_strndup_at_(const char *s, size_t n, const char *site) {
    size_t len = strnlen(s, n);
    char *d = (char *)grt_gc_malloc_atomic_at_(len + 1, site);
    if (d) memcpy(d, s, len);
    return d;
}
static inline char *GC_strndup(const char *s, size_t n) { return grt_gc_strndup_at_(s, n, NULL); }
static inline char *grt_gc_strdup_at_(const char *s, const char *site) {
    return s ? grt_gc_strndup_at_(s, strlen(s), site) : NULL;
}
static inline char *GC_strdup(const char *s) { return grt_gc_strdup_at_(s, NULL); }

/* With GC_DEBUG, the allocation macros record their call site for leak reports (bdwgc's
 * debugging allocator's headers and checks are not provided). */
#ifdef GC_DEBUG
#define GC_MALLOC(n) grt_gc_malloc_at_(n, GRT_GC_SITE_)
#define GC_MALLOC_ATOMIC(n) grt_gc_malloc_atomic_at_(n, GRT_GC_SITE_)
#define GC_MALLOC_IGNORE_OFF_PAGE(n) grt_gc_malloc_at_(n, GRT_GC_SITE_)
#define GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(n) grt_gc_malloc_atomic_at_(n, GRT_GC_SITE_)
#define GC_REALLOC(p, n) grt_gc_realloc_at_(p, n, GRT_GC_SITE_)
#define GC_STRDUP(s) grt_gc_strdup_at_(s, GRT_GC_SITE_)
#define GC_STRNDUP(s, n) grt_gc_strndup_at_(s, n, GRT_GC_SITE_)
#else
#define GC_MALLOC(n) GC_malloc(n)
#define GC_MALLOC_ATOMIC(n) GC_malloc_atomic(n)
#define GC_MALLOC_IGNORE_OFF_PAGE(n) GC_malloc_ignore_off_page(n)
#define GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(n) GC_malloc_atomic_ignore_off_page(n)
#define GC_REALLOC(p, n) GC_realloc(p, n)
#define GC_STRDUP(s) GC_strdup(s)
#define GC_STRNDUP(s, n) GC_strndup(s, n)
#endif
#define GC_FREE(p) GC_free(p)
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

__attribute__((__weak__)) int grt_gc_disabled_;
static inline void GC_gcollect(void) {
    grt_gc_autoregister_();
    if (__atomic_load_n(&grt_gc_disabled_, __ATOMIC_RELAXED) > 0) return; /* GC_disable */
    (void)grt_gc();
    if (GC_get_find_leak()) (void)grt_run_finalizers(); /* the leak reports, here */
}

static inline struct grt_gc_stats grt_gc_stats_now_(void) {
    struct grt_gc_stats st;
    memset(&st, 0, sizeof st);
    (void)grt_gc_stats(&st);
    return st;
}
/* bdwgc's heap size leaves out what went back to the kernel. */
static inline size_t GC_get_heap_size(void) {
    struct grt_gc_stats st = grt_gc_stats_now_();
    return (size_t)(st.heap_mapped - st.heap_released);
}
static inline size_t GC_get_free_bytes(void) {
    struct grt_gc_stats st = grt_gc_stats_now_();
    uint64_t hs = st.heap_mapped - st.heap_released;
    return (size_t)(hs > st.heap_inuse ? hs - st.heap_inuse : 0);
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
    if (obj != NULL && grt_base(obj) == obj) {
        if (fn != NULL) grt_gc_unwatch_(obj); /* leak mode: finalized, not a leak */
        (void)grt_set_finalizer(obj, fn, cd);
    }
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

/* ---- the rest of bdwgc's API: tuning, statistics, checks ------------------------------------ */

#define GC_VERSION_MAJOR 8
#define GC_VERSION_MINOR 3
#define GC_VERSION_MICRO 0
#define GC_VERSION_VAL_T unsigned
static inline GC_VERSION_VAL_T GC_get_version(void) {
    return ((GC_VERSION_VAL_T)GC_VERSION_MAJOR << 16) | (GC_VERSION_MINOR << 8) | GC_VERSION_MICRO;
}
static inline int GC_is_init_called(void) { return grt_gc_started_; }

/* One setting of each kind per program (weak definitions shared by every unit). */
#define GRT_GC_SETTING_(type, name, init)                                                      \
    __attribute__((__weak__)) type grt_gc_##name##_ = init;                                    \
    static inline void GC_set_##name(type v) { __atomic_store_n(&grt_gc_##name##_, v, __ATOMIC_RELAXED); } \
    static inline type GC_get_##name(void) { return __atomic_load_n(&grt_gc_##name##_, __ATOMIC_RELAXED); }

/* Remembered and read back, with no effect on grt (see the list at the top). */
GRT_GC_SETTING_(size_t, min_bytes_allocd, 1)
GRT_GC_SETTING_(int, rate, 10)
GRT_GC_SETTING_(int, max_prior_attempts, 3)
GRT_GC_SETTING_(GC_word, free_space_divisor, 3)
GRT_GC_SETTING_(int, full_freq, 19)
GRT_GC_SETTING_(GC_word, max_retries, 0)
GRT_GC_SETTING_(int, dont_expand, 0)
GRT_GC_SETTING_(int, dont_precollect, 0)
GRT_GC_SETTING_(int, force_unmap_on_gcollect, 0)
GRT_GC_SETTING_(int, no_dls, 0)
GRT_GC_SETTING_(GC_word, non_gc_bytes, 0)
GRT_GC_SETTING_(GC_word, allocd_bytes_per_finalizer, 10000)
GRT_GC_SETTING_(int, finalize_on_demand, 0)
GRT_GC_SETTING_(int, java_finalization, 1)
GRT_GC_SETTING_(unsigned, interrupt_finalizers, 0)
GRT_GC_SETTING_(int, pages_executable, 0)
#define GC_TIME_UNLIMITED 999999
GRT_GC_SETTING_(unsigned long, time_limit, GC_TIME_UNLIMITED)

struct GC_timeval_s {
    unsigned long tv_ms;   /* milliseconds */
    unsigned long tv_nsec; /* and nanoseconds (under 1000000) */
};
__attribute__((__weak__)) struct GC_timeval_s grt_gc_time_limit_tv_ = {15, 0};
static inline void GC_set_time_limit_tv(struct GC_timeval_s tv) { grt_gc_time_limit_tv_ = tv; }
static inline struct GC_timeval_s GC_get_time_limit_tv(void) { return grt_gc_time_limit_tv_; }

/* Callbacks bdwgc calls on its events: remembered, never called (grt has no such hooks). */
typedef enum {
    GC_EVENT_START,
    GC_EVENT_MARK_START,
    GC_EVENT_MARK_END,
    GC_EVENT_RECLAIM_START,
    GC_EVENT_RECLAIM_END,
    GC_EVENT_END,
    GC_EVENT_PRE_STOP_WORLD,
    GC_EVENT_POST_STOP_WORLD,
    GC_EVENT_PRE_START_WORLD,
    GC_EVENT_POST_START_WORLD,
    GC_EVENT_THREAD_SUSPENDED,
    GC_EVENT_THREAD_UNSUSPENDED
} GC_EventType;
typedef void (*GC_on_collection_event_proc)(GC_EventType);
typedef void (*GC_on_heap_resize_proc)(GC_word);
typedef void (*GC_on_thread_event_proc)(GC_EventType, void *);
typedef void (*GC_finalizer_notifier_proc)(void);
typedef void (*GC_await_finalize_proc)(void *);
typedef void (*GC_sp_corrector_proc)(void **, void *);
typedef int (*GC_stop_func)(void);
typedef void (*GC_warn_proc)(const char *msg, GC_uintptr_t arg);
typedef void (*GC_abort_func)(const char *msg);
GRT_GC_SETTING_(GC_on_collection_event_proc, on_collection_event, NULL)
GRT_GC_SETTING_(GC_on_heap_resize_proc, on_heap_resize, NULL)
GRT_GC_SETTING_(GC_on_thread_event_proc, on_thread_event, NULL)
GRT_GC_SETTING_(GC_finalizer_notifier_proc, finalizer_notifier, NULL)
GRT_GC_SETTING_(GC_await_finalize_proc, await_finalize_proc, NULL)
GRT_GC_SETTING_(GC_sp_corrector_proc, sp_corrector, NULL)
GRT_GC_SETTING_(GC_stop_func, stop_func, NULL)
GRT_GC_SETTING_(GC_warn_proc, warn_proc, NULL)
GRT_GC_SETTING_(GC_abort_func, abort_func, NULL)

/* Collection on and off. GC_disable nests; while disabled, no cycle starts on its own
 * (grt_gc_set_percent(-1)) and GC_gcollect does nothing, as with bdwgc (a cycle already
 * under way finishes). */
__attribute__((__weak__)) int grt_gc_saved_percent_; /* the setting before they went off */
__attribute__((__weak__)) int grt_gc_off_applied_;
__attribute__((__weak__)) int grt_gc_auto_off_;
__attribute__((__weak__)) pthread_mutex_t grt_gc_disable_mu_ = PTHREAD_MUTEX_INITIALIZER;
static inline void grt_gc_apply_percent_(void) { /* grt_gc_disable_mu_ held */
    int off = grt_gc_disabled_ > 0 || grt_gc_auto_off_;
    if (off && !grt_gc_off_applied_) grt_gc_saved_percent_ = grt_gc_set_percent(-1);
    if (!off && grt_gc_off_applied_) (void)grt_gc_set_percent(grt_gc_saved_percent_);
    grt_gc_off_applied_ = off;
}
static inline void GC_disable(void) {
    grt_gc_start_();
    pthread_mutex_lock(&grt_gc_disable_mu_);
    grt_gc_disabled_++;
    grt_gc_apply_percent_();
    pthread_mutex_unlock(&grt_gc_disable_mu_);
}
static inline void GC_enable(void) {
    pthread_mutex_lock(&grt_gc_disable_mu_);
    if (grt_gc_disabled_ > 0) grt_gc_disabled_--;
    grt_gc_apply_percent_();
    pthread_mutex_unlock(&grt_gc_disable_mu_);
}
static inline int GC_is_disabled(void) { return __atomic_load_n(&grt_gc_disabled_, __ATOMIC_RELAXED) > 0; }
static inline void GC_set_disable_automatic_collection(int on) {
    grt_gc_start_();
    pthread_mutex_lock(&grt_gc_disable_mu_);
    grt_gc_auto_off_ = on != 0;
    grt_gc_apply_percent_();
    pthread_mutex_unlock(&grt_gc_disable_mu_);
}
static inline int GC_get_disable_automatic_collection(void) { return grt_gc_auto_off_; }

/* The heap grows as needed: a request to grow it succeeds with nothing to do. */
static inline int GC_expand_hp(size_t bytes) {
    (void)bytes;
    grt_gc_start_();
    return 1;
}
/* A full cycle (free pages go back to the kernel about a second after they become free). */
static inline void GC_gcollect_and_unmap(void) { GC_gcollect(); }
/* grt's collector thread does a cycle's work (allocations help it when they outrun it):
 * nothing is left for the caller. */
static inline int GC_collect_a_little(void) { return 0; }
static inline void GC_start_performance_measurement(void) {}

/* Statistics (grt_gc_stats). */
static inline size_t GC_get_total_bytes(void) { return (size_t)grt_gc_stats_now_().alloc_bytes; }
static inline size_t GC_get_bytes_since_gc(void) {
    struct grt_gc_stats st = grt_gc_stats_now_();
    return (size_t)(st.heap_live > st.last_marked ? st.heap_live - st.last_marked : 0);
}
static inline GC_word GC_get_memory_use(void) { return (GC_word)grt_gc_stats_now_().heap_inuse; }
static inline size_t GC_get_unmapped_bytes(void) { return (size_t)grt_gc_stats_now_().heap_released; }
static inline size_t GC_get_obtained_from_os_bytes(void) { return (size_t)grt_gc_stats_now_().heap_mapped; }
static inline void GC_get_heap_usage_safe(GC_word *heap_size, GC_word *free_bytes,
                                          GC_word *unmapped_bytes, GC_word *bytes_since_gc,
                                          GC_word *total_bytes) {
    struct grt_gc_stats st = grt_gc_stats_now_();
    GC_word hs = (GC_word)(st.heap_mapped - st.heap_released);
    if (heap_size) *heap_size = hs;
    if (free_bytes) *free_bytes = hs > st.heap_inuse ? hs - (GC_word)st.heap_inuse : 0;
    if (unmapped_bytes) *unmapped_bytes = (GC_word)st.heap_released;
    if (bytes_since_gc) *bytes_since_gc = st.heap_live > st.last_marked ? (GC_word)(st.heap_live - st.last_marked) : 0;
    if (total_bytes) *total_bytes = (GC_word)st.alloc_bytes;
}
struct GC_prof_stats_s {
    GC_word heapsize_full;
    GC_word free_bytes_full;
    GC_word unmapped_bytes;
    GC_word bytes_allocd_since_gc;
    GC_word allocd_bytes_before_gc;
    GC_word non_gc_bytes;
    GC_word gc_no;
    GC_word markers_m1;
    GC_word bytes_reclaimed_since_gc;
    GC_word reclaimed_bytes_before_gc;
    GC_word expl_freed_bytes_since_gc;
    GC_word obtained_from_os_bytes;
};
/* Fills at most sz bytes of *out; returns how many. Fields grt does not count are ~0, as
 * bdwgc does for the ones it lacks. */
static inline size_t GC_get_prof_stats(struct GC_prof_stats_s *out, size_t sz) {
    struct grt_gc_stats st = grt_gc_stats_now_();
    struct GC_prof_stats_s v;
    memset(&v, 0xff, sizeof v);
    v.heapsize_full = (GC_word)st.heap_mapped;
    v.free_bytes_full = st.heap_mapped > st.heap_inuse ? (GC_word)(st.heap_mapped - st.heap_inuse) : 0;
    v.unmapped_bytes = (GC_word)st.heap_released;
    v.bytes_allocd_since_gc = st.heap_live > st.last_marked ? (GC_word)(st.heap_live - st.last_marked) : 0;
    v.allocd_bytes_before_gc = (GC_word)st.alloc_bytes - v.bytes_allocd_since_gc;
    v.non_gc_bytes = GC_get_non_gc_bytes();
    v.gc_no = (GC_word)st.cycles;
    v.markers_m1 = 0;
    v.obtained_from_os_bytes = (GC_word)st.heap_mapped;
    if (sz > sizeof v) sz = sizeof v;
    memcpy(out, &v, sz);
    return sz;
}
static inline size_t GC_get_prof_stats_unsafe(struct GC_prof_stats_s *out, size_t sz) {
    return GC_get_prof_stats(out, sz);
}
/* The bytes an allocation of i bytes gets, for the small sizes grt keeps classes of (up to
 * 32 KiB); (size_t)-1 outside them, as bdwgc outside its table. */
#define GRT_GC_MAX_SMALL 32768
static inline size_t GC_get_size_map_at(int i) {
    return i < 0 || i > GRT_GC_MAX_SMALL ? (size_t)-1 : grt_alloc_size((size_t)i);
}
/* Time: grt collects concurrently; these count its stop-the-world pauses (in ms, and the
 * mean per cycle in ns). */
static inline unsigned long GC_get_full_gc_total_time(void) {
    return (unsigned long)(grt_gc_stats_now_().pause_total_ns / 1000000u);
}
static inline unsigned long GC_get_stopped_mark_total_time(void) { return GC_get_full_gc_total_time(); }
static inline unsigned long GC_get_avg_stopped_mark_time_ns(void) {
    struct grt_gc_stats st = grt_gc_stats_now_();
    return st.cycles ? (unsigned long)(st.pause_total_ns / st.cycles) : 0;
}
/* bdwgc's heap block: the unit its programs size things by (grt's pages are 8 KiB). */
static inline size_t GC_get_hblk_size(void) { return 4096; }
/* grt adds no byte at an object's end: a pointer just past an object does not keep it. */
static inline int GC_get_dont_add_byte_at_end(void) { return 1; }

/* Dirty-page tracking (bdwgc's virtual dirty bits): grt's GRT_PLAIN_STORES_PROTECT. */
#define GC_VDB_NONE 0
#define GC_VDB_MPROTECT 0x1
#define GC_VDB_MANUAL 0x2
#define GC_VDB_DEFAULT 0x4
#define GC_VDB_GWW 0x8
#define GC_VDB_PROC 0x20
#define GC_VDB_SOFT 0x40
#define GC_PROTECTS_NONE 0
#define GC_PROTECTS_POINTER_HEAP 1
#define GC_PROTECTS_PTRFREE_HEAP 2
#define GC_PROTECTS_STATIC_DATA 4
#define GC_PROTECTS_STACK 8
static inline unsigned GC_get_supported_vdbs(void) { return GC_VDB_MPROTECT; }
static inline unsigned GC_get_actual_vdb(void) {
    return GC_is_incremental_mode() ? GC_VDB_MPROTECT : GC_VDB_NONE;
}
static inline int GC_incremental_protection_needs(void) {
    return GC_is_incremental_mode() ? GC_PROTECTS_POINTER_HEAP : GC_PROTECTS_NONE;
}
static inline int GC_get_manual_vdb_allowed(void) { return 0; }

/* Pointer checks. Every word grt scans counts wherever it points into an object, so every
 * displacement is valid and every pointer visible; GC_same_obj calls the print procedure
 * (default: a message and abort) when p and q lie in different heap objects. */
typedef void (*GC_same_obj_print_proc_t)(void *p, void *q);
typedef void (*GC_valid_ptr_print_proc_t)(void *p);
static inline void grt_gc_same_obj_default_(void *p, void *q) {
    fprintf(stderr, "grt: gc.h: GC_same_obj: %p and %p are not in the same object\n", p, q);
    abort();
}
GRT_GC_SETTING_(GC_same_obj_print_proc_t, same_obj_print_proc, grt_gc_same_obj_default_)
GRT_GC_SETTING_(GC_valid_ptr_print_proc_t, is_valid_displacement_print_proc, NULL)
GRT_GC_SETTING_(GC_valid_ptr_print_proc_t, is_visible_print_proc, NULL)
static inline void *GC_same_obj(void *p, void *q) {
    void *bp = grt_base(p);
    if (bp != NULL && bp != grt_base(q)) GC_get_same_obj_print_proc()(p, q);
    return p;
}
static inline void *GC_is_valid_displacement(void *p) { return p; }
static inline void *GC_is_visible(void *p) { return p; }
#define GC_PTR_ADD3(x, n, type_of_result) ((type_of_result)((x) + (n)))
#define GC_PTR_ADD(x, n) ((x) + (n))
#define GC_PRE_INCR(x, n) ((x) += (n))
#define GC_POST_INCR(x) ((x)++)
#define GC_POST_DECR(x) ((x)--)
#define GC_PTR_STORE(p, q) (*(p) = (q))
#define GC_ADDR_LT(p, q) ((GC_uintptr_t)(p) < (GC_uintptr_t)(q))
#define GC_REGISTER_LONG_LINK(link, obj) GC_register_long_link(link, obj)
#define GC_GENERAL_REGISTER_DISAPPEARING_LINK(link, obj) GC_general_register_disappearing_link(link, obj)
#define GC_REGISTER_FINALIZER_UNREACHABLE(p, f, d, of, od) GC_register_finalizer_unreachable(p, f, d, of, od)

/* Toggle-refs (bdwgc's GC_toggleref_add): bdwgc processes them only with a callback set, and
 * registers nothing without one (GC_SUCCESS). grt never calls such a callback, so
 * GC_set_toggleref_func refuses one (a message and abort()) and GC_toggleref_add registers
 * nothing: the object lives or dies as any other. */
typedef enum { GC_TOGGLE_REF_DROP, GC_TOGGLE_REF_STRONG, GC_TOGGLE_REF_WEAK } GC_ToggleRefStatus;
typedef GC_ToggleRefStatus (*GC_toggleref_func)(void *obj);
static inline void GC_set_toggleref_func(GC_toggleref_func fn) {
    if (fn != NULL) {
        fprintf(stderr, "grt: gc.h: GC_set_toggleref_func: toggle-ref callbacks are not provided\n");
        abort();
    }
}
static inline GC_toggleref_func GC_get_toggleref_func(void) { return NULL; }
static inline int GC_toggleref_add(void *obj, int is_strong) {
    (void)obj;
    (void)is_strong;
    return GC_SUCCESS;
}
#define GC_TOGGLEREF_ADD(p, is_strong) GC_toggleref_add(p, is_strong)

/* Roots. grt scans all of the program's data and every library's, every cycle. */
static inline void GC_clear_roots(void) { (void)grt_remove_roots(NULL, (void *)UINTPTR_MAX); }
/* Accepted with no effect: grt scans the range anyway (it keeps more, never less). */
static inline void GC_exclude_static_roots(void *lo, void *hi) {
    (void)lo;
    (void)hi;
}
typedef int (*GC_has_static_roots_func)(const char *dlpi_name, void *section_start, size_t section_size);
/* Accepted with no effect: every library's writable data is scanned. */
static inline void GC_register_has_static_roots_callback(GC_has_static_roots_func fn) { (void)fn; }

/* Threads. */
static inline void *GC_do_blocking(GC_fn_type fn, void *cd) { return fn(cd); }
/* (The calling thread's whole stack is always scanned: nothing to turn back on.) */
static inline void *GC_call_with_gc_active(GC_fn_type fn, void *cd) { return fn(cd); }
/* The calling thread's handle and stack base. */
static inline void *GC_get_my_stackbottom(struct GC_stack_base *sb) {
    if (GC_get_stack_base(sb) != GC_SUCCESS) sb->mem_base = NULL;
    return (void *)pthread_self();
}
/* The stack base of the calling thread (handle NULL or its own): registered again with the
 * new base (a program switching stacks under bdwgc does this), under the allocator lock so
 * that no collection ends while it is out. Another thread's: refused with a message (grt
 * reads a thread's stack bounds only on that thread); a base grt refuses: a message, and the
 * thread registers again on its next allocation. */
static inline void GC_set_stackbottom(void *handle, const struct GC_stack_base *sb) {
    if (handle != NULL && handle != (void *)pthread_self()) {
        fprintf(stderr, "grt: gc.h: GC_set_stackbottom: only the calling thread's stack base can be set\n");
        return;
    }
    struct GC_stack_base cur;
    if (GC_get_stack_base(&cur) == GC_SUCCESS && cur.mem_base == sb->mem_base && grt_thread_registered() == 1) return;
    GC_alloc_lock();
    if (grt_thread_registered() == 1) (void)grt_unregister_thread();
    int r = grt_register_thread(sb->mem_base);
    grt_gc_registered_ = r == GRT_OK;
    GC_alloc_unlock();
    if (r != GRT_OK) fprintf(stderr, "grt: gc.h: GC_set_stackbottom: the thread could not be registered with that base\n");
}
/* grt stops threads with SIGURG and restarts them without a signal. */
static inline void GC_set_suspend_signal(int sig) {
    if (sig != SIGURG) fprintf(stderr, "grt: gc.h: GC_set_suspend_signal(%d): grt's suspend signal is SIGURG; unchanged\n", sig);
}
static inline int GC_get_thr_restart_signal(void) { return SIGURG; }
/* grt marks on its collector thread, helped by allocating threads: no marker threads. */
static inline void GC_set_markers_count(unsigned n) { (void)n; }
/* Stopping the world from the program (bdwgc's, for heap inspection): grt takes the
 * allocator lock (no collection ends meanwhile); the other threads are not stopped. */
static inline void GC_stop_world_external(void) { GC_alloc_lock(); }
static inline void GC_start_world_external(void) { GC_alloc_unlock(); }
/* Fork: a child of a threaded grt program has none of grt's threads and may only exec. */
static inline void GC_set_handle_fork(int on) { (void)on; }
#define GRT_GC_NO_FORK_ __attribute__((__error__("grt's gc.h does not handle fork: the child of a threaded grt program may only exec")))
GRT_GC_NO_FORK_ void GC_atfork_prepare(void);
GRT_GC_NO_FORK_ void GC_atfork_parent(void);
GRT_GC_NO_FORK_ void GC_atfork_child(void);
/* pthread_sigmask that never blocks grt's suspend signal (SIGURG), as bdwgc keeps its own
 * unblocked: a registered thread that blocked it could not be stopped. */
static inline int GC_pthread_sigmask(int how, const sigset_t *set, sigset_t *old) {
    sigset_t s;
    if (set != NULL && how != SIG_UNBLOCK) {
        s = *set;
        sigdelset(&s, SIGURG);
        set = &s;
    }
    return pthread_sigmask(how, set, old);
}
static inline int GC_pthread_cancel(pthread_t t) { return pthread_cancel(t); }
/* grt finds libraries loaded later by itself (their data is scanned from the next cycle). */
static inline void *GC_dlopen(const char *path, int flags) { return dlopen(path, flags); }

/* ---- pthread redirection (bdwgc's gc_pthread_redirects.h) ---------------------------------- */

#if defined(GC_PTHREADS) && !defined(GC_NO_THREAD_REDIRECTS)
#undef pthread_create
#undef pthread_join
#undef pthread_detach
#define pthread_create GC_pthread_create
#define pthread_join GC_pthread_join
#define pthread_detach GC_pthread_detach
#undef pthread_sigmask
#define pthread_sigmask GC_pthread_sigmask
#endif

#ifdef __cplusplus
}
#endif

#endif
