/* grt-test: exit=0 stdout="ok objects held only in registers of registered threads survive" stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnoselfstop=1"
 *
 * gc_regthread_regs.c with the test-only GRTDEBUG=gcnoselfstop=1: mark termination stops
 * every registered thread with the suspend signal (none stops itself), so every object is
 * found through a signal's ucontext or the thread's stack.
 */
#include "gc_regthread_regs.c"
