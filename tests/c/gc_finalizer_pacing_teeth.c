/* grt-test: exit=1 stderr="over finalizable garbage" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcgrowrevived=1"
 *
 * Teeth for gc_finalizer_pacing.c: with the test-only GRTDEBUG=gcgrowrevived=1 the goal is
 * grown over the bytes kept only for finalizers too (as Go does), and it grows cycle after
 * cycle past the bound.
 */
#include "gc_finalizer_pacing.c"
