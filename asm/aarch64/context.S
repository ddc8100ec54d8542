/*
 * aarch64 context switch and context entry (AAPCS64).
 *
 * A parked context is nothing but a stack pointer (struct grt_context { void *sp; }).
 * Everything else it needs lives on its own stack. Two ways in, one way out:
 *
 *  - grt_switch_core (the runtime's own switches: arch::switch, inlined into the scheduler)
 *    saves only a frame record {x29, x30} (x30: its return point, right after the caller's
 *    `bl`, so a walker sees a real call site) and x19 (reserved by LLVM, so inline asm
 *    cannot list it). The Rust caller lists x20-x28 and d8-d15 as clobbered, and the
 *    compiler saves the few that are live, once, in its own frame. Its core frame:
 *
 *        higher addresses
 *      +--------------------+  sp + 32 (the caller's sp)
 *      | x19     | (pad)    |  sp + 16
 *      | x29     | x30      |  sp + 0   a frame record: walkers start a parked context's
 *      +--------------------+  <- context->sp (16-byte aligned: SCTLR_EL1.SA0 faults otherwise)
 *        lower addresses
 *
 *  - grt_context_switch (the C API, and what the runtime itself uses once per thread) keeps
 *    the AAPCS64 promise whole: a frame of its own (record, x20-x28, d8-d15), then the core
 *    inlined (its own branch; the return point after a `bl grt_switch_core` that never
 *    runs); when resumed it reloads them and returns:
 *
 *      | x29     | x30      |  sp + 0    its own frame record (160 bytes in all)
 *      | x20 .. x28, d8 .. d15 |  sp + 16 .. 160
 *      | core frame         |  its x30 is grt_context_switch's resume point
 *
 *    Either kind of parked context is resumed by the same code, so the two interoperate.
 *
 * Resuming uses a plain indirect branch, not `ret`: the `bl` that entered the switch was made
 * by the *other* context, so `ret` would always miss the return-address stack.
 *
 * A new context (made by arch::init_context) holds a core frame at the top of its stack,
 * "returning" into grt_context_entry, with the entry's arguments above it:
 *
 *      | link    | 0        |  top - 16
 *      | fn      | arg      |  top - 32   <- sp in grt_context_entry
 *      | x19 = 0 | 0        |  top - 48
 *      | x29 = 0 | entry    |  top - 64 = context->sp (x29 = 0 ends the frame chain)
 *
 * FPCR is not part of a runtime switch: the scheduler carries it per goroutine only when a
 * goroutine leaves it different from its thread's (proc.rs, `G.fpctl`). AAPCS64 gives its
 * rounding and exception bits global scope, so grt_context_switch leaves it alone too.
 */
#include "consts.h"

        .text
        .globl  grt_asm_context_start       /* this file's code: arch::in_grt_asm */
        .hidden grt_asm_context_start
grt_asm_context_start:

/* void grt_switch_core(grt_context *from [x0], const grt_context *to [x1])
 * Preserves x19, x29 (and returns to x30); clobbers x9. Always entered by `bl`. */
        .globl  grt_switch_core
        .hidden grt_switch_core
        .type   grt_switch_core, %function
        .p2align 4
grt_switch_core:
        .cfi_startproc
        stp     x29, x30, [sp, #-SWITCH_FRAME_SIZE]!    /* frame record; x30: where we resume */
        .cfi_def_cfa_offset SWITCH_FRAME_SIZE
        .cfi_offset x29, -SWITCH_FRAME_SIZE
        .cfi_offset x30, -SWITCH_FRAME_SIZE + 8
        str     x19, [sp, #SWITCH_X19_OFF]              /* LLVM's reserved register */
        .cfi_offset x19, -SWITCH_FRAME_SIZE + SWITCH_X19_OFF
        mov     x9, sp
        str     x9, [x0]                        /* from->sp: `from` is parked from here on */
        ldr     x9, [x1]
        mov     sp, x9                          /* to->sp: now on the target's stack */
        ldr     x19, [sp, #SWITCH_X19_OFF]
        ldp     x29, x30, [sp], #SWITCH_FRAME_SIZE
        .cfi_def_cfa_offset 0
        br      x30
        .cfi_endproc
        .size   grt_switch_core, . - grt_switch_core

/* void grt_context_switch(grt_context *from [x0], const grt_context *to [x1]) */
        .globl  grt_context_switch
        .type   grt_context_switch, %function
        .p2align 4
grt_context_switch:
        .cfi_startproc
        stp     x29, x30, [sp, #-160]!          /* our own frame record */
        .cfi_def_cfa_offset 160
        .cfi_offset x29, -160
        .cfi_offset x30, -152
        mov     x29, sp
        stp     x20, x21, [sp, #16]             /* x20..x28: callee-saved (x19: the core) */
        stp     x22, x23, [sp, #32]
        stp     x24, x25, [sp, #48]
        stp     x26, x27, [sp, #64]
        str     x28, [sp, #80]
        stp     d8,  d9,  [sp, #96]             /* d8..d15: low halves of v8..v15 */
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        /* grt_switch_core inlined, so that its branch is ours alone (see arch::switch): */
        adr     x9, .Lresumed
        stp     x29, x9, [sp, #-SWITCH_FRAME_SIZE]!     /* frame record; the return point */
        str     x19, [sp, #SWITCH_X19_OFF]
        mov     x9, sp
        str     x9, [x0]                        /* from->sp: `from` is parked from here on */
        ldr     x9, [x1]
        mov     sp, x9                          /* to->sp: now on the target's stack */
        ldr     x19, [sp, #SWITCH_X19_OFF]
        ldp     x29, x30, [sp], #SWITCH_FRAME_SIZE
        br      x30
        bl      grt_switch_core                 /* never runs: the return point follows a call */
.Lresumed:
        ldp     x20, x21, [sp, #16]
        ldp     x22, x23, [sp, #32]
        ldp     x24, x25, [sp, #48]
        ldp     x26, x27, [sp, #64]
        ldr     x28, [sp, #80]
        ldp     d8,  d9,  [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        ldp     x29, x30, [sp], #160
        .cfi_restore x29
        .cfi_restore x30
        .cfi_def_cfa_offset 0
        /* A plain branch, not `ret`: the return-address stack holds the other context's
           calls, so `ret` would miss. */
        br      x30
        .cfi_endproc
        .size   grt_context_switch, . - grt_context_switch

/*
 * First code a new context runs, entered by grt_switch_core's branch with sp = top - 32
 * pointing at fn, arg, link, and x29 = 0. fn(arg) saves x29 = 0 in its frame record, so
 * every frame-pointer walker stops there. If fn returns, grt_context_exit(link) switches to
 * `link` for good (x21 is callee-saved).
 */
        .globl  grt_context_entry
        .type   grt_context_entry, %function
        .p2align 4
grt_context_entry:
        .cfi_startproc
        .cfi_undefined x30                      /* DWARF unwinders: the stack ends here */
        ldp     x19, x20, [sp, #ENTRY_FN_OFF]
        ldr     x21, [sp, #ENTRY_LINK_OFF]
        /* x22-x28: what the context before left; zero, so a conservative scan of this
         * context's registers finds no stale pointer of another's. */
        mov     x22, xzr
        mov     x23, xzr
        mov     x24, xzr
        mov     x25, xzr
        mov     x26, xzr
        mov     x27, xzr
        mov     x28, xzr
        mov     x0, x20
        blr     x19
        mov     x0, x21
        bl      grt_context_exit
        brk     #1                              /* grt_context_exit never returns */
        .cfi_endproc
        .size   grt_context_entry, . - grt_context_entry

        .text
        .globl  grt_asm_context_end
        .hidden grt_asm_context_end
grt_asm_context_end:

        .section .note.GNU-stack,"",%progbits
