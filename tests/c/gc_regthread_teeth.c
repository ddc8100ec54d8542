/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnoregthreads=1" env="GRT_STRESS_MS=60000"
 *
 * Teeth for gc_regthread.c: with the test-only GRTDEBUG=gcnoregthreads=1 the collector
 * neither stops nor scans registered threads, and the objects only their stacks hold are
 * freed and handed out again. Runs until caught, for at most 60 s.
 */
#include "gc_regthread.c"
