/* grt-test: exit=1 stderr="check failed: peak_live_x100 <= 200" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnopaceidle=1"
 *
 * Teeth for gc_pacing.c: with the test-only GRTDEBUG=gcnopaceidle=1, an allocation past the
 * goal while no cycle marks (one asked for but not started, or the last one sweeping)
 * neither yields nor waits, as before the pacer held the goal: the collector's thread, woken
 * but queued behind an allocating M, starts late, and the heap runs past twice its goal.
 */
#include "gc_pacing.c"
