/*
 * memcpy, memmove, memset, memcmp, bcmp and strlen for the freestanding build, where no libc
 * provides them and Rust's core (and gcc) emit calls to them. String instructions are
 * short and fast enough here (ERMSB on current cores); the libc build uses libc's.
 */
        .intel_syntax noprefix
        .text
        .globl  grt_asm_mem_start       /* this file's code: arch::in_grt_asm */
        .hidden grt_asm_mem_start
grt_asm_mem_start:

        .globl  memcpy
        .type   memcpy, @function
        .p2align 4
memcpy:
        mov     rax, rdi
        mov     rcx, rdx
        rep movsb
        ret
        .size   memcpy, . - memcpy

        .globl  memmove
        .type   memmove, @function
        .p2align 4
memmove:
        mov     rax, rdi
        mov     rcx, rdx
        cmp     rdi, rsi
        jbe     1f                      /* dst below src: copying forward is safe */
        lea     r8, [rsi + rdx]
        cmp     rdi, r8
        jae     1f                      /* no overlap */
        lea     rsi, [rsi + rdx - 1]    /* overlap with dst above src: copy backward */
        lea     rdi, [rdi + rdx - 1]
        std
        rep movsb
        cld
        ret
1:
        rep movsb
        ret
        .size   memmove, . - memmove

        .globl  memset
        .type   memset, @function
        .p2align 4
memset:
        mov     r8, rdi
        mov     eax, esi
        mov     rcx, rdx
        rep stosb
        mov     rax, r8
        ret
        .size   memset, . - memset

        .globl  memcmp
        .type   memcmp, @function
        .globl  bcmp
        .type   bcmp, @function
        .p2align 4
memcmp:
bcmp:
        xor     eax, eax
        test    rdx, rdx
        jz      2f
1:
        movzx   eax, byte ptr [rdi]
        movzx   ecx, byte ptr [rsi]
        sub     eax, ecx
        jnz     2f
        inc     rdi
        inc     rsi
        dec     rdx
        jnz     1b
2:
        ret
        .size   memcmp, . - memcmp
        .size   bcmp, . - bcmp

/* size_t strlen(const char *s): compilers turn byte-counting loops into calls to it. */
        .globl  strlen
        .type   strlen, @function
        .p2align 4
strlen:
        mov     rax, rdi
1:
        cmp     byte ptr [rax], 0
        je      2f
        inc     rax
        jmp     1b
2:
        sub     rax, rdi
        ret
        .size   strlen, . - strlen

        .globl  grt_asm_mem_end
        .hidden grt_asm_mem_end
grt_asm_mem_end:

        .section .note.GNU-stack,"",@progbits
