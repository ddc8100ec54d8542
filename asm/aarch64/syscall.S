/*
 * aarch64 entry points that must see their caller's registers: grt_entersyscall records where
 * the goroutine's frozen stack begins, and grt_cgocall also moves the call onto the M's
 * system stack. Both hand Rust the caller's callee-saved registers too, which the collector
 * scans as roots while the goroutine is in the system call (g->syscallregs).
 *
 * At the first instruction of a function called with `bl` (nothing is pushed):
 *      x30        return address  = the caller's pc after the call (syscallpc)
 *      sp         the caller's sp at the call (syscallsp): everything above is the caller's
 *      x29        the caller's frame pointer (syscallbp): the frame-pointer chain to walk
 *      x19-x28    the caller's callee-saved registers: they may hold its only pointer to an
 *                 object, and the code it calls (a system call, fn) keeps them all along
 *
 * The register block (NSYSCALLREGS words, copied into g->syscallregs by the Rust side, so it
 * is on the stack only during the call to grt_entersyscall_impl / grt_cgocall_enter):
 *
 *      regs + 0 .. regs + 72   x19 .. x28   the caller's values, stored before anything here
 *                                           changes them (grt_cgocall moves fn and arg into
 *                                           x19 and x20 only afterwards)
 *      regs + 80               arg          grt_cgocall's argument (its function may keep the
 *                                           only pointer to it), 0 for grt_entersyscall
 *      regs + 88               0
 *
 * grt_entersyscall's frame (a frame record, so walkers and debuggers see the call):
 *
 *      | caller's frames       | <- syscallsp
 *      | saved x29, x30        | <- x29          frame record
 *      | register block        | <- sp at `bl grt_entersyscall_impl` (16-byte aligned)
 *
 * grt_cgocall's frames, on the goroutine stack and then on the system stack (g0):
 *
 *   goroutine stack                          system stack (below g0's parked sp)
 *   | caller's frames       | <- syscallsp   +----------------------+ <- sp from grt_cgocall_enter
 *   | saved x19, x20        |  x29 + 16      | goroutine sp         |  restored after fn
 *   | saved x29, x30        | <- x29, sp     | (padding)            |
 *   | register block        |  only during   +----------------------+ <- sp at `blr fn`,
 *                              the call to      x29 = 0: fn's frame chain ends here
 *                              grt_cgocall_enter
 */
#include "consts.h"
#include "goffsets.h"

#if NSYSCALLREGS != 12
#error "the register blocks below are laid out for NSYSCALLREGS == 12"
#endif
#define REGS_SIZE       (NSYSCALLREGS * 8)      /* 96: a multiple of 16 keeps sp aligned */

/* Fills the register block at [sp]: the caller's x19-x28, then `arg`, then a zero. */
        .macro  STORE_SYSCALLREGS arg
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     \arg, xzr, [sp, #80]
        .endm

        .text
        .globl  grt_asm_syscall_start       /* this file's code: arch::in_grt_asm */
        .hidden grt_asm_syscall_start
grt_asm_syscall_start:

/* int grt_entersyscall(void): returns grt_entersyscall_impl(pc, sp, fp, regs). */
        .globl  grt_entersyscall
        .type   grt_entersyscall, %function
        .p2align 4
grt_entersyscall:
        .cfi_startproc
        stp     x29, x30, [sp, #-16]!   /* frame record, so walkers and debuggers see us */
        .cfi_def_cfa_offset 16
        .cfi_offset x29, -16
        .cfi_offset x30, -8
        mov     x29, sp
        sub     sp, sp, #REGS_SIZE
        .cfi_adjust_cfa_offset REGS_SIZE
        STORE_SYSCALLREGS xzr           /* no arg */
        mov     x0, x30                 /* syscallpc */
        add     x1, x29, #16            /* syscallsp */
        ldr     x2, [x29]               /* syscallbp */
        mov     x3, sp                  /* regs */
        bl      grt_entersyscall_impl
        add     sp, sp, #REGS_SIZE
        .cfi_adjust_cfa_offset -REGS_SIZE
        ldp     x29, x30, [sp], #16
        .cfi_def_cfa_offset 0
        ret
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
        sub     sp, sp, #REGS_SIZE      /* the register block: still the caller's values */
        .cfi_adjust_cfa_offset REGS_SIZE
        STORE_SYSCALLREGS x1            /* arg */
        mov     x19, x0
        mov     x20, x1
        mov     x0, x30                 /* syscallpc */
        add     x1, x29, #32            /* syscallsp */
        ldr     x2, [x29]               /* syscallbp */
        mov     x3, x19                 /* fn, checked there */
        mov     x4, sp                  /* regs */
        bl      grt_cgocall_enter       /* -> system-stack sp, 0: call directly, 1: error */
        add     sp, sp, #REGS_SIZE      /* copied into g->syscallregs: drop the block */
        .cfi_adjust_cfa_offset -REGS_SIZE
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

/*
 * void grt_call_spilled(void (*fn)(void *arg, uintptr_t sp, uintptr_t fp) [x0], void *arg [x1])
 *
 * Calls fn(arg, sp, fp) with every callee-saved register of the caller stored on the stack
 * at or above sp (bdwgc's GC_with_callee_saves_pushed): a thread that stops itself inside fn
 * (regthreads.rs, stw.rs) is then scanned as [sp, stack top) and nothing of its caller's
 * lives only in a register (the caller-saved ones are dead across a call by AAPCS64; d8-d15
 * hold no pointer the collector looks for, as in the suspend signal's scan). fp is this
 * frame's record, the start of the frame-pointer chain to walk from sp.
 *
 *      | caller's frames       |
 *      | x19 .. x28            |  the caller's values
 *      | saved x29, x30        | <- x29 = sp = sp at `blr fn`      frame record
 */
        .globl  grt_call_spilled
        .hidden grt_call_spilled          /* the runtime's own: not part of grt.h */
        .type   grt_call_spilled, @function
        .p2align 4
grt_call_spilled:
        .cfi_startproc
        stp     x29, x30, [sp, #-96]!   /* frame record, so walkers and debuggers see us */
        .cfi_def_cfa_offset 96
        .cfi_offset x29, -96
        .cfi_offset x30, -88
        mov     x29, sp
        stp     x19, x20, [sp, #16]     /* the caller's callee-saved registers: spilled for */
        .cfi_offset x19, -80            /* the scan, restored (unchanged) on the way out */
        .cfi_offset x20, -72
        stp     x21, x22, [sp, #32]
        .cfi_offset x21, -64
        .cfi_offset x22, -56
        stp     x23, x24, [sp, #48]
        .cfi_offset x23, -48
        .cfi_offset x24, -40
        stp     x25, x26, [sp, #64]
        .cfi_offset x25, -32
        .cfi_offset x26, -24
        stp     x27, x28, [sp, #80]
        .cfi_offset x27, -16
        .cfi_offset x28, -8
        mov     x9, x0
        mov     x0, x1                  /* arg */
        mov     x1, sp                  /* sp */
        mov     x2, x29                 /* fp */
        blr     x9
        ldp     x19, x20, [sp, #16]
        ldp     x21, x22, [sp, #32]
        ldp     x23, x24, [sp, #48]
        ldp     x25, x26, [sp, #64]
        ldp     x27, x28, [sp, #80]
        ldp     x29, x30, [sp], #96
        .cfi_def_cfa_offset 0
        ret
        .cfi_endproc
        .size   grt_call_spilled, . - grt_call_spilled

        .text
        .globl  grt_asm_syscall_end
        .hidden grt_asm_syscall_end
grt_asm_syscall_end:

        .section .note.GNU-stack,"",%progbits
