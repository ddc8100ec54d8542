/* grt-test: exit=0 stdout="worker 0 done: 2000 rounds" stdout="worker 7 done: 2000 rounds" stdout="ok libc from goroutines" stdout="PASS" env="GRTMAXPROCS=4" builds=hosted
 *
 * libc from goroutines on 4 Ms (pthreads): 8 goroutines x 2,000 rounds of malloc/free (a
 * ring of 8 live blocks each, filled with a pattern that is checked before the block is
 * freed; every 10th block is freed by another goroutine it is sent to over a channel),
 * snprintf/sscanf round trips, qsort, and printf, with grt_yield between rounds so that
 * goroutines move between Ms in the middle of their work. Every byte and every formatted
 * string is checked; the stdio and malloc locks are taken on whatever M the goroutine is on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define WORKERS 8
#define ROUNDS 2000
#define RING 8

struct block {
    unsigned char *p;
    size_t n;
    unsigned seed;
};

static grt_chan *to_freer;
static grt_waitgroup wg = GRT_WAITGROUP_INIT, freer_wg = GRT_WAITGROUP_INIT;
static long freed_by_freer;

static void fill(const struct block *b) {
    for (size_t j = 0; j < b->n; j++) b->p[j] = (unsigned char)(b->seed + j * 7);
}

static void check_and_free(struct block *b) {
    for (size_t j = 0; j < b->n; j++) CHECK_EQ(b->p[j], (unsigned char)(b->seed + j * 7));
    free(b->p);
    b->p = NULL;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void freer(void *arg) {
    (void)arg;
    struct block b;
    while (grt_chan_recv(to_freer, &b) == GRT_OK) {
        check_and_free(&b);
        freed_by_freer++;
    }
    CHECK_EQ(grt_wg_done(&freer_wg), GRT_OK);
}

static void worker(void *arg) {
    int g = (int)(uintptr_t)arg;
    struct block ring[RING];
    memset(ring, 0, sizeof ring);
    char buf[128];
    for (int i = 0; i < ROUNDS; i++) {
        struct block *b = &ring[i % RING];
        if (b->p) check_and_free(b);
        b->n = 16 + (size_t)((g * 131 + i * 37) % 500);
        b->seed = (unsigned)(g * 31 + i);
        b->p = malloc(b->n);
        CHECK(b->p != NULL);
        fill(b);
        if (i % 10 == 9) { /* hand it to the freer goroutine instead */
            CHECK_EQ(grt_chan_send(to_freer, b), GRT_OK);
            b->p = NULL;
        }

        int len = snprintf(buf, sizeof buf, "g%d i%d %.3f %s", g, i, i / 8.0, "tail");
        CHECK(len > 0 && len < (int)sizeof buf);
        CHECK_EQ(strlen(buf), (size_t)len);
        int g2 = -1, i2 = -1;
        double d = -1;
        char word[16] = "";
        CHECK_EQ(sscanf(buf, "g%d i%d %lf %15s", &g2, &i2, &d, word), 4);
        CHECK_EQ(g2, g);
        CHECK_EQ(i2, i);
        CHECK(d == i / 8.0); /* exact: multiples of 1/8 print exactly with %.3f */
        CHECK(strcmp(word, "tail") == 0);

        if (i % 50 == 0) {
            int v[64];
            for (int j = 0; j < 64; j++) v[j] = (j * 37 + i) % 64;
            qsort(v, 64, sizeof v[0], cmp_int);
            for (int j = 0; j < 64; j++) CHECK_EQ(v[j], j);
        }
        if (i % 500 == 0) printf("worker %d at round %d\n", g, i);
        if (i % 20 == 0) CHECK_EQ(grt_yield(), GRT_OK);
    }
    for (int k = 0; k < RING; k++)
        if (ring[k].p) check_and_free(&ring[k]);
    printf("worker %d done: %d rounds\n", g, ROUNDS);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void main_g(void *arg) {
    (void)arg;
    CHECK_EQ(grt_maxprocs(), 4);
    CHECK_EQ(grt_chan_make(&to_freer, sizeof(struct block), 16), GRT_OK);
    CHECK_EQ(grt_wg_add(&freer_wg, 1), GRT_OK);
    CHECK_EQ(grt_go(freer, 0), GRT_OK);
    CHECK_EQ(grt_wg_add(&wg, WORKERS), GRT_OK);
    for (int g = 0; g < WORKERS; g++) CHECK_EQ(grt_go(worker, (void *)(uintptr_t)g), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(grt_chan_close(to_freer), GRT_OK);
    CHECK_EQ(grt_wg_wait(&freer_wg), GRT_OK);
    CHECK_EQ(freed_by_freer, WORKERS * ROUNDS / 10);
    CHECK_EQ(grt_chan_free(to_freer), GRT_OK);
    printf("ok libc from goroutines\n");
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    printf("PASS\n");
    return 0;
}
