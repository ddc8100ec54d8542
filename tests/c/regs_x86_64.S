/* Helpers for regs.c on x86_64: see there. Intel syntax. */
        .intel_syntax noprefix
        .text

/* unsigned long regs_switch_check(grt_context *from [rdi], const grt_context *to [rsi],
                                   const unsigned long *values [rdx]) */
        .globl  regs_switch_check
        .type   regs_switch_check, @function
regs_switch_check:
        push    rbp
        push    rbx
        push    r12
        push    r13
        push    r14
        push    r15
        sub     rsp, 40                 /* [0] own MXCSR/CW, [8] values, [16] rsp, [24] scratch */
        stmxcsr [rsp]
        fnstcw  [rsp + 4]
        mov     [rsp + 8], rdx
        mov     [rsp + 16], rsp
        ldmxcsr [rdx + 48]
        fldcw   [rdx + 56]
        mov     rbx, [rdx]
        mov     rbp, [rdx + 8]
        mov     r12, [rdx + 16]
        mov     r13, [rdx + 24]
        mov     r14, [rdx + 32]
        mov     r15, [rdx + 40]
        call    grt_context_switch
        xor     eax, eax
        mov     rdx, [rsp + 8]
        cmp     rbx, [rdx]
        je      1f
        or      eax, 1
1:      cmp     rbp, [rdx + 8]
        je      1f
        or      eax, 2
1:      cmp     r12, [rdx + 16]
        je      1f
        or      eax, 4
1:      cmp     r13, [rdx + 24]
        je      1f
        or      eax, 8
1:      cmp     r14, [rdx + 32]
        je      1f
        or      eax, 16
1:      cmp     r15, [rdx + 40]
        je      1f
        or      eax, 32
1:      stmxcsr [rsp + 24]
        mov     ecx, [rsp + 24]
        xor     ecx, [rdx + 48]
        and     ecx, 0xffc0             /* control bits only; 0..5 are sticky status flags */
        jz      1f
        or      eax, 64
1:      fnstcw  [rsp + 24]
        movzx   ecx, word ptr [rsp + 24]
        cmp     cx, word ptr [rdx + 56]
        je      1f
        or      eax, 128
1:      cmp     rsp, [rsp + 16]
        je      1f
        or      eax, 256
1:      ldmxcsr [rsp]
        fldcw   [rsp + 4]
        add     rsp, 40
        pop     r15
        pop     r14
        pop     r13
        pop     r12
        pop     rbx
        pop     rbp
        ret
        .size   regs_switch_check, . - regs_switch_check

/* void regs_clobber_switch(grt_context *from [rdi], const grt_context *to [rsi], unsigned long seed [rdx]) */
        .globl  regs_clobber_switch
        .type   regs_clobber_switch, @function
regs_clobber_switch:
        push    rbp
        push    rbx
        push    r12
        push    r13
        push    r14
        push    r15
        sub     rsp, 24
        stmxcsr [rsp]
        fnstcw  [rsp + 4]
        mov     dword ptr [rsp + 8], 0xbf80     /* FZ, round up */
        mov     word ptr [rsp + 12], 0x047f     /* x87: round down, 24-bit precision */
        ldmxcsr [rsp + 8]
        fldcw   [rsp + 12]
        mov     rbx, rdx
        lea     rbp, [rdx + 1]
        lea     r12, [rdx + 2]
        lea     r13, [rdx + 3]
        not     rdx
        mov     r14, rdx
        lea     r15, [rdx + 5]
        call    grt_context_switch
        ldmxcsr [rsp]
        fldcw   [rsp + 4]
        add     rsp, 24
        pop     r15
        pop     r14
        pop     r13
        pop     r12
        pop     rbx
        pop     rbp
        ret
        .size   regs_clobber_switch, . - regs_clobber_switch

        .section .note.GNU-stack,"",@progbits
