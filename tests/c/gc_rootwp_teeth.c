/* grt-test: exit=1 stderr="group A: 32 of 32 objects" stderr="group B: 32 of 32 objects" stderr="group C: 32 of 32 objects" stderr="group E: 32 of 32 objects" builds=testhooks env="GRTMAXPROCS=2" env="GRTGC=off" env="GRTDEBUG=gcrootswiden=1,gcnorootrescan=1"
 *
 * Teeth for gc_rootwp_widen.c: with the test-only GRTDEBUG=gcnorootrescan=1 the data and bss
 * are read only at the start of the cycle (neither the re-read before mark termination nor
 * mark termination reads them again), so objects stored into globals after that read are
 * freed although the globals hold them: group A (stored before the re-read, which would
 * have found it), group B (stored after it: only mark termination would have) and group C
 * (read(2) into the table after it), all 32 of each; and group E, stored into a registered
 * root range after the re-read, which the knob keeps mark termination from reading too.
 */
#define WIDEN 1
#include "gc_rootwp.c"
