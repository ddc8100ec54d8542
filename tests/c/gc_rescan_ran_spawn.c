/* grt-test: exit=0 stdout="ok parked stacks skipped, stacks that ran rescanned" stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcrescancheck=1"
 *
 * gc_rescan_ran_rounds.c with goroutines that come and go: a spawner starts a child every
 * 20 µs or so, handing it a fresh object that only the child's start argument holds, while
 * the concurrent rescan rounds take the rescan list off and put back what mark termination
 * may not skip. newproc makes a child runnable and pushes it onto the list in one hold of
 * the list's lock (rescanlist.rs), so no round drops it in between; gcrescancheck checks
 * the list against every goroutine at each mark termination, and each child checks its
 * object. Teeth: gc_rescan_ran_spawn_teeth.c.
 */
#define RESCAN_RAN_SPAWN
#include "gc_rescan_ran.c"
