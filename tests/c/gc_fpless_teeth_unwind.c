/* grt-test: exit=1 stderr="buffer changed" builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcstackbarrierall=1,gcnounwindcheck=1"
 *
 * Teeth for the unwind-table check of gc_fpless.c: the fake record's "return address" is a
 * real one (right after a call), so only fpless_call's unwind table (no frame record at its
 * call) keeps the collector out of the buffer. With the test-only GRTDEBUG=gcnounwindcheck=1
 * the return-address check alone decides, and the trampoline's address lands in the buffer.
 * Runs until that is seen, for at most 60 s.
 */
#define GC_FPLESS_DEFAULT_MS 60000
#define FPLESS_ONLY_REAL 1
#include "gc_fpless.c"
