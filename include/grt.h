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
#define GRT_EAGAIN (-11) /* a non-blocking operation would have blocked */
#define GRT_EBUSY  (-16) /* the object is in use (a channel with waiters, a locked mutex) */
#define GRT_ETIMEDOUT (-110) /* the other side did not answer in time */
#define GRT_ENOTINIT (-1000) /* the scheduler is not running: call grt_main first */
#define GRT_ENOTG    (-1001) /* called from a thread that is not running a goroutine */
#define GRT_ECLOSED  (-1002) /* the channel or descriptor is closed */

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
 * error. fn's frame is 16-byte aligned and ends the frame-pointer chain (saved fp = 0). It
 * starts with the FP control words in force where it is first switched to.
 * The calling thread gets an alternate signal stack (for stack overflow reports) if it has
 * none; other threads that run contexts should be started with grt_thread_start. */
int grt_context_make(grt_context *ctx, const grt_stack *stack, void (*fn)(void *), void *arg,
                     grt_context *link);

/* Saves the running context into `from` and resumes `to`. Returns when something switches
 * back to `from`, with every register the psABI makes callee-saved as it was, the FP control
 * words included. No checks: this is the fast path (a few nanoseconds).
 *
 * Floating point and goroutines: the FP control words (x86_64 MXCSR's control bits and the
 * x87 control word; aarch64 FPCR: rounding mode, exception masks, flush-to-zero) are each
 * goroutine's own too. A goroutine starts with those of the thread that runs it (the ones
 * grt_main's thread had when it started its threads); one that changes them (fesetround,
 * say) keeps its own across every switch and every thread it moves to, and the goroutines
 * that run next on its thread get the thread's back. The runtime's own switch does not carry
 * them: the scheduler does, at no cost for goroutines that never change them. */
void grt_context_switch(grt_context *from, const grt_context *to);

/* ---- Threads --------------------------------------------------------------------------------
 * OS threads that may run contexts: pthreads in the libc build, raw clone() threads with
 * grt's own stack and TLS in the freestanding build. Each gets an alternate signal stack.
 */
typedef struct grt_thread grt_thread;

int grt_thread_start(grt_thread **out, void (*fn)(void *), void *arg);
int grt_thread_join(grt_thread *thread);
/* Registers the calling thread (not a goroutine: a pthread, grt_main's caller, a
 * grt_thread_start thread) with the collector (bdwgc's GC_register_my_thread): from then on
 * its stack, from its stack pointer up to stack_hi (NULL: found by grt), and its registers
 * are roots, scanned while the collector stops the thread at the end of each cycle (with
 * SIGURG: keep it unblocked). It stores pointers into heap objects with GRT_STORE, as a
 * goroutine does. GRT_EINVAL: already registered, a goroutine, or no stack found.
 * grt_unregister_thread before the thread exits (a thread that exits without it is
 * forgotten at the next cycle). */
int grt_register_thread(const void *stack_hi);
int grt_unregister_thread(void);
/* 2 when called from a goroutine, 1 from a thread registered with grt_register_thread, 0 from
 * any other thread. */
int grt_thread_registered(void);

/* ---- Goroutines -----------------------------------------------------------------------------
 * grt_main starts the scheduler: GRTMAXPROCS (environment; default: the CPUs this process may
 * use) OS threads ("Ms") run goroutines. fn(arg) runs as the main goroutine; grt_main returns
 * GRT_OK when it returns. As in Go, other goroutines are not waited for: the program is
 * expected to exit soon after. grt_main may run once per process.
 *
 * Goroutine bodies are C functions on their own stacks (GRT_STACK_DEFAULT unless given), and
 * may call libc freely in the libc build. A goroutine that blocks the OS thread (a read(2), a
 * long computation in a library) should say so with grt_entersyscall/grt_exitsyscall or run
 * it through grt_cgocall, so that its M's other goroutines move to another M.
 *
 * Every call below that may park the caller must come from a goroutine: from any other
 * thread it returns GRT_ENOTG (GRT_ENOTINIT before grt_main).
 *
 * When every goroutine is blocked and nothing can wake any of them, the program ends with
 * "fatal error: all goroutines are asleep - deadlock!" and the stack of each goroutine.
 */
int grt_main(void (*fn)(void *), void *arg);
/* Starts the runtime without a main goroutine (bdwgc's GC_INIT on a plain thread): the Ms,
 * the collector and sysmon start in the background and grt_init returns; the caller goes on
 * as a plain thread (register it with grt_register_thread to make its stack a root). From
 * then on any thread may call grt_alloc, grt_gc and the collector's other calls, and
 * grt_main may still run once to start a main goroutine (no deadlock detection before it:
 * plain threads may be what wakes the goroutines). GRT_OK, also when already started. */
int grt_init(void);
/* Starts fn(arg) as a new goroutine. */
int grt_go(void (*fn)(void *), void *arg);
/* The same with a stack of at least stack_size bytes (GRT_STACK_MIN..GRT_STACK_MAX; 0 is
 * the default). */
int grt_go_stack(void (*fn)(void *), void *arg, size_t stack_size);
/* Lets other goroutines run; the caller stays runnable (behind any goroutine waiting for a
 * P, such as one back from a system call). Time slices: a goroutine that has held its P for
 * 10 ms while others wait yields at its next grt call that is a safe point (grt_alloc,
 * grt_alloc_atomic, channel sends and receives, grt_select, grt_mutex_lock/unlock,
 * grt_wg_add, grt_wg_done, grt_gc's return, grt_exitsyscall, the end of grt_cgocall). A
 * goroutine that computes for long without calling grt is not interrupted unless it opts in
 * to asynchronous preemption (below); otherwise it should yield now and then. */
int grt_yield(void);
/* Asynchronous preemption, opt-in: for the calling goroutine (on != 0: on, 0: off), or for
 * every goroutine that does not choose with GRTDEBUG=asyncpreempt=1. A goroutine past its
 * time slice while others wait then gets a signal, and if it is interrupted in the program's
 * own code (the main executable, not grt, not libc or another shared object, where its
 * function keeps a frame record) it yields right there; every register (general, flags,
 * SSE/AVX or v0-v31, the FP control words) is as it was when it resumes, maybe on another
 * thread. Opt in only for code that keeps no thread identity across instructions (no TLS
 * address or errno location held in a register, no thread-owned lock): a preempted goroutine
 * moves threads at an arbitrary instruction. Returns the previous setting (0 or 1), or
 * GRT_ENOTG off a goroutine. */
int grt_async_preempt(int on);
struct grt_preempt_stats {
    uint64_t requests;        /* signals sent to goroutines past their slice */
    uint64_t preempted;       /* goroutines preempted */
    uint64_t refused_runtime; /* interrupted in grt (or on another stack, or in a syscall) */
    uint64_t refused_foreign; /* interrupted in libc or another shared object, or unknown code */
    uint64_t refused_frame;   /* where the function keeps no frame record (prologue, epilogue,
                                 frame-pointer-less code) */
    uint64_t refused_room;    /* not enough stack below the red zone for the signal frame */
    uint64_t refused_stale;   /* it had yielded by itself since the request */
};
/* Fills *out with the process's counts since it started. */
int grt_preempt_stats(struct grt_preempt_stats *out);
/* Parks the calling goroutine for at least ns nanoseconds (ns <= 0: same as grt_yield). */
int grt_sleep_ns(int64_t ns);
/* The calling goroutine's id (1 is the main goroutine), or 0 on a thread with none. */
uint64_t grt_goid(void);
/* Number of Ms running goroutines at once (GRTMAXPROCS), or 0 before grt_main. */
int grt_maxprocs(void);

/* ---- Blocking system calls and foreign code -------------------------------------------------
 * grt_entersyscall marks the calling goroutine as being in a system call: from then on its M
 * may block, and its queued goroutines are handed to another M if it does. Call
 * grt_exitsyscall right after; in between call nothing from grt. The goroutine's stack above
 * the caller of grt_entersyscall is frozen and may be read by the runtime meanwhile.
 */
int grt_entersyscall(void);
int grt_exitsyscall(void);
/* Runs fn(arg) on the M's system stack with the goroutine in the syscall state (so the same
 * hand-off applies); returns when fn does. fn must not call grt functions that park. fn's
 * frames and registers are roots for the collector (objects it allocates and holds there
 * live). From a thread that is not running a goroutine, fn(arg) is just called. */
int grt_cgocall(void (*fn)(void *), void *arg);

/* ---- Channels ------------------------------------------------------------------------------
 * Go's channels: elements of elem_size bytes (0 is allowed), copied in and out; capacity 0
 * makes an unbuffered channel (a send waits for a receiver).
 */
typedef struct grt_chan grt_chan;

int grt_chan_make(grt_chan **out, size_t elem_size, size_t capacity);
/* Sends *elem (elem may be NULL when elem_size is 0). GRT_ECLOSED if the channel is closed. */
int grt_chan_send(grt_chan *ch, const void *elem);
/* Receives into *elem (NULL: discard). GRT_OK, or GRT_ECLOSED when the channel is closed and
 * drained (then *elem is zeroed). */
int grt_chan_recv(grt_chan *ch, void *elem);
/* Closes the channel: waiting receivers get GRT_ECLOSED, waiting senders too. Closing twice
 * is GRT_ECLOSED. */
int grt_chan_close(grt_chan *ch);
/* Frees a channel nobody waits on (GRT_EBUSY otherwise). */
int grt_chan_free(grt_chan *ch);
/* Elements buffered now. */
size_t grt_chan_len(grt_chan *ch);

#define GRT_SEND 1
#define GRT_RECV 2
typedef struct grt_select_case {
    grt_chan *chan; /* NULL: this case is never ready (as a nil channel in Go) */
    int dir;        /* GRT_SEND or GRT_RECV */
    int ok;         /* out: 1 a value moved, 0 the channel was closed */
    void *elem;     /* GRT_SEND: the value to send; GRT_RECV: where to store (or NULL) */
} grt_select_case;
/* Waits until one of the cases can proceed, performs it and returns its index (a uniformly
 * random one among several ready). With block == 0 returns GRT_EAGAIN instead of waiting.
 * A send case on a closed channel is chosen with ok = 0. */
int grt_select(grt_select_case *cases, size_t ncases, int block);

/* ---- Mutex and wait group (park goroutines, never OS threads) ------------------------------ */
typedef struct grt_mutex {
    uint32_t state;
    uint32_t reserved;
} grt_mutex;
#define GRT_MUTEX_INIT {0, 0}

int grt_mutex_lock(grt_mutex *mu);
/* GRT_OK if taken, GRT_EBUSY if it was locked. */
int grt_mutex_trylock(grt_mutex *mu);
/* Unlocking a mutex that is not locked is a fatal error, as in Go. */
int grt_mutex_unlock(grt_mutex *mu);

typedef struct grt_waitgroup {
    int64_t count;
    uint32_t seq;
    uint32_t reserved;
} grt_waitgroup;
#define GRT_WAITGROUP_INIT {0, 0, 0}

/* Adds delta (may be negative) to the counter; a negative counter is a fatal error. */
int grt_wg_add(grt_waitgroup *wg, int64_t delta);
int grt_wg_done(grt_waitgroup *wg);
/* Parks until the counter is zero. */
int grt_wg_wait(grt_waitgroup *wg);

/* ---- Descriptors: waiting parks the goroutine, not the thread (network poller) ------------
 * A goroutine that reads, writes, accepts or connects on a descriptor that is not ready parks
 * in grt's poller (one epoll instance), and its thread runs other goroutines; 10,000
 * goroutines waiting on 10,000 sockets need no more threads than GRTMAXPROCS.
 *   - A descriptor is registered on its first use here and made non-blocking (O_NONBLOCK is
 *     set on its open file: other users of that file see it too). Close it with
 *     grt_fd_close, not close(2): grt keeps state per descriptor number.
 *   - deadline_ns is absolute, on the grt_nanotime() clock; 0 means none. A deadline that has
 *     passed gives GRT_ETIMEDOUT; one that had passed before the call gives it at once, even
 *     when the descriptor is ready (as Go's deadlines).
 *   - Errors: GRT_EINVAL for bad input (a message on stderr: a bad or closed descriptor, NULL,
 *     a negative length or deadline), GRT_ENOTG off a goroutine, GRT_ECLOSED when
 *     grt_fd_close closed the descriptor meanwhile, GRT_ESYS when the system call failed:
 *     grt_errno() then gives its errno (EPIPE, ECONNRESET, ECONNREFUSED, ...), with no message.
 *   - Descriptors epoll refuses (regular files) are read and written with a blocking system
 *     call inside grt_entersyscall/grt_exitsyscall, as Go does for files.
 *   - Writes to a socket whose peer has gone give GRT_ESYS with EPIPE, not SIGPIPE; to a pipe
 *     they raise SIGPIPE as write(2) does (ignore it with signal(SIGPIPE, SIG_IGN)). */
#define GRT_POLLIN  1
#define GRT_POLLOUT 2
struct sockaddr;

/* Waits until fd is readable (GRT_POLLIN), writable (GRT_POLLOUT) or either: GRT_OK at once
 * if it is already. GRT_OK may also come early, after a change that another goroutine's call
 * used up (retry the call, and wait again on EAGAIN). */
int grt_fd_wait(int fd, int events, int64_t deadline_ns);
/* read(2) that parks instead of blocking: bytes read (0 at end of file), or a GRT_E* code. */
long grt_read(int fd, void *buf, size_t len, int64_t deadline_ns);
/* Writes all len bytes: len, or a GRT_E* code. If an error or the deadline stops it after
 * some bytes went out it returns that count (< len), as write(2) does; the next call reports
 * the error. */
long grt_write(int fd, const void *buf, size_t len, int64_t deadline_ns);
/* accept4(2) with SOCK_CLOEXEC that parks: the new descriptor, or a GRT_E* code. addr and
 * addrlen may be NULL; addrlen is a socklen_t *. */
int grt_accept(int fd, struct sockaddr *addr, uint32_t *addrlen, int64_t deadline_ns);
/* connect(2) that parks until the connection is made or refused: GRT_OK, or a GRT_E* code. */
int grt_connect(int fd, const struct sockaddr *addr, uint32_t addrlen, int64_t deadline_ns);
/* Closes fd: every goroutine waiting on it returns GRT_ECLOSED, and the number is released
 * only after every call in flight on it has returned (so a new descriptor that gets the
 * number never sees a read or write meant for the old one). */
int grt_fd_close(int fd);
/* The errno of the calling goroutine's last GRT_ESYS from the calls above (0: none). */
int grt_errno(void);

/* ---- Looking at other goroutines (debuggers, tests, the collector to come) -----------------
 * grt_suspend stops goroutine goid where it is: a goroutine on a CPU is stopped by a signal to
 * its M (SIGURG), which records the interrupted registers; a parked or runnable one is kept
 * from running; one in a system call or grt_cgocall keeps its M running while its own stack
 * stays frozen. *out gets where its stack is. grt_resume lets it go. Callable from any thread
 * (including one that is not an M), but not on the goroutine itself. A suspended goroutine
 * does not run until grt_resume: waking it (a channel send to it, say) completes for the
 * waker, and the goroutine becomes runnable at grt_resume; if it was in a system call, its
 * thread waits at grt_exitsyscall. Threads stopped by the signal may hold grt's internal
 * locks (a collection, or an allocation elsewhere, then waits for grt_resume), so keep
 * suspensions of running goroutines short.
 */
typedef struct grt_gregs {
    uintptr_t pc; /* where it runs (or will resume) */
    uintptr_t sp; /* its stack pointer (syscallsp in a system call) */
    uintptr_t fp; /* frame pointer: start of its frame-pointer chain */
    uintptr_t lr; /* aarch64: link register when stopped by the signal; else 0 */
    int state;    /* GRT_GSTATE_* below, at the moment it was stopped */
    int on_signal;/* 1 if the registers come from the signal's ucontext */
} grt_gregs;
#define GRT_GSTATE_RUNNABLE 1
#define GRT_GSTATE_RUNNING  2
#define GRT_GSTATE_SYSCALL  3
#define GRT_GSTATE_WAITING  4

int grt_suspend(uint64_t goid, grt_gregs *out);
int grt_resume(uint64_t goid);
/* Return addresses of goroutine goid's stack, innermost first, from its frame-pointer chain:
 * at most max of them; returns how many (or a negative error). The goroutine is suspended
 * for the walk. In a system call or grt_cgocall the walk starts at syscallpc/syscallsp, so
 * the first entry is the return address into the caller of grt_entersyscall/grt_cgocall.
 * Every entry after the first reads as a return address: a goroutine preempted
 * asynchronously shows its interrupted pc as pc + 1 (so entry - 1 is inside the
 * instruction, as for the others). */
int grt_traceback(uint64_t goid, uintptr_t *pcs, int max);

/* ---- CPU profiler ------------------------------------------------------------------------ */

/*
 * SIGPROF sampling of CPU time, by frame pointers (build your code with
 * -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer, and -mbranch-protection=none on
 * aarch64), and through frames without them (glibc's, a unit built with
 * -fomit-frame-pointer) by the binaries' unwind tables (.eh_frame). Every M (goroutine thread) gets its own CPU-time timer
 * (timer_create(CLOCK_THREAD_CPUTIME_ID)); where that is unavailable, setitimer(ITIMER_PROF).
 * A sample records the interrupted goroutine's stack (from where it entered grt_cgocall or a
 * system call when it is in one), its goroutine id, thread and time.
 *
 * grt_prof_start(hz, path): start sampling at hz samples per CPU-second per thread
 * (1..GRT_PROF_MAX_HZ; the kernel's tick, often 250 Hz, caps what a thread really gets).
 * path is created (truncated) at once, so a bad path fails here. It may be called before
 * grt_main: goroutine threads arm their timers as they start. With per-thread timers only
 * goroutine threads (Ms) are sampled; other threads (grt_main's caller, the program's own)
 * are not. GRT_EINVAL: bad hz or NULL/empty path; GRT_EBUSY: already profiling, or (setitimer
 * fallback) the program's own ITIMER_PROF is armed; GRT_ESYS: cannot create the file,
 * install the handler or arm a timer (message on stderr). The shared libraries loaded at
 * the start stay loaded until grt_prof_stop (the handler reads their code and unwind tables:
 * a dlclose meanwhile takes effect then); frames in a library loaded later end a sample's
 * stack.
 *
 * grt_prof_stop(): stop, then write the profile to path: gzip-compressed profile.proto
 * (sample types samples/count and cpu/nanoseconds, mappings from /proc/self/maps), read by
 * `go tool pprof BINARY path` and by `cargo xtask flamegraph path BINARY`. Puts back the
 * SIGPROF action the program had (unless the program installed another one meanwhile).
 * GRT_EINVAL when not profiling; GRT_ESYS when writing fails. A profile still running at
 * exit() or grt_exit is stopped and written then.
 *
 * Without code changes: GRTPROF=path (and GRTPROFHZ=n, default 100) in the environment
 * profiles from grt_main to the end of the program (grt_main's return or exit()).
 *
 * The program's own SIGPROF handler, installed before grt_prof_start, keeps getting the
 * SIGPROF signals that are not grt's (its own timers, its own threads).
 */
#define GRT_PROF_MAX_HZ 10000
int grt_prof_start(int hz, const char *path);
int grt_prof_stop(void);

typedef struct grt_prof_stats {
    uint64_t samples;    /* samples recorded (with a stack or a pseudo-stack) */
    uint64_t lost;       /* samples dropped because the buffer was full */
    uint64_t pseudo;     /* of samples: recorded as a pseudo-stack (grt.System, ...) */
    uint64_t forwarded;  /* SIGPROFs handed to the program's own handler */
    int hz;              /* the rate asked for */
    int per_thread;      /* 1: a timer per thread; 0: the setitimer fallback */
    int running;         /* 1 between grt_prof_start and grt_prof_stop */
    int reserved;
} grt_prof_stats;
/* Counters of the current profile, or of the last one once stopped. */
int grt_prof_read_stats(grt_prof_stats *out);

/* ---- Garbage collector ------------------------------------------------------------------ */

/*
 * A conservative, mostly concurrent mark-sweep collector (Go 1.5-1.7's design).
 *
 * Memory: grt_alloc(n) returns n zeroed bytes that the collector scans for pointers;
 * grt_alloc_atomic(n) returns n zeroed bytes it does not scan (strings, numbers). Nothing is freed by hand: an object lives while a pointer to it (or into it: interior
 * pointers count) is reachable from a root. Out of memory is a fatal error.
 *
 * Roots: every goroutine's stack and its saved registers, the main program's data and bss,
 * the data and bss of every loaded shared library (dlopen'd ones included, from the next
 * cycle on), channel buffers, the argument given to grt_go/grt_main, ranges registered
 * with grt_add_roots, and the stacks and registers of threads registered with
 * grt_register_thread. Not roots: the stacks of other threads that are not goroutines
 * (grt_main's caller, the program's own pthreads) and memory from malloc. Keep pointers that live there
 * reachable some other way (grt_add_roots). Of a goroutine stopped on a CPU,
 * the general-purpose registers are scanned, not the SSE/NEON ones (as in bdwgc).
 *
 * Cycles run in the background: a stop-the-world pause to turn the write barrier on, a
 * concurrent mark (goroutines keep running; each goroutine's stack is scanned while it is
 * briefly stopped, and return-address stack barriers are installed in its frames), then a
 * short stop-the-world mark termination that rescans only the stack frames that ran since
 * their scan, then a sweep. A cycle starts when the heap has grown by GRTGC percent (default
 * 100, as Go's GOGC; GRTGC=off: only grt_gc) since the last one. (Objects kept only for
 * their finalizers count in the heap but are not grown over: they die in the next cycle.)
 *
 * THE RULE (write barrier): while a cycle marks, a pointer stored into a heap object, or into
 * a caller's stack frame through a pointer (an out-parameter), must go through GRT_STORE.
 * Stores into your own locals and into globals need nothing, nor do channel operations (they
 * apply the barrier to what they copy). GRT_STORE costs one load and a predictable branch
 * when no cycle is marking.
 *
 * During grt_entersyscall .. grt_exitsyscall (call both from the same function) and inside
 * grt_cgocall's function, the goroutine's frozen frames and the callee-saved registers at
 * the call are scanned; do not keep the only pointer to an object elsewhere (in the system
 * stack's own frames) and do not store new pointers there.
 *
 * Tuning and debugging (GRTDEBUG, comma-separated): gcstackbarrieroff=1 (no stack barriers:
 * mark termination rescans every stack in full), gcstackbarrierall=1 (a barrier in every
 * frame), gctrace=1 (one line per cycle on stderr).
 */
/* n zeroed bytes, scanned for pointers. n == 0 gives a unique minimal object. */
void *grt_alloc(size_t n);
/* n zeroed bytes never scanned for pointers ("atomic" in bdwgc's sense). */
void *grt_alloc_atomic(size_t n);
/* The same, but NULL (and no message) instead of a fatal error when the heap cannot have n
 * bytes (a size no mapping can hold, the kernel refuses memory, or grt_gc_set_max_heap's
 * limit holds even after a full collection): for APIs that promise NULL (bdwgc's GC_malloc,
 * through gc.h). */
void *grt_try_alloc(size_t n);
void *grt_try_alloc_atomic(size_t n);
/* n zeroed bytes aligned to align (a power of two: else NULL and a message). Up to 2 MiB,
 * the start of an object (perhaps larger than n: grt_base(p) == p; above 8 KiB, an object of
 * at least 32 KiB); above, an aligned pointer into a larger object (it keeps the object
 * alive like any interior pointer; grt_base gives the start). NULL when the heap cannot
 * have it. */
void *grt_alloc_aligned(size_t align, size_t n);
/* n zeroed bytes the collector never frees (bdwgc's uncollectable objects): each cycle
 * takes the object as a root (scanned for pointers; not the _atomic one), so what it points
 * to lives too, until grt_free(p). NULL when the heap cannot have it. */
void *grt_alloc_uncollectable(size_t n);
void *grt_alloc_uncollectable_atomic(size_t n);
/* Gives an object back: an uncollectable one becomes an ordinary object; any object is then
 * freed by the first cycle that finds it unreachable (grt never hands out memory the program
 * may still point to, so this frees nothing at once). NULL: nothing. GRT_EINVAL (and a
 * message): p is not the start of a live grt heap object. */
int grt_free(void *p);
/* The collector's view of the object p points into (bdwgc's GC_is_marked, GC_set_mark_bit):
 * grt_gc_is_marked: while a cycle marks, whether it has reached the object yet; between
 * cycles, whether the last cycle kept it (or it was allocated since); 0 for a pointer into
 * no live object. grt_gc_set_mark_bit keeps the object through the cycle under way or, if
 * that cycle already found it unreachable, through the sweep to come (a weak table reviving
 * an entry it is about to lose). grt_gc_scanned: 1 if the object is scanned for pointers,
 * 0 if atomic, -1 for no live object. */
int grt_gc_is_marked(const void *p);
void grt_gc_set_mark_bit(const void *p);
int grt_gc_scanned(const void *p);
/* Calls fn(obj, size, arg) for every object the collector holds live as the last cycle left
 * it (kept by it, or allocated since: while a cycle marks, every allocated object), with
 * the heap locked: fn must not allocate, wait for the collector or ask it about marks
 * (grt_base, grt_size and grt_gc_scanned are fine). Slots an allocation cache holds but has
 * not handed out yet count as objects (zeroed ones). Never waits for the collector (callable
 * under grt_gc_lock_links). Returns how many objects, or GRT_EINVAL for a NULL fn. */
int64_t grt_gc_enumerate(void (*fn)(void *obj, size_t size, void *arg), void *arg);
/* The start of the heap object that p points into (interior pointers too), or NULL when p is
 * not in a live grt heap object (a stack, a global, malloc's memory, a freed object). */
void *grt_base(const void *p);
/* The usable bytes of the heap object that p points into (its size rounded up to the
 * allocator's size class, at least what was asked), or 0 as grt_base gives NULL. */
size_t grt_size(const void *p);
/* The usable bytes an allocation of n bytes gets (what grt_size will say of it: its size
 * class, or whole 8 KiB pages above 32 KiB); 0 for a size past the address space. */
size_t grt_alloc_size(size_t n);
/* Resizes an object grt_alloc or grt_alloc_atomic returned (same kind): in place when it
 * fits (the bytes given up are zeroed), else a new object with the old contents (the old one
 * is left to the collector). grt_realloc(NULL, n) is grt_alloc(n); n == 0 gives NULL and
 * leaves the object to the collector. A pointer that is not the start of a live object: NULL,
 * and a message (GRT_EINVAL). */
void *grt_realloc(void *p, size_t n);
/* Finalizers (Go's runtime.SetFinalizer). Once the object obj (the start of a grt heap
 * object) is unreachable, fn(obj, arg) runs once, on grt's finalizer goroutine (or on a
 * thread that calls grt_run_finalizers first). The object, and everything it reaches, is kept
 * until then: it is freed by a later cycle if the finalizer left it unreachable. arg is a
 * root while the finalizer is set. Order: if an object with a finalizer reaches another
 * one, the outer one is finalized first and the inner one a cycle later; objects in a cycle
 * of finalizable objects are never finalized (as in Go); pointers from an object into
 * itself do not count (as in bdwgc). A second call replaces the finalizer; fn NULL removes it.
 * From a goroutine or a registered thread. GRT_EINVAL (and a message): obj is not the start
 * of a grt heap object. */
int grt_set_finalizer(void *obj, void (*fn)(void *obj, void *arg), void *arg);
/* Disclaims (bdwgc's disclaim procedures): fn(obj, arg) decides, each time a cycle finds the
 * object obj (the start of a grt heap object) unreachable, whether it may go. Until fn has
 * answered, obj and everything it reaches are kept; fn runs on grt's finalizer goroutine (or
 * a thread in grt_run_finalizers). fn returns nonzero to keep obj (asked again when a later
 * cycle finds it unreachable), 0 to let it go (the disclaim is dropped; a later cycle frees
 * obj once unreachable). So an object with a disclaim is never freed without being asked.
 * Unlike finalizers, disclaims impose no order: objects that reach each other, cycles
 * included, are asked in the same cycle (unless GRT_DISCLAIM_MARK_CONTENTS). arg is passed
 * as is and is not a root.
 * Meant for weak tables that hold their entries hidden (GRT_HIDE_POINTER): a lookup revives
 * the entry it found with grt_gc_set_mark_bit under the table's lock, and the disclaim,
 * under the same lock, keeps what grt_gc_is_marked says was revived: while obj's disclaim is
 * pending, grt_gc_is_marked(obj) tells whether grt_gc_set_mark_bit was called on it since
 * the cycle found it unreachable. flags GRT_DISCLAIM_MARK_CONTENTS: what obj points to is
 * kept (not asked about) whenever obj is asked (bdwgc's mark_unconditionally); without it,
 * an object reachable only from obj may be asked in the same cycle. A second call replaces
 * fn; fn NULL removes the disclaim. From a goroutine or a registered thread. GRT_EINVAL (and
 * a message): obj is not the start of a grt heap object, or other flags. */
#define GRT_DISCLAIM_MARK_CONTENTS 1
int grt_set_disclaim(void *obj, int (*fn)(void *obj, void *arg), void *arg, int flags);
/* Runs the finalizers (and disclaims) that are due on the calling thread (a goroutine or a registered
 * thread: GRT_EINVAL otherwise); returns how many ran. */
int grt_run_finalizers(void);
/* Makes every finalizer set due, whether its object is reachable or not (bdwgc's
 * GC_finalize_all, for the end of a program), and runs the due ones on the calling thread
 * (as grt_run_finalizers; the finalizer goroutine may run some meanwhile); each runs once.
 * Returns how many ran on the calling thread. */
int grt_run_all_finalizers(void);
/* Weak pointers (Go 1.24's weak.Pointer). grt_weak_make(p) makes a handle to the object p
 * points into (interior pointers too) that does not keep it alive; grt_weak_get returns
 * the object's start while it lives, NULL once a cycle found it unreachable (before its
 * finalizer, if any, runs). grt_weak_free releases the handle. NULL and a message for a
 * pointer outside grt's heap or a handle that is not live. */
typedef struct grt_weak grt_weak;
grt_weak *grt_weak_make(void *p);
void *grt_weak_get(grt_weak *w);
int grt_weak_free(grt_weak *w);
/* Disappearing links (bdwgc's GC_general_register_disappearing_link). link is a word of
 * yours (static data, a grt heap object, malloc'd memory: aligned, and writable while
 * registered) that typically holds obj disguised (GRT_HIDE_POINTER: a hidden pointer does
 * not keep obj alive). The cycle that finds obj (any pointer into it) unreachable sets *link
 * to NULL and forgets the link, with the world stopped.
 * Read a link with grt_link_get (obj's start while the link stands, else NULL), or reveal
 * its hidden pointer yourself between grt_gc_lock_links and grt_gc_unlock_links: a thread
 * that has read the hidden word but not yet made it a pointer holds nothing the collector
 * can see, and a collection in between would free the object it is about to use. Under the
 * lock no collection ends (do not allocate or wait for the collector there); once the
 * pointer is in a variable or a GRT_STORE'd field, it keeps the object. The lock is not
 * recursive; a goroutine holding it is not preempted (do not block or park there either).
 * A short link (flags 0) is cleared before finalizers are considered, like grt_weak; a long
 * one (GRT_LINK_LONG) only once obj is not kept for a finalizer either. (One made in the
 * last moments of a cycle's marking, to an object only a finalizable one reaches, may clear
 * a cycle later.) A link whose own
 * word lies in a heap object that died is forgotten without being written.
 * grt_link_register: GRT_OK, or GRT_LINK_DUPLICATE if link is registered already (its
 * object unchanged). grt_link_unregister: 1 if it was registered, 0 if not.
 * grt_link_move: the registration moves to new_link (*new_link not written): GRT_OK,
 * GRT_LINK_NOT_FOUND, or GRT_LINK_DUPLICATE if new_link is registered already.
 * GRT_EINVAL (and a message): link or new_link NULL or not aligned, obj not in grt's heap,
 * flags not 0 or GRT_LINK_LONG. From any thread. */
#define GRT_LINK_LONG 1
#define GRT_LINK_DUPLICATE 1
#define GRT_LINK_NOT_FOUND 2
#define GRT_HIDE_POINTER(p) (~(uintptr_t)(p))
#define GRT_REVEAL_POINTER(h) ((void *)~(uintptr_t)(h))
int grt_link_register(void **link, const void *obj, int flags);
int grt_link_unregister(void **link, int flags);
int grt_link_move(void **link, void **new_link, int flags);
void *grt_link_get(void **link);
void grt_gc_lock_links(void);
void grt_gc_unlock_links(void);
/* Adds [lo, hi) to the roots (scanned every cycle, word by word). GRT_EINVAL: lo > hi or NULL.
 * Stores into the range need no barrier. Where the kernel can (Linux 6.7, arm64 6.10; see
 * roots_tracked in grt_gc_stats), a range of 256 KiB or more outside grt's heap is registered
 * with grt's userfaultfd (asynchronous write protection: no signal; a fault at each page's
 * first write in a cycle) until it is unmapped, so a userfaultfd of the program's own cannot
 * register it (EBUSY); if it lies wholly in private anonymous mappings (mmap'd or malloc'd
 * memory, not a file's), mark termination then reads only its pages written since its last
 * read. Memory mapped anew over the range, or a range removed meanwhile, is noticed and read
 * whole. */
int grt_add_roots(void *lo, void *hi);
/* Removes every range added with grt_add_roots that lies inside [lo, hi) (bdwgc's
 * GC_remove_roots): the number removed. GRT_EINVAL: lo > hi. */
int grt_remove_roots(void *lo, void *hi);
/* Plain-store mode: the program stores pointers into heap objects with plain assignments, no
 * GRT_STORE (as bdwgc programs do). From the next cycle; also GRTPLAINSTORES=0/1/2/3.
 * GRT_PLAIN_STORES_RESCAN (2): mark termination rescans every marked object (and every
 *   goroutine stack whole): complete with no help from the program or the kernel; the
 *   pause grows with the heap. gc.h's GC_INIT.
 * GRT_PLAIN_STORES_PROTECT (1): while a cycle marks, the heap's pages that may hold pointers
 *   are write-protected; the first write to each is caught (a SIGSEGV handled inside grt)
 *   and mark termination rescans only the pages written. A fault per page written per cycle.
 *   A system call that writes into such a page meanwhile fails with EFAULT (grt_read and
 *   grt_accept make the pages writable first): give read(2) buffers from grt_alloc_atomic.
 *   A thread with SIGSEGV blocked dies on its first such write. grt's fault handler passes
 *   other faults on to the SIGSEGV handler installed before it; a handler the program
 *   installs after grt started replaces it. Where faulting stores are not restarted exactly
 *   (under a user-mode emulator: qemu-user 7.2 on aarch64 is not exact), it works as RESCAN.
 *   gc.h's
 *   GC_enable_incremental.
 * GRT_PLAIN_STORES_KERNEL (3): as PROTECT, but the kernel tracks the pages written
 *   (userfaultfd write protection in its asynchronous form and PAGEMAP_SCAN: Linux 6.7,
 *   arm64 6.10): no signal, no EFAULT (system calls write into the heap as they like), and
 *   the heap is registered with grt's userfaultfd. Where the kernel cannot (older kernels,
 *   qemu-user; dirty_kernel_cycles in grt_gc_stats counts the cycles it began), as RESCAN.
 *   Not tracked: stores that bypass the page tables (I/O into pinned pages: io_uring's fixed
 *   buffers, O_DIRECT in flight). Pages written are listed and their marked objects
 *   rescanned before mark termination too, so it rescans only those written in the last
 *   short while; its listing still walks the heap's page tables (about 3 ns a page).
 *   GCBench through gc.h (medians of 7): with GRTMAXPROCS=1 longest pause 0.15 ms against
 *   RESCAN's 11.4 ms, in 0.96 times its time; with 2 Ps 0.17 against 5.4 ms, in 1.37 times
 *   (faults while a cycle marks; the pages protected again before mark termination).
 * 0: off (GRT_STORE). GRT_EINVAL for another value. */
#define GRT_PLAIN_STORES_PROTECT 1
#define GRT_PLAIN_STORES_RESCAN 2
#define GRT_PLAIN_STORES_KERNEL 3
int grt_gc_set_plain_stores(int mode);
/* The plain-store mode set (0, 1, 2 or 3). */
int grt_gc_plain_stores(void);
/* Runs a full cycle and returns when it is over (sweep included). From a goroutine, the
 * goroutine waits like in a system call; from another thread, the thread waits.
 * GRT_ENOTINIT before grt_main. */
int grt_gc(void);
/* The memory limit (Go's GOMEMLIMIT; also GRTMEMLIMIT=<bytes>[B|KiB|MiB|GiB|TiB], or off):
 * a soft cap on the heap. After each cycle the heap goal is at most the limit (never below
 * the live heap plus 1/16 of it), so cycles come more often as the live heap nears it, with
 * GRTGC=off too (then only the limit starts cycles). No allocation fails because of it.
 * limit < 0 only asks; INT64_MAX removes it. Returns the previous limit (INT64_MAX: none). */
int64_t grt_gc_set_memory_limit(int64_t limit);
/* The collection target (Go's debug.SetGCPercent; also GRTGC): a cycle starts when the heap
 * has grown by percent since the last one; a negative percent turns automatic collection
 * off (grt_gc and a memory limit still collect). Above 100000: 100000. Returns the previous
 * setting (-1: off). */
int grt_gc_set_percent(int percent);
/* A hard cap on the bytes the heap maps (bdwgc's GC_set_max_heap_size); 0 removes it. The
 * heap grows in 4 MiB chunks (a large object: a mapping of its own), so the heap stays at
 * or under the cap. An allocation that would pass it waits for a full collection and a
 * full sweep, then tries once more: grt_try_alloc* then returns NULL, grt_alloc* is a fatal
 * error ("out of memory: ... within the heap limit"). Returns GRT_OK. */
int grt_gc_set_max_heap(size_t bytes);

struct grt_gc_stats {
    uint64_t cycles;             /* completed cycles */
    uint64_t heap_inuse;         /* bytes in allocated objects (size-class rounded) */
    uint64_t heap_mapped;        /* bytes mapped for the heap */
    uint64_t heap_goal;          /* heap_inuse at which the next cycle starts (0: GRTGC=off
                                  * and no memory limit) */
    uint64_t nmalloc;            /* objects allocated, total */
    uint64_t nfree;              /* objects freed by sweeps, total */
    uint64_t pause_total_ns;     /* all stop-the-world pauses, total (a cycle may also stop
                                    the registered threads that are not goroutines once while
                                    it marks, to read their stacks: counted here too) */
    uint64_t pause_max_ns;       /* the longest pause: a stop of the world, or of the
                                    registered threads while a cycle marks */
    uint64_t last_markterm_ns;   /* the last mark termination's pause */
    uint64_t last_rescan_ns;     /* of it: rescanning goroutine stacks */
    uint64_t last_sweep_ns;      /* the last sweep (after the world restarted) */
    uint64_t frames_scanned;     /* stack frames scanned concurrently, total */
    uint64_t frames_rescanned;   /* stack frames rescanned in mark termination, total */
    uint64_t last_frames_rescanned; /* of them, in the last cycle */
    uint64_t barriers_installed; /* stack barriers installed, total */
    uint64_t barriers_hit;       /* of them, hit (the frame returned through the trampoline) */
    uint64_t stacks_rescanned_whole; /* stacks mark termination rescanned whole although they
                                        may hold barriers: not scanned in that cycle (held by
                                        grt_suspend, a thread that did not stop in time),
                                        stopped off their own stack, or their barriers in use */
    uint64_t barriers_unprovable; /* scans that placed no barrier from some frame record up:
                                     its return address was not code right after a call
                                     (frame-pointer-less code keeps data in the frame pointer) */
    uint64_t scan_ns;            /* time in concurrent stack scans (old barriers out, words
                                    collected, frames checked, new barriers in), total */
    uint64_t barriers_jumped;    /* barriers whose frames a jump discarded without
                                    grt_gc_unwind (a longjmp in a library): passed over by
                                    the trampoline, or dropped by a scan */
    uint64_t stacks_rescanned;   /* goroutine stacks mark termination rescanned, total */
    uint64_t stacks_skipped;     /* stacks it skipped: parked since their scan in the cycle,
                                    so unchanged (Go 1.7's rescan list), total */
    uint64_t last_stacks_rescanned; /* the same two, in the last cycle */
    uint64_t last_stacks_skipped;
    uint64_t last_stop_ns;       /* the last mark termination's pause in parts: stopping the
                                    threads, */
    uint64_t last_flush_ns;      /* flushing their allocation caches and write-barrier
                                    buffers, */
    uint64_t last_roots_ns;      /* data/bss and registered roots, (stacks:
                                    last_rescan_ns), */
    uint64_t last_drain_ns;      /* marking what is left, */
    uint64_t last_start_ns;      /* restarting the world */
    uint64_t rescan_rounds;      /* concurrent rescan rounds before mark termination (the
                                    stacks that ran since their scan, each down to its
                                    lowest barrier not hit, barriers put back), total */
    uint64_t round_stacks;       /* stacks those rounds rescanned, total */
    uint64_t heap_live;          /* what the pacer holds to heap_goal (Go's heap_live): bytes
                                    the last cycle found live plus bytes allocated since;
                                    heap_inuse also counts dead objects not yet swept */
    uint64_t alloc_waits;        /* allocations that waited for a cycle's marking, the live
                                    heap being past the goal by half of it, total */
    uint64_t alloc_wait_max_ns;  /* the longest such wait */
    uint64_t sweep_batch_max_ns; /* the longest the background sweep held the heap lock */
    uint64_t spans_swept_by_alloc; /* spans swept by allocations that needed them (the rest
                                      by the background sweep), total */
    uint64_t heap_released;      /* free heap pages given back to the kernel now (a page goes
                                    back once it has stayed free for about a second), bytes */
    uint64_t heap_released_total; /* the same, in all */
    uint64_t dirty_faults;       /* plain-store mode: writes to write-protected heap pages
                                    caught while a cycle marked, total */
    uint64_t dirty_ranges_rescanned; /* plain-store mode: written page ranges mark termination
                                        rescanned, total */
    uint64_t dirty_full_rescans; /* plain-store mode: mark terminations that rescanned every
                                    marked object instead (a store that faults on a protected
                                    page is not restarted exactly here, as under qemu-user on
                                    aarch64, or the log of written pages overflowed) */
    uint64_t assists;            /* mark assists: an allocation past the heap goal while a
                                    cycle marks scanned a batch of the marker's work itself */
    uint64_t assist_ns;          /* the time they took, total */
    uint64_t alloc_bytes;        /* bytes allocated since the start (size-class rounded; an
                                    allocation cache's run counts when the cache takes it) */
    uint64_t last_marked;        /* bytes the last cycle found live */
    uint64_t round_yields;       /* times an M yielded its CPU (to the collector) before
                                    running a goroutine whose stack was clean, because the
                                    rescan rounds fell behind (the goroutines dirtied their
                                    stacks as fast as the rounds rescanned them) or mark
                                    termination was about to stop the world;
                                    GRTDEBUG=gcnoroundyield=1 turns this off; total */
    uint64_t mark_par_jobs;      /* parts of mark termination that grow with the heap (the
                                    rescan of every marked object in plain-store mode's rescan
                                    form, the finalizers' first pass) big enough to be shared
                                    with the collector's helper thread on another CPU, total */
    uint64_t mark_helper_jobs;   /* of them, those the helper took part in (it may come too
                                    late, or find no free CPU) */
    uint64_t alloc_sweep_max_pages; /* the most pages' worth of spans one allocation swept,
                                       looking for room in its size class, before it took
                                       fresh pages (64 pages and one span at most: the
                                       allocation holds the heap lock meanwhile) */
    uint64_t idle_mark_bytes;    /* marking done by Ms that had no goroutine to run while a
                                    cycle marked (Go's idle mark workers; GRTDEBUG=
                                    gcnoidlemark=1 turns it off): bytes of objects scanned,
                                    total */
    uint64_t idle_mark_ns;       /* the time it took, waits for work another marker held
                                    included, total */
    uint64_t roots_tracked;      /* 1 when the last mark termination read, of some of the
                                    data and bss or of the ranges registered with
                                    grt_add_roots, only the pages written since the cycle's
                                    last read of them: the kernel tracks stores into them
                                    (userfaultfd write protection, asynchronous, and
                                    PAGEMAP_SCAN: Linux 6.7, arm64 6.10; not under
                                    qemu-user), for runs of segments of 256 KiB or more and
                                    registered ranges of 256 KiB or more (smaller ones are
                                    read whole, as cheap as asking); 0 when it read all of
                                    them (also GRTDEBUG=gcnorootwp=1) */
    uint64_t last_data_bytes;    /* the data and bss the collector reads (the program's and
                                    its libraries', grt's own large tables left out) and the
                                    registered ranges, at the last mark termination */
    uint64_t last_data_rescanned_bytes; /* of them, the bytes it read (a part read twice
                                           counts twice) */
    uint64_t dirty_kernel_cycles; /* plain-store mode's kernel form: cycles that began with
                                     the kernel tracking stores into the heap (in the others
                                     mark termination rescanned every marked object, as in
                                     one whose listing failed later: counted in both) */
};
/* Fills *out (a struct: the function has the struct tag's name, as the issue asked). */
int grt_gc_stats(struct grt_gc_stats *out);
/* Before a longjmp (or any jump) from a goroutine's frames up to an outer frame whose stack
 * pointer is sp (the address of a local of the function that called setjmp will do): removes
 * the stack barriers in the frames the jump skips, and keeps the collector from placing new
 * ones there until the jump is done. A jump without it (a library's own longjmp, say) is
 * safe too: the next return through a barrier above passes over the skipped ones, and mark
 * termination finds them off the frame chain (or, when it cannot tell, rescans the whole
 * stack); grt_gc_stats counts them in barriers_jumped. grt_gc_unwind only keeps that rescan
 * short. GRT_EINVAL: sp not on the goroutine's stack; GRT_ENOTG: not on a goroutine. */
int grt_gc_unwind(const void *sp);

/* The write barrier (see THE RULE above). The store comes before the flag test, and the
 * signal fence keeps the compiler from swapping them: cycles stop the world with a signal
 * that may land between the two. Tested first, the flag could be read as 0 just before the
 * pause that turns it on, and the store land after it in an object already scanned: the
 * value would be lost. Stored first, a pause between the two is either the one that turns
 * the flag on (the test then sees 1 and shades) or mark termination (which scans the
 * stopped thread's registers and top frame, where the value still is). */
extern volatile int grt_gc_wbenabled;
void grt_gc_shade(const void *p);
#define GRT_STORE(slot, value)                                                              \
    do {                                                                                    \
        __typeof__(*(slot)) grt_store_v_ = (value);                                         \
        *(slot) = grt_store_v_;                                                             \
        __atomic_signal_fence(__ATOMIC_SEQ_CST);                                            \
        if (__builtin_expect(grt_gc_wbenabled, 0))                                          \
            grt_gc_shade((const void *)grt_store_v_);                                       \
    } while (0)

/* ---- Small system helpers (usable without libc) ---------------------------------------- */

/* write(2) through a raw syscall, blocking the thread: bytes written, or -errno. */
long grt_sys_write(int fd, const void *buf, size_t len);
/* Ends the process with `code` (exit_group; atexit handlers do not run). */
void grt_exit(int code) __attribute__((noreturn));
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t grt_nanotime(void);

#ifdef __cplusplus
}
#endif

#endif /* GRT_H */
