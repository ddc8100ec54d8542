/* grt-test: exit=0 stdout="ok idle Ps marked, nothing reachable lost" stdout="PASS" env="GRTMAXPROCS=2" env="GRTGC=off"
 *
 * Marking on more than one core (gcwork.rs): while a cycle marks, an M whose P has no
 * goroutine to run takes grey work from the pool and marks beside the collector (Go's idle
 * mark workers), and mark termination still sees every grey object: the markers leave, their
 * work given back, before the world stops.
 *
 * A binary tree of NODES 32-byte nodes hangs from a global, and nothing else. The main
 * goroutine runs grt_gc(): while it waits (as in a system call) no goroutine is runnable
 * and the other P is idle, so an M comes to mark on it. The test checks, for each cycle:
 *  - the cycle found at least the tree live (grt_gc_stats' last_marked): a subtree whose
 *    root a marker held when the world stopped would be missing from it;
 *  - after allocating GARBAGE more nodes' worth of the same size (they reuse whatever the
 *    sweep freed), every node of the tree still has its stamp and its children.
 * It repeats, up to MAX_TRIES cycles, until a cycle had idle Ps mark (grt_gc_stats'
 * idle_mark_bytes grew), and fails if none did.
 *
 * gc_idlemark_widen.c runs it with GRTDEBUG=gcidlemarkwiden=1: a marker beside the collector
 * sleeps 2 ms before each step, holding its work, so mark termination comes while it holds
 * some. Teeth: gc_idlemark_teeth.c adds gcidlemarknowait=1 (the collector waits for no
 * marker that holds work): the held subtrees are not marked.
 */
#include "check.h"

#define DEPTH 18
#define NODES ((1L << DEPTH) - 1)
#define GARBAGE 300000
#define MAX_TRIES 10
#define STAMP 0x1d1e3a4b00000000ull

struct node {
    struct node *left, *right;
    uint64_t stamp;
    uint64_t pad;
};

static struct node *root; /* the tree's only root */
static long next_id;

static struct node *build(int depth) {
    struct node *n = grt_alloc(sizeof *n);
    CHECK(n != 0);
    n->stamp = STAMP + (uint64_t)next_id++;
    if (depth > 1) {
        n->left = build(depth - 1);
        n->right = build(depth - 1);
    }
    return n;
}

/* Counts the nodes whose stamps and shape are intact (pre-order ids, as built). */
static long check_tree(struct node *n, int depth, long *id) {
    if (n->stamp != STAMP + (uint64_t)*id) {
        t_puts(2, "gc_idlemark: node");
        t_put_kv("id", (uint64_t)*id);
        t_put_kv("stamp", n->stamp);
        t_puts(2, " overwritten: it was freed while reachable\n");
        grt_exit(1);
    }
    (*id)++;
    long c = 1;
    if (depth > 1) {
        CHECK(n->left != 0 && n->right != 0);
        c += check_tree(n->left, depth - 1, id);
        c += check_tree(n->right, depth - 1, id);
    } else {
        CHECK(n->left == 0 && n->right == 0);
    }
    return c;
}

static void main_goroutine(void *arg) {
    (void)arg;
    root = build(DEPTH);
    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    uint64_t idle0 = st.idle_mark_bytes;
    int tries = 0, with_idle = 0;
    uint64_t idle_bytes = 0;
    while (!with_idle && tries < MAX_TRIES) {
        tries++;
        CHECK_EQ(grt_gc(), GRT_OK);
        CHECK_EQ(grt_gc_stats(&st), GRT_OK);
        uint64_t want = (uint64_t)NODES * sizeof(struct node);
        if (st.last_marked < want) {
            t_puts(2, "gc_idlemark: the cycle marked");
            t_put_kv("bytes", st.last_marked);
            t_put_kv("of_at_least", want);
            t_puts(2, ": grey work lost\n");
            grt_exit(1);
        }
        idle_bytes = st.idle_mark_bytes - idle0;
        with_idle = idle_bytes > 0;
        /* Reuse whatever the sweep freed, then look at every node. */
        for (long i = 0; i < GARBAGE; i++) {
            struct node *g = grt_alloc(sizeof *g);
            CHECK(g != 0);
            g->stamp = ~0ull;
        }
        long id = 0;
        CHECK_EQ(check_tree(root, DEPTH, &id), NODES);
    }
    t_puts(1, "cycles");
    t_put_kv("tried", (uint64_t)tries);
    t_put_kv("idle_mark_bytes", idle_bytes);
    t_puts(1, "\n");
    if (!with_idle) {
        t_puts(2, "gc_idlemark: no idle P marked in any cycle\n");
        grt_exit(1);
    }
    t_puts(1, "ok idle Ps marked, nothing reachable lost\n");
    t_puts(1, "PASS\n");
}

int main(void) { return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1; }
