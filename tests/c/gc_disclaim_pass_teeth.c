/* grt-test: exit=1 stderr="inner_early[1] != 0" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnofinpass=1"
 *
 * Teeth for gc_disclaim.c's contents kept while the outer object is asked: with the
 * test-only GRTDEBUG=gcnofinpass=1, the concurrent pass (mfinal.rs markroot_spans) greys
 * nothing, also not the contents of unmarked objects whose disclaim asks for it
 * (GRT_DISCLAIM_MARK_CONTENTS), and mark termination trusts it: inner objects are asked in
 * the same cycle as the outer ones that point to them.
 */
#include "gc_disclaim.c"
