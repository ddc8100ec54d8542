/* grt-test: exit=1 stderr="was freed while reachable" env="GRTMAXPROCS=2" env="GRTGC=off"
 *
 * Teeth for gc_wb_race.c: with the write barrier's flag tested before the store (the order
 * GRT_STORE must not have), a pause that turns the barrier on between the two loses objects.
 * Runs until the loss is caught, for at most GRT_STRESS_MS (default 60 s).
 */
#define WB_TEETH 1
#define WB_DEFAULT_MS 60000
#include "gc_wb_race.c"
