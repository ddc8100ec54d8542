/* grt-test: exit=1 stderr="allocated in the SIGPROF handler" env="GRTDEBUG=profalloc=1" env="GRTMAXPROCS=2" builds=testhooks profile=any
 *
 * Teeth for prof_noalloc.c: with GRTDEBUG=profalloc=1 the test-only build's SIGPROF handler
 * allocates one block per sample, and prof_noalloc.c must catch it (exit 1 with its message).
 */
#include "prof_noalloc.c"
