/* grt-test: exit=1 stderr="buffer changed" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcstackbarrierall=1,gctrustframes=1"
 *
 * Teeth for gc_fpless.c: with the test-only GRTDEBUG=gctrustframes=1 the collector places
 * barriers in any record whose "return address" is at least 4096, proven or not, as it did
 * before, and writes the trampoline's address into the frame-pointer-less caller's buffer.
 * Runs until that is seen, for at most 60 s.
 */
#define GC_FPLESS_DEFAULT_MS 60000
#include "gc_fpless.c"
