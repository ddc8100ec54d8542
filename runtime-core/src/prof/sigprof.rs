//! The SIGPROF handler: take one sample of the interrupted thread (Go's `sigprof`).
//!
//! # What it may do
//!
//! It runs on the M's alternate signal stack at any instruction of the program, including
//! inside grt's own locks, the allocator and the scheduler. So it allocates nothing, takes no
//! lock that the interrupted thread may hold (the only lock it touches is a G's `stack_lock`,
//! tried once), loops only with fixed bounds (64 frames, [`profbuf::PROBES`] slots), and uses
//! a bounded amount of stack (one [`profbuf::Sample`] is written in place in the buffer).
//!
//! # Whose signal it is (Go's validSIGPROF)
//!
//! With a timer per M, grt's signals carry `si_code == SI_TIMER` and grt's cookie in
//! `si_value`; with the setitimer fallback, `si_code == SI_KERNEL`. Anything else (the
//! program's own timers, `kill`, a setitimer signal while grt uses per-thread timers) is not
//! grt's: it goes to the handler the program installed before grt, or, when that was the
//! default action or ignore, is dropped (the default action would end the process).
//!
//! # Which stack it walks
//!
//! | where the thread was | the sample's stack |
//! |---|---|
//! | on its goroutine's stack, goroutine running | pc, then its frames (try-lock that G) |
//! | on its goroutine's stack, goroutine in a syscall (`grt_entersyscall` .. `grt_exitsyscall`) | pc, then the goroutine's frames from `syscallpc`/`syscallbp` (try-lock that G) |
//! | on g0 running `grt_cgocall`'s function | the C frames on g0, then the goroutine's frames from `syscallpc`/`syscallbp` (try-lock that G) |
//! | on g0 otherwise (the scheduler) | the g0 frames (g0 never has barriers) |
//! | the collector's thread | pc, `grt.GC` |
//! | anywhere else (signal stack, a thread that is not an M) | pseudo-stack |
//!
//! A pseudo-stack is two frames: the pc (or `grt.ExternalCode` when the pc is outside every
//! known code mapping), then `grt.GC` when the stack lock was held (the GC is changing that
//! stack's barriers) or `grt.System` otherwise. A thread that is not an M records
//! `pc, grt.ExternalCode`, as Go does for threads it did not create.

use core::ffi::c_void;
use core::sync::atomic::Ordering;

use grt_arch as arch;

use crate::cpuprof::{self, PC_EXTERNAL_CODE, PC_GC, PC_SYSTEM};
use crate::profbuf::{Sample, MAX_STACK};
use crate::runtime2::{G, GSCAN, GSYSCALL, M};
use crate::traceback::{
    gentraceback, MIN_CODE_ADDR, TRACE_CALLERS_AS_RET, TRACE_CHECK_CALLS, TRACE_FROM_SIGNAL,
};
use crate::{codemap, proc, signals, stkbar, sys};

pub const SIGPROF: i32 = 27;
/// `si_code` of a POSIX timer's signal.
const SI_TIMER: i32 = -2;
/// `si_code` of a signal the kernel sends itself (setitimer's SIGPROF).
const SI_KERNEL: i32 = 0x80;

/// The handler grt installs for SIGPROF while profiling.
///
/// # Safety
/// Called by `grt_sighandler` with the kernel's arguments.
pub unsafe extern "C" fn sigprof_handler(sig: i32, info: *mut c_void, uc: *mut c_void) {
    // SAFETY: info is the kernel's siginfo; the timer fields are inside it.
    let (code, value) = unsafe {
        let b = info as *const u8;
        (
            *(b.add(arch::SIGINFO_CODE_OFF) as *const i32),
            *(b.add(arch::SIGINFO_TIMER_VALUE_OFF) as *const usize),
        )
    };
    let grt_timer = code == SI_TIMER && value == cpuprof::TIMER_COOKIE;
    let ours = match cpuprof::mode() {
        cpuprof::MODE_PER_THREAD => grt_timer,
        cpuprof::MODE_SETITIMER => code == SI_KERNEL,
        _ => false,
    };
    if grt_timer && !ours {
        // One of grt's own timers, queued before the stop deleted it and delivered after
        // (the kernel keeps a deleted timer's queued signal; qemu-user delivers it late):
        // never the program's to see.
        cpuprof::count_dropped();
        return;
    }
    if !ours {
        forward_unclaimed(sig, info, uc);
        return;
    }
    if !cpuprof::enter_handler() {
        return; // stopped meanwhile
    }
    // SAFETY: uc is this handler's ucontext.
    unsafe { record(uc) };
    cpuprof::exit_handler();
}

fn forward_unclaimed(sig: i32, info: *mut c_void, uc: *mut c_void) {
    let prev = signals::prev_action(sig).handler;
    if prev == signals::SIG_DFL || prev == signals::SIG_IGN {
        cpuprof::count_dropped();
        return;
    }
    cpuprof::count_forwarded();
    // SAFETY: our handler's own arguments, for the handler the program installed.
    unsafe { signals::forward(sig, info, uc) };
}

/// Records one sample of the interrupted thread.
///
/// # Safety
/// `uc` is the ucontext of a SIGPROF handler running on the interrupted thread.
unsafe fn record(uc: *mut c_void) {
    // SAFETY: uc is the kernel's ucontext.
    let (pc, sp, fp, lr) = unsafe {
        (
            arch::uc_pc(uc),
            arch::uc_sp(uc),
            arch::uc_fp(uc),
            arch::uc_lr(uc),
        )
    };
    let Some(mut w) = cpuprof::buffer().claim() else {
        return; // counted as lost by the buffer
    };
    let s = w.sample();
    s.time = sys::nanotime();
    let m = proc::getm();
    // SAFETY: the TLS m slot is null or this thread's own M; Ms are never freed.
    match unsafe { m.as_ref() } {
        None if cpuprof::on_gc_thread() => {
            // The collector's own thread: its CPU time is the collector's.
            s.tid = sys::gettid() as u32;
            pseudo(s, pc, PC_GC);
        }
        None => {
            s.tid = sys::gettid() as u32;
            s.push(pc);
            s.push(PC_EXTERNAL_CODE);
        }
        Some(m) => {
            m.in_sigprof.store(true, Ordering::Relaxed);
            s.mid = m.id;
            s.tid = m.procid.load(Ordering::Relaxed);
            sample_m(s, m, pc, sp, fp, lr);
            cpuprof::test_hook_in_handler();
            m.in_sigprof.store(false, Ordering::Relaxed);
        }
    }
    if s.n == 0 {
        pseudo(s, pc, PC_SYSTEM);
    }
    let pseudo = s.n == 2 && (s.stack[1] == PC_SYSTEM || s.stack[1] == PC_GC);
    if s.stack[0] < MIN_CODE_ADDR && !(pseudo && s.stack[0] == PC_GC) {
        // pc 0 (a call through a null pointer) or in the first page: not code, and it would
        // read as a pseudo-frame.
        s.stack[0] = PC_EXTERNAL_CODE;
    }
    w.publish();
    cpuprof::count_sample(pseudo);
}

/// The leaf of a pseudo-stack: pc if it is known code. A pc inside the stack-barrier
/// trampoline is never recorded (where it returns to is in the barrier list, which cannot be
/// read without the stack lock): such a sample is `[grt.GC, grt.GC]`, barrier book-keeping.
/// A pc inside the asynchronous preemption stub is not either (a stub frame never shows in
/// a profile; the interrupted pc is in the moved signal frame, read only by a walk): such a
/// sample is `[grt.System, kind]`, the scheduler's work.
fn pseudo(s: &mut Sample, pc: usize, kind: usize) {
    s.n = 0;
    s.push(if arch::in_stack_barrier(pc) {
        PC_GC
    } else if arch::in_async_preempt(pc) {
        PC_SYSTEM
    } else if codemap::find(pc).is_some() {
        pc
    } else {
        PC_EXTERNAL_CODE
    });
    s.push(kind);
}

fn within(sp: usize, g: &G) -> bool {
    g.stack.lo <= sp && sp < g.stack.hi
}

/// Fills `s` for a thread that is an M (see the table in the module comment).
fn sample_m(s: &mut Sample, m: &M, pc: usize, sp: usize, fp: usize, lr: Option<usize>) {
    let curg = m.curg.load(Ordering::Acquire);
    // SAFETY: Gs are never freed; the curg of our own M cannot change under us (we run on
    // its thread).
    let curg = unsafe { curg.as_ref() };
    // SAFETY: as above; g0 is set for the life of the M.
    let g0 = unsafe { &*m.g0 };
    if let Some(g) = curg {
        s.goid = g.goid();
        let in_syscall = g.status() & !GSCAN == GSYSCALL && g.syscallsp != 0;
        if within(sp, g) {
            if in_syscall {
                // Blocked or busy in a system call made on the goroutine's stack: the code at
                // pc (libc's wrapper, the kernel's return point) has no frame we trust; the
                // goroutine's own frames start at syscallpc.
                walk_g(s, g, pc, |s| {
                    // grt's own way out of grt_entersyscall / grt_cgocall's entry runs here
                    // too, and may return through a barrier: resolve the trampoline (the
                    // stack lock is held).
                    let leaf = if arch::in_stack_barrier(pc) {
                        stkbar::Cursor::new(g, sp, fp, None).in_trampoline(pc, sp, fp)
                    } else {
                        Some(pc)
                    };
                    if let Some(leaf) = leaf {
                        s.push(leaf);
                    }
                    walk_syscall(s, g)
                });
            } else {
                walk_g(s, g, pc, |s| walk_regs(s, g, pc, sp, fp, lr, Some(g)));
            }
            return;
        }
        if within(sp, g0) && in_syscall && m.incgo.load(Ordering::Acquire) {
            // grt_cgocall's function on the system stack: its C frames end where grt_cgocall
            // cleared the frame pointer; the goroutine's continue from syscallpc.
            walk_regs(s, g0, pc, sp, fp, lr, None);
            walk_g(s, g, pc, |s| walk_syscall(s, g));
            return;
        }
    }
    if within(sp, g0) {
        // The scheduler (or grt_cgocall's function called from outside a goroutine): g0
        // stacks never carry barriers, so no lock.
        walk_regs(s, g0, pc, sp, fp, lr, None);
    }
    // Else: the signal stack, the thread's original stack: a pseudo-stack (left empty here).
}

/// Appends the frames from the interrupted registers, on `stack`'s bounds; `barriers`: the
/// goroutine whose barriers the walk may meet (its stack lock held).
fn walk_regs(
    s: &mut Sample,
    stack: &G,
    pc: usize,
    sp: usize,
    fp: usize,
    lr: Option<usize>,
    barriers: Option<&G>,
) {
    let room = MAX_STACK - s.n as usize;
    let (lo, hi) = (stack.stack.lo, stack.stack.hi);
    gentraceback(
        pc,
        sp,
        fp,
        lr,
        lo,
        hi,
        TRACE_FROM_SIGNAL | TRACE_CHECK_CALLS | TRACE_CALLERS_AS_RET,
        room,
        barriers,
        |f| {
            s.push(f);
        },
    );
}

/// Appends `g`'s own frames from where it entered its system call or grt_cgocall.
fn walk_syscall(s: &mut Sample, g: &G) {
    let room = MAX_STACK - s.n as usize;
    let (lo, hi) = (g.stack.lo, g.stack.hi);
    gentraceback(
        g.syscallpc,
        g.syscallsp,
        g.syscallbp,
        None,
        lo,
        hi,
        TRACE_CHECK_CALLS | TRACE_CALLERS_AS_RET,
        room,
        Some(g),
        |f| {
            s.push(f);
        },
    );
}

/// Walks `g`'s stack with `walk` while holding `g.stack_lock`; if the lock is held (the GC
/// is installing or removing `g`'s stack barriers), records the `grt.GC` pseudo-stack.
///
/// ---- stack_lock: the profiler's side (seeds 001/002, Go's gcTryLockStackBarriers) ----
/// Exactly one try, on exactly the G whose stack is walked, on every path that walks a
/// goroutine's stack (the running path and the syscallpc path alike). Never a spin: the
/// holder may be the thread this handler interrupted.
fn walk_g(s: &mut Sample, g: &G, pc: usize, walk: impl FnOnce(&mut Sample)) {
    if !stkbar::gc_try_lock_stack_barriers(g) {
        pseudo(s, pc, PC_GC);
        return;
    }
    walk(s);
    stkbar::gc_unlock_stack_barriers(g);
}
