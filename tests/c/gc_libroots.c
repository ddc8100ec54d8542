/* grt-test: exit=0 stdout="ok objects kept only in a library's data survive 1000 cycles" stdout="PASS" builds=hosted env="GRTMAXPROCS=2"
 *
 * Shared libraries' data is a root. After grt_main has started (and after some cycles), the
 * test dlopens its own library (gc_libroots_lib.c) and keeps 128 tracked objects only in the
 * library's globals (64 in its bss, 64 in its data). Then 1,000 collections, with garbage
 * allocated between them so that a freed object's memory is handed out again (tobj_new
 * checks that a fresh object is zero), and every 100 cycles each object is checked: intact,
 * with its serial. The library's slots are also replaced now and then (a plain store into a
 * library's global, as into the executable's, needs no GRT_STORE).
 * Teeth: gc_libroots_teeth.c (GRTDEBUG=gcnolibroots=1) must lose them.
 */
#include <dlfcn.h>
#include <stdlib.h>

#include "gc_tobj.h"

#define CYCLES 1000
#define SLOTS 64

static uint64_t bss_serial[SLOTS], data_serial[SLOTS];
static void **bss_slot, **data_slot;

/* Fills the library's slots; no other pointer to the objects stays anywhere. */
static __attribute__((noinline, noipa)) void fill(int from, int step) {
    for (int i = from; i < SLOTS; i += step) {
        struct tobj *o = tobj_new();
        bss_serial[i] = o->serial;
        bss_slot[i] = o;
        o = tobj_new();
        data_serial[i] = o->serial;
        data_slot[i] = o;
    }
}

static __attribute__((noinline, noipa)) void churn(int n) {
    for (int i = 0; i < n; i++) (void)tobj_new();
}

static void check_all(void) {
    for (int i = 0; i < SLOTS; i++) {
        tobj_check("gc_libroots", " of the library's bss", (unsigned)i, bss_slot[i], bss_serial[i]);
        tobj_check("gc_libroots", " of the library's data", (unsigned)i, data_slot[i], data_serial[i]);
    }
}

static void main_g(void *arg) {
    (void)arg;
    for (int i = 0; i < 3; i++) CHECK_EQ(grt_gc(), GRT_OK);
    const char *path = getenv("GRT_TEST_LIB");
    CHECK(path != 0);
    void *h = dlopen(path, RTLD_NOW);
    CHECK(h != 0);
    bss_slot = dlsym(h, "lib_bss_slot");
    data_slot = dlsym(h, "lib_data_slot");
    CHECK(bss_slot != 0 && data_slot != 0);
    fill(0, 1);
    for (int c = 1; c <= CYCLES; c++) {
        churn(200);
        CHECK_EQ(grt_gc(), GRT_OK);
        if (c % 100 == 0) {
            check_all();
            fill(c / 100 % 4, 4); /* a quarter of the slots get new objects */
        }
    }
    check_all();
    t_puts(1, "ok objects kept only in a library's data survive 1000 cycles\n");
}

int main(void) {
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
