/*
 * aarch64 context switch and context entry (AAPCS64).
 *
 * A parked context is nothing but a stack pointer (struct grt_context { void *sp; }).
 * Everything else it needs lives on its own stack, in the 160-byte switch frame that
 * grt_context_switch stores below the caller's sp:
 *
 *        higher addresses
 *      +--------------------+  sp + 160 (the caller's sp)
 *      | saved x30 (lr)     |  sp + 152 } a frame record {x29, x30}: walkers start a
 *      | saved x29 (fp)     |  sp + 144 } parked context's traceback here
 *      | d14 | d15          |  sp + 128
 *      | d12 | d13          |  sp + 112
 *      | d10 | d11          |  sp + 96
 *      | d8  | d9           |  sp + 80
 *      | x27 | x28          |  sp + 64
 *      | x25 | x26          |  sp + 48
 *      | x23 | x24          |  sp + 32
 *      | x21 | x22          |  sp + 16
 *      | x19 | x20          |  sp + 0
 *      +--------------------+  <- context->sp (16-byte aligned: SCTLR_EL1.SA0 faults otherwise)
 *        lower addresses
 *
 * A new context (made by arch::init_context) holds the same frame at the very top of its
 * stack (context->sp = top - 160), with x30 = grt_context_entry, x29 = 0 (ends the
 * frame-pointer chain), x19 = fn, x20 = arg, x21 = link and everything else 0; the first
 * switch into it "returns" into grt_context_entry with sp = top.
 *
 * Saved: exactly what AAPCS64 makes callee-saved: x19-x28, x29, x30 (our way back), sp
 * (the context pointer itself) and the low 64 bits of v8-v15 (d8-d15). FPCR is not saved:
 * AAPCS64 treats its rounding/exception bits as process-global state, not callee-saved.
 */
#include "consts.h"

        .text

/* void grt_context_switch(grt_context *from [x0], const grt_context *to [x1]) */
        .globl  grt_context_switch
        .type   grt_context_switch, %function
        .p2align 4
grt_context_switch:
        .cfi_startproc
        sub     sp, sp, #SWITCH_FRAME_SIZE
        .cfi_def_cfa_offset SWITCH_FRAME_SIZE
        stp     x29, x30, [sp, #SWITCH_FP_OFF]  /* frame record; x30 is where we resume */
        .cfi_offset x29, -16
        .cfi_offset x30, -8
        stp     x19, x20, [sp, #SWITCH_X19_OFF] /* x19..x28: callee-saved */
        stp     x21, x22, [sp, #SWITCH_X21_OFF]
        stp     x23, x24, [sp, #SWITCH_X23_OFF]
        stp     x25, x26, [sp, #SWITCH_X25_OFF]
        stp     x27, x28, [sp, #SWITCH_X27_OFF]
        stp     d8,  d9,  [sp, #SWITCH_D8_OFF]  /* d8..d15: low halves of v8..v15, callee-saved */
        stp     d10, d11, [sp, #SWITCH_D10_OFF]
        stp     d12, d13, [sp, #SWITCH_D12_OFF]
        stp     d14, d15, [sp, #SWITCH_D14_OFF]
        mov     x9, sp
        str     x9, [x0]                        /* from->sp: `from` is parked from here on */
        ldr     x9, [x1]
        mov     sp, x9                          /* to->sp: now on the target's stack */
        ldp     x19, x20, [sp, #SWITCH_X19_OFF]
        ldp     x21, x22, [sp, #SWITCH_X21_OFF]
        ldp     x23, x24, [sp, #SWITCH_X23_OFF]
        ldp     x25, x26, [sp, #SWITCH_X25_OFF]
        ldp     x27, x28, [sp, #SWITCH_X27_OFF]
        ldp     d8,  d9,  [sp, #SWITCH_D8_OFF]
        ldp     d10, d11, [sp, #SWITCH_D10_OFF]
        ldp     d12, d13, [sp, #SWITCH_D12_OFF]
        ldp     d14, d15, [sp, #SWITCH_D14_OFF]
        ldp     x29, x30, [sp, #SWITCH_FP_OFF]
        add     sp, sp, #SWITCH_FRAME_SIZE
        .cfi_def_cfa_offset 0
        /* Resume with a plain indirect branch, not `ret`: the `bl` that entered this switch was
           made by the *other* context, so `ret` would always miss the return-address stack. */
        br      x30
        .cfi_endproc
        .size   grt_context_switch, . - grt_context_switch

/*
 * First code a new context runs, entered by the `ret` of grt_context_switch with
 * x19 = fn, x20 = arg, x21 = link, x29 = 0 and sp = the 16-byte aligned stack top.
 * fn(arg) saves x29 = 0 in its frame record, so every frame-pointer walker stops there.
 * If fn returns, grt_context_exit(link) switches to `link` for good (x21 is callee-saved).
 */
        .globl  grt_context_entry
        .type   grt_context_entry, %function
        .p2align 4
grt_context_entry:
        .cfi_startproc
        .cfi_undefined x30                      /* DWARF unwinders: the stack ends here */
        mov     x0, x20
        blr     x19
        mov     x0, x21
        bl      grt_context_exit
        brk     #1                              /* grt_context_exit never returns */
        .cfi_endproc
        .size   grt_context_entry, . - grt_context_entry

        .section .note.GNU-stack,"",%progbits
