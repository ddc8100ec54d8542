/*
 * Layout constants shared by the x86_64 assembly and the Rust side.
 *
 * This header is the single source of truth: arch/build.rs reads every `#define NAME value`
 * line here and emits the same constants into Rust, where `arch/src/x86_64.rs` asserts at
 * compile time that its mirror structs agree. Change a number here and both sides follow.
 */
#ifndef GRT_X86_64_CONSTS_H
#define GRT_X86_64_CONSTS_H

/* Core frame pushed by grt_switch_core below its caller's return address (bytes). */
#define SWITCH_RBX_OFF      0
#define SWITCH_RBP_OFF      8   /* frame record: saved rbp here ...        */
#define SWITCH_RET_OFF      16  /* ... and the return address right above  */
#define SWITCH_FRAME_SIZE   16  /* bytes below the return address          */

/* grt_context_switch's control-word slot, at its rsp when it calls grt_switch_core. */
#define SWITCH_CTL_OFF      0   /* MXCSR (low 4 bytes) and x87 control word (next 2 bytes) */

/* Where a new context's entry arguments lie, from rsp in grt_context_entry. */
#define ENTRY_FN_OFF        0
#define ENTRY_ARG_OFF       8
#define ENTRY_LINK_OFF      16

/* Bits of the 8-byte control slot that are callee-saved per the psABI: MXCSR bits 6..15
   (DAZ, exception masks, rounding, FZ; bits 0..5 are sticky status flags) and the whole
   16-bit x87 control word at bit 32. */
#define SWITCH_CTL_MASK     0x0000ffff0000ffc0
#define SWITCH_MXCSR_CTL_MASK 0xffc0

/* struct grt_tls (the thread's current g and m, and a registered thread's allocation cache),
 * an initial-exec TLS object. */
#define TLS_G_OFF           0
#define TLS_M_OFF           8
#define TLS_CACHE_OFF       16
#define TLS_SIZE            24

/* rt_sigreturn syscall number (for the signal restorer). */
#define NR_RT_SIGRETURN     15
#define NR_CLONE            56
#define NR_EXIT             60

#endif
