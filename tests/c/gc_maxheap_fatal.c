/* grt-test: signal=6 stderr="fatal error: out of memory: cannot allocate 16384 bytes within the heap limit of 16777216 bytes" stdout="ok under the cap first"
 *
 * grt_alloc past the hard heap cap (grt_gc_set_max_heap) is a fatal error that names the
 * limit (after the full collection it tries first), not a NULL: objects are kept on a list
 * until the cap is reached.
 */
#include "check.h"

static void body(void *arg) {
    (void)arg;
    CHECK_EQ(grt_gc_set_max_heap(16u << 20), GRT_OK);
    void **head = 0;
    for (int i = 0; i < 100; i++) {
        void **p = grt_alloc(16384);
        GRT_STORE(p, (void *)head);
        head = p;
    }
    t_puts(1, "ok under the cap first\n");
    for (;;) {
        void **p = grt_alloc(16384);
        GRT_STORE(p, (void *)head);
        head = p;
    }
}

int main(void) { return grt_main(body, 0); }
