/* grt-test: exit=0 stdout="ok poller and system-call readers together" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * Goroutines parked in the poller (grt_read on socket pairs) and goroutines blocked in
 * read(2) between grt_entersyscall and grt_exitsyscall (on pipes left blocking), at the same
 * time, on 2 Ps, for several rounds: every one gets exactly its bytes, in whichever order
 * the writer serves them, and the two kinds of waiting do not get in each other's way
 * (sysmon retakes the Ps of the blocked threads; the poller wakes the parked goroutines).
 */
#include "check.h"
#include "tsys.h"

#define NPOLL 200
#define NSYS 8
#define ROUNDS 5

static int pfd[NPOLL][2], sfd[NSYS][2];
static grt_waitgroup wg = GRT_WAITGROUP_INIT;
static int started;

static void poll_reader(void *arg) {
    int i = (int)(uintptr_t)arg;
    __atomic_fetch_add(&started, 1, __ATOMIC_RELEASE);
    for (int r = 0; r < ROUNDS; r++) {
        unsigned char b[2];
        long n = 0;
        while (n < 2) {
            long k = grt_read(pfd[i][0], b + n, 2 - n, 0);
            CHECK(k > 0);
            n += k;
        }
        CHECK_EQ(b[0], (unsigned char)i);
        CHECK_EQ(b[1], (unsigned char)r);
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void sys_reader(void *arg) {
    int i = (int)(uintptr_t)arg;
    __atomic_fetch_add(&started, 1, __ATOMIC_RELEASE);
    for (int r = 0; r < ROUNDS; r++) {
        unsigned char b[2];
        long n = 0;
        while (n < 2) {
            CHECK_EQ(grt_entersyscall(), GRT_OK);
            long k = t_read(sfd[i][0], b + n, 2 - n);
            CHECK_EQ(grt_exitsyscall(), GRT_OK);
            CHECK(k > 0);
            n += k;
        }
        CHECK_EQ(b[0], (unsigned char)(100 + i));
        CHECK_EQ(b[1], (unsigned char)r);
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void main_g(void *arg) {
    (void)arg;
    for (int i = 0; i < NPOLL; i++) CHECK_EQ(t_socketpair(pfd[i]), 0);
    for (int i = 0; i < NSYS; i++) CHECK_EQ(t_pipe(sfd[i]), 0);
    CHECK_EQ(grt_wg_add(&wg, NPOLL + NSYS), GRT_OK);
    for (int i = 0; i < NSYS; i++) CHECK_EQ(grt_go(sys_reader, (void *)(uintptr_t)i), GRT_OK);
    for (int i = 0; i < NPOLL; i++) CHECK_EQ(grt_go(poll_reader, (void *)(uintptr_t)i), GRT_OK);
    while (__atomic_load_n(&started, __ATOMIC_ACQUIRE) < NPOLL + NSYS) grt_sleep_ns(1000000);
    for (int r = 0; r < ROUNDS; r++) {
        grt_sleep_ns(2000000);
        /* Interleave the two kinds; the system-call pipes are written with write(2) directly
         * (they stay blocking). */
        for (int i = 0; i < NPOLL; i++) {
            unsigned char b[2] = {(unsigned char)i, (unsigned char)r};
            CHECK_EQ(grt_write(pfd[i][1], b, 2, 0), 2);
            if (i % (NPOLL / NSYS) == 0 && i / (NPOLL / NSYS) < NSYS) {
                int k = i / (NPOLL / NSYS);
                unsigned char c[2] = {(unsigned char)(100 + k), (unsigned char)r};
                CHECK_EQ(t_write(sfd[k][1], c, 2), 2);
            }
        }
    }
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    for (int i = 0; i < NPOLL; i++) {
        CHECK_EQ(grt_fd_close(pfd[i][0]), GRT_OK);
        CHECK_EQ(grt_fd_close(pfd[i][1]), GRT_OK);
    }
    t_puts(1, "ok poller and system-call readers together\n");
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
