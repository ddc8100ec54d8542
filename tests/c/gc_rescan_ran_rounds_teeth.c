/* grt-test: signal=6 stderr="is not on it and not skippable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcrescancheck=1,gcrounddrop=1"
 *
 * Teeth for gc_rescan_ran_rounds.c: with the test-only GRTDEBUG=gcrounddrop=1, a concurrent
 * rescan round takes the rescan list off and puts nothing back, also not a goroutine that
 * was running or not yet rescanned when the round looked at it. Mark termination, which
 * walks only the list, would skip it; gcrescancheck catches the first such goroutine.
 * Runs until caught, for at most 60 s.
 */
#define RESCAN_RAN_DEFAULT_MS 60000
#include "gc_rescan_ran.c"
