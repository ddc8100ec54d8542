/* grt-test: exit=1 stderr="the victim waited longer than the bound next to two spinners" env="GRTMAXPROCS=2" env="GRTDEBUG=asyncpreempt=0"
 *
 * Teeth for sched_async.c: without asynchronous preemption (the default, said explicitly) no
 * one takes a P from a spinner, and the victim never runs.
 */
#include "sched_async.c"
