/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnoscandone=1"
 *
 * Teeth for gc_scandone.c: with the test-only GRTDEBUG=gcnoscandone=1, mark termination
 * trusts the barriers of a stack it did not scan in the cycle, and the frames above the
 * oldest barrier lose their objects. Runs until the loss is caught, for at most 60 s.
 */
#define SCANDONE_DEFAULT_MS 60000
#include "gc_scandone.c"
