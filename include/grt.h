/*
 * grt.h: the C API of grt, a goroutine runtime kernel (libgrt.a).
 *
 * Link: cc -fno-omit-frame-pointer prog.c -Ipath/to/include path/to/libgrt.a -lpthread
 *
 * Conventions
 *   - Functions that can fail return GRT_OK (0) or a negative GRT_E* code, and print
 *     "grt: <function>: <what was wrong>" on stderr. Bad input never crashes.
 *   - Fatal runtime errors (a stack overflow, a context whose function returned with no
 *     link) print "fatal error: ..." and the stack, then abort the process with SIGABRT.
 *   - Every exported function is checked against this header by `cargo xtask test`.
 */
#ifndef GRT_H
#define GRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes. */
#define GRT_OK       0
#define GRT_ENOMEM (-12) /* out of memory or address space */
#define GRT_EINVAL (-22) /* bad argument: NULL, size out of range, handle grt did not make */
#define GRT_ESYS    (-5) /* a system call failed; the message names the errno */

/* Text for an error code. */
const char *grt_strerror(int code);

/* ---- Stacks ---------------------------------------------------------------------------------
 * An mmap'd stack [lo, hi) with a PROT_NONE guard region of guard_size bytes below lo.
 * Running into the guard ends the program with "fatal error: goroutine stack overflow"
 * and the stack, instead of corrupting memory. Treat the fields as read-only.
 */
typedef struct grt_stack {
    void *lo;          /* lowest usable address */
    void *hi;          /* one past the highest usable address (16-byte aligned) */
    size_t guard_size; /* bytes of guard below lo */
    size_t id;         /* grt's handle; checked by every call that takes the stack */
} grt_stack;

#define GRT_STACK_MIN     (16 * 1024)   /* smallest size accepted */
#define GRT_STACK_DEFAULT (256 * 1024)  /* size used when 0 is passed */
#define GRT_STACK_MAX     (1UL << 30)   /* largest size accepted */

/* Maps a stack of at least `size` bytes (0: GRT_STACK_DEFAULT), rounded up to pages. */
int grt_stack_alloc(grt_stack *out, size_t size);
/* Unmaps a stack. No context may still run or be parked on it. */
int grt_stack_free(grt_stack *stack);

/* ---- Contexts -------------------------------------------------------------------------------
 * A parked execution context: its saved stack pointer. Everything else (the callee-saved
 * registers, MXCSR and the x87 control word on x86_64, d8-d15 on aarch64) is saved on its
 * own stack by grt_context_switch.
 */
typedef struct grt_context {
    void *sp;
} grt_context;

/* Makes `ctx` run fn(arg) on `stack` at the first switch into it. If fn returns, the
 * context switches to `link` and must not be resumed again; with link NULL that is a fatal
 * error. The new frame ends the frame-pointer chain (saved fp = 0) and is 16-byte aligned.
 * The calling thread gets an alternate signal stack (for stack overflow reports) if it has
 * none; other threads that run contexts should be started with grt_thread_start. */
int grt_context_make(grt_context *ctx, const grt_stack *stack, void (*fn)(void *), void *arg,
                     grt_context *link);

/* Saves the running context into `from` and resumes `to`. Returns when something switches
 * back to `from`. No checks: this is the fast path (a few nanoseconds). */
void grt_context_switch(grt_context *from, const grt_context *to);

/* ---- Threads --------------------------------------------------------------------------------
 * OS threads that may run contexts: pthreads in the libc build, raw clone() threads with
 * grt's own stack and TLS in the freestanding build. Each gets an alternate signal stack.
 */
typedef struct grt_thread grt_thread;

int grt_thread_start(grt_thread **out, void (*fn)(void *), void *arg);
int grt_thread_join(grt_thread *thread);

/* ---- Small system helpers (usable without libc) ---------------------------------------- */

/* write(2) through a raw syscall: bytes written, or -errno. */
long grt_write(int fd, const void *buf, size_t len);
/* Ends the process with `code` (exit_group; atexit handlers do not run). */
void grt_exit(int code) __attribute__((noreturn));
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t grt_nanotime(void);

#ifdef __cplusplus
}
#endif

#endif /* GRT_H */
