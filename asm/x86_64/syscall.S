/*
 * x86_64 entry points that must see their caller's registers: grt_entersyscall records where
 * the goroutine's frozen stack begins, and grt_cgocall also moves the call onto the M's
 * system stack. Both hand Rust the caller's callee-saved registers too, which the collector
 * scans as roots while the goroutine is in the system call (g->syscallregs).
 *
 * At the first instruction of a function called with `call`:
 *      [rsp]      return address  = the caller's pc after the call (syscallpc)
 *      rsp + 8    the caller's sp  at the call (syscallsp): everything above is the caller's
 *      rbp        the caller's frame pointer (syscallbp): the frame-pointer chain to walk
 *      rbx, r12-r15  the caller's callee-saved registers: they may hold its only pointer to
 *                 an object, and the code it calls (a system call, fn) keeps them all along
 *
 * The register block (NSYSCALLREGS words, copied into g->syscallregs by the Rust side, so it
 * is on the stack only during the call to grt_entersyscall_impl / grt_cgocall_enter):
 *
 *      regs + 0   rbx   } the caller's values, stored before anything here changes them
 *      regs + 8   r12   } (grt_cgocall moves fn and arg into rbx and r12 only afterwards)
 *      regs + 16  r13   }
 *      regs + 24  r14   }
 *      regs + 32  r15   }
 *      regs + 40  arg   grt_cgocall's argument (its function may keep the only pointer to
 *                       it), 0 for grt_entersyscall
 *      regs + 48 .. regs + 88   0 (the aarch64 block has 12 live words)
 *
 * grt_entersyscall's frame (a frame record, so walkers and debuggers see the call):
 *
 *      | caller's frames       | <- syscallsp
 *      | return address        |  } frame record
 *      | saved rbp             |  } <- rbp
 *      | register block        | <- rsp at `call grt_entersyscall_impl` (16-byte aligned)
 *
 * grt_cgocall's frames, on the goroutine stack and then on the system stack (g0):
 *
 *   goroutine stack                          system stack (below g0's parked sp)
 *   | caller's frames       | <- syscallsp   +----------------------+ <- sp from grt_cgocall_enter
 *   | return address        |                | goroutine rsp        |  restored after fn
 *   | saved rbp             | <- rbp         | (padding)            |
 *   | saved rbx (fn)        |                +----------------------+ <- rsp at `call fn`,
 *   | saved r12 (arg)       | <- rsp            rbp = 0: fn's frame chain ends here
 *   | register block        |  only during the call to grt_cgocall_enter
 */
#include "consts.h"
#include "goffsets.h"

#if NSYSCALLREGS != 12
#error "the register blocks below are laid out for NSYSCALLREGS == 12"
#endif
#define REGS_SIZE       (NSYSCALLREGS * 8)      /* 96: a multiple of 16 keeps rsp aligned */

/* Fills the register block at [rsp]: the caller's rbx, r12-r15, then `arg`, then zeros.
 * Clobbers rax (the zeros). */
        .macro  STORE_SYSCALLREGS arg
        mov     [rsp + 0], rbx
        mov     [rsp + 8], r12
        mov     [rsp + 16], r13
        mov     [rsp + 24], r14
        mov     [rsp + 32], r15
        mov     [rsp + 40], \arg
        xor     eax, eax
        mov     [rsp + 48], rax
        mov     [rsp + 56], rax
        mov     [rsp + 64], rax
        mov     [rsp + 72], rax
        mov     [rsp + 80], rax
        mov     [rsp + 88], rax
        .endm

        .intel_syntax noprefix
        .text
        .globl  grt_asm_syscall_start       /* this file's code: arch::in_grt_asm */
        .hidden grt_asm_syscall_start
grt_asm_syscall_start:

/*
 * int grt_entersyscall(void): returns grt_entersyscall_impl(pc, sp, fp, regs).
 * rax is free to zero the block with (the return value comes back in it anyway).
 */
        .globl  grt_entersyscall
        .type   grt_entersyscall, @function
        .p2align 4
grt_entersyscall:
        .cfi_startproc
        push    rbp                     /* frame record, so walkers and debuggers see us */
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        mov     rbp, rsp
        .cfi_def_cfa_register rbp
        sub     rsp, REGS_SIZE          /* entry rsp = 8 mod 16; + rbp + block = 0 mod 16 */
        xor     eax, eax
        STORE_SYSCALLREGS rax           /* no arg */
        mov     rdi, [rbp + 8]          /* syscallpc */
        lea     rsi, [rbp + 16]         /* syscallsp */
        mov     rdx, [rbp]              /* syscallbp */
        mov     rcx, rsp                /* regs */
        call    grt_entersyscall_impl
        leave
        .cfi_def_cfa rsp, 8
        ret
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
        sub     rsp, REGS_SIZE          /* the register block: still the caller's values */
        STORE_SYSCALLREGS rsi           /* arg */
        mov     rbx, rdi
        mov     r12, rsi
        mov     rdi, [rbp + 8]          /* syscallpc */
        lea     rsi, [rbp + 16]         /* syscallsp */
        mov     rdx, [rbp]              /* syscallbp */
        mov     rcx, rbx                /* fn, checked there */
        mov     r8, rsp                 /* regs */
        call    grt_cgocall_enter       /* -> system-stack sp, 0: call directly, 1: error */
        add     rsp, REGS_SIZE          /* copied into g->syscallregs: drop the block */
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

/*
 * void grt_call_spilled(void (*fn)(void *arg, uintptr_t sp, uintptr_t fp) [rdi], void *arg [rsi])
 *
 * Calls fn(arg, sp, fp) with every callee-saved register of the caller stored on the stack
 * at or above sp (bdwgc's GC_with_callee_saves_pushed): a thread that stops itself inside fn
 * (regthreads.rs, stw.rs) is then scanned as [sp, stack top) and nothing of its caller's
 * lives only in a register (the caller-saved ones are dead across a call by the psABI).
 * fp is this frame's record, the start of the frame-pointer chain to walk from sp.
 *
 *      | caller's frames       |
 *      | return address        |
 *      | saved rbp             | <- rbp      frame record
 *      | rbx r12 r13 r14 r15   |  the caller's values
 *      | (padding)             | <- rsp = sp at `call fn` (16-byte aligned)
 */
        .globl  grt_call_spilled
        .hidden grt_call_spilled          /* the runtime's own: not part of grt.h */
        .type   grt_call_spilled, @function
        .p2align 4
grt_call_spilled:
        .cfi_startproc
        push    rbp                     /* frame record, so walkers and debuggers see us */
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        mov     rbp, rsp
        .cfi_def_cfa_register rbp
        push    rbx                     /* the caller's callee-saved registers: spilled for */
        .cfi_offset rbx, -24            /* the scan, restored (unchanged) on the way out */
        push    r12
        .cfi_offset r12, -32
        push    r13
        .cfi_offset r13, -40
        push    r14
        .cfi_offset r14, -48
        push    r15
        .cfi_offset r15, -56
        sub     rsp, 8                  /* entry rsp = 8 mod 16; + 6 pushes + 8 = 0 mod 16 */
        mov     rax, rdi
        mov     rdi, rsi                /* arg */
        mov     rsi, rsp                /* sp */
        mov     rdx, rbp                /* fp */
        call    rax
        add     rsp, 8
        pop     r15
        pop     r14
        pop     r13
        pop     r12
        pop     rbx
        pop     rbp
        .cfi_def_cfa rsp, 8
        ret
        .cfi_endproc
        .size   grt_call_spilled, . - grt_call_spilled

        .text
        .globl  grt_asm_syscall_end
        .hidden grt_asm_syscall_end
grt_asm_syscall_end:

        .section .note.GNU-stack,"",@progbits
