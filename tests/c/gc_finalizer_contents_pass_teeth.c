/* grt-test: exit=1 stderr="(group A) was found unreachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcfinpasswiden=1,gcnofinpass=1"
 *
 * Teeth for gc_finalizer_contents.c's group A: with the test-only GRTDEBUG=gcnofinpass=1,
 * the concurrent pass over the finalizable objects greys nothing, and mark termination
 * trusts it: the child only its dropped holder (finalizable since before the pass) points
 * to is found unreachable and freed, and the holder's finalizer finds its long link cleared.
 */
#include "gc_finalizer_contents.c"
