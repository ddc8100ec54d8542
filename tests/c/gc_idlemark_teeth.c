/* grt-test: exit=1 stderr="grey work lost" builds=testhooks env="GRTMAXPROCS=2" env="GRTGC=off" env="GRTDEBUG=gcidlemarkwiden=1,gcidlemarknowait=1"
 *
 * Teeth for gc_idlemark.c: with the test-only GRTDEBUG=gcidlemarknowait=1 the collector
 * waits for no marker beside it (its "mark everything" ends when the pool is empty although
 * an idle M holds work, and it neither closes the markers' gate nor waits for them before
 * mark termination), and with gcidlemarkwiden=1 an idle M holds grey work while the world
 * stops: the subtrees below what it holds are not marked.
 */
#include "gc_idlemark.c"
