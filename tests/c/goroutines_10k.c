/* grt-test: exit=0 stdout="ok 10000 goroutines" stdout="ok tree of 2047 goroutines" stdout="PASS" env="GRTMAXPROCS=4"
 *
 * 10,000 goroutines started with grt_go on 4 Ms and joined with a wait group: every one ran
 * exactly once with its own argument (each adds its index + 1 into its own slot), the sum
 * over all of them is exact, and every goroutine had its own id (none 0, none 1, all
 * different). Then goroutines started from goroutines: a binary tree 11 levels deep, each
 * node starting its two children, joined through one wait group.
 */
#include "check.h"

#define N 10000
#define TREE_DEPTH 11 /* 2^11 - 1 = 2047 nodes */

static uint64_t slot[N];
static uint64_t goids[N];
static uint64_t sum;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static void worker(void *arg) {
    uint64_t i = (uint64_t)(uintptr_t)arg;
    slot[i] += i + 1;
    goids[i] = grt_goid();
    __atomic_fetch_add(&sum, i + 1, __ATOMIC_RELAXED);
    if (i % 3 == 0) CHECK_EQ(grt_yield(), GRT_OK); /* a third of them are rescheduled once */
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

/* Shell sort, so that duplicate ids show up as neighbours. */
static void sort_u64(uint64_t *a, int n) {
    for (int gap = n / 2; gap > 0; gap /= 2)
        for (int i = gap; i < n; i++) {
            uint64_t v = a[i];
            int j = i;
            for (; j >= gap && a[j - gap] > v; j -= gap) a[j] = a[j - gap];
            a[j] = v;
        }
}

static grt_waitgroup tree_wg = GRT_WAITGROUP_INIT;
static uint64_t tree_nodes, tree_depth_sum;

static void node(void *arg) {
    uintptr_t depth = (uintptr_t)arg;
    __atomic_fetch_add(&tree_nodes, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&tree_depth_sum, depth, __ATOMIC_RELAXED);
    if (depth + 1 < TREE_DEPTH) {
        CHECK_EQ(grt_wg_add(&tree_wg, 2), GRT_OK);
        CHECK_EQ(grt_go(node, (void *)(depth + 1)), GRT_OK);
        CHECK_EQ(grt_go(node, (void *)(depth + 1)), GRT_OK);
    }
    CHECK_EQ(grt_wg_done(&tree_wg), GRT_OK);
}

static void main_g(void *arg) {
    CHECK(arg == (void *)&wg);
    CHECK_EQ(grt_goid(), 1);
    CHECK_EQ(grt_maxprocs(), 4); /* from GRTMAXPROCS in the environment */

    CHECK_EQ(grt_wg_add(&wg, N), GRT_OK);
    for (uintptr_t i = 0; i < N; i++) CHECK_EQ(grt_go(worker, (void *)i), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);

    uint64_t total = 0;
    for (uint64_t i = 0; i < N; i++) {
        CHECK_EQ(slot[i], i + 1);
        total += slot[i];
    }
    CHECK_EQ(total, (uint64_t)N * (N + 1) / 2);
    CHECK_EQ(__atomic_load_n(&sum, __ATOMIC_RELAXED), (uint64_t)N * (N + 1) / 2);

    sort_u64(goids, N);
    CHECK(goids[0] > 1); /* not 0 (no goroutine), not 1 (main) */
    for (int i = 1; i < N; i++) CHECK(goids[i] != goids[i - 1]);
    t_puts(1, "ok 10000 goroutines\n");

    /* A wait group already at zero does not park. */
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);

    CHECK_EQ(grt_wg_add(&tree_wg, 1), GRT_OK);
    CHECK_EQ(grt_go(node, (void *)0), GRT_OK);
    CHECK_EQ(grt_wg_wait(&tree_wg), GRT_OK);
    CHECK_EQ(tree_nodes, (1u << TREE_DEPTH) - 1);
    uint64_t want = 0; /* sum over levels d of d * 2^d */
    for (int d = 0; d < TREE_DEPTH; d++) want += (uint64_t)d << d;
    CHECK_EQ(tree_depth_sum, want);
    t_puts(1, "ok tree of 2047 goroutines\n");
}

int main(void) {
    CHECK_EQ(grt_goid(), 0);
    CHECK_EQ(grt_maxprocs(), 0);
    CHECK_EQ(grt_main(main_g, &wg), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
