/* grt-test: exit=0 stdout="ok objects stored into globals while the cycle marked live" stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTGC=off" env="GRTDEBUG=gcrootswiden=1"
 *
 * gc_rootwp_widen.c with two registered root ranges the kernel's write tracking must not be
 * trusted with, both written in the second window (only mark termination can find what is
 * stored there):
 * - Group E: fresh memory is first mapped over the range (mmap with MAP_FIXED, as a program
 *   resets an arena; it stays registered with grt). The kernel tracks writes only in the
 *   mappings the cycle registered with it, and the new one is not: a listing of registered
 *   mappings' written pages would pass over it. So mark termination lists each root range on
 *   its own, checking that all its mappings are still registered, and reads it whole when
 *   they are not. (grt_remove_roots, munmap, mmap and grt_add_roots at the same address come
 *   to the same for the kernel.)
 * - Group F: a shared range (a memfd mapped MAP_SHARED), written through a second mapping of
 *   the same pages, as a ring buffer mapped twice is. Those stores set the other
 *   mapping's page-table entries, not the registered range's: a range in a shared mapping is
 *   never tracked, always read whole.
 * Where writes are tracked, mark termination must have read at least a range's size.
 *
 * The knob that drops both rules (test-only GRTDEBUG=gcrootnocheck=1) can lose objects only
 * where writes are tracked (natively on Linux 6.7+; not under qemu-user, which lacks
 * userfaultfd), and the suite runs every test on both architectures, so its teeth are run by
 * hand: with GRTDEBUG=gcrootswiden=1,gcrootnocheck=1 this program, natively, exits 1 with
 * "group E: 32 of 32 objects ..." and "group F: 32 of 32 objects ... were lost".
 */
#define WIDEN 1
#define REMAP 1
#include "gc_rootwp.c"
