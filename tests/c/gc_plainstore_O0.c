/* grt-test: exit=0 stdout="ok plain stores lose nothing" stdout="ok grt_read into protected pages" stdout="PASS" stderr="grt: grt_gc_set_plain_stores:" env="GRTMAXPROCS=2" cflags="-O0 -fomit-frame-pointer"
 *
 * gc_plainstore.c (the protect form) built at -O0 without frame pointers: the stores that
 * fault on protected pages, and their restarts, in the shapes an unoptimized build emits
 * (every value through the stack, struct copies by memcpy-like sequences).
 */
#include "gc_plainstore.c"
