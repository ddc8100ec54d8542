/* gc/gc_gcj.h over grt: not provided. grt's gc.h serves bdwgc's allocation, collection,
 * finalization, thread and root calls (see gc/gc.h for the list); gcj-style allocation
 * would need bdwgc's own heap. */
#error "grt's gc.h does not provide gc/gc_gcj.h: gcj-style allocation"
