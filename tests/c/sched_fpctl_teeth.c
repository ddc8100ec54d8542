/* grt-test: exit=1 stderr="finds control words" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=schednofpctl=1"
 *
 * Teeth for sched_fpctl.c: with the test-only GRTDEBUG=schednofpctl=1 the scheduler does not
 * carry a goroutine's FP control words, and the next goroutine on its thread runs with them.
 */
#include "sched_fpctl.c"
