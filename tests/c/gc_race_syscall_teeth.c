/* grt-test: signal=6 stderr="missed stack barrier" env="GRTMAXPROCS=2" env="GRTDEBUG=gcstackbarrierall=1,gcnostacklock=1" env="GRTPROF=@PROFILE@" env="GRTPROFHZ=10000" env="GRT_STRESS_MS=60000" builds=testhooks
 *
 * Teeth for gc_race_syscall.c: with the test-only GRTDEBUG=gcnostacklock=1 neither the collector
 * nor the SIGPROF handler takes G.stack_lock, and the walker must meet a barrier the
 * collector is installing or removing under it: "fatal error: missed stack barrier". The
 * run stops at the first report; 60 s is only the bound if the race never shows (then this
 * test fails, as it should: the race test would prove nothing).
 */
#include "gc_race_syscall.c"
