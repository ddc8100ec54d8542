/*
 * aarch64 signal restorer, installed as sa_restorer of every handler grt installs (the
 * kernel puts it in x30 for the handler). Without SA_RESTORER arm64 would use the vDSO
 * trampoline; we install our own so both architectures behave the same.
 *
 * The words must be exactly d2801168 d4000001 (mov x8, #139; svc #0), the sequence libgcc's
 * unwinder and gdb's tramp_frame match to recognise a signal frame; hence no CFI here
 * (libgcc only falls back to the pattern match when no FDE covers the pc).
 */
#include "consts.h"

        .text
        .globl  grt_asm_signal_start       /* this file's code: arch::in_grt_asm */
        .hidden grt_asm_signal_start
grt_asm_signal_start:
        .p2align 4
        nop
        .globl  grt_sigreturn
        .type   grt_sigreturn, %function
grt_sigreturn:
        mov     x8, #NR_RT_SIGRETURN
        svc     #0
        udf     #16
        .size   grt_sigreturn, . - grt_sigreturn


/*
 * void grt_sigtramp(int sig [x0], siginfo_t *info [x1], void *uc [x2])
 *
 * The handler grt gives the kernel for every signal it installs: a frame record, then
 * grt_sigtramp -> grt_sighandler (Rust). Same shape as on x86_64 (where it also realigns sp);
 * on aarch64 the hardware already enforces sp alignment.
 */
        .text
        .globl  grt_sigtramp
        .type   grt_sigtramp, %function
        .p2align 4
grt_sigtramp:
        .cfi_startproc
        stp     x29, x30, [sp, #-16]!
        .cfi_def_cfa_offset 16
        .cfi_offset x29, -16
        .cfi_offset x30, -8
        mov     x29, sp
        bl      grt_sighandler
        ldp     x29, x30, [sp], #16
        .cfi_def_cfa_offset 0
        ret
        .cfi_endproc
        .size   grt_sigtramp, . - grt_sigtramp

        .text
        .globl  grt_asm_signal_end
        .hidden grt_asm_signal_end
grt_asm_signal_end:

        .section .note.GNU-stack,"",%progbits
