/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnolibroots=1"
 *
 * Teeth for gc_libroots.c: with the test-only GRTDEBUG=gcnolibroots=1 the collector does not
 * scan shared libraries' data, and the objects kept only there are freed and handed out
 * again.
 */
#include "gc_libroots.c"
