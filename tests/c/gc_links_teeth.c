/* grt-test: exit=1 stderr="gc_links: " builds=testhooks env="GRTMAXPROCS=2" env="GRTDEBUG=gcnolinkclear=1"
 *
 * Teeth for gc_links.c: with the test-only GRTDEBUG=gcnolinkclear=1 a cycle forgets the
 * links to the objects it found dead without clearing them, so a link still names an object
 * that was freed and handed out again (or the count of cleared links falls short).
 */
#include "gc_links.c"
