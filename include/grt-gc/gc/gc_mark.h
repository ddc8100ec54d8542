/*
 * gc/gc_mark.h over grt: object kinds and mark bits (bdwgc 8.x). grt marks conservatively:
 * every word of an object that may hold pointers is looked at, so a kind's descriptor only
 * tells scanned kinds from pointer-free ones, and mark procedures are never called (what a
 * procedure would push, a conservative scan finds, unless the object hides its pointers).
 *   GC_new_kind, GC_new_kind_inner   a kind number; pointer-free when its descriptor is
 *                            0 | GC_DS_LENGTH without the size added, else scanned
 *   GC_new_free_list, GC_new_free_list_inner   an array for the kind (grt keeps its own lists)
 *   GC_new_proc, GC_new_proc_inner   an index for GC_MAKE_PROC (the procedure is not called)
 *   GC_generic_malloc, GC_generic_malloc_ignore_off_page, GC_generic_malloc_uncollectable,
 *   GC_generic_or_special_malloc, GC_GENERIC_OR_SPECIAL_MALLOC   by the kind: atomic or
 *                            scanned, uncollectable for the uncollectable kinds; with the
 *                            kind's disclaim procedure set on the object (grt_set_disclaim)
 *   GC_get_kind_and_size     GC_I_PTRFREE or GC_I_NORMAL by how grt scans the object (grt
 *                            keeps no kind per object), and GC_size
 *   GC_is_marked, GC_set_mark_bit   grt_gc_is_marked, grt_gc_set_mark_bit
 *   GC_clear_mark_bit        accepted with no effect (an object stays until a cycle finds it
 *                            unreachable)
 *   GC_enumerate_reachable_objects_inner   grt_gc_enumerate (the caller need not hold a lock)
 *   GC_mark_and_push, GC_MARK_AND_PUSH   return the mark stack pointer unchanged (only mark
 *                            procedures call them, and grt calls none)
 *   GC_set_push_other_roots  only the default (none): a procedure is refused with a message
 *                            and abort() (grt would never call it: the roots it pushes would
 *                            be freed); use GC_add_roots
 *   GC_set_on_mark_stack_empty, GC_get_on_mark_stack_empty   remembered, never called
 *   GC_register_describe_type_fn   accepted with no effect (grt prints no heap dumps)
 */
#ifndef GRT_GC_MARK_H
#define GRT_GC_MARK_H

#include "gc.h"

#ifdef __cplusplus
extern "C" {
#endif

struct GC_ms_entry {
    void *opaque;
};
typedef struct GC_ms_entry *(*GC_mark_proc)(GC_word *addr, struct GC_ms_entry *mark_stack_top,
                                            struct GC_ms_entry *mark_stack_limit, GC_word env);

#define GC_LOG_MAX_MARK_PROCS 6
#define GC_MAX_MARK_PROCS (1 << GC_LOG_MAX_MARK_PROCS)
#define GC_RESERVED_MARK_PROCS 8
#define GC_GCJ_RESERVED_MARK_PROC_INDEX 0
#define GC_DS_TAG_BITS 2
#define GC_DS_TAGS ((1U << GC_DS_TAG_BITS) - 1)
#define GC_DS_LENGTH 0
#define GC_DS_BITMAP 1
#define GC_DS_PROC 2
#define GC_DS_PER_OBJECT 3
#define GC_INDIR_PER_OBJ_BIAS 0x10
#define GC_MAKE_PROC(proc_index, env)                                                          \
    ((((((GC_word)(env)) << GC_LOG_MAX_MARK_PROCS) | (unsigned)(proc_index)) << GC_DS_TAG_BITS) | \
     (GC_word)GC_DS_PROC)

#ifndef GC_I_PTRFREE
#define GC_I_PTRFREE 0
#define GC_I_NORMAL 1
#endif
/* bdwgc's predefined kinds: pointer-free, normal, uncollectable, atomic uncollectable. */
#define GRT_GC_KIND_UNCOLLECTABLE 2
#define GRT_GC_KIND_AUNCOLLECTABLE 3
#define GRT_GC_MAX_KINDS 32
#define GRT_GC_KIND_SCAN 1
#define GRT_GC_KIND_UNCOLL 2
#define GRT_GC_KIND_DISCLAIM_MARK 4 /* GC_register_disclaim_proc's mark_unconditionally */

/* The kinds (one table per program: weak definitions shared by every unit). */
__attribute__((__weak__)) unsigned char grt_gc_kinds_[GRT_GC_MAX_KINDS] = {
    0, GRT_GC_KIND_SCAN, GRT_GC_KIND_SCAN | GRT_GC_KIND_UNCOLL, GRT_GC_KIND_UNCOLL};
__attribute__((__weak__)) unsigned grt_gc_nkinds_ = 4;
/* Each kind's disclaim procedure (gc_disclaim.h's GC_register_disclaim_proc), or NULL. */
__attribute__((__weak__)) int (*grt_gc_kind_disclaim_[GRT_GC_MAX_KINDS])(void *);
__attribute__((__weak__)) unsigned grt_gc_nprocs_ = GC_RESERVED_MARK_PROCS;

static inline unsigned grt_gc_kind_flags_(int k) {
    if (k < 0 || (unsigned)k >= __atomic_load_n(&grt_gc_nkinds_, __ATOMIC_ACQUIRE)) {
        fprintf(stderr, "grt: gc.h: %d is not an object kind (GC_new_kind)\n", k);
        abort();
    }
    return grt_gc_kinds_[k];
}

static inline void **GC_new_free_list_inner(void) {
    void **fl = (void **)calloc(128, sizeof(void *));
    if (fl == NULL) {
        fprintf(stderr, "grt: gc.h: GC_new_free_list: out of memory\n");
        abort();
    }
    return fl;
}
static inline void **GC_new_free_list(void) { return GC_new_free_list_inner(); }

static inline unsigned GC_new_kind_inner(void **free_list, GC_word descr, int add_size,
                                         int clear_new_objects) {
    (void)free_list;
    (void)clear_new_objects; /* grt's objects always come zeroed */
    unsigned k = __atomic_load_n(&grt_gc_nkinds_, __ATOMIC_RELAXED);
    if (k >= GRT_GC_MAX_KINDS) {
        fprintf(stderr, "grt: gc.h: GC_new_kind: too many kinds (%d)\n", GRT_GC_MAX_KINDS);
        abort();
    }
    int ptrfree = (descr & GC_DS_TAGS) == GC_DS_LENGTH && (descr & ~(GC_word)GC_DS_TAGS) == 0 &&
                  !add_size;
    grt_gc_kinds_[k] = ptrfree ? 0 : GRT_GC_KIND_SCAN;
    __atomic_store_n(&grt_gc_nkinds_, k + 1, __ATOMIC_RELEASE);
    return k;
}
static inline unsigned GC_new_kind(void **free_list, GC_word descr, int add_size,
                                   int clear_new_objects) {
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&m);
    unsigned k = GC_new_kind_inner(free_list, descr, add_size, clear_new_objects);
    pthread_mutex_unlock(&m);
    return k;
}
static inline unsigned GC_new_proc_inner(GC_mark_proc proc) {
    (void)proc; /* never called: grt scans conservatively */
    unsigned i = __atomic_fetch_add(&grt_gc_nprocs_, 1, __ATOMIC_RELAXED);
    if (i >= GC_MAX_MARK_PROCS) {
        fprintf(stderr, "grt: gc.h: GC_new_proc: too many mark procedures\n");
        abort();
    }
    return i;
}
static inline unsigned GC_new_proc(GC_mark_proc proc) { return GC_new_proc_inner(proc); }

/* A kind's disclaim procedure, called as grt's disclaim of the object. */
static inline int grt_gc_kind_disclaim_call_(void *obj, void *proc) {
    return ((int (*)(void *))proc)(obj);
}
static inline void *GC_generic_malloc(size_t n, int k) {
    unsigned f = grt_gc_kind_flags_(k);
    if (f & GRT_GC_KIND_UNCOLL)
        return (f & GRT_GC_KIND_SCAN) ? GC_malloc_uncollectable(n) : GC_malloc_atomic_uncollectable(n);
    void *p = (f & GRT_GC_KIND_SCAN) ? GC_malloc(n) : GC_malloc_atomic(n);
    int (*d)(void *) = __atomic_load_n(&grt_gc_kind_disclaim_[k], __ATOMIC_ACQUIRE);
    if (p != NULL && d != NULL &&
        grt_set_disclaim(p, grt_gc_kind_disclaim_call_, (void *)d,
                         (f & GRT_GC_KIND_DISCLAIM_MARK) ? GRT_DISCLAIM_MARK_CONTENTS : 0) != GRT_OK)
        return NULL; /* grt said why on stderr */
    return p;
}
static inline void *GC_generic_malloc_ignore_off_page(size_t n, int k) { return GC_generic_malloc(n, k); }
static inline void *GC_generic_malloc_uncollectable(size_t n, int k) {
    return (grt_gc_kind_flags_(k) & GRT_GC_KIND_SCAN) ? GC_malloc_uncollectable(n)
                                                      : GC_malloc_atomic_uncollectable(n);
}
static inline void *GC_generic_or_special_malloc(size_t n, int k) { return GC_generic_malloc(n, k); }
#define GC_GENERIC_OR_SPECIAL_MALLOC(sz, knd) GC_generic_or_special_malloc(sz, knd)

static inline int GC_get_kind_and_size(const void *p, size_t *psize) {
    if (psize) *psize = grt_size(p);
    return grt_gc_scanned(p) == 1 ? GC_I_NORMAL : GC_I_PTRFREE;
}

static inline int GC_is_marked(const void *p) { return grt_gc_is_marked(p); }
static inline void GC_set_mark_bit(const void *p) { grt_gc_set_mark_bit(p); }
static inline void GC_clear_mark_bit(const void *p) { (void)p; }

typedef void (*GC_reachable_object_proc)(void *obj, size_t bytes, void *client_data);
static inline void GC_enumerate_reachable_objects_inner(GC_reachable_object_proc proc, void *cd) {
    (void)grt_gc_enumerate(proc, cd);
}

static inline struct GC_ms_entry *GC_mark_and_push(void *obj, struct GC_ms_entry *top,
                                                   struct GC_ms_entry *limit, void **src) {
    (void)obj;
    (void)limit;
    (void)src;
    return top;
}
#define GC_MARK_AND_PUSH(obj, msp, lim, src) GC_mark_and_push((void *)(obj), msp, lim, src)

typedef void (*GC_push_other_roots_proc)(void);
__attribute__((__weak__)) GC_push_other_roots_proc grt_gc_push_other_roots_;
static inline void GC_set_push_other_roots(GC_push_other_roots_proc fn) {
    if (fn != NULL) {
        fprintf(stderr, "grt: gc.h: GC_set_push_other_roots: grt never calls a root-pushing "
                        "procedure (register the ranges with GC_add_roots)\n");
        abort();
    }
    grt_gc_push_other_roots_ = fn;
}
static inline GC_push_other_roots_proc GC_get_push_other_roots(void) { return grt_gc_push_other_roots_; }

typedef struct GC_ms_entry *(*GC_on_mark_stack_empty_proc)(struct GC_ms_entry *mark_stack_top,
                                                           struct GC_ms_entry *mark_stack_limit);
__attribute__((__weak__)) GC_on_mark_stack_empty_proc grt_gc_on_mse_;
static inline void GC_set_on_mark_stack_empty(GC_on_mark_stack_empty_proc fn) { grt_gc_on_mse_ = fn; }
static inline GC_on_mark_stack_empty_proc GC_get_on_mark_stack_empty(void) { return grt_gc_on_mse_; }

/* Called by bdwgc as each collection starts: remembered, never called (grt has no hook). */
typedef void (*GC_start_callback_proc)(void);
__attribute__((__weak__)) GC_start_callback_proc grt_gc_start_cb_;
static inline void GC_set_start_callback(GC_start_callback_proc fn) { grt_gc_start_cb_ = fn; }
static inline GC_start_callback_proc GC_get_start_callback(void) { return grt_gc_start_cb_; }

/* Pointer masking (tagged pointers untagged before marking): grt marks what the words hold,
 * so only the identity (mask all ones, shift 0) is accepted; another one is refused with a
 * message and abort(). */
static inline void GC_set_pointer_mask(GC_word mask) {
    if (mask != ~(GC_word)0) {
        fprintf(stderr, "grt: gc.h: GC_set_pointer_mask: pointers are not masked by grt\n");
        abort();
    }
}
static inline GC_word GC_get_pointer_mask(void) { return ~(GC_word)0; }
static inline void GC_set_pointer_shift(unsigned shift) {
    if (shift != 0) {
        fprintf(stderr, "grt: gc.h: GC_set_pointer_shift: pointers are not shifted by grt\n");
        abort();
    }
}
static inline unsigned GC_get_pointer_shift(void) { return 0; }

/* Whether p lies in a temporary root: the writable data of a loaded object (bdwgc, on
 * glibc, registers every object dl_iterate_phdr lists, the program included, anew at each
 * collection; grt scans the same data). */
#include <elf.h>
/* The head of glibc's struct dl_phdr_info (a stable ABI), and dl_iterate_phdr under a name
 * of ours: <link.h> declares them only under _GNU_SOURCE, which the program may not set. */
struct grt_gc_phdr_info_ {
    Elf64_Addr addr;
    const char *name;
    const Elf64_Phdr *phdr;
    Elf64_Half phnum;
};
extern int grt_gc_dl_iterate_phdr_(int (*cb)(struct grt_gc_phdr_info_ *, size_t, void *),
                                   void *data) __asm__("dl_iterate_phdr");
struct grt_gc_tmp_root_q_ {
    GC_uintptr_t p;
    int found;
};
static inline int grt_gc_tmp_root_cb_(struct grt_gc_phdr_info_ *info, size_t size, void *data) {
    (void)size;
    struct grt_gc_tmp_root_q_ *q = (struct grt_gc_tmp_root_q_ *)data;
    for (int i = 0; i < info->phnum; i++) {
        const Elf64_Phdr *ph = &info->phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W)) continue;
        GC_uintptr_t lo = info->addr + ph->p_vaddr;
        if (q->p >= lo && q->p < lo + ph->p_memsz) {
            q->found = 1;
            return 1;
        }
    }
    return 0;
}
static inline int GC_is_tmp_root(void *p) {
    struct grt_gc_tmp_root_q_ q = {(GC_uintptr_t)p, 0};
    (void)grt_gc_dl_iterate_phdr_(grt_gc_tmp_root_cb_, &q);
    return q.found;
}

typedef void (*GC_describe_type_fn)(void *p, char *out_buf);
#define GC_TYPE_DESCR_LEN 40
static inline void GC_register_describe_type_fn(int kind, GC_describe_type_fn fn) {
    (void)kind;
    (void)fn;
}

#ifdef __cplusplus
}
#endif

#endif
