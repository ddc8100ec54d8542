/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnodirty=1" cflags="-Iinclude/grt-gc"
 *
 * Teeth for gc_bdwgc.c: with the test-only GRTDEBUG=gcnodirty=1, gc.h's plain-store mode
 * tracks no writes, so nodes the threads swap into the table already scanned are freed while
 * reachable.
 */
#include "gc_bdwgc.c"
