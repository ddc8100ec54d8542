/* grt-test: exit=1 stderr="group D: 32 of 32 objects sent into a channel's buffer" builds=testhooks env="GRTMAXPROCS=2" env="GRTGC=off" env="GRTDEBUG=gcrootswiden=1,gcnochanbarrier=1"
 *
 * Teeth for group D of gc_rootwp_widen.c: mark termination does not read channel buffers
 * (the collector read them once, before the window in which group D is sent; every store into
 * a buffer shades what it stores). With the test-only GRTDEBUG=gcnochanbarrier=1 a send does
 * not shade, so the objects sent into the buffer after that read are freed although the
 * buffer holds them: all 32. (When mark termination still read the buffers, they lived.)
 * Groups A, B and C, stored into globals, live.
 */
#define WIDEN 1
#include "gc_rootwp.c"
