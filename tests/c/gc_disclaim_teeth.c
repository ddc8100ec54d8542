/* grt-test: exit=1 stderr="gc_disclaim: a held entry" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnodisclaimrevive=1"
 *
 * Teeth for gc_disclaim.c: with the test-only GRTDEBUG=gcnodisclaimrevive=1 an object whose
 * disclaim is pending reads unmarked even after a lookup revived it, so the weak table's
 * disclaim removes an entry a goroutine holds, and the next lookup of its key makes another.
 */
#include "gc_disclaim.c"
