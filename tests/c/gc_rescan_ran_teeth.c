/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcscanvalidkeep=1"
 *
 * Teeth for gc_rescan_ran.c: with the test-only GRTDEBUG=gcscanvalidkeep=1, a goroutine that
 * runs keeps its "unchanged since the scan" mark, so mark termination skips a mover that took
 * its object out of the box after its scan, and the object is freed. Runs until the loss is
 * caught, for at most 60 s.
 */
#define RESCAN_RAN_DEFAULT_MS 60000
#include "gc_rescan_ran.c"
