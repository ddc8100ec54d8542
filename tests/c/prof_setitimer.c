/* grt-test: exit=0 stdout="PASS" env="GRTMAXPROCS=2" env="GRTPROF=@PROFILE@" env="GRTPROFHZ=1000" env="GRTDEBUG=profsetitimer=1" profile=accuracy
 *
 * prof_accuracy.c with the fallback timer: GRTDEBUG=profsetitimer=1 makes the profiler use the
 * process-wide setitimer(ITIMER_PROF) (si_code SI_KERNEL) instead of a timer per thread. The
 * same checks hold: 70/30 within 5 points, the full chain in every sample, go tool pprof.
 */
#define EXPECT_PER_THREAD 0
#include "prof_accuracy.c"
