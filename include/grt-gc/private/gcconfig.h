/* What bdwgc's tests read from its gcconfig.h: the platform (grt runs on Linux only). */
#ifndef GRT_GC_GCCONFIG_H
#define GRT_GC_GCCONFIG_H
#ifndef LINUX
#define LINUX 1
#endif
#endif
