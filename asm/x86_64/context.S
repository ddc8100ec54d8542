/*
 * x86_64 context switch and context entry (System V AMD64 psABI).
 *
 * A parked context is nothing but a stack pointer (struct grt_context { void *sp; }).
 * Everything else it needs lives on its own stack. Two ways in, one way out:
 *
 *  - grt_switch_core (the runtime's own switches: arch::switch, inlined into the scheduler)
 *    saves only what no caller can declare clobbered: its return address (pushed by the
 *    `call`, so a walker sees a real call site), rbp (the frame-pointer chain) and rbx
 *    (reserved by LLVM, so inline asm cannot list it). The Rust caller lists every other
 *    register as clobbered, and the compiler saves the few that are live, once, in its own
 *    frame. Its core frame:
 *
 *        higher addresses
 *      +--------------------+
 *      | caller's frames    |
 *      +--------------------+  sp + 24
 *      | return address     |  sp + 16  } a frame record {saved rbp, return address}:
 *      | saved rbp          |  sp + 8   } walkers start a parked context's traceback here
 *      | saved rbx          |  sp + 0
 *      +--------------------+  <- context->sp (8 mod 16: the call site was aligned)
 *        lower addresses
 *
 *  - grt_context_switch (the C API, and what the runtime itself uses once per thread) keeps
 *    the psABI promise whole: it saves r12-r15 and the control bits of MXCSR and the x87
 *    control word in a frame of its own (with its own frame record), then runs the core
 *    inlined (its own indirect jump; the return point follows a `call grt_switch_core`
 *    that never runs, as in arch::switch). When resumed it reloads the control words only
 *    if a callee-saved bit may differ (loading them stalls the pipeline): the switch that
 *    resumed it says in eax whether it knows them equal (it compared its own with the ones
 *    this frame saved); then r12-r15, and it returns:
 *
 *      | return address     |  } grt_context_switch's own frame record
 *      | saved rbp          |  }  <- its rbp
 *      | r12 r13 r14 r15    |
 *      | MXCSR | x87 CW     |  rbp - 48
 *      | (scratch)          |  rbp - 40 .. - 48 (the control words in force when resumed)
 *      | core frame         |  its return address is grt_context_switch's resume point
 *
 *    Either kind of parked context is resumed by the same code (pop rbx, pop rbp, jump to
 *    the return address), so the two switches interoperate.
 *
 * Resuming uses an indirect jump (`jmp rcx`), not `ret`: the `call` that entered the switch
 * was made by the *other* context, so a `ret` would always miss the return-stack predictor
 * (about 20 cycles a switch). The indirect jump is predicted from branch history, which a
 * steady ping-pong makes regular.
 *
 * A new context (made by arch::init_context) holds a core frame at the top of its stack,
 * "returning" into grt_context_entry, with the entry's arguments above it:
 *
 *      +--------------------+  stack top (16-byte aligned)
 *      | 0                  |  top - 8    padding
 *      | link               |  top - 16   context to switch to if fn returns (may be NULL)
 *      | arg                |  top - 24
 *      | fn                 |  top - 32   <- rsp in grt_context_entry (16-byte aligned)
 *      | grt_context_entry  |  top - 40
 *      | rbp = 0            |  top - 48   ends the frame-pointer chain above the entry fn
 *      | rbx = 0            |  top - 56 = context->sp
 *      +--------------------+
 *
 * The FP control words are not part of a runtime switch: the scheduler carries them per
 * goroutine only when a goroutine leaves them different from its thread's (proc.rs,
 * `G.fpctl`). A new context starts with the control words in force where it is entered.
 */
#include "consts.h"

        .intel_syntax noprefix
        .text
        .globl  grt_asm_context_start       /* this file's code: arch::in_grt_asm */
        .hidden grt_asm_context_start
grt_asm_context_start:

/* void grt_switch_core(grt_context *from [rdi], const grt_context *to [rsi])
 * Preserves rbx and rbp only; clobbers rcx. Always entered by `call`. */
        .globl  grt_switch_core
        .hidden grt_switch_core
        .type   grt_switch_core, @function
        .p2align 4
grt_switch_core:
        .cfi_startproc
        push    rbp                     /* the frame-record link */
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        push    rbx                     /* LLVM's reserved register: no asm can clobber it */
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbx, 0
        mov     [rdi], rsp              /* from->sp: `from` is parked from here on */
        mov     rsp, [rsi]              /* to->sp: we now run on the target's stack */
        pop     rbx
        .cfi_adjust_cfa_offset -8
        pop     rbp
        .cfi_adjust_cfa_offset -8
        pop     rcx                     /* the target's resume point (see above: not `ret`) */
        .cfi_adjust_cfa_offset -8
        .cfi_register rip, rcx
        jmp     rcx
        .cfi_endproc
        .size   grt_switch_core, . - grt_switch_core

/* void grt_context_switch(grt_context *from [rdi], const grt_context *to [rsi]) */
        .globl  grt_context_switch
        .type   grt_context_switch, @function
        .p2align 4
grt_context_switch:
        .cfi_startproc
        push    rbp                     /* our own frame record */
        .cfi_def_cfa_offset 16
        .cfi_offset rbp, -16
        mov     rbp, rsp
        .cfi_def_cfa_register rbp
        push    r12                     /* callee-saved (grt_switch_core keeps rbx, rbp) */
        .cfi_offset r12, -24
        push    r13
        .cfi_offset r13, -32
        push    r14
        .cfi_offset r14, -40
        push    r15
        .cfi_offset r15, -48
        sub     rsp, 16
        stmxcsr [rsp + SWITCH_CTL_OFF]      /* MXCSR control bits are callee-saved */
        fnstcw  [rsp + SWITCH_CTL_OFF + 4]  /* so is the x87 control word */
        /* rax = 0 tells the context we resume that the control words in force are the ones
           it saved: when it was parked here too (its core frame returns to .Lresumed) with
           the same callee-saved bits. grt_switch_core keeps rax; arch::switch leaves it
           nonzero, so a context resumed by the runtime's switch checks for itself. */
        mov     rdx, [rsi]              /* the target's core frame */
        lea     rcx, [rip + .Lresumed]
        cmp     [rdx + SWITCH_RET_OFF], rcx
        jne     3f
        mov     ecx, [rsp + SWITCH_CTL_OFF]
        xor     ecx, [rdx + SWITCH_RET_OFF + 8 + SWITCH_CTL_OFF]
        and     ecx, SWITCH_MXCSR_CTL_MASK
        movzx   eax, word ptr [rsp + SWITCH_CTL_OFF + 4]
        xor     ax, [rdx + SWITCH_RET_OFF + 8 + SWITCH_CTL_OFF + 4]
        or      eax, ecx
        jmp     4f
3:      mov     eax, 1
4:      /* grt_switch_core inlined, so that its jump is ours alone (see arch::switch): */
        lea     rcx, [rip + .Lresumed]
        push    rcx                     /* the return point */
        push    rbp
        push    rbx
        mov     [rdi], rsp              /* from->sp: `from` is parked from here on */
        mov     rsp, [rsi]              /* to->sp: we now run on the target's stack */
        pop     rbx
        pop     rbp
        pop     rcx
        jmp     rcx
        call    grt_switch_core         /* never runs: the return point follows a call */
.Lresumed:
        /* Resumed (rbx, rbp back): reload the control words if they may differ. */
        test    eax, eax
        jnz     5f
1:
        .cfi_remember_state
        add     rsp, 16
        pop     r15
        pop     r14
        pop     r13
        pop     r12
        pop     rbp
        .cfi_def_cfa rsp, 8
        /* Return with an indirect jump, not `ret`: the return-stack predictor holds the
           other context's calls, so `ret` would miss (about 20 cycles a switch). */
        pop     rcx
        .cfi_adjust_cfa_offset -8
        .cfi_register rip, rcx
        jmp     rcx
5:
        .cfi_restore_state
        stmxcsr [rsp + SWITCH_CTL_OFF + 8]
        fnstcw  [rsp + SWITCH_CTL_OFF + 12]
        /* Loads the size of each store (a wider load across two stores stalls on store
           forwarding): MXCSR's control bits (6..15), then the whole x87 control word. */
        mov     eax, [rsp + SWITCH_CTL_OFF + 8]
        xor     eax, [rsp + SWITCH_CTL_OFF]
        and     eax, SWITCH_MXCSR_CTL_MASK
        movzx   ecx, word ptr [rsp + SWITCH_CTL_OFF + 12]
        xor     cx, [rsp + SWITCH_CTL_OFF + 4]
        or      eax, ecx
        jz      1b
        ldmxcsr [rsp + SWITCH_CTL_OFF]
        fldcw   [rsp + SWITCH_CTL_OFF + 4]
        jmp     1b
        .cfi_endproc
        .size   grt_context_switch, . - grt_context_switch

/*
 * First code a new context runs, entered by grt_switch_core's jump with rsp = top - 32
 * (16-byte aligned) pointing at fn, arg, link, and rbp = 0. fn(arg) runs with a frame
 * record whose saved rbp is 0, so every frame-pointer walker stops at it. If fn returns,
 * grt_context_exit(link) switches to `link` for good (r14 is callee-saved, so fn gave it
 * back intact).
 */
        .globl  grt_context_entry
        .type   grt_context_entry, @function
        .p2align 4
grt_context_entry:
        .cfi_startproc
        .cfi_undefined rip              /* DWARF unwinders: the stack ends here */
        mov     rdi, [rsp + ENTRY_ARG_OFF]
        mov     r14, [rsp + ENTRY_LINK_OFF]
        /* r12, r13, r15: what the context before left; zero, so a conservative scan of
         * this context's registers finds no stale pointer of another's. */
        xor     r12d, r12d
        xor     r13d, r13d
        xor     r15d, r15d
        call    [rsp + ENTRY_FN_OFF]
        mov     rdi, r14
        call    grt_context_exit
        ud2                             /* grt_context_exit never returns */
        .cfi_endproc
        .size   grt_context_entry, . - grt_context_entry

        .text
        .globl  grt_asm_context_end
        .hidden grt_asm_context_end
grt_asm_context_end:

        .section .note.GNU-stack,"",@progbits
