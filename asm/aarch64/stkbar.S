/*
 * aarch64 stack-barrier trampoline (Go 1.6/1.7's runtime·stackBarrier, asm_arm64.s).
 *
 * While it scans a goroutine's stack, the collector overwrites the return-address slot of a
 * few frame records with the address of grt_stack_barrier, and records each original in
 * g->stkbar, lowest slot first (runtime-core/src/gc/stkbar.rs):
 *
 *      goroutine stack, F about to return            g->stkbar[g->stkbar_pos]
 *      | C's frame                 |               +------------------------------+
 *      | &grt_stack_barrier        | <- slot <-----| saved_lr_ptr = slot          |
 *      | C's x29                   | <- F's x29    | saved_lr_val = return into C |
 *      | F's locals                |               | saved_fp     = C's x29       |
 *                                                  +------------------------------+
 *
 * F's epilogue (`ldp x29, x30, [sp], #n`, or `ldp` then `add sp`) loads the slot into x30 and
 * pops F's frame; its `ret` branches here. Or F ends in a sibling call (`ldp x29, x30, [sp],
 * #n ; b G`): G saves x30, the trampoline's address, in a frame record of its own, at another
 * address, and G's `ret` branches here. Either way the barrier is identified by what the
 * program cannot move: the frame pointer the return hands back (x29 is callee-saved, so it
 * is C's own x29 again, the value F's record held when the barrier was placed), not the slot,
 * which a sibling call moves. So the first instruction runs with:
 *
 *      sp          C's sp at its `bl F`, where C expects to resume (F's canonical frame
 *                  address); the slot lay below it, at a distance we cannot know
 *      x29         C's frame pointer: must equal the entry's saved_fp, else the entry is for
 *                  another frame (a jump up the stack skipped barriers without
 *                  grt_gc_unwind, or the barrier list is corrupt); the slot must lie below sp
 *      x19-x28, d8-d15   C's own values (callee-saved): untouched
 *      x30         &grt_stack_barrier: free scratch, like after any return
 *      x0-x7       integer/pointer results (up to a struct of 4 words in x0-x3)
 *      x8          the indirect-result address of a struct returned in memory
 *      v0-v7       FP/SIMD results (float, double, long double in q0, HFAs/HVAs up to 4)
 *
 * Every register must reach C unchanged, not only the result registers: gcc's -fipa-ra (on at
 * -O2) lets C keep values in caller-saved registers (x1-x15, x18, v*) across a call to a
 * function of the same file whose code does not touch them, and the collector may put a
 * barrier on any frame. What no compiler keeps across a call: x16 and x17 (IP0/IP1, which a
 * linker veneer or PLT stub may clobber on any call: gcc marks every call as clobbering them),
 * x30 (the call itself sets it) and the flags. The trampoline uses exactly those, never an
 * FP/SIMD register, and no memory below sp (AAPCS64 has no red zone: a signal frame may be
 * written there at any time). Register roles:
 *
 *      x16   the thread pointer, then m, then g = m->curg (on every branch to the failure path)
 *      x17   the offset of grt_tls, then pos, then e->saved_fp, e->saved_lr_ptr, then the
 *            new stkbar_pos
 *      x30   len, then e = &g->stkbar[pos], then the real return address, branched to with
 *            `br x30`
 *
 * Why the branch goes through x30: a plain `ret` leaves x30 = the address it returned to, and
 * so does the trampoline, so C runs on in exactly the state an untouched return gives. A
 * debugger or a profiler that samples C (or the final `br`) sees lr = the true return
 * address, never the trampoline's address with its barrier already counted as hit
 * (stkbar::Cursor::resolve_popped would map that through the wrong entry). The branch is
 * `br`, not `ret`: F's `ret` already consumed the return-address stack's entry for C
 * (mispredicting into here); a second `ret` would pop C's caller's entry and mispredict
 * every return above as well.
 *
 * No lock is taken: only this goroutine, on its own thread, moves stkbar_pos while it runs
 * (the collector stops it before touching barriers).
 *
 * A profiling signal may land on any instruction here. sp and x29 never move on the success
 * path, and stkbar_pos changes in exactly one store (shared by both paths below), after every
 * load, with the branch the very next instruction, at grt_stack_barrier_hit. So a walker
 * (stkbar::Cursor::in_trampoline) knows from pc alone whether the return in flight is still
 * to be counted (pc before the label: the first entry at or after pos with saved_fp == x29)
 * or counted (at the label: entry pos - 1), and checks it by x29. That is why the range
 * [grt_stack_barrier, grt_stack_barrier_end) holds exactly these instructions and the failure
 * path lives outside it (a fatal error, walked like ordinary code).
 *
 * Needs return addresses that are not signed: everything is built with
 * -mbranch-protection=none (a PAC-signed slot would fail `autiasp` in F, not reach here).
 *
 * CFI: the trampoline has no caller in DWARF's sense. Until it holds the real return address
 * it says so (x30 undefined: it holds the trampoline's own address, on which an unwinder would
 * loop, then scratch); once x30 is the real return address, CFA = sp and x30 unchanged unwind
 * exactly into C.
 *
 * Which g: the M's current goroutine (m->curg), not the TLS g. A barrier may sit in a frame
 * of grt's own code that returns after TLS g has moved to the M's g0 while still on the
 * goroutine's stack (grt_cgocall's entry does that); m->curg is the goroutine whose stack the
 * M runs on whenever goroutine frames return.
 */
#include "consts.h"
#include "goffsets.h"

#if STKBAR_SIZE != 32
#error "grt_stack_barrier indexes g->stkbar with a shift by 5"
#endif

        .text
        .globl  grt_asm_stkbar_start       /* this file's code: arch::in_grt_asm */
        .hidden grt_asm_stkbar_start
grt_asm_stkbar_start:

/* Entered by the `ret` of a function whose return-address slot holds a barrier. */
        .globl  grt_stack_barrier
        .type   grt_stack_barrier, %function
        .globl  grt_stack_barrier_end
        .globl  grt_stack_barrier_hit
        .p2align 4
grt_stack_barrier:
        .cfi_startproc
        .cfi_def_cfa sp, 0                      /* F's CFA: C's sp at the call */
        .cfi_undefined x30                      /* real return address not in hand yet */
        mrs     x16, tpidr_el0
        adrp    x17, :gottprel:grt_tls
        ldr     x17, [x17, #:gottprel_lo12:grt_tls]
        add     x16, x16, x17
        ldr     x16, [x16, #TLS_M_OFF]          /* m */
        cbz     x16, grt_stack_barrier_fail     /* not an M's thread */
        ldr     x16, [x16, #M_CURG_OFF]         /* g = m->curg (see "Which g" above) */
        cbz     x16, grt_stack_barrier_fail     /* no goroutine on this M */
        ldr     x17, [x16, #G_STKBAR_POS_OFF]
        ldr     x30, [x16, #G_STKBAR_LEN_OFF]
        cmp     x17, x30
        b.hs    grt_stack_barrier_fail          /* no barrier left to hit */
        ldr     x30, [x16, #G_STKBAR_OFF]
        add     x30, x30, x17, lsl #5           /* e = &g->stkbar[pos] */
        ldr     x17, [x30, #STKBAR_SAVED_FP_OFF]
        cmp     x29, x17
        b.ne    .Ljumped                        /* another frame's entry (by the fp it returns with) */
        ldr     x17, [x30, #STKBAR_SAVED_LR_PTR_OFF]
        cmp     sp, x17
        b.ls    grt_stack_barrier_fail          /* its slot is not below sp: a live frame's */
        .cfi_remember_state
        ldr     x30, [x30, #STKBAR_SAVED_LR_VAL_OFF]
        .cfi_same_value x30                     /* from here on an unwinder lands in C */
        ldr     x17, [x16, #G_STKBAR_POS_OFF]
        add     x17, x17, #1                    /* the new stkbar_pos */
        b       .Lstore

/*
 * Not entry pos: a jump (longjmp, or any non-local exit the program made without
 * grt_gc_unwind) skipped the frames of entries pos, pos + 1, ...: they will never return.
 * The frame returning now is the entry with saved_fp == x29 whose slot lies below sp. The
 * entries are in slot order, so it comes before any whose slot is not below sp (live frames
 * above), and every entry before it has its slot below sp too: popped frames, callees of the
 * one returning now, gone with it. None: a fatal error. Hit that entry, the skipped ones with
 * it, in the same one store, and count the jump in g->stkbar_jumps. Three registers only:
 * x17 is the index, x30 is reloaded as needed.
 */
.Ljumped:
        .cfi_restore_state
        adrp    x30, grt_stkbar_nojumps
        ldrb    w30, [x30, #:lo12:grt_stkbar_nojumps]
        cbnz    w30, grt_stack_barrier_fail     /* test-only: as before (GRTDEBUG=gcnojumps=1) */
        ldr     x17, [x16, #G_STKBAR_POS_OFF]   /* i */
1:      ldr     x30, [x16, #G_STKBAR_LEN_OFF]
        cmp     x17, x30
        b.hs    grt_stack_barrier_fail          /* no entry for this frame */
        ldr     x30, [x16, #G_STKBAR_OFF]
        add     x30, x30, x17, lsl #5           /* e = &g->stkbar[i] */
        ldr     x30, [x30, #STKBAR_SAVED_LR_PTR_OFF]
        cmp     sp, x30
        b.ls    grt_stack_barrier_fail          /* past the popped slots: no entry for this frame */
        ldr     x30, [x16, #G_STKBAR_OFF]
        add     x30, x30, x17, lsl #5
        ldr     x30, [x30, #STKBAR_SAVED_FP_OFF]
        cmp     x29, x30
        b.eq    2f
        add     x17, x17, #1
        b       1b
2:      ldr     x30, [x16, #G_STKBAR_JUMPS_OFF]
        add     x30, x30, #1
        str     x30, [x16, #G_STKBAR_JUMPS_OFF]
        ldr     x30, [x16, #G_STKBAR_OFF]
        add     x30, x30, x17, lsl #5
        add     x17, x17, #1                    /* the new stkbar_pos: i + 1 */
        ldr     x30, [x30, #STKBAR_SAVED_LR_VAL_OFF]
        .cfi_same_value x30
.Lstore:
        str     x17, [x16, #G_STKBAR_POS_OFF]   /* the one store: this barrier is hit */
grt_stack_barrier_hit:
        br      x30                             /* must follow the store directly */
        .cfi_endproc
grt_stack_barrier_end:
        .size   grt_stack_barrier, grt_stack_barrier_end - grt_stack_barrier

/*
 * Failure path of grt_stack_barrier, branched to with x16 = g (0 if none) and sp and x29 as
 * they were at the barrier: calls grt_stack_barrier_bad(g, sp, fp), which prints the state
 * and aborts.
 * sp is realigned for the call (the hardware already faults on a misaligned sp, so this is
 * only defensive) and the barrier's sp is kept at [sp] for unwinders. The results in x0/x1
 * are lost: the program ends. x29 is left alone: still the frame pointer of the function we
 * were returning into, so grt_stack_barrier_bad's frame record links into a real chain (that
 * function itself is skipped: its return address is the one we could not trust).
 */
        .type   grt_stack_barrier_fail, %function
        .p2align 4
grt_stack_barrier_fail:
        .cfi_startproc
        .cfi_def_cfa sp, 0
        .cfi_undefined x30
        mov     x0, x16                         /* g */
        mov     x2, x29                         /* the frame pointer it returned with */
        mov     x1, sp                          /* sp at the barrier */
        .cfi_def_cfa x1, 0
        and     x17, x1, #-16
        sub     sp, x17, #16
        str     x1, [sp]
        .cfi_escape 0x0f, 0x03, 0x8f, 0x00, 0x06 /* DW_CFA_def_cfa_expression: CFA = [sp] */
        bl      grt_stack_barrier_bad           /* noreturn; `bl` leaves x30 pointing here */
        brk     #1
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
        .type   grt_stkbar_nojumps, %object
        .size   grt_stkbar_nojumps, 1
grt_stkbar_nojumps:
        .byte   0

        .section .note.GNU-stack,"",%progbits
