/*
 * A frame-pointer-less function for gc_fpless.c, x86_64, in the shape of glibc's (built with
 * -fomit-frame-pointer, so rbp is just another callee-saved register): it keeps a pointer to
 * a buffer of its own in rbp across a call to a callback that has frame pointers. The
 * callback's frame record then links to the buffer, which looks like a record:
 *
 *      buffer[0]  the address of buffer[2]    ("saved fp": inside the stack, above, aligned)
 *      buffer[1]  fake_ret                    ("return address": not a real one)
 *      buffer[2]  0                           (the "chain" ends)
 *
 * long fpless_call(long (*cb)(long, uintptr_t *), long arg, uintptr_t fake_ret) returns
 * cb(arg, buffer), plus
 * 1000 if the buffer changed while cb ran, plus 2000 if rbp did.
 * CFI describes it as a compiler would (CFA from rsp; rbx and rbp saved), so a DWARF
 * unwinder goes through it.
 */
        .intel_syntax noprefix
        .text
        .globl  fpless_call
        .type   fpless_call, @function
fpless_call:
        .cfi_startproc
        push    rbx
        .cfi_def_cfa_offset 16
        .cfi_offset rbx, -16
        push    rbp
        .cfi_def_cfa_offset 24
        .cfi_offset rbp, -24
        sub     rsp, 40
        .cfi_def_cfa_offset 64
        lea     rax, [rsp + 16]
        mov     [rsp], rax
        mov     [rsp + 8], rdx
        mov     qword ptr [rsp + 16], 0
        mov     qword ptr [rsp + 24], 0
        mov     rbx, rdx
        mov     rbp, rsp                /* data in rbp: the buffer, not a frame record */
        mov     rax, rdi
        mov     rdi, rsi
        mov     rsi, rsp
        call    rax
        xor     ecx, ecx
        cmp     [rsp + 8], rbx
        je      1f
        add     rax, 1000
1:      lea     rdx, [rsp + 16]
        cmp     [rsp], rdx
        je      2f
        add     rax, 1000
2:      cmp     rbp, rsp
        je      3f
        add     rax, 2000
3:      add     rsp, 40
        .cfi_def_cfa_offset 24
        pop     rbp
        .cfi_def_cfa_offset 16
        .cfi_restore rbp
        pop     rbx
        .cfi_def_cfa_offset 8
        .cfi_restore rbx
        ret
        .cfi_endproc
        .size   fpless_call, . - fpless_call

        .section .note.GNU-stack,"",@progbits
