/* grt-test: exit=1 stderr="more than the budget" builds=testhooks env="GRTMAXPROCS=2" env="GRTGC=off" env="GRTDEBUG=gcnosweepbudget=1"
 *
 * Teeth for gc_sweep_budget.c: with the test-only GRTDEBUG=gcnosweepbudget=1 an allocation
 * sweeps its class's spans until one has room, and the first after a cycle sweeps hundreds.
 */
#include "gc_sweep_budget.c"
