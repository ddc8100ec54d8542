/* grt-test: exit=1 stderr="gc_finalizer_contents" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcfinpasswiden=1,gcnofincand=1"
 *
 * Teeth for gc_finalizer_contents.c's group B, another way: with the test-only
 * GRTDEBUG=gcnofincand=1, a finalizer set after the concurrent pass does not make its
 * FinSpan a candidate for mark termination's pass 2, which walks only the candidates: the
 * holder is never found due and is freed with its finalizer still set: the test fails one
 * way or another (a finalizer that never runs, a child lost when the slot is reused).
 */
#include "gc_finalizer_contents.c"
