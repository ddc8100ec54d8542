/* gc/gc_mark.h over grt: not provided. grt's gc.h serves bdwgc's allocation, collection,
 * finalization, thread and root calls (see gc/gc.h for the list); custom mark procedures and object kinds (GC_new_kind, GC_generic_malloc, mark bits)
 * would need bdwgc's own heap. */
#error "grt's gc.h does not provide gc/gc_mark.h: custom mark procedures and object kinds (GC_new_kind, GC_generic_malloc, mark bits)"
