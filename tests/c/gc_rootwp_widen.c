/* grt-test: exit=0 stdout="ok objects stored into globals while the cycle marked live" stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTGC=off" env="GRTDEBUG=gcrootswiden=1"
 *
 * gc_rootwp.c with GRTDEBUG=gcrootswiden=1: the collector sleeps 20 ms after its first read
 * of the roots and again after the re-read of the data and bss written since. Group A is
 * stored into globals in the first window, so only the re-read can find it; group B in
 * the second, so only mark termination can (where writes are tracked, only by listing the
 * page as written: it reads less than all of the data and bss, which the test checks);
 * group C in the second too, by read(2) from a pipe into the table: the kernel's store must
 * be tracked as the program's; group D is sent into a buffered channel in the second window,
 * and only the channel's write barrier can keep it (mark termination does not read buffers).
 */
#define WIDEN 1
#include "gc_rootwp.c"
