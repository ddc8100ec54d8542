/* grt-test: exit=0 stdout="ok parked stacks skipped, stacks that ran rescanned" stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcrescancheck=1"
 *
 * gc_rescan_ran_list.c with the concurrent rescan rounds on: each round takes the rescan
 * list off, rescans what it can and puts back only the goroutines mark termination may not
 * skip (rescanlist.rs). With the test-only GRTDEBUG=gcrescancheck=1, every mark termination
 * checks that each live goroutine off the list is skippable, while the movers wake, run and
 * park again across the rounds. Teeth: gc_rescan_ran_rounds_teeth.c.
 */
#include "gc_rescan_ran.c"
