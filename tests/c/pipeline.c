/* grt-test: exit=0 stdout="ok pipeline" stdout="PASS" env="GRTMAXPROCS=4"
 *
 * A pipeline of goroutines on 4 Ms: a producer sends 1..3000 on an unbuffered channel;
 * three stages of three workers each (square -> add one -> drop multiples of 5) pass items
 * on over a buffered, an unbuffered and a buffered channel; each stage's output is closed by
 * a goroutine waiting on the stage's wait group, so the consumer (the main goroutine) reads
 * until GRT_ECLOSED. Every surviving input arrives exactly once with the right value, and
 * the count and the sum are exact.
 */
#include "check.h"

#define N 3000
#define WORKERS 3

struct item {
    uint64_t x; /* the original input */
    uint64_t v; /* the value computed so far */
};

enum kind { SQUARE, ADD_ONE, FILTER };

struct stage {
    enum kind kind;
    grt_chan *in, *out;
    grt_waitgroup wg;
    uint64_t handled;
};

static grt_chan *src;
static struct stage stages[3];
static uint8_t seen[N + 1];
static grt_waitgroup closers = GRT_WAITGROUP_INIT; /* producer + the closers */

static void producer(void *arg) {
    (void)arg;
    for (uint64_t x = 1; x <= N; x++) {
        struct item it = {x, x};
        CHECK_EQ(grt_chan_send(src, &it), GRT_OK);
    }
    CHECK_EQ(grt_chan_close(src), GRT_OK);
    CHECK_EQ(grt_wg_done(&closers), GRT_OK);
}

static void worker(void *arg) {
    struct stage *s = arg;
    struct item it;
    int rc;
    while ((rc = grt_chan_recv(s->in, &it)) == GRT_OK) {
        __atomic_fetch_add(&s->handled, 1, __ATOMIC_RELAXED);
        switch (s->kind) {
        case SQUARE:
            CHECK_EQ(it.v, it.x);
            it.v = it.x * it.x;
            break;
        case ADD_ONE:
            CHECK_EQ(it.v, it.x * it.x);
            it.v += 1;
            break;
        case FILTER:
            CHECK_EQ(it.v, it.x * it.x + 1);
            if (it.v % 5 == 0) continue;
            break;
        }
        if (it.x % 97 == 0) CHECK_EQ(grt_yield(), GRT_OK);
        CHECK_EQ(grt_chan_send(s->out, &it), GRT_OK);
    }
    CHECK_EQ(rc, GRT_ECLOSED);
    CHECK_EQ(it.x, 0); /* zeroed by the closed receive */
    CHECK_EQ(grt_wg_done(&s->wg), GRT_OK);
}

/* Closes a stage's output once all its workers are done. */
static void closer(void *arg) {
    struct stage *s = arg;
    CHECK_EQ(grt_wg_wait(&s->wg), GRT_OK);
    CHECK_EQ(grt_chan_close(s->out), GRT_OK);
    CHECK_EQ(grt_wg_done(&closers), GRT_OK);
}

static void main_g(void *arg) {
    (void)arg;
    grt_chan *c1, *c2, *c3;
    CHECK_EQ(grt_chan_make(&src, sizeof(struct item), 0), GRT_OK);
    CHECK_EQ(grt_chan_make(&c1, sizeof(struct item), 16), GRT_OK);
    CHECK_EQ(grt_chan_make(&c2, sizeof(struct item), 0), GRT_OK);
    CHECK_EQ(grt_chan_make(&c3, sizeof(struct item), 32), GRT_OK);
    struct stage init[3] = {
        {SQUARE, src, c1, GRT_WAITGROUP_INIT, 0},
        {ADD_ONE, c1, c2, GRT_WAITGROUP_INIT, 0},
        {FILTER, c2, c3, GRT_WAITGROUP_INIT, 0},
    };
    CHECK_EQ(grt_wg_add(&closers, 4), GRT_OK);
    for (int s = 0; s < 3; s++) {
        stages[s] = init[s];
        CHECK_EQ(grt_wg_add(&stages[s].wg, WORKERS), GRT_OK);
        for (int w = 0; w < WORKERS; w++) CHECK_EQ(grt_go(worker, &stages[s]), GRT_OK);
        CHECK_EQ(grt_go(closer, &stages[s]), GRT_OK);
    }
    CHECK_EQ(grt_go(producer, 0), GRT_OK);

    uint64_t count = 0, sum = 0;
    struct item it;
    int rc;
    while ((rc = grt_chan_recv(c3, &it)) == GRT_OK) {
        CHECK(it.x >= 1 && it.x <= N);
        CHECK_EQ(seen[it.x], 0);
        seen[it.x] = 1;
        CHECK_EQ(it.v, it.x * it.x + 1);
        CHECK(it.v % 5 != 0);
        count++;
        sum += it.v;
    }
    CHECK_EQ(rc, GRT_ECLOSED);

    uint64_t want_count = 0, want_sum = 0;
    for (uint64_t x = 1; x <= N; x++) {
        uint64_t v = x * x + 1;
        if (v % 5 == 0) {
            CHECK_EQ(seen[x], 0);
            continue;
        }
        CHECK_EQ(seen[x], 1);
        want_count++;
        want_sum += v;
    }
    CHECK_EQ(want_count, N - 2 * (N / 5)); /* x = 2, 3 (mod 5) are dropped */
    CHECK_EQ(count, want_count);
    CHECK_EQ(sum, want_sum);
    CHECK_EQ(stages[0].handled, N);
    CHECK_EQ(stages[1].handled, N);
    CHECK_EQ(stages[2].handled, N);
    CHECK_EQ(grt_wg_wait(&closers), GRT_OK); /* nobody is still inside grt_chan_close */
    CHECK_EQ(grt_chan_free(src), GRT_OK);
    CHECK_EQ(grt_chan_free(c1), GRT_OK);
    CHECK_EQ(grt_chan_free(c2), GRT_OK);
    CHECK_EQ(grt_chan_free(c3), GRT_OK);
    t_puts(1, "ok pipeline\n");
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
