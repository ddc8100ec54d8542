/*
 * x86_64 signal restorer, installed as sa_restorer of every handler grt installs
 * (the kernel refuses to deliver a signal without one on x86_64: "x86-64 should always
 * use SA_RESTORER"). The kernel pushes its address as the handler's return address.
 *
 * The bytes must be exactly `48 c7 c0 0f 00 00 00 0f 05` (mov $15, %rax; syscall), the
 * sequence of glibc's __restore_rt that libgcc's unwinder and gdb match to recognise a signal
 * frame; that is also why it carries no CFI of its own (libgcc only falls back to the pattern
 * match when no FDE covers the pc). The leading nop keeps pc-1 inside the symbol as glibc does.
 */
#include "consts.h"

        .text
        .globl  grt_asm_signal_start       /* this file's code: arch::in_grt_asm */
        .hidden grt_asm_signal_start
grt_asm_signal_start:
        .p2align 4
        nop
        .globl  grt_sigreturn
        .type   grt_sigreturn, @function
grt_sigreturn:
        .byte   0x48, 0xc7, 0xc0, NR_RT_SIGRETURN, 0x00, 0x00, 0x00   /* mov $15, %rax */
        .byte   0x0f, 0x05                                             /* syscall       */
        ud2
        .size   grt_sigreturn, . - grt_sigreturn


/*
 * void grt_sigtramp(int sig [rdi], siginfo_t *info [rsi], void *uc [rdx])
 *
 * The handler grt gives the kernel for every signal it installs. It forces the ABI's 16-byte
 * stack alignment before calling grt_sighandler (Rust): emulators such as qemu-x86_64 7.x can
 * build the signal frame 8 bytes off, and compiled code then faults on aligned SSE moves.
 * rbp is set up as a frame record so walkers see the handler's frame.
 */
        .intel_syntax noprefix
        .text
        .globl  grt_sigtramp
        .type   grt_sigtramp, @function
        .p2align 4
grt_sigtramp:
        .cfi_startproc
        push    rbp
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        mov     rbp, rsp
        .cfi_def_cfa_register rbp
        and     rsp, -16
        call    grt_sighandler
        mov     rsp, rbp
        pop     rbp
        .cfi_def_cfa rsp, 8
        ret
        .cfi_endproc
        .size   grt_sigtramp, . - grt_sigtramp

        .text
        .globl  grt_asm_signal_end
        .hidden grt_asm_signal_end
grt_asm_signal_end:

        .section .note.GNU-stack,"",@progbits
