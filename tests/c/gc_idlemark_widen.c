/* grt-test: exit=0 stdout="ok idle Ps marked, nothing reachable lost" stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTGC=off" env="GRTDEBUG=gcidlemarkwiden=1"
 *
 * gc_idlemark.c with GRTDEBUG=gcidlemarkwiden=1 (test-only build): a marker beside the
 * collector sleeps 2 ms before each step of marking, holding its grey work, so that the
 * collector comes to mark termination while an idle M holds some. It must wait for that M
 * to give its work back before it stops the world.
 */
#include "gc_idlemark.c"
