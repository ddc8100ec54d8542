/*
 * The spin of sched_async_regs.c, aarch64: long async_regs_spin(uint64_t iters, uint64_t *out,
 * const uint64_t *vals, long unused). Loads every register it can from vals (v0-v31 whole,
 * FPCR, x0-x28), spins `iters` times on a counter in its frame (only x30, the flags and that
 * counter change), then stores them all into out:
 *
 *   out[0..29)   x0-x28
 *   out[29]      FPCR
 *   out[32..]    v0-v31 (16 bytes each)
 *
 * vals: [0..64) v0-v31, [64] FPCR, [65..94) x0-x28. It keeps a frame record throughout (CFI
 * says so), as the program's own code does; it restores the caller's callee-saved registers
 * and FPCR.
 */
        .text
        .globl  async_regs_spin
        .type   async_regs_spin, %function
async_regs_spin:
        .cfi_startproc
        stp     x29, x30, [sp, #-208]!
        .cfi_def_cfa_offset 208
        .cfi_offset x29, -208
        .cfi_offset x30, -200
        mov     x29, sp
        stp     x19, x20, [sp, #16]
        stp     x21, x22, [sp, #32]
        stp     x23, x24, [sp, #48]
        stp     x25, x26, [sp, #64]
        stp     x27, x28, [sp, #80]
        stp     d8,  d9,  [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        str     x0, [sp, #160]          /* the counter */
        str     x1, [sp, #168]          /* out */
        mrs     x9, fpcr
        str     x9, [sp, #176]          /* the caller's FPCR */
        str     x18, [sp, #184]
        mov     x30, x2
        ldp     q0, q1, [x30, #0]
        ldp     q2, q3, [x30, #32]
        ldp     q4, q5, [x30, #64]
        ldp     q6, q7, [x30, #96]
        ldp     q8, q9, [x30, #128]
        ldp     q10, q11, [x30, #160]
        ldp     q12, q13, [x30, #192]
        ldp     q14, q15, [x30, #224]
        ldp     q16, q17, [x30, #256]
        ldp     q18, q19, [x30, #288]
        ldp     q20, q21, [x30, #320]
        ldp     q22, q23, [x30, #352]
        ldp     q24, q25, [x30, #384]
        ldp     q26, q27, [x30, #416]
        ldp     q28, q29, [x30, #448]
        ldp     q30, q31, [x30, #480]
        add     x30, x30, #512          /* FPCR and the general registers from here */
        ldr     x9, [x30]
        msr     fpcr, x9
        ldp     x0, x1, [x30, #8]
        ldp     x2, x3, [x30, #24]
        ldp     x4, x5, [x30, #40]
        ldp     x6, x7, [x30, #56]
        ldp     x8, x9, [x30, #72]
        ldp     x10, x11, [x30, #88]
        ldp     x12, x13, [x30, #104]
        ldp     x14, x15, [x30, #120]
        ldp     x16, x17, [x30, #136]
        ldp     x18, x19, [x30, #152]
        ldp     x20, x21, [x30, #168]
        ldp     x22, x23, [x30, #184]
        ldp     x24, x25, [x30, #200]
        ldp     x26, x27, [x30, #216]
        ldr     x28, [x30, #232]
1:      ldr     x30, [x29, #160]
        subs    x30, x30, #1
        str     x30, [x29, #160]
        b.ne    1b
        ldr     x30, [x29, #168]
        stp     x0, x1, [x30, #0]
        stp     x2, x3, [x30, #16]
        stp     x4, x5, [x30, #32]
        stp     x6, x7, [x30, #48]
        stp     x8, x9, [x30, #64]
        stp     x10, x11, [x30, #80]
        stp     x12, x13, [x30, #96]
        stp     x14, x15, [x30, #112]
        stp     x16, x17, [x30, #128]
        stp     x18, x19, [x30, #144]
        stp     x20, x21, [x30, #160]
        stp     x22, x23, [x30, #176]
        stp     x24, x25, [x30, #192]
        stp     x26, x27, [x30, #208]
        str     x28, [x30, #224]
        mrs     x0, fpcr
        str     x0, [x30, #232]
        stp     q0, q1, [x30, #256]
        stp     q2, q3, [x30, #288]
        stp     q4, q5, [x30, #320]
        stp     q6, q7, [x30, #352]
        stp     q8, q9, [x30, #384]
        stp     q10, q11, [x30, #416]
        stp     q12, q13, [x30, #448]
        stp     q14, q15, [x30, #480]
        stp     q16, q17, [x30, #512]
        stp     q18, q19, [x30, #544]
        stp     q20, q21, [x30, #576]
        stp     q22, q23, [x30, #608]
        stp     q24, q25, [x30, #640]
        stp     q26, q27, [x30, #672]
        stp     q28, q29, [x30, #704]
        stp     q30, q31, [x30, #736]
        ldr     x9, [x29, #176]
        msr     fpcr, x9
        ldr     x18, [x29, #184]
        ldp     x19, x20, [sp, #16]
        ldp     x21, x22, [sp, #32]
        ldp     x23, x24, [sp, #48]
        ldp     x25, x26, [sp, #64]
        ldp     x27, x28, [sp, #80]
        ldp     d8,  d9,  [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        mov     x0, #0
        ldp     x29, x30, [sp], #208
        .cfi_restore x29
        .cfi_restore x30
        .cfi_def_cfa_offset 0
        ret
        .cfi_endproc
        .size   async_regs_spin, . - async_regs_spin

        .section .note.GNU-stack,"",%progbits
