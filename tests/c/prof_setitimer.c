/* grt-test: exit=0 stdout="PASS" env="GRTMAXPROCS=2" env="GRTPROF=@PROFILE@" env="GRTPROFHZ=1000" env="GRTDEBUG=profsetitimer=1" profile=accuracy_fallback
 *
 * prof_accuracy.c with the fallback timer: GRTDEBUG=profsetitimer=1 makes the profiler use the
 * process-wide setitimer(ITIMER_PROF) (si_code SI_KERNEL) instead of a timer per thread. The
 * same checks, with 70/30 within 10 points (the process-wide signal goes to whichever thread
 * the kernel, or qemu, picks; under qemu-aarch64 it has come out a few points low): the full
 * chain in every sample, go tool pprof.
 */
#define EXPECT_PER_THREAD 0
#include "prof_accuracy.c"
