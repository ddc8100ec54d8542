/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnoregcache=1" cflags="-Iinclude/grt-gc"
 *
 * Teeth for the allocation caches of registered threads (regthreads.rs, mcache.rs), with
 * gc_bdwgc.c: with the test-only GRTDEBUG=gcnoregcache=1 the slots a thread's cache holds
 * but has not handed out are not marked at mark termination, so the sweep frees them and
 * they are handed out again while the cache still hands them out: a fresh node is not zero.
 */
#include "gc_bdwgc.c"
