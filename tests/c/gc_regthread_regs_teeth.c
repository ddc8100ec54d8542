/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnoregthreadregs=1" env="GRT_STRESS_MS=60000"
 *
 * Teeth for gc_regthread_regs.c: with the test-only GRTDEBUG=gcnoregthreadregs=1 the
 * collector scans neither the registers of a registered thread stopped by the signal (its
 * ucontext) nor those a self-stop spilled (its stack is scanned from above them), and
 * objects held only in registers are freed and handed out again. Runs until caught, for at
 * most 60 s.
 */
#include "gc_regthread_regs.c"
