/* grt-test: exit=0 stdout="ok objects held from an added root range live" stdout="ok removed, they die" stdout="PASS" stderr="grt: grt_remove_roots:" env="GRTMAXPROCS=2"
 *
 * grt_add_roots and grt_remove_roots on memory the collector does not otherwise scan (an
 * atomic object, kept by a global): 64 tracked objects held only there survive 50 cycles
 * with garbage between them while the range is a root; once grt_remove_roots took it out
 * (it reports 1 range removed), weak pointers to them read NULL within a few cycles (90%:
 * a conservative collector may keep a few through stale words). lo > hi is GRT_EINVAL.
 */
#include "gc_tobj.h"

#define N 64

static struct tobj **block; /* atomic: its words are not scanned unless it is a root */
static uint64_t serial[N];
static grt_weak *weak[N];

static __attribute__((noinline, noipa)) void fill(void) {
    for (int i = 0; i < N; i++) {
        struct tobj *o = tobj_new();
        serial[i] = o->serial;
        block[i] = o;
    }
}

static __attribute__((noinline, noipa)) void churn(int n) {
    for (int i = 0; i < n; i++) (void)tobj_new();
}

static void main_g(void *arg) {
    (void)arg;
    block = grt_alloc_atomic(N * sizeof *block);
    CHECK(block != 0);
    CHECK_EQ(grt_add_roots(block, block + N), GRT_OK);
    fill();
    for (int c = 0; c < 50; c++) {
        churn(500);
        CHECK_EQ(grt_gc(), GRT_OK);
        for (int i = 0; i < N; i++) tobj_check("gc_roots", " (an added root)", (unsigned)i, block[i], serial[i]);
    }
    t_puts(1, "ok objects held from an added root range live\n");
    for (int i = 0; i < N; i++) CHECK((weak[i] = grt_weak_make(block[i])) != 0);
    CHECK_EQ(grt_remove_roots(block + N, block), GRT_EINVAL);
    CHECK_EQ(grt_remove_roots(block, block + N / 2), 0); /* not inside: kept */
    CHECK_EQ(grt_remove_roots(block, block + N), 1);
    int cleared = 0;
    for (int c = 0; c < 5; c++) {
        churn(500);
        CHECK_EQ(grt_gc(), GRT_OK);
    }
    for (int i = 0; i < N; i++) cleared += grt_weak_get(weak[i]) == 0;
    t_puts(1, "removed");
    t_put_kv("cleared", (uint64_t)cleared);
    t_put_kv("of", N);
    t_puts(1, "\n");
    CHECK(cleared >= N - N / 10);
    t_puts(1, "ok removed, they die\n");
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
