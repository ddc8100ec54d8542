/* grt-test: exit=0 stdout="ok every victim ran within the bound" stdout="PASS" builds=hosted env="GRTMAXPROCS=2"
 *
 * sched_fair.c on two Ps.
 */
#include "sched_fair.c"
