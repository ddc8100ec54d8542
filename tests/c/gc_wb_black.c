/* grt-test: exit=0 stdout="PASS" env="GRTMAXPROCS=2" env="GRTGC=off"
 *
 * The write barrier's black window (mcache.rs): GRT_STORE while a cycle marks drops, with no
 * lookup, a pointer into the last run of slots its M claimed while marking, since those
 * objects were born marked. That holds only for the cycle that claimed the run: mark
 * termination empties every M's window. A window left over into the next cycle covers
 * objects that are white there, and a store of one of them into an object the collector has
 * already scanned would be dropped; if the mutator then forgets the pointer, the object is
 * freed while reachable.
 *
 * One mutator goroutine does, over and over:
 *   1. once a cycle (N) marks, allocate BATCH tracked objects (more than two runs, so the
 *      M claims a run while marking) and keep the last NSTASH of them only hidden
 *      (~address, not a pointer to a conservative scan), with their serials. Only those
 *      born marked are kept (grt_gc_is_marked while N still marks): an object handed out
 *      from a run claimed before N is white, and hidden it is rightly freed by N (the
 *      goroutine may also have moved to another M, whose run is older);
 *   2. wait for the next cycle (N+1) to mark, allocating nothing, and a gap (10 us to
 *      1.3 ms) for the collector to scan `holder` (a heap array reachable from a global:
 *      scanned with the first roots);
 *   3. GRT_STORE each stashed object into a slot of `holder`, forget it, scrub the stack;
 *   4. once N+1 has ended, allocate more tracked objects (so that freed slots are handed out
 *      again) and check every slot of `holder`: a freed object is caught by its serial or
 *      address (or by tobj_new, which finds a handed-out object not zero).
 * A round counts only if the stores fell in N+1's marking, the cycle right after N (the
 * goroutine may sleep through a whole cycle), and N+1 was still marking after the last
 * store (the barrier flag still on, the cycle count not moved): stored later, the objects
 * were rightly found dead by N+1 (hidden is not reachable), and the round's slots are
 * cleared unchecked.
 * The main goroutine runs grt_gc back to back for GRT_STRESS_MS (default 1 s). A ballast of
 * BALLAST live objects makes each marking long enough (a millisecond or so natively, more
 * under qemu) for a round's steps to fall inside one.
 *
 * Teeth: gc_wb_black_teeth.c runs this in the test-only build with GRTDEBUG=gcblackstale=1
 * (mark termination keeps the windows); it must die with "was freed while reachable".
 */
#include "gc_tobj.h"

#ifndef BLACK_DEFAULT_MS
#define BLACK_DEFAULT_MS 1000
#endif

#define NOINLINE __attribute__((noinline, noipa))
/* A run holds at most 512 objects (mcache.rs): allocating this many while a cycle marks
 * makes the M claim at least one run then. */
#define BATCH 1100
#define NSTASH 16
#define AFTER 4096
#define BALLAST 65536
#define GAP_MIN_NS 10000ull
#define GAP_SHIFTS 8

static struct tobj **holder;  /* NSTASH slots, grt_alloc'd */
static struct tobj **ballast; /* BALLAST slots, grt_alloc'd */
static uint64_t holder_serial[NSTASH];
static uintptr_t stash[NSTASH]; /* ~address, or 0: no pointer for the collector */
static uint64_t stash_serial[NSTASH];
static volatile int stop;
static uint64_t rounds, counted;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;
static uint64_t deadline_ms;

static void wait_marking(int on) {
    while (grt_gc_wbenabled != on && !stop) {
    }
}

static uint64_t cycles(void) {
    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    return st.cycles;
}

/* Stashes the born-marked ones of the last NSTASH objects; how many, or 0 if cycle N did
 * not mark all along (then grt_gc_is_marked's answers are not N's marking's). *c: cycles
 * completed before N. */
static NOINLINE unsigned allocate_stash(uint64_t *cn) {
    uint64_t c = cycles();
    *cn = c;
    unsigned n = 0;
    for (unsigned i = 0; i < BATCH; i++) {
        struct tobj *o = tobj_new();
        unsigned k = i - (BATCH - NSTASH);
        if (i >= BATCH - NSTASH) {
            stash[k] = grt_gc_is_marked(o) ? ~(uintptr_t)o : 0;
            stash_serial[k] = o->serial;
            n += stash[k] != 0;
        }
    }
    if (grt_gc_wbenabled != 0 && cycles() == c) return n;
    for (unsigned k = 0; k < NSTASH; k++) stash[k] = 0;
    return 0;
}

static NOINLINE void store_stash(void) {
    for (unsigned k = 0; k < NSTASH; k++) {
        if (stash[k] == 0) continue;
        GRT_STORE(&holder[k], (struct tobj *)~stash[k]);
        holder_serial[k] = stash_serial[k];
        stash[k] = 0;
    }
}

/* Overwrites the dead frames below the caller, where a copy of a stored pointer may be. */
static NOINLINE void scrub(void) {
    volatile char buf[4096];
    for (unsigned i = 0; i < sizeof buf; i++) buf[i] = 0;
}

static NOINLINE void churn_and_check(int check) {
    for (unsigned i = 0; i < AFTER; i++) (void)tobj_new();
    for (unsigned k = 0; k < NSTASH; k++)
        if (check && holder[k] != 0)
            tobj_check("gc_wb_black", "", k, holder[k], holder_serial[k]);
}

static void mutator(void *arg) {
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    (void)arg;
    while (!stop) {
        wait_marking(1);
        if (stop) break;
        uint64_t cn;
        if (allocate_stash(&cn) == 0) continue;
        wait_marking(0);
        wait_marking(1);
        if (stop) break;
        uint64_t c0 = cycles();
        if (c0 != cn + 1) {
            /* This goroutine slept through all of N+1, where the hidden objects rightly
             * died: the round does not count. */
            for (unsigned k = 0; k < NSTASH; k++) stash[k] = 0;
            continue;
        }
        uint64_t gap = GAP_MIN_NS << (tobj_rnd(&rng) % GAP_SHIFTS);
        uint64_t t0 = grt_nanotime();
        while (grt_nanotime() - t0 < gap) {
        }
        store_stash();
        /* The flag is cleared with the world stopped, at mark termination; the count moves
         * only after it, before the next cycle can turn the flag on again. */
        int in_marking = grt_gc_wbenabled != 0 && cycles() == c0;
        scrub();
        wait_marking(0);
        churn_and_check(in_marking);
        for (unsigned k = 0; k < NSTASH; k++) GRT_STORE(&holder[k], (struct tobj *)0);
        rounds++;
        counted += in_marking;
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void main_g(void *arg) {
    (void)arg;
    holder = grt_alloc(NSTASH * sizeof(struct tobj *));
    CHECK(holder != 0);
    ballast = grt_alloc(BALLAST * sizeof(struct tobj *));
    CHECK(ballast != 0);
    for (unsigned i = 0; i < BALLAST; i++) GRT_STORE(&ballast[i], tobj_new());
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(mutator, 0), GRT_OK);
    uint64_t end = grt_nanotime() + deadline_ms * 1000000ull;
    while (grt_nanotime() < end) CHECK_EQ(grt_gc(), GRT_OK);
    stop = 1;
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    t_puts(1, "covered:");
    t_put_kv("cycles", st.cycles);
    t_put_kv("rounds", rounds);
    t_put_kv("counted", counted);
    t_puts(1, "\n");
    CHECK(counted > 0);
    t_puts(1, "PASS\n");
}

/* GRT_STRESS_MS=n in the environment: run n ms. */
int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    deadline_ms = t_env_u64(envp, "GRT_STRESS_MS", BLACK_DEFAULT_MS);
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    return 0;
}
