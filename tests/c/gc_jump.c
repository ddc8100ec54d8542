/* grt-test: exit=0 stdout="ok longjmp over barriers" stdout="PASS" builds=testhooks env="GRTGC=off" env="GRTDEBUG=gcstackbarrierall=1" env="GC_UNWIND_SKIP=1"
 *
 * gc_unwind.c's longjmp over barriered frames, without grt_gc_unwind: what a library that
 * longjmps out of its own frames does (libpng's and libjpeg's error handling, Lua's). The
 * next return through a barrier above (jumper's) finds its entry past the ones of the
 * skipped frames: the trampoline passes over those (G.stkbar_jumps counts the returns that
 * did) and returns normally. The teeth (gc_jump_teeth.c, GRTDEBUG=gcnojumps=1) take that
 * away and must die with the trampoline's fatal error.
 */
#include "gc_unwind.c"
