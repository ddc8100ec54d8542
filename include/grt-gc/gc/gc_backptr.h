/*
 * gc/gc_backptr.h over grt: bdwgc's back-pointer debugging calls (which object or root kept
 * an object alive, recorded by bdwgc's debugging allocator built with KEEP_BACK_PTRS) are
 * not provided: grt's marker records no back pointers. A program that calls one does not
 * build, with this message. Including the header alone is fine.
 */
#ifndef GRT_GC_BACKPTR_H
#define GRT_GC_BACKPTR_H
#include "gc.h"

#define GRT_GC_NO_BACKPTRS_ \
    __attribute__((__error__("grt's gc.h does not provide back pointers (gc/gc_backptr.h): grt's marker records none")))
typedef enum {
    GC_UNREFERENCED,
    GC_NO_SPACE,
    GC_REFD_FROM_ROOT,
    GC_REFD_FROM_REG,
    GC_REFD_FROM_HEAP,
    GC_FINALIZER_REFD
} GC_ref_kind;
GRT_GC_NO_BACKPTRS_ GC_ref_kind GC_get_back_ptr_info(void *dest, void **base_p, size_t *offset_p);
GRT_GC_NO_BACKPTRS_ void *GC_generate_random_heap_address(void);
GRT_GC_NO_BACKPTRS_ void *GC_generate_random_valid_address(void);
GRT_GC_NO_BACKPTRS_ void GC_generate_random_backtrace(void);
GRT_GC_NO_BACKPTRS_ void GC_print_backtrace(void *p);
#endif
