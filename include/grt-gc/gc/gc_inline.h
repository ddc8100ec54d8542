/* gc/gc_inline.h over grt: not provided. grt's gc.h serves bdwgc's allocation, collection,
 * finalization, thread and root calls (see gc/gc.h for the list); the inline allocation macros over bdwgc's free lists
 * would need bdwgc's own heap. */
#error "grt's gc.h does not provide gc/gc_inline.h: the inline allocation macros over bdwgc's free lists"
