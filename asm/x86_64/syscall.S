/*
 * x86_64 entry points that must see their caller's registers: grt_entersyscall records where
 * the goroutine's frozen stack begins, and grt_cgocall also moves the call onto the M's
 * system stack.
 *
 * At the first instruction of a function called with `call`:
 *      [rsp]      return address  = the caller's pc after the call (syscallpc)
 *      rsp + 8    the caller's sp  at the call (syscallsp): everything above is the caller's
 *      rbp        the caller's frame pointer (syscallbp): the frame-pointer chain to walk
 *
 * grt_cgocall's frames, on the goroutine stack and then on the system stack (g0):
 *
 *   goroutine stack                          system stack (below g0's parked sp)
 *   | caller's frames       | <- syscallsp   +----------------------+ <- sp from grt_cgocall_enter
 *   | return address        |                | goroutine rsp        |  restored after fn
 *   | saved rbp             | <- rbp         | (padding)            |
 *   | saved rbx (fn)        |                +----------------------+ <- rsp at `call fn`,
 *   | saved r12 (arg)       | <- rsp            rbp = 0: fn's frame chain ends here
 */
#include "consts.h"

        .intel_syntax noprefix
        .text

/* int grt_entersyscall(void): tail-calls grt_entersyscall_impl(pc, sp, fp). */
        .globl  grt_entersyscall
        .type   grt_entersyscall, @function
        .p2align 4
grt_entersyscall:
        .cfi_startproc
        mov     rdi, [rsp]              /* syscallpc */
        lea     rsi, [rsp + 8]          /* syscallsp */
        mov     rdx, rbp                /* syscallbp */
        jmp     grt_entersyscall_impl   /* returns straight to our caller */
        .cfi_endproc
        .size   grt_entersyscall, . - grt_entersyscall

/* int grt_cgocall(void (*fn)(void *) [rdi], void *arg [rsi]) */
        .globl  grt_cgocall
        .type   grt_cgocall, @function
        .p2align 4
grt_cgocall:
        .cfi_startproc
        push    rbp                     /* frame record, so walkers and debuggers see us */
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        mov     rbp, rsp
        .cfi_def_cfa_register rbp
        push    rbx                     /* callee-saved; holds fn across the calls */
        .cfi_offset rbx, -24
        push    r12                     /* callee-saved; holds arg; also realigns rsp to 16 */
        .cfi_offset r12, -32
        mov     rbx, rdi
        mov     r12, rsi
        mov     rdi, [rbp + 8]          /* syscallpc */
        lea     rsi, [rbp + 16]         /* syscallsp */
        mov     rdx, [rbp]              /* syscallbp */
        mov     rcx, rbx                /* fn, checked there */
        call    grt_cgocall_enter       /* -> system-stack sp, 0: call directly, 1: error */
        cmp     rax, 1
        je      3f
        test    rax, rax
        jz      2f
        mov     rcx, rsp
        mov     rsp, rax                /* onto the system stack */
        sub     rsp, 16
        mov     [rsp], rcx              /* the goroutine's rsp, to come back to */
        xor     ebp, ebp                /* fn's frame-pointer chain ends on the system stack */
        mov     rdi, r12
        call    rbx
        mov     rsp, [rsp]              /* back on the goroutine stack */
        lea     rbp, [rsp + 16]
        call    grt_cgocall_exit        /* -> GRT_OK */
        jmp     4f
2:      mov     rdi, r12                /* not on a goroutine: just call fn */
        call    rbx
        xor     eax, eax
        jmp     4f
3:      mov     eax, -22                /* GRT_EINVAL; grt_cgocall_enter said why */
4:      pop     r12
        pop     rbx
        pop     rbp
        .cfi_def_cfa rsp, 8
        ret
        .cfi_endproc
        .size   grt_cgocall, . - grt_cgocall

        .section .note.GNU-stack,"",@progbits
