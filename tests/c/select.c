/* grt-test: exit=0 stdout="ok ready case" stdout="ok nil channels" stdout="ok closed" stdout="ok fairness" stdout="ok send case" stdout="ok wake and dequeue" stdout="ok two producers" stdout="ok racing selectors" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * grt_select on 2 Ms:
 *   - the one ready case among several is chosen and performed, the others left alone;
 *     with nothing ready a non-blocking select is GRT_EAGAIN and changes nothing;
 *   - NULL channel cases are never chosen;
 *   - a receive on a closed channel is chosen with ok = 0 and the element zeroed; a send
 *     on a closed channel is chosen with ok = 0;
 *   - with two cases always ready, each is chosen a fair share of 2,000 times;
 *   - a blocking select with a send case completes when a receiver comes;
 *   - a blocking select woken by one channel is no longer waiting on the others: a later
 *     send on another of its channels goes to a plain receiver;
 *   - a select loop draining two producers until both channels are closed (turning
 *     closed cases into NULL ones, as in Go) while feeding a sink through a send case;
 *   - three goroutines selecting on one channel receive every value exactly once.
 */
#include "check.h"

#define MS 1000000LL

static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static grt_chan *mk(size_t elem, size_t cap) {
    grt_chan *c = 0;
    CHECK_EQ(grt_chan_make(&c, elem, cap), GRT_OK);
    return c;
}

static void test_ready_case(void) {
    grt_chan *a = mk(4, 1), *b = mk(4, 1), *c = mk(4, 1);
    uint32_t v = 7;
    CHECK_EQ(grt_chan_send(b, &v), GRT_OK);
    uint32_t ra = 1, rb = 0, rc = 3;
    grt_select_case cases[3] = {
        {a, GRT_RECV, -1, &ra}, {b, GRT_RECV, -1, &rb}, {c, GRT_RECV, -1, &rc}};
    CHECK_EQ(grt_select(cases, 3, 1), 1);
    CHECK_EQ(cases[1].ok, 1);
    CHECK_EQ(rb, 7);
    CHECK_EQ(ra, 1); /* untouched */
    CHECK_EQ(rc, 3);
    CHECK_EQ(grt_chan_len(b), 0);

    v = 8;
    CHECK_EQ(grt_chan_send(c, &v), GRT_OK);
    CHECK_EQ(grt_select(cases, 3, 0), 2);
    CHECK_EQ(cases[2].ok, 1);
    CHECK_EQ(rc, 8);

    ra = 11, rb = 12, rc = 13;
    CHECK_EQ(grt_select(cases, 3, 0), GRT_EAGAIN);
    CHECK_EQ(ra, 11);
    CHECK_EQ(rb, 12);
    CHECK_EQ(rc, 13);
    CHECK_EQ(grt_chan_len(a) + grt_chan_len(b) + grt_chan_len(c), 0);

    /* A send case and a receive case, only the send ready. */
    v = 9;
    grt_select_case mixed[2] = {{a, GRT_RECV, -1, &ra}, {b, GRT_SEND, -1, &v}};
    CHECK_EQ(grt_select(mixed, 2, 0), 1);
    CHECK_EQ(mixed[1].ok, 1);
    CHECK_EQ(grt_chan_len(b), 1);
    CHECK_EQ(grt_select(mixed, 2, 0), GRT_EAGAIN); /* b is full now, a still empty */
    CHECK_EQ(grt_chan_recv(b, &rb), GRT_OK);
    CHECK_EQ(rb, 9);

    CHECK_EQ(grt_chan_free(a), GRT_OK);
    CHECK_EQ(grt_chan_free(b), GRT_OK);
    CHECK_EQ(grt_chan_free(c), GRT_OK);
    t_puts(1, "ok ready case\n");
}

static void test_nil_channels(void) {
    grt_chan *a = mk(4, 1);
    uint32_t x = 0, y = 5;
    grt_select_case cases[3] = {{0, GRT_RECV, -1, &x}, {a, GRT_RECV, -1, &x}, {0, GRT_SEND, -1, &y}};
    for (uint32_t i = 0; i < 100; i++) {
        CHECK_EQ(grt_chan_send(a, &i), GRT_OK);
        CHECK_EQ(grt_select(cases, 3, i & 1), 1);
        CHECK_EQ(x, i);
    }
    CHECK_EQ(grt_select(cases, 3, 0), GRT_EAGAIN);
    grt_select_case only_nil[2] = {{0, GRT_RECV, -1, &x}, {0, GRT_SEND, -1, &y}};
    CHECK_EQ(grt_select(only_nil, 2, 0), GRT_EAGAIN);
    CHECK_EQ(grt_chan_free(a), GRT_OK);
    t_puts(1, "ok nil channels\n");
}

static void test_closed(void) {
    grt_chan *empty = mk(8, 0), *closed = mk(8, 2);
    uint64_t v = 3;
    CHECK_EQ(grt_chan_send(closed, &v), GRT_OK);
    CHECK_EQ(grt_chan_close(closed), GRT_OK);
    uint64_t re = 1, rc = 0;
    grt_select_case cases[2] = {{empty, GRT_RECV, -1, &re}, {closed, GRT_RECV, -1, &rc}};
    CHECK_EQ(grt_select(cases, 2, 1), 1); /* the buffered value first */
    CHECK_EQ(cases[1].ok, 1);
    CHECK_EQ(rc, 3);
    rc = 0xdeadbeef;
    CHECK_EQ(grt_select(cases, 2, 1), 1); /* then closed: chosen with ok = 0 */
    CHECK_EQ(cases[1].ok, 0);
    CHECK_EQ(rc, 0);
    CHECK_EQ(re, 1);

    v = 4;
    grt_select_case send_closed[2] = {{empty, GRT_RECV, -1, &re}, {closed, GRT_SEND, -1, &v}};
    CHECK_EQ(grt_select(send_closed, 2, 1), 1);
    CHECK_EQ(send_closed[1].ok, 0);
    CHECK_EQ(grt_chan_len(closed), 0);
    CHECK_EQ(grt_chan_free(empty), GRT_OK);
    CHECK_EQ(grt_chan_free(closed), GRT_OK);
    t_puts(1, "ok closed\n");
}

static void test_fairness(void) {
    grt_chan *x = mk(4, 1), *y = mk(4, 1);
    uint32_t v = 1, r = 0;
    CHECK_EQ(grt_chan_send(x, &v), GRT_OK);
    CHECK_EQ(grt_chan_send(y, &v), GRT_OK);
    grt_select_case cases[2] = {{x, GRT_RECV, -1, &r}, {y, GRT_RECV, -1, &r}};
    int count[2] = {0, 0};
    for (int i = 0; i < 2000; i++) {
        int k = grt_select(cases, 2, i & 1);
        CHECK(k == 0 || k == 1);
        count[k]++;
        CHECK_EQ(grt_chan_send(cases[k].chan, &v), GRT_OK); /* ready again */
    }
    /* Uniform choice: 1000 each on average, standard deviation about 22. */
    CHECK(count[0] > 700);
    CHECK(count[1] > 700);
    CHECK_EQ(grt_chan_free(x), GRT_OK);
    CHECK_EQ(grt_chan_free(y), GRT_OK);
    t_puts(1, "ok fairness\n");
}

static grt_chan *late_ch;
static uint64_t late_got;

static void late_receiver(void *arg) {
    (void)arg;
    CHECK_EQ(grt_sleep_ns(10 * MS), GRT_OK);
    CHECK_EQ(grt_chan_recv(late_ch, &late_got), GRT_OK);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void test_send_case(void) {
    grt_chan *never = mk(8, 0);
    late_ch = mk(8, 0);
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(late_receiver, 0), GRT_OK);
    uint64_t v = 42, r = 0;
    grt_select_case cases[2] = {{never, GRT_RECV, -1, &r}, {late_ch, GRT_SEND, -1, &v}};
    /* The receiver sleeps 10 ms first: normally nobody receives yet. */
    int k = grt_select(cases, 2, 0);
    CHECK(k == GRT_EAGAIN || k == 1);
    if (k == GRT_EAGAIN) k = grt_select(cases, 2, 1);
    CHECK_EQ(k, 1);
    CHECK_EQ(cases[1].ok, 1);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(late_got, 42);
    CHECK_EQ(grt_chan_free(never), GRT_OK);
    CHECK_EQ(grt_chan_free(late_ch), GRT_OK);
    t_puts(1, "ok send case\n");
}

static grt_chan *ua, *ub;

static void send_after(void *arg) {
    uint64_t v = (uint64_t)(uintptr_t)arg;
    CHECK_EQ(grt_sleep_ns(10 * MS), GRT_OK);
    CHECK_EQ(grt_chan_send(v == 5 ? ub : ua, &v), GRT_OK);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void test_wake_and_dequeue(void) {
    ua = mk(8, 0);
    ub = mk(8, 0);
    for (int round = 0; round < 10; round++) {
        CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
        CHECK_EQ(grt_go(send_after, (void *)5), GRT_OK);
        uint64_t ra = 0, rb = 0;
        grt_select_case cases[2] = {{ua, GRT_RECV, -1, &ra}, {ub, GRT_RECV, -1, &rb}};
        CHECK_EQ(grt_select(cases, 2, 1), 1); /* parks, woken by the send on ub */
        CHECK_EQ(cases[1].ok, 1);
        CHECK_EQ(rb, 5);
        CHECK_EQ(ra, 0);
        CHECK_EQ(grt_wg_wait(&wg), GRT_OK);

        /* The finished select must not still be queued on ua: this value goes to us. */
        CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
        CHECK_EQ(grt_go(send_after, (void *)6), GRT_OK);
        CHECK_EQ(grt_chan_recv(ua, &ra), GRT_OK);
        CHECK_EQ(ra, 6);
        CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    }
    CHECK_EQ(grt_chan_free(ua), GRT_OK);
    CHECK_EQ(grt_chan_free(ub), GRT_OK);
    t_puts(1, "ok wake and dequeue\n");
}

#define PER_PRODUCER 1000
#define TO_SINK 500
static grt_chan *p1, *p2, *sink;
static uint64_t sink_sum, sink_count;

static void produce(void *arg) {
    grt_chan *c = arg;
    for (uint64_t i = 1; i <= PER_PRODUCER; i++) CHECK_EQ(grt_chan_send(c, &i), GRT_OK);
    CHECK_EQ(grt_chan_close(c), GRT_OK);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void drain_sink(void *arg) {
    (void)arg;
    uint64_t v;
    while (grt_chan_recv(sink, &v) == GRT_OK) {
        sink_sum += v;
        sink_count++;
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void test_two_producers(void) {
    p1 = mk(8, 0);
    p2 = mk(8, 0);
    sink = mk(8, 0);
    CHECK_EQ(grt_wg_add(&wg, 3), GRT_OK);
    CHECK_EQ(grt_go(produce, p1), GRT_OK);
    CHECK_EQ(grt_go(produce, p2), GRT_OK);
    CHECK_EQ(grt_go(drain_sink, 0), GRT_OK);
    uint64_t r1 = 0, r2 = 0, out = 0, last[2] = {0, 0}, sum[2] = {0, 0}, sent = 0;
    grt_select_case cases[3] = {
        {p1, GRT_RECV, -1, &r1}, {p2, GRT_RECV, -1, &r2}, {sink, GRT_SEND, -1, &out}};
    while (cases[0].chan || cases[1].chan) {
        out = sent + 1;
        if (sent == TO_SINK) cases[2].chan = 0;
        int k = grt_select(cases, 3, 1);
        CHECK(k >= 0 && k <= 2);
        if (k == 2) {
            CHECK_EQ(cases[2].ok, 1);
            sent++;
            continue;
        }
        if (!cases[k].ok) {
            cases[k].chan = 0; /* closed: never again */
            continue;
        }
        uint64_t v = k == 0 ? r1 : r2;
        CHECK_EQ(v, last[k] + 1); /* in order per channel */
        last[k] = v;
        sum[k] += v;
    }
    CHECK_EQ(last[0], PER_PRODUCER);
    CHECK_EQ(last[1], PER_PRODUCER);
    CHECK_EQ(sum[0], (uint64_t)PER_PRODUCER * (PER_PRODUCER + 1) / 2);
    CHECK_EQ(sum[1], sum[0]);
    /* Top the sink up if the producers finished first, then let the drainer end. */
    for (; sent < TO_SINK; sent++) {
        out = sent + 1;
        CHECK_EQ(grt_chan_send(sink, &out), GRT_OK);
    }
    CHECK_EQ(grt_chan_close(sink), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(sink_count, TO_SINK);
    CHECK_EQ(sink_sum, (uint64_t)TO_SINK * (TO_SINK + 1) / 2);
    CHECK_EQ(grt_chan_free(p1), GRT_OK);
    CHECK_EQ(grt_chan_free(p2), GRT_OK);
    CHECK_EQ(grt_chan_free(sink), GRT_OK);
    t_puts(1, "ok two producers\n");
}

#define RACE_N 3000
static grt_chan *shared, *never_ready;
static uint8_t race_seen[RACE_N + 1];
static uint64_t race_total;

static void selector(void *arg) {
    (void)arg;
    uint32_t v = 0, dummy = 0;
    grt_select_case cases[2] = {{never_ready, GRT_RECV, -1, &dummy}, {shared, GRT_RECV, -1, &v}};
    for (;;) {
        CHECK_EQ(grt_select(cases, 2, 1), 1);
        if (!cases[1].ok) break;
        CHECK(v >= 1 && v <= RACE_N);
        CHECK_EQ(__atomic_fetch_add(&race_seen[v], 1, __ATOMIC_RELAXED), 0);
        __atomic_fetch_add(&race_total, 1, __ATOMIC_RELAXED);
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void test_racing_selectors(void) {
    shared = mk(4, 4);
    never_ready = mk(4, 0);
    CHECK_EQ(grt_wg_add(&wg, 3), GRT_OK);
    for (int i = 0; i < 3; i++) CHECK_EQ(grt_go(selector, 0), GRT_OK);
    for (uint32_t v = 1; v <= RACE_N; v++) CHECK_EQ(grt_chan_send(shared, &v), GRT_OK);
    CHECK_EQ(grt_chan_close(shared), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(race_total, RACE_N);
    for (int v = 1; v <= RACE_N; v++) CHECK_EQ(race_seen[v], 1);
    CHECK_EQ(grt_chan_free(shared), GRT_OK);
    CHECK_EQ(grt_chan_free(never_ready), GRT_OK);
    t_puts(1, "ok racing selectors\n");
}

static void main_g(void *arg) {
    (void)arg;
    test_ready_case();
    test_nil_channels();
    test_closed();
    test_fairness();
    test_send_case();
    test_wake_and_dequeue();
    test_two_producers();
    test_racing_selectors();
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
