/* grt-test: exit=0 stdout="ok objects stored into globals while the cycle marked live" stdout="PASS" env="GRTMAXPROCS=2" env="GRTGC=off"
 *
 * Stores into globals need no write barrier (grt.h): the collector reads the data and bss
 * at the start of a cycle, again (the pages written since, where the kernel tracks writes:
 * dirtyroots.rs) just before mark termination, and at mark termination only the pages
 * written since that. An object whose only reference is stored into a global after the
 * first read must still be found.
 *
 * Each try: N objects are made, their addresses kept only hidden (xor'ed with a mask) in a
 * global, each with a weak pointer. A mover goroutine waits until the cycle marks (the
 * write barrier is on), waits DELAY_A, and stores the addresses, revealed, into slots of a
 * 1 MiB table in the bss, one page apart (the table is big enough that mark termination
 * lists its written pages instead of reading it whole). The main goroutine runs the cycle
 * (grt_gc), and then every object must live: its weak pointer still set, its stamp intact.
 * A try whose stores came after the cycle (the barrier off when the mover looked) is
 * repeated, up to MAX_TRIES. A binary tree hanging from another global makes the marking
 * last long enough. (N objects, not one: a conservative collector may keep one through a
 * stale word somewhere, a goroutine's saved registers say, and the teeth must still see
 * losses.)
 *
 * Group E is the same with a 4 MiB range of mmap'd memory registered with grt_add_roots:
 * stored together with A here, with B in gc_rootwp_widen.c. gc_rootwp_remap.c first maps
 * fresh memory over the range (the new mapping is not write-tracked: mark termination must
 * notice, and read the range whole); gc_rootwp_readd.c stores group E in the first window,
 * removes the range and adds it back in the second (mark termination must read it whole).
 *
 * Where the kernel tracks the writes (grt_gc_stats' roots_tracked: Linux 6.7, natively; not
 * under qemu-user, which lacks userfaultfd), mark termination must have read less than all
 * of the data, bss and registered roots, and less than all of it but the root range's size
 * (the root range, 4 MiB, four times the table, was not read whole: its pages were listed).
 *
 * gc_rootwp_widen.c (GRTDEBUG=gcrootswiden=1): the collector sleeps 20 ms after its first
 * read of the roots and again after the re-read before mark termination. Group A is
 * stored in the first window (the re-read finds it), group B in the second (only mark
 * termination finds it: where writes are tracked, by listing the pages as written), and
 * group C in the second too, by read(2) from a pipe straight into the table: a store by the
 * kernel, which the tracking must see too (mprotect-based tracking would make that read fail
 * with EFAULT). Group D is sent, in the second window too, into a buffered channel, which
 * mark termination does not read (the collector read the buffers once, before the window;
 * every store into a buffer goes through the channel's write barrier); it is received into
 * the table after the cycle. Teeth: gc_rootwp_teeth.c adds gcnorootrescan=1 (neither re-read
 * happens, and mark termination reads neither the data and bss nor the registered roots): A,
 * B, C and E are lost; gc_rootwp_chan_teeth.c adds gcnochanbarrier=1: D is lost.
 */
#include "gc_tobj.h"
#include "tsys.h"
#if WIDEN
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#endif

#ifndef WIDEN
#define WIDEN 0
#endif
#ifndef READD
#define READD 0
#endif
#ifndef REMAP
#define REMAP 0
#endif

#define TABLE_WORDS (1 << 17) /* 1 MiB */
#define N 32                        /* objects per group, each on a page of its own */
/* A, B (plain stores), C (read(2) into the table), D (through a channel's buffer), E (plain
 * stores into a registered root range) */
#define GROUPS 6
#define E 4
#define F 5 /* gc_rootwp_remap.c: stored through a second mapping of a shared root range */
/* 4 MiB of mmap'd memory, registered with grt_add_roots: more than the table and the rest of
 * the data and bss together, so that reading it whole shows in the bytes mark termination
 * read. */
#define ROOT_WORDS (1 << 19)
/* Group E's slots in it, a page apart. */
#define ROOT_SLOT(i) (11 + (i) * 512)
/* Group A and B slots a page apart; group C's side by side (one read(2) fills them), and
 * group D's (received there after the cycle). */
#define SLOT(g, i)                                                                  \
    ((g) == 0   ? TABLE_WORDS / 2 + 3 + (i) * 512                                   \
     : (g) == 1 ? TABLE_WORDS / 4 + 5 + (i) * 512                                   \
     : (g) == 2 ? TABLE_WORDS - 2 * N + (i)                                         \
                : TABLE_WORDS / 8 + 7 + (i))
#define MASK 0x5a5a5a5a5a5a5a5aull
#define STR_(x) #x
#define STR(x) STR_(x)
#define MAX_TRIES 10
#define DEPTH 18 /* 2^18 - 1 nodes of 32 bytes: 8 MiB to mark */
#if WIDEN
#define DELAY_A_NS 1000000 /* into the 20 ms windows, once they opened */
#define DELAY_B_NS 1000000
#else
#define DELAY_A_NS 200000
#endif

struct node {
    struct node *left, *right;
    uint64_t pad[2];
};

static void *table[TABLE_WORDS];
static struct node *volatile tree; /* volatile: written only, and kept */
static void **rootbuf;              /* ROOT_WORDS of mmap'd memory, a registered root range */
#if REMAP
/* ROOT_WORDS of shared memory, a registered root range, and a second mapping of it. */
static void **rootshared, **rootalias;
#endif
static volatile uintptr_t hidden[GROUPS][N];
static uint64_t serial[GROUPS][N];
static grt_weak *weak[GROUPS][N];
static volatile int mover_done, stored_a_marking, stored_b_marking;
#if WIDEN
static grt_chan *buffered; /* N slots of a pointer: group D waits there through the cycle */
#endif

static struct node *build(int depth) {
    struct node *n = grt_alloc(sizeof *n);
    CHECK(n != 0);
    if (depth > 1) {
        n->left = build(depth - 1);
        n->right = build(depth - 1);
    }
    return n;
}

/* A new object, known afterwards only hidden, by serial and through a weak pointer: the
 * plain address lives only in this frame, below the caller's stack pointer once it returns. */
static __attribute__((noinline, noipa)) uintptr_t make_hidden(uint64_t *serial, grt_weak **weak) {
    struct tobj *o = tobj_new();
    *serial = o->serial;
    *weak = grt_weak_make(o);
    CHECK(*weak != 0);
    return (uintptr_t)o ^ MASK;
}

/* Garbage of the objects' size: the allocation cache's run that holds them is used up, so
 * that the cycle does not keep them as part of the run the cache holds (as gc_weak does). */
static __attribute__((noinline, noipa)) void churn(void) {
    for (int i = 0; i < 2000; i++) (void)tobj_new();
}

/* Zeroes the stack below the caller's frame, where make_hidden and the allocator left the
 * plain address: later calls (grt_gc's frames) would leave those slots as they are, and the
 * collector reads a stack conservatively, stale slots too. */
static __attribute__((noinline, noipa)) void scrub(void) {
    volatile char buf[32 << 10];
    for (unsigned i = 0; i < sizeof buf; i++) buf[i] = 0;
}

/* The store into a global: the revealed address exists only in a scratch register here. */
static __attribute__((noinline, noipa)) void publish(unsigned slot, uintptr_t hidden) {
    table[slot] = (void *)(hidden ^ MASK);
}

/* The same into a registered root range (groups E and F). */
static __attribute__((noinline, noipa)) void publish_root(void **base, unsigned slot,
                                                           uintptr_t hidden) {
    base[slot] = (void *)(hidden ^ MASK);
}

/* The memory that holds group g. (Group F's objects are made in every variant, but only
 * gc_rootwp_remap.c stores them; elsewhere their slots are unused words of the table.) */
static void **base_of(int g) {
#if REMAP
    if (g == F) return rootshared;
#endif
    return g == E ? rootbuf : table;
}

/* Where group g's object i is kept. */
static void **slot_of(int g, int i) {
    return g == E || g == F ? &base_of(g)[ROOT_SLOT(i)] : &table[SLOT(g, i)];
}

/* Zero in every argument register: where publish left the plain address (x86_64 rsi,
 * aarch64 x1), so that no later spill of a caller-saved register can copy it to the stack. */
static __attribute__((noinline, noipa)) void clobber(uintptr_t a, uintptr_t b, uintptr_t c,
                                                      uintptr_t d, uintptr_t e, uintptr_t f) {
    __asm__ volatile("" ::"r"(a), "r"(b), "r"(c), "r"(d), "r"(e), "r"(f));
}

static void forget(void) {
    clobber(0, 0, 0, 0, 0, 0);
    scrub();
}

#if REMAP
/* gc_rootwp_remap.c: fresh memory mapped over the registered root range (mmap MAP_FIXED, as
 * an arena is reset), which the kernel's write tracking does not cover, before group E is
 * stored into it. */
static void remap_roots(void) {
    CHECK(t_mmap_anon(rootbuf, ROOT_WORDS * sizeof *rootbuf) == rootbuf);
}
#endif

/* Group g (E or F): plain stores into a registered root range, at `base` (F: through the
 * second mapping of the shared range). */
static void store_roots(int g, void **base) {
    for (int i = 0; i < N; i++) {
        publish_root(base, ROOT_SLOT(i), hidden[g][i]);
        hidden[g][i] = 0;
    }
    forget();
}

static struct grt_gc_stats stats(void) {
    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    return st;
}

static uint64_t cycles0;

#if WIDEN
uint64_t grt_test_roots_windows(void); /* test-only build: gcrootswiden's windows opened */

/* Until gcrootswiden's window number `w` (counted from `w0`) opens, or the cycle is over. */
static void await_window(uint64_t w0, uint64_t w) {
    while (grt_test_roots_windows() < w0 + w && stats().cycles == cycles0) grt_sleep_ns(100000);
}
#endif

#if WIDEN
/* Group C reaches the table through the kernel: revealed into malloc'd memory (not a root),
 * written to a pipe, read back with read(2) straight into the table (a store by the kernel,
 * which the write tracking must see as one by the program). */
static void through_kernel(void) {
    int fd[2];
    CHECK(pipe(fd) == 0);
    uintptr_t *buf = malloc(N * sizeof *buf);
    CHECK(buf != 0);
    for (int i = 0; i < N; i++) {
        buf[i] = hidden[2][i] ^ MASK;
        hidden[2][i] = 0;
    }
    CHECK(write(fd[1], buf, N * sizeof *buf) == (ssize_t)(N * sizeof *buf));
    memset(buf, 0, N * sizeof *buf);
    free(buf);
    forget();
    CHECK(read(fd[0], &table[SLOT(2, 0)], N * sizeof *buf) == (ssize_t)(N * sizeof *buf));
    close(fd[0]);
    close(fd[1]);
}

/* Group D: the revealed address exists only in this frame's element, copied into the buffer. */
static __attribute__((noinline, noipa)) void send_one(uintptr_t hidden) {
    void *elem = (void *)(hidden ^ MASK);
    CHECK_EQ(grt_chan_send(buffered, &elem), GRT_OK);
}
#endif

static void mover(void *arg) {
    (void)arg;
#if WIDEN
    uint64_t w0 = grt_test_roots_windows();
    await_window(w0, 1);
#else
    /* Until the cycle main asked for marks (or is over already: the try is repeated). */
    while (!grt_gc_wbenabled && stats().cycles == cycles0) grt_yield();
#endif
    grt_sleep_ns(DELAY_A_NS);
    for (int i = 0; i < N; i++) {
        publish(SLOT(0, i), hidden[0][i]);
        hidden[0][i] = 0;
    }
    forget();
#if !WIDEN
    store_roots(E, rootbuf);
#endif
#if READD
    /* gc_rootwp_readd.c: group E stored in the first window, and the range removed (the
     * re-read before mark termination does not read it then), then added back in the
     * second: mark termination must read it whole. */
    store_roots(E, rootbuf);
    CHECK_EQ(grt_remove_roots(rootbuf, rootbuf + ROOT_WORDS), 1);
#endif
    stored_a_marking = grt_gc_wbenabled;
#if WIDEN
    stored_a_marking &= grt_test_roots_windows() == w0 + 1;
    await_window(w0, 2);
    grt_sleep_ns(DELAY_B_NS);
    for (int i = 0; i < N; i++) {
        publish(SLOT(1, i), hidden[1][i]);
        hidden[1][i] = 0;
    }
    forget();
    through_kernel();
    for (int i = 0; i < N; i++) {
        send_one(hidden[3][i]);
        hidden[3][i] = 0;
    }
    forget();
#if REMAP
    remap_roots();
    store_roots(F, rootalias);
#endif
#if READD
    CHECK_EQ(grt_add_roots(rootbuf, rootbuf + ROOT_WORDS), GRT_OK);
#else
    store_roots(E, rootbuf);
#endif
    stored_b_marking = grt_gc_wbenabled && grt_test_roots_windows() == w0 + 2;
#endif
    mover_done = 1;
}

/* Every object of a group must live: its weak pointer set, its stamp intact. Returns how
 * many were lost (and says so on stderr). */
static int check_group(const char *which, int g) {
    int lost = 0;
    for (int i = 0; i < N; i++) {
        struct tobj *o = *slot_of(g, i);
        if (grt_weak_get(weak[g][i]) != o)
            lost++;
        else
            tobj_check("gc_rootwp", g == E || g == F ? " (a registered root)" : " (a global)",
                       (uint64_t)(slot_of(g, i) - base_of(g)), o, serial[g][i]);
    }
    if (lost) {
        t_puts(2, "gc_rootwp: group ");
        t_puts(2, which);
        t_puts(2, ": ");
        t_putu(2, (uint64_t)lost, 10);
        t_puts(2, g == 3   ? " of " STR(N) " objects sent into a channel's buffer while the "
                             "cycle marked were lost (their weak pointers were cleared although "
                             "the buffer held them)\n"
                  : g == E ? " of " STR(N) " objects stored into a registered root range while "
                             "the cycle marked were lost (their weak pointers were cleared "
                             "although the range holds them)\n"
                  : g == F ? " of " STR(N) " objects stored into a shared registered root range "
                             "through a second mapping of it while the cycle marked were lost "
                             "(their weak pointers were cleared although the range holds them)\n"
                           : " of " STR(N) " objects stored into globals while the cycle marked "
                             "were lost (their weak pointers were cleared although the globals "
                             "hold them)\n");
    }
    return lost;
}

static void main_goroutine(void *arg) {
    (void)arg;
    tree = build(DEPTH);
    rootbuf = t_mmap_anon(0, ROOT_WORDS * sizeof *rootbuf);
    CHECK(rootbuf != 0);
    CHECK_EQ(grt_add_roots(rootbuf, rootbuf + ROOT_WORDS), GRT_OK);
#if REMAP
    rootshared = t_mmap_shared_twice(ROOT_WORDS * sizeof *rootshared, (void **)&rootalias);
    CHECK(rootshared != 0);
    CHECK_EQ(grt_add_roots(rootshared, rootshared + ROOT_WORDS), GRT_OK);
#endif
#if WIDEN
    CHECK_EQ(grt_chan_make(&buffered, sizeof(void *), N), GRT_OK);
#endif
    struct grt_gc_stats st;
    int tries = 0, caught = 0;
    while (!caught && tries < MAX_TRIES) {
        tries++;
        for (int g = 0; g < GROUPS; g++)
            for (int i = 0; i < N; i++) hidden[g][i] = make_hidden(&serial[g][i], &weak[g][i]);
        churn();
        scrub();
        mover_done = stored_a_marking = stored_b_marking = 0;
        cycles0 = stats().cycles;
        CHECK_EQ(grt_go(mover, 0), GRT_OK);
        CHECK_EQ(grt_gc(), GRT_OK);
        while (!mover_done) grt_sleep_ns(100000);
        CHECK_EQ(grt_gc_stats(&st), GRT_OK);
        caught = stored_a_marking && (!WIDEN || stored_b_marking);
#if WIDEN
        /* Group D out of the buffer, in the order sent (a try that was not caught too, so
         * that the buffer is empty for the next). */
        for (int i = 0; i < N; i++) CHECK_EQ(grt_chan_recv(buffered, &table[SLOT(3, i)]), GRT_OK);
#endif
        if (caught) {
            int lost = check_group("A", 0) + check_group("E", E);
            if (WIDEN) lost += check_group("B", 1) + check_group("C", 2) + check_group("D", 3);
            if (REMAP) lost += check_group("F", F);
            if (lost) grt_exit(1);
        }
        for (int g = 0; g < GROUPS; g++)
            for (int i = 0; i < N; i++) {
                *slot_of(g, i) = 0;
                CHECK_EQ(grt_weak_free(weak[g][i]), GRT_OK);
            }
    }
    t_puts(1, "cycles");
    t_put_kv("tried", (uint64_t)tries);
    t_put_kv("roots_tracked", st.roots_tracked);
    t_put_kv("data_bytes", st.last_data_bytes);
    t_put_kv("data_rescanned_bytes", st.last_data_rescanned_bytes);
    t_puts(1, "\n");
    if (!caught) {
        t_puts(2, "gc_rootwp: no store landed while a cycle marked\n");
        grt_exit(1);
    }
    if (st.last_data_bytes < sizeof table) {
        t_puts(2, "gc_rootwp: mark termination saw less data and bss than the table holds\n");
        grt_exit(1);
    }
    if (st.last_data_bytes < sizeof table + ROOT_WORDS * sizeof *rootbuf) {
        t_puts(2, "gc_rootwp: mark termination saw less data, bss and roots than the table and "
                  "the root range hold\n");
        grt_exit(1);
    }
    /* Tracked, it did not read the root range whole: less than all but the root range's size.
     * After the remap it must have read both root ranges whole (the shared one always is). */
    if (READD && st.roots_tracked && st.last_data_rescanned_bytes < ROOT_WORDS * sizeof *rootbuf) {
        t_puts(2, "gc_rootwp: a root range was removed and added back while the cycle marked, "
                  "yet mark termination did not read it whole\n");
        grt_exit(1);
    }
    if (REMAP && st.roots_tracked &&
        st.last_data_rescanned_bytes < 2 * ROOT_WORDS * sizeof *rootbuf) {
        t_puts(2, "gc_rootwp: memory was mapped over a registered root range while the cycle "
                  "marked, yet mark termination did not read the range whole\n");
        grt_exit(1);
    }
    if (!REMAP && !READD && st.roots_tracked &&
        st.last_data_rescanned_bytes >= st.last_data_bytes - ROOT_WORDS * sizeof *rootbuf) {
        t_puts(2, "gc_rootwp: writes are tracked, yet mark termination read as much as all the "
                  "data and bss, or the registered root range whole\n");
        grt_exit(1);
    }
    t_puts(1, "ok objects stored into globals while the cycle marked live\n");
    t_puts(1, "PASS\n");
}

int main(void) { return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1; }
