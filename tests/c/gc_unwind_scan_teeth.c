/* grt-test: exit=1 stderr="barriers placed in frames the longjmp skipped" builds=testhooks env="GRTMAXPROCS=2" env="GRTGC=off" env="GRTDEBUG=gcstackbarrierall=1,gcnounwindfloor=1"
 *
 * Teeth for gc_unwind_scan.c: with the test-only GRTDEBUG=gcnounwindfloor=1 grt_gc_unwind
 * lets the scan inside the window put barriers into the frames the longjmp skips, and the
 * next return through a barrier above has to pass over them (grt_gc_stats.barriers_jumped).
 */
#include "gc_unwind_scan.c"
