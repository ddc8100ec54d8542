/* grt-test: exit=0 stdout="ok objects in deep frames survive" stdout="ok out-parameter stores survive" stdout="ok registered roots survive" stdout="ok globals survive" stdout="ok stack barriers" stdout="ok garbage is reclaimed" stdout="ok an unregistered atomic block is not scanned" stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnoselfstop=1"
 *
 * gc_survive.c with the test-only GRTDEBUG=gcnoselfstop=1: stopping the world signals every
 * M, none stops itself in its allocation path (stw.rs), so the mutators' stacks are rescanned
 * from where the suspend signal caught them, registers from its ucontext. 300 forced cycles.
 */
#define GC_SURVIVE_CYCLES 300
#include "gc_survive.c"
