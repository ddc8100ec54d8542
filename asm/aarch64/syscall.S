/*
 * aarch64 entry points that must see their caller's registers: grt_entersyscall records where
 * the goroutine's frozen stack begins, and grt_cgocall also moves the call onto the M's
 * system stack.
 *
 * At the first instruction of a function called with `bl` (nothing is pushed):
 *      x30        return address  = the caller's pc after the call (syscallpc)
 *      sp         the caller's sp at the call (syscallsp): everything above is the caller's
 *      x29        the caller's frame pointer (syscallbp): the frame-pointer chain to walk
 *
 * grt_cgocall's frames, on the goroutine stack and then on the system stack (g0):
 *
 *   goroutine stack                          system stack (below g0's parked sp)
 *   | caller's frames       | <- syscallsp   +----------------------+ <- sp from grt_cgocall_enter
 *   | saved x19, x20        |  sp + 16       | goroutine sp         |  restored after fn
 *   | saved x29, x30        | <- x29, sp     | (padding)            |
 *                                            +----------------------+ <- sp at `blr fn`,
 *                                               x29 = 0: fn's frame chain ends here
 */
#include "consts.h"

        .text

/* int grt_entersyscall(void): tail-calls grt_entersyscall_impl(pc, sp, fp). */
        .globl  grt_entersyscall
        .type   grt_entersyscall, %function
        .p2align 4
grt_entersyscall:
        .cfi_startproc
        mov     x0, x30                 /* syscallpc */
        mov     x1, sp                  /* syscallsp */
        mov     x2, x29                 /* syscallbp */
        b       grt_entersyscall_impl   /* x30 untouched: returns straight to our caller */
        .cfi_endproc
        .size   grt_entersyscall, . - grt_entersyscall

/* int grt_cgocall(void (*fn)(void *) [x0], void *arg [x1]) */
        .globl  grt_cgocall
        .type   grt_cgocall, %function
        .p2align 4
grt_cgocall:
        .cfi_startproc
        stp     x29, x30, [sp, #-32]!   /* frame record, so walkers and debuggers see us */
        .cfi_def_cfa_offset 32
        .cfi_offset x29, -32
        .cfi_offset x30, -24
        mov     x29, sp
        stp     x19, x20, [sp, #16]     /* callee-saved; hold fn and arg across the calls */
        .cfi_offset x19, -16
        .cfi_offset x20, -8
        mov     x19, x0
        mov     x20, x1
        mov     x0, x30                 /* syscallpc */
        add     x1, sp, #32             /* syscallsp */
        ldr     x2, [x29]               /* syscallbp */
        mov     x3, x19                 /* fn, checked there */
        bl      grt_cgocall_enter       /* -> system-stack sp, 0: call directly, 1: error */
        cmp     x0, #1
        b.eq    3f
        cbz     x0, 2f
        mov     x9, sp
        sub     x0, x0, #16
        mov     sp, x0                  /* onto the system stack */
        str     x9, [sp]                /* the goroutine's sp, to come back to */
        mov     x29, #0                 /* fn's frame-pointer chain ends on the system stack */
        mov     x0, x20
        blr     x19
        ldr     x9, [sp]
        mov     sp, x9                  /* back on the goroutine stack */
        mov     x29, sp
        bl      grt_cgocall_exit        /* -> GRT_OK */
        b       4f
2:      mov     x0, x20                 /* not on a goroutine: just call fn */
        blr     x19
        mov     w0, #0
        b       4f
3:      mov     w0, #-22                /* GRT_EINVAL; grt_cgocall_enter said why */
4:      ldp     x19, x20, [sp, #16]
        ldp     x29, x30, [sp], #32
        .cfi_def_cfa_offset 0
        ret
        .cfi_endproc
        .size   grt_cgocall, . - grt_cgocall

        .section .note.GNU-stack,"",@progbits
