/*
 * x86_64 asynchronous preemption stub (runtime-core/src/sched/preempt.rs has the whole account).
 *
 * The suspend signal's handler, when it preempts a goroutine interrupted at pc0 with sp0 and
 * rbp0, moves the kernel's signal frame (every register: general, flags, the whole XSAVE
 * area with SSE/AVX state and the FP control words) onto the goroutine's own stack, below
 * the interrupted function's red zone, with a frame record below it, and makes the signal
 * return land here:
 *
 *        higher addresses
 *      | interrupted frames  |
 *      +---------------------+  sp0
 *      | red zone (128 B)    |  untouched: the interrupted function's live data
 *      | (padding)           |
 *      | fpstate copy        |  64-byte aligned, as the kernel requires
 *      | siginfo, ucontext   |  the ucontext's fpregs points at the copy above
 *      | pretcode slot       |  (the frame moved by a multiple of 64 bytes)
 *      | (padding)           |
 *      | &ucontext copy      |  rbp + 16: the rsp rt_sigreturn wants
 *      | pc0                 |  rbp + 8  } a frame record: walkers see the interrupted pc
 *      | rbp0                |  rbp      } and the interrupted function's record above it
 *      +---------------------+  <- rsp = rbp on entry (16-byte aligned)
 *
 * The stub calls grt_async_preempt_impl(record) (Rust: yields the processor, and once the
 * goroutine runs again, on whatever thread, refreshes the copy's signal mask and alternate
 * stack for that thread), then returns into the interrupted code through rt_sigreturn from
 * the copy: the kernel reloads every register, rsp = sp0 and rip = pc0 included, exactly as
 * a signal return does. No register is live across the stub but rbp (callee-saved).
 *
 * [grt_async_preempt_stub, grt_async_preempt_stub_end) is its code: walkers that meet a return address
 * there, or a pc, go on from the record at rbp (arch::in_async_preempt).
 */
#include "consts.h"

        .intel_syntax noprefix
        .text

        .globl  grt_async_preempt_stub
        .hidden grt_async_preempt_stub
        .type   grt_async_preempt_stub, @function
        .p2align 4
grt_async_preempt_stub:
        .cfi_startproc
        .cfi_signal_frame
        .cfi_def_cfa rbp, 16            /* a frame record at rbp, as after a prologue */
        .cfi_offset rbp, -16
        .cfi_offset rip, -8
        cld                             /* the interrupted code may have set DF; C wants it clear */
        mov     rdi, rbp
        call    grt_async_preempt_impl
        mov     rsp, [rbp + 16]         /* the ucontext copy (its pretcode slot is popped) */
        mov     eax, NR_RT_SIGRETURN
        syscall
        ud2                             /* rt_sigreturn does not return here */
        .cfi_endproc
        .globl  grt_async_preempt_stub_end
        .hidden grt_async_preempt_stub_end
grt_async_preempt_stub_end:
        .size   grt_async_preempt_stub, grt_async_preempt_stub_end - grt_async_preempt_stub

        .section .note.GNU-stack,"",@progbits
