/* grt-test: exit=0 stdout="ok objects in deep frames survive" stdout="ok out-parameter stores survive" stdout="ok registered roots survive" stdout="ok globals survive" stdout="ok stack barriers" stdout="ok garbage is reclaimed" stdout="ok an unregistered atomic block is not scanned" stdout="PASS" env="GRTMAXPROCS=2" env="GRTDEBUG=gcstackbarrieroff=1"
 *
 * gc_survive.c without stack barriers (GRTDEBUG=gcstackbarrieroff=1): mark termination
 * rescans every stack in full; the same objects must survive, and no barrier is ever
 * installed or hit. 300 forced cycles.
 */
#define GC_SURVIVE_MODE 1
#define GC_SURVIVE_CYCLES 300
#include "gc_survive.c"
