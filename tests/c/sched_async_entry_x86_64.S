/*
 * The spin of sched_async_entry.c, x86_64. Two functions, back to back:
 *
 *   ae_before   never called: its last byte is the byte just before ae_spin
 *   ae_spin     void ae_spin(volatile int *flag): loops while *flag == 0, its loop head
 *               its very first instruction, so a preemption often interrupts it at its
 *               entry address; a leaf with no frame record (CFI says so)
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
        cmp     dword ptr [rdi], 0
        je      ae_spin
        ret
        .cfi_endproc
        .size   ae_spin, . - ae_spin
        .globl  ae_spin_end
ae_spin_end:
        ud2

        .section .note.GNU-stack,"",@progbits
