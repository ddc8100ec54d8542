/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcparall=1,gcparlose=1" env="GRT_PARMARK_FIN=0"
 *
 * Teeth for part 1 of gc_parmark.c (part 2 left out): with the test-only
 * GRTDEBUG=gcparlose=1, the heap parts the helper claims are not read, so an object moved
 * into a table in one of them while the cycle marked is freed while reachable: caught by its
 * serial once handed out again.
 */
#include "gc_parmark.c"
