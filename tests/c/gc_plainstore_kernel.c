/* grt-test: exit=0 stdout="ok plain stores lose nothing" stdout="ok grt_read into protected pages" stdout="PASS" stderr="grt: grt_gc_set_plain_stores:" env="GRTMAXPROCS=2"
 *
 * gc_plainstore.c in the kernel form of plain-store mode (GRT_PLAIN_STORES_KERNEL): the heap's
 * pages written while a cycle marks are tracked by the kernel
 * (asynchronous userfaultfd write protection, PAGEMAP_SCAN: Linux 6.7), no signal, and mark
 * termination rescans the marked objects on them. Where the kernel tracks (natively here),
 * the cycles must have rescanned pages, not everything; under qemu-user (no userfaultfd)
 * every cycle rescans everything, as the rescan form. Teeth: gc_plainstore_kernel_teeth.c
 * (GRTDEBUG=gcnodirty=1, both arches); the teeth of the listing itself
 * (GRTDEBUG=gcheapwpnolist=1: mark termination lists no written page) can bite only where
 * the kernel tracks, so they are run by hand natively: it must die with "was freed while
 * reachable".
 */
#define PLAIN_MODE GRT_PLAIN_STORES_KERNEL
#include "gc_plainstore.c"
