/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnoregcache=1" env="GRT_STRESS_MS=20000" cflags="-Iinclude/grt-gc"
 *
 * Teeth for the allocation caches of registered threads (regthreads.rs, mcache.rs), with
 * gc_bdwgc.c: with the test-only GRTDEBUG=gcnoregcache=1 the slots a thread's cache holds
 * but has not handed out are not marked at mark termination, so the sweep frees them and
 * they are handed out again while the cache still hands them out: a fresh node is not zero.
 * Runs until caught, for at most 20 s: under qemu about one run in four of the default 1.5 s
 * went by without a catch once cycles also read the threads' stacks while marking
 * (regthreads.rs collect_concurrent), against none before.
 */
#include "gc_bdwgc.c"
