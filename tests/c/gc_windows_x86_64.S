/*
 * Epilogue and sibling-call windows for gc_windows.c, x86_64: each win_* function calls
 * cb(arg) with a frame record of its own (gc_windows.c puts a stack barrier in that record
 * from inside cb), then stops in one window of its way back and spins there until the C side
 * sets win_go, so that signals (the collector's stop, grt_traceback's suspension, SIGPROF)
 * land exactly in that window. The spin touches only the flags and memory through rip:
 * rsp, rbp and rax (the result) stay as the window left them. Each returns cb's result plus
 * one.
 *
 *   win_post    pop rbp ; window ; ret           (the frame chain is past the frame, its
 *                                                  return address at [rsp])
 *   win_offset  leave ; window ; ret             (the other epilogue gcc emits)
 *   win_sib_b   pop rbp ; jmp win_sib_callee: window at the callee's first instruction
 *   win_sib_stp the same, window after the callee's `push rbp`, before `mov rbp, rsp`
 *   win_sib_in  the same, window inside the callee once its frame is complete
 *   win_cfi     win_post with the unwind rows clang emits (`.cfi_def_cfa rsp, 8` after
 *               `pop rbp`): with a row, the window's own caller must never be missing
 *
 *   win_tail    the loop of aarch64's win_tail (code after an early tail call's epilogue,
 *               with the frame record in place), with its window after a call of
 *               win_tail_helper
 *
 * (x86_64 sibling calls leave the return address where it was; the windows are the same ones
 * gcc's `jmp` tail calls produce.) win_ret receives each win_* function's own return address
 * at entry, win_in the window's number when it is reached.
 */
        .intel_syntax noprefix
        .text

        .macro WINDOW n
        mov     dword ptr [rip + win_in], \n
1:      pause
        cmp     dword ptr [rip + win_go], 0
        je      1b
        .endm

        /* Saves our return address in win_ret (rax scratch: not yet the result). */
        .macro SAVE_RET
        mov     rax, [rsp]
        mov     [rip + win_ret], rax
        .endm

        /* long win_post(long (*cb)(long), long arg) */
        .globl  win_post
        .type   win_post, @function
win_post:
        SAVE_RET
        push    rbp
        mov     rbp, rsp
        push    rbx
        sub     rsp, 8
        mov     rbx, rdi
        mov     rdi, rsi
        call    rbx
        add     rax, 1
        add     rsp, 8
        pop     rbx
        pop     rbp
        WINDOW  1
        ret
        .size   win_post, . - win_post

        /* long win_offset(long (*cb)(long), long arg) */
        .globl  win_offset
        .type   win_offset, @function
win_offset:
        SAVE_RET
        push    rbp
        mov     rbp, rsp
        push    rbx
        sub     rsp, 40
        mov     rbx, rdi
        mov     rdi, rsi
        call    rbx
        add     rax, 1
        mov     rbx, [rbp - 8]
        leave
        WINDOW  2
        ret
        .size   win_offset, . - win_offset

        /* long win_cfi(long (*cb)(long), long arg) */
        .globl  win_cfi
        .type   win_cfi, @function
win_cfi:
        .cfi_startproc
        SAVE_RET
        push    rbp
        .cfi_def_cfa_offset 16
        .cfi_offset rbp, -16
        mov     rbp, rsp
        .cfi_def_cfa_register rbp
        push    rbx
        sub     rsp, 8
        .cfi_offset rbx, -24
        mov     rbx, rdi
        mov     rdi, rsi
        call    rbx
        add     rax, 1
        add     rsp, 8
        pop     rbx
        pop     rbp
        .cfi_def_cfa rsp, 8
        WINDOW  6
        ret
        .cfi_endproc
        .size   win_cfi, . - win_cfi

        /* long win_tail_helper(long x): x */
        .globl  win_tail_helper
        .type   win_tail_helper, @function
win_tail_helper:
        mov     rax, rdi
        ret
        .size   win_tail_helper, . - win_tail_helper

        /* long win_tail(long (*cb)(long), long arg) */
        .globl  win_tail
        .type   win_tail, @function
win_tail:
        SAVE_RET
        push    rbp
        mov     rbp, rsp
        push    rbx
        sub     rsp, 8
        mov     rbx, rdi
        mov     rdi, rsi
        call    rbx
        add     rax, 1
        test    rax, rax
        jnz     2f
        add     rsp, 8
        pop     rbx
        pop     rbp
        jmp     win_tail_helper
2:      mov     rbx, rax
        mov     rdi, rax
        call    win_tail_helper
        WINDOW  7
        mov     rax, rbx
        add     rsp, 8
        pop     rbx
        pop     rbp
        ret
        .size   win_tail, . - win_tail

        .globl  win_sib_callee_b
        .type   win_sib_callee_b, @function
win_sib_callee_b:
        WINDOW  3
        push    rbp
        mov     rbp, rsp
        lea     rax, [rdi + 1]
        pop     rbp
        ret
        .size   win_sib_callee_b, . - win_sib_callee_b

        .globl  win_sib_callee_stp
        .type   win_sib_callee_stp, @function
win_sib_callee_stp:
        push    rbp
        WINDOW  4
        mov     rbp, rsp
        lea     rax, [rdi + 1]
        pop     rbp
        ret
        .size   win_sib_callee_stp, . - win_sib_callee_stp

        .globl  win_sib_callee_in
        .type   win_sib_callee_in, @function
win_sib_callee_in:
        push    rbp
        mov     rbp, rsp
        WINDOW  5
        lea     rax, [rdi + 1]
        pop     rbp
        ret
        .size   win_sib_callee_in, . - win_sib_callee_in

        /* long win_sib_*(long (*cb)(long), long arg): cb(arg), then a sibling call with the
         * result as the argument. */
        .macro SIBLING name, callee
        .globl  \name
        .type   \name, @function
\name:
        SAVE_RET
        push    rbp
        mov     rbp, rsp
        push    rbx
        sub     rsp, 8
        mov     rbx, rdi
        mov     rdi, rsi
        call    rbx
        mov     rdi, rax
        add     rsp, 8
        pop     rbx
        pop     rbp
        jmp     \callee
        .size   \name, . - \name
        .endm

        SIBLING win_sib_b, win_sib_callee_b
        SIBLING win_sib_stp, win_sib_callee_stp
        SIBLING win_sib_in, win_sib_callee_in

        .section .note.GNU-stack,"",@progbits
