/* Helpers for regs.c on aarch64: see there. */
        .text

/* unsigned long regs_switch_check(grt_context *from [x0], const grt_context *to [x1],
                                   const unsigned long *values [x2]) */
        .globl  regs_switch_check
        .type   regs_switch_check, %function
regs_switch_check:
        stp     x29, x30, [sp, #-176]!
        stp     x19, x20, [sp, #16]
        stp     x21, x22, [sp, #32]
        stp     x23, x24, [sp, #48]
        stp     x25, x26, [sp, #64]
        stp     x27, x28, [sp, #80]
        stp     d8,  d9,  [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mov     x9, sp
        stp     x2, x9, [sp, #160]      /* values, our sp */
        ldp     x19, x20, [x2, #0]
        ldp     x21, x22, [x2, #16]
        ldp     x23, x24, [x2, #32]
        ldp     x25, x26, [x2, #48]
        ldp     x27, x28, [x2, #64]
        ldr     x29,      [x2, #80]
        ldp     d8,  d9,  [x2, #88]
        ldp     d10, d11, [x2, #104]
        ldp     d12, d13, [x2, #120]
        ldp     d14, d15, [x2, #136]
        bl      grt_context_switch
        ldr     x2, [sp, #160]
        mov     x0, #0
        .macro  chk reg, off, bit
        ldr     x9, [x2, #\off]
        cmp     \reg, x9
        cset    x10, ne
        orr     x0, x0, x10, lsl #\bit
        .endm
        .macro  chkd reg, off, bit
        fmov    x11, \reg
        chk     x11, \off, \bit
        .endm
        chk     x19, 0, 0
        chk     x20, 8, 1
        chk     x21, 16, 2
        chk     x22, 24, 3
        chk     x23, 32, 4
        chk     x24, 40, 5
        chk     x25, 48, 6
        chk     x26, 56, 7
        chk     x27, 64, 8
        chk     x28, 72, 9
        chk     x29, 80, 10
        chkd    d8,  88, 11
        chkd    d9,  96, 12
        chkd    d10, 104, 13
        chkd    d11, 112, 14
        chkd    d12, 120, 15
        chkd    d13, 128, 16
        chkd    d14, 136, 17
        chkd    d15, 144, 18
        mov     x9, sp
        ldr     x10, [sp, #168]
        cmp     x9, x10
        cset    x10, ne
        orr     x0, x0, x10, lsl #19
        ldp     x19, x20, [sp, #16]
        ldp     x21, x22, [sp, #32]
        ldp     x23, x24, [sp, #48]
        ldp     x25, x26, [sp, #64]
        ldp     x27, x28, [sp, #80]
        ldp     d8,  d9,  [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        ldp     x29, x30, [sp], #176
        ret
        .size   regs_switch_check, . - regs_switch_check

/* void regs_clobber_switch(grt_context *from [x0], const grt_context *to [x1], unsigned long seed [x2]) */
        .globl  regs_clobber_switch
        .type   regs_clobber_switch, %function
regs_clobber_switch:
        stp     x29, x30, [sp, #-160]!
        stp     x19, x20, [sp, #16]
        stp     x21, x22, [sp, #32]
        stp     x23, x24, [sp, #48]
        stp     x25, x26, [sp, #64]
        stp     x27, x28, [sp, #80]
        stp     d8,  d9,  [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mvn     x19, x2
        add     x20, x2, #1
        add     x21, x2, #2
        add     x22, x2, #3
        add     x23, x2, #4
        add     x24, x2, #5
        add     x25, x2, #6
        add     x26, x2, #7
        add     x27, x2, #8
        add     x28, x2, #9
        eor     x29, x2, #0xff
        fmov    d8,  x19
        fmov    d9,  x20
        fmov    d10, x21
        fmov    d11, x22
        fmov    d12, x23
        fmov    d13, x24
        fmov    d14, x25
        fmov    d15, x26
        bl      grt_context_switch
        ldp     x19, x20, [sp, #16]
        ldp     x21, x22, [sp, #32]
        ldp     x23, x24, [sp, #48]
        ldp     x25, x26, [sp, #64]
        ldp     x27, x28, [sp, #80]
        ldp     d8,  d9,  [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        ldp     x29, x30, [sp], #160
        ret
        .size   regs_clobber_switch, . - regs_clobber_switch

        .section .note.GNU-stack,"",%progbits
