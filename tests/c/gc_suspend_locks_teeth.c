/* grt-test: exit=1 stderr="deadlock" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcrescanpushslow=1,gcsuspendlockfirst=1" env="GRT_STRESS_MS=60000"
 *
 * Teeth for gc_suspend_locks.c: with the test-only GRTDEBUG=gcsuspendlockfirst=1 the
 * collector's world lock takes SUSPEND_LOCK second, as it did, then waits for RESCAN_LOCK,
 * held by an M that grt_suspend stopped inside a push; grt_resume waits for SUSPEND_LOCK,
 * and no collection ever finishes again: the watchdog reports the deadlock. 60 s is only the
 * bound if it never shows (then this test fails, as it should).
 */
#include "gc_suspend_locks.c"
