/* grt-test: exit=0 stdout="PASS" env="GRTMAXPROCS=2" profile=syscall builds=hosted
 *
 * Samples taken while a goroutine is outside goroutine code are charged to the goroutine:
 *   - cgo_main -> cgo_caller -> grt_cgocall(c_burn): c_burn burns CPU on the M's system
 *     stack; its samples must read c_burn, grt_cgocall, cgo_caller, cgo_main (the C frames on
 *     the system stack, then the goroutine's frames from syscallpc);
 *   - sys_main -> sys_caller -> grt_entersyscall(); read(/dev/zero, 1 MiB) again and again;
 *     grt_exitsyscall(): the kernel's copying is the thread's CPU time; its samples must read
 *     <leaf>, sys_caller, sys_main (from syscallpc).
 * Profiled with grt_prof_start at 1000 Hz into GRT_TEST_PROFILE; the check is in
 * xtask/src/profchecks.rs. (Hosted: read(2) and getenv come from libc.)
 */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define RUN_NS 1000000000ull
#define BUF (1 << 20)

static volatile uint64_t sink;
static uint64_t deadline;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;
static char buf[BUF];

__attribute__((noinline)) void c_burn(void *arg) {
    (void)arg;
    uint64_t x = sink;
    while (grt_nanotime() < deadline)
        for (int i = 0; i < 100000; i++) x = x * 6364136223846793005ull + 1;
    sink = x;
}

__attribute__((noinline)) void cgo_caller(void) { CHECK(grt_cgocall(c_burn, 0) == GRT_OK); }

__attribute__((noinline)) void cgo_main(void *arg) {
    (void)arg;
    cgo_caller();
    sink++;
    grt_wg_done(&wg);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

__attribute__((noinline)) void sys_caller(int fd) {
    int ok = 1;
    CHECK(grt_entersyscall() == GRT_OK);
    /* Nothing from grt until grt_exitsyscall. */
    while (ok && now_ns() < deadline) ok = read(fd, buf, BUF) == BUF;
    CHECK(grt_exitsyscall() == GRT_OK);
    CHECK(ok);
}

__attribute__((noinline)) void sys_main(void *arg) {
    (void)arg;
    int fd = open("/dev/zero", O_RDONLY);
    CHECK(fd >= 0);
    sys_caller(fd);
    close(fd);
    grt_wg_done(&wg);
}

static void gomain(void *arg) {
    (void)arg;
    const char *path = getenv("GRT_TEST_PROFILE");
    CHECK(path != 0);
    CHECK(grt_prof_start(1000, path) == GRT_OK);
    deadline = grt_nanotime() + RUN_NS;
    grt_wg_add(&wg, 2);
    CHECK(grt_go(cgo_main, 0) == GRT_OK);
    CHECK(grt_go(sys_main, 0) == GRT_OK);
    grt_wg_wait(&wg);
    CHECK(grt_prof_stop() == GRT_OK);
    t_puts(1, "PASS\n");
}

int main(void) {
    CHECK(grt_main(gomain, 0) == GRT_OK);
    return 0;
}
