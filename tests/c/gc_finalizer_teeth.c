/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnofinmark=1"
 *
 * Teeth for gc_finalizer.c: with the test-only GRTDEBUG=gcnofinmark=1, an object kept for
 * its finalizer is marked but not scanned, so the child only it points to is freed and
 * handed out again before the finalizer looks at it.
 */
#include "gc_finalizer.c"
