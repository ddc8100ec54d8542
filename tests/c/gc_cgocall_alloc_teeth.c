/* grt-test: exit=1 stderr="gc_cgocall_alloc: the object in slot" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnosysstack=1"
 *
 * Teeth for gc_cgocall_alloc.c: with the test-only GRTDEBUG=gcnosysstack=1 mark termination
 * does not scan stopped Ms' system stacks, so the objects a grt_cgocall function holds in
 * its frame are freed and handed out again while it still checks them.
 */
#include "gc_cgocall_alloc.c"
