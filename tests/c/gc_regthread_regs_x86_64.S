/* Helper for gc_regthread_regs.c on x86_64: see there. Intel syntax.
 *
 * void regs_hold(void *(*make)(long) [rdi], long spins [rsi], long allocs [rdx],
 *                void *(*churn)(void) [rcx], void **out [r8])
 *
 * Puts make(0) .. make(4) into rbx, r12, r13, r14, r15 (their only copies: make's return
 * value in rax is overwritten by the next call, and 4 KiB below the stack pointer are
 * zeroed afterwards, so no stale copy lies where a scan of this stack would look), spins
 * `spins` rounds touching no register of those, calls churn() `allocs` times, and stores the
 * five registers into out[0..5).
 *
 * Frame: the caller's rbx, r12-r15 are pushed XOR-masked (a pointer the caller kept there
 * must not keep an object alive from this frame), and unmasked on the way out.
 *      | return address        |
 *      | saved rbp             | <- rbp
 *      | rbx^M r12^M .. r15^M  |  rbp - 8 .. rbp - 40
 *      | out   churn   allocs  |  rsp + 16, rsp + 8, rsp + 0 (spins stays in rsi until used)
 */
#define MASK 0x5a5a5a5a5a5a5a5a
        .intel_syntax noprefix
        .text
        .globl  regs_hold
        .type   regs_hold, @function
regs_hold:
        push    rbp
        mov     rbp, rsp
        push    rbx
        push    r12
        push    r13
        push    r14
        push    r15
        sub     rsp, 24                 /* entry 8 mod 16; + 8 + 40 + 24 = 0 mod 16 */
        movabs  rax, MASK
        xor     [rbp - 8], rax
        xor     [rbp - 16], rax
        xor     [rbp - 24], rax
        xor     [rbp - 32], rax
        xor     [rbp - 40], rax
        mov     [rsp], rdx
        mov     [rsp + 8], rcx
        mov     [rsp + 16], r8
        mov     r12, rdi                /* make, until the objects take the registers */
        mov     r13, rsi                /* spins */
        xor     edi, edi
        call    r12
        mov     rbx, rax
        mov     edi, 4
        call    r12
        mov     r15, rax
        mov     edi, 3
        call    r12
        mov     r14, rax
        mov     rsi, r13                /* spins, out of the way */
        mov     edi, 2
        push    rsi
        push    rsi
        call    r12
        pop     rsi
        pop     rsi
        mov     r13, rax
        mov     edi, 1
        push    rsi
        push    rsi
        call    r12
        pop     rsi
        pop     rsi
        mov     r12, rax
        xor     eax, eax                /* no stale copy below sp */
        mov     [rsp - 8], rax
        mov     [rsp - 16], rax
        lea     rdi, [rsp - 4096]
        mov     ecx, 510
        rep stosq
1:      test    rsi, rsi                /* spin: a signal is what stops us here */
        jz      2f
        dec     rsi
        pause
        jmp     1b
2:      mov     rax, [rsp]              /* churn: allocations, where we may stop ourselves */
        test    rax, rax
        jz      3f
        dec     rax
        mov     [rsp], rax
        call    [rsp + 8]
        jmp     2b
3:      mov     rdi, [rsp + 16]
        mov     [rdi], rbx
        mov     [rdi + 8], r12
        mov     [rdi + 16], r13
        mov     [rdi + 24], r14
        mov     [rdi + 32], r15
        movabs  rax, MASK
        xor     [rbp - 8], rax
        xor     [rbp - 16], rax
        xor     [rbp - 24], rax
        xor     [rbp - 32], rax
        xor     [rbp - 40], rax
        add     rsp, 24
        pop     r15
        pop     r14
        pop     r13
        pop     r12
        pop     rbx
        pop     rbp
        ret
        .size   regs_hold, . - regs_hold

        .section .note.GNU-stack,"",%progbits
