/* grt-test: exit=0 stdout="ok grt_base and grt_size" stdout="ok grt_realloc" stdout="ok bad input" stdout="PASS" stderr="grt: grt_realloc:" env="GRTMAXPROCS=2"
 *
 * Object queries and resizing: grt_base and grt_size of small, large and atomic objects,
 * through interior pointers, and of memory that is not grt's heap (a global, a local, NULL);
 * grt_realloc growing (contents kept), shrinking in place (the bytes given up zeroed), from
 * NULL and to 0; and its bad input (a pointer that is not an object's start): NULL and a
 * message. The collector's side of grt_realloc is gc_realloc.c.
 */
#include "check.h"

static char global_buf[64];

static void main_g(void *arg) {
    (void)arg;
    char local;
    unsigned char *p = grt_alloc(100);
    CHECK(p != 0);
    CHECK(grt_base(p) == p);
    CHECK(grt_base(p + 50) == p);
    CHECK(grt_base(p + 99) == p);
    size_t sz = grt_size(p);
    CHECK(sz >= 100 && sz < 200);
    CHECK_EQ(grt_size(p + 37), sz);
    unsigned char *big = grt_alloc(1 << 20);
    CHECK(grt_base(big + 123456) == big);
    CHECK(grt_size(big) >= (1u << 20));
    unsigned char *at = grt_alloc_atomic(3000);
    CHECK(grt_base(at + 2999) == at);
    CHECK(grt_size(at) >= 3000);
    CHECK(grt_base(global_buf) == 0);
    CHECK(grt_base(&local) == 0);
    CHECK(grt_base(0) == 0);
    CHECK_EQ(grt_size(global_buf), 0);
    CHECK_EQ(grt_size(0), 0);
    t_puts(1, "ok grt_base and grt_size\n");

    /* Grow: small to small, small to large; contents kept. */
    for (int i = 0; i < 100; i++) p[i] = (unsigned char)(i * 3 + 1);
    unsigned char *q = grt_realloc(p, 1000);
    CHECK(q != 0 && grt_base(q) == q && grt_size(q) >= 1000);
    for (int i = 0; i < 100; i++) CHECK_EQ(q[i], (unsigned char)(i * 3 + 1));
    for (int i = 100; i < 1000; i++) CHECK_EQ(q[i], 0);
    unsigned char *r = grt_realloc(q, 100000);
    CHECK(r != 0 && grt_size(r) >= 100000);
    for (int i = 0; i < 100; i++) CHECK_EQ(r[i], (unsigned char)(i * 3 + 1));
    /* Shrink in place: the same object, the tail zeroed. */
    unsigned char *s = grt_alloc(256);
    for (int i = 0; i < 256; i++) s[i] = 0xaa;
    size_t ssz = grt_size(s);
    CHECK(grt_realloc(s, 16) == s);
    for (int i = 0; i < 16; i++) CHECK_EQ(s[i], 0xaa);
    for (size_t i = 16; i < ssz; i++) CHECK_EQ(s[i], 0);
    /* Atomic objects stay atomic; NULL and 0. */
    unsigned char *a2 = grt_realloc(at, 10000);
    CHECK(a2 != 0 && grt_size(a2) >= 10000);
    unsigned char *n = grt_realloc(0, 40);
    CHECK(n != 0 && grt_base(n) == n);
    for (int i = 0; i < 40; i++) CHECK_EQ(n[i], 0);
    CHECK(grt_realloc(n, 0) == 0);
    t_puts(1, "ok grt_realloc\n");

    CHECK(grt_realloc(&local, 8) == 0);
    CHECK(grt_realloc(global_buf, 8) == 0);
    CHECK(grt_realloc(r + 8, 8) == 0);
    t_puts(1, "ok bad input\n");
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
