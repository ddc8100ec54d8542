/*
 * The spin of sched_async_regs.c, x86_64: long async_regs_spin(uint64_t iters, uint64_t *out,
 * const uint64_t *vals, long avx). Loads every register it can from vals (ymm0-15 with AVX,
 * else xmm0-15; MXCSR and the x87 control word; rax, rbx, rcx, rsi, rdi, r8-r15, rdx last)
 * and sets DF, spins `iters` times on a counter in its frame (touching nothing but the flags
 * and that counter: no register is read or written), then stores them all into out:
 *
 *   out[0..13]  rax rbx rcx rdx rsi rdi r8 r9 r10 r11 r12 r13 r14 r15
 *   out[15]     rflags (DF is bit 10)
 *   out[16]     MXCSR | x87 CW << 32
 *   out[24..]   ymm0-15 (32 bytes each; xmm0-15 in the low halves without AVX)
 *
 * vals: [0..64) the vector registers (32 bytes each), [64] MXCSR | CW << 32, [65..79) the
 * general registers in out's order. It keeps a frame record throughout (CFI says so), as the
 * program's own code does; it restores the caller's callee-saved registers and control words.
 */
        .intel_syntax noprefix
        .text
        .globl  async_regs_spin
        .type   async_regs_spin, @function
async_regs_spin:
        .cfi_startproc
        push    rbp
        .cfi_def_cfa_offset 16
        .cfi_offset rbp, -16
        mov     rbp, rsp
        .cfi_def_cfa_register rbp
        push    rbx
        .cfi_offset rbx, -24
        push    r12
        .cfi_offset r12, -32
        push    r13
        .cfi_offset r13, -40
        push    r14
        .cfi_offset r14, -48
        push    r15
        .cfi_offset r15, -56
        sub     rsp, 1024
        mov     [rbp - 48 - 8], rdi     /* the counter */
        mov     [rbp - 48 - 16], rsi    /* out */
        mov     [rbp - 48 - 24], rcx    /* avx */
        stmxcsr [rbp - 48 - 32]         /* the caller's control words */
        fnstcw  [rbp - 48 - 28]
        test    rcx, rcx
        jz      1f
        vmovdqu ymm0,  [rdx + 0*32]
        vmovdqu ymm1,  [rdx + 1*32]
        vmovdqu ymm2,  [rdx + 2*32]
        vmovdqu ymm3,  [rdx + 3*32]
        vmovdqu ymm4,  [rdx + 4*32]
        vmovdqu ymm5,  [rdx + 5*32]
        vmovdqu ymm6,  [rdx + 6*32]
        vmovdqu ymm7,  [rdx + 7*32]
        vmovdqu ymm8,  [rdx + 8*32]
        vmovdqu ymm9,  [rdx + 9*32]
        vmovdqu ymm10, [rdx + 10*32]
        vmovdqu ymm11, [rdx + 11*32]
        vmovdqu ymm12, [rdx + 12*32]
        vmovdqu ymm13, [rdx + 13*32]
        vmovdqu ymm14, [rdx + 14*32]
        vmovdqu ymm15, [rdx + 15*32]
        jmp     2f
1:      movdqu  xmm0,  [rdx + 0*32]
        movdqu  xmm1,  [rdx + 1*32]
        movdqu  xmm2,  [rdx + 2*32]
        movdqu  xmm3,  [rdx + 3*32]
        movdqu  xmm4,  [rdx + 4*32]
        movdqu  xmm5,  [rdx + 5*32]
        movdqu  xmm6,  [rdx + 6*32]
        movdqu  xmm7,  [rdx + 7*32]
        movdqu  xmm8,  [rdx + 8*32]
        movdqu  xmm9,  [rdx + 9*32]
        movdqu  xmm10, [rdx + 10*32]
        movdqu  xmm11, [rdx + 11*32]
        movdqu  xmm12, [rdx + 12*32]
        movdqu  xmm13, [rdx + 13*32]
        movdqu  xmm14, [rdx + 14*32]
        movdqu  xmm15, [rdx + 15*32]
2:      ldmxcsr [rdx + 64*8]
        fldcw   [rdx + 64*8 + 4]
        mov     rax, [rdx + 65*8]
        mov     rbx, [rdx + 66*8]
        mov     rcx, [rdx + 67*8]
        mov     rsi, [rdx + 69*8]
        mov     rdi, [rdx + 70*8]
        mov     r8,  [rdx + 71*8]
        mov     r9,  [rdx + 72*8]
        mov     r10, [rdx + 73*8]
        mov     r11, [rdx + 74*8]
        mov     r12, [rdx + 75*8]
        mov     r13, [rdx + 76*8]
        mov     r14, [rdx + 77*8]
        mov     r15, [rdx + 78*8]
        mov     rdx, [rdx + 68*8]
        std
3:      dec     qword ptr [rbp - 48 - 8]
        jnz     3b
        mov     [rsp + 0*8], rax
        mov     [rsp + 1*8], rbx
        mov     [rsp + 2*8], rcx
        mov     [rsp + 3*8], rdx
        mov     [rsp + 4*8], rsi
        mov     [rsp + 5*8], rdi
        mov     [rsp + 6*8], r8
        mov     [rsp + 7*8], r9
        mov     [rsp + 8*8], r10
        mov     [rsp + 9*8], r11
        mov     [rsp + 10*8], r12
        mov     [rsp + 11*8], r13
        mov     [rsp + 12*8], r14
        mov     [rsp + 13*8], r15
        pushfq
        pop     qword ptr [rsp + 15*8]
        cld
        stmxcsr [rsp + 16*8]
        fnstcw  [rsp + 16*8 + 4]
        cmp     qword ptr [rbp - 48 - 24], 0
        jz      4f
        vmovdqu [rsp + 24*8 + 0*32], ymm0
        vmovdqu [rsp + 24*8 + 1*32], ymm1
        vmovdqu [rsp + 24*8 + 2*32], ymm2
        vmovdqu [rsp + 24*8 + 3*32], ymm3
        vmovdqu [rsp + 24*8 + 4*32], ymm4
        vmovdqu [rsp + 24*8 + 5*32], ymm5
        vmovdqu [rsp + 24*8 + 6*32], ymm6
        vmovdqu [rsp + 24*8 + 7*32], ymm7
        vmovdqu [rsp + 24*8 + 8*32], ymm8
        vmovdqu [rsp + 24*8 + 9*32], ymm9
        vmovdqu [rsp + 24*8 + 10*32], ymm10
        vmovdqu [rsp + 24*8 + 11*32], ymm11
        vmovdqu [rsp + 24*8 + 12*32], ymm12
        vmovdqu [rsp + 24*8 + 13*32], ymm13
        vmovdqu [rsp + 24*8 + 14*32], ymm14
        vmovdqu [rsp + 24*8 + 15*32], ymm15
        vzeroupper
        jmp     5f
4:      movdqu  [rsp + 24*8 + 0*32], xmm0
        movdqu  [rsp + 24*8 + 1*32], xmm1
        movdqu  [rsp + 24*8 + 2*32], xmm2
        movdqu  [rsp + 24*8 + 3*32], xmm3
        movdqu  [rsp + 24*8 + 4*32], xmm4
        movdqu  [rsp + 24*8 + 5*32], xmm5
        movdqu  [rsp + 24*8 + 6*32], xmm6
        movdqu  [rsp + 24*8 + 7*32], xmm7
        movdqu  [rsp + 24*8 + 8*32], xmm8
        movdqu  [rsp + 24*8 + 9*32], xmm9
        movdqu  [rsp + 24*8 + 10*32], xmm10
        movdqu  [rsp + 24*8 + 11*32], xmm11
        movdqu  [rsp + 24*8 + 12*32], xmm12
        movdqu  [rsp + 24*8 + 13*32], xmm13
        movdqu  [rsp + 24*8 + 14*32], xmm14
        movdqu  [rsp + 24*8 + 15*32], xmm15
5:      mov     rdi, [rbp - 48 - 16]
        mov     rsi, rsp
        mov     ecx, 24*8 + 16*32
        rep movsb
        ldmxcsr [rbp - 48 - 32]
        fldcw   [rbp - 48 - 28]
        xor     eax, eax
        lea     rsp, [rbp - 40]
        pop     r15
        pop     r14
        pop     r13
        pop     r12
        pop     rbx
        pop     rbp
        .cfi_def_cfa rsp, 8
        ret
        .cfi_endproc
        .size   async_regs_spin, . - async_regs_spin

        .section .note.GNU-stack,"",@progbits
