/* grt-test: exit=0 stdout="ok never preempted inside libc or grt" stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=asyncpreempt=1"
 *
 * Asynchronous preemption happens only in the program's own code. Three goroutines loop: one
 * in its own code only, one that spends most of its time in memcmp and memset (libc's, or
 * grt's assembly in the freestanding build), one that calls grt back to back (grt_nanotime,
 * grt_alloc). A driver asks for the preemption of each every 100 us (grt_test_preempt). The
 * loops live in their own section ("ownspin"); every pc a goroutine was preempted at
 * (grt_test_preempted_pcs) must lie in it (or in the executable's PLT stubs, which jump to
 * libc: the program's own linkage code), never in libc, in grt's code or assembly. The
 * refusals are counted (grt_preempt_stats) and must have happened. Teeth
 * (sched_async_refuse_teeth.c, GRTDEBUG=asyncpreemptanywhere=1): without the checks of where
 * the pc is, the goroutines are preempted inside memcmp or memset.
 */
#include "check.h"

#include <string.h>
#if __STDC_HOSTED__
#include <elf.h>
#include <fcntl.h>
#include <unistd.h>
#endif

int grt_test_preempt(uint64_t goid);
int grt_test_preempted_pcs(uint64_t *out, int n);

extern const char __start_ownspin[], __stop_ownspin[];

#define RUN_MS 1500
#define BUF (256 * 1024)

static volatile int stop;
static volatile uint64_t goids[3];
static volatile unsigned long work[3];
static char buf_a[BUF], buf_b[BUF];
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

__attribute__((section("ownspin"), noinline)) static void own_loop(void) {
    while (!stop) work[0]++;
}

__attribute__((section("ownspin"), noinline)) static void libc_loop(void) {
    while (!stop) {
        memset(buf_a, (int)(work[1] & 0x7f), BUF);
        memset(buf_b, (int)(work[1] & 0x7f), BUF);
        work[1] += (unsigned long)memcmp(buf_a, buf_b, BUF) + 1;
    }
}

__attribute__((section("ownspin"), noinline)) static void grt_loop(void) {
    while (!stop) {
        work[2] += grt_nanotime() & 1;
        if ((work[2] & 63) == 0) CHECK(grt_alloc(16) != 0);
        work[2]++;
    }
}

static void runner(void *arg) {
    int k = (int)(intptr_t)arg;
    goids[k] = grt_goid();
    if (k == 0) own_loop();
    else if (k == 1) libc_loop();
    else grt_loop();
    grt_wg_done(&wg);
}

/* The executable's PLT sections, where the program's calls to libc pass (libc build). */
static uint64_t plt_lo[3], plt_hi[3];
static int nplt;

static void find_plt(void) {
#if __STDC_HOSTED__
    int fd = open("/proc/self/exe", O_RDONLY);
    CHECK(fd >= 0);
    Elf64_Ehdr eh;
    CHECK(pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh);
    static Elf64_Shdr sh[128];
    CHECK(eh.e_shnum <= 128);
    CHECK(pread(fd, sh, eh.e_shnum * sizeof sh[0], (off_t)eh.e_shoff) == (ssize_t)(eh.e_shnum * sizeof sh[0]));
    static char names[8192];
    Elf64_Shdr *ns = &sh[eh.e_shstrndx];
    CHECK(ns->sh_size <= sizeof names);
    CHECK(pread(fd, names, ns->sh_size, (off_t)ns->sh_offset) == (ssize_t)ns->sh_size);
    close(fd);
    uint64_t own = 0;
    for (int i = 0; i < eh.e_shnum; i++)
        if (!strcmp(names + sh[i].sh_name, "ownspin")) own = sh[i].sh_addr;
    CHECK(own != 0);
    uint64_t bias = (uint64_t)(uintptr_t)__start_ownspin - own;
    for (int i = 0; i < eh.e_shnum && nplt < 3; i++) {
        const char *n = names + sh[i].sh_name;
        if (!strcmp(n, ".plt") || !strcmp(n, ".plt.sec") || !strcmp(n, ".plt.got")) {
            plt_lo[nplt] = bias + sh[i].sh_addr;
            plt_hi[nplt++] = bias + sh[i].sh_addr + sh[i].sh_size;
        }
    }
#endif
}

static int allowed(uint64_t pc) {
    if (pc >= (uint64_t)(uintptr_t)__start_ownspin && pc < (uint64_t)(uintptr_t)__stop_ownspin) return 1;
    for (int i = 0; i < nplt; i++)
        if (pc >= plt_lo[i] && pc < plt_hi[i]) return 1;
    return 0;
}

static void main_goroutine(void *arg) {
    (void)arg;
    find_plt();
    grt_wg_add(&wg, 3);
    for (int k = 0; k < 3; k++) CHECK_EQ(grt_go(runner, (void *)(intptr_t)k), GRT_OK);
    while (!goids[0] || !goids[1] || !goids[2]) grt_sleep_ns(1000000);
    uint64_t end = grt_nanotime() + RUN_MS * 1000000ull;
    uint64_t pcs[256];
    int bad = 0;
    while (grt_nanotime() < end && !bad) {
        for (int k = 0; k < 3; k++) (void)grt_test_preempt(goids[k]);
        grt_sleep_ns(100000);
        int n = grt_test_preempted_pcs(pcs, 256);
        for (int i = 0; i < n; i++) {
            if (!allowed(pcs[i])) {
                t_puts(2, "sched_async_refuse: a goroutine was preempted at 0x");
                t_putu(2, pcs[i], 16);
                t_puts(2, ", outside the program's own loops (inside libc or grt)\n");
                bad = 1;
                break;
            }
        }
    }
    stop = 1;
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    if (bad) grt_exit(1);
    struct grt_preempt_stats st;
    CHECK_EQ(grt_preempt_stats(&st), GRT_OK);
    t_put_kv("preempted", st.preempted);
    t_put_kv("refused_runtime", st.refused_runtime);
    t_put_kv("refused_foreign", st.refused_foreign);
    t_put_kv("refused_frame", st.refused_frame);
    t_puts(1, "\n");
    CHECK(st.preempted > 0);
    CHECK(st.refused_runtime + st.refused_foreign + st.refused_frame > 0);
    t_puts(1, "ok never preempted inside libc or grt\n");
    t_puts(1, "PASS\n");
}

int main(void) {
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
