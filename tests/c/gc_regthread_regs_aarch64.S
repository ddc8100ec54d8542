/* Helper for gc_regthread_regs.c on aarch64: see there.
 *
 * void regs_hold(void *(*make)(long) [x0], long spins [x1], long allocs [x2],
 *                void *(*churn)(void) [x3], void **out [x4])
 *
 * Puts make(0) .. make(9) into x19 .. x28 (their only copies: make's return value in x0 is
 * overwritten or zeroed, and 4 KiB below the stack pointer are zeroed afterwards, so no stale
 * copy lies where a scan of this stack would look), spins `spins` rounds touching no
 * register of those, calls churn() `allocs` times, and stores the ten registers into
 * out[0..10).
 *
 * Frame (144 bytes): the caller's x19-x28 are stored XOR-masked (a pointer the caller kept
 * there must not keep an object alive from this frame), and unmasked on the way out.
 *      | saved x29, x30        | <- x29 = sp
 *      | x19^M .. x28^M        |  sp + 16 .. sp + 88
 *      | allocs, churn         |  sp + 96, sp + 104
 *      | out, make             |  sp + 112, sp + 120
 *      | spins, (pad)          |  sp + 128
 */
        .macro  MASK reg
        movz    \reg, #0x5a5a
        movk    \reg, #0x5a5a, lsl #16
        movk    \reg, #0x5a5a, lsl #32
        movk    \reg, #0x5a5a, lsl #48
        .endm
        .macro  MASKPAIR off
        ldp     x10, x11, [sp, #\off]
        eor     x10, x10, x9
        eor     x11, x11, x9
        stp     x10, x11, [sp, #\off]
        .endm
        .macro  MASKALL
        MASK    x9
        MASKPAIR 16
        MASKPAIR 32
        MASKPAIR 48
        MASKPAIR 64
        MASKPAIR 80
        .endm
        .macro  MAKE i, reg
        mov     x0, #\i
        ldr     x9, [sp, #120]
        blr     x9
        mov     \reg, x0
        .endm

        .text
        .globl  regs_hold
        .type   regs_hold, @function
regs_hold:
        stp     x29, x30, [sp, #-144]!
        mov     x29, sp
        stp     x19, x20, [sp, #16]
        stp     x21, x22, [sp, #32]
        stp     x23, x24, [sp, #48]
        stp     x25, x26, [sp, #64]
        stp     x27, x28, [sp, #80]
        MASKALL
        stp     x2, x3, [sp, #96]
        stp     x4, x0, [sp, #112]
        str     x1, [sp, #128]
        MAKE    0, x19
        MAKE    1, x20
        MAKE    2, x21
        MAKE    3, x22
        MAKE    4, x23
        MAKE    5, x24
        MAKE    6, x25
        MAKE    7, x26
        MAKE    8, x27
        MAKE    9, x28
        mov     x0, #0
        sub     x9, sp, #4096           /* no stale copy below sp */
        mov     x10, sp
0:      stp     xzr, xzr, [x9], #16
        cmp     x9, x10
        b.lo    0b
        ldr     x9, [sp, #128]
1:      cbz     x9, 2f                  /* spin: a signal is what stops us here */
        sub     x9, x9, #1
        yield
        b       1b
2:      ldr     x9, [sp, #96]           /* churn: allocations, where we may stop ourselves */
        cbz     x9, 3f
        sub     x9, x9, #1
        str     x9, [sp, #96]
        ldr     x9, [sp, #104]
        blr     x9
        b       2b
3:      ldr     x9, [sp, #112]
        stp     x19, x20, [x9, #0]
        stp     x21, x22, [x9, #16]
        stp     x23, x24, [x9, #32]
        stp     x25, x26, [x9, #48]
        stp     x27, x28, [x9, #64]
        MASKALL
        ldp     x19, x20, [sp, #16]
        ldp     x21, x22, [sp, #32]
        ldp     x23, x24, [sp, #48]
        ldp     x25, x26, [sp, #64]
        ldp     x27, x28, [sp, #80]
        ldp     x29, x30, [sp], #144
        ret
        .size   regs_hold, . - regs_hold

        .section .note.GNU-stack,"",%progbits
