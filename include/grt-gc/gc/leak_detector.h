/* gc/leak_detector.h over grt: not provided. grt's gc.h serves bdwgc's allocation, collection,
 * finalization, thread and root calls (see gc/gc.h for the list); leak detection (malloc/free redirected to a leak-finding collector)
 * would need bdwgc's own heap. */
#error "grt's gc.h does not provide gc/leak_detector.h: leak detection (malloc/free redirected to a leak-finding collector)"
