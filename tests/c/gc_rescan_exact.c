/* grt-test: exit=0 stdout="ok a rescan stops exactly at the lowest barrier not hit" stdout="PASS" builds=testhooks env="GRTGC=off" env="GRTDEBUG=gcstackbarrierall=1"
 *
 * A goroutine that ran since its scan is rescanned exactly down to its lowest barrier not
 * hit (stkbar::rescan_limit, which mark termination and the concurrent rescan rounds use):
 * all of the frame F that barrier belongs to, up to and including the frame record of F's
 * caller, and nothing above.
 *
 * dive(DEPTH) recurses to dive(0), each frame noting its frame record (the frame pointer).
 * There barriers go into every frame (grt_test_stkbar_install, as a scan places them, with
 * gcstackbarrierall). The recursion returns K frames, through K barriers; in dive(K) the
 * lowest barrier not hit is dive(K)'s own, whose caller is dive(K + 1). The limit a rescan
 * from there would stop at (grt_test_rescan_limit, computed as mark termination would with
 * the goroutine stopped there) must be dive(K + 1)'s record plus its 16 bytes, exactly:
 * lower would miss a frame that ran, higher would rescan frames that did not. The same from
 * NEW frames that dive(K) then calls below itself (they are all new: no barrier among them).
 */
#include "check.h"

int grt_test_stkbar_install(void);
uintptr_t grt_test_rescan_limit(void);

#define DEPTH 60
#define NEW 5
/* A frame record: the saved frame pointer and return address (both architectures). */
#define RECORD_BYTES 16

static uintptr_t rec[DEPTH + 1]; /* dive(d)'s frame record */
static int ret_k;                /* frames to return before looking */
static uintptr_t limit_k, limit_new;
static int installed;

__attribute__((noinline)) static long fresh(int m) {
    volatile long local = m;
    if (m == 0) {
        limit_new = grt_test_rescan_limit();
        return 0;
    }
    return fresh(m - 1) + local;
}

__attribute__((noinline)) static long dive(int d) {
    volatile long local = d;
    rec[d] = (uintptr_t)__builtin_frame_address(0);
    if (d == 0) {
        installed = grt_test_stkbar_install();
        return 0;
    }
    long r = dive(d - 1);
    if (d == ret_k) {
        /* dive(0) .. dive(ret_k - 1) returned, each through its barrier. */
        limit_k = grt_test_rescan_limit();
        r += fresh(NEW);
    }
    return r + local;
}

static void check_limit(const char *what, int k, uintptr_t got, uintptr_t want) {
    if (got == want) return;
    t_puts(2, "gc_rescan_exact: ");
    t_puts(2, what);
    t_puts(2, " after ");
    t_putu(2, (unsigned long)k, 10);
    t_puts(2, " returns: the rescan limit is 0x");
    t_putu(2, got, 16);
    t_puts(2, ", not 0x");
    t_putu(2, want, 16);
    t_puts(2, " (dive(k + 1)'s frame record + 16)\n");
    grt_exit(1);
}

static void main_goroutine(void *arg) {
    (void)arg;
    static const int ks[] = {1, 2, 7, 30, DEPTH - 2};
    for (unsigned i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        ret_k = ks[i];
        limit_k = limit_new = 0;
        (void)dive(DEPTH);
        /* A barrier in every frame from dive(0) up (gcstackbarrierall). */
        CHECK(installed > DEPTH);
        uintptr_t want = rec[ret_k + 1] + RECORD_BYTES;
        check_limit("in the frame that ran", ret_k, limit_k, want);
        check_limit("from new frames below it", ret_k, limit_new, want);
        t_puts(1, "returned");
        t_put_kv("k", (uint64_t)ret_k);
        t_put_kv("barriers", (uint64_t)installed);
        t_put_kv("rescanned_bytes", (uint64_t)(limit_k - rec[ret_k]));
        t_puts(1, "\n");
    }
    t_puts(1, "ok a rescan stops exactly at the lowest barrier not hit\n");
    t_puts(1, "PASS\n");
}

int main(void) { return grt_main(main_goroutine, 0) == GRT_OK ? 0 : 1; }
