/* gc/gc_backptr.h over grt: the back-pointer debugging calls (GC_generate_random_backtrace,
 * GC_get_back_ptr_info, ...) need bdwgc's debugging allocator, which grt's gc.h does not
 * provide; this header exists so that programs including it build, and declares nothing. */
#ifndef GRT_GC_BACKPTR_H
#define GRT_GC_BACKPTR_H
#include "gc.h"
#endif
