/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnoreallocshade=1" env="GRT_STRESS_MS=60000"
 *
 * Teeth for gc_realloc.c: with the test-only GRTDEBUG=gcnoreallocshade=1, grt_realloc does
 * not shade what it copies into a new object while a cycle marks, and objects only the new
 * copy holds are freed. Runs until caught, for at most 60 s.
 */
#include "gc_realloc.c"
