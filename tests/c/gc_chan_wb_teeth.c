/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTGC=off" env="GRTDEBUG=gcnochanbarrier=1"
 *
 * Teeth for gc_chan_wb.c: with the test-only GRTDEBUG=gcnochanbarrier=1 channels copy
 * without shading, and an object received into the already scanned array is lost. Runs
 * until the loss is caught, for at most GRT_STRESS_MS (default 60 s).
 */
#define CHAN_DEFAULT_MS 60000
#include "gc_chan_wb.c"
