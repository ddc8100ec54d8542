/* grt-test: exit=1 stderr="hits != 0" builds=testhooks env="GRTMAXPROCS=4" env="GRTDEBUG=netpollnoclosewait=1" env="GRT_TEST_ROUNDS=1000"
 *
 * Teeth for net_close.c: with the test-only GRTDEBUG=netpollnoclosewait=1, grt_fd_close
 * releases the number at once instead of waiting for the calls in flight on it, and an old
 * writer's next write(2) lands in the new socket pair that took the number. Runs until
 * caught, for at most 1,000 rounds.
 */
#define NET_CLOSE_TEETH
#include "net_close.c"
