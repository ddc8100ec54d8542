/* grt-test: exit=0 stdout="ok contents kept: finalizers set before the pass" stdout="ok contents kept: finalizers set after the pass" stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcfinpasswiden=1"
 *
 * Mark termination does not mark again what finalizable objects point to (O(finalizers)
 * with the world stopped) where the write barrier saw every store: the concurrent pass
 * (mfinal.rs markroot_spans, just before mark termination) greyed the contents of the
 * objects that were finalizable then, and a finalizer set after it greys its object's
 * contents as it is set. This test drops finalizable objects on both sides of the pass. The
 * test-only GRTDEBUG=gcfinpasswiden=1 makes the collector sleep 5 ms after the pass
 * (grt_test_fin_pass_windows counts these windows), so that the test knows where it is.
 *
 * A mutator goroutine, in rounds, while another runs grt_gc back to back:
 * 1. waits for a window (cycle k is marking, past its pass) and allocates NHOLD holders,
 *    each the only holder of a tracked object C (and of a long disappearing link to it,
 *    cleared by the cycle that finds C unreachable even from its holder), keeping only
 *    hidden pointers to them (GRT_HIDE_POINTER: no pointer for the collector). Allocated
 *    while k marks, they live through k; the next cycle finds them unreachable.
 *    Group A (even slots) gets its finalizers at once: in cycle k+1 the pass sees them.
 * 2. waits for the next window (cycle k+1 past its pass) and sets group B's finalizers
 *    (odd slots) there, through the hidden pointers: only the greying at
 *    grt_set_finalizer marks their C. (A round too slow for that window leaves group B
 *    alone; a holder found dead by k+1 already is refused with GRT_EINVAL: both counted,
 *    never touched again.)
 * Each finalizer checks its C: the long link, then its stamp (tobj_check).
 *
 * Mark termination looks for due finalizers only in the spans the pass found holding an
 * unmarked finalizable object, and those given a finalizer on an unmarked object since:
 * group B's holders are in spans of their own (another size class) for that.
 *
 * Teeth: gc_finalizer_contents_teeth.c (GRTDEBUG=gcnofinsetgrey=1: group B's contents are
 * not greyed) and gc_finalizer_contents_pass_teeth.c (GRTDEBUG=gcnofinpass=1: the pass greys
 * nothing, group A's contents are lost) must die with "freed while reachable";
 * gc_finalizer_contents_cand_teeth.c (GRTDEBUG=gcnofincand=1: group B's spans are not
 * candidates) must fail.
 */
#include "gc_tobj.h"

#define NOINLINE __attribute__((noinline, noipa))
#define NHOLD 256
#define B_HOLDER_BYTES 128

uint64_t grt_test_fin_pass_windows(void); /* test-only build: gcfinpasswiden's windows */

struct holder {
    struct tobj *child;
    uint64_t serial;
    uint64_t n;
    uint64_t group; /* 0: A, 1: B */
    void *link;     /* long link to the child (hidden from the collector) */
};

static uintptr_t hidden[NHOLD];
static volatile int stop;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;
static uint64_t deadline_ms, deadline_ns, made, rounds, late_b, refused_b;
static uint64_t fins[2];

static int reported; /* __atomic: the first failing finalizer reports, the others wait */

static void append(char *buf, unsigned *len, const char *s) {
    while (*s && *len < 255) buf[(*len)++] = *s++;
}

/* One write, so that two finalizers failing at once (the finalizer goroutine's and
 * grt_run_finalizers') do not interleave their messages. */
static void report_lost(uint64_t n, uint64_t group) {
    if (__atomic_exchange_n(&reported, 1, __ATOMIC_SEQ_CST)) {
        for (;;) grt_sleep_ns(1000000); /* the first one ends the process */
    }
    char buf[256], num[24];
    unsigned len = 0, k = 0;
    do num[k++] = (char)('0' + n % 10); while ((n /= 10) != 0);
    append(buf, &len, "gc_finalizer_contents: the child of holder ");
    while (k > 0 && len < 255) buf[len++] = num[--k];
    append(buf, &len, group ? " (group B)" : " (group A)");
    append(buf, &len, " was found unreachable (its long link was cleared): it was freed while "
                      "reachable from its holder, kept for this finalizer\n");
    grt_sys_write(2, buf, len);
    grt_exit(1);
}

static void fin(void *obj, void *arg) {
    (void)arg;
    struct holder *h = obj;
    if (h->link == 0) report_lost(h->n, h->group);
    tobj_check("gc_finalizer_contents", " (a finalizable holder's child)", (unsigned)h->n,
               h->child, h->serial);
    __atomic_fetch_add(&fins[h->group], 1, __ATOMIC_RELAXED);
}

/* Waits for a window after `w` opens; false at the deadline. */
static int wait_window(uint64_t w) {
    while (grt_test_fin_pass_windows() <= w) {
        if (stop) return 0;
        grt_sleep_ns(20000);
    }
    return 1;
}

static NOINLINE void make_holders(void) {
    /* First use up the allocation run this M took before cycle k marked (its slots are
     * handed out unmarked: holders from it would die in k). One of grt's runs holds 512
     * objects at most; every run taken while k marks is taken marked. */
    for (unsigned i = 0; i < 512; i++) {
        (void)grt_alloc(sizeof(struct holder));
        (void)grt_alloc(B_HOLDER_BYTES);
    }
    for (unsigned i = 0; i < NHOLD; i++) {
        /* Group B's holders are of another size class, so in spans of their own: no group
         * A holder there makes their spans candidates for mark termination's pass 2. */
        struct holder *h = grt_alloc((i & 1) ? B_HOLDER_BYTES : sizeof *h);
        CHECK(h != 0);
        struct tobj *c = tobj_new();
        GRT_STORE(&h->child, c);
        h->serial = c->serial;
        h->n = made++;
        h->group = i & 1;
        h->link = (void *)GRT_HIDE_POINTER(c);
        CHECK_EQ(grt_link_register(&h->link, c, GRT_LINK_LONG), GRT_OK);
        if (h->group == 0) CHECK_EQ(grt_set_finalizer(h, fin, 0), GRT_OK);
        hidden[i] = GRT_HIDE_POINTER(h);
    }
}

/* Group B's finalizers, through the hidden pointers. */
static NOINLINE void set_group_b(void) {
    for (unsigned i = 1; i < NHOLD; i += 2) {
        int r = grt_set_finalizer((void *)GRT_REVEAL_POINTER(hidden[i]), fin, 0);
        if (r == GRT_EINVAL)
            refused_b++; /* found dead already: the round was late */
        else
            CHECK_EQ(r, GRT_OK);
    }
}

static void mutator(void *arg) {
    (void)arg;
    while (!stop) {
        uint64_t w = grt_test_fin_pass_windows();
        if (!wait_window(w)) break;
        /* Window w + 1 (cycle k) is open. */
        make_holders();
        if (!wait_window(w + 1)) break;
        if (grt_test_fin_pass_windows() == w + 2) {
            /* Cycle k + 1's window (unless it closed just now: then the holders are
             * refused, counted, never touched). */
            set_group_b();
        } else {
            late_b++; /* making them took past cycle k + 1's window: dead already */
        }
        for (unsigned i = 0; i < NHOLD; i++) hidden[i] = 0;
        rounds++;
    }
    grt_wg_done(&wg);
}

static void collector(void *arg) {
    (void)arg;
    while (!stop) {
        CHECK_EQ(grt_gc(), GRT_OK);
        grt_run_finalizers();
        if (grt_nanotime() >= deadline_ns) stop = 1;
    }
    grt_wg_done(&wg);
}

static void main_g(void *arg) {
    (void)arg;
    deadline_ns = grt_nanotime() + deadline_ms * 1000000ull;
    CHECK_EQ(grt_wg_add(&wg, 2), GRT_OK);
    CHECK_EQ(grt_go(mutator, 0), GRT_OK);
    CHECK_EQ(grt_go(collector, 0), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    for (int k = 0; k < 3; k++) {
        CHECK_EQ(grt_gc(), GRT_OK);
        grt_run_finalizers();
    }
    t_puts(1, "covered:");
    t_put_kv("rounds", rounds);
    t_put_kv("finalizers_a", fins[0]);
    t_put_kv("finalizers_b", fins[1]);
    t_put_kv("b_refused", refused_b);
    t_put_kv("b_rounds_late", late_b);
    t_puts(1, "\n");
    CHECK(rounds >= 3 && fins[0] > 0);
    t_puts(1, "ok contents kept: finalizers set before the pass\n");
    CHECK(fins[1] > 0 && late_b < rounds);
    t_puts(1, "ok contents kept: finalizers set after the pass\n");
}

/* GRT_STRESS_MS=n in the environment: run n ms. */
int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    deadline_ms = t_env_u64(envp, "GRT_STRESS_MS", 1500);
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
