/* grt-test: exit=1 stderr="while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnofinmark=1"
 *
 * Teeth for gc_finalizer.c: with the test-only GRTDEBUG=gcnofinmark=1, an object kept for
 * its finalizer is marked but not scanned, so the child only it points to is freed (caught
 * by the finalizer's check of its long link, or of the child itself once handed out again),
 * and an inner object only an outer one holds is finalized first. Which shows first
 * depends on timing (qemu's differs): all say "while reachable".
 */
#include "gc_finalizer.c"
