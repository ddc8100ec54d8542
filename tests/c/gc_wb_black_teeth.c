/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTGC=off" env="GRTDEBUG=gcblackstale=1"
 *
 * Teeth for gc_wb_black.c: with mark termination keeping each M's black window into the next
 * cycle, the write barrier drops stores of objects that are white there, and they are freed
 * while reachable. Runs until the loss is caught, for at most GRT_STRESS_MS (default 60 s).
 */
#define BLACK_DEFAULT_MS 60000
#include "gc_wb_black.c"
