/* gc/gc_typed.h over grt: not provided. grt's gc.h serves bdwgc's allocation, collection,
 * finalization, thread and root calls (see gc/gc.h for the list); typed allocation (GC_make_descriptor, GC_malloc_explicitly_typed)
 * would need bdwgc's own heap. */
#error "grt's gc.h does not provide gc/gc_typed.h: typed allocation (GC_make_descriptor, GC_malloc_explicitly_typed)"
