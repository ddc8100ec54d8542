/* grt-test: signal=6 stderr="fatal error: stack barrier" builds=testhooks env="GRTGC=off" env="GRTDEBUG=gcstackbarrierall=1" env="GC_UNWIND_SKIP=1"
 *
 * Teeth for gc_unwind.c: the same longjmp without grt_gc_unwind must be caught by the
 * trampoline's check (the next return through a barrier meets an entry for a skipped frame).
 */
#include "gc_unwind.c"
