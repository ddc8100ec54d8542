/* grt-test: exit=0 stdout="ok links to live objects hold" stdout="ok short links to dead objects clear" stdout="ok short before finalizers, long after" stdout="ok links in dead objects are dropped unwritten" stdout="ok register, move, unregister" stdout="ok readers never see a dead object" stdout="PASS" env="GRTMAXPROCS=2" env="GRTPLAINSTORES=1"
 *
 * gc_links.c with plain-store write protection (GRTPLAINSTORES=1): the heap holders' pages
 * are read-only while a cycle marks, so the collector's own clearing write at mark
 * termination goes through the fault handler like a program's store (under a user-mode
 * emulator the mode does not protect: see grt.h).
 */
#include "gc_links.c"
