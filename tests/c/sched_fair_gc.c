/* grt-test: exit=0 stdout="ok every victim ran within the bound" stdout="PASS" builds=hosted env="GRTMAXPROCS=1"
 *
 * sched_fair.c with only the yielding victim and a goroutine calling grt_gc() back to back,
 * on one P: the shape that starved the victim for seconds.
 */
#define SCHED_FAIR_GC_ONLY
#include "sched_fair.c"
