/* grt-test: exit=0 stdout="balance: 4000 (4 tellers x 1000 deposits of 1)" stdout="trylock while main holds it: GRT_EBUSY" stdout="trylock after unlock: GRT_OK"
 *
 * grt_mutex: four teller goroutines deposit into one account, each deposit a
 * read-modify-write under the mutex, so none is lost even with the tellers on several Ms.
 * A goroutine blocked on the mutex parks (its M runs other goroutines), never spins the OS
 * thread. grt_mutex_trylock takes the mutex only if it is free.
 */
#include <grt.h>
#include <stdio.h>

#define TELLERS 4
#define DEPOSITS 1000

static grt_mutex mu = GRT_MUTEX_INIT;
static long balance;
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static void teller(void *arg) {
    (void)arg;
    for (int i = 0; i < DEPOSITS; i++) {
        grt_mutex_lock(&mu);
        long b = balance;
        if (i % 100 == 0) grt_yield(); /* others that want the lock must wait */
        balance = b + 1;
        grt_mutex_unlock(&mu);
    }
    grt_wg_done(&wg);
}

static void main_goroutine(void *arg) {
    (void)arg;
    grt_wg_add(&wg, TELLERS);
    for (int i = 0; i < TELLERS; i++) grt_go(teller, NULL);
    grt_wg_wait(&wg);
    printf("balance: %ld (%d tellers x %d deposits of 1)\n", balance, TELLERS, DEPOSITS);

    grt_mutex_lock(&mu);
    int rc = grt_mutex_trylock(&mu);
    printf("trylock while main holds it: %s\n", rc == GRT_EBUSY ? "GRT_EBUSY" : grt_strerror(rc));
    grt_mutex_unlock(&mu);
    rc = grt_mutex_trylock(&mu);
    printf("trylock after unlock: %s\n", rc == GRT_OK ? "GRT_OK" : grt_strerror(rc));
    grt_mutex_unlock(&mu);
}

int main(void) {
    return grt_main(main_goroutine, NULL) == GRT_OK ? 0 : 1;
}
