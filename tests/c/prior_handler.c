/* grt-test: exit=0 stdout="PASS" builds=hosted
 *
 * A program that installed its own SIGSEGV handler before grt keeps getting the faults that
 * are not grt's (here: a write to a page it protected itself), with the right fault address.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

static char *page;
static volatile void *seen_addr;
static volatile int calls;

static void on_segv(int sig, siginfo_t *info, void *uc) {
    (void)sig;
    (void)uc;
    calls++;
    seen_addr = info->si_addr;
    mprotect(page, 4096, PROT_READ | PROT_WRITE); /* let the write go through on return */
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGSEGV, &sa, 0) == 0);

    grt_stack s; /* installs grt's handler on top of ours */
    CHECK_EQ(grt_stack_alloc(&s, 0), GRT_OK);

    page = mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(page != MAP_FAILED);
    *(volatile char *)&page[100] = 7; /* volatile: the fault must happen here, not later */
    CHECK_EQ(calls, 1);
    CHECK(seen_addr == page + 100);
    CHECK_EQ(page[100], 7);
    t_puts(1, "ok the program's own SIGSEGV handler still runs\n");
    t_puts(1, "PASS\n");
    return 0;
}
