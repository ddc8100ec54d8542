/*
 * x86_64 stack-barrier trampoline (Go 1.6/1.7's runtime·stackBarrier, asm_amd64.s).
 *
 * While it scans a goroutine's stack, the collector overwrites the return-address slot of a
 * few frame records with the address of grt_stack_barrier, and records each original in
 * g->stkbar, lowest slot first (runtime-core/src/gc/stkbar.rs):
 *
 *      goroutine stack, F about to return            g->stkbar[g->stkbar_pos]
 *      | C's frame                 |               +------------------------------+
 *      | &grt_stack_barrier        | <- slot <-----| saved_lr_ptr = slot          |
 *      | C's rbp                   | <- F's rbp    | saved_lr_val = return into C |
 *      | F's locals                |               | saved_fp     = C's rbp       |
 *                                                  +------------------------------+
 *
 * F's epilogue (`leave` or `pop rbp`) reloads C's rbp and its `ret` pops the slot, so the
 * first instruction here runs with the two things that identify the barrier: the slot (a
 * sibling call, `leave ; jmp G`, leaves it where it is on x86_64: G's return uses it) and the
 * frame pointer (callee-saved, so C's own rbp again: the value F's record held when the
 * barrier was placed; on aarch64 only this one survives a sibling call):
 *
 *      rsp         slot + 8: C's rsp at its `call F`, exactly where C expects to resume
 *      rbp         C's frame pointer, = the entry's saved_fp; rbx, r12-r15 C's own values
 *      rax, rdx    integer/pointer results (rax also: the address of a struct in memory)
 *      xmm0, xmm1  SSE results (double, float, struct of doubles)
 *      st0, st1    x87 results (long double, complex long double)
 *
 * Every register must reach C unchanged, not only the result registers: gcc's -fipa-ra (on at
 * -O2) lets C keep values in caller-saved registers (rcx, rsi, rdi, r8-r11, xmm*) across a call
 * to a function of the same file whose code does not touch them, and the collector may put a
 * barrier on any frame. Only the flags are free (gcc never keeps them live across a call). So
 * the trampoline never executes an x87 or SSE instruction, and the three general registers it
 * works with are parked below rsp, in the red zone:
 *
 *      [rsp - 8]   the real return address, jumped through (it is the very slot `ret`
 *                  popped: the frame looks again as if no barrier had been there)
 *      [rsp - 16]  C's rdi     rdi: g
 *      [rsp - 24]  C's rsi     rsi: g->stkbar_pos, then e = &g->stkbar[pos], then the new
 *                              stkbar_pos
 *      [rsp - 32]  C's r8      r8:  the slot `ret` popped (rsp - 8), then the return address
 *
 * The red zone is free here: C made a call, so nothing of its own lies below its rsp, and the
 * kernel never builds a signal frame within 128 bytes below rsp. rsp itself never moves, no
 * lock is taken: only this goroutine, on its own thread, moves stkbar_pos while it runs (the
 * collector stops it before touching barriers). The collector scans an interrupted thread's
 * stack from rsp - RED_ZONE, so C's registers parked here are still seen as roots.
 *
 * Which g: the M's current goroutine (m->curg), not the TLS g. A barrier may sit in a frame
 * of grt's own code that returns after TLS g has moved to the M's g0 while still on the
 * goroutine's stack (grt_cgocall's entry does that); m->curg is the goroutine whose stack the
 * M runs on whenever goroutine frames return.
 *
 * rdi is g on every branch to the failure path, which calls grt_stack_barrier_bad(g, sp, fp).
 *
 * A profiling signal may land on any instruction here. rsp and rbp are constant on the
 * success path, and stkbar_pos changes in exactly one instruction (a store, shared by both
 * paths below), after every load of barrier state; only the restores of rsi and rdi sit
 * between it and the jump. So a walker (stkbar::Cursor::in_trampoline) knows from pc alone
 * whether the return in flight is still to be counted (pc before grt_stack_barrier_hit: it
 * is the first entry at or after pos with saved_fp == rbp) or counted (at or after it: entry
 * pos - 1), and checks it by rbp. That is why the range
 * [grt_stack_barrier, grt_stack_barrier_end) holds exactly these instructions and the failure
 * path lives outside it (a fatal error, walked like ordinary code).
 *
 * Resumption is an indirect `jmp`, not `ret`: F's `ret` already consumed the return-stack
 * predictor's entry for C (mispredicting into here), and a second `ret` would pop C's caller's
 * entry and mispredict every return above as well.
 *
 * CET: an overwritten return address is exactly what a shadow stack forbids. These objects
 * carry no .note.gnu.property, so a program linked with libgrt.a is never marked for SHSTK.
 *
 * CFI: CFA = rsp (F's CFA: C's rsp at the call). Until the real return address is back in
 * its slot at CFA - 8, there is none to give (rip undefined: debuggers stop here rather than
 * unwind through a guess); from then on the standard rule unwinds exactly into C. The parked
 * registers are described while they are parked.
 */
#include "consts.h"
#include "goffsets.h"

#if STKBAR_SIZE != 32
#error "grt_stack_barrier indexes g->stkbar with a shift by 5"
#endif

        .intel_syntax noprefix
        .text
        .globl  grt_asm_stkbar_start       /* this file's code: arch::in_grt_asm */
        .hidden grt_asm_stkbar_start
grt_asm_stkbar_start:

/* Entered by the `ret` of a function whose return-address slot holds a barrier. */
        .globl  grt_stack_barrier
        .type   grt_stack_barrier, @function
        .globl  grt_stack_barrier_end
        .globl  grt_stack_barrier_hit
        .p2align 4
grt_stack_barrier:
        .cfi_startproc
        .cfi_def_cfa rsp, 0                     /* F's CFA: C's rsp at the call */
        .cfi_undefined rip                      /* real return address not in hand yet */
        mov     [rsp - 16], rdi
        .cfi_offset rdi, -16
        mov     [rsp - 24], rsi
        .cfi_offset rsi, -24
        mov     [rsp - 32], r8
        .cfi_offset r8, -32
        mov     rdi, qword ptr [rip + grt_tls@GOTTPOFF]
        mov     rdi, qword ptr fs:[rdi + TLS_M_OFF]     /* m */
        test    rdi, rdi
        jz      grt_stack_barrier_fail          /* not an M's thread */
        mov     rdi, [rdi + M_CURG_OFF]         /* g = m->curg (see "Which g" above) */
        test    rdi, rdi
        jz      grt_stack_barrier_fail          /* no goroutine on this M */
        mov     rsi, [rdi + G_STKBAR_POS_OFF]
        cmp     rsi, [rdi + G_STKBAR_LEN_OFF]
        jae     grt_stack_barrier_fail          /* no barrier left to hit */
        shl     rsi, 5                          /* pos * STKBAR_SIZE */
        add     rsi, [rdi + G_STKBAR_OFF]       /* e = &g->stkbar[pos] */
        lea     r8, [rsp - 8]                   /* the slot `ret` just popped */
        cmp     r8, [rsi + STKBAR_SAVED_LR_PTR_OFF]
        jne     .Ljumped                        /* entry is for another slot */
        cmp     rbp, [rsi + STKBAR_SAVED_FP_OFF]
        jne     .Ljumped                        /* returned with another frame pointer */
        .cfi_remember_state
        mov     r8, [rsi + STKBAR_SAVED_LR_VAL_OFF]
        mov     [rsp - 8], r8                   /* the real return address, back in its slot */
        .cfi_offset rip, -8                     /* from here on an unwinder lands in C */
        mov     rsi, [rdi + G_STKBAR_POS_OFF]
        add     rsi, 1                          /* the new stkbar_pos */
        jmp     .Lstore

/*
 * Not entry pos: a jump (longjmp, or any non-local exit the program made without
 * grt_gc_unwind) skipped the frames of entries pos, pos + 1, ...: they will never return.
 * The frame returning now is the entry with saved_fp == rbp whose slot is the one `ret`
 * popped (rsp - 8). The entries are in slot order, so it comes before any whose slot is not
 * below rsp (live frames above), and every entry before it has its slot below it: popped
 * frames, callees of the one returning now, gone with it. None: a fatal error. Hit that
 * entry, the skipped ones with it, in the same one store, and count the jump in
 * g->stkbar_jumps.
 */
.Ljumped:
        .cfi_restore_state
        cmp     byte ptr [rip + grt_stkbar_nojumps], 0
        jne     grt_stack_barrier_fail          /* test-only: as before (GRTDEBUG=gcnojumps=1) */
        mov     rsi, [rdi + G_STKBAR_POS_OFF]   /* i */
1:      cmp     rsi, [rdi + G_STKBAR_LEN_OFF]
        jae     grt_stack_barrier_fail          /* no entry for this frame */
        mov     r8, rsi
        shl     r8, 5
        add     r8, [rdi + G_STKBAR_OFF]        /* e = &g->stkbar[i] */
        cmp     [r8 + STKBAR_SAVED_LR_PTR_OFF], rsp
        jae     grt_stack_barrier_fail          /* past the popped slots: no entry for this frame */
        cmp     rbp, [r8 + STKBAR_SAVED_FP_OFF]
        je      3f
2:      add     rsi, 1
        jmp     1b
4:      sub     rsi, [rdi + G_STKBAR_OFF]       /* e back to i */
        shr     rsi, 5
        jmp     2b
3:      lea     rsi, [rsp - 8]
        cmp     rsi, [r8 + STKBAR_SAVED_LR_PTR_OFF]
        mov     rsi, r8                         /* (mov keeps the flags) */
        jne     4b                              /* same fp, another slot: a dead frame's */
        sub     rsi, [rdi + G_STKBAR_OFF]
        shr     rsi, 5
        add     rsi, 1                          /* the new stkbar_pos: i + 1 */
        add     qword ptr [rdi + G_STKBAR_JUMPS_OFF], 1
        mov     r8, [r8 + STKBAR_SAVED_LR_VAL_OFF]
        mov     [rsp - 8], r8                   /* the real return address, in the slot */
        .cfi_offset rip, -8
.Lstore:
        mov     r8, [rsp - 32]
        .cfi_restore r8
        mov     [rdi + G_STKBAR_POS_OFF], rsi   /* the one store: this barrier is hit */
grt_stack_barrier_hit:
        mov     rsi, [rsp - 24]
        .cfi_restore rsi
        mov     rdi, [rsp - 16]
        .cfi_restore rdi
        jmp     qword ptr [rsp - 8]
        .cfi_endproc
grt_stack_barrier_end:
        .size   grt_stack_barrier, grt_stack_barrier_end - grt_stack_barrier

/*
 * Failure path of grt_stack_barrier, jumped to with rdi = g (0 if none) and rsp and rbp as
 * they were at the barrier: calls grt_stack_barrier_bad(g, sp, fp), which prints the state
 * and aborts. rsp is
 * whatever the bad return left: it is realigned for the call, below the red zone (C's parked
 * registers stay there for a debugger), and the barrier's rsp is kept at [rsp] for unwinders.
 * rbp is left alone: still the frame pointer of the function we were returning into, so
 * grt_stack_barrier_bad's own frame record links into a real chain (that function itself is
 * skipped: its return address is the one we could not trust).
 */
        .type   grt_stack_barrier_fail, @function
        .p2align 4
grt_stack_barrier_fail:
        .cfi_startproc
        .cfi_def_cfa rsp, 0
        .cfi_undefined rip
        mov     rdx, rbp                        /* the frame pointer it returned with */
        mov     rsi, rsp                        /* sp at the barrier */
        .cfi_def_cfa rsi, 0
        lea     rsp, [rsi - 48]                 /* below the parked registers */
        and     rsp, -16                        /* 16-byte aligned at the call */
        mov     [rsp], rsi
        .cfi_escape 0x0f, 0x03, 0x77, 0x00, 0x06 /* DW_CFA_def_cfa_expression: CFA = [rsp] */
        call    grt_stack_barrier_bad           /* noreturn; `call` leaves a return address here */
        ud2
        .cfi_endproc
        .size   grt_stack_barrier_fail, . - grt_stack_barrier_fail

/* Test-only switch (GRTDEBUG=gcnojumps=1, stkbar.rs): nonzero sends the search for a
 * barrier a jump skipped to the failure path. */
        .text
        .globl  grt_asm_stkbar_end
        .hidden grt_asm_stkbar_end
grt_asm_stkbar_end:

        .bss
        .globl  grt_stkbar_nojumps
        .hidden grt_stkbar_nojumps
        .type   grt_stkbar_nojumps, @object
        .size   grt_stkbar_nojumps, 1
grt_stkbar_nojumps:
        .byte   0

        .section .note.GNU-stack,"",@progbits
