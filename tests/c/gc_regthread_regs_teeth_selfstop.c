/* grt-test: exit=1 stderr="was freed while reachable" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnoregthreadregs=1" env="GRT_STRESS_MS=60000"
 *
 * Teeth for the self-stop in gc_regthread_regs.c: no spin (SPINS 0), so the threads are
 * nearly always in their allocation path when mark termination asks them to stop, and stop
 * themselves there; with the test-only GRTDEBUG=gcnoregthreadregs=1 their stacks are scanned
 * from above what grt_call_spilled spilled, and an object held only in a callee-saved
 * register that the runtime's own frames do not save (rbx, x19..) is freed and handed out
 * again. Runs until caught, for at most 60 s.
 */
#define SPINS 0
#include "gc_regthread_regs.c"
