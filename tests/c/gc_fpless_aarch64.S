/*
 * A frame-pointer-less function for gc_fpless.c, aarch64, in the shape of glibc's (built with
 * -fomit-frame-pointer, so x29 is just another callee-saved register): it keeps a pointer to
 * a buffer of its own in x29 across a call to a callback that has frame pointers. The
 * callback's frame record then links to the buffer, which looks like a record:
 *
 *      buffer[0]  the address of buffer[2]    ("saved fp": inside the stack, above, aligned)
 *      buffer[1]  fake_ret                    ("return address": not a real one)
 *      buffer[2]  0                           (the "chain" ends)
 *
 * long fpless_call(long (*cb)(long, uintptr_t *), long arg, uintptr_t fake_ret) returns
 * cb(arg, buffer), plus
 * 1000 if the buffer changed while cb ran, plus 2000 if x29 did.
 * CFI describes it as a compiler would (CFA from sp; x19, x29, x30 saved), so a DWARF
 * unwinder goes through it.
 */
        .text
        .globl  fpless_call
        .type   fpless_call, %function
fpless_call:
        .cfi_startproc
        stp     x19, x30, [sp, #-64]!
        .cfi_def_cfa_offset 64
        .cfi_offset x19, -64
        .cfi_offset x30, -56
        stp     x29, x20, [sp, #16]
        .cfi_offset x29, -48
        .cfi_offset x20, -40
        add     x9, sp, #32
        add     x10, x9, #16
        stp     x10, x2, [x9]
        stp     xzr, xzr, [x9, #16]
        mov     x19, x2
        mov     x20, x9
        mov     x29, x9                 /* data in x29: the buffer, not a frame record */
        mov     x9, x0
        mov     x0, x1
        mov     x1, x20
        blr     x9
        ldr     x10, [x20, #8]
        cmp     x10, x19
        b.eq    1f
        add     x0, x0, #1000
1:      ldr     x10, [x20]
        add     x11, x20, #16
        cmp     x10, x11
        b.eq    2f
        add     x0, x0, #1000
2:      cmp     x29, x20
        b.eq    3f
        add     x0, x0, #2000
3:      ldp     x29, x20, [sp, #16]
        .cfi_restore x29
        .cfi_restore x20
        ldp     x19, x30, [sp], #64
        .cfi_restore x19
        .cfi_restore x30
        .cfi_def_cfa_offset 0
        ret
        .cfi_endproc
        .size   fpless_call, . - fpless_call

        .section .note.GNU-stack,"",%progbits
