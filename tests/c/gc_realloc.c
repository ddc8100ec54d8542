/* grt-test: exit=0 stdout="ok vectors grown by grt_realloc kept every object" stdout="PASS" env="GRTMAXPROCS=2"
 *
 * grt_realloc while the collector marks: 32 vectors (grt_alloc'd arrays of pointers) hold
 * tracked objects, and nothing else does. Each round appends to a vector and grows it with
 * grt_realloc, which copies the pointers into a new object and leaves the old one to the
 * collector; another goroutine runs collections back to back. A new object is born marked
 * while a cycle marks, so what grt_realloc copies into it must be shaded, or the objects
 * only it holds are freed: every object is checked after every growth, and a freed one is
 * also caught when its memory is handed out again (tobj_new). Runs GRT_STRESS_MS (default
 * 1000). Teeth: gc_realloc_teeth.c (GRTDEBUG=gcnoreallocshade=1).
 */
#include "gc_tobj.h"

#ifndef STRESS_DEFAULT_MS
#define STRESS_DEFAULT_MS 1000
#endif
#define NVEC 32
#define MAXLEN 512

struct vec {
    unsigned len;
    struct tobj *item[];
};

static struct vec *vecs[NVEC];
static uint64_t serials[NVEC][MAXLEN];
static volatile int stop;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;
static uint64_t stress_ms;

static void collector(void *arg) {
    (void)arg;
    while (!stop) CHECK_EQ(grt_gc(), GRT_OK);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void main_g(void *arg) {
    (void)arg;
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(collector, 0), GRT_OK);
    uint64_t end = grt_nanotime() + stress_ms * 1000000ull, rnd = 88172645463325252ull;
    unsigned long grows = 0;
    while (grt_nanotime() < end) {
        unsigned v = (unsigned)(tobj_rnd(&rnd) % NVEC);
        struct vec *old = vecs[v];
        unsigned len = old ? old->len : 0;
        if (len == MAXLEN) {
            vecs[v] = 0; /* start over: the whole vector becomes garbage */
            continue;
        }
        struct vec *nv = grt_realloc(old, sizeof(struct vec) + (len + 1) * sizeof(struct tobj *));
        CHECK(nv != 0);
        vecs[v] = nv; /* a global: no barrier needed */
        struct tobj *o = tobj_new();
        serials[v][len] = o->serial;
        GRT_STORE(&nv->item[len], o);
        nv->len = len + 1;
        for (unsigned i = 0; i < nv->len; i++) tobj_check("gc_realloc", "", i, nv->item[i], serials[v][i]);
        grows++;
        if (grows % 64 == 0) grt_yield();
    }
    stop = 1;
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    struct grt_gc_stats st;
    CHECK_EQ(grt_gc_stats(&st), GRT_OK);
    t_puts(1, "covered:");
    t_put_kv("grows", grows);
    t_put_kv("cycles", st.cycles);
    t_puts(1, "\n");
    CHECK(st.cycles > 2);
    t_puts(1, "ok vectors grown by grt_realloc kept every object\n");
}

int main(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    stress_ms = t_env_u64(envp, "GRT_STRESS_MS", STRESS_DEFAULT_MS);
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
