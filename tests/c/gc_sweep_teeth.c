/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTGC=off" env="GRTDEBUG=gcnosweepgen=1"
 *
 * Teeth for gc_sweep.c: with the test-only GRTDEBUG=gcnosweepgen=1, allocation goes on in
 * spans not yet swept in this cycle; their sweep then frees the new objects, which are handed
 * out again while a ring still holds them (a ring's check, or tobj_new's check of a fresh
 * object, fails). Runs until caught, for at most 60 s.
 */
#define SWEEP_DEFAULT_MS 60000
#include "gc_sweep.c"
