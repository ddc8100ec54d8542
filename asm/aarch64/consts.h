/*
 * Layout constants shared by the aarch64 assembly and the Rust side.
 *
 * This header is the single source of truth: arch/build.rs reads every `#define NAME value`
 * line here and emits the same constants into Rust, where `arch/src/aarch64.rs` asserts at
 * compile time that its mirror structs agree. Change a number here and both sides follow.
 */
#ifndef GRT_AARCH64_CONSTS_H
#define GRT_AARCH64_CONSTS_H

/* Switch frame stored by grt_context_switch; sp points at its start (bytes). */
#define SWITCH_X19_OFF      0
#define SWITCH_X21_OFF      16
#define SWITCH_X23_OFF      32
#define SWITCH_X25_OFF      48
#define SWITCH_X27_OFF      64
#define SWITCH_D8_OFF       80
#define SWITCH_D10_OFF      96
#define SWITCH_D12_OFF      112
#define SWITCH_D14_OFF      128
#define SWITCH_FP_OFF       144 /* frame record: saved x29 here ...  */
#define SWITCH_RET_OFF      152 /* ... and saved x30 right above     */
#define SWITCH_FRAME_SIZE   160 /* multiple of 16: sp stays aligned  */

/* Which saved registers carry the entry arguments of a new context into grt_context_entry. */
#define ENTRY_FN_OFF        0   /* x19 */
#define ENTRY_ARG_OFF       8   /* x20 */
#define ENTRY_LINK_OFF      16  /* x21 */

/* struct grt_tls (the thread's current g and m), an initial-exec TLS object. */
#define TLS_G_OFF           0
#define TLS_M_OFF           8
#define TLS_SIZE            16

#define NR_RT_SIGRETURN     139
#define NR_CLONE            220
#define NR_EXIT             93

#endif
