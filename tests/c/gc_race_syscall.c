/* grt-test: exit=0 stdout="covered:" stdout="PASS" env="GRTMAXPROCS=2" env="GRTDEBUG=gcstackbarrierall=1" env="GRTPROF=@PROFILE@" env="GRTPROFHZ=10000" profile=stkbar
 *
 * golang/go#11863: SIGPROF walks a goroutine in the syscall state while the collector scans
 * and barriers its stack from another thread. See gc_race.h.
 */
#define RACE_MODE RACE_SYSCALL
#include "gc_race.h"
