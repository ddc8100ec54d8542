/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnofinshade=1"
 *
 * Teeth for gc_finalizer_shade.c: with the test-only GRTDEBUG=gcnofinshade=1, a finalizer's
 * arg set while a cycle marks is not shaded, and mark termination does not collect the args
 * again: an object moved from an unscanned slot of the table into a finalizer's arg is freed,
 * and caught by the finalizer once its memory is handed out again.
 */
#include "gc_finalizer_shade.c"
