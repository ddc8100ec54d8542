/* grt-test: exit=1 stderr="after preemption" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=asyncpreempt=1,asyncpreemptclobber=1"
 *
 * Teeth for sched_async_regs.c: with the test-only GRTDEBUG=asyncpreemptclobber=1 a preempted
 * goroutine resumes with one general register changed, and the check must see it.
 *
 * Only the spin may be preempted here (ONLY_IN_SPIN: grt_async_preempt on around it, off
 * elsewhere): in the program's own C code the changed register is often a pointer (aarch64
 * x0 is the loop pointer that fills vals), and the goroutine then crashed, overwriting its
 * stack, instead of failing the check (seen under qemu, one run in many).
 */
#define ONLY_IN_SPIN 1
#include "sched_async_regs.c"
