/* grt-test: exit=1 stderr="after preemption" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=asyncpreempt=1,asyncpreemptclobber=1"
 *
 * Teeth for sched_async_regs.c: with the test-only GRTDEBUG=asyncpreemptclobber=1 a preempted
 * goroutine resumes with one general register changed, and the check must see it.
 */
#include "sched_async_regs.c"
