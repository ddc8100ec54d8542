/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnodirty=1"
 *
 * Teeth for gc_plainstore.c: with the test-only GRTDEBUG=gcnodirty=1, plain-store mode tracks
 * no writes (no page protected, none rescanned), so objects swapped with plain stores into
 * the table already scanned are freed while reachable.
 */
#include "gc_plainstore.c"
