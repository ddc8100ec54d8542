/*
 * x86_64 process entry for the freestanding build (no libc): the kernel jumps here with
 * rsp -> argc, argv[], NULL, envp[], NULL, auxv[]. rbp is cleared to end the frame-pointer
 * chain, rsp is aligned for the call, and grt_start_c(initial_sp) takes over; it never returns.
 */
        .intel_syntax noprefix
        .text
        .globl  _start
        .type   _start, @function
        .p2align 4
_start:
        .cfi_startproc
        .cfi_undefined rip
        xor     ebp, ebp
        mov     rdi, rsp
        and     rsp, -16
        call    grt_start_c
        ud2
        .cfi_endproc
        .size   _start, . - _start

        .section .note.GNU-stack,"",@progbits
