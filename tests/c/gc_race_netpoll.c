/* grt-test: exit=0 stdout="covered:" stdout="parked goroutines kept their objects" stdout="PASS" env="GRTMAXPROCS=2" env="GRTDEBUG=gcstackbarrierall=1" env="GRTPROF=@PROFILE@" env="GRTPROFHZ=10000" profile=stkbar
 *
 * The collector and the profiler with thousands of goroutines parked in the network poller,
 * and deep goroutines that park there and wake by data or deadline. See gc_race.h.
 */
#define RACE_MODE RACE_NETPOLL
#include "gc_race.h"
