/*
 * aarch64 process entry for the freestanding build (no libc): the kernel jumps here with
 * sp -> argc, argv[], NULL, envp[], NULL, auxv[] (sp is 16-byte aligned by the ABI).
 * x29/x30 are cleared to end the frame-pointer chain and grt_start_c(initial_sp) takes over.
 */
        .text
        .globl  _start
        .type   _start, %function
        .p2align 4
_start:
        .cfi_startproc
        .cfi_undefined x30
        mov     x29, xzr
        mov     x30, xzr
        mov     x0, sp
        bl      grt_start_c
        brk     #1
        .cfi_endproc
        .size   _start, . - _start

        .section .note.GNU-stack,"",%progbits
