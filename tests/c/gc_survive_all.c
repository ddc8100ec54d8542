/* grt-test: exit=0 stdout="ok objects in deep frames survive" stdout="ok out-parameter stores survive" stdout="ok registered roots survive" stdout="ok globals survive" stdout="ok stack barriers" stdout="ok garbage is reclaimed" stdout="ok an unregistered atomic block is not scanned" stdout="PASS" env="GRTMAXPROCS=2" env="GRTDEBUG=gcstackbarrierall=1"
 *
 * gc_survive.c with a stack barrier in every frame (GRTDEBUG=gcstackbarrierall=1): the
 * deep recursion returns through a barrier at every one of its 200 frames while cycles mark,
 * and mark termination rescans exactly the frames that returned. 300 forced cycles. Also
 * checks that barriers were installed in most scanned frames (at least a quarter).
 */
#define GC_SURVIVE_MODE 2
#define GC_SURVIVE_CYCLES 300
#include "gc_survive.c"
