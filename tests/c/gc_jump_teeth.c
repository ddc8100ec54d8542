/* grt-test: signal=6 stderr="fatal error: stack barrier" builds=testhooks env="GRTGC=off" env="GRTDEBUG=gcstackbarrierall=1,gcnojumps=1" env="GC_UNWIND_SKIP=1"
 *
 * Teeth for gc_jump.c: with the trampoline's search for a barrier past the skipped ones
 * switched off (the test-only GRTDEBUG=gcnojumps=1), the same longjmp without grt_gc_unwind
 * must end the program at the next return through a barrier.
 */
#include "gc_unwind.c"
