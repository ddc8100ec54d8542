/* grt-test: exit=0 stdout="ok before grt_main" stdout="ok from a plain thread" stdout="ok bad arguments" stdout="ok busy channel" stdout="ok grt_main once" stdout="PASS" stderr="grt: grt_go:" stderr="grt: grt_main:" stderr="grt: grt_chan_make:" stderr="grt: grt_select:" env="GRTMAXPROCS=2"
 *
 * The scheduler's error codes; none of them crashes:
 *   - before grt_main: grt_go, grt_go_stack, grt_yield, grt_sleep_ns, grt_mutex_lock (and
 *     grt_chan_send/recv, if a channel can be made that early) are GRT_ENOTINIT; grt_goid
 *     and grt_maxprocs are 0; grt_main(NULL) is GRT_EINVAL (and does not use up the one
 *     grt_main);
 *   - from a plain thread (grt_thread_start) while the scheduler runs: the calls that may
 *     park are GRT_ENOTG, grt_goid is 0;
 *   - NULL function, stack sizes out of range, NULL channel handles or out pointers, a NULL
 *     element for a channel with elements, NULL select cases, a bad select direction:
 *     GRT_EINVAL; the smallest and largest stack sizes work;
 *   - grt_chan_free of a channel a goroutine waits on: GRT_EBUSY, and the channel still works;
 *   - grt_main a second time (inside and after the first): GRT_EINVAL;
 *   - grt_strerror knows the new codes.
 */
#include "check.h"

#define MS 1000000LL

static void nop(void *arg) { (void)arg; }

static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static void nop_done(void *arg) {
    (void)arg;
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static int streq(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

static grt_mutex mu = GRT_MUTEX_INIT;
static grt_waitgroup pending = GRT_WAITGROUP_INIT; /* count 1 while the plain thread runs */
static grt_chan *ch;

struct thread_results {
    int go, yield, sleep, send, recv, lock, wg_wait, select;
    uint64_t goid;
    int done;
};
static struct thread_results tr;

static void plain_thread(void *arg) {
    (void)arg;
    int v = 1;
    grt_select_case c = {ch, GRT_RECV, -1, &v};
    tr.go = grt_go(nop, 0);
    tr.yield = grt_yield();
    tr.sleep = grt_sleep_ns(MS);
    tr.send = grt_chan_send(ch, &v);
    tr.recv = grt_chan_recv(ch, &v);
    tr.lock = grt_mutex_lock(&mu);
    tr.wg_wait = grt_wg_wait(&pending);
    tr.select = grt_select(&c, 1, 1);
    tr.goid = grt_goid();
    __atomic_store_n(&tr.done, 1, __ATOMIC_RELEASE);
}

static void test_plain_thread(void) {
    CHECK_EQ(grt_chan_make(&ch, sizeof(int), 0), GRT_OK);
    CHECK_EQ(grt_wg_add(&pending, 1), GRT_OK);
    grt_thread *t;
    CHECK_EQ(grt_thread_start(&t, plain_thread, 0), GRT_OK);
    for (int i = 0; i < 5000 && !__atomic_load_n(&tr.done, __ATOMIC_ACQUIRE); i++)
        CHECK_EQ(grt_sleep_ns(MS), GRT_OK);
    CHECK_EQ(__atomic_load_n(&tr.done, __ATOMIC_ACQUIRE), 1);
    CHECK_EQ(grt_thread_join(t), GRT_OK);
    /* grt_go does not park; the header does not say whether other threads may call it. */
    CHECK(tr.go == GRT_OK || tr.go == GRT_ENOTG);
    CHECK_EQ(tr.yield, GRT_ENOTG);
    CHECK_EQ(tr.sleep, GRT_ENOTG);
    CHECK_EQ(tr.send, GRT_ENOTG);
    CHECK_EQ(tr.recv, GRT_ENOTG);
    CHECK_EQ(tr.lock, GRT_ENOTG);
    CHECK_EQ(tr.wg_wait, GRT_ENOTG);
    CHECK_EQ(tr.select, GRT_ENOTG);
    CHECK_EQ(tr.goid, 0);
    CHECK_EQ(grt_mutex_trylock(&mu), GRT_OK); /* the thread did not take it */
    CHECK_EQ(grt_mutex_unlock(&mu), GRT_OK);
    CHECK_EQ(grt_wg_add(&pending, -1), GRT_OK);
    CHECK_EQ(grt_chan_free(ch), GRT_OK);
    t_puts(1, "ok from a plain thread\n");
}

static void test_bad_arguments(void) {
    CHECK_EQ(grt_go(0, 0), GRT_EINVAL);
    CHECK_EQ(grt_go_stack(0, 0, 0), GRT_EINVAL);
    CHECK_EQ(grt_go_stack(nop, 0, 1), GRT_EINVAL);
    CHECK_EQ(grt_go_stack(nop, 0, GRT_STACK_MIN - 1), GRT_EINVAL);
    CHECK_EQ(grt_go_stack(nop, 0, GRT_STACK_MAX + 1), GRT_EINVAL);
    CHECK_EQ(grt_go_stack(nop, 0, (size_t)-1), GRT_EINVAL);

    CHECK_EQ(grt_chan_make(0, 4, 1), GRT_EINVAL);
    grt_chan *c = 0;
    int rc = grt_chan_make(&c, (size_t)-1, 16); /* elem_size * capacity overflows */
    CHECK(rc == GRT_EINVAL || rc == GRT_ENOMEM);
    int v = 0;
    CHECK_EQ(grt_chan_send(0, &v), GRT_EINVAL);
    CHECK_EQ(grt_chan_recv(0, &v), GRT_EINVAL);
    CHECK_EQ(grt_chan_close(0), GRT_EINVAL);
    CHECK_EQ(grt_chan_free(0), GRT_EINVAL);
    CHECK_EQ(grt_chan_make(&c, sizeof(int), 1), GRT_OK);
    CHECK_EQ(grt_chan_send(c, 0), GRT_EINVAL); /* elements of 4 bytes: elem must be given */
    CHECK_EQ(grt_chan_len(c), 0);

    CHECK_EQ(grt_select(0, 2, 1), GRT_EINVAL);
    CHECK_EQ(grt_select(0, 2, 0), GRT_EINVAL);
    grt_select_case bad[2] = {{c, GRT_RECV, -1, &v}, {c, 3, -1, &v}};
    CHECK_EQ(grt_select(bad, 2, 1), GRT_EINVAL);
    bad[1].dir = 0;
    CHECK_EQ(grt_select(bad, 2, 0), GRT_EINVAL);
    CHECK_EQ(grt_chan_len(c), 0);

    CHECK_EQ(grt_mutex_lock(0), GRT_EINVAL);
    CHECK_EQ(grt_mutex_trylock(0), GRT_EINVAL);
    CHECK_EQ(grt_mutex_unlock(0), GRT_EINVAL);
    CHECK_EQ(grt_wg_add(0, 1), GRT_EINVAL);
    CHECK_EQ(grt_wg_done(0), GRT_EINVAL);
    CHECK_EQ(grt_wg_wait(0), GRT_EINVAL);
    CHECK_EQ(grt_chan_free(c), GRT_OK);

    /* The bounds themselves are accepted (1 GiB of address space may be refused). */
    CHECK_EQ(grt_wg_add(&wg, 2), GRT_OK);
    CHECK_EQ(grt_go_stack(nop_done, 0, GRT_STACK_MIN), GRT_OK);
    rc = grt_go_stack(nop_done, 0, GRT_STACK_MAX);
    CHECK(rc == GRT_OK || rc == GRT_ENOMEM);
    if (rc != GRT_OK) CHECK_EQ(grt_wg_done(&wg), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    t_puts(1, "ok bad arguments\n");
}

static grt_chan *busy;
static int busy_parked, busy_got;

static void busy_receiver(void *arg) {
    (void)arg;
    int v = 0;
    __atomic_store_n(&busy_parked, 1, __ATOMIC_RELEASE);
    CHECK_EQ(grt_chan_recv(busy, &v), GRT_OK);
    busy_got = v;
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void busy_sender(void *arg) {
    (void)arg;
    int v = 55;
    __atomic_store_n(&busy_parked, 1, __ATOMIC_RELEASE);
    CHECK_EQ(grt_chan_send(busy, &v), GRT_OK);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void wait_parked(void) {
    for (int i = 0; i < 5000 && !__atomic_load_n(&busy_parked, __ATOMIC_ACQUIRE); i++)
        CHECK_EQ(grt_sleep_ns(MS), GRT_OK);
    CHECK_EQ(grt_sleep_ns(20 * MS), GRT_OK); /* in grt_chan_recv/send by now */
}

static void test_busy_channel(void) {
    CHECK_EQ(grt_chan_make(&busy, sizeof(int), 0), GRT_OK);
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(busy_receiver, 0), GRT_OK);
    wait_parked();
    CHECK_EQ(grt_chan_free(busy), GRT_EBUSY);
    int v = 77;
    CHECK_EQ(grt_chan_send(busy, &v), GRT_OK); /* still a working channel */
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(busy_got, 77);

    busy_parked = 0;
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(busy_sender, 0), GRT_OK);
    wait_parked();
    CHECK_EQ(grt_chan_free(busy), GRT_EBUSY);
    v = 0;
    CHECK_EQ(grt_chan_recv(busy, &v), GRT_OK);
    CHECK_EQ(v, 55);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(grt_chan_free(busy), GRT_OK);
    t_puts(1, "ok busy channel\n");
}

static void test_strerror(void) {
    const int codes[] = {GRT_EAGAIN, GRT_EBUSY, GRT_ETIMEDOUT, GRT_ENOTINIT, GRT_ENOTG, GRT_ECLOSED};
    const int n = (int)(sizeof codes / sizeof codes[0]);
    const char *unknown = grt_strerror(-987654);
    CHECK(unknown != 0);
    for (int i = 0; i < n; i++) {
        const char *s = grt_strerror(codes[i]);
        CHECK(s != 0 && s[0] != 0);
        CHECK(!streq(s, unknown));
        for (int j = 0; j < i; j++) CHECK(!streq(s, grt_strerror(codes[j])));
    }
}

static void main_g(void *arg) {
    CHECK(arg == (void *)&mu);
    CHECK_EQ(grt_goid(), 1);
    CHECK_EQ(grt_maxprocs(), 2);
    CHECK_EQ(grt_main(nop, 0), GRT_EINVAL); /* already running */
    test_plain_thread();
    test_bad_arguments();
    test_busy_channel();
    test_strerror();
}

int main(void) {
    CHECK_EQ(grt_goid(), 0);
    CHECK_EQ(grt_maxprocs(), 0);
    CHECK_EQ(grt_go(nop, 0), GRT_ENOTINIT);
    CHECK_EQ(grt_go_stack(nop, 0, 0), GRT_ENOTINIT);
    CHECK_EQ(grt_yield(), GRT_ENOTINIT);
    CHECK_EQ(grt_sleep_ns(MS), GRT_ENOTINIT);
    CHECK_EQ(grt_mutex_lock(&mu), GRT_ENOTINIT);
    grt_chan *early = 0;
    int rc = grt_chan_make(&early, sizeof(int), 0); /* whether this needs grt_main is open */
    CHECK(rc == GRT_OK || rc == GRT_ENOTINIT);
    if (rc == GRT_OK) {
        int v = 1;
        CHECK_EQ(grt_chan_send(early, &v), GRT_ENOTINIT);
        CHECK_EQ(grt_chan_recv(early, &v), GRT_ENOTINIT);
        CHECK_EQ(grt_chan_free(early), GRT_OK);
    }
    t_puts(1, "ok before grt_main\n");

    CHECK_EQ(grt_main(0, 0), GRT_EINVAL); /* does not count as the one run */
    CHECK_EQ(grt_main(main_g, &mu), GRT_OK);
    CHECK_EQ(grt_main(main_g, &mu), GRT_EINVAL); /* once per process */
    t_puts(1, "ok grt_main once\n");
    t_puts(1, "PASS\n");
    return 0;
}
