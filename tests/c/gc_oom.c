/* grt-test: signal=6 stderr="fatal error: out of memory: cannot allocate 70368744177664 bytes" stdout="ok small objects first"
 *
 * Out of memory is a clear fatal error: a request the kernel cannot map (64 TiB) ends the
 * program with "fatal error: out of memory: ..." and the stack, not a NULL the program would
 * have to check after every grt_alloc.
 */
#include "check.h"

static void body(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++) CHECK(grt_alloc(64) != 0);
    t_puts(1, "ok small objects first\n");
    void *volatile p = grt_alloc((size_t)1 << 46);
    (void)p;
    t_puts(1, "grt_alloc returned instead of failing\n");
}

int main(void) { return grt_main(body, 0); }
