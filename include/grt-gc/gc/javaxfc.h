/* gc/javaxfc.h over grt: not provided. grt's gc.h serves bdwgc's allocation, collection,
 * finalization, thread and root calls (see gc/gc.h for the list); Java-style finalization (GC_finalize_all)
 * would need bdwgc's own heap. */
#error "grt's gc.h does not provide gc/javaxfc.h: Java-style finalization (GC_finalize_all)"
