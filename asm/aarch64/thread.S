/*
 * aarch64 thread-local state and raw thread creation.
 *
 * grt_tls is the per-thread struct { g *g; m *m; cache *c; } the runtime and its assembly use to find
 * the current goroutine. It is an initial-exec TLS object reached from TPIDR_EL0, valid in
 * both builds: under glibc (which owns TPIDR_EL0 and allocates static TLS for every pthread)
 * and in the freestanding build (where grt lays out the TLS block and sets TPIDR_EL0).
 */
#include "consts.h"

        .section .tbss, "awT", %nobits
        .p2align 3
        .globl  grt_tls
        .type   grt_tls, %object
        .size   grt_tls, TLS_SIZE
grt_tls:
        .zero   TLS_SIZE

        .text
        .globl  grt_asm_thread_start       /* this file's code: arch::in_grt_asm */
        .hidden grt_asm_thread_start
grt_asm_thread_start:
/*
 * long grt_clone(unsigned long flags [x0], void *stack [x1], int *ptid [x2],
 *                int *ctid [x3], void *tls [x4], void (*fn)(void *) [x5], void *arg [x6])
 *
 * The child starts on `stack` (16-byte aligned top) with x29 = x30 = 0, calls fn(arg), and
 * exits the thread (SYS_exit, not exit_group) if fn returns. Returns the child's tid or
 * -errno in the parent. fn and arg travel on the child's stack: {fn, arg} at stack - 16.
 */
        .globl  grt_clone
        .type   grt_clone, %function
        .p2align 4
grt_clone:
        .cfi_startproc
        stp     x5, x6, [x1, #-16]!     /* fn, arg for the child */
        mov     x9, x3                  /* kernel order: flags, stack, ptid, tls, ctid */
        mov     x3, x4
        mov     x4, x9
        mov     x8, #NR_CLONE
        svc     #0
        cbz     x0, 1f
        ret                             /* parent: tid or -errno */
1:
        .cfi_undefined x30              /* child: a brand-new stack, nothing above */
        mov     x29, xzr                /* end the frame-pointer chain */
        mov     x30, xzr
        ldp     x9, x0, [sp], #16       /* fn, arg; sp is back at the aligned top */
        blr     x9
        mov     x0, #0
        mov     x8, #NR_EXIT
        svc     #0
        brk     #1
        .cfi_endproc
        .size   grt_clone, . - grt_clone

        .text
        .globl  grt_asm_thread_end
        .hidden grt_asm_thread_end
grt_asm_thread_end:

        .section .note.GNU-stack,"",%progbits
