/* grt-test: exit=0 stdout="ok objects stored into globals while the cycle marked live" stdout="PASS" builds=testhooks env="GRTMAXPROCS=2" env="GRTGC=off" env="GRTDEBUG=gcrootswiden=1"
 *
 * gc_rootwp_widen.c, but group E is stored into the registered root range in the first
 * window (after the first read of the roots), the range is then removed (grt_remove_roots),
 * and added back (grt_add_roots) in the second window. The re-read before mark termination
 * reads only what is a root then, so it does not read the range, but its listing would
 * protect the written pages again: counted as tracked, the range would show mark
 * termination none of group E's pages as written. So once a range was removed since the
 * protection, the registered ranges are dropped from the tracking before that re-read and
 * read whole at mark termination (checked: where writes are tracked, it read at least the
 * range's size).
 *
 * The knob that drops that rule (test-only GRTDEBUG=gcrootnocheck=1) can lose group E only
 * where writes are tracked (natively on Linux 6.7+; not under qemu-user, which lacks
 * userfaultfd), and the suite runs every test on both architectures, so its teeth are run by
 * hand: with GRTDEBUG=gcrootswiden=1,gcrootnocheck=1 this program, natively, exits 1 with
 * "group E: 32 of 32 objects stored into a registered root range ... were lost".
 */
#define WIDEN 1
#define READD 1
#include "gc_rootwp.c"
