/*
 * Layout constants shared by the aarch64 assembly and the Rust side.
 *
 * This header is the single source of truth: arch/build.rs reads every `#define NAME value`
 * line here and emits the same constants into Rust, where `arch/src/aarch64.rs` asserts at
 * compile time that its mirror structs agree. Change a number here and both sides follow.
 */
#ifndef GRT_AARCH64_CONSTS_H
#define GRT_AARCH64_CONSTS_H

/* Core frame stored by grt_switch_core; sp points at its start (bytes). */
#define SWITCH_FP_OFF       0   /* frame record: saved x29 here ...  */
#define SWITCH_RET_OFF      8   /* ... and saved x30 right above     */
#define SWITCH_X19_OFF      16
#define SWITCH_FRAME_SIZE   32  /* multiple of 16: sp stays aligned  */

/* Where a new context's entry arguments lie, from sp in grt_context_entry. */
#define ENTRY_FN_OFF        0
#define ENTRY_ARG_OFF       8
#define ENTRY_LINK_OFF      16

/* struct grt_tls (the thread's current g and m, and a registered thread's allocation cache),
 * an initial-exec TLS object. */
#define TLS_G_OFF           0
#define TLS_M_OFF           8
#define TLS_CACHE_OFF       16
#define TLS_SIZE            24

#define NR_RT_SIGRETURN     139
#define NR_CLONE            220
#define NR_EXIT             93

#endif
