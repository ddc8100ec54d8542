//! Goroutines' creation (newproc), entry and exit, yields, parks and time slices. Part of the scheduler (`proc`, whose mod.rs explains the whole).

use super::*;

/// Entry of every goroutine (through grt_context_entry): run the body, then exit.
#[link_section = "grt_text"]
pub(crate) unsafe extern "C" fn goroutine_main(arg: *mut c_void) {
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

pub(crate) fn goexit0(m: &mut M, g: &mut G) {
    casgstatus(g, GRUNNING, GDEAD);
    dropg(m, g);
    NGOROUTINES.fetch_sub(1, Ordering::AcqRel);
    let main = MAIN_G
        .compare_exchange(g, null_mut(), Ordering::AcqRel, Ordering::Relaxed)
        .is_ok();
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
pub(crate) fn newproc1(
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
    g.startarg = core::ptr::null_mut(); // set with the push below
    g.gcscanvalid.store(false, Ordering::Relaxed); // a reused G: not what any scan saw
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
    // Not scanned by a cycle that marks now: mark termination must look at it. Given its
    // argument, made runnable and pushed in one hold of the list's lock (rescanlist.rs): no
    // stop and no round's detach falls between them, and a scan pass that went by it while
    // it was dead finds it listed. Until then `arg` is only ours (a stop scans our frames
    // and registers; a dead G's fields are not scanned).
    if cfg!(feature = "testhooks") && crate::debug::get().gcnewprocsplit {
        // Test-only: the old form, a push before the status change and one after, each
        // followed by a wide window (gc_rescan_ran_spawn_teeth).
        g.startarg = arg;
        crate::rescanlist::push(g);
        sys::nanosleep(NEWPROC_SPLIT_NS);
        casgstatus(g, GDEAD, GRUNNABLE);
        sys::nanosleep(NEWPROC_SPLIT_NS);
        crate::rescanlist::push(g);
    } else {
        crate::rescanlist::push_new(gp, |g| {
            g.startarg = arg;
            casgstatus(g, GDEAD, GRUNNABLE);
        });
    }
    Ok(gp)
}

/// `GRTDEBUG=gcnewprocsplit=1` (test-only build): each window of the old two-push form, in ns.
const NEWPROC_SPLIT_NS: u64 = 200_000;

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

/// `newproc` that returns the new goroutine (the runtime's own goroutines: the finalizer
/// goroutine); None when out of memory. From a goroutine (its P's queue) or from a thread
/// that is not an M, a registered thread (the global queue).
pub fn newproc_g(f: unsafe extern "C" fn(*mut c_void), arg: *mut c_void) -> Option<*mut G> {
    // SAFETY: the TLS m slot is null or this thread's own M.
    let pp = unsafe { getm().as_ref() }.map_or(null_mut(), |m| m.p);
    let gp = newproc1(f, arg, 0, pp).ok()?;
    if pp.is_null() {
        SCHED_LOCK.lock();
        globrunqput(gp);
        SCHED_LOCK.unlock();
    } else {
        // SAFETY: a goroutine's M holds its P.
        runqput(unsafe { &*pp }, gp, false);
    }
    wakep();
    Some(gp)
}

/// Makes a parked goroutine runnable from a thread that holds no P (the collector's): on
/// the global queue, and an M woken for it.
pub fn ready_outside(gp: *mut G) {
    // SAFETY: a parked G its waker just took over.
    if !suspend::make_runnable(unsafe { &*gp }) {
        return; // grt_suspend holds it; grt_resume queues it
    }
    SCHED_LOCK.lock();
    globrunqput(gp);
    SCHED_LOCK.unlock();
    wakep();
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
pub(crate) static HELD_ASIDE: AtomicUsize = AtomicUsize::new(0);

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
    if g.preempt.load(Ordering::Relaxed) {
        preempt_marked(g);
    }
}

/// [`preempt_point`] for a goroutine sysmon marked: out of line, so that the callers' fast
/// paths (grt_alloc's) keep no registers for the switch.
#[cold]
#[inline(never)]
fn preempt_marked(g: &G) {
    // Only while it runs on its P (not between grt_entersyscall and grt_exitsyscall, where
    // C code may call grt_alloc too).
    if g.kind == GKind::User && g.status() & !GSCAN == GRUNNING {
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
pub(crate) const TIME_SLICE_NS: u64 = 10_000_000;

/// Test-only build, `GRTDEBUG=schednoslice=1`: sysmon marks no goroutine for its time
/// slice (the fairness tests' teeth).
pub(crate) fn no_slice() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().schednoslice
}

/// sysmon: marks the goroutine running on a P that has not scheduled for a time slice while
/// goroutines wait (on its queue, the global one, or expired timers). Returns whether it did.
pub(crate) fn preempt_long_runner(p: &mut P, now: u64) -> bool {
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
