/*
 * x86_64 context switch and context entry (System V AMD64 psABI).
 *
 * A parked context is nothing but a stack pointer (struct grt_context { void *sp; }).
 * Everything else it needs lives on its own stack, in the switch frame that
 * grt_context_switch pushes below its caller's return address:
 *
 *        higher addresses
 *      +--------------------+
 *      | caller's frames    |
 *      +--------------------+  sp + 64
 *      | return address     |  sp + 56  } a frame record {saved rbp, return address}:
 *      | saved rbp          |  sp + 48  } walkers start a parked context's traceback here
 *      | saved rbx          |  sp + 40
 *      | saved r12          |  sp + 32
 *      | saved r13          |  sp + 24
 *      | saved r14          |  sp + 16
 *      | saved r15          |  sp + 8
 *      | x87 CW  |  MXCSR   |  sp + 0   (fnstcw at +4, stmxcsr at +0)
 *      +--------------------+  <- context->sp
 *        lower addresses
 *
 * A new context (made by arch::init_context) holds the same frame, laid out by hand at the
 * top of its stack, so the first switch into it "returns" into grt_context_entry:
 *
 *      +--------------------+  stack top (16-byte aligned)
 *      | 0                  |  top - 8    padding: keeps the entry's rsp 16-byte aligned
 *      | 0                  |  top - 16
 *      | grt_context_entry  |  top - 24   popped by `ret`; rsp = top - 16 afterwards
 *      | rbp = 0            |  top - 32   ends the frame-pointer chain above the entry fn
 *      | rbx = 0            |
 *      | r12 = fn           |
 *      | r13 = arg          |
 *      | r14 = link         |  context to switch to if fn returns (may be NULL)
 *      | r15 = 0            |
 *      | creator's CW/MXCSR |  top - 80 = context->sp
 *      +--------------------+
 *
 * Saved: exactly what the psABI makes callee-saved (rbx, rbp, r12-r15, the control bits of
 * MXCSR and the x87 control word). Everything else is caller-saved, so the C or Rust code
 * that calls grt_context_switch has already saved whatever it still needs.
 */
#include "consts.h"

        .intel_syntax noprefix
        .text

/* void grt_context_switch(grt_context *from [rdi], const grt_context *to [rsi]) */
        .globl  grt_context_switch
        .type   grt_context_switch, @function
        .p2align 4
grt_context_switch:
        .cfi_startproc
        push    rbp                     /* callee-saved; also the frame-record link */
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        push    rbx                     /* callee-saved */
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbx, 0
        push    r12                     /* callee-saved (holds fn in a new context) */
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r12, 0
        push    r13                     /* callee-saved (holds arg in a new context) */
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r13, 0
        push    r14                     /* callee-saved (holds link in a new context) */
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r14, 0
        push    r15                     /* callee-saved */
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r15, 0
        sub     rsp, 8
        .cfi_adjust_cfa_offset 8
        stmxcsr [rsp + SWITCH_CTL_OFF]      /* MXCSR control bits are callee-saved */
        fnstcw  [rsp + SWITCH_CTL_OFF + 4]  /* so is the x87 control word */
        mov     rax, [rsp + SWITCH_CTL_OFF] /* remember the control words now in force */

        mov     [rdi], rsp              /* from->sp: `from` is parked from here on */
        mov     rsp, [rsi]              /* to->sp: we now run on the target's stack */

        /* Loading MXCSR or the x87 CW stalls the pipeline, and almost every switch finds the
           same values: load them only when a callee-saved control bit differs. */
        xor     rax, [rsp + SWITCH_CTL_OFF]
        mov     rcx, SWITCH_CTL_MASK
        test    rax, rcx
        jnz     2f
1:
        add     rsp, 8
        .cfi_adjust_cfa_offset -8
        pop     r15
        .cfi_adjust_cfa_offset -8
        pop     r14
        .cfi_adjust_cfa_offset -8
        pop     r13
        .cfi_adjust_cfa_offset -8
        pop     r12
        .cfi_adjust_cfa_offset -8
        pop     rbx
        .cfi_adjust_cfa_offset -8
        pop     rbp
        .cfi_adjust_cfa_offset -8
        /* Resume with an indirect jump, not `ret`: the `call` that entered this switch was made
           by the *other* context, so a `ret` would always miss the return-stack predictor
           (about 20 cycles a switch). The indirect jump is predicted from branch history,
           which a steady ping-pong makes regular. */
        pop     rcx
        .cfi_adjust_cfa_offset -8
        .cfi_register rip, rcx
        jmp     rcx
2:
        .cfi_adjust_cfa_offset 64
        .cfi_offset rip, -8
        ldmxcsr [rsp + SWITCH_CTL_OFF]
        fldcw   [rsp + SWITCH_CTL_OFF + 4]
        jmp     1b
        .cfi_endproc
        .size   grt_context_switch, . - grt_context_switch

/*
 * First code a new context runs, entered by the `ret` of grt_context_switch with
 * r12 = fn, r13 = arg, r14 = link, rbp = 0 and rsp 16-byte aligned.
 * fn(arg) runs with a frame record whose saved rbp is 0, so every frame-pointer walker
 * stops at it. If fn returns, grt_context_exit(link) switches to `link` for good
 * (r14 is callee-saved, so fn gave it back intact).
 */
        .globl  grt_context_entry
        .type   grt_context_entry, @function
        .p2align 4
grt_context_entry:
        .cfi_startproc
        .cfi_undefined rip              /* DWARF unwinders: the stack ends here */
        mov     rdi, r13
        call    r12
        mov     rdi, r14
        call    grt_context_exit
        ud2                             /* grt_context_exit never returns */
        .cfi_endproc
        .size   grt_context_entry, . - grt_context_entry

        .section .note.GNU-stack,"",@progbits
