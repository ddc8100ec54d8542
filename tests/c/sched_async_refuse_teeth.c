/* grt-test: exit=1 stderr="outside the program's own loops" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=asyncpreempt=1,asyncpreemptanywhere=1"
 *
 * Teeth for sched_async_refuse.c: with the test-only GRTDEBUG=asyncpreemptanywhere=1 the
 * handler does not check where the pc is, and goroutines are preempted inside memcmp or
 * memset (libc's, or grt's assembly in the freestanding build).
 */
#include "sched_async_refuse.c"
