/* What bdwgc's tests read from its gcconfig.h: the platform (grt runs on Linux only). */
#ifndef GRT_GC_GCCONFIG_H
#define GRT_GC_GCCONFIG_H
#ifndef LINUX
#define LINUX 1
#endif
#define OS_TYPE "LINUX"
#if defined(__x86_64__)
#define MACH_TYPE "X86_64"
#elif defined(__aarch64__)
#define MACH_TYPE "AARCH64"
#endif
/* A threaded collector (bdwgc's THREADS) when the program asks for one. It cannot handle
 * fork (CAN_HANDLE_FORK is not defined): after fork, the child of a threaded grt program
 * has none of grt's threads, and may only exec. */
#if defined(GC_THREADS) && !defined(THREADS)
#define THREADS 1
#endif
#endif
