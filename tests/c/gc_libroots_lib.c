/* The shared library of gc_libroots.c (built as libgc_libroots_lib.so; the test dlopens it):
 * pointer slots in its bss and its data, nothing else. */
void *lib_bss_slot[64];
void *lib_data_slot[64] = {(void *)1};
