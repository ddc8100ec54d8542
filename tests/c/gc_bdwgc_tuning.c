/* grt-test: exit=0 stdout="ok version and init" stdout="ok disable and enable" stdout="ok statistics" stdout="ok size map and big alignments" stdout="ok pointer checks" stdout="ok toggle-refs" stdout="ok threads and signals" stdout="ok settings" stdout="PASS" builds=hosted env="GRTMAXPROCS=2" cflags="-Iinclude/grt-gc"
 *
 * The rest of bdwgc's API through grt's gc.h (what bdwgc's gctest calls), as a bdwgc program
 * uses it:
 * - GC_get_version agrees with GC_VERSION_*; GC_is_init_called after GC_INIT;
 * - GC_disable (nested) stops every cycle, GC_gcollect included, until the last GC_enable;
 *   GC_set_disable_automatic_collection stops the automatic ones only (grt_gc_set_percent
 *   underneath, which returns the previous setting);
 * - statistics: GC_get_total_bytes and GC_get_bytes_since_gc grow by what is allocated,
 *   GC_get_heap_usage_safe and GC_get_prof_stats agree with the getters, and a short
 *   GC_get_prof_stats writes no further than asked;
 * - GC_get_size_map_at(n) is GC_size of a fresh n-byte object (grt_alloc_size) up to 32 KiB,
 *   (size_t)-1 above; GC_memalign
 *   up to 1 MiB gives an object's start, aligned and zeroed;
 * - GC_same_obj calls the print procedure only for two objects; GC_is_visible and
 *   GC_is_valid_displacement give their argument; GC_count_set_marks_in_hblk counts kept
 *   objects;
 * - toggle-refs without a callback keep nothing alive (bdwgc registers nothing then);
 *   GC_is_tmp_root holds for the program's data, not for a stack or the heap;
 * - pthread_sigmask (redirected to GC_pthread_sigmask) never blocks SIGURG, grt's suspend
 *   signal, and collections still stop the thread; GC_set_stackbottom with the thread's own
 *   base keeps it registered; GC_do_blocking, GC_call_with_gc_active;
 * - settings read back what was set.
 */
#define GC_THREADS
#include "gc.h"
#include "gc/gc_mark.h"
#include "private/gc_priv.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...)                             \
    do {                                      \
        fprintf(stderr, "gc_bdwgc_tuning: "); \
        fprintf(stderr, __VA_ARGS__);         \
        fprintf(stderr, "\n");                \
        exit(1);                              \
    } while (0)

static __attribute__((noinline, noipa)) void garbage(size_t bytes) {
    for (size_t n = 0; n < bytes; n += 1024) {
        char *p = GC_MALLOC(1024);
        if (!p) FAIL("out of memory");
        p[0] = 1;
    }
}

static void version_init(void) {
    if (GC_get_version() != ((GC_VERSION_MAJOR << 16) | (GC_VERSION_MINOR << 8) | GC_VERSION_MICRO))
        FAIL("GC_get_version");
    if (!GC_is_init_called()) FAIL("GC_is_init_called is 0 after GC_INIT");
    printf("ok version and init\n");
}

static void disable_enable(void) {
    GC_gcollect(); /* a cycle already under way would finish */
    GC_disable();
    GC_disable();
    if (!GC_is_disabled()) FAIL("GC_is_disabled is 0");
    GC_word before = GC_get_gc_no();
    garbage(64u << 20);
    GC_gcollect();
    GC_enable();
    garbage(16u << 20);
    GC_gcollect();
    if (GC_get_gc_no() != before) FAIL("%lu cycles while disabled", GC_get_gc_no() - before);
    GC_enable();
    if (GC_is_disabled()) FAIL("still disabled after the last GC_enable");
    garbage(64u << 20);
    GC_word after = GC_get_gc_no();
    if (after == before) FAIL("no cycle after GC_enable");
    GC_gcollect();
    GC_set_disable_automatic_collection(1);
    if (!GC_get_disable_automatic_collection()) FAIL("GC_get_disable_automatic_collection");
    before = GC_get_gc_no();
    garbage(64u << 20);
    if (GC_get_gc_no() != before) FAIL("an automatic cycle while they are off");
    GC_gcollect();
    if (GC_get_gc_no() == before) FAIL("GC_gcollect did not collect with automatic cycles off");
    GC_set_disable_automatic_collection(0);
    if (grt_gc_set_percent(50) != 100 || grt_gc_set_percent(100) != 50) FAIL("grt_gc_set_percent");
    printf("ok disable and enable\n");
}

static void statistics(void) {
    GC_gcollect();
    GC_set_disable_automatic_collection(1);
    size_t total0 = GC_get_total_bytes(), since0 = GC_get_bytes_since_gc();
    garbage(8u << 20);
    size_t total1 = GC_get_total_bytes(), since1 = GC_get_bytes_since_gc();
    GC_set_disable_automatic_collection(0);
    printf("stats total=%zu since_gc=%zu heap=%zu use=%lu unmapped=%zu os=%zu\n", total1 - total0,
           since1 - since0, GC_get_heap_size(), (unsigned long)GC_get_memory_use(),
           GC_get_unmapped_bytes(), GC_get_obtained_from_os_bytes());
    /* (An allocation cache's run counts when the cache takes it: a few objects early.) */
    if (total1 - total0 < (7u << 20) || since1 - since0 < (7u << 20))
        FAIL("8 MiB allocated, counted %zu in all, %zu since the cycle", total1 - total0, since1 - since0);
    if (GC_get_memory_use() > GC_get_obtained_from_os_bytes() ||
        GC_get_heap_size() > GC_get_obtained_from_os_bytes())
        FAIL("memory use or heap size above what was mapped");
    GC_word hs, fb, um, bs, tb;
    GC_get_heap_usage_safe(&hs, &fb, &um, &bs, &tb);
    GC_get_heap_usage_safe(NULL, NULL, NULL, NULL, NULL);
    if (tb < total1 || hs == 0) FAIL("GC_get_heap_usage_safe");
    struct GC_prof_stats_s ps;
    if (GC_get_prof_stats(&ps, sizeof ps) != sizeof ps || ps.gc_no != GC_get_gc_no() ||
        ps.allocd_bytes_before_gc + ps.bytes_allocd_since_gc < total1)
        FAIL("GC_get_prof_stats");
    GC_word buf[4] = {7, 7, 7, 7};
    if (GC_get_prof_stats((struct GC_prof_stats_s *)buf, 2 * sizeof(GC_word)) != 2 * sizeof(GC_word) ||
        buf[2] != 7 || buf[3] != 7)
        FAIL("GC_get_prof_stats wrote past the size given");
    (void)GC_get_full_gc_total_time();
    (void)GC_get_avg_stopped_mark_time_ns();
    printf("ok statistics\n");
}

static void size_map_align(void) {
    static const int sizes[] = {0, 1, 15, 16, 17, 100, 1000, 4096, 30000, 32768};
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *p = GC_MALLOC((size_t)sizes[i]);
        if (!p || GC_get_size_map_at(sizes[i]) != GC_size(p))
            FAIL("GC_get_size_map_at(%d) = %zu, GC_size %zu", sizes[i], GC_get_size_map_at(sizes[i]), GC_size(p));
    }
    void *big = GC_MALLOC(40000);
    if (!big || grt_alloc_size(40000) != GC_size(big) || grt_alloc_size(SIZE_MAX) != 0)
        FAIL("grt_alloc_size of large sizes");
    if (GC_get_size_map_at(-1) != (size_t)-1 || GC_get_size_map_at(32769) != (size_t)-1)
        FAIL("GC_get_size_map_at outside the small sizes");
    void *keep[20];
    for (size_t al = 8, k = 0; al <= (1u << 20); al *= 2, k++) {
        unsigned char *p = GC_memalign(al, 17);
        if (!p || (uintptr_t)p % al != 0 || GC_base(p) != p) FAIL("GC_memalign(%zu, 17) gave %p", al, (void *)p);
        for (int b = 0; b < 17; b++)
            if (p[b]) FAIL("GC_memalign(%zu): not zeroed", al);
        memset(p, 0x5a, 17);
        keep[k] = p;
    }
    GC_gcollect();
    for (size_t k = 0; k < 18; k++)
        if (((unsigned char *)keep[k])[16] != 0x5a) FAIL("an aligned object was freed");
    printf("ok size map and big alignments\n");
}

static int same_obj_calls;
static void same_obj_proc(void *p, void *q) {
    (void)p;
    (void)q;
    same_obj_calls++;
}

static void pointer_checks(void) {
    char *x = GC_MALLOC(64), *y = GC_MALLOC(64);
    GC_set_same_obj_print_proc(same_obj_proc);
    if (GC_same_obj(x + 5, x) != x + 5 || same_obj_calls != 0) FAIL("GC_same_obj in one object");
    (void)GC_same_obj(x, y);
    if (same_obj_calls != 1) FAIL("GC_same_obj of two objects did not call the print procedure");
    if (GC_is_visible(y) != y || GC_is_valid_displacement(x + 3) != x + 3) FAIL("pointer checks");
    if (GC_PTR_ADD(x, 3) != x + 3 || GC_base(GC_PTR_ADD(x, 13)) != x) FAIL("GC_PTR_ADD");
    /* Kept objects in one block: counted. */
    void **arr = GC_MALLOC(64 * sizeof(void *));
    for (int i = 0; i < 64; i++) arr[i] = GC_MALLOC(16);
    GC_gcollect();
    if (GC_count_set_marks_in_hblk(arr[0]) == 0) FAIL("GC_count_set_marks_in_hblk found no kept object");
    printf("ok pointer checks\n");
}

static GC_hidden_pointer strong_l[100], weak_l[100];

static __attribute__((noinline, noipa)) void make_toggles(void) {
    for (int i = 0; i < 100; i++) {
        void *s = GC_MALLOC(32), *w = GC_MALLOC(32);
        if (GC_TOGGLEREF_ADD(s, 1) != GC_SUCCESS || GC_TOGGLEREF_ADD(w, 0) != GC_SUCCESS)
            FAIL("GC_toggleref_add");
        strong_l[i] = GC_HIDE_POINTER(s);
        weak_l[i] = GC_HIDE_POINTER(w);
        GC_general_register_disappearing_link((void **)&strong_l[i], s);
        GC_general_register_disappearing_link((void **)&weak_l[i], w);
    }
}

/* With no callback (bdwgc registers nothing then), toggle-refs keep nothing alive. */
static void toggles(void) {
    GC_set_toggleref_func(GC_get_toggleref_func());
    make_toggles();
    for (int c = 0; c < 4; c++) {
        garbage(1u << 20);
        GC_gcollect();
    }
    int strong = 0, weak = 0;
    for (int i = 0; i < 100; i++) {
        strong += strong_l[i] == 0;
        weak += weak_l[i] == 0;
    }
    printf("toggles strong_cleared=%d weak_cleared=%d of 100\n", strong, weak);
    if (strong < 99 || weak < 99) FAIL("toggle-refs kept objects without a callback");
    printf("ok toggle-refs\n");
}

static void *blocking(void *cd) { return cd; }

static void *sig_thread(void *arg) {
    (void)arg;
    sigset_t all, cur;
    sigfillset(&all);
    if (pthread_sigmask(SIG_BLOCK, &all, NULL) != 0) FAIL("pthread_sigmask");
    if (pthread_sigmask(SIG_BLOCK, NULL, &cur) != 0 || sigismember(&cur, SIGURG)) FAIL("SIGURG blocked");
    /* Registered, all else blocked: collections must still stop this thread. */
    for (int i = 0; i < 20; i++) {
        garbage(256u << 10);
        GC_gcollect();
    }
    return NULL;
}

static void threads(void) {
    pthread_t t;
    if (pthread_create(&t, NULL, sig_thread, NULL) != 0) FAIL("pthread_create");
    for (int i = 0; i < 20; i++) GC_gcollect();
    if (pthread_join(t, NULL) != 0) FAIL("pthread_join");
    struct GC_stack_base sb;
    void *me = GC_get_my_stackbottom(&sb);
    if (me == NULL || sb.mem_base == NULL) FAIL("GC_get_my_stackbottom");
    GC_set_stackbottom(me, &sb);
    if (!GC_thread_is_registered()) FAIL("unregistered by GC_set_stackbottom");
    if (GC_do_blocking(blocking, &sb) != &sb || GC_call_with_gc_active(blocking, &sb) != &sb)
        FAIL("GC_do_blocking");
    int local = 0;
    if (!GC_is_tmp_root(&strong_l[0]) || GC_is_tmp_root(&local) || GC_is_tmp_root(GC_MALLOC(8)))
        FAIL("GC_is_tmp_root: the program's data is one, a stack or the heap is not");
    printf("ok threads and signals\n");
}

static void settings(void) {
    GC_set_min_bytes_allocd(1);
    GC_set_rate(7);
    GC_set_free_space_divisor(5);
    GC_set_time_limit(50);
    if (GC_get_min_bytes_allocd() != 1 || GC_get_rate() != 7 || GC_get_free_space_divisor() != 5 ||
        GC_get_time_limit() != 50)
        FAIL("settings");
    GC_set_pointer_mask(GC_get_pointer_mask());
    GC_set_pointer_shift(GC_get_pointer_shift());
    GC_set_suspend_signal(GC_get_suspend_signal());
    if (GC_expand_hp(1u << 20) == 0 || GC_collect_a_little() != 0) FAIL("GC_expand_hp, GC_collect_a_little");
    if (!GC_get_dont_add_byte_at_end() || GC_get_supported_vdbs() != GC_VDB_MPROTECT) FAIL("constants");
    printf("ok settings\n");
}

int main(void) {
    GC_INIT();
    version_init();
    disable_enable();
    statistics();
    size_map_align();
    pointer_checks();
    toggles();
    threads();
    settings();
    printf("PASS\n");
    return 0;
}
