/* grt-test: exit=0 stdout="ok plain stores lose nothing" stdout="ok grt_read into protected pages" stdout="PASS" stderr="grt: grt_gc_set_plain_stores:" env="GRTMAXPROCS=2"
 *
 * gc_plainstore.c in the rescan form of plain-store mode (GRT_PLAIN_STORES_RESCAN: nothing
 * protected, every marked object rescanned at mark termination; gc.h's GC_INIT). Teeth:
 * gc_plainstore_rescan_teeth.c.
 */
#define PLAIN_MODE GRT_PLAIN_STORES_RESCAN
#include "gc_plainstore.c"
