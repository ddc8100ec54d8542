/*
 * The spin of sched_async_entry.c, aarch64. Two functions, back to back:
 *
 *   ae_before   never called: its last byte is the byte just before ae_spin
 *   ae_spin     void ae_spin(volatile int *flag, ...): loops while *flag == 0 (the other
 *               arguments are x86_64's, unused here), its loop head
 *               its very first instruction, so a preemption often interrupts it at its
 *               entry address (under qemu, which delivers signals at the start of a
 *               translated block, always); a leaf with no frame record, its return
 *               address in x30 throughout (CFI says so)
 */
        .text
        .p2align 4
        .globl  ae_before
        .type   ae_before, %function
ae_before:
        .cfi_startproc
        brk     #0
        .cfi_endproc
        .size   ae_before, . - ae_before

        .globl  ae_spin
        .type   ae_spin, %function
ae_spin:
        .cfi_startproc
        ldr     w1, [x0]
        cbz     w1, ae_spin
        ret
        .cfi_endproc
        .size   ae_spin, . - ae_spin
        .globl  ae_spin_end
ae_spin_end:
        brk     #0

        .section .note.GNU-stack,"",%progbits
