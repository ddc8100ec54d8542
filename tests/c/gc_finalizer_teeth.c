/* grt-test: exit=1 stderr="while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnofinmark=1"
 *
 * Teeth for gc_finalizer.c: with the test-only GRTDEBUG=gcnofinmark=1, an object kept for
 * its finalizer is marked but not scanned, so the child only it points to is freed (and,
 * once handed out again, caught by the finalizer's check), and an inner object only an outer
 * one holds is finalized first. Which of the two shows first depends on timing (qemu's
 * differs): both say "while reachable".
 */
#include "gc_finalizer.c"
