/*
 * Epilogue and sibling-call windows for gc_windows.c, aarch64: each win_* function calls
 * cb(arg) with a frame record of its own (gc_windows.c puts a stack barrier in that record
 * from inside cb), then stops in one window of its way back and spins there until the C side
 * sets win_go, so that signals (the collector's stop, grt_traceback's suspension, SIGPROF)
 * land exactly in that window, however qemu groups instructions into blocks. The spin uses
 * only x9 and x10 (temporaries that are dead at every one of these points) and the flags:
 * sp, x29, x30 and x0 (the result) stay as the window left them. Each returns cb's result
 * plus one.
 *
 * The shapes are the ones gcc and clang emit:
 *
 *   win_post    ldp x29, x30, [sp], #32       ; window ; ret         (small frames, gcc)
 *   win_offset  ldp x29, x30, [sp, #32]       ; window ; add sp ; ret (large frames, stack
 *                                                                       arguments, clang)
 *   win_sib_b   ldp x29, x30, [sp], #32 ; b win_sib_callee: window at the callee's first
 *               instruction (the return address is in x30 only)
 *   win_sib_stp the same, window after the callee's `stp x29, x30, [sp, #-80]!`, before
 *               `mov x29, sp` (the record holds it, the frame pointer is still the caller's)
 *   win_sib_in  the same, window inside the callee once its frame is complete (the record
 *               that holds the return address is on the frame chain, at another address
 *               than the one the barrier was placed in)
 *   win_cfi     LLVM's epilogue for a frame that saves d8/d9 below its record, with LLVM's
 *               unwind rows: ldp x29, x30, [sp, #16] ; window ; ldp d9, d8, [sp], #48 ; ret.
 *               The row in the window still says "x29/x30 saved at CFA-32/-24, CFA = sp+48"
 *               (LLVM marks the pair restored only after the last load), while x29 is the
 *               caller's again. rustc's grt_yield has this shape (d8-d15 below the record);
 *               clang gives it to C functions that keep floating-point values across calls.
 *
 *   win_tail    no window of a return: code after an early tail call's epilogue
 *               (`ldp x29, x30, [sp], #32 ; b win_tail_helper`), reached by a branch with
 *               the frame record in place, on a loop's second pass, x30 left over from the
 *               loop's call of win_tail_helper (placed before win_tail) further down. The
 *               scan back from the window meets that `ldp` first; x30 must not be taken for
 *               win_tail's caller.
 *
 * win_ret receives each win_* function's own return address at entry (the caller the walks
 * must report), win_in is set to the window's number when it is reached.
 */
        .text

        .macro WINDOW n
        adrp    x9, win_in
        add     x9, x9, :lo12:win_in
        mov     w10, #\n
        str     w10, [x9]
        adrp    x9, win_go
        add     x9, x9, :lo12:win_go
1:      ldr     w10, [x9]
        cbz     w10, 1b
        .endm

        /* Saves x30 (our return address) in win_ret; x9 scratch. */
        .macro SAVE_RET
        adrp    x9, win_ret
        add     x9, x9, :lo12:win_ret
        str     x30, [x9]
        .endm

        /* long win_post(long (*cb)(long), long arg) */
        .globl  win_post
        .type   win_post, %function
win_post:
        SAVE_RET
        stp     x29, x30, [sp, #-32]!
        mov     x29, sp
        str     x19, [sp, #16]
        mov     x19, x0
        mov     x0, x1
        blr     x19
        add     x0, x0, #1
        ldr     x19, [sp, #16]
        ldp     x29, x30, [sp], #32
        WINDOW  1
        ret
        .size   win_post, . - win_post

        /* long win_offset(long (*cb)(long), long arg) */
        .globl  win_offset
        .type   win_offset, %function
win_offset:
        SAVE_RET
        sub     sp, sp, #64
        stp     x29, x30, [sp, #32]
        add     x29, sp, #32
        str     x19, [sp, #16]
        mov     x19, x0
        mov     x0, x1
        blr     x19
        add     x0, x0, #1
        ldr     x19, [sp, #16]
        ldp     x29, x30, [sp, #32]
        WINDOW  2
        add     sp, sp, #64
        ret
        .size   win_offset, . - win_offset

        /* long win_cfi(long (*cb)(long), long arg) */
        .globl  win_cfi
        .type   win_cfi, %function
win_cfi:
        .cfi_startproc
        SAVE_RET
        stp     d9, d8, [sp, #-48]!
        .cfi_def_cfa_offset 48
        stp     x29, x30, [sp, #16]
        str     x19, [sp, #32]
        add     x29, sp, #16
        .cfi_def_cfa w29, 32
        .cfi_offset w19, -16
        .cfi_offset w30, -24
        .cfi_offset w29, -32
        .cfi_offset b8, -40
        .cfi_offset b9, -48
        mov     x19, x0
        mov     x0, x1
        blr     x19
        add     x0, x0, #1
        .cfi_def_cfa wsp, 48
        ldr     x19, [sp, #32]
        ldp     x29, x30, [sp, #16]
        WINDOW  6
        ldp     d9, d8, [sp], #48
        .cfi_def_cfa_offset 0
        .cfi_restore w19
        .cfi_restore w30
        .cfi_restore w29
        .cfi_restore b8
        .cfi_restore b9
        ret
        .cfi_endproc
        .size   win_cfi, . - win_cfi

        /* long win_tail_helper(long x): x. Before win_tail, within the reach of its calls. */
        .globl  win_tail_helper
        .type   win_tail_helper, %function
win_tail_helper:
        .cfi_startproc
        ret
        .cfi_endproc
        .size   win_tail_helper, . - win_tail_helper

        /* long win_tail(long (*cb)(long), long arg) */
        .globl  win_tail
        .type   win_tail, %function
win_tail:
        .cfi_startproc
        SAVE_RET
        stp     x29, x30, [sp, #-32]!
        .cfi_def_cfa_offset 32
        .cfi_offset w30, -24
        .cfi_offset w29, -32
        mov     x29, sp
        .cfi_def_cfa w29, 32
        str     x19, [sp, #16]
        .cfi_offset w19, -16
        mov     x19, x0
        mov     x0, x1
        blr     x19
        add     x0, x0, #1
        cbnz    x0, 2f
        /* The early exit, never taken: a tail call. */
        .cfi_remember_state
        ldr     x19, [sp, #16]
        .cfi_def_cfa wsp, 32
        ldp     x29, x30, [sp], #32
        .cfi_def_cfa_offset 0
        .cfi_restore w19
        .cfi_restore w30
        .cfi_restore w29
        b       win_tail_helper
        .cfi_restore_state
2:      mov     x19, x0
        mov     x11, #0
3:      cbz     x11, 4f
        WINDOW  7
        b       5f
4:      mov     x11, #1
        mov     x0, x19
        bl      win_tail_helper
        b       3b
5:      mov     x0, x19
        ldr     x19, [sp, #16]
        .cfi_def_cfa wsp, 32
        ldp     x29, x30, [sp], #32
        .cfi_def_cfa_offset 0
        .cfi_restore w19
        .cfi_restore w30
        .cfi_restore w29
        ret
        .cfi_endproc
        .size   win_tail, . - win_tail

        /* The sibling callees: one each, so that each window has its own code. They add 1. */
        .globl  win_sib_callee_b
        .type   win_sib_callee_b, %function
win_sib_callee_b:
        WINDOW  3
        stp     x29, x30, [sp, #-80]!
        mov     x29, sp
        add     x0, x0, #1
        ldp     x29, x30, [sp], #80
        ret
        .size   win_sib_callee_b, . - win_sib_callee_b

        .globl  win_sib_callee_stp
        .type   win_sib_callee_stp, %function
win_sib_callee_stp:
        stp     x29, x30, [sp, #-80]!
        WINDOW  4
        mov     x29, sp
        add     x0, x0, #1
        ldp     x29, x30, [sp], #80
        ret
        .size   win_sib_callee_stp, . - win_sib_callee_stp

        .globl  win_sib_callee_in
        .type   win_sib_callee_in, %function
win_sib_callee_in:
        stp     x29, x30, [sp, #-80]!
        mov     x29, sp
        WINDOW  5
        add     x0, x0, #1
        ldp     x29, x30, [sp], #80
        ret
        .size   win_sib_callee_in, . - win_sib_callee_in

        /* long win_sib_*(long (*cb)(long), long arg): cb(arg), then a sibling call. */
        .macro SIBLING name, callee
        .globl  \name
        .type   \name, %function
\name:
        SAVE_RET
        stp     x29, x30, [sp, #-32]!
        mov     x29, sp
        str     x19, [sp, #16]
        mov     x19, x0
        mov     x0, x1
        blr     x19
        ldr     x19, [sp, #16]
        ldp     x29, x30, [sp], #32
        b       \callee
        .size   \name, . - \name
        .endm

        SIBLING win_sib_b, win_sib_callee_b
        SIBLING win_sib_stp, win_sib_callee_stp
        SIBLING win_sib_in, win_sib_callee_in

        .section .note.GNU-stack,"",%progbits
