/* grt-test: exit=0 stdout="ok plain stores lose nothing" stdout="ok grt_read into protected pages" stdout="PASS" stderr="grt: grt_gc_set_plain_stores:" env="GRTMAXPROCS=2"
 *
 * Plain-store mode (grt_gc_set_plain_stores, gc/dirty.rs): pointers stored into heap objects
 * with ordinary assignments, no GRT_STORE, while cycles mark concurrently, are not lost. This
 * file runs the protect form; gc_plainstore_rescan.c the rescan form, gc_plainstore_kernel.c
 * the kernel form.
 *
 * Two heap tables A and B (grt_alloc'd, NSLOT slots each, a tracked object and its serial per
 * slot) hang from globals. NMUT mutator goroutines each own every NMUT-th slot and swap
 * random slots of A and B with plain stores, and now and then put a fresh object in a slot
 * (the old one becomes garbage, so freed memory is handed out again). An object moved from
 * the table the collector has not scanned yet into the one it has scanned is reachable only
 * through the scanned one: without a barrier, only the rescan of written pages at mark
 * termination finds it. The main goroutine runs grt_gc back to back for GRT_STRESS_MS
 * (default 1.5 s). Every slot is checked when it is touched and all of them at the end; a
 * lost object is caught by its serial once reused (tobj_check: "was freed while reachable").
 *
 * Then grt_read into a heap buffer that may hold pointers (write-protected while a cycle
 * marks) must work: grt makes the pages writable before the system call.
 *
 * Teeth: gc_plainstore_teeth.c (GRTDEBUG=gcnodirty=1: no page is protected or rescanned) must
 * die with "was freed while reachable".
 */
#include "gc_tobj.h"
#include "tsys.h"

#ifndef PLAIN_MODE
#define PLAIN_MODE GRT_PLAIN_STORES_PROTECT
#endif

#define NOINLINE __attribute__((noinline, noipa))
#define NMUT 2
#define NSLOT 8192

struct slot {
    struct tobj *o;
    uint64_t serial;
};

static struct slot *A, *B; /* heap tables, reachable from here */
static volatile int stop;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;
static uint64_t deadline_ms;
static uint64_t swaps[NMUT], fresh[NMUT];

static void check(const char *which, unsigned i, const struct slot *s) {
    tobj_check("gc_plainstore", which, i, s->o, s->serial);
}

/* A plain swap of two slots (what a bdwgc program does): no barrier. */
static NOINLINE void swap(struct slot *x, struct slot *y) {
    struct slot t = *x;
    *x = *y;
    *y = t;
}

static void mutator(void *arg) {
    unsigned id = (unsigned)(uintptr_t)arg;
    uint64_t rng = 0x9e3779b97f4a7c15ull * (id + 1);
    uint64_t n = 0;
    while (!stop) {
        unsigned i = (unsigned)(tobj_rnd(&rng) % (NSLOT / NMUT)) * NMUT + id;
        unsigned j = (unsigned)(tobj_rnd(&rng) % (NSLOT / NMUT)) * NMUT + id;
        check(" (table A)", i, &A[i]);
        check(" (table B)", j, &B[j]);
        swap(&A[i], &B[j]);
        swaps[id]++;
        if (tobj_rnd(&rng) % 8 == 0) {
            struct tobj *o = tobj_new();
            struct slot *s = (tobj_rnd(&rng) & 1) ? &A[i] : &B[j];
            s->o = o; /* plain */
            s->serial = o->serial;
            fresh[id]++;
        }
        if (++n % 1024 == 0) CHECK_EQ(grt_yield(), GRT_OK);
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static NOINLINE void fill(struct slot *t) {
    for (unsigned i = 0; i < NSLOT; i++) {
        struct tobj *o = tobj_new();
        t[i].o = o;
        t[i].serial = o->serial;
    }
}

/* The writer end of the pipe for the grt_read part. */
static int pfd[2];
#define READ_ROUNDS 2000
#define READ_BYTES 20000 /* spans several pages */

static void writer(void *arg) {
    (void)arg;
    static unsigned char buf[READ_BYTES];
    for (int r = 0; r < READ_ROUNDS; r++) {
        for (int k = 0; k < READ_BYTES; k++) buf[k] = (unsigned char)(r + k);
        CHECK_EQ(grt_write(pfd[1], buf, READ_BYTES, 0), READ_BYTES);
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void collector(void *arg) {
    (void)arg;
    while (!stop) CHECK_EQ(grt_gc(), GRT_OK);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static NOINLINE void read_into_heap(void) {
    CHECK_EQ(t_pipe(pfd), 0);
    /* A heap object that may hold pointers: its pages are protected while cycles mark. */
    unsigned char **holder = grt_alloc(sizeof *holder);
    unsigned char *buf = grt_alloc(READ_BYTES + 64);
    CHECK(holder != 0 && buf != 0);
    *holder = buf;
    stop = 0;
    CHECK_EQ(grt_wg_add(&wg, 2), GRT_OK);
    CHECK_EQ(grt_go(writer, 0), GRT_OK);
    CHECK_EQ(grt_go(collector, 0), GRT_OK);
    for (int r = 0; r < READ_ROUNDS; r++) {
        long got = 0;
        while (got < READ_BYTES) {
            long n = grt_read(pfd[0], buf + got, (size_t)(READ_BYTES - got), 0);
            if (n <= 0) {
                t_puts(2, "gc_plainstore: grt_read into a heap buffer failed: ");
                t_putu(2, (unsigned long long)-n, 10);
                t_puts(2, " (errno ");
                t_putu(2, (unsigned long long)grt_errno(), 10);
                t_puts(2, ")\n");
                grt_exit(1);
            }
            got += n;
        }
        for (int k = 0; k < READ_BYTES; k++) CHECK_EQ(buf[k], (unsigned char)(r + k));
    }
    stop = 1;
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(grt_fd_close(pfd[0]), GRT_OK);
    CHECK_EQ(grt_fd_close(pfd[1]), GRT_OK);
}

static void main_g(void *arg) {
    (void)arg;
    CHECK_EQ(grt_gc_set_plain_stores(4), GRT_EINVAL);
    CHECK_EQ(grt_gc_set_plain_stores(PLAIN_MODE), GRT_OK);
    CHECK_EQ(grt_gc_plain_stores(), PLAIN_MODE);
    A = grt_alloc(NSLOT * sizeof *A);
    B = grt_alloc(NSLOT * sizeof *B);
    CHECK(A != 0 && B != 0);
    fill(A);
    fill(B);
    CHECK_EQ(grt_wg_add(&wg, NMUT), GRT_OK);
    for (unsigned id = 0; id < NMUT; id++) CHECK_EQ(grt_go(mutator, (void *)(uintptr_t)id), GRT_OK);
    uint64_t end = grt_nanotime() + deadline_ms * 1000000ull;
    while (grt_nanotime() < end) CHECK_EQ(grt_gc(), GRT_OK);
    stop = 1;
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(grt_gc(), GRT_OK);
    CHECK_EQ(grt_gc(), GRT_OK);
    for (unsigned i = 0; i < NSLOT; i++) {
        check(" (table A, at the end)", i, &A[i]);
        check(" (table B, at the end)", i, &B[i]);
    }
    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    uint64_t nswaps = 0, nfresh = 0;
    for (int id = 0; id < NMUT; id++) nswaps += swaps[id], nfresh += fresh[id];
    t_puts(1, "covered:");
    t_put_kv("cycles", st.cycles);
    t_put_kv("swaps", nswaps);
    t_put_kv("fresh", nfresh);
    t_put_kv("dirty_faults", st.dirty_faults);
    t_put_kv("dirty_ranges_rescanned", st.dirty_ranges_rescanned);
    t_put_kv("dirty_full_rescans", st.dirty_full_rescans);
    t_put_kv("dirty_kernel_cycles", st.dirty_kernel_cycles);
    t_puts(1, "\n");
    CHECK(st.cycles >= 3);
    /* Protect: pages were protected and written ones rescanned, or (where faulting stores do
     * not restart exactly) every cycle rescanned all marked objects. Rescan: the latter.
     * Kernel: no signal; where the kernel can track writes (asked here with a userfaultfd of
     * the test's own), every cycle (but the one under way at the start) was tracked, pages
     * written were rescanned, and hardly any cycle (one whose listing failed) rescanned
     * everything; where it cannot, no cycle was tracked, as rescan. */
    if (PLAIN_MODE == GRT_PLAIN_STORES_PROTECT)
        CHECK(st.dirty_faults > 0 || st.dirty_full_rescans >= 3);
    else if (PLAIN_MODE == GRT_PLAIN_STORES_KERNEL && t_kernel_tracks_writes())
        CHECK(st.dirty_faults == 0 && st.dirty_kernel_cycles >= 3 && st.dirty_ranges_rescanned > 0 &&
              st.dirty_kernel_cycles + 1 >= st.cycles &&
              st.dirty_full_rescans * 10 < st.dirty_kernel_cycles);
    else if (PLAIN_MODE == GRT_PLAIN_STORES_KERNEL)
        CHECK(st.dirty_faults == 0 && st.dirty_kernel_cycles == 0 && st.dirty_full_rescans >= 3);
    else
        CHECK(st.dirty_faults == 0 && st.dirty_full_rescans >= 3);
    t_puts(1, "ok plain stores lose nothing\n");

    read_into_heap();
    t_puts(1, "ok grt_read into protected pages\n");
    t_puts(1, "PASS\n");
}

/* GRT_STRESS_MS=n in the environment: run the swaps n ms. */
int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    deadline_ms = t_env_u64(envp, "GRT_STRESS_MS", 1500);
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    return 0;
}
