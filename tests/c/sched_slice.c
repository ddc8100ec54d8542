/* grt-test: exit=0 stdout="ok the victim ran within the bound next to every hog" stdout="PASS" env="GRTMAXPROCS=1"
 *
 * Time slices at grt calls: on one P, a goroutine that never yields nor blocks but calls grt
 * (a hog) next to a victim looping on grt_yield. sysmon marks a goroutine that has held its P
 * for a slice (10 ms) while others wait, and the hog's next safe point yields; the victim
 * must run at least every BOUND_MS (50 ms). One phase per kind of safe point, HOG_MS each:
 * grt_alloc, grt_mutex_lock/unlock, sends and receives on a buffered channel of its own,
 * short grt_cgocalls, grt_entersyscall/grt_exitsyscall around nothing, grt_wg_done, grt_select,
 * grt_wg_add (a phase over the bound runs once more, for a host's hiccup). Before,
 * nothing ever took the P from such a goroutine: the victim waited for the whole phase. The
 * teeth (sched_slice_teeth.c, GRTDEBUG=schednoslice=1) must see that.
 */
#include "check.h"

#ifndef BOUND_MS
#define BOUND_MS 50
#endif
#define HOG_MS 300

enum { ALLOC, MUTEX, CHAN, CGO, SYSCALL, WG, SELECT, WGADD, NPHASES };
static const char *const names[NPHASES] = {"alloc",   "mutex", "chan",   "cgocall",
                                           "syscall", "wg",    "select", "wg_add"};

static volatile int phase = -1, stop;
static uint64_t worst[NPHASES];
static volatile unsigned long yields;

static void nothing(void *arg) {
    (void)arg;
}

static grt_mutex mu = GRT_MUTEX_INIT;
static grt_waitgroup wgx = GRT_WAITGROUP_INIT;

/* Calls grt HOG_MS long without ever yielding or blocking. */
static void hog(void *arg) {
    int k = (int)(intptr_t)arg;
    grt_chan *ch = 0;
    if (k == CHAN || k == SELECT) CHECK_EQ(grt_chan_make(&ch, sizeof(long), 4), GRT_OK);
    grt_select_case sc[2] = {{0, GRT_SEND, 0, 0}, {0, GRT_RECV, 0, 0}};
    uint64_t end = grt_nanotime() + HOG_MS * 1000000ull;
    long v = 0;
    while (grt_nanotime() < end) {
        switch (k) {
        case ALLOC: CHECK(grt_alloc(32) != 0); break;
        case MUTEX:
            CHECK_EQ(grt_mutex_lock(&mu), GRT_OK);
            CHECK_EQ(grt_mutex_unlock(&mu), GRT_OK);
            break;
        case CHAN:
            CHECK_EQ(grt_chan_send(ch, &v), GRT_OK);
            CHECK_EQ(grt_chan_recv(ch, &v), GRT_OK);
            break;
        case CGO: CHECK_EQ(grt_cgocall(nothing, 0), GRT_OK); break;
        case SYSCALL:
            CHECK_EQ(grt_entersyscall(), GRT_OK);
            CHECK_EQ(grt_exitsyscall(), GRT_OK);
            break;
        case WG:
            CHECK_EQ(grt_wg_add(&wgx, 1), GRT_OK);
            CHECK_EQ(grt_wg_done(&wgx), GRT_OK);
            break;
        case SELECT: /* a send and a receive on a buffered channel of its own, by select */
            sc[0].chan = ch, sc[0].elem = &v;
            sc[1].chan = 0, sc[1].elem = &v;
            CHECK_EQ(grt_select(sc, 2, 1), 0);
            sc[0].chan = 0;
            sc[1].chan = ch;
            CHECK_EQ(grt_select(sc, 2, 1), 1);
            break;
        case WGADD: /* grt_wg_add alone: up by two, down by one twice */
            CHECK_EQ(grt_wg_add(&wgx, 2), GRT_OK);
            CHECK_EQ(grt_wg_add(&wgx, -1), GRT_OK);
            CHECK_EQ(grt_wg_add(&wgx, -1), GRT_OK);
            break;
        }
    }
}

static void victim(void *arg) {
    (void)arg;
    uint64_t last = grt_nanotime();
    while (!stop) {
        CHECK_EQ(grt_yield(), GRT_OK);
        uint64_t now = grt_nanotime();
        int p = phase;
        if (p >= 0 && now - last > worst[p]) worst[p] = now - last;
        last = now;
        yields++;
    }
}

static grt_waitgroup done = GRT_WAITGROUP_INIT;

static void run_hog(void *arg) {
    hog(arg);
    grt_wg_done(&done);
}

static void victim_main(void *arg) {
    victim(arg);
    grt_wg_done(&done);
}

static void main_goroutine(void *arg) {
    (void)arg;
    grt_wg_add(&done, 1);
    CHECK_EQ(grt_go(victim_main, 0), GRT_OK);
    unsigned reruns = 0;
    for (int k = 0; k < NPHASES; k++) {
        /* A phase over the bound runs once more: under qemu on a busy 2-core host a lone
         * 51 ms wait was seen once in a clean run (typical: 11-22 ms). Without slices
         * (the teeth) every attempt waits the whole phase. */
        for (int attempt = 0; attempt < 2; attempt++) {
            phase = -1;
            worst[k] = 0;
            phase = k;
            grt_wg_add(&done, 1);
            CHECK_EQ(grt_go(run_hog, (void *)(intptr_t)k), GRT_OK);
            /* Let the hog and the victim share the P for the phase (main queues behind them). */
            uint64_t end = grt_nanotime() + (HOG_MS + 20) * 1000000ull;
            while (grt_nanotime() < end) CHECK_EQ(grt_sleep_ns(5000000), GRT_OK);
            if (worst[k] <= BOUND_MS * 1000000ull) break;
            if (attempt == 0) reruns++;
        }
    }
    stop = 1;
    CHECK_EQ(grt_wg_wait(&done), GRT_OK);
    int bad = 0;
    t_puts(1, "longest wait of the victim, us:");
    for (int k = 0; k < NPHASES; k++) {
        t_put_kv(names[k], worst[k] / 1000);
        if (worst[k] > BOUND_MS * 1000000ull) bad = 1;
    }
    t_put_kv("phases_rerun", reruns);
    t_puts(1, "\n");
    if (bad) {
        t_puts(2, "sched_slice: the victim waited longer than the bound next to a hog\n");
        grt_exit(1);
    }
    CHECK(yields > 0);
    t_puts(1, "ok the victim ran within the bound next to every hog\n");
    t_puts(1, "PASS\n");
}

int main(void) {
    return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1;
}
