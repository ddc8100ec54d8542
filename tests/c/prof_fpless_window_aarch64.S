/*
 * The functions of prof_fpless_window.c, aarch64, with unwind tables as gcc writes them.
 *
 * fw_fpless(leaf, cb, arg) keeps no frame record (as -fomit-frame-pointer code): it saves
 * x29 and x30 apart, points x29 at a buffer of its own that looks like a record (buffer[0]
 * the address of buffer[2], buffer[1] 0x123456, buffer[2] 0) and returns leaf(cb, arg).
 *
 * fw_in and fw_ret (cb, arg) keep a record, return cb(arg) + 1, and stop on the way back
 * until fw_go is set (fw_in_window is set to the point's number first): fw_in with its record
 * complete, fw_ret after `ldp x29, x30, [sp], #32`, at its `ret` (x30 then holds the
 * trampoline's address, loaded from the barriered record). The spin uses only x9 and x10
 * (dead temporaries) and the flags: sp, x29, x30 and x0 (the result) stay as the point left
 * them.
 */
        .text

        .macro POINT n
        adrp    x9, fw_in_window
        add     x9, x9, :lo12:fw_in_window
        mov     w10, #\n
        str     w10, [x9]
        adrp    x9, fw_go
        add     x9, x9, :lo12:fw_go
1:      ldr     w10, [x9]
        cbz     w10, 1b
        .endm

        .globl  fw_fpless
        .type   fw_fpless, %function
fw_fpless:
        .cfi_startproc
        stp     x19, x30, [sp, #-64]!
        .cfi_def_cfa_offset 64
        .cfi_offset x19, -64
        .cfi_offset x30, -56
        str     x29, [sp, #16]
        .cfi_offset x29, -48
        add     x9, sp, #32
        add     x10, x9, #16
        mov     x11, #0x3456
        movk    x11, #0x12, lsl #16
        stp     x10, x11, [x9]
        stp     xzr, xzr, [x9, #16]
        mov     x29, x9                 /* data in x29: the buffer, not a frame record */
        mov     x9, x0
        mov     x0, x1
        mov     x1, x2
        blr     x9
        ldr     x29, [sp, #16]
        .cfi_restore x29
        ldp     x19, x30, [sp], #64
        .cfi_restore x19
        .cfi_restore x30
        .cfi_def_cfa_offset 0
        ret
        .cfi_endproc
        .size   fw_fpless, . - fw_fpless

        .macro LEAF name, n, early
        .globl  \name
        .type   \name, %function
\name:
        .cfi_startproc
        stp     x29, x30, [sp, #-32]!
        .cfi_def_cfa_offset 32
        .cfi_offset x29, -32
        .cfi_offset x30, -24
        mov     x29, sp
        str     x19, [sp, #16]
        .cfi_offset x19, -16
        mov     x19, x0
        mov     x0, x1
        blr     x19
        add     x0, x0, #1
        .if \early
        POINT   \n
        .endif
        ldr     x19, [sp, #16]
        ldp     x29, x30, [sp], #32
        .cfi_restore x30
        .cfi_restore x29
        .cfi_restore x19
        .cfi_def_cfa_offset 0
        .if !\early
        POINT   \n
        .endif
        ret
        .cfi_endproc
        .size   \name, . - \name
        .endm

        LEAF    fw_in, 1, 1
        LEAF    fw_ret, 2, 0

        .section .note.GNU-stack,"",%progbits
