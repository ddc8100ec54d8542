/*
 * The spin of sched_async_entry.c, x86_64. Two functions, back to back:
 *
 *   ae_before   never called: its last byte is the byte just before ae_spin
 *   ae_spin     void ae_spin(volatile int *flag, const char *buf, const char *buf_again,
 *               long n, long n_again): loops while *flag == 0; its first instruction is
 *               `rep lodsb` over n bytes of buf, the loop's long part, so a preemption
 *               almost always interrupts it at its entry address: a string instruction is
 *               interrupted between its iterations with the pc left on it (rsi and rcx
 *               advanced). A loop of cmp and je alone was interrupted only ever at the je on
 *               some cores (AMD Zen: the pair is fused). A leaf with no frame record (CFI
 *               says so); buf_again and n_again (rdx, r8) reload rsi and rcx each turn.
 */
        .intel_syntax noprefix
        .text
        .p2align 4
        .globl  ae_before
        .type   ae_before, @function
ae_before:
        .cfi_startproc
        ud2
        .cfi_endproc
        .size   ae_before, . - ae_before

        .globl  ae_spin
        .type   ae_spin, @function
ae_spin:
        .cfi_startproc
        rep lodsb
        mov     rsi, rdx
        mov     rcx, r8
        cmp     dword ptr [rdi], 0
        je      ae_spin
        ret
        .cfi_endproc
        .size   ae_spin, . - ae_spin
        .globl  ae_spin_end
ae_spin_end:
        ud2

        .section .note.GNU-stack,"",@progbits
