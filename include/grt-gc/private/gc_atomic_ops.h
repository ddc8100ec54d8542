/* The part of libatomic_ops that bdwgc's tests use (AO_t and a few operations), over the
 * compiler's atomics: for programs built against grt's gc.h. */
#ifndef GRT_GC_ATOMIC_OPS_H
#define GRT_GC_ATOMIC_OPS_H

#include <stddef.h>

typedef size_t AO_t;
#define AO_HAVE_load 1
#define AO_HAVE_store 1
#define AO_HAVE_fetch_and_add1 1
#define AO_HAVE_fetch_and_add 1
#define AO_load(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define AO_store(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define AO_fetch_and_add(p, v) __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define AO_fetch_and_add1(p) __atomic_fetch_add((p), 1, __ATOMIC_SEQ_CST)

#endif
