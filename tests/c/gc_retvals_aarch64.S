/*
 * Helpers for gc_retvals.c on aarch64: every register a caller may find intact after a call
 * crosses a stack barrier unchanged.
 *
 * retregs_check -> retregs_leaf -> grt_test_stkbar_install: barriers in retregs_leaf's own
 * return slot (into retregs_check) and in every record above. retregs_leaf then loads, from
 * retregs_want, every result register (x0-x7, x8 the indirect-result register, q0-q7 in
 * full) and every other caller-saved one a compiler may keep across a call (x9-x15, x18,
 * q16-q31: gcc's -fipa-ra lets a caller keep values there across a call to a function it knows
 * does not touch them) and returns: its epilogue loads the trampoline's address into x30.
 * retregs_check stores them as they arrived into retregs_seen (compared in C) and returns
 * through the second barrier. Not checked: x16/x17 (IP0/IP1, clobbered by any call, the
 * trampoline's scratch; here the base register) and v8-v15 (callee-saved low halves).
 *
 * struct retregs: x0..x18 at 0..144 (x16, x17 unused), q0..q31 at 160..656.
 */
        .text

#define X(i)    (8 * (i))
#define Q(i)    (160 + 16 * (i))

/* Loads or stores x0-x15, x18, q0-q7, q16-q31 at [x16] with `op` = ldp/stp, `op1` = ldr/str. */
        .macro  regs op, op1
        \op     x0, x1, [x16, #X(0)]
        \op     x2, x3, [x16, #X(2)]
        \op     x4, x5, [x16, #X(4)]
        \op     x6, x7, [x16, #X(6)]
        \op     x8, x9, [x16, #X(8)]
        \op     x10, x11, [x16, #X(10)]
        \op     x12, x13, [x16, #X(12)]
        \op     x14, x15, [x16, #X(14)]
        \op1    x18, [x16, #X(18)]
        \op     q0, q1, [x16, #Q(0)]
        \op     q2, q3, [x16, #Q(2)]
        \op     q4, q5, [x16, #Q(4)]
        \op     q6, q7, [x16, #Q(6)]
        \op     q16, q17, [x16, #Q(16)]
        \op     q18, q19, [x16, #Q(18)]
        \op     q20, q21, [x16, #Q(20)]
        \op     q22, q23, [x16, #Q(22)]
        \op     q24, q25, [x16, #Q(24)]
        \op     q26, q27, [x16, #Q(26)]
        \op     q28, q29, [x16, #Q(28)]
        \op     q30, q31, [x16, #Q(30)]
        .endm

/* void retregs_check(void) */
        .globl  retregs_check
        .type   retregs_check, %function
retregs_check:
        stp     x29, x30, [sp, #-16]!   /* frame record: gets a barrier too */
        mov     x29, sp
        bl      retregs_leaf
        adrp    x16, retregs_seen
        add     x16, x16, :lo12:retregs_seen
        regs    stp, str
        ldp     x29, x30, [sp], #16
        ret
        .size   retregs_check, . - retregs_check

        .type   retregs_leaf, %function
retregs_leaf:
        stp     x29, x30, [sp, #-16]!   /* the frame record whose slot gets the barrier */
        mov     x29, sp
        bl      grt_test_stkbar_install
        adrp    x16, retregs_installed
        str     w0, [x16, :lo12:retregs_installed]
        adrp    x16, retregs_want
        add     x16, x16, :lo12:retregs_want
        regs    ldp, ldr
        ldp     x29, x30, [sp], #16     /* x30 = the slot = &grt_stack_barrier */
        ret
        .size   retregs_leaf, . - retregs_leaf

        .section .note.GNU-stack,"",%progbits
