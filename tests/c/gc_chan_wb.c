/* grt-test: exit=0 stdout="PASS" env="GRTMAXPROCS=2" env="GRTGC=off"
 *
 * Channels' write barrier. A channel operation is the one place where grt itself copies the
 * program's words from one goroutine's memory into another's: a send hands its element
 * straight to a waiting receiver, a receive takes it from a parked sender or from the buffer.
 * The destination can be a heap object that the collector has already scanned, as here, where
 * receivers receive straight into slots of a heap array. grt shades the words it copies while
 * a cycle marks (Go's sendDirect does the same with typeBitsBulkBarrier). Without that, an
 * object allocated before the cycle, held only by a sender that is parked in grt_chan_send,
 * and received into the array after the collector scanned it, is lost once the sender has
 * moved on to its next object before its own stack is scanned.
 *
 * For each of an unbuffered and a 4-slot buffered channel: a sender goroutine allocates
 * objects (serial, own address, a pattern) and sends pointers to them, keeping nothing; a
 * receiver goroutine checks the slot it is about to overwrite, sleeps 0 to 400 us (so the
 * sender is parked in its send most of the time), then receives into a random slot of its
 * heap array and records the serial. The main goroutine runs grt_gc back to back for
 * GRT_STRESS_MS (default 1 s); every slot is checked at the end as well.
 *
 * Teeth: gc_chan_wb_teeth.c runs this in the test-only build with GRTDEBUG=gcnochanbarrier=1
 * and must die with "was freed".
 */
#include "gc_tobj.h"

#ifndef CHAN_DEFAULT_MS
#define CHAN_DEFAULT_MS 1000
#endif

#define NPAIR 2 /* 0: unbuffered, 1: buffered */
#define NSLOT 128

struct pair {
    grt_chan *ch;
    uint64_t rng;
    struct tobj **arr; /* grt_alloc'd: a scanned heap object */
    uint64_t serial[NSLOT];
    uint64_t received;
};

static struct pair pairs[NPAIR];
static volatile int stop;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;
static uint64_t deadline_ms;

static uint64_t rnd(struct pair *p) { return tobj_rnd(&p->rng); }

static void check_slot(struct pair *p, unsigned i) {
    if (!p->arr[i] && !p->serial[i]) return; /* the sender's last message */
    tobj_check("gc_chan_wb", p == &pairs[0] ? " of the unbuffered channel's array"
                                            : " of the buffered channel's array",
               i, p->arr[i], p->serial[i]);
}

static void sender(void *arg) {
    struct pair *p = arg;
    struct tobj *o;
    while (!stop) {
        o = tobj_new();
        CHECK_EQ(grt_chan_send(p->ch, &o), GRT_OK);
    }
    o = 0; /* the last message: the receiver stops */
    CHECK_EQ(grt_chan_send(p->ch, &o), GRT_OK);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void receiver(void *arg) {
    struct pair *p = arg;
    for (;;) {
        unsigned i = (unsigned)(rnd(p) % NSLOT);
        check_slot(p, i);
        CHECK_EQ(grt_sleep_ns((int64_t)(rnd(p) % 400) * 1000), GRT_OK);
        CHECK_EQ(grt_chan_recv(p->ch, &p->arr[i]), GRT_OK);
        if (!p->arr[i]) {
            p->serial[i] = 0;
            break;
        }
        p->serial[i] = p->arr[i]->serial;
        p->received++;
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void main_g(void *arg) {
    (void)arg;
    for (int k = 0; k < NPAIR; k++) {
        struct pair *p = &pairs[k];
        p->rng = 0x243f6a8885a308d3ull * (uint64_t)(k + 1);
        CHECK_EQ(grt_chan_make(&p->ch, sizeof(struct tobj *), k == 0 ? 0 : 4), GRT_OK);
        p->arr = grt_alloc(NSLOT * sizeof(struct tobj *));
        CHECK(p->arr != 0);
        for (unsigned i = 0; i < NSLOT; i++) {
            struct tobj *o = tobj_new();
            GRT_STORE(&p->arr[i], o);
            p->serial[i] = o->serial;
        }
    }
    CHECK_EQ(grt_wg_add(&wg, 2 * NPAIR), GRT_OK);
    for (int k = 0; k < NPAIR; k++) {
        CHECK_EQ(grt_go(sender, &pairs[k]), GRT_OK);
        CHECK_EQ(grt_go(receiver, &pairs[k]), GRT_OK);
    }
    uint64_t end = grt_nanotime() + deadline_ms * 1000000ull;
    while (grt_nanotime() < end) CHECK_EQ(grt_gc(), GRT_OK);
    stop = 1;
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(grt_gc(), GRT_OK);
    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    t_puts(1, "covered:");
    t_put_kv("cycles", st.cycles);
    for (int k = 0; k < NPAIR; k++) {
        for (unsigned j = 0; j < NSLOT; j++) check_slot(&pairs[k], j);
        t_put_kv(k == 0 ? "received_unbuffered" : "received_buffered", pairs[k].received);
        CHECK(pairs[k].received > 0);
    }
    t_puts(1, "\n");
    t_puts(1, "PASS\n");
}

/* GRT_STRESS_MS=n in the environment: run n ms. */
int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    deadline_ms = t_env_u64(envp, "GRT_STRESS_MS", CHAN_DEFAULT_MS);
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    return 0;
}
