/* grt-test: exit=0 stdout="fast job: result 42 arrived before the 200 ms timeout" stdout="slow job: gave up after the 50 ms timeout" stdout="poll: nothing ready (GRT_EAGAIN)"
 *
 * grt_select with a timeout. There are no timer channels in grt, so a timeout is a goroutine
 * that sleeps and then sends on a channel; the select waits for whichever comes first: the
 * job's result or the timeout. A non-blocking select (block = 0) polls instead.
 */
#include <grt.h>
#include <stdio.h>

#define MS 1000000LL

struct job {
    int64_t work_ns;
    grt_chan *result; /* buffered (1): the job never blocks, even if nobody listens any more */
};

static void run_job(void *arg) {
    struct job *j = arg;
    grt_sleep_ns(j->work_ns); /* "working" */
    int v = 42;
    grt_chan_send(j->result, &v);
}

struct timer {
    int64_t ns;
    grt_chan *fired;
};

static void run_timer(void *arg) {
    struct timer *t = arg;
    grt_sleep_ns(t->ns);
    grt_chan_send(t->fired, NULL); /* elements of size 0: just a signal */
}

/* Starts a job and a timeout; returns 1 if the job answered first. */
static int job_with_timeout(struct job *j, struct timer *t, int *out) {
    grt_chan_make(&j->result, sizeof(int), 1);
    grt_chan_make(&t->fired, 0, 1);
    grt_go(run_job, j);
    grt_go(run_timer, t);
    grt_select_case cases[2] = {
        {j->result, GRT_RECV, 0, out},
        {t->fired, GRT_RECV, 0, NULL},
    };
    return grt_select(cases, 2, 1) == 0;
}

static struct job fast = {20 * MS, NULL}, slow = {400 * MS, NULL};
static struct timer long_timeout = {200 * MS, NULL}, short_timeout = {50 * MS, NULL};

static void main_goroutine(void *arg) {
    (void)arg;
    int v = 0;
    if (job_with_timeout(&fast, &long_timeout, &v))
        printf("fast job: result %d arrived before the 200 ms timeout\n", v);
    else
        printf("fast job: timed out\n");

    uint64_t t0 = grt_nanotime();
    if (job_with_timeout(&slow, &short_timeout, &v))
        printf("slow job: answered %d\n", v);
    else
        printf("slow job: gave up after the 50 ms timeout (waited %llu ms)\n",
               (unsigned long long)((grt_nanotime() - t0) / MS));

    /* The slow job is still running; poll its channel without waiting. */
    grt_select_case poll = {slow.result, GRT_RECV, 0, &v};
    int rc = grt_select(&poll, 1, 0);
    printf("poll: %s\n", rc == GRT_EAGAIN ? "nothing ready (GRT_EAGAIN)" : "the slow job answered");
}

int main(void) {
    return grt_main(main_goroutine, NULL) == GRT_OK ? 0 : 1;
}
