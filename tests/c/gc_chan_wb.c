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
#include "check.h"

#ifndef CHAN_DEFAULT_MS
#define CHAN_DEFAULT_MS 1000
#endif

#define NPAIR 2 /* 0: unbuffered, 1: buffered */
#define NSLOT 128

struct obj {
    uintptr_t self;
    uint64_t serial;
    uint64_t pat;
    uint64_t pad[3];
};

struct pair {
    grt_chan *ch;
    uint64_t rng;
    struct obj **arr; /* grt_alloc'd: a scanned heap object */
    uint64_t serial[NSLOT];
    uint64_t received;
};

static struct pair pairs[NPAIR];
static uint64_t next_serial;
static volatile int stop;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;
static uint64_t deadline_ms;

static uint64_t pat(uint64_t s) { return (s * 0x9e3779b97f4a7c15ull) | 0x8000000000000001ull; }

static uint64_t rnd(struct pair *p) {
    p->rng ^= p->rng << 13;
    p->rng ^= p->rng >> 7;
    p->rng ^= p->rng << 17;
    return p->rng;
}

static __attribute__((noinline)) struct obj *new_obj(void) {
    uint64_t s = __atomic_add_fetch(&next_serial, 1, __ATOMIC_RELAXED);
    struct obj *o = grt_alloc(sizeof *o);
    CHECK(o != 0);
    o->self = (uintptr_t)o;
    o->serial = s;
    o->pat = pat(s);
    return o;
}

static void check_slot(struct pair *p, unsigned i) {
    const struct obj *o = p->arr[i];
    uint64_t s = p->serial[i];
    if (!o && !s) return; /* the sender's last message */
    if (o->self != (uintptr_t)o || o->serial != s || o->pat != pat(s)) {
        t_puts(2, "gc_chan_wb: the object in slot ");
        t_putu(2, i, 10);
        t_puts(2, " of the ");
        t_puts(2, p == &pairs[0] ? "unbuffered" : "buffered");
        t_puts(2, " channel's array (serial ");
        t_putu(2, s, 10);
        t_puts(2, ") at 0x");
        t_putu(2, (uintptr_t)o, 16);
        t_puts(2, " was freed while reachable: it holds serial ");
        t_putu(2, o->serial, 10);
        t_puts(2, "\n");
        grt_exit(1);
    }
}

static void sender(void *arg) {
    struct pair *p = arg;
    struct obj *o;
    while (!stop) {
        o = new_obj();
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
        CHECK_EQ(grt_chan_make(&p->ch, sizeof(struct obj *), k == 0 ? 0 : 4), GRT_OK);
        p->arr = grt_alloc(NSLOT * sizeof(struct obj *));
        CHECK(p->arr != 0);
        for (unsigned i = 0; i < NSLOT; i++) {
            struct obj *o = new_obj();
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
