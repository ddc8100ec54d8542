/* grt-test: exit=1 stderr="a victim waited longer than the bound" builds=testhooks env="GRTMAXPROCS=1" env="GRTDEBUG=schedslowretake=1" env="GRT_STRESS_MS=30000"
 *
 * Teeth for sched_fair_gc.c: with the test-only GRTDEBUG=schedslowretake=1 sysmon takes a P
 * from a system call only after seeing the same call twice, and the victim queued behind
 * grt_gc's back-to-back calls waits longer than the bound. Under that rule the wait comes
 * once sysmon, missing the calls, has backed off to long ticks (within 4 s in 5 of 6 runs):
 * the run goes on until the victim has waited too long, 30 s at most.
 */
#define SCHED_FAIR_GC_ONLY
#define SCHED_FAIR_UNTIL_OVER
#include "sched_fair.c"
