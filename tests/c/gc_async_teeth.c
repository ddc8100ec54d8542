/* grt-test: exit=0 stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=asyncpreempt=1,gcstackbarrierall=1,asyncpreemptnowalk=1" env="GRTPROF=@PROFILE@" env="GRTPROFHZ=10000" profile=!async
 *
 * Teeth for gc_async.c: with the test-only GRTDEBUG=asyncpreemptnowalk=1 walkers treat the
 * preemption stub as an ordinary frame, and the profile check `async` must fail (samples
 * name the stub, or end at it).
 */
#include "gc_async.c"
