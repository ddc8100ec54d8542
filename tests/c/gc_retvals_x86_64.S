/*
 * Helpers for gc_retvals.c on x86_64: every register a caller may find intact after a call
 * crosses a stack barrier unchanged.
 *
 * retregs_check -> retregs_leaf -> grt_test_stkbar_install: barriers in retregs_leaf's own
 * return slot (into retregs_check) and in every record above. retregs_leaf then loads, from
 * retregs_want, every result register (rax, rdx, xmm0, xmm1 in full, st0, st1) and every
 * other caller-saved one (rcx, rsi, rdi, r8-r11, xmm2-xmm15: gcc's -fipa-ra lets a caller keep
 * values there across a call to a function it knows does not touch them) and returns: through
 * the trampoline. retregs_check stores them as they arrived into retregs_seen (compared in C)
 * and returns through the second barrier.
 *
 * struct retregs: rax rdx rcx rsi rdi r8 r9 r10 r11 at 0..64, xmm0..xmm15 at 80..320,
 * st0 at 336, st1 at 352. Intel syntax; rip-relative addressing needs no base register.
 */
        .intel_syntax noprefix
        .text

#define GPR(i)  (8 * (i))
#define XMM(i)  (80 + 16 * (i))
#define ST0     336
#define ST1     352

/* void retregs_check(void) */
        .globl  retregs_check
        .type   retregs_check, @function
retregs_check:
        push    rbp                     /* frame record: gets a barrier too */
        mov     rbp, rsp
        call    retregs_leaf
        mov     [rip + retregs_seen + GPR(0)], rax
        mov     [rip + retregs_seen + GPR(1)], rdx
        mov     [rip + retregs_seen + GPR(2)], rcx
        mov     [rip + retregs_seen + GPR(3)], rsi
        mov     [rip + retregs_seen + GPR(4)], rdi
        mov     [rip + retregs_seen + GPR(5)], r8
        mov     [rip + retregs_seen + GPR(6)], r9
        mov     [rip + retregs_seen + GPR(7)], r10
        mov     [rip + retregs_seen + GPR(8)], r11
        .irp    i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        movdqu  [rip + retregs_seen + XMM(\i)], xmm\i
        .endr
        fstp    tbyte ptr [rip + retregs_seen + ST0]  /* pops: then st1 is st0 */
        fstp    tbyte ptr [rip + retregs_seen + ST1]  /* the x87 stack is empty again */
        pop     rbp
        ret
        .size   retregs_check, . - retregs_check

        .type   retregs_leaf, @function
retregs_leaf:
        push    rbp                     /* the frame record whose slot gets the barrier */
        mov     rbp, rsp                /* rsp is 16-byte aligned at the call below */
        call    grt_test_stkbar_install
        mov     [rip + retregs_installed], eax
        mov     rax, [rip + retregs_want + GPR(0)]
        mov     rdx, [rip + retregs_want + GPR(1)]
        mov     rcx, [rip + retregs_want + GPR(2)]
        mov     rsi, [rip + retregs_want + GPR(3)]
        mov     rdi, [rip + retregs_want + GPR(4)]
        mov     r8, [rip + retregs_want + GPR(5)]
        mov     r9, [rip + retregs_want + GPR(6)]
        mov     r10, [rip + retregs_want + GPR(7)]
        mov     r11, [rip + retregs_want + GPR(8)]
        .irp    i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        movdqu  xmm\i, [rip + retregs_want + XMM(\i)]
        .endr
        fld     tbyte ptr [rip + retregs_want + ST1]  /* becomes st1 */
        fld     tbyte ptr [rip + retregs_want + ST0]  /* st0 */
        pop     rbp
        ret                             /* into grt_stack_barrier */
        .size   retregs_leaf, . - retregs_leaf

        .section .note.GNU-stack,"",@progbits
