/*
 * The functions of prof_fpless_window.c, x86_64, with unwind tables as gcc writes them.
 *
 * fw_fpless(leaf, cb, arg) keeps no frame record (as -fomit-frame-pointer code): it points
 * rbp at a buffer of its own that looks like a record (buffer[0] the address of buffer[2],
 * buffer[1] 0x123456, buffer[2] 0) and returns leaf(cb, arg).
 *
 * fw_in and fw_ret (cb, arg) keep a record, return cb(arg) + 1, and stop on the way back
 * until fw_go is set (fw_in_window is set to the point's number first): fw_in with its record
 * complete, fw_ret after `leave`, at its `ret`. The spin touches only the flags and memory
 * through rip: rsp, rbp and rax (the result) stay as the point left them.
 */
        .intel_syntax noprefix
        .text

        .macro POINT n
        mov     dword ptr [rip + fw_in_window], \n
1:      pause
        cmp     dword ptr [rip + fw_go], 0
        je      1b
        .endm

        .globl  fw_fpless
        .type   fw_fpless, @function
fw_fpless:
        .cfi_startproc
        push    rbp
        .cfi_def_cfa_offset 16
        .cfi_offset rbp, -16
        sub     rsp, 32
        .cfi_def_cfa_offset 48
        lea     rax, [rsp + 16]
        mov     [rsp], rax
        mov     qword ptr [rsp + 8], 0x123456
        mov     qword ptr [rsp + 16], 0
        mov     qword ptr [rsp + 24], 0
        mov     rbp, rsp                /* data in rbp: the buffer, not a frame record */
        mov     rax, rdi
        mov     rdi, rsi
        mov     rsi, rdx
        call    rax
        add     rsp, 32
        .cfi_def_cfa_offset 16
        pop     rbp
        .cfi_restore rbp
        .cfi_def_cfa_offset 8
        ret
        .cfi_endproc
        .size   fw_fpless, . - fw_fpless

        .macro LEAF name, n, early
        .globl  \name
        .type   \name, @function
\name:
        .cfi_startproc
        push    rbp
        .cfi_def_cfa_offset 16
        .cfi_offset rbp, -16
        mov     rbp, rsp
        .cfi_def_cfa_register rbp
        push    rbx
        .cfi_offset rbx, -24
        sub     rsp, 8
        mov     rbx, rdi
        mov     rdi, rsi
        call    rbx
        add     rax, 1
        .if \early
        POINT   \n
        .endif
        mov     rbx, [rbp - 8]
        leave
        .cfi_def_cfa rsp, 8
        .if !\early
        POINT   \n
        .endif
        ret
        .cfi_endproc
        .size   \name, . - \name
        .endm

        LEAF    fw_in, 1, 1
        LEAF    fw_ret, 2, 0

        .section .note.GNU-stack,"",@progbits
