/* grt-test: exit=0 stdout="ok plain stores lose nothing" stdout="ok grt_read into protected pages" stdout="PASS" stderr="grt: grt_gc_set_plain_stores:" env="GRTMAXPROCS=2" cflags="-O3 -fomit-frame-pointer"
 *
 * gc_plainstore.c (the protect form) built at -O3 without frame pointers: vectorized and
 * paired stores, sibling calls, frame-pointer-less frames.
 */
#include "gc_plainstore.c"
