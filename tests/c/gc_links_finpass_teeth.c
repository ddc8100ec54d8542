/* grt-test: exit=1 stderr="were not cleared before the finalizers' marking" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcfinpassalways=1"
 *
 * Teeth for gc_links.c's short links to children only finalizable parents reach: with the
 * test-only GRTDEBUG=gcfinpassalways=1, the concurrent pass over the finalizable objects
 * (mfinal.rs markroot_spans) runs although short links exist; it marks the children before
 * mark termination clears the short links, so they are never cleared.
 */
#include "gc_links.c"
