/* grt-test: exit=1 stderr="the victim waited longer than the bound next to a hog" builds=testhooks env="GRTMAXPROCS=1" env="GRTDEBUG=schednoslice=1"
 *
 * Teeth for sched_slice.c: with the test-only GRTDEBUG=schednoslice=1 sysmon marks no
 * goroutine for its time slice, and the victim waits for whole phases.
 */
#include "sched_slice.c"
