/* grt-test: exit=1 stderr="freed while reachable from its parent" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcparall=1,gcparlose=1,gcfinatmarkterm=1" env="GRT_STRESS_MS=0"
 *
 * Teeth for part 2 of gc_parmark.c (part 1 left out): with the test-only
 * GRTDEBUG=gcparlose=1, the runs of finalizer spans the helper claims are not marked from,
 * so the children only those parents hold are found unreachable, their long links cleared:
 * the parents' finalizers see it.
 */
#include "gc_parmark.c"
