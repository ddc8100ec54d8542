/*
 * x86_64 thread-local state and raw thread creation.
 *
 * grt_tls is the per-thread struct { g *g; m *m; cache *c; } the runtime and its assembly use to find
 * the current goroutine. It is an initial-exec TLS object: one `mov` from %fs-relative memory,
 * valid in both builds: under glibc (which owns %fs and allocates static TLS for every
 * pthread) and in the freestanding build (where grt lays out the TLS block and sets %fs).
 */
#include "consts.h"

        .section .tbss, "awT", @nobits
        .p2align 3
        .globl  grt_tls
        .type   grt_tls, @object
        .size   grt_tls, TLS_SIZE
grt_tls:
        .zero   TLS_SIZE

        .intel_syntax noprefix
        .text
        .globl  grt_asm_thread_start       /* this file's code: arch::in_grt_asm */
        .hidden grt_asm_thread_start
grt_asm_thread_start:
/*
 * long grt_clone(unsigned long flags [rdi], void *stack [rsi], int *ptid [rdx],
 *                int *ctid [rcx], void *tls [r8], void (*fn)(void *) [r9], void *arg [rsp+8])
 *
 * The child starts on `stack` (16-byte aligned top) with rbp = 0, calls fn(arg), and exits
 * the thread (SYS_exit, not exit_group) if fn returns. Returns the child's tid or -errno in
 * the parent. The child's stack at the syscall:
 *
 *      stack      : (caller's top, 16-aligned)
 *      stack - 8  : arg      popped into rdi by the child
 *      stack - 16 : fn       popped into rax by the child   <- child rsp at the syscall
 */
        .globl  grt_clone
        .type   grt_clone, @function
        .p2align 4
grt_clone:
        .cfi_startproc
        mov     rax, [rsp + 8]          /* arg (7th argument, on our stack) */
        sub     rsi, 16
        mov     [rsi], r9               /* fn for the child */
        mov     [rsi + 8], rax          /* arg for the child */
        mov     r10, rcx                /* kernel order: flags, stack, ptid, ctid, tls */
        mov     eax, NR_CLONE
        syscall
        test    rax, rax
        jz      1f
        ret                             /* parent: tid or -errno */
1:
        .cfi_undefined rip              /* child: a brand-new stack, nothing above */
        xor     ebp, ebp                /* end the frame-pointer chain */
        pop     rax                     /* fn */
        pop     rdi                     /* arg; rsp is back at the aligned top */
        call    rax
        xor     edi, edi
        mov     eax, NR_EXIT
        syscall
        ud2
        .cfi_endproc
        .size   grt_clone, . - grt_clone

        .text
        .globl  grt_asm_thread_end
        .hidden grt_asm_thread_end
grt_asm_thread_end:

        .section .note.GNU-stack,"",@progbits
