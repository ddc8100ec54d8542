/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnodirty=1"
 *
 * Teeth for gc_plainstore_kernel.c: with the test-only GRTDEBUG=gcnodirty=1 the kernel form
 * tracks and rescans nothing, so objects swapped into the table already scanned are freed
 * while reachable.
 */
#include "gc_plainstore_kernel.c"
