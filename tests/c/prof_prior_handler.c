/* grt-test: exit=0 stdout="ok own SIGPROF timer" stdout="ok own SIGSEGV" stdout="ok tgkill forwarded" stdout="ok action restored" stdout="PASS" env="GRTMAXPROCS=2" builds=hosted profile=any
 *
 * A C program that installed its own SIGPROF and SIGSEGV handlers before grt keeps getting
 * its signals on its own threads while grt profiles:
 *   - its own thread (a pthread, not an M) has its own timer_create(CLOCK_THREAD_CPUTIME_ID)
 *     timer signalling itself with SIGPROF: the program's handler sees them, on that thread
 *     only, with its own si_value, and grt records none of them as samples;
 *   - that thread faults on purpose (a PROT_NONE page); the program's SIGSEGV handler gets
 *     the fault, makes the page writable and the store goes through;
 *   - a SIGPROF sent with pthread_kill to that thread reaches the program's handler;
 *   - grt's own samples come from the goroutines on the Ms meanwhile;
 *   - after grt_prof_stop the program's SIGPROF action is back, exactly.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define COOKIE ((void *)0x5eed)
static atomic_long own_timer, own_other_thread, own_tkill, segv_hits;
/* The first SIGPROF the program's handler saw on another thread: its si_code and si_value. */
static atomic_long stray_code, stray_value;
static pid_t own_tid;
static char *page;
static long pagesz;
static atomic_int stop_burn;
static volatile uint64_t sink;

static void on_prof(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    if (syscall(SYS_gettid) != own_tid) {
        if (own_other_thread++ == 0) {
            stray_code = si->si_code;
            stray_value = (long)si->si_value.sival_ptr;
        }
        return;
    }
    if (si->si_code == SI_TIMER && si->si_value.sival_ptr == COOKIE) own_timer++;
    if (si->si_code == SI_TKILL) own_tkill++;
}

static void on_segv(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    if ((char *)si->si_addr >= page && (char *)si->si_addr < page + pagesz) {
        segv_hits++;
        mprotect(page, pagesz, PROT_READ | PROT_WRITE);
        return;
    }
    abort();
}

static void *own_thread(void *arg) {
    (void)arg;
    own_tid = syscall(SYS_gettid);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_value.sival_ptr = COOKIE;
    ev.sigev_signo = SIGPROF;
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev._sigev_un._tid = own_tid;
    timer_t t;
    CHECK(timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &t) == 0);
    struct itimerspec its = {{0, 5000000}, {0, 5000000}};
    CHECK(timer_settime(t, 0, &its, 0) == 0);
    uint64_t x = 1;
    while (!stop_burn)
        for (int i = 0; i < 100000; i++) x = x * 6364136223846793005ull + 1;
    sink = x;
    timer_delete(t);
    page[1] = 42; /* faults once: the program's handler makes it writable */
    CHECK(page[1] == 42);
    return 0;
}

static void burn(void *arg) {
    uint64_t x = 1;
    uint64_t end = grt_nanotime() + 300000000ull;
    while (grt_nanotime() < end)
        for (int i = 0; i < 100000; i++) x = x * 6364136223846793005ull + 1;
    sink = x;
    grt_wg_done(arg);
}

static pthread_t th;

static void gomain(void *arg) {
    (void)arg;
    const char *path = getenv("GRT_TEST_PROFILE");
    CHECK(path && grt_prof_start(1000, path) == GRT_OK);
    CHECK(pthread_create(&th, 0, own_thread, 0) == 0);
    static grt_waitgroup wg = GRT_WAITGROUP_INIT;
    grt_wg_add(&wg, 2);
    grt_go(burn, &wg);
    grt_go(burn, &wg);
    grt_wg_wait(&wg);
    while (!own_tid) grt_yield();
    CHECK(pthread_kill(th, SIGPROF) == 0);
    struct timespec ms = {0, 50000000};
    nanosleep(&ms, 0);
    stop_burn = 1;
    CHECK(pthread_join(th, 0) == 0);

    grt_prof_stats st;
    CHECK(grt_prof_read_stats(&st) == GRT_OK);
    CHECK(grt_prof_stop() == GRT_OK);
    CHECK(st.samples > 0);
    CHECK(st.forwarded >= (uint64_t)own_timer);
    CHECK(own_timer > 0);
    if (own_other_thread != 0) {
        t_puts(2, "stray SIGPROF on another thread: si_code ");
        t_putu(2, (unsigned long long)stray_code, 16);
        t_puts(2, " si_value ");
        t_putu(2, (unsigned long long)stray_value, 16);
        t_puts(2, "\n");
    }
    CHECK(own_other_thread == 0);
    t_puts(1, "ok own SIGPROF timer\n");
    CHECK(segv_hits == 1);
    t_puts(1, "ok own SIGSEGV\n");
    CHECK(own_tkill == 1);
    t_puts(1, "ok tgkill forwarded\n");
    struct sigaction now;
    CHECK(sigaction(SIGPROF, 0, &now) == 0);
    CHECK(now.sa_sigaction == on_prof && (now.sa_flags & SA_SIGINFO));
    t_puts(1, "ok action restored\n");
    t_puts(1, "PASS\n");
}

int main(void) {
    pagesz = sysconf(_SC_PAGESIZE);
    page = mmap(0, pagesz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(page != MAP_FAILED);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_prof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    CHECK(sigaction(SIGPROF, &sa, 0) == 0);
    sa.sa_sigaction = on_segv;
    CHECK(sigaction(SIGSEGV, &sa, 0) == 0);
    CHECK(grt_main(gomain, 0) == GRT_OK);
    return 0;
}
