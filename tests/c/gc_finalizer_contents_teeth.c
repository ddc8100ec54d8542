/* grt-test: exit=1 stderr="(group B) was found unreachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcfinpasswiden=1,gcnofinsetgrey=1"
 *
 * Teeth for gc_finalizer_contents.c's group B: with the test-only GRTDEBUG=gcnofinsetgrey=1,
 * a finalizer set after the concurrent pass does not grey its object's contents, and mark
 * termination trusts the pass: the child only its dropped holder points to is found
 * unreachable and freed, and the holder's finalizer finds its long link cleared.
 */
#include "gc_finalizer_contents.c"
