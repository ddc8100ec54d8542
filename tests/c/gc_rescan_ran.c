/* grt-test: exit=0 stdout="ok parked stacks skipped, stacks that ran rescanned" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * Mark termination rescans only the goroutines that ran since their scan in the cycle (Go
 * 1.7's rescan list, G.gcscanvalid): a goroutine parked since before its scan is skipped, and
 * one that ran after it is rescanned.
 *
 * The crowd: CROWD goroutines, each DEPTH frames deep with a tracked object in every frame,
 * parked on a channel for the whole run. They must be skipped (grt_gc_stats'
 * last_stacks_skipped counts them) and keep every object.
 *
 * The movers show that a goroutine that ran is not skipped. A pointer reaches a mover's stack
 * in the one way Dijkstra's barrier does not see: loaded out of a heap object, whose slot is
 * then cleared (a deletion needs no barrier). Each mover shares a heap box with the keeper, a
 * goroutine created before the crowd that holds every box in its frame and stays parked;
 * goroutines are scanned newest first, so in each cycle the movers are scanned, then the
 * crowd (which takes a while), then the keeper and through it the boxes. A mover that wakes
 * in between takes its object out of its box, keeps it only in a local, and parks again.
 * Neither its scan nor the box's scan saw the object: only mark termination's rescan of the
 * mover can. Each mover then holds the object across a few cycles, while the collector
 * goroutine allocates garbage of the same size, checks it, and puts it back (GRT_STORE).
 *
 * Teeth: gc_rescan_ran_teeth.c, the same with GRTDEBUG=gcscanvalidkeep=1 (a goroutine keeps
 * its "unchanged since the scan" mark when it runs), loses an object; so does
 * gc_rescan_ran_list_teeth.c, with GRTDEBUG=gcnorescanlist=1 (it loses the mark but does not
 * go on the rescan list). gc_rescan_ran_list.c checks the list at every mark termination;
 * gc_rescan_ran_rounds.c does so with the concurrent rescan rounds on, and
 * gc_rescan_ran_spawn.c (RESCAN_RAN_SPAWN) adds goroutines that come and go.
 */
#include "gc_stress.h"

#ifndef RESCAN_RAN_DEFAULT_MS
#define RESCAN_RAN_DEFAULT_MS 1500
#endif

#define CROWD 200
#define DEPTH 40
#define MOVERS 8

static volatile int stop;
static grt_waitgroup done = GRT_WAITGROUP_INIT;
static grt_waitgroup crowd_down = GRT_WAITGROUP_INIT;
static grt_chan *park;

struct box {
    struct tobj *p;
};

/* The keeper's frame holds the boxes; the movers find them masked (no pointer). */
#define MASK 0x5a5a5a5a5a5a5a5aull
static volatile uintptr_t box_masked[MOVERS];
static volatile uint64_t box_serial[MOVERS];
static volatile int keeper_ready;

static void keeper(void *arg) {
    (void)arg;
    struct box *volatile boxes[MOVERS];
    for (int i = 0; i < MOVERS; i++) {
        struct box *b = grt_alloc(sizeof *b);
        CHECK(b != 0);
        struct tobj *o = tobj_new();
        box_serial[i] = o->serial;
        GRT_STORE(&b->p, o);
        boxes[i] = b;
        box_masked[i] = (uintptr_t)b ^ MASK;
    }
    keeper_ready = 1;
    CHECK_EQ(grt_chan_recv(park, 0), GRT_ECLOSED); /* parked until the end */
    for (int i = 0; i < MOVERS; i++)
        if (boxes[i]->p) tobj_check("gc_rescan_ran", " (box)", (unsigned)i, boxes[i]->p, box_serial[i]);
    grt_wg_done(&done);
}

/* The crowd: DEPTH frames with an object each, then parked. */
static __attribute__((noinline)) void crowd_rec(int n) {
    struct tobj *volatile o = tobj_new();
    uint64_t s = o->serial;
    if (n > 0) {
        crowd_rec(n - 1);
    } else {
        grt_wg_done(&crowd_down);
        CHECK_EQ(grt_chan_recv(park, 0), GRT_ECLOSED);
    }
    tobj_check("gc_rescan_ran", " (crowd frame)", (unsigned)n, o, s);
}

static void crowd(void *arg) {
    (void)arg;
    crowd_rec(DEPTH);
    grt_wg_done(&done);
}

static volatile uint64_t moves;

static void mover(void *arg) {
    unsigned i = (unsigned)(uintptr_t)arg;
    uint64_t rnd = 0x9e3779b97f4a7c15ull * (i + 1);
    while (!stop) {
        /* Wake at some point of a cycle, take the object out of the box. */
        grt_sleep_ns(50000 + tobj_rnd(&rnd) % 400000);
        struct box *b = (struct box *)(box_masked[i] ^ MASK);
        struct tobj *volatile o = b->p;
        b->p = 0; /* a deletion: no barrier */
        b = 0;
        moves++;
        /* Only this frame holds it now: park across cycles, then check it and put it back. */
        grt_sleep_ns(3000000);
        tobj_check("gc_rescan_ran", " (mover)", i, o, box_serial[i]);
        b = (struct box *)(box_masked[i] ^ MASK);
        GRT_STORE(&b->p, (struct tobj *)o);
        o = 0; /* else the next scan finds it here, whatever the box holds */
    }
    grt_wg_done(&done);
}

#ifdef RESCAN_RAN_SPAWN
/* Goroutines that come and go while the rounds run: the spawner hands each child a fresh
 * object that only the child's start argument holds (the spawner keeps its address masked
 * and its serial in spawn_ring), and the child checks it after a nap, and so across a
 * cycle's rounds. A child made runnable but off the rescan list at mark termination trips
 * gcrescancheck, and its object may be freed and handed out again. */
#define SPAWN_RING 4096
static struct {
    uintptr_t masked; /* the object's address ^ MASK: no pointer */
    uint64_t serial;
    uint64_t seq;
    int pending; /* __atomic: 1 from the spawn to the child's check */
} spawn_ring[SPAWN_RING];
static volatile uint64_t spawned, spawn_unchecked;

static void child(void *arg) {
    struct tobj *o = arg;
    uintptr_t m = (uintptr_t)o ^ MASK;
    grt_sleep_ns(100000);
    /* Its entry: the oldest pending one for this address. (A younger one for the same
     * address means the object was freed and handed out again: its check then fails.) */
    long at = -1;
    for (long i = 0; i < SPAWN_RING; i++)
        if (__atomic_load_n(&spawn_ring[i].pending, __ATOMIC_ACQUIRE) && spawn_ring[i].masked == m &&
            (at < 0 || spawn_ring[i].seq < spawn_ring[at].seq))
            at = i;
    if (at >= 0) {
        tobj_check("gc_rescan_ran", " (child's argument)", (unsigned)spawn_ring[at].seq, o,
                   spawn_ring[at].serial);
        __atomic_store_n(&spawn_ring[at].pending, 0, __ATOMIC_RELEASE);
    } else {
        spawn_unchecked++;
    }
    grt_wg_done(&done);
}

static void spawner(void *arg) {
    (void)arg;
    while (!stop) {
        uint64_t seq = spawned;
        long slot = (long)(seq % SPAWN_RING);
        if (__atomic_load_n(&spawn_ring[slot].pending, __ATOMIC_ACQUIRE)) {
            grt_sleep_ns(20000); /* that child has not checked yet: wait for it */
            continue;
        }
        struct tobj *volatile o = tobj_new();
        spawn_ring[slot].masked = (uintptr_t)o ^ MASK;
        spawn_ring[slot].serial = o->serial;
        spawn_ring[slot].seq = seq;
        __atomic_store_n(&spawn_ring[slot].pending, 1, __ATOMIC_RELEASE);
        grt_wg_add(&done, 1);
        CHECK_EQ(grt_go(child, (void *)o), GRT_OK);
        o = 0;
        spawned = seq + 1;
        grt_sleep_ns(20000);
    }
    grt_wg_done(&done);
}
#endif

static struct gc_stress stress = {0, 500, &stop, &done};

static void main_goroutine(void *arg) {
    (void)arg;
    CHECK_EQ(grt_chan_make(&park, 0, 0), GRT_OK);
    grt_wg_add(&done, 1 + CROWD + MOVERS + 1);
    grt_wg_add(&crowd_down, CROWD);
    /* Created oldest first: keeper, crowd, movers (scanned newest first). */
    CHECK_EQ(grt_go(keeper, 0), GRT_OK);
    while (!keeper_ready) grt_yield();
    for (int i = 0; i < CROWD; i++) CHECK_EQ(grt_go(crowd, 0), GRT_OK);
    CHECK_EQ(grt_wg_wait(&crowd_down), GRT_OK);
    for (uintptr_t i = 0; i < MOVERS; i++) CHECK_EQ(grt_go(mover, (void *)i), GRT_OK);
#ifdef RESCAN_RAN_SPAWN
    grt_wg_add(&done, 1);
    CHECK_EQ(grt_go(spawner, 0), GRT_OK);
#endif
    struct grt_gc_stats before;
    CHECK_EQ(grt_gc_stats(&before), GRT_OK);
    /* gc_stress_collector's loop, on this goroutine, reading the stats after each cycle. */
    (void)gc_stress_collector;
    uint64_t end = grt_nanotime() + stress.ms * 1000000ull;
    uint64_t skipped_max = 0, cycles = 0;
    while (grt_nanotime() < end) {
        for (unsigned k = 0; k < stress.junk; k++) {
            uint64_t *junk = grt_alloc(sizeof(struct tobj));
            for (unsigned w = 0; w < sizeof(struct tobj) / 8; w++) junk[w] = 0x5a5a5a5a5a5a5a5aull;
        }
        CHECK_EQ(grt_gc(), GRT_OK);
        struct grt_gc_stats st;
        CHECK_EQ(grt_gc_stats(&st), GRT_OK);
        if (st.last_stacks_skipped > skipped_max) skipped_max = st.last_stacks_skipped;
        cycles++;
    }
    stop = 1;
    CHECK_EQ(grt_chan_close(park), GRT_OK);
    grt_wg_done(&done);
    CHECK_EQ(grt_wg_wait(&done), GRT_OK);
    struct grt_gc_stats st;
    gc_stress_covered(&st);
    t_put_kv("moves", moves);
    t_put_kv("stacks_rescanned", st.stacks_rescanned - before.stacks_rescanned);
    t_put_kv("stacks_skipped", st.stacks_skipped - before.stacks_skipped);
    t_put_kv("skipped_max", skipped_max);
#ifdef RESCAN_RAN_SPAWN
    t_put_kv("spawned", spawned);
    t_put_kv("spawn_unchecked", spawn_unchecked);
    CHECK(spawned > 0);
    CHECK(spawn_unchecked == 0);
#endif
    t_puts(1, "\n");
    CHECK(moves > 0);
    CHECK(cycles > 0);
    /* The crowd and the keeper, parked throughout, are skipped in some cycle; a cycle can
     * catch a few of them not yet back to sleep after a wakeup of their own (none here). */
    CHECK(skipped_max >= CROWD);
    CHECK(st.stacks_rescanned > before.stacks_rescanned);
    t_puts(1, "ok parked stacks skipped, stacks that ran rescanned\n");
    t_puts(1, "PASS\n");
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    stress.ms = t_env_u64(envp, "GRT_STRESS_MS", RESCAN_RAN_DEFAULT_MS);
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
