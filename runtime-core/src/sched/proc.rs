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
//! Timers (`grt_sleep_ns`) live on one heap (time.rs). Ps run expired timers when they look
//! for work; one idle M at most sleeps with a deadline for the earliest timer (the "timer
//! sleeper"), and adding an earlier timer wakes it.
//!
//! Deadlock: when the last M goes idle (`checkdead`), no timer is pending, and goroutines
//! still exist, none of them can ever run again: fatal error, with every goroutine's stack.
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
use crate::{env, printerr, rtalloc, signals, stkbar, suspend, sys, thread, time, traceback};

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
pub static STATE: AtomicU32 = AtomicU32::new(STATE_NONE);

static GOMAXPROCS: AtomicUsize = AtomicUsize::new(0);
static NCPU: AtomicUsize = AtomicUsize::new(0);
static GOIDGEN: AtomicU64 = AtomicU64::new(0);
static MAIN_DONE: Note = Note::new();

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

// ---- G allocation ------------------------------------------------------------------------

fn round_page(n: usize) -> usize {
    let page = crate::auxv::page_size();
    (n + page - 1) & !(page - 1)
}

fn new_g(kind: GKind) -> *mut G {
    let gp = rtalloc::persistentalloc(core::mem::size_of::<G>(), 64) as *mut G;
    if gp.is_null() {
        return gp;
    }
    // SAFETY: fresh zeroed memory of G's size; the zero bit pattern is valid for every field
    // except the enums, which are written here.
    unsafe {
        ptr::addr_of_mut!((*gp).kind).write(kind);
        ptr::addr_of_mut!((*gp).waitreason).write(WaitReason::Zero);
        (*gp).atomicstatus.store(GDEAD, Ordering::Relaxed);
    }
    gp
}

/// Gives `gp` a stack of `size` bytes with its stack-barrier array reserved on top.
fn stkbar_bytes(size: usize) -> usize {
    (stkbar::stack_barrier_cap(size) * core::mem::size_of::<Stkbar>() + 15) & !15
}

fn stackalloc(gp: &mut G, size: usize) -> bool {
    let cap = stkbar::stack_barrier_cap(size);
    let bar_bytes = stkbar_bytes(size);
    let Ok(stk) = stack::alloc(size + bar_bytes) else {
        return false;
    };
    gp.stk = stk;
    gp.stack = GStack {
        lo: stk.lo,
        hi: stk.hi - bar_bytes,
    };
    gp.stkbar = gp.stack.hi as *mut Stkbar;
    gp.stkbar_cap = cap;
    gp.stkbar_len = 0;
    gp.stkbar_pos = 0;
    gp.stkbar_floor = 0;
    true
}

fn stackfree(gp: &mut G) {
    if gp.stk.is_live() {
        // SAFETY: gp is dead and nothing runs on or is parked on its stack.
        unsafe { stack::free(&gp.stk).ok() };
    }
    gp.stk = Stack::default();
    gp.stack = GStack::default();
    gp.stkbar = null_mut();
    gp.stkbar_cap = 0;
}

fn default_stack_size() -> usize {
    round_page(stack::DEFAULT_STACK_SIZE)
}

fn has_default_stack(gp: &G) -> bool {
    let d = default_stack_size();
    gp.stk.is_live() && gp.stk.size() == round_page(d + stkbar_bytes(d))
}

/// A dead G from `pp`'s free list (refilled from the global one); may have no stack.
fn gfget(pp: &mut P) -> *mut G {
    if pp.gfree.is_null() {
        GFREE_LOCK.lock();
        // SAFETY: GFREE is under GFREE_LOCK.
        let gf = unsafe { &mut *ptr::addr_of_mut!(GFREE) };
        while pp.gfreecnt < GFREE_LOCAL_MAX / 2 {
            // SAFETY: dead Gs on the free lists are owned by the lists (under the lock).
            let gp = unsafe {
                if !gf.stack.is_null() {
                    let gp = gf.stack;
                    gf.stack = (*gp).schedlink;
                    gf.nstack -= 1;
                    gp
                } else if !gf.nostack.is_null() {
                    let gp = gf.nostack;
                    gf.nostack = (*gp).schedlink;
                    gp
                } else {
                    break;
                }
            };
            // SAFETY: as above; now pp's.
            unsafe { (*gp).schedlink = pp.gfree };
            pp.gfree = gp;
            pp.gfreecnt += 1;
        }
        GFREE_LOCK.unlock();
    }
    let gp = pp.gfree;
    if !gp.is_null() {
        // SAFETY: owned by pp's list.
        pp.gfree = unsafe { (*gp).schedlink };
        pp.gfreecnt -= 1;
    }
    gp
}

/// Puts a dead G on `pp`'s free list (global when the local one is full).
fn gfput(pp: &mut P, gp: &mut G) {
    if gp.stk.is_live() && !has_default_stack(gp) {
        stackfree(gp);
    }
    gp.schedlink = pp.gfree;
    pp.gfree = gp;
    pp.gfreecnt += 1;
    if pp.gfreecnt < GFREE_LOCAL_MAX {
        return;
    }
    GFREE_LOCK.lock();
    // SAFETY: GFREE is under GFREE_LOCK.
    let gf = unsafe { &mut *ptr::addr_of_mut!(GFREE) };
    while pp.gfreecnt > GFREE_LOCAL_MAX / 2 {
        let g = pp.gfree;
        // SAFETY: owned by pp's list.
        let g = unsafe { &mut *g };
        pp.gfree = g.schedlink;
        pp.gfreecnt -= 1;
        if g.stk.is_live() && gf.nstack < GFREE_GLOBAL_STACKS {
            g.schedlink = gf.stack;
            gf.stack = g;
            gf.nstack += 1;
        } else {
            stackfree(g);
            g.schedlink = gf.nostack;
            gf.nostack = g;
        }
    }
    GFREE_LOCK.unlock();
}

// ---- run queues (Go's runqput / runqget / runqsteal) -------------------------------------

fn runqempty(pp: &P) -> bool {
    // Like Go: read head, tail, runnext, and tail again, so a G moving from runnext to the
    // queue is not missed.
    loop {
        let head = pp.runqhead.load(Ordering::Acquire);
        let tail = pp.runqtail.load(Ordering::Acquire);
        let next = pp.runnext.load(Ordering::Acquire);
        if tail == pp.runqtail.load(Ordering::Acquire) {
            return head == tail && next.is_null();
        }
    }
}

/// Queues `gp` on `pp` (owner only). `next`: into `runnext`, bumping the old one to the tail.
pub fn runqput(pp: &P, mut gp: *mut G, next: bool) {
    if next {
        let old = pp.runnext.swap(gp, Ordering::AcqRel);
        if old.is_null() {
            return;
        }
        gp = old;
    }
    loop {
        let h = pp.runqhead.load(Ordering::Acquire);
        let t = pp.runqtail.load(Ordering::Relaxed);
        if t.wrapping_sub(h) < RUNQ_SIZE as u32 {
            pp.runq[t as usize % RUNQ_SIZE].store(gp, Ordering::Relaxed);
            pp.runqtail.store(t.wrapping_add(1), Ordering::Release);
            return;
        }
        if runqputslow(pp, gp, h, t) {
            return;
        }
    }
}

/// The local queue is full: move half of it and `gp` to the global queue.
fn runqputslow(pp: &P, gp: *mut G, h: u32, t: u32) -> bool {
    let n = t.wrapping_sub(h) / 2;
    let mut batch = [null_mut::<G>(); RUNQ_SIZE / 2 + 1];
    for i in 0..n {
        batch[i as usize] = pp.runq[h.wrapping_add(i) as usize % RUNQ_SIZE].load(Ordering::Relaxed);
    }
    if pp
        .runqhead
        .compare_exchange(h, h.wrapping_add(n), Ordering::AcqRel, Ordering::Relaxed)
        .is_err()
    {
        return false;
    }
    batch[n as usize] = gp;
    for i in 0..n as usize {
        // SAFETY: the Gs were just taken off the queue; we own their links.
        unsafe { (*batch[i]).schedlink = batch[i + 1] };
    }
    SCHED_LOCK.lock();
    globrunqputbatch(batch[0], batch[n as usize], n + 1);
    SCHED_LOCK.unlock();
    true
}

/// Takes a G from `pp`'s queue (owner only); true in the second value if it came from
/// `runnext` (it inherits the time slice).
fn runqget(pp: &mut P) -> Option<(*mut G, bool)> {
    let next = pp.runnext.load(Ordering::Acquire);
    let queued = pp.runqhead.load(Ordering::Acquire) != pp.runqtail.load(Ordering::Acquire);
    if !next.is_null()
        && (pp.runnext_streak < RUNNEXT_STREAK_MAX || !queued)
        && pp
            .runnext
            .compare_exchange(next, null_mut(), Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    {
        pp.runnext_streak += 1;
        return Some((next, true));
    }
    #[cfg(test)]
    tests::runqget_hook(pp);
    pp.runnext_streak = 0;
    loop {
        let h = pp.runqhead.load(Ordering::Acquire);
        let t = pp.runqtail.load(Ordering::Relaxed);
        if t == h {
            // Thieves may have emptied the queue since `queued` was read, while runnext was
            // passed over for the streak: take it now. Returning None with a G in runnext
            // would let findrunnable idle a P that has work ("pidleput: P has a non-empty
            // run queue").
            let next = pp.runnext.load(Ordering::Acquire);
            if next.is_null() {
                return None;
            }
            if pp
                .runnext
                .compare_exchange(next, null_mut(), Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                pp.runnext_streak = 1;
                return Some((next, true));
            }
            continue;
        }
        let gp = pp.runq[h as usize % RUNQ_SIZE].load(Ordering::Relaxed);
        if pp
            .runqhead
            .compare_exchange(h, h.wrapping_add(1), Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            return Some((gp, false));
        }
    }
}

/// Copies half of `pp`'s queue into `batch` from `batchhead`; returns how many.
fn runqgrab(pp: &P, batch: &[AtomicPtr<G>; RUNQ_SIZE], batchhead: u32, steal_next: bool) -> u32 {
    loop {
        let h = pp.runqhead.load(Ordering::Acquire);
        let t = pp.runqtail.load(Ordering::Acquire);
        let mut n = t.wrapping_sub(h);
        n -= n / 2;
        if n == 0 {
            if steal_next {
                let next = pp.runnext.load(Ordering::Acquire);
                if !next.is_null() {
                    if pp.status.load(Ordering::Relaxed) == PRUNNING {
                        // The owner is probably about to run it (a woken receiver, say):
                        // give it a moment rather than bouncing the G between Ps. Go sleeps
                        // 3 µs here.
                        sys::nanosleep(3_000);
                    }
                    if pp
                        .runnext
                        .compare_exchange(next, null_mut(), Ordering::AcqRel, Ordering::Relaxed)
                        .is_err()
                    {
                        continue;
                    }
                    batch[batchhead as usize % RUNQ_SIZE].store(next, Ordering::Relaxed);
                    return 1;
                }
            }
            return 0;
        }
        if n > RUNQ_SIZE as u32 / 2 {
            continue; // read an inconsistent h and t
        }
        for i in 0..n {
            let g = pp.runq[h.wrapping_add(i) as usize % RUNQ_SIZE].load(Ordering::Relaxed);
            batch[batchhead.wrapping_add(i) as usize % RUNQ_SIZE].store(g, Ordering::Relaxed);
        }
        if pp
            .runqhead
            .compare_exchange(h, h.wrapping_add(n), Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            return n;
        }
    }
}

/// Steals half of `p2`'s queue into `pp`'s; returns one G to run.
fn runqsteal(pp: &P, p2: &P, steal_next: bool) -> *mut G {
    let t = pp.runqtail.load(Ordering::Relaxed);
    let mut n = runqgrab(p2, &pp.runq, t, steal_next);
    if n == 0 {
        return null_mut();
    }
    n -= 1;
    let gp = pp.runq[t.wrapping_add(n) as usize % RUNQ_SIZE].load(Ordering::Relaxed);
    if n == 0 {
        return gp;
    }
    let h = pp.runqhead.load(Ordering::Acquire);
    if t.wrapping_sub(h).wrapping_add(n) >= RUNQ_SIZE as u32 {
        crate::throw!("runqsteal: run queue overflow");
    }
    pp.runqtail.store(t.wrapping_add(n), Ordering::Release);
    gp
}

/// Global queue; `SCHED_LOCK` held.
fn globrunqput(gp: *mut G) {
    // SAFETY: gp is runnable and owned by the caller; list under the lock.
    unsafe { (*gp).schedlink = null_mut() };
    globrunqputbatch(gp, gp, 1);
}

fn globrunqputbatch(head: *mut G, tail: *mut G, n: u32) {
    let s = sched();
    // SAFETY: tail is ours until queued.
    unsafe { (*tail).schedlink = null_mut() };
    if s.runqtail.is_null() {
        s.runqhead = head;
    } else {
        // SAFETY: the queue's tail is a queued G.
        unsafe { (*s.runqtail).schedlink = head };
    }
    s.runqtail = tail;
    RUNQSIZE.fetch_add(n, Ordering::Release);
}

/// Takes a fair share of the global queue (at most `max`, 0: no limit) into `pp`, returning
/// one to run; `SCHED_LOCK` held. The rest go to `pp`'s local queue, which must have room
/// for them (empty, or `max` 1) so that runqput never needs the lock we hold.
fn globrunqget(pp: &P, max: u32) -> *mut G {
    let size = RUNQSIZE.load(Ordering::Relaxed);
    if size == 0 {
        return null_mut();
    }
    let procs = gomaxprocs() as u32;
    let mut n = size.min(size / procs + 1).min(RUNQ_SIZE as u32 / 2);
    if max > 0 {
        n = n.min(max);
    }
    let s = sched();
    let take = |s: &mut Sched| {
        let gp = s.runqhead;
        // SAFETY: queued Gs are owned by the queue (under the lock).
        s.runqhead = unsafe { (*gp).schedlink };
        if s.runqhead.is_null() {
            s.runqtail = null_mut();
        }
        gp
    };
    RUNQSIZE.fetch_sub(n, Ordering::Relaxed);
    let first = take(s);
    for _ in 1..n {
        runqput(pp, take(s), false);
    }
    first
}

// ---- idle Ps and Ms (SCHED_LOCK held) ------------------------------------------------------

fn pidleput(pp: &mut P) {
    if !runqempty(pp) {
        crate::throw!("pidleput: P has a non-empty run queue");
    }
    pp.status.store(PIDLE, Ordering::Release);
    pp.link = sched().pidle;
    sched().pidle = pp;
    NPIDLE.fetch_add(1, Ordering::AcqRel);
}

fn pidleget() -> *mut P {
    let pp = sched().pidle;
    if !pp.is_null() {
        // SAFETY: idle Ps are owned by the list.
        sched().pidle = unsafe { (*pp).link };
        NPIDLE.fetch_sub(1, Ordering::AcqRel);
    }
    pp
}

fn mput(m: &mut M) {
    m.schedlink = sched().midle;
    sched().midle = m;
    sched().nmidle += 1;
}

fn mget() -> *mut M {
    let m = sched().midle;
    if !m.is_null() {
        // SAFETY: idle Ms are on the list under the lock.
        sched().midle = unsafe { (*m).schedlink };
        sched().nmidle -= 1;
    }
    m
}

/// Takes `m` off the idle list if it is there.
fn mremove(m: *mut M) -> bool {
    let s = sched();
    let mut link: *mut *mut M = &mut s.midle;
    // Bounded by the number of Ms.
    // SAFETY: the list is under the lock; link points at a live `*mut M` slot.
    unsafe {
        while !(*link).is_null() {
            if *link == m {
                *link = (*m).schedlink;
                s.nmidle -= 1;
                return true;
            }
            link = &mut (**link).schedlink;
        }
    }
    false
}

fn acquirep(m: &mut M, pp: *mut P) {
    // SAFETY: pp is an idle P handed to this M.
    let p = unsafe { &mut *pp };
    if !p.m.is_null() || p.status.load(Ordering::Relaxed) != PIDLE {
        crate::throw!("acquirep: P {} is not idle", p.id);
    }
    m.p = pp;
    p.m = m;
    p.status.store(PRUNNING, Ordering::Release);
}

fn releasep(m: &mut M) -> &'static mut P {
    // SAFETY: the M holds this P.
    let p = unsafe { &mut *m.p };
    p.m = null_mut();
    m.p = null_mut();
    p.status.store(PIDLE, Ordering::Release);
    p
}

// ---- waking and stopping Ms --------------------------------------------------------------

/// Work appeared: make sure some M will look for it, if a P is idle and none is looking.
pub fn wakep() {
    // Store-load fence: our caller just queued work (a plain release store); an M that is
    // giving up decrements NMSPINNING (a locked RMW) and then re-reads the queues. Without
    // this fence both could read the other's old value and the work would sit unseen.
    core::sync::atomic::fence(Ordering::SeqCst);
    if NPIDLE.load(Ordering::Acquire) == 0 {
        return;
    }
    if NMSPINNING.load(Ordering::Acquire) != 0
        || NMSPINNING
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    startm(null_mut(), true);
}

/// Runs some M on `pp` (an idle P if null). `spinning`: the caller already counted it in
/// NMSPINNING.
fn startm(mut pp: *mut P, spinning: bool) {
    SCHED_LOCK.lock();
    if pp.is_null() {
        pp = pidleget();
        if pp.is_null() {
            SCHED_LOCK.unlock();
            if spinning {
                NMSPINNING.fetch_sub(1, Ordering::AcqRel);
            }
            return;
        }
    }
    let nmp = mget();
    if nmp.is_null() {
        sched().mcount += 1;
        SCHED_LOCK.unlock();
        newm(pp, spinning);
        return;
    }
    SCHED_LOCK.unlock();
    // SAFETY: an idle M off the list is ours to hand a P to; it sleeps on its note.
    let m = unsafe { &mut *nmp };
    if m.spinning || !m.nextp.is_null() {
        crate::throw!("startm: idle M is spinning or has a P");
    }
    m.spinning = spinning;
    m.nextp = pp;
    m.park.wakeup();
}

/// Hands off a P whose M is blocked in a syscall (sysmon) or has nothing for it.
fn handoffp(pp: *mut P) {
    // SAFETY: the caller owns pp (just retaken).
    let p = unsafe { &mut *pp };
    if !runqempty(p) || RUNQSIZE.load(Ordering::Acquire) != 0 {
        startm(pp, false);
        return;
    }
    if NMSPINNING.load(Ordering::Acquire) + NPIDLE.load(Ordering::Acquire) as i32 == 0
        && NMSPINNING
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    {
        startm(pp, true);
        return;
    }
    SCHED_LOCK.lock();
    if RUNQSIZE.load(Ordering::Relaxed) != 0 {
        SCHED_LOCK.unlock();
        startm(pp, false);
        return;
    }
    // The last P going idle while timers are pending: some M must watch them.
    if time::pending() && NPIDLE.load(Ordering::Relaxed) as usize == gomaxprocs() - 1 {
        SCHED_LOCK.unlock();
        startm(pp, false);
        return;
    }
    pidleput(p);
    SCHED_LOCK.unlock();
}

/// Parks the M until startm gives it a P (and returns with that P acquired).
fn stopm(m: &mut M) {
    if m.spinning {
        crate::throw!("stopm: M is spinning");
    }
    if !m.p.is_null() {
        crate::throw!("stopm: M holds a P");
    }
    loop {
        SCHED_LOCK.lock();
        mput(m);
        checkdead();
        let s = sched();
        let deadline = if s.timer_sleeper.is_null() && NPIDLE.load(Ordering::Relaxed) > 0 {
            time::next_when()
        } else {
            None
        };
        if let Some(d) = deadline {
            s.timer_sleeper = m;
            s.sleep_until = d;
        }
        SCHED_LOCK.unlock();
        let Some(d) = deadline else {
            m.park.sleep();
            m.park.clear();
            break;
        };
        let now = sys::nanotime();
        let woken = d > now && m.park.sleep_timeout(d - now);
        SCHED_LOCK.lock();
        if sched().timer_sleeper == m as *mut M {
            sched().timer_sleeper = null_mut();
        }
        if woken || !mremove(m) {
            // Someone took us off the idle list; their wakeup has come or is coming.
            SCHED_LOCK.unlock();
            m.park.sleep();
            m.park.clear();
            if m.nextp.is_null() {
                continue; // woken by an earlier timer: sleep again with the new deadline
            }
            break;
        }
        // Timed out and still ours: take a P to run the expired timers, if there is one.
        let pp = pidleget();
        SCHED_LOCK.unlock();
        if !pp.is_null() {
            m.nextp = pp;
            break;
        }
    }
    let pp = core::mem::replace(&mut m.nextp, null_mut());
    acquirep(m, pp);
}

/// A timer earlier than the sleeper's deadline was added: wake the sleeper (or any M).
pub fn wake_timer_sleeper(when: u64) {
    SCHED_LOCK.lock();
    let s = sched();
    let sl = s.timer_sleeper;
    if !sl.is_null() {
        if when >= s.sleep_until {
            SCHED_LOCK.unlock();
            return;
        }
        if mremove(sl) {
            s.timer_sleeper = null_mut();
            SCHED_LOCK.unlock();
            // SAFETY: taken off the idle list under the lock: ours to wake, with no P.
            unsafe { (*sl).park.wakeup() };
            return;
        }
        // The sleeper is already being woken for other work: get another M to watch.
        SCHED_LOCK.unlock();
        wakep();
        return;
    }
    SCHED_LOCK.unlock();
    wakep();
}

fn resetspinning(m: &mut M) {
    m.spinning = false;
    if NMSPINNING.fetch_sub(1, Ordering::AcqRel) <= 0 {
        crate::throw!("resetspinning: negative nmspinning");
    }
    wakep();
}

fn newm(pp: *mut P, spinning: bool) {
    let m = rtalloc::persistentalloc(core::mem::size_of::<M>(), 64) as *mut M;
    let g0 = new_g(GKind::G0);
    let gsignal = new_g(GKind::Gsignal);
    if m.is_null() || g0.is_null() || gsignal.is_null() {
        crate::throw!("newm: out of memory for a new M");
    }
    let stk = match stack::alloc(G0_STACK_SIZE) {
        Ok(s) => s,
        Err(e) => crate::throw!("newm: cannot map a system stack: {:?}", e),
    };
    // SAFETY: fresh zeroed memory; the zero pattern is valid for M except `action`.
    let mr = unsafe {
        ptr::addr_of_mut!((*m).action).write(Action::None);
        &mut *m
    };
    // SAFETY: fresh Gs, ours until published.
    unsafe {
        (*g0).stk = stk;
        (*g0).stack = GStack {
            lo: stk.lo,
            hi: stk.hi,
        };
        (*g0).m.store(m, Ordering::Relaxed);
        (*gsignal).m.store(m, Ordering::Relaxed);
    }
    mr.g0 = g0;
    mr.gsignal = gsignal;
    mr.id = MNEXT.fetch_add(1, Ordering::Relaxed) as i64;
    mr.fastrand = 0x9e37_79b9_7f4a_7c15 ^ ((mr.id as u64 + 1) * 0x2545_f491_4f6c_dd1d);
    mr.nextp = pp;
    mr.spinning = spinning;
    allgadd(g0);
    allgadd(gsignal);
    SCHED_LOCK.lock();
    mr.alllink = sched().allm;
    sched().allm = m;
    SCHED_LOCK.unlock();
    crate::stw::allm_add(m);
    // The thread itself is made by the mstarter thread: a clone can block (under qemu-user,
    // with every signal held off until the child runs), and an M blocked there could not be
    // stopped by the collector's stop-the-world.
    let mut head = MSTART_LIST.load(Ordering::Acquire);
    loop {
        mr.startlink = head;
        match MSTART_LIST.compare_exchange_weak(head, m, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => break,
            Err(h) => head = h,
        }
    }
    MSTART_WAKE.fetch_add(1, Ordering::Release);
    sys::futex_wake_private(&MSTART_WAKE, 1);
}

/// Ms made by `newm` whose threads are yet to start (lock-free stack through `startlink`).
static MSTART_LIST: AtomicPtr<M> = AtomicPtr::new(null_mut());
/// Bumped for every push; the mstarter thread sleeps on it.
static MSTART_WAKE: AtomicU32 = AtomicU32::new(0);

/// The mstarter thread (not an M): starts the OS threads of new Ms.
unsafe extern "C" fn mstarter(_: *mut c_void) {
    loop {
        let seen = MSTART_WAKE.load(Ordering::Acquire);
        let mut m = MSTART_LIST.swap(null_mut(), Ordering::AcqRel);
        while !m.is_null() {
            // SAFETY: an M pushed by newm, not started yet: ours until its thread runs.
            let next = unsafe { (*m).startlink };
            if let Err(e) = thread::start(mstart, m as *mut c_void) {
                crate::throw!("newm: cannot start an OS thread: errno {}", e.0);
            }
            m = next;
        }
        if MSTART_WAKE.load(Ordering::Acquire) == seen {
            let _ = sys::futex_wait_private(&MSTART_WAKE, seen, None);
        }
    }
}

/// First code of a new M's thread (on the thread's own stack, with its alternate signal
/// stack in place): record who we are, then move to g0 for good.
unsafe extern "C" fn mstart(arg: *mut c_void) {
    let m = arg as *mut M;
    // SAFETY: the M was made for this thread by newm.
    let mr = unsafe { &mut *m };
    // TLS m first, so the suspend handler knows this thread from the moment the collector
    // can see its procid; then wait out a stopped world this M was not part of.
    arch::setm(m as usize);
    mr.procid.store(sys::gettid() as u32, Ordering::SeqCst);
    crate::stw::mstart_check();
    crate::cpuprof::mstart_hook(mr);
    // The control words this thread inherited from its creator: what goroutines run with.
    mr.fpctl = arch::current_control_words() & arch::CONTROL_WORDS_MASK;
    if let Some((lo, hi)) = signals::current_altstack() {
        // SAFETY: gsignal belongs to this M.
        unsafe { (*mr.gsignal).stack = GStack { lo, hi } };
    }
    // SAFETY: g0's stack is fresh and unused; this thread's own stack stays parked forever.
    unsafe {
        let g0 = &*mr.g0;
        setg(mr.g0);
        let ctx = arch::init_context(g0.stack.hi, mstart1, arg, ptr::null());
        let mut here = Context::default();
        arch::grt_context_switch(&mut here, &ctx);
    }
    crate::throw!("mstart: the thread's first stack was resumed");
}

unsafe extern "C" fn mstart1(_arg: *mut c_void) {
    let m = mp();
    let pp = core::mem::replace(&mut m.nextp, null_mut());
    acquirep(m, pp);
    schedule()
}

// ---- the scheduler loop (on g0) ------------------------------------------------------------

fn fastrand(m: &mut M) -> u32 {
    // xorshift64*
    let mut x = m.fastrand;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    m.fastrand = x;
    (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
}

/// The current M's random number (for select's poll order).
pub fn cheaprand() -> u32 {
    fastrand(mp())
}

fn schedule() -> ! {
    loop {
        let m = mp();
        let (gp, inherit) = findrunnable(m);
        if m.spinning {
            resetspinning(m);
        }
        let _ = inherit;
        let mut next = Some(gp);
        while let Some(gp) = next {
            next = if execute(m, gp) { after_mcall(m) } else { None };
        }
    }
}

/// Runs `gp` on this M until it comes back through mcall. False if `gp` could not run
/// because grt_suspend holds it: then it is set aside, and grt_resume queues it again.
fn execute(m: &mut M, gp: *mut G) -> bool {
    // SAFETY: gp came off a run queue: runnable, owned by us now.
    let g = unsafe { &mut *gp };
    // g.m before the status says GRUNNING: a suspender that sees GRUNNING reads it at once.
    m.curg.store(gp, Ordering::Release);
    g.m.store(m, Ordering::Release);
    if !suspend::start_running(g) {
        // Set aside for grt_resume, which may already have queued it again and another M be
        // running it: clear g.m only if it is still ours (a plain store here once left a
        // running, suspended goroutine without its M, and grt_resume dereferenced null).
        let plain = cfg!(feature = "testhooks") && {
            SET_ASIDES.fetch_add(1, Ordering::Relaxed);
            let k = crate::debug::get();
            if k.schedwidensetaside {
                sys::nanosleep(200_000);
            }
            k.schedplainsetaside
        };
        if plain {
            g.m.store(null_mut(), Ordering::Release);
        } else {
            let _ =
                g.m.compare_exchange(m, null_mut(), Ordering::AcqRel, Ordering::Relaxed);
        }
        m.curg.store(null_mut(), Ordering::Release);
        return false;
    }
    // SAFETY: the M holds its P.
    unsafe { (*m.p).schedtick = (*m.p).schedtick.wrapping_add(1) };
    g.preempt.store(false, Ordering::Relaxed);
    setg(gp);
    if g.fpctl != 0 {
        arch::set_control_words(g.fpctl & !FPCTL_CARRIED);
    }
    // SAFETY: g0's context is saved here; gp's was saved by its last switch (or made by
    // newproc) and nothing else runs on its stack.
    unsafe { arch::switch(&mut (*m.g0).sched, &g.sched) };
    setg(m.g0);
    carry_control_words(m, g);
    true
}

/// Back on g0 from `g`: the FP control words are thread state that the runtime's switch does
/// not carry (`arch::switch`), so a goroutine that changed them (`fesetround`, say) keeps
/// its own in `G.fpctl` and the thread gets its own back, before any other goroutine runs
/// here. One read of the control registers per schedule; loads only when they differ.
#[inline]
fn carry_control_words(m: &M, g: &mut G) {
    if cfg!(feature = "testhooks") && crate::debug::get().schednofpctl {
        return;
    }
    let now = arch::current_control_words() & arch::CONTROL_WORDS_MASK;
    if now != m.fpctl {
        g.fpctl = now | FPCTL_CARRIED;
        arch::set_control_words(m.fpctl);
    } else {
        g.fpctl = 0;
    }
}

fn dropg(m: &mut M, g: &G) {
    g.m.store(null_mut(), Ordering::Release);
    m.curg.store(null_mut(), Ordering::Release);
}

/// On g0, after the running G switched back: do what it asked. Returns a G to run at once.
fn after_mcall(m: &mut M) -> Option<*mut G> {
    let action = core::mem::replace(&mut m.action, Action::None);
    let gp = core::mem::replace(&mut m.actiong, null_mut());
    // SAFETY: the G that called mcall; it is not running anywhere now.
    let g = unsafe { &mut *gp };
    match action {
        Action::None => crate::throw!("goroutine {} switched to g0 with no action", g.goid()),
        Action::Yield => {
            casgstatus(g, GRUNNING, GRUNNABLE);
            dropg(m, g);
            if RUNQSIZE.load(Ordering::Acquire) != 0 {
                // Goroutines wait on the global queue (back from a system call or grt_gc,
                // say): queue behind them, so the P takes them next. Go's Gosched always
                // goes there; the local queue is cheaper when nobody waits. Without this a
                // goroutine that yields with an empty local queue runs again at once, and
                // the global queue waits for the 61st schedule (GLOBAL_RUNQ_CHECK).
                SCHED_LOCK.lock();
                globrunqput(gp);
                SCHED_LOCK.unlock();
            } else {
                // SAFETY: the M holds its P.
                runqput(unsafe { &*m.p }, gp, false);
            }
            None
        }
        Action::Park { unlockf, arg } => {
            casgstatus(g, GRUNNING, GWAITING);
            dropg(m, g);
            if !unlockf(gp, arg) {
                casgstatus(g, GWAITING, GRUNNABLE);
                return Some(gp);
            }
            None
        }
        Action::Preempt => {
            // Go's gopreempt_m: behind every goroutine that waits, on the global queue.
            casgstatus(g, GRUNNING, GRUNNABLE);
            dropg(m, g);
            SCHED_LOCK.lock();
            globrunqput(gp);
            SCHED_LOCK.unlock();
            None
        }
        Action::Exit => {
            goexit0(m, g);
            None
        }
        Action::ExitSyscall => exitsyscall0(m, g),
    }
}

/// Switches from the running G to g0, which performs `action`. Returns when the G is next
/// scheduled (perhaps on another M).
pub fn mcall(action: Action) {
    let m = mp();
    let gp = m.curg.load(Ordering::Relaxed);
    m.action = action;
    m.actiong = gp;
    let g0 = m.g0;
    setg(g0);
    // SAFETY: gp is the running G (this stack); g0 is parked in execute on its own stack.
    unsafe { arch::switch(&mut (*gp).sched, &(*g0).sched) };
}

fn findrunnable(m: &mut M) -> (*mut G, bool) {
    'top: loop {
        // SAFETY: the M holds a P here (acquired by mstart1, stopm or exitsyscall0).
        let pp = unsafe { &mut *m.p };
        time::run_timers(pp);
        // Fairness: now and then look at the global queue first, or two goroutines that keep
        // each other busy on the local queue would starve it (Go does the same every 61).
        if pp.schedtick % GLOBAL_RUNQ_CHECK == 0 && RUNQSIZE.load(Ordering::Acquire) != 0 {
            SCHED_LOCK.lock();
            let gp = globrunqget(pp, 1);
            SCHED_LOCK.unlock();
            if !gp.is_null() {
                return (gp, false);
            }
        }
        if let Some(r) = runqget(pp) {
            return r;
        }
        if RUNQSIZE.load(Ordering::Acquire) != 0 {
            SCHED_LOCK.lock();
            let gp = globrunqget(pp, 0);
            SCHED_LOCK.unlock();
            if !gp.is_null() {
                return (gp, false);
            }
        }
        let procs = gomaxprocs() as i32;
        if m.spinning
            || 2 * NMSPINNING.load(Ordering::Acquire)
                < procs - NPIDLE.load(Ordering::Acquire) as i32
        {
            if !m.spinning {
                m.spinning = true;
                NMSPINNING.fetch_add(1, Ordering::AcqRel);
            }
            let gp = steal_work(m, pp);
            if !gp.is_null() {
                return (gp, false);
            }
        }
        // Nothing: give the P back.
        SCHED_LOCK.lock();
        if RUNQSIZE.load(Ordering::Relaxed) != 0 {
            let gp = globrunqget(pp, 0);
            SCHED_LOCK.unlock();
            return (gp, false);
        }
        let pp = releasep(m);
        pidleput(pp);
        SCHED_LOCK.unlock();
        let was_spinning = m.spinning;
        if m.spinning {
            m.spinning = false;
            if NMSPINNING.fetch_sub(1, Ordering::AcqRel) <= 0 {
                crate::throw!("findrunnable: negative nmspinning");
            }
        }
        // Work may have been queued after we looked and before our P went idle (its owner
        // saw no idle P and did not wake anyone): look again.
        if was_spinning {
            for i in 0..procs as usize {
                if !runqempty(allp(i)) {
                    SCHED_LOCK.lock();
                    let pp = pidleget();
                    SCHED_LOCK.unlock();
                    if !pp.is_null() {
                        acquirep(m, pp);
                        m.spinning = true;
                        NMSPINNING.fetch_add(1, Ordering::AcqRel);
                        continue 'top;
                    }
                    break;
                }
            }
        }
        if time::expired(sys::nanotime()) {
            SCHED_LOCK.lock();
            let pp = pidleget();
            SCHED_LOCK.unlock();
            if !pp.is_null() {
                acquirep(m, pp);
                continue 'top;
            }
        }
        stopm(m);
    }
}

/// Four passes over the other Ps in random order; the last one also takes `runnext`.
fn steal_work(m: &mut M, pp: &P) -> *mut G {
    let procs = gomaxprocs();
    for pass in 0..4 {
        let steal_next = pass == 3;
        let start = fastrand(m) as usize % procs;
        for k in 0..procs {
            let p2 = allp((start + k) % procs);
            if ptr::eq(p2, pp) {
                continue;
            }
            let gp = runqsteal(pp, p2, steal_next);
            if !gp.is_null() {
                return gp;
            }
        }
    }
    null_mut()
}

// ---- goroutine creation and exit ---------------------------------------------------------

/// Entry of every goroutine (through grt_context_entry): run the body, then exit.
#[link_section = "grt_text"]
unsafe extern "C" fn goroutine_main(arg: *mut c_void) {
    let gp = arg as *mut G;
    // SAFETY: newproc set startfn/startarg before making the G runnable.
    unsafe {
        let f = (*gp).startfn.expect("goroutine without a function");
        // The program's own code from here to its return (newproc1 left the count at 1).
        crate::preempt::leave_runtime(&*gp);
        f((*gp).startarg);
        crate::preempt::enter_runtime(&*gp);
    }
    mcall(Action::Exit);
    crate::throw!("a dead goroutine was resumed");
}

fn goexit0(m: &mut M, g: &mut G) {
    casgstatus(g, GRUNNING, GDEAD);
    dropg(m, g);
    NGOROUTINES.fetch_sub(1, Ordering::AcqRel);
    let main = g.goid() == 1;
    g.startfn = None;
    g.startarg = null_mut();
    g.param = null_mut();
    g.waiting = null_mut();
    g.waitreason = WaitReason::Zero;
    g.syscallsp = 0;
    g.syscallpc = 0;
    g.syscallbp = 0;
    // A reused stack starts with no barriers. Those not hit are in frames that will never
    // return (the goroutine's entry); the stack is rewritten by its next context.
    stkbar::gc_lock_stack_barriers(g);
    g.stkbar_len = 0;
    g.stkbar_pos = 0;
    g.stkbar_floor = 0;
    stkbar::gc_unlock_stack_barriers(g);
    // SAFETY: the M holds its P.
    gfput(unsafe { &mut *m.p }, g);
    if main {
        STATE.store(STATE_EXITING, Ordering::Release);
        MAIN_DONE.wakeup();
    }
}

/// Makes a runnable G for `f(arg)`. `pp`: the caller's P (null: queue globally).
fn newproc1(
    f: unsafe extern "C" fn(*mut c_void),
    arg: *mut c_void,
    size: usize,
    pp: *mut P,
) -> Result<*mut G, i32> {
    let size = round_page(if size == 0 {
        stack::DEFAULT_STACK_SIZE
    } else {
        size
    });
    let mut gp = if size == default_stack_size() && !pp.is_null() {
        // SAFETY: the caller's own P.
        gfget(unsafe { &mut *pp })
    } else {
        null_mut()
    };
    if gp.is_null() {
        gp = new_g(GKind::User);
        if gp.is_null() {
            return Err(GRT_ENOMEM);
        }
        allgadd(gp);
    }
    // SAFETY: a dead G, ours until made runnable.
    let g = unsafe { &mut *gp };
    if !g.stk.is_live() && !stackalloc(g, size) {
        if !pp.is_null() {
            // SAFETY: as above.
            gfput(unsafe { &mut *pp }, g);
        }
        return Err(GRT_ENOMEM);
    }
    g.startfn = Some(f);
    g.startarg = arg;
    g.stkbar_len = 0;
    g.stkbar_pos = 0;
    g.stkbar_floor = 0;
    g.fpctl = 0; // starts with its thread's control words
    // grt's code runs first (goroutine_main, until it calls the function).
    g.nopreempt.store(1, Ordering::Relaxed);
    g.async_preempt
        .store(crate::preempt::ASYNC_DEFAULT, Ordering::Relaxed);
    // SAFETY: the stack is live and unused.
    g.sched =
        unsafe { arch::init_context(g.stack.hi, goroutine_main, gp as *mut c_void, ptr::null()) };
    g.goid.store(
        GOIDGEN.fetch_add(1, Ordering::Relaxed) + 1,
        Ordering::Relaxed,
    );
    NGOROUTINES.fetch_add(1, Ordering::AcqRel);
    casgstatus(g, GDEAD, GRUNNABLE);
    Ok(gp)
}

/// `grt_go` / `grt_go_stack` from a goroutine.
pub fn newproc(f: unsafe extern "C" fn(*mut c_void), arg: *mut c_void, size: usize) -> i32 {
    let m = mp();
    let pp = m.p;
    match newproc1(f, arg, size, pp) {
        Ok(gp) => {
            // SAFETY: a goroutine's M holds its P.
            runqput(unsafe { &*pp }, gp, true);
            wakep();
            GRT_OK
        }
        Err(e) => e,
    }
}

/// Makes `gp` (waiting) runnable on the current P, to run next.
pub fn goready(gp: *mut G) {
    ready(gp, true)
}

/// Makes `gp` (waiting) runnable on the current P: next (`runnext`), or at the tail of the
/// queue (to keep the order of a batch of wakeups).
pub fn ready(gp: *mut G, next: bool) {
    // SAFETY: gp is a parked G the caller just took off a wait queue.
    if !suspend::make_runnable(unsafe { &*gp }) {
        return; // grt_suspend holds it; grt_resume makes it runnable
    }
    let m = mp();
    if m.p.is_null() {
        crate::throw!("goready without a P");
    }
    // SAFETY: the M holds its P.
    runqput(unsafe { &*m.p }, gp, next);
    wakep();
}

/// Goroutines set aside because grt_suspend held them when they were to run or be woken
/// (suspend.rs); grt_resume queues each again. While one is aside, idle Ms are not a
/// deadlock: its suspender, maybe a thread that is not an M, will resume it. Incremented
/// before the M that set it aside can go idle; decremented under SCHED_LOCK together with
/// the queueing, so checkdead (under SCHED_LOCK) always sees one or the other.
static HELD_ASIDE: AtomicUsize = AtomicUsize::new(0);

/// A goroutine was set aside for grt_resume (see [`HELD_ASIDE`]).
/// Goroutines an M found held by grt_suspend and set aside (test-only build:
/// `grt_test_set_asides`).
pub static SET_ASIDES: AtomicU64 = AtomicU64::new(0);

pub fn note_held_aside() {
    HELD_ASIDE.fetch_add(1, Ordering::AcqRel);
}

/// Queues a runnable G that was set aside, from any thread (grt_resume).
pub fn ready_held_aside(gp: *mut G) {
    SCHED_LOCK.lock();
    globrunqput(gp);
    HELD_ASIDE.fetch_sub(1, Ordering::AcqRel);
    SCHED_LOCK.unlock();
    wakep();
}

/// Parks the running goroutine: on g0 its status becomes waiting, then `unlockf(gp, arg)`
/// runs (it usually releases the lock that guards the wait queue the G is on); if that
/// returns false the G runs again at once.
pub fn gopark(unlockf: fn(*mut G, usize) -> bool, arg: usize, reason: WaitReason) {
    let gp = getg();
    // SAFETY: the running G.
    unsafe { (*gp).waitreason = reason };
    mcall(Action::Park { unlockf, arg });
}

/// grt_yield.
pub fn gosched() {
    mcall(Action::Yield);
}

/// A safe point of a grt call (the C API's entry points that may switch goroutines anyway:
/// grt_alloc, channel and sync operations, grt_gc's return, grt_exitsyscall, the end of
/// grt_cgocall): yields if sysmon marked the calling goroutine for having held its P for a
/// time slice while others wait. One load when not marked.
#[inline]
pub fn preempt_point() {
    let gp = getg();
    // SAFETY: null or a live G.
    let Some(g) = (unsafe { gp.as_ref() }) else {
        return;
    };
    // Only while it runs on its P (not between grt_entersyscall and grt_exitsyscall, where
    // C code may call grt_alloc too).
    if g.kind == GKind::User && g.preempt.load(Ordering::Relaxed) && g.status() & !GSCAN == GRUNNING
    {
        g.preempt.store(false, Ordering::Relaxed);
        mcall(Action::Preempt);
    }
}

/// The yield of an asynchronous preemption (`preempt::grt_async_preempt_impl`, on the
/// goroutine's stack, which the signal handler found GRUNNING on its P): behind every
/// goroutine that waits, as a time slice's yield.
pub fn async_preempt_yield() {
    // SAFETY: called on a goroutine (the stub's), whose G is live.
    let g = unsafe { &*getg() };
    g.preempt.store(false, Ordering::Relaxed);
    mcall(Action::Preempt);
}

/// A goroutine may hold its P this long while others wait before its next safe point
/// yields (Go's forcePreemptNS), in ns.
const TIME_SLICE_NS: u64 = 10_000_000;

/// Test-only build, `GRTDEBUG=schednoslice=1`: sysmon marks no goroutine for its time
/// slice (the fairness tests' teeth).
fn no_slice() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().schednoslice
}

/// sysmon: marks the goroutine running on a P that has not scheduled for a time slice while
/// goroutines wait (on its queue, the global one, or expired timers). Returns whether it did.
fn preempt_long_runner(p: &mut P, now: u64) -> bool {
    // SAFETY: a plain u32 the P's M bumps; a torn or stale read only delays a mark.
    let t = unsafe { core::ptr::read_volatile(&p.schedtick) };
    if p.sysmon_schedtick != t {
        p.sysmon_schedtick = t;
        p.sysmon_schedwhen = now;
        return false;
    }
    if now.saturating_sub(p.sysmon_schedwhen) < TIME_SLICE_NS || no_slice() {
        return false;
    }
    let waiting = !runqempty(p) || RUNQSIZE.load(Ordering::Acquire) != 0 || time::expired(now);
    if !waiting {
        return false;
    }
    // SAFETY: Ms and Gs are never freed: a G that has moved on meanwhile only yields once
    // more than it had to.
    let Some(m) = (unsafe { p.m.as_ref() }) else {
        return false;
    };
    // SAFETY: as above.
    let Some(g) = (unsafe { m.curg.load(Ordering::Acquire).as_ref() }) else {
        return false;
    };
    g.preempt.store(true, Ordering::Relaxed);
    p.sysmon_schedwhen = now; // one mark per slice
    crate::preempt::request(m, g);
    true
}

// ---- grt_main ------------------------------------------------------------------------------

fn read_maxprocs() -> usize {
    let n = ncpu().min(MAX_PROCS);
    match env::get_number("GRTMAXPROCS") {
        None => n,
        Some(Ok(v)) if v >= 1 && v as usize <= MAX_PROCS => v as usize,
        Some(_) => {
            printerr!(
                "grt: GRTMAXPROCS must be a number from 1 to {}; using {}\n",
                MAX_PROCS,
                n
            );
            n
        }
    }
}

fn schedinit() -> Result<(), i32> {
    const F: &str = "grt_main";
    // The collector first: its knobs size every goroutine stack's barrier array.
    crate::mgc::init()?;
    let procs = read_maxprocs();
    for i in 0..procs {
        let pp = rtalloc::persistentalloc(core::mem::size_of::<P>(), 64) as *mut P;
        if pp.is_null() {
            return Err(report(
                GRT_ENOMEM,
                F,
                format_args!("out of memory for the Ps"),
            ));
        }
        // SAFETY: fresh zeroed memory is a valid idle P.
        unsafe { (*pp).id = i };
        ALLP[i].store(pp, Ordering::Release);
    }
    GOMAXPROCS.store(procs, Ordering::Release);
    // The preemption handler asks "is this pc the program's own code?" of the main image.
    crate::unwind::init_main_image();
    SCHED_LOCK.lock();
    for i in (0..procs).rev() {
        // SAFETY: just made, not shared yet.
        pidleput(unsafe { &mut *ALLP[i].load(Ordering::Relaxed) });
    }
    SCHED_LOCK.unlock();
    if let Err(e) = signals::install_fault_handlers().and_then(|_| crate::suspend::install()) {
        return Err(report(
            GRT_ESYS,
            F,
            format_args!("cannot install signal handlers: errno {}", e.0),
        ));
    }
    crate::cpuprof::start_from_env();
    if let Err(e) = thread::start(mstarter, null_mut()) {
        return Err(report(
            GRT_ESYS,
            F,
            format_args!("cannot start the thread that starts Ms: errno {}", e.0),
        ));
    }
    if let Err(e) = thread::start(sysmon, null_mut()) {
        return Err(report(
            GRT_ESYS,
            F,
            format_args!("cannot start the sysmon thread: errno {}", e.0),
        ));
    }
    Ok(())
}

/// `grt_main(fn, arg)`.
pub fn main(f: unsafe extern "C" fn(*mut c_void), arg: *mut c_void) -> i32 {
    const F: &str = "grt_main";
    if !getg().is_null() {
        return report(GRT_EINVAL, F, format_args!("called from a goroutine"));
    }
    if STATE
        .compare_exchange(
            STATE_NONE,
            STATE_RUNNING,
            Ordering::AcqRel,
            Ordering::Acquire,
        )
        .is_err()
    {
        return report(
            GRT_EINVAL,
            F,
            format_args!("grt_main has already run in this process (it runs once)"),
        );
    }
    if let Err(e) = schedinit() {
        return e;
    }
    let gp = match newproc1(f, arg, 0, null_mut()) {
        Ok(gp) => gp,
        Err(e) => return report(e, F, format_args!("cannot make the main goroutine")),
    };
    SCHED_LOCK.lock();
    globrunqput(gp);
    SCHED_LOCK.unlock();
    wakep();
    MAIN_DONE.sleep();
    crate::cpuprof::stop_from_env();
    GRT_OK
}

// ---- system calls --------------------------------------------------------------------------

fn entersyscall_common(g: &G, pc: usize, sp: usize, bp: usize, regs: *const usize) {
    let m = mp();
    // SAFETY: single writer (this goroutine); readers hold the scan bit, which they can only
    // take after the CAS below publishes these. regs: NSYSCALLREGS words from the asm.
    unsafe {
        let gm = g as *const G as *mut G;
        (*gm).syscallsp = sp;
        (*gm).syscallpc = pc;
        (*gm).syscallbp = bp;
        core::ptr::copy_nonoverlapping(
            regs,
            (*gm).syscallregs.as_mut_ptr(),
            arch::asm_consts::NSYSCALLREGS,
        );
    }
    casgstatus(g, GRUNNING, GSYSCALL);
    // SAFETY: the M holds its P until here.
    let pp = unsafe { &mut *m.p };
    pp.syscalltick.fetch_add(1, Ordering::Relaxed);
    pp.m = null_mut();
    m.oldp = m.p;
    m.p = null_mut();
    pp.status.store(PSYSCALL, Ordering::Release);
}

/// `grt_entersyscall` (asm/<arch>/syscall.S passes the caller's pc, sp and fp).
#[no_mangle]
#[link_section = "grt_text"]
extern "C" fn grt_entersyscall_impl(pc: usize, sp: usize, bp: usize, regs: *const usize) -> i32 {
    let g = match current_user_g("grt_entersyscall") {
        Ok(g) => g,
        Err(e) => return e,
    };
    if g.status() & !GSCAN != GRUNNING {
        return report(
            GRT_EINVAL,
            "grt_entersyscall",
            format_args!("goroutine {} is already in a system call", g.goid()),
        );
    }
    entersyscall_common(g, pc, sp, bp, regs);
    GRT_OK
}

fn exitsyscallfast(m: &mut M, oldp: *mut P) -> bool {
    // SAFETY: oldp is this M's P from before the syscall (Ps are never freed).
    if let Some(p) = unsafe { oldp.as_ref() } {
        if p.status.load(Ordering::Acquire) == PSYSCALL
            && p.status
                .compare_exchange(PSYSCALL, PIDLE, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            acquirep(m, oldp);
            p.syscalltick.fetch_add(1, Ordering::Relaxed);
            return true;
        }
    }
    if NPIDLE.load(Ordering::Acquire) > 0 {
        SCHED_LOCK.lock();
        let pp = pidleget();
        SCHED_LOCK.unlock();
        if !pp.is_null() {
            acquirep(m, pp);
            return true;
        }
    }
    false
}

fn exitsyscall_common(g: &G) {
    // If grt_suspend holds us, wait for grt_resume before taking a P (not while holding one).
    suspend::wait_unsuspended(g);
    let m = mp();
    let oldp = core::mem::replace(&mut m.oldp, null_mut());
    if exitsyscallfast(m, oldp) {
        casgstatus(g, GSYSCALL, GRUNNING);
    } else {
        // No P: queue ourselves and let g0 stop this M.
        mcall(Action::ExitSyscall);
    }
    // SAFETY: single writer (this goroutine), now running again.
    unsafe {
        let gm = g as *const G as *mut G;
        (*gm).syscallsp = 0;
        (*gm).syscallpc = 0;
        (*gm).syscallbp = 0;
    }
}

/// On g0: a G came back from a syscall and no P was free.
fn exitsyscall0(m: &mut M, g: &mut G) -> Option<*mut G> {
    casgstatus(g, GSYSCALL, GRUNNABLE);
    dropg(m, g);
    SCHED_LOCK.lock();
    let pp = pidleget();
    if pp.is_null() {
        globrunqput(g);
    }
    SCHED_LOCK.unlock();
    if !pp.is_null() {
        acquirep(m, pp);
        return Some(g);
    }
    stopm(m);
    None
}

/// `grt_exitsyscall`.
pub fn exitsyscall() -> i32 {
    let g = match current_user_g_any("grt_exitsyscall") {
        Ok(g) => g,
        Err(e) => return e,
    };
    if g.status() & !GSCAN != GSYSCALL {
        return report(
            GRT_EINVAL,
            "grt_exitsyscall",
            format_args!("goroutine {} is not in a system call", g.goid()),
        );
    }
    exitsyscall_common(g);
    GRT_OK
}

/// First half of `grt_cgocall` (asm/<arch>/syscall.S): returns the system-stack sp to run
/// `fn` on, 0 to call it in place (not on a goroutine), 1 for bad input.
#[no_mangle]
#[link_section = "grt_text"]
extern "C" fn grt_cgocall_enter(
    pc: usize,
    sp: usize,
    bp: usize,
    f: usize,
    regs: *const usize,
) -> usize {
    if f == 0 {
        report(GRT_EINVAL, "grt_cgocall", format_args!("fn is NULL"));
        return 1;
    }
    let gp = getg();
    // SAFETY: null or a live G.
    let Some(g) = (unsafe { gp.as_ref() }) else {
        return 0;
    };
    if g.kind != GKind::User || g.status() & !GSCAN != GRUNNING {
        return 0;
    }
    let m = mp();
    m.ncgo += 1;
    entersyscall_common(g, pc, sp, bp, regs);
    m.incgo.store(true, Ordering::Release);
    setg(m.g0);
    // Below g0's parked switch frame, with room for the x86_64 red zone, 16-byte aligned.
    // SAFETY: g0 belongs to this M; it is parked in execute while a G runs.
    (unsafe { (*m.g0).sched.sp } - 256) & !15
}

/// Second half of `grt_cgocall`, back on the goroutine stack.
#[no_mangle]
#[link_section = "grt_text"]
extern "C" fn grt_cgocall_exit() -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    let m = mp();
    m.incgo.store(false, Ordering::Release);
    let gp = m.curg.load(Ordering::Relaxed);
    setg(gp);
    // SAFETY: the goroutine that called grt_cgocall.
    exitsyscall_common(unsafe { &*gp });
    preempt_point();
    GRT_OK
}

// ---- sysmon ----------------------------------------------------------------------------------

unsafe extern "C" fn sysmon(_: *mut c_void) {
    let mut idle = 0u32;
    let mut delay = SYSMON_MIN_DELAY_NS;
    loop {
        if idle == 0 {
            delay = SYSMON_MIN_DELAY_NS;
        } else if idle > 50 {
            delay = (delay * 2).min(SYSMON_MAX_DELAY_NS);
        }
        if time::pending() {
            delay = delay.min(SYSMON_TIMER_DELAY_NS);
        }
        sys::nanosleep(delay);
        let now = sys::nanotime();
        if retake(now) > 0 {
            idle = 0;
        } else {
            idle += 1;
        }
        // Expired timers with every P busy elsewhere and no M looking: wake one.
        if time::expired(now) && NMSPINNING.load(Ordering::Acquire) == 0 {
            wakep();
        }
        crate::cpuprof::collect(now);
    }
}

/// Test-only build, `GRTDEBUG=schedslowretake=1`: sysmon retakes a P in a system call only
/// after seeing the same call twice, as before (the fairness tests' teeth).
fn slow_retake() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().schedslowretake
}

/// Takes Ps away from Ms blocked in syscalls, and marks goroutines past their time slice;
/// returns how many of either.
fn retake(now: u64) -> u32 {
    let mut n = 0;
    for i in 0..gomaxprocs() {
        let pp = ALLP[i].load(Ordering::Acquire);
        // SAFETY: Ps are never freed; sysmon_tick/when are sysmon's own fields.
        let p = unsafe { &mut *pp };
        let status = p.status.load(Ordering::Acquire);
        if status == PRUNNING {
            if preempt_long_runner(p, now) {
                n += 1;
            }
            continue;
        }
        if status != PSYSCALL {
            continue;
        }
        let t = p.syscalltick.load(Ordering::Relaxed);
        // Goroutines wait on this P's queue, or on the global one with no idle P to take them:
        // take it now, however short the call.
        // Waiting for a second sight of the same call never fires for a goroutine making short
        // calls back to back (grt_gc in a loop, 1 ms sleeps): each is a new call, and the
        // queued ones starved for seconds. (Test-only schedslowretake=1: the old rule.)
        let waiting = (!runqempty(p)
            || (RUNQSIZE.load(Ordering::Acquire) != 0
                && NPIDLE.load(Ordering::Acquire) == 0
                && NMSPINNING.load(Ordering::Acquire) == 0))
            && !slow_retake();
        if p.sysmon_tick != t {
            p.sysmon_tick = t;
            p.sysmon_when = now;
            if !waiting {
                continue;
            }
        }
        // Leave it alone if it has nothing queued, others are free to take new work, and the
        // syscall has not lasted long: the M will most likely take its P back itself.
        if runqempty(p)
            && NMSPINNING.load(Ordering::Acquire) + NPIDLE.load(Ordering::Acquire) as i32 > 0
            && p.sysmon_when + SYSCALL_RETAKE_NS > now
        {
            continue;
        }
        // While sysmon holds a retaken P it counts as a running M: otherwise the syscall's
        // own M, coming back to find neither its P nor an idle one, could go idle and make
        // checkdead see every M idle with a goroutine queued (Go's incidlelocked(-1)).
        SCHED_LOCK.lock();
        sched().nmsys_busy += 1;
        SCHED_LOCK.unlock();
        if p.status
            .compare_exchange(PSYSCALL, PIDLE, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            n += 1;
            p.syscalltick.fetch_add(1, Ordering::Relaxed);
            handoffp(pp);
        }
        SCHED_LOCK.lock();
        sched().nmsys_busy -= 1;
        SCHED_LOCK.unlock();
    }
    n
}

// ---- deadlock ------------------------------------------------------------------------------

/// Called with `SCHED_LOCK` held whenever an M goes idle.
fn checkdead() {
    if STATE.load(Ordering::Acquire) != STATE_RUNNING {
        return;
    }
    let s = sched();
    let run = s.mcount + s.nmsys_busy - s.nmidle;
    if run > 0 {
        return;
    }
    if run < 0 {
        crate::throw!(
            "checkdead: inconsistent M counts: {} Ms, {} idle",
            s.mcount,
            s.nmidle
        );
    }
    if time::pending() {
        return; // a sleeper will wake
    }
    if HELD_ASIDE.load(Ordering::Acquire) != 0 {
        return; // grt_resume will queue it
    }
    if NGOROUTINES.load(Ordering::Acquire) <= 0 {
        return;
    }
    // Every M idle while something is runnable is a scheduler bug, not the program's deadlock.
    if RUNQSIZE.load(Ordering::Acquire) != 0 || (0..gomaxprocs()).any(|i| !runqempty(allp(i))) {
        crate::throw!("checkdead: every M is idle but a goroutine is runnable");
    }
    printerr!("fatal error: all goroutines are asleep - deadlock!\n");
    print_goroutines();
    signals::abort()
}

/// Prints every live goroutine's state and stack (fatal errors).
pub fn print_goroutines() {
    for_each_g(|g| {
        let st = g.status();
        if g.kind != GKind::User || st & !GSCAN == GDEAD {
            return true;
        }
        let reason = if st & !GSCAN == GWAITING {
            g.waitreason.as_str()
        } else {
            status_name(st)
        };
        printerr!("\ngoroutine {} [{}]:\n", g.goid(), reason);
        match st & !GSCAN {
            GWAITING | GRUNNABLE => {
                let fp = arch::parked_frame_pointer(g.sched.sp);
                traceback::print_g(0, g.sched.sp, fp, g);
            }
            GSYSCALL => traceback::print_g(g.syscallpc, g.syscallsp, g.syscallbp, g),
            _ => printerr!("  (running on another thread)\n"),
        }
        true
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Called by runqget between its runnext decision and the queue (test builds only).
    static HOOK: AtomicUsize = AtomicUsize::new(0);

    pub(super) fn runqget_hook(pp: &mut P) {
        let f = HOOK.swap(0, Ordering::SeqCst);
        if f != 0 {
            // SAFETY: set below to a `fn(&mut P)`.
            let f: fn(&mut P) = unsafe { core::mem::transmute(f) };
            f(pp);
        }
    }

    fn new_p() -> Box<P> {
        // SAFETY: all-zero is a valid idle P (schedinit relies on the same).
        Box::new(unsafe { core::mem::zeroed() })
    }

    static THIEF: AtomicPtr<P> = AtomicPtr::new(null_mut());

    /// The race behind a CI failure: runnext is passed over (its streak is used up) because
    /// the queue is not empty, then a thief empties the queue before the owner reads it.
    /// runqget must still return the G in runnext, not None.
    #[test]
    fn runqget_takes_runnext_when_thieves_empty_the_queue() {
        let mut pp = new_p();
        let thief = new_p();
        let (g1, g2) = (0x1000 as *mut G, 0x2000 as *mut G);
        runqput(&pp, g2, false);
        runqput(&pp, g1, true);
        pp.runnext_streak = RUNNEXT_STREAK_MAX;
        THIEF.store(&*thief as *const P as *mut P, Ordering::SeqCst);
        fn steal_all(pp: &mut P) {
            // SAFETY: the test's thief P, alive for the whole test.
            let thief = unsafe { &*THIEF.load(Ordering::SeqCst) };
            assert_eq!(runqsteal(thief, pp, false), 0x2000 as *mut G);
        }
        HOOK.store(steal_all as fn(&mut P) as usize, Ordering::SeqCst);
        assert_eq!(runqget(&mut pp), Some((g1, true)));
        assert!(runqempty(&pp));
        assert_eq!(runqget(&mut pp), None);
    }
}
