//! The scheduler: goroutines (G) run on OS threads (M) that hold one of GRTMAXPROCS
//! processors (P). This is Go's `proc.go`, cut down to what a C runtime needs.
//!
//! # How it works
//!
//! A P is the right to run goroutines plus a local run queue (a 256-entry lock-free ring and
//! a `runnext` slot). There are exactly GRTMAXPROCS Ps. An M runs goroutines only while it
//! holds a P; the global run queue (under `sched.lock`) takes overflow and goroutines that
//! come back from a syscall with no P to run on.
//!
//! Each M runs [`schedule`] on its system stack (g0). `execute` switches from g0 to the
//! chosen G; the G comes back to g0 through [`mcall`] with an [`Action`] (yield, park, exit,
//! exitsyscall) that g0 then performs. So a G never has to touch scheduler state while it
//! still runs on its own stack, and "park the G, then release the lock that protected the
//! condition it waits for" is one step (`Action::Park`'s `unlockf`), with no lost wakeups.
//!
//! Finding work (`findrunnable`): local queue, global queue, then steal half of another P's
//! queue. An M that finds nothing gives its P back and sleeps on its note (`stopm`). Idle Ms
//! are woken by `wakep` when work appears and a P is idle, at most one "spinning" M at a
//! time (Go's `nmspinning` protocol: a spinning M that finds work wakes the next one, and an
//! M that stops spinning re-checks every queue after dropping its P, so no work is stranded).
//!
//! System calls: `grt_entersyscall` records `syscallsp/pc/bp`, sets the G to GSYSCALL and its P
//! to PSYSCALL, keeping the link. `grt_exitsyscall` takes the P back if it is still PSYSCALL
//! (one CAS), else any idle P, else queues the G globally and stops the M. `sysmon`, a thread
//! of its own, retakes a P that stayed in PSYSCALL across one of its ticks (20 µs to 10 ms)
//! and hands it to another M, so a blocked syscall never stalls runnable goroutines.
//! `grt_cgocall` is a syscall whose function runs on the M's system stack.
//!
//! Timers (`grt_sleep_ns`, descriptor deadlines) live on one heap (time.rs). Ps run expired
//! timers when they look for work; one idle M at most sleeps with a deadline for the earliest
//! timer, and adding an earlier timer wakes it. Once the network poller exists (netpoll.rs),
//! that M blocks in the poller instead (`netpoll::try_block` in `findrunnable`), so
//! descriptor wakeups and timers share one wait; otherwise it sleeps on its note in `stopm`
//! (the "timer sleeper"). Ps also poll without blocking before they steal, and every 20 µs
//! while they keep finding local work; sysmon polls when nobody has for 10 ms. Goroutines
//! the poller readies go to a run queue like any other.
//!
//! Deadlock: when the last M goes idle (`checkdead`), no timer is pending, no goroutine waits
//! on a descriptor, and goroutines still exist, none of them can ever run again: fatal error,
//! with every goroutine's stack.
//!
//! # Files
//!
//! This file: the global state (the Ps, the global queue, `SCHED_LOCK`), the current g and m,
//! the list of all Gs. Then, in the order a goroutine meets them: `galloc` (new Gs, stacks,
//! free lists), `goroutine` (newproc, the entry, exit, yields, parks, time slices),
//! `runq` (local and global run queues, idle Ps and Ms), `schedule` (the loop on g0,
//! `execute`, `mcall`, `findrunnable`), `mstart` (making, starting, stopping and waking
//! Ms), `syscall` (entersyscall/exitsyscall, the halves of grt_cgocall), `sysmon` (retake,
//! time slices, deadlock detection), `start` (grt_main).
//!
//! # Invariants
//! - A P with a non-empty run queue is never on the idle list.
//! - `m.p` is set exactly while the M may run goroutines; `pp.m == m` then.
//! - `sched.lock` is never held while taking the timers lock (timers -> sched order).
//! - Nothing here runs in a signal handler (suspend.rs's handler only reads its own M).

use core::ffi::c_void;
use core::ptr::{self, null_mut};
use core::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use grt_arch::{self as arch, Context};

use crate::errors::{report, GRT_EINVAL, GRT_ENOMEM, GRT_ENOTG, GRT_ENOTINIT, GRT_ESYS, GRT_OK};
use crate::lock::{Lock, Note};
use crate::runtime2::*;
use crate::stack::{self, Stack};
use crate::{
    env, netpoll, printerr, rtalloc, signals, stkbar, suspend, sys, thread, time, traceback,
};

/// Largest GRTMAXPROCS accepted.
pub const MAX_PROCS: usize = 256;
/// Stack of an M's g0 (system stack): the scheduler, and grt_cgocall's C code, in bytes.
pub const G0_STACK_SIZE: usize = 8 << 20;
/// Dead Gs kept with their stacks on the global free list; beyond this their stacks are
/// unmapped (the G structs stay, to be reused with a new stack).
const GFREE_GLOBAL_STACKS: usize = 1024;
/// sysmon's tick: starts at 20 µs, doubles after 50 idle ticks, up to 10 ms.
const SYSMON_MIN_DELAY_NS: u64 = 20_000;
const SYSMON_MAX_DELAY_NS: u64 = 10_000_000;
/// sysmon's longest tick while goroutines sleep (it backs up the timer sleeper).
const SYSMON_TIMER_DELAY_NS: u64 = 1_000_000;
/// Every this many schedules a P takes from the global queue before its own.
const GLOBAL_RUNQ_CHECK: u32 = 61;
/// Goroutines run from `runnext` in a row (they inherit the time slice) before the head of
/// the local queue gets a turn: with no preemption, a pair handing work to each other through
/// `runnext` would otherwise starve the rest of the queue.
const RUNNEXT_STREAK_MAX: u32 = 64;
/// A P stays in a syscall without being retaken at most this long when nobody needs it.
const SYSCALL_RETAKE_NS: u64 = 10_000_000;

// ---- global state ------------------------------------------------------------------------

/// Scheduler lifetime: before grt_main, running, main goroutine returned.
pub const STATE_NONE: u32 = 0;
pub const STATE_RUNNING: u32 = 1;
pub const STATE_EXITING: u32 = 2;
/// Started by grt_init, with no main goroutine (yet): plain threads drive the program, so
/// "every goroutine blocked" is no deadlock (checkdead looks only in STATE_RUNNING).
pub const STATE_BACKGROUND: u32 = 3;
pub static STATE: AtomicU32 = AtomicU32::new(STATE_NONE);

static GOMAXPROCS: AtomicUsize = AtomicUsize::new(0);
static NCPU: AtomicUsize = AtomicUsize::new(0);
static GOIDGEN: AtomicU64 = AtomicU64::new(0);
static MAIN_DONE: Note = Note::new();
/// grt_main's goroutine while it runs (not "goid 1": after grt_init, a runtime goroutine such
/// as the finalizer goroutine may come first).
static MAIN_G: core::sync::atomic::AtomicPtr<G> = core::sync::atomic::AtomicPtr::new(null_mut());
/// grt_init and grt_main start the runtime under it (either may come first, from any thread).
static INIT_LOCK: crate::lock::Lock = crate::lock::Lock::new();

/// Everything under `SCHED_LOCK`.
struct Sched {
    midle: *mut M,
    nmidle: i32,
    /// Ms created or being created.
    mcount: i32,
    pidle: *mut P,
    runqhead: *mut G,
    runqtail: *mut G,
    /// Idle M sleeping until the earliest timer (null: none).
    timer_sleeper: *mut M,
    /// sysmon is handing off a retaken P (counts as a running M for checkdead).
    nmsys_busy: i32,
    sleep_until: u64,
    allm: *mut M,
}

static SCHED_LOCK: Lock = Lock::new();
static mut SCHED: Sched = Sched {
    midle: null_mut(),
    nmidle: 0,
    mcount: 0,
    pidle: null_mut(),
    runqhead: null_mut(),
    runqtail: null_mut(),
    timer_sleeper: null_mut(),
    nmsys_busy: 0,
    sleep_until: 0,
    allm: null_mut(),
};
/// Read without the lock as a hint; written under it.
static RUNQSIZE: AtomicU32 = AtomicU32::new(0);
static NPIDLE: AtomicU32 = AtomicU32::new(0);
static NMSPINNING: AtomicI32 = AtomicI32::new(0);
static MNEXT: AtomicU64 = AtomicU64::new(0);

/// The Ps, `GOMAXPROCS` of them once started.
static ALLP: [AtomicPtr<P>; MAX_PROCS] = [const { AtomicPtr::new(null_mut()) }; MAX_PROCS];

/// All Gs ever made (a list through `alllink`, pushed at the head, never shortened).
static ALLGS: AtomicPtr<G> = AtomicPtr::new(null_mut());
static ALLG_LOCK: Lock = Lock::new();

/// Dead Gs: with a default-size stack, and without a stack.
struct GFree {
    stack: *mut G,
    nstack: usize,
    nostack: *mut G,
}
static GFREE_LOCK: Lock = Lock::new();
static mut GFREE: GFree = GFree {
    stack: null_mut(),
    nstack: 0,
    nostack: null_mut(),
};

/// The scheduler state; only with `SCHED_LOCK` held.
#[allow(clippy::mut_from_ref)]
fn sched() -> &'static mut Sched {
    // SAFETY: callers hold SCHED_LOCK (every use below is between lock and unlock).
    unsafe { &mut *ptr::addr_of_mut!(SCHED) }
}

pub fn ncpu() -> usize {
    let n = NCPU.load(Ordering::Relaxed);
    if n != 0 {
        return n;
    }
    let n = sys::ncpu();
    NCPU.store(n, Ordering::Relaxed);
    n
}

pub fn gomaxprocs() -> usize {
    GOMAXPROCS.load(Ordering::Acquire)
}

fn allp(i: usize) -> &'static P {
    // SAFETY: ALLP[0..gomaxprocs] are set before STATE becomes RUNNING and never change.
    unsafe { &*ALLP[i].load(Ordering::Acquire) }
}

// ---- current g and m ---------------------------------------------------------------------

#[inline]
pub fn getg() -> *mut G {
    arch::getg() as *mut G
}

#[inline]
pub fn getm() -> *mut M {
    arch::getm() as *mut M
}

#[inline]
fn setg(gp: *mut G) {
    arch::setg(gp as usize)
}

/// The calling goroutine, or the C API error for a caller that is not one.
pub fn current_user_g(func: &str) -> Result<&'static G, i32> {
    let g = current_user_g_any(func)?;
    if g.status() & !GSCAN == GSYSCALL {
        return Err(report(
            GRT_EINVAL,
            func,
            format_args!("called between grt_entersyscall and grt_exitsyscall"),
        ));
    }
    Ok(g)
}

/// The calling goroutine whatever its state (grt_exitsyscall).
pub fn current_user_g_any(func: &str) -> Result<&'static G, i32> {
    let gp = getg();
    // SAFETY: the TLS slot holds null or a live G (Gs are never freed).
    match unsafe { gp.as_ref() } {
        Some(g) if g.kind == GKind::User => Ok(g),
        Some(_) => Err(report(
            GRT_ENOTG,
            func,
            format_args!("called on an M's system stack (inside grt_cgocall's function?), not from a goroutine"),
        )),
        None if STATE.load(Ordering::Acquire) == STATE_NONE => Err(report(
            GRT_ENOTINIT,
            func,
            format_args!("the scheduler is not running: call grt_main first"),
        )),
        None => Err(report(
            GRT_ENOTG,
            func,
            format_args!("called from a thread that is not running a goroutine"),
        )),
    }
}

fn mp() -> &'static mut M {
    // SAFETY: called only on Ms (goroutines and g0 code), where the TLS m slot is set to a
    // live M owned by this thread.
    unsafe { &mut *getm() }
}

// ---- all Gs ------------------------------------------------------------------------------

fn allgadd(gp: *mut G) {
    ALLG_LOCK.lock();
    // SAFETY: gp is a new G not yet visible to anyone; the list head is under ALLG_LOCK.
    unsafe { (*gp).alllink = ALLGS.load(Ordering::Relaxed) };
    ALLGS.store(gp, Ordering::Release);
    ALLG_LOCK.unlock();
}

/// Calls `f` for every G ever made (dead ones too). Safe from any thread: the list only grows
/// at its head and its nodes are never freed.
pub fn for_each_g(mut f: impl FnMut(&'static G) -> bool) {
    let mut gp = ALLGS.load(Ordering::Acquire);
    // Bounded by the number of Gs made (the list is acyclic and grows only at the head).
    while !gp.is_null() {
        // SAFETY: nodes are never freed; alllink is written before publication.
        let g = unsafe { &*gp };
        if !f(g) {
            return;
        }
        gp = g.alllink;
    }
}

/// [`for_each_g`] with raw pointers, for owners that write to the G (the collector, under
/// the G's scan bit or with the world stopped).
pub fn for_each_gp(mut f: impl FnMut(*mut G) -> bool) {
    let mut gp = ALLGS.load(Ordering::Acquire);
    while !gp.is_null() {
        if !f(gp) {
            return;
        }
        // SAFETY: nodes are never freed; alllink is written before publication.
        gp = unsafe { (*gp).alllink };
    }
}

/// The live goroutine with id `goid`.
/// Calls `f` for every M (under the scheduler lock: `f` must not take it).
pub fn for_each_m(mut f: impl FnMut(&mut M)) {
    SCHED_LOCK.lock();
    let mut m = sched().allm;
    while !m.is_null() {
        // SAFETY: Ms are never freed; the fields f touches are its own business (cpuprof
        // touches only the profiler's fields, under its own lock).
        let mr = unsafe { &mut *m };
        f(mr);
        m = mr.alllink;
    }
    SCHED_LOCK.unlock();
}

pub fn findg(goid: u64) -> Option<&'static G> {
    let mut found = None;
    for_each_g(|g| {
        if g.kind == GKind::User && g.goid() == goid && g.status() & !GSCAN != GDEAD {
            found = Some(g);
            false
        } else {
            true
        }
    });
    found
}

mod galloc;
mod goroutine;
mod mstart;
mod runq;
mod schedule;
mod start;
mod syscall;
mod sysmon;

pub(crate) use self::galloc::*;
pub(crate) use self::goroutine::*;
pub(crate) use self::mstart::*;
pub(crate) use self::runq::*;
pub(crate) use self::schedule::*;
pub(crate) use self::start::*;
pub(crate) use self::syscall::*;
pub(crate) use self::sysmon::*;
