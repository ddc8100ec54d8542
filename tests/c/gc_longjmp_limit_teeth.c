/* grt-test: exit=1 stderr="it trusts a barrier the longjmp skipped" builds=testhooks env="GRTGC=off" env="GRTDEBUG=gcstackbarrierall=1,gcnochaincheck=1"
 *
 * Teeth for gc_longjmp_limit.c: with the test-only GRTDEBUG=gcnochaincheck=1 the rescan limit
 * trusts the lowest barrier not hit, one the longjmp skipped, and stops inside the buffer.
 */
#include "gc_longjmp_limit.c"
