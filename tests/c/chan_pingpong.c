/* grt-test: exit=0 stdout="ok unbuffered ping-pong" stdout="ok buffered" stdout="ok close" stdout="ok zero-size elements" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * Channels on 2 Ms:
 *   - 10,000 round trips between two goroutines over two unbuffered channels, with a
 *     24-byte element one way and an 8-byte one back, every value checked;
 *   - a buffered channel of capacity 8: fills without blocking, grt_chan_len follows, a
 *     ninth send would block, values come out in FIFO order, also with a producer
 *     goroutine blocking on the full buffer;
 *   - close: buffered values are still received after close, then GRT_ECLOSED with the
 *     element zeroed; send on a closed channel and a second close are GRT_ECLOSED;
 *     receivers and senders parked on a channel are woken by close with GRT_ECLOSED;
 *   - elements of size 0 (pure synchronisation), unbuffered and buffered.
 */
#include "check.h"

#define ROUNDS 10000
#define MS 1000000LL

struct ping {
    uint64_t seq;
    uint64_t square;
    uint32_t tag;
    uint32_t pad;
};

static grt_chan *ping_ch, *pong_ch;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;
static uint64_t pongs;

static void ponger(void *arg) {
    (void)arg;
    struct ping p;
    for (;;) {
        int rc = grt_chan_recv(ping_ch, &p);
        if (rc == GRT_ECLOSED) {
            /* closed and drained: the element is zeroed */
            CHECK_EQ(p.seq, 0);
            CHECK_EQ(p.square, 0);
            CHECK_EQ(p.tag, 0);
            break;
        }
        CHECK_EQ(rc, GRT_OK);
        CHECK_EQ(p.seq, pongs);
        CHECK_EQ(p.square, p.seq * p.seq);
        CHECK_EQ(p.tag, 0xabcd1234u ^ (uint32_t)p.seq);
        uint64_t back = p.seq * 3 + 1;
        CHECK_EQ(grt_chan_send(pong_ch, &back), GRT_OK);
        pongs++;
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void pinger(void *arg) {
    (void)arg;
    for (uint64_t i = 0; i < ROUNDS; i++) {
        struct ping p = {i, i * i, 0xabcd1234u ^ (uint32_t)i, 0};
        CHECK_EQ(grt_chan_send(ping_ch, &p), GRT_OK);
        uint64_t back = 0;
        CHECK_EQ(grt_chan_recv(pong_ch, &back), GRT_OK);
        CHECK_EQ(back, i * 3 + 1);
    }
    CHECK_EQ(grt_chan_close(ping_ch), GRT_OK);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void test_pingpong(void) {
    CHECK_EQ(grt_chan_make(&ping_ch, sizeof(struct ping), 0), GRT_OK);
    CHECK_EQ(grt_chan_make(&pong_ch, sizeof(uint64_t), 0), GRT_OK);
    CHECK_EQ(grt_chan_len(ping_ch), 0);
    CHECK_EQ(grt_wg_add(&wg, 2), GRT_OK);
    CHECK_EQ(grt_go(ponger, 0), GRT_OK);
    CHECK_EQ(grt_go(pinger, 0), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(pongs, ROUNDS);
    CHECK_EQ(grt_chan_free(ping_ch), GRT_OK);
    CHECK_EQ(grt_chan_free(pong_ch), GRT_OK);
    t_puts(1, "ok unbuffered ping-pong\n");
}

#define PRODUCED 1000
static grt_chan *buf_ch;

static void producer(void *arg) {
    (void)arg;
    for (uint32_t i = 0; i < PRODUCED; i++) CHECK_EQ(grt_chan_send(buf_ch, &i), GRT_OK);
    CHECK_EQ(grt_chan_close(buf_ch), GRT_OK);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void test_buffered(void) {
    CHECK_EQ(grt_chan_make(&buf_ch, sizeof(uint32_t), 8), GRT_OK);
    for (uint32_t i = 0; i < 8; i++) {
        CHECK_EQ(grt_chan_len(buf_ch), i);
        uint32_t v = 100 + i;
        CHECK_EQ(grt_chan_send(buf_ch, &v), GRT_OK); /* room in the buffer: no blocking */
    }
    CHECK_EQ(grt_chan_len(buf_ch), 8);
    uint32_t extra = 999;
    grt_select_case sc = {buf_ch, GRT_SEND, -1, &extra};
    CHECK_EQ(grt_select(&sc, 1, 0), GRT_EAGAIN); /* full: a ninth send would block */
    CHECK_EQ(grt_chan_len(buf_ch), 8);
    for (uint32_t i = 0; i < 8; i++) {
        uint32_t v = 0;
        CHECK_EQ(grt_chan_recv(buf_ch, &v), GRT_OK);
        CHECK_EQ(v, 100 + i);
        CHECK_EQ(grt_chan_len(buf_ch), 7 - i);
    }

    /* The producer runs ahead until the buffer is full, then blocks until we take some. */
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(producer, 0), GRT_OK);
    for (int i = 0; i < 2000 && grt_chan_len(buf_ch) < 8; i++) CHECK_EQ(grt_sleep_ns(MS), GRT_OK);
    CHECK_EQ(grt_chan_len(buf_ch), 8);
    CHECK_EQ(grt_sleep_ns(5 * MS), GRT_OK);
    CHECK_EQ(grt_chan_len(buf_ch), 8); /* the producer waits: never more than the capacity */
    uint32_t next = 0, v = 0;
    int rc;
    while ((rc = grt_chan_recv(buf_ch, &v)) == GRT_OK) {
        CHECK_EQ(v, next);
        CHECK(grt_chan_len(buf_ch) <= 8);
        next++;
        if (next % 250 == 0) CHECK_EQ(grt_sleep_ns(MS), GRT_OK);
    }
    CHECK_EQ(rc, GRT_ECLOSED);
    CHECK_EQ(v, 0);
    CHECK_EQ(next, PRODUCED);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(grt_chan_free(buf_ch), GRT_OK);
    t_puts(1, "ok buffered\n");
}

static grt_chan *close_ch;
static uint64_t woken_recv, woken_send;

static void blocked_receiver(void *arg) {
    (void)arg;
    uint64_t v = 0xdeadbeefcafef00dULL;
    CHECK_EQ(grt_chan_recv(close_ch, &v), GRT_ECLOSED);
    CHECK_EQ(v, 0);
    __atomic_fetch_add(&woken_recv, 1, __ATOMIC_RELAXED);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void blocked_sender(void *arg) {
    (void)arg;
    uint64_t v = 5;
    CHECK_EQ(grt_chan_send(close_ch, &v), GRT_ECLOSED);
    __atomic_fetch_add(&woken_send, 1, __ATOMIC_RELAXED);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void test_close(void) {
    grt_chan *ch;
    CHECK_EQ(grt_chan_make(&ch, sizeof(uint64_t), 4), GRT_OK);
    for (uint64_t i = 1; i <= 3; i++) {
        uint64_t v = i * 10;
        CHECK_EQ(grt_chan_send(ch, &v), GRT_OK);
    }
    CHECK_EQ(grt_chan_close(ch), GRT_OK);
    CHECK_EQ(grt_chan_len(ch), 3);
    uint64_t v = 77;
    CHECK_EQ(grt_chan_send(ch, &v), GRT_ECLOSED);
    CHECK_EQ(grt_chan_len(ch), 3);
    CHECK_EQ(grt_chan_close(ch), GRT_ECLOSED);
    for (uint64_t i = 1; i <= 3; i++) { /* drained after close */
        v = 0;
        CHECK_EQ(grt_chan_recv(ch, &v), GRT_OK);
        CHECK_EQ(v, i * 10);
    }
    v = 0xdeadbeefcafef00dULL;
    CHECK_EQ(grt_chan_recv(ch, &v), GRT_ECLOSED);
    CHECK_EQ(v, 0);
    v = 1;
    CHECK_EQ(grt_chan_recv(ch, &v), GRT_ECLOSED); /* and again */
    CHECK_EQ(v, 0);
    CHECK_EQ(grt_chan_recv(ch, NULL), GRT_ECLOSED);
    CHECK_EQ(grt_chan_len(ch), 0);
    CHECK_EQ(grt_chan_free(ch), GRT_OK);

    /* Parked receivers are woken by close. */
    CHECK_EQ(grt_chan_make(&close_ch, sizeof(uint64_t), 0), GRT_OK);
    CHECK_EQ(grt_wg_add(&wg, 3), GRT_OK);
    for (int i = 0; i < 3; i++) CHECK_EQ(grt_go(blocked_receiver, 0), GRT_OK);
    CHECK_EQ(grt_sleep_ns(20 * MS), GRT_OK);
    CHECK_EQ(__atomic_load_n(&woken_recv, __ATOMIC_RELAXED), 0);
    CHECK_EQ(grt_chan_close(close_ch), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(woken_recv, 3);
    CHECK_EQ(grt_chan_free(close_ch), GRT_OK);

    /* Parked senders too. */
    CHECK_EQ(grt_chan_make(&close_ch, sizeof(uint64_t), 0), GRT_OK);
    CHECK_EQ(grt_wg_add(&wg, 2), GRT_OK);
    for (int i = 0; i < 2; i++) CHECK_EQ(grt_go(blocked_sender, 0), GRT_OK);
    CHECK_EQ(grt_sleep_ns(20 * MS), GRT_OK);
    CHECK_EQ(__atomic_load_n(&woken_send, __ATOMIC_RELAXED), 0);
    CHECK_EQ(grt_chan_close(close_ch), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(woken_send, 2);
    CHECK_EQ(grt_chan_free(close_ch), GRT_OK);
    t_puts(1, "ok close\n");
}

static grt_chan *sig_ch;

static void signaller(void *arg) {
    (void)arg;
    for (int i = 0; i < 100; i++) CHECK_EQ(grt_chan_send(sig_ch, NULL), GRT_OK);
    CHECK_EQ(grt_chan_close(sig_ch), GRT_OK);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void test_zero_size(void) {
    CHECK_EQ(grt_chan_make(&sig_ch, 0, 0), GRT_OK);
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(signaller, 0), GRT_OK);
    int got = 0, rc;
    while ((rc = grt_chan_recv(sig_ch, NULL)) == GRT_OK) got++;
    CHECK_EQ(rc, GRT_ECLOSED);
    CHECK_EQ(got, 100);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK); /* the signaller is out of grt_chan_close */
    CHECK_EQ(grt_chan_free(sig_ch), GRT_OK);

    grt_chan *ch;
    CHECK_EQ(grt_chan_make(&ch, 0, 5), GRT_OK);
    for (int i = 0; i < 5; i++) CHECK_EQ(grt_chan_send(ch, NULL), GRT_OK);
    CHECK_EQ(grt_chan_len(ch), 5);
    for (int i = 0; i < 5; i++) CHECK_EQ(grt_chan_recv(ch, NULL), GRT_OK);
    CHECK_EQ(grt_chan_len(ch), 0);
    CHECK_EQ(grt_chan_free(ch), GRT_OK);
    t_puts(1, "ok zero-size elements\n");
}

static void main_g(void *arg) {
    (void)arg;
    CHECK_EQ(grt_maxprocs(), 2);
    test_pingpong();
    test_buffered();
    test_close();
    test_zero_size();
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
