/* grt-test: exit=0 stdout="PASS" builds=hosted profile=valid
 *
 * The profiler holds the shared libraries loaded at its start until it stops (its signal
 * handler reads their code and unwind tables in place, and must never read an unmapped
 * page): a dlclose while it runs takes effect at grt_prof_stop, and a library is not kept
 * loaded after it. Twice, so a second run takes and drops its own references.
 */
#include <dlfcn.h>
#include <stdlib.h>

#include "check.h"

#define LIB "libresolv.so.2"

static int loaded(void) {
    void *h = dlopen(LIB, RTLD_LAZY | RTLD_NOLOAD);
    if (h) dlclose(h);
    return h != NULL;
}

int main(void) {
    const char *path = getenv("GRT_TEST_PROFILE");
    CHECK(path);
    CHECK(!loaded());
    for (int run = 0; run < 2; run++) {
        void *h = dlopen(LIB, RTLD_NOW | RTLD_LOCAL);
        CHECK(h);
        CHECK(dlsym(h, "__dn_expand") || dlsym(h, "dn_expand"));
        CHECK(grt_prof_start(100, path) == GRT_OK);
        CHECK(dlclose(h) == 0);
        CHECK(loaded()); /* held by the profiler */
        CHECK(grt_prof_stop() == GRT_OK);
        CHECK(!loaded()); /* and let go at the stop */
    }
    /* Loaded after the start: not held. */
    CHECK(grt_prof_start(100, path) == GRT_OK);
    void *h = dlopen(LIB, RTLD_NOW | RTLD_LOCAL);
    CHECK(h);
    CHECK(dlclose(h) == 0);
    CHECK(!loaded());
    CHECK(grt_prof_stop() == GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
