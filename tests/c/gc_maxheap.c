/* grt-test: exit=0 stdout="ok garbage never fails under the cap" stdout="ok the cap holds: NULL, not more memory" stdout="ok memory comes back after a collection" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * The hard heap cap (grt_gc_set_max_heap, bdwgc's GC_set_max_heap_size), at 24 MiB:
 * - 256 MiB of garbage in 16 KiB pieces through grt_try_alloc: never NULL, and the heap's
 *   mapped bytes never pass the cap (checked every MiB);
 * - pieces kept in a list until grt_try_alloc says NULL: it does (after its full
 *   collection), with at least half the cap in use and the mapping still within the cap;
 *   an object larger than the cap is NULL at once;
 * - the list dropped and one collection later, allocation succeeds again; the cap removed,
 *   the large object is had.
 * gc_maxheap_fatal: grt_alloc past the cap is a fatal error that names the limit.
 */
#include "check.h"

#define CAP (24u << 20)
#define PIECE (16u << 10)

static uint64_t mapped(void) {
    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    return st.heap_mapped;
}

static __attribute__((noinline, noipa)) void churn(void) {
    uint64_t peak = 0;
    for (unsigned i = 0; i < (256u << 20) / PIECE; i++) {
        char *p = grt_try_alloc(PIECE);
        CHECK(p != 0);
        p[0] = 1;
        if (i % ((1u << 20) / PIECE) == 0) {
            uint64_t m = mapped();
            if (m > peak) peak = m;
            CHECK(m <= CAP);
        }
    }
    t_puts(1, "churn");
    t_put_kv("peak_mapped_kib", peak >> 10);
    t_puts(1, "\n");
}

/* Keeps pieces on a list (their first word) until the heap says no; returns the list. */
static __attribute__((noinline, noipa)) void **fill(uint64_t *kept) {
    void **head = 0;
    for (;;) {
        void **p = grt_try_alloc(PIECE);
        if (!p) break;
        GRT_STORE(p, (void *)head);
        head = p;
        *kept += PIECE;
        CHECK(*kept <= CAP);
    }
    return head;
}

static void main_g(void *arg) {
    (void)arg;
    CHECK_EQ(grt_gc_set_max_heap(CAP), GRT_OK);
    churn();
    t_puts(1, "ok garbage never fails under the cap\n");

    uint64_t kept = 0;
    void **volatile head = fill(&kept);
    uint64_t m = mapped();
    t_puts(1, "fill");
    t_put_kv("kept_kib", kept >> 10);
    t_put_kv("mapped_kib", m >> 10);
    t_puts(1, "\n");
    CHECK(head != 0);
    CHECK(kept >= CAP / 2);
    CHECK(m <= CAP);
    CHECK(grt_try_alloc(2 * CAP) == 0);
    t_puts(1, "ok the cap holds: NULL, not more memory\n");

    head = 0;
    CHECK_EQ(grt_gc(), GRT_OK);
    for (int i = 0; i < 64; i++) CHECK(grt_try_alloc(PIECE) != 0);
    CHECK_EQ(grt_gc_set_max_heap(0), GRT_OK);
    CHECK(grt_try_alloc(2 * CAP) != 0);
    t_puts(1, "ok memory comes back after a collection\n");
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
