/* grt-test: exit=0 stdout="ok mutex counter" stdout="ok trylock" stdout="ok lock hand-off" stdout="ok wait group" stdout="PASS" env="GRTMAXPROCS=4"
 *
 * grt_mutex and grt_waitgroup on 4 Ms:
 *   - 8 goroutines x 10,000 non-atomic read-modify-write increments under one mutex (taken
 *     with grt_mutex_lock, and every 7th time by spinning on grt_mutex_trylock), some of
 *     them yielding while holding it, give exactly 80,000, and never two goroutines are
 *     inside the critical section at once;
 *   - grt_mutex_trylock is GRT_EBUSY while the mutex is held (by us or by another
 *     goroutine), GRT_OK when it is free;
 *   - a goroutine parked in grt_mutex_lock does not get the mutex until it is unlocked,
 *     then does;
 *   - grt_wg_wait returns at once on zero; it returns only after every grt_wg_done, in
 *     every one of several waiting goroutines; a wait group can be reused; a negative
 *     delta that brings the counter to zero releases the waiters.
 */
#include "check.h"

#define MS 1000000LL
#define G 8
#define ITERS 10000

static grt_mutex mu = GRT_MUTEX_INIT;
static uint64_t counter;
static int inside;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static void incrementer(void *arg) {
    (void)arg;
    for (int i = 0; i < ITERS; i++) {
        if (i % 7 == 3) {
            int rc;
            while ((rc = grt_mutex_trylock(&mu)) == GRT_EBUSY) CHECK_EQ(grt_yield(), GRT_OK);
            CHECK_EQ(rc, GRT_OK);
        } else {
            CHECK_EQ(grt_mutex_lock(&mu), GRT_OK);
        }
        CHECK_EQ(__atomic_fetch_add(&inside, 1, __ATOMIC_RELAXED), 0);
        uint64_t v = *(volatile uint64_t *)&counter;
        if (i % 1000 == 999) CHECK_EQ(grt_yield(), GRT_OK); /* others must wait for us */
        *(volatile uint64_t *)&counter = v + 1;
        CHECK_EQ(__atomic_fetch_sub(&inside, 1, __ATOMIC_RELAXED), 1);
        CHECK_EQ(grt_mutex_unlock(&mu), GRT_OK);
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void test_counter(void) {
    CHECK_EQ(grt_wg_add(&wg, G), GRT_OK);
    for (int i = 0; i < G; i++) CHECK_EQ(grt_go(incrementer, 0), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(counter, (uint64_t)G * ITERS);
    CHECK_EQ(grt_mutex_trylock(&mu), GRT_OK); /* left unlocked */
    CHECK_EQ(grt_mutex_unlock(&mu), GRT_OK);
    t_puts(1, "ok mutex counter\n");
}

static int other_trylock = 1;

static void try_from_other(void *arg) {
    (void)arg;
    other_trylock = grt_mutex_trylock(&mu);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void test_trylock(void) {
    CHECK_EQ(grt_mutex_lock(&mu), GRT_OK);
    CHECK_EQ(grt_mutex_trylock(&mu), GRT_EBUSY); /* not recursive */
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(try_from_other, 0), GRT_OK);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(other_trylock, GRT_EBUSY);
    CHECK_EQ(grt_mutex_unlock(&mu), GRT_OK);
    CHECK_EQ(grt_mutex_trylock(&mu), GRT_OK);
    CHECK_EQ(grt_mutex_trylock(&mu), GRT_EBUSY);
    CHECK_EQ(grt_mutex_unlock(&mu), GRT_OK);
    t_puts(1, "ok trylock\n");
}

static int acquired;

static void lock_waiter(void *arg) {
    (void)arg;
    CHECK_EQ(grt_mutex_lock(&mu), GRT_OK);
    __atomic_store_n(&acquired, 1, __ATOMIC_RELEASE);
    CHECK_EQ(grt_mutex_unlock(&mu), GRT_OK);
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static void test_handoff(void) {
    for (int round = 0; round < 5; round++) {
        __atomic_store_n(&acquired, 0, __ATOMIC_RELAXED);
        CHECK_EQ(grt_mutex_lock(&mu), GRT_OK);
        CHECK_EQ(grt_wg_add(&wg, 3), GRT_OK);
        for (int i = 0; i < 3; i++) CHECK_EQ(grt_go(lock_waiter, 0), GRT_OK);
        CHECK_EQ(grt_sleep_ns(10 * MS), GRT_OK);
        CHECK_EQ(__atomic_load_n(&acquired, __ATOMIC_ACQUIRE), 0);
        CHECK_EQ(grt_mutex_unlock(&mu), GRT_OK);
        CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
        CHECK_EQ(__atomic_load_n(&acquired, __ATOMIC_ACQUIRE), 1);
    }
    t_puts(1, "ok lock hand-off\n");
}

static grt_waitgroup work = GRT_WAITGROUP_INIT, watchers = GRT_WAITGROUP_INIT;
static int finished[G];

static void sleeper(void *arg) {
    uintptr_t i = (uintptr_t)arg;
    CHECK_EQ(grt_sleep_ns((int64_t)(i + 1) * 2 * MS), GRT_OK);
    __atomic_store_n(&finished[i], 1, __ATOMIC_RELEASE);
    CHECK_EQ(grt_wg_done(&work), GRT_OK);
}

static int n_finished(void) {
    int n = 0;
    for (int i = 0; i < G; i++) n += __atomic_load_n(&finished[i], __ATOMIC_ACQUIRE);
    return n;
}

static void watcher(void *arg) {
    uintptr_t want = (uintptr_t)arg;
    CHECK_EQ(grt_wg_wait(&work), GRT_OK);
    CHECK_EQ(n_finished(), (int)want);
    CHECK_EQ(grt_wg_done(&watchers), GRT_OK);
}

static void test_waitgroup(void) {
    grt_waitgroup zero = GRT_WAITGROUP_INIT;
    CHECK_EQ(grt_wg_wait(&zero), GRT_OK);

    /* Three watchers and main wait for 8 sleepers. */
    CHECK_EQ(grt_wg_add(&work, G), GRT_OK);
    CHECK_EQ(grt_wg_add(&watchers, 3), GRT_OK);
    for (int i = 0; i < 3; i++) CHECK_EQ(grt_go(watcher, (void *)G), GRT_OK);
    for (uintptr_t i = 0; i < G; i++) CHECK_EQ(grt_go(sleeper, (void *)i), GRT_OK);
    CHECK_EQ(grt_wg_wait(&work), GRT_OK);
    CHECK_EQ(n_finished(), G);
    CHECK_EQ(grt_wg_wait(&watchers), GRT_OK);

    /* The same wait group again, for half as many. */
    for (int i = 0; i < G; i++) finished[i] = 0;
    CHECK_EQ(grt_wg_add(&work, G / 2), GRT_OK);
    CHECK_EQ(grt_wg_add(&watchers, 1), GRT_OK);
    CHECK_EQ(grt_go(watcher, (void *)(G / 2)), GRT_OK);
    for (uintptr_t i = 0; i < G / 2; i++) CHECK_EQ(grt_go(sleeper, (void *)i), GRT_OK);
    CHECK_EQ(grt_wg_wait(&work), GRT_OK);
    CHECK_EQ(n_finished(), G / 2);
    CHECK_EQ(grt_wg_wait(&watchers), GRT_OK);

    /* A negative delta down to zero releases a waiter. */
    CHECK_EQ(grt_wg_add(&work, 3), GRT_OK);
    CHECK_EQ(grt_wg_add(&watchers, 1), GRT_OK);
    CHECK_EQ(grt_go(watcher, (void *)(G / 2)), GRT_OK);
    CHECK_EQ(grt_sleep_ns(5 * MS), GRT_OK);
    CHECK_EQ(grt_wg_add(&work, -3), GRT_OK);
    CHECK_EQ(grt_wg_wait(&watchers), GRT_OK);
    t_puts(1, "ok wait group\n");
}

static void main_g(void *arg) {
    (void)arg;
    CHECK_EQ(grt_maxprocs(), 4);
    test_counter();
    test_trylock();
    test_handoff();
    test_waitgroup();
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
