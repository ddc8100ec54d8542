/*
 * memcpy, memmove, memset, memcmp, bcmp and strlen for the freestanding build, where no libc
 * provides them and Rust's core (and gcc) emit calls to them. Word-at-a-time loops with a
 * byte tail: small and obviously correct; the libc build uses libc's tuned versions.
 */
        .text
        .globl  grt_asm_mem_start       /* this file's code: arch::in_grt_asm */
        .hidden grt_asm_mem_start
grt_asm_mem_start:

        .globl  memcpy
        .type   memcpy, %function
        .p2align 4
memcpy:
        mov     x3, x0
1:      cmp     x2, #8
        b.lo    2f
        ldr     x4, [x1], #8
        str     x4, [x3], #8
        sub     x2, x2, #8
        b       1b
2:      cbz     x2, 3f
        ldrb    w4, [x1], #1
        strb    w4, [x3], #1
        sub     x2, x2, #1
        b       2b
3:      ret
        .size   memcpy, . - memcpy

        .globl  memmove
        .type   memmove, %function
        .p2align 4
memmove:
        cmp     x0, x1
        b.ls    memcpy                  /* dst at or below src: forward copy is safe */
        add     x3, x1, x2
        cmp     x0, x3
        b.hs    memcpy                  /* no overlap */
        add     x3, x0, x2              /* overlap with dst above src: copy backward */
1:      cbz     x2, 2f
        sub     x3, x3, #1              /* x3 walks dst; its source byte is x1 + (x3 - x0) */
        sub     x5, x3, x0
        ldrb    w4, [x1, x5]
        strb    w4, [x3]
        sub     x2, x2, #1
        b       1b
2:      ret
        .size   memmove, . - memmove

        .globl  memset
        .type   memset, %function
        .p2align 4
memset:
        mov     x3, x0
1:      cbz     x2, 2f
        strb    w1, [x3], #1
        sub     x2, x2, #1
        b       1b
2:      ret
        .size   memset, . - memset

        .globl  memcmp
        .type   memcmp, %function
        .globl  bcmp
        .type   bcmp, %function
        .p2align 4
memcmp:
bcmp:
        mov     x3, x0
        mov     w0, #0
1:      cbz     x2, 2f
        ldrb    w4, [x3], #1
        ldrb    w5, [x1], #1
        subs    w0, w4, w5
        b.ne    2f
        sub     x2, x2, #1
        b       1b
2:      ret
        .size   memcmp, . - memcmp
        .size   bcmp, . - bcmp

/* size_t strlen(const char *s): compilers turn byte-counting loops into calls to it. */
        .globl  strlen
        .type   strlen, %function
        .p2align 4
strlen:
        mov     x1, x0
1:      ldrb    w2, [x1]
        cbz     w2, 2f
        add     x1, x1, #1
        b       1b
2:      sub     x0, x1, x0
        ret
        .size   strlen, . - strlen

        .globl  grt_asm_mem_end
        .hidden grt_asm_mem_end
grt_asm_mem_end:

        .section .note.GNU-stack,"",%progbits
