/* grt-test: exit=0 stdout="covered:" stdout="PASS" env="GRTMAXPROCS=2" env="GRTDEBUG=gcstackbarrierall=1" env="GRTPROF=@PROFILE@" env="GRTPROFHZ=10000" profile=stkbar
 *
 * Go's TestStackBarrierProfiling: recursion 1000 frames deep allocating 1 KiB per frame, a
 * barrier in every frame, collections back to back, profiling at the highest rate, on
 * several Ms. See gc_race.h.
 */
#define RACE_MODE RACE_DEEP
#include "gc_race.h"
