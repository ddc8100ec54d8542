/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnorescanlist=1,gcnorescanrounds=1"
 *
 * Teeth for the rescan list: with the test-only GRTDEBUG=gcnorescanlist=1, a goroutine that
 * runs after its scan loses its "unchanged since the scan" mark but does not put itself on
 * the rescan list, so mark termination, which walks only the list, never looks at a mover
 * that took its object out of the box after its scan, and the object is freed (the
 * concurrent rescan rounds are off, as in gc_rescan_ran_list.c: they would rescan the mover
 * first). Runs until the loss is caught, for at most 60 s.
 */
#define RESCAN_RAN_DEFAULT_MS 60000
#include "gc_rescan_ran.c"
