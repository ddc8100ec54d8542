/* grt-test: signal=6 stderr="is not on it and not skippable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcrescancheck=1,gcnewprocsplit=1"
 *
 * Teeth for gc_rescan_ran_spawn.c: with the test-only GRTDEBUG=gcnewprocsplit=1, newproc
 * pushes a new goroutine before it turns runnable and again after, in separate holds of the
 * list's lock, 200 µs apart (the form before rounds took the list off). A round that takes
 * the list off between the first push and the status change drops the goroutine as dead;
 * a mark termination that stops the world before the second push then finds it runnable,
 * off the list and not skippable, and gcrescancheck dies. Runs until caught, for at most
 * 60 s.
 */
#define RESCAN_RAN_SPAWN
#define RESCAN_RAN_DEFAULT_MS 60000
#include "gc_rescan_ran.c"
