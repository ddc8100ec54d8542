/* grt-test: signal=11 builds=testhooks env="GRTMAXPROCS=3" env="GRTDEBUG=schedwidensetaside=1,schedplainsetaside=1"
 *
 * Teeth for suspend_setaside.c: with the test-only schedplainsetaside=1 the M that set the
 * goroutine aside clears its M with a plain store, after another M has started running it:
 * the next grt_resume of the running goroutine dereferences null. Not every set-aside meets
 * that order (a few hundred rounds usually do): the rounds go on until it crashes, 30 s at
 * most.
 */
#define SETASIDE_UNTIL_CRASH
#include "suspend_setaside.c"
