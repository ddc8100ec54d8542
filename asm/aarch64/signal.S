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
        .p2align 4
        nop
        .globl  grt_sigreturn
        .type   grt_sigreturn, %function
grt_sigreturn:
        mov     x8, #NR_RT_SIGRETURN
        svc     #0
        udf     #16
        .size   grt_sigreturn, . - grt_sigreturn

        .section .note.GNU-stack,"",%progbits
