/*
 * The globals benchmark of `cargo xtask bench gc` (xtask/src/bench_gc.rs): the pause of a
 * program whose data and bss are large. grt reads the data and bss again at mark
 * termination (stores into globals need no barrier); where the kernel tracks stores into
 * them (gc/dirtyroots.rs) it reads only the pages written since its last read.
 *
 *   gc_data_bench [cycles]        default: 20 cycles
 *   gc_data_bench_mapped [cycles] mapped
 *
 * Built with -DMAPPED (gc_data_bench_mapped, the registered roots benchmark), the table is
 * not in the bss but in memory from mmap registered with grt_add_roots (bdwgc's
 * GC_add_roots), which mark termination reads again the same way; the argument `mapped`
 * must be given, and is refused otherwise (Go's program takes it too, and puts its table
 * on its heap then).
 *
 * A table of pointers in the bss (TABLE_MIB, 64 MiB, every slot set) points into a pool of
 * POOL 16-byte objects. A writer goroutine stores WRITES_PER_MS pointers a millisecond into
 * the table, in order, round and round (a log, a ring buffer: a few pages a millisecond).
 * The main goroutine runs `cycles` grt_gc() back to back (GRTGC=off: the only cycles). xtask
 * runs it with GRTMAXPROCS=2, with tracking (the default) and without
 * (GRTDEBUG=gcnorootwp=1), and the same program in Go (tests/bench/go/gcdata). At the end
 * every slot must point to a pool object whose stamp is intact. A damaged object, or a
 * failing call: exit 1.
 *
 * One line on stdout:
 *
 *   gc_data collector=grt where=<bss|mapped> table_bytes=<n> cycles=<n> procs=<n>
 *           cycle_pause_ns_median=<n>
 *           cycle_pause_ns_max=<n> markterm_ns_median=<n> roots_ns_median=<n>
 *           data_bytes=<n> data_read_bytes_median=<n> roots_tracked=<0|1> check=ok
 *
 *   cycle_pause_ns_*      a cycle's stop-the-world pauses together (both), median and most
 *   markterm_ns_median    mark termination's pause
 *   roots_ns_median       of it: data and bss, registered roots
 *   data_bytes            the data and bss and registered roots mark termination had to
 *                         cover
 *   data_read_bytes_median  of them, what it read
 *
 * Build: gcc -O2 -fno-omit-frame-pointer -Iinclude gc_data_bench.c libgrt.a -lpthread
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_NAME "gc_data_bench"
#include "bench.h"

#define TABLE_MIB 64
#define WORDS ((size_t)TABLE_MIB << 17)
#define DEFAULT_CYCLES 20
#define POOL 65536
#define WRITES_PER_MS 1000
#define STAMP 0x6d617461000000ull

struct obj {
    uint64_t stamp, pad;
};

#ifdef MAPPED
#include <sys/mman.h>
static struct obj **table; /* WORDS, mmap'd, a registered root range */
#define WHERE "mapped"
#else
static struct obj *table[WORDS]; /* in the bss */
#define WHERE "bss"
#endif
#define TABLE_BYTES (WORDS * sizeof(struct obj *))
static struct obj *pool_first; /* the pool is reachable from the table alone, but for this */
static volatile int stop_writer, writer_done;

static void writer(void *arg) {
    (void)arg;
    size_t pos = 0;
    while (!stop_writer) {
        for (int k = 0; k < WRITES_PER_MS; k++) {
            /* A plain store: globals need no barrier. */
            table[pos] = table[(pos * 7 + 1) % WORDS];
            pos = pos + 1 == WORDS ? 0 : pos + 1;
        }
        grt_sleep_ns(1000000);
    }
    writer_done = 1;
}

struct args {
    int cycles;
};

static void main_goroutine(void *arg) {
    struct args *a = arg;
    struct obj **pool = malloc(POOL * sizeof *pool);
    uint64_t *pause = calloc((size_t)a->cycles, sizeof(uint64_t));
    uint64_t *mt = calloc((size_t)a->cycles, sizeof(uint64_t));
    uint64_t *roots = calloc((size_t)a->cycles, sizeof(uint64_t));
    uint64_t *read = calloc((size_t)a->cycles, sizeof(uint64_t));
    if (!pool || !pause || !mt || !roots || !read)
        die("out of memory");
#ifdef MAPPED
    table = mmap(NULL, TABLE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (table == MAP_FAILED)
        die("mmap failed");
    CHECK(grt_add_roots(table, table + WORDS));
#endif
    for (int i = 0; i < POOL; i++) {
        pool[i] = grt_alloc(sizeof(struct obj));
        if (pool[i] == NULL)
            die("grt_alloc returned NULL");
        pool[i]->stamp = STAMP + (uint64_t)i;
    }
    for (size_t i = 0; i < WORDS; i++) table[i] = pool[i % POOL];
    pool_first = pool[0];
    free(pool); /* malloc memory is not a root: from here on the table holds the pool */
    CHECK(grt_go(writer, 0));
    struct grt_gc_stats s0, s, prev;
    CHECK(grt_gc()); /* the set-up's garbage and first sweep out of the way */
    CHECK(grt_gc_stats(&s0));
    prev = s0;
    for (int i = 0; i < a->cycles; i++) {
        CHECK(grt_gc());
        CHECK(grt_gc_stats(&s));
        pause[i] = s.pause_total_ns - prev.pause_total_ns;
        mt[i] = s.last_markterm_ns;
        roots[i] = s.last_roots_ns;
        read[i] = s.last_data_rescanned_bytes;
        prev = s;
    }
    stop_writer = 1;
    while (!writer_done) grt_sleep_ns(100000);
    if (s.cycles - s0.cycles != (uint64_t)a->cycles)
        die("cycles ran beyond the ones asked for (GRTGC not off?)");
    for (size_t i = 0; i < WORDS; i++) {
        const struct obj *o = table[i];
        if (o == NULL || o->stamp < STAMP || o->stamp >= STAMP + POOL)
            die("a pool object reachable from the table was freed");
    }
    qsort(pause, (size_t)a->cycles, sizeof *pause, cmp_u64);
    qsort(mt, (size_t)a->cycles, sizeof *mt, cmp_u64);
    qsort(roots, (size_t)a->cycles, sizeof *roots, cmp_u64);
    qsort(read, (size_t)a->cycles, sizeof *read, cmp_u64);
    int m = a->cycles / 2;
    printf("gc_data collector=grt where=" WHERE " table_bytes=%zu cycles=%d procs=%d "
           "cycle_pause_ns_median=%llu "
           "cycle_pause_ns_max=%llu markterm_ns_median=%llu roots_ns_median=%llu "
           "data_bytes=%llu data_read_bytes_median=%llu roots_tracked=%llu check=ok\n",
           TABLE_BYTES, a->cycles, grt_maxprocs(), (unsigned long long)pause[m],
           (unsigned long long)pause[a->cycles - 1], (unsigned long long)mt[m],
           (unsigned long long)roots[m], (unsigned long long)s.last_data_bytes,
           (unsigned long long)read[m], (unsigned long long)s.roots_tracked);
    fflush(stdout);
    free(pause);
    free(mt);
    free(roots);
    free(read);
}

int main(int argc, char **argv) {
    struct args a = {DEFAULT_CYCLES};
    if (argc > 1)
        a.cycles = atoi(argv[1]);
#ifdef MAPPED
    int where_ok = argc == 3 && strcmp(argv[2], "mapped") == 0;
#else
    int where_ok = argc <= 2;
#endif
    if (!where_ok || a.cycles < 1 || a.cycles > 1000) {
#ifdef MAPPED
        fprintf(stderr, "usage: gc_data_bench_mapped cycles (1-1000) mapped\n");
#else
        fprintf(stderr, "usage: gc_data_bench [cycles (1-1000)]\n");
#endif
        return 2;
    }
    CHECK(grt_main(main_goroutine, &a));
    return 0;
}
