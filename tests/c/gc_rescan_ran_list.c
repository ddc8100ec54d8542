/* grt-test: exit=0 stdout="ok parked stacks skipped, stacks that ran rescanned" stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcrescancheck=1,gcnorescanrounds=1"
 *
 * gc_rescan_ran.c with the test-only GRTDEBUG=gcrescancheck=1: at every mark termination,
 * every live goroutine that is not on the rescan list (rescanlist.rs) must be skippable
 * (scanned in the cycle while parked, parked now, not run since), or the collector dies
 * with a fatal error. Mark termination walks only the list; this checks the list against
 * all goroutines while the crowd sleeps, the movers run, and goroutines come and go. The
 * concurrent rescan rounds are off (gcnorescanrounds=1): they would rescan a mover before
 * mark termination, so only the list can keep a moved object.
 */
#include "gc_rescan_ran.c"
