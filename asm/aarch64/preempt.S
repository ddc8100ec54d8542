/*
 * aarch64 asynchronous preemption stub (runtime-core/src/sched/preempt.rs has the whole account).
 *
 * The suspend signal's handler, when it preempts a goroutine interrupted at pc0 with sp0,
 * x29 = fp0 and x30 = lr0, moves the kernel's signal frame (siginfo, then the ucontext with
 * every register, pstate, and in its records the FPSIMD state v0-v31 with FPSR and FPCR,
 * SVE state and any extra context) onto the goroutine's own stack below sp0, with a frame
 * record below it, and makes the signal return land here:
 *
 *        higher addresses
 *      | interrupted frames  |
 *      +---------------------+  sp0
 *      | (padding)           |
 *      | ucontext copy       |  its extra_context pointer, if any, moved with it
 *      | siginfo copy        |  the frame's start, 16-byte aligned
 *      | (padding)           |
 *      | &siginfo copy | pad |  x29 + 16: the sp rt_sigreturn wants
 *      | fp0     | pc0       |  x29: a frame record: walkers see the interrupted pc and
 *      +---------------------+       the interrupted function's record above it
 *                               <- sp = x29 on entry
 *
 * The stub calls grt_async_preempt_impl(record) (Rust: yields the processor, and once the
 * goroutine runs again, on whatever thread, refreshes the copy's signal mask and alternate
 * stack for that thread), then returns into the interrupted code through rt_sigreturn from
 * the copy: the kernel reloads every register, sp = sp0 and pc = pc0 included, exactly as a
 * signal return does. No register is live across the stub but x29 (callee-saved).
 *
 * [grt_async_preempt_stub, grt_async_preempt_stub_end) is its code: walkers that meet a return address
 * there, or a pc, go on from the record at x29 (arch::in_async_preempt).
 */
#include "consts.h"

        .text

        .globl  grt_async_preempt_stub
        .hidden grt_async_preempt_stub
        .type   grt_async_preempt_stub, %function
        .p2align 4
grt_async_preempt_stub:
        .cfi_startproc
        .cfi_signal_frame
        .cfi_def_cfa x29, 16            /* a frame record at x29, as after a prologue */
        .cfi_offset x29, -16
        .cfi_offset x30, -8
        mov     x0, x29
        bl      grt_async_preempt_impl
        ldr     x9, [x29, #16]          /* the siginfo copy: the start of the frame */
        mov     sp, x9
        mov     x8, #NR_RT_SIGRETURN
        svc     #0
        brk     #1                      /* rt_sigreturn does not return here */
        .cfi_endproc
        .globl  grt_async_preempt_stub_end
        .hidden grt_async_preempt_stub_end
grt_async_preempt_stub_end:
        .size   grt_async_preempt_stub, grt_async_preempt_stub_end - grt_async_preempt_stub

        .section .note.GNU-stack,"",%progbits
