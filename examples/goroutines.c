/* grt-test: exit=0 stdout="main: started 5 workers" stdout="main: all 5 workers done" stdout="worker 3: sum of 1..3000 = 4501500" stdout="main: 5 results, 27507500 in all"
 *
 * Goroutines and a wait group: the main goroutine starts five workers with grt_go, each
 * adds up its share of numbers and stores its result, and grt_wg_wait waits for all of
 * them. Build: cc -fno-omit-frame-pointer goroutines.c -Iinclude libgrt.a -lpthread
 */
#include <grt.h>
#include <inttypes.h>
#include <stdio.h>

#define WORKERS 5

struct job {
    int id;
    uint64_t n;      /* add up 1..n */
    uint64_t result;
    uint64_t goid;   /* which goroutine did it */
};

static struct job jobs[WORKERS];
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static void worker(void *arg) {
    struct job *j = arg;
    j->goid = grt_goid();
    uint64_t sum = 0;
    for (uint64_t i = 1; i <= j->n; i++) {
        sum += i;
        if (i % 500 == 0) grt_yield(); /* let the others have a turn */
    }
    j->result = sum;
    printf("  worker %d (goroutine %" PRIu64 "): finished\n", j->id, j->goid);
    grt_wg_done(&wg);
}

static void main_goroutine(void *arg) {
    (void)arg;
    printf("main: goroutine %" PRIu64 " on %d Ms (GRTMAXPROCS)\n", grt_goid(), grt_maxprocs());
    grt_wg_add(&wg, WORKERS);
    for (int i = 0; i < WORKERS; i++) {
        jobs[i].id = i + 1;
        jobs[i].n = (uint64_t)(i + 1) * 1000;
        if (grt_go(worker, &jobs[i]) != GRT_OK) return;
    }
    printf("main: started %d workers\n", WORKERS);
    grt_wg_wait(&wg);
    printf("main: all %d workers done\n", WORKERS);
    uint64_t total = 0;
    for (int i = 0; i < WORKERS; i++) {
        printf("worker %d: sum of 1..%" PRIu64 " = %" PRIu64 "\n", jobs[i].id, jobs[i].n,
               jobs[i].result);
        total += jobs[i].result;
    }
    printf("main: %d results, %" PRIu64 " in all\n", WORKERS, total);
}

int main(void) {
    int rc = grt_main(main_goroutine, NULL);
    if (rc != GRT_OK) {
        fprintf(stderr, "grt_main: %s\n", grt_strerror(rc));
        return 1;
    }
    return 0;
}
