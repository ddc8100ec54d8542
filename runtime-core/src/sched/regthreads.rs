//! Threads that are not goroutines, registered with the collector (bdwgc's
//! `GC_register_my_thread`): their stacks and registers become roots.
//!
//! # How it works
//!
//! `grt_register_thread` puts the calling thread (its tid and the top of its stack) in a
//! fixed table. At mark termination, with the Ms stopped, the collector stops every
//! registered thread the way it stops an M (suspend.rs's handshake), in one of three ways:
//! - it stops itself: the request is posted first ([`stop_all`]), and a thread that
//!   allocates meanwhile ([`poll_stop`]) claims it, spills its callee-saved registers onto
//!   its stack (`grt_call_spilled`) and sleeps (on the word the world's restart moves:
//!   suspend.rs `park_stopped`);
//! - it is asleep in a runtime wait (a lock's, a wait for the collector), published as
//!   SUSPEND_PARKED with its registers spilled ([`with_parked`]): taken as it is, not woken;
//! - else, after `SELF_STOP_WAIT_NS` (15 µs), the signal: SIGURG by tgkill; the handler,
//!   finding no M, looks its thread up here by tid, publishes its ucontext and sleeps as
//!   above.
//!
//! The collector scans `[sp - RED_ZONE, stack top)` and, after a signal, every general
//! register in the ucontext, and lets the threads go when the world restarts. The stacks are
//! scanned whole, with the thread stopped: no barriers (bdwgc's model). A cycle may also
//! stop them once while it marks, the same way, to read their stacks and let them go at once
//! ([`collect_concurrent`]; when, mgc.rs `read_threads`): what they reach then is marked
//! beside the running program, and mark termination's scan only marks what changed since.
//! A registered thread stores pointers into heap objects with `GRT_STORE`, like a goroutine;
//! stores into its own stack need nothing (its stack is scanned with it stopped).
//!
//! A thread that exits without `grt_unregister_thread` is found gone at the next stop (tgkill
//! fails) and its slot freed.
//!
//! Each slot has an allocation cache (`mcache::Runs`, made on the slot's first use): while
//! registered, the thread's `grt_tls` cache slot points to it and `grt_alloc` takes slots from
//! it without a lock, as on an M. Mark termination marks the slots a stopped thread's cache
//! holds but has not handed out (as it does an M's); at deregistration the cache is dropped
//! (those slots, unmarked, go to the next sweep).
//!
//! # Who may touch what
//! `REG_LOCK` guards registration and the collector's stop of these threads (the collector
//! takes it before it stops the world). The signal handler reads the table without a lock:
//! every field it reads is an atomic, and it scans at most the table's high-water mark.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use grt_arch as arch;

use crate::errors::{report, GRT_EINVAL, GRT_ENOMEM, GRT_OK};
use crate::lock::Lock;
use crate::runtime2::SUSPEND_REQUESTED;
use crate::{mcache, proc, rtalloc, suspend, sys};

/// Registered threads at most.
pub const MAX_THREADS: usize = 1024;
/// How long the collector waits for a registered thread to stop, in ns.
const STOP_TIMEOUT_NS: u64 = 5_000_000_000;

pub struct RegThread {
    /// The thread's id; 0: a free slot.
    tid: AtomicU32,
    /// One past the highest address of its stack.
    stack_hi: AtomicUsize,
    /// The suspend handshake word (suspend.rs's states).
    state: AtomicU32,
    /// While stopped: its ucontext and stack pointer.
    uc: AtomicUsize,
    sp: AtomicUsize,
    /// Stopped by the collector in this stop (collector only, under REG_LOCK).
    stopped: AtomicBool,
    /// Of those, found asleep in a runtime wait and held so (collector only).
    held: AtomicBool,
    /// A stop request's signal is on its way (suspend.rs `signal_stop_word`).
    sig_owed: AtomicBool,
    /// The slot's allocation cache (`mcache::Runs`, made on the slot's first use and kept
    /// for its next threads): the thread's `grt_tls` cache slot points to it while it is
    /// registered.
    cache: AtomicUsize,
    /// When it last stopped for a stop request (nanotime; the handler or its own
    /// allocation path writes it): how long [`collect_concurrent`] held it.
    stopped_at: AtomicU64,
}

const FREE: RegThread = RegThread {
    tid: AtomicU32::new(0),
    stack_hi: AtomicUsize::new(0),
    state: AtomicU32::new(0),
    uc: AtomicUsize::new(0),
    sp: AtomicUsize::new(0),
    stopped: AtomicBool::new(false),
    held: AtomicBool::new(false),
    sig_owed: AtomicBool::new(false),
    cache: AtomicUsize::new(0),
    stopped_at: AtomicU64::new(0),
};

static THREADS: [RegThread; MAX_THREADS] = [FREE; MAX_THREADS];
/// Where the table lies: it holds no pointer into the heap (thread ids, stack addresses, the
/// caches, which are grt's own memory), so the collector's scan of the program's data skips
/// it (mgc.rs `NOSCAN`).
pub fn static_range() -> (usize, usize) {
    (THREADS.as_ptr() as usize, core::mem::size_of_val(&THREADS))
}

/// Slots at or above this were never used.
static HWM: AtomicUsize = AtomicUsize::new(0);
pub static REG_LOCK: Lock = Lock::new();

fn slots() -> &'static [RegThread] {
    &THREADS[..HWM.load(Ordering::Acquire).min(MAX_THREADS)]
}

fn find(tid: u32) -> Option<&'static RegThread> {
    slots()
        .iter()
        .find(|t| t.tid.load(Ordering::Acquire) == tid)
}

/// Test-only build, `GRTDEBUG=gcnoregthreads=1`: registered threads are not scanned (the
/// teeth of gc_regthread).
fn disabled() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().gcnoregthreads
}

/// The top of the calling thread's stack: glibc's idea of it (pthread_getattr_np), or the
/// end of the mapping that holds the stack pointer.
fn detect_stack_hi() -> Option<usize> {
    #[cfg(not(feature = "freestanding"))]
    {
        extern "C" {
            fn pthread_self() -> usize;
            fn pthread_getattr_np(t: usize, attr: *mut u8) -> i32;
            fn pthread_attr_getstack(attr: *const u8, addr: *mut usize, size: *mut usize) -> i32;
            fn pthread_attr_destroy(attr: *mut u8) -> i32;
        }
        // pthread_attr_t: 56 bytes on x86_64, 64 on aarch64.
        #[repr(C, align(16))]
        struct Attr([u8; 128]);
        let mut attr = Attr([0; 128]);
        let (mut addr, mut size) = (0usize, 0usize);
        // SAFETY: attr is large enough for pthread_attr_t; the out-parameters are locals.
        unsafe {
            if pthread_getattr_np(pthread_self(), attr.0.as_mut_ptr()) == 0 {
                let ok = pthread_attr_getstack(attr.0.as_ptr(), &mut addr, &mut size) == 0;
                pthread_attr_destroy(attr.0.as_mut_ptr());
                if ok && size != 0 {
                    return Some(addr + size);
                }
            }
        }
    }
    let sp = arch::frame_pointer();
    crate::maps::find(sp).map(|m| m.end)
}

/// `grt_register_thread`.
pub fn register(stack_hi: usize) -> i32 {
    const F: &str = "grt_register_thread";
    if !proc::getm().is_null() {
        return report(
            GRT_EINVAL,
            F,
            format_args!("called on a goroutine or a thread of grt's: those are scanned already"),
        );
    }
    let here = arch::frame_pointer();
    let hi = if stack_hi != 0 {
        stack_hi
    } else {
        match detect_stack_hi() {
            Some(h) => h,
            None => {
                return report(
                    GRT_EINVAL,
                    F,
                    format_args!("cannot find this thread's stack: pass its top"),
                )
            }
        }
    };
    if hi <= here {
        return report(
            GRT_EINVAL,
            F,
            format_args!("stack top {:#x} is below the stack pointer {:#x}", hi, here),
        );
    }
    let tid = sys::gettid() as u32;
    REG_LOCK.lock();
    let r = if find(tid).is_some() {
        Err(report(
            GRT_EINVAL,
            F,
            format_args!("thread {} is registered already", tid),
        ))
    } else {
        let hwm = HWM.load(Ordering::Relaxed);
        match THREADS[..hwm]
            .iter()
            .position(|t| t.tid.load(Ordering::Relaxed) == 0)
            .or((hwm < MAX_THREADS).then_some(hwm))
        {
            Some(i) => {
                let t = &THREADS[i];
                let mut cache = t.cache.load(Ordering::Relaxed) as *mut mcache::Runs;
                if cache.is_null() {
                    cache = rtalloc::persistentalloc(core::mem::size_of::<mcache::Runs>(), 64)
                        as *mut mcache::Runs;
                    t.cache.store(cache as usize, Ordering::Relaxed);
                }
                if !cache.is_null() {
                    // SAFETY: the slot's cache, used by no thread now (the slot is free).
                    unsafe { cache.write(mcache::NO_RUNS) };
                }
                // Null (out of memory): this thread allocates under the heap lock.
                arch::setcache(cache as usize);
                t.stack_hi.store(hi, Ordering::Relaxed);
                t.stopped.store(false, Ordering::Relaxed);
                // A signal owed to the slot's last thread is not this one's.
                t.sig_owed.store(false, Ordering::Relaxed);
                t.tid.store(tid, Ordering::Release);
                if i == hwm {
                    HWM.store(hwm + 1, Ordering::Release);
                }
                Ok(())
            }
            None => Err(report(
                GRT_ENOMEM,
                F,
                format_args!("too many registered threads (at most {})", MAX_THREADS),
            )),
        }
    };
    REG_LOCK.unlock();
    r.map_or_else(|e| e, |()| GRT_OK)
}

/// `grt_unregister_thread`.
pub fn unregister() -> i32 {
    let tid = sys::gettid() as u32;
    REG_LOCK.lock();
    let r = match find(tid) {
        Some(t) => {
            // Its cache's slots not handed out are dropped: not marked at the next mark
            // termination, the sweep frees them.
            arch::setcache(0);
            t.tid.store(0, Ordering::Release);
            GRT_OK
        }
        None => report(
            GRT_EINVAL,
            "grt_unregister_thread",
            format_args!("thread {} is not registered", tid),
        ),
    };
    REG_LOCK.unlock();
    r
}

/// Threads registered now (lock-free, a snapshot).
pub fn count() -> usize {
    slots()
        .iter()
        .filter(|t| t.tid.load(Ordering::Relaxed) != 0)
        .count()
}

/// The calling thread is registered.
pub fn is_registered() -> bool {
    // Fast paths, no system call: an M is never registered (`register` refuses), and a
    // thread that is not one and has an allocation cache in its TLS slot is (register sets
    // it, unregister clears it). Without one (registered while out of memory, or not
    // registered) the table says.
    if !proc::getm().is_null() {
        return false;
    }
    if arch::getcache() != 0 {
        return true;
    }
    find(sys::gettid() as u32).is_some()
}

/// What the suspend signal is to a thread that is not an M ([`claim_for_signal`]).
pub enum Claim {
    /// A registered thread the collector asks to stop: the request is claimed.
    Claimed(&'static RegThread),
    /// The late signal of a request the thread served by stopping itself: to drop.
    Owed,
    /// Not the collector's.
    Not,
}

/// In the suspend handler of a thread that is not an M. Lock-free.
pub fn claim_for_signal(from_us: bool) -> Claim {
    if !from_us {
        return Claim::Not;
    }
    let Some(t) = find(sys::gettid() as u32) else {
        return Claim::Not;
    };
    let owed = t.sig_owed.swap(false, Ordering::AcqRel);
    if suspend::claim_word(&t.state) {
        Claim::Claimed(t)
    } else if owed {
        Claim::Owed
    } else {
        Claim::Not
    }
}

impl RegThread {
    /// The stopped half of the handshake (in the handler, after `claim_for_signal`).
    ///
    /// # Safety
    /// `uc` is the handler's ucontext, live until this returns.
    pub unsafe fn stopped_here(&self, uc: usize, sp: usize) {
        self.sp.store(sp, Ordering::Relaxed);
        self.stopped_at.store(sys::nanotime(), Ordering::Relaxed);
        suspend::park_stopped(&self.state, &self.uc, uc);
    }
}

/// Set while [`stop_all`] asks the registered threads to stop; an allocating registered
/// thread polls it ([`poll_stop`]).
static STOP_ASKED: AtomicBool = AtomicBool::new(false);

/// Stops every registered thread (mark termination with the world stopped, or
/// [`collect_concurrent`] while the cycle marks; REG_LOCK held). A thread that is gone has
/// its slot freed.
///
/// The request is posted on each thread's handshake word first, without a signal; a thread
/// that allocates meanwhile sees [`STOP_ASKED`] and stops itself ([`poll_stop`]): it claims
/// its request as the signal handler would, spills its callee-saved registers onto its
/// stack and waits to be let go (suspend.rs `park_stopped`). After [`SELF_STOP_WAIT_NS`], whoever has not claimed its
/// request gets the suspend signal; the claim (a CAS from REQUESTED) makes sure exactly one
/// of the two ways stops a thread, and a signal that lands after a self-stop finds no
/// request and is dropped (suspend.rs).
pub fn stop_all() {
    if disabled() {
        return;
    }
    // They may watch for their release while stopped (suspend.rs SPIN_STOPPED) if they and
    // the Ms stopped with them are few enough per CPU: set before any is asked.
    let running = slots()
        .iter()
        .filter(|t| t.tid.load(Ordering::Relaxed) != 0)
        .count();
    suspend::SPIN_STOPPED.store(
        suspend::may_spin_stopped(crate::stw::BUSY_STOPPED.load(Ordering::Relaxed) + running),
        Ordering::Relaxed,
    );
    let mut asked = 0usize;
    for t in slots() {
        let tid = t.tid.load(Ordering::Acquire);
        let (ok, held) = if tid == 0 { (false, false) } else { ask(t) };
        t.stopped.store(ok, Ordering::Relaxed);
        t.held.store(held, Ordering::Relaxed);
        asked += (ok && !held) as usize;
    }
    if asked == 0 {
        return;
    }
    if !suspend::no_self_stop() {
        STOP_ASKED.store(true, Ordering::SeqCst);
        let t0 = sys::nanotime();
        while sys::nanotime() - t0 < suspend::SELF_STOP_WAIT_NS
            && slots().iter().any(|t| {
                t.stopped.load(Ordering::Relaxed)
                    && t.state.load(Ordering::Acquire) == SUSPEND_REQUESTED
            })
        {
            suspend::stopper_pause();
        }
    }
    for t in slots() {
        if t.stopped.load(Ordering::Relaxed)
            && t.state.load(Ordering::Acquire) == SUSPEND_REQUESTED
            && !suspend::signal_stop_word(
                &t.state,
                &t.sig_owed,
                t.tid.load(Ordering::Relaxed) as i32,
            )
        {
            // Gone without unregistering. (Its request is withdrawn: no one claims it.)
            t.stopped.store(false, Ordering::Relaxed);
            t.tid.store(0, Ordering::Release);
        }
    }
    let deadline = sys::nanotime() + STOP_TIMEOUT_NS;
    for t in slots() {
        if t.stopped.load(Ordering::Relaxed)
            && !suspend::wait_stopped_tid(
                &t.state,
                &t.sig_owed,
                t.tid.load(Ordering::Relaxed) as i32,
                deadline,
            )
        {
            crate::throw!(
                "stop the world: registered thread {} did not stop (is SIGURG blocked on it?)",
                t.tid.load(Ordering::Relaxed)
            );
        }
    }
    STOP_ASKED.store(false, Ordering::Relaxed);
}

/// Posts a stop request on `t`: (asked, held). A thread parked in a runtime wait
/// ([`with_parked`]) is taken as it is, stopped at once (held); any other gets the request
/// (REQUESTED), to stop itself or by the signal.
fn ask(t: &RegThread) -> (bool, bool) {
    match suspend::ask_stop_word(&t.state) {
        suspend::Asked::Requested => (true, false),
        suspend::Asked::Held => (true, true),
        // Stopped by no one else (only the collector stops these threads): a state left by
        // a stop that is not over cannot be; count the thread as not stoppable.
        suspend::Asked::Refused => (false, false),
    }
}

/// suspend.rs `with_parked` on a registered thread: runs `f` published as SUSPEND_PARKED on
/// its handshake word, its registers spilled and its sp recorded, so that mark termination
/// takes it as stopped without a signal. False, without running `f`, when the calling
/// thread is not registered with a cache.
pub fn with_parked(f: &mut dyn FnMut(), on_held: Option<&dyn Fn()>) -> bool {
    let Some(t) = current() else { return false };
    arch::call_spilled(&mut |sp, _| {
        // Published before the state says PARKED (park_while's CAS releases it).
        t.sp.store(sp, Ordering::Relaxed);
        suspend::park_while(&t.state, &t.uc, f, on_held);
    });
    true
}

/// This thread's slot: the one whose cache its TLS holds (a slot's cache is its own), if
/// registered with one.
fn current() -> Option<&'static RegThread> {
    let cache = arch::getcache();
    if cache == 0 {
        return None;
    }
    slots()
        .iter()
        .find(|t| t.cache.load(Ordering::Relaxed) == cache && t.tid.load(Ordering::Relaxed) != 0)
}

/// In a registered thread's allocation path: stop here if the collector asks (see
/// [`stop_all`]). One relaxed load when it does not.
#[inline(always)]
pub fn poll_stop() {
    if STOP_ASKED.load(Ordering::Relaxed) {
        stop_self();
    }
}

#[cold]
#[inline(never)]
fn stop_self() {
    let Some(t) = current() else { return };
    // Not asked (a stop that is over, or this thread was not in it): go on.
    if !suspend::claim_word(&t.state) {
        return;
    }
    // Stopped with the caller's callee-saved registers on the stack above `sp` (so no
    // ucontext: the scan of `[sp, stack top)` covers them).
    arch::call_spilled(&mut |sp, _| {
        t.sp.store(sp, Ordering::Relaxed);
        t.stopped_at.store(sys::nanotime(), Ordering::Relaxed);
        suspend::park_stopped(&t.state, &t.uc, 0);
    });
}

/// Calls `f(lo, hi, ucontext)` for every thread `stop_all` stopped.
pub fn for_each_stopped(mut f: impl FnMut(usize, usize, usize, &mcache::Runs)) {
    // Test-only: the thread's registers are left out (see debug.rs).
    let noregs = cfg!(feature = "testhooks") && crate::debug::get().gcnoregthreadregs;
    for t in slots().iter().filter(|t| t.stopped.load(Ordering::Relaxed)) {
        let (sp, uc) = (t.sp.load(Ordering::Relaxed), t.uc.load(Ordering::Relaxed));
        // Stopped by the signal: from below its red zone, and its ucontext. Stopped in
        // grt_call_spilled (uc 0): from the sp it handed over, below the spilled registers.
        let (lo, uc) = match (noregs, uc) {
            (false, _) => (sp.saturating_sub(arch::RED_ZONE), uc),
            (true, 0) => (sp + arch::CALL_SPILLED_BYTES, 0),
            (true, _) => (sp, 0),
        };
        let cache = t.cache.load(Ordering::Relaxed) as *const mcache::Runs;
        // SAFETY: the stopped thread's cache (or none); it cannot change while the thread is
        // stopped.
        let runs = unsafe { cache.as_ref() }.unwrap_or(&mcache::NO_RUNS);
        f(lo, t.stack_hi.load(Ordering::Relaxed), uc, runs);
    }
}

/// While a cycle marks (the world running): stops every registered thread, calls
/// `f(lo, hi, ucontext)` with each one's stack and registers as [`for_each_stopped`] does,
/// and lets them go at once. Returns the longest any was held, in ns (0: none stopped): from
/// its stop (a thread held in a runtime wait: from the request) to its running again.
///
/// Mark termination scans these stacks again whole, so this read only moves work out of the
/// pause: what the threads reach now is marked by the concurrent marking, and mark
/// termination marks only what changed since (in disclaim_bench, the 32,768 objects of an
/// array on the main thread's stack: 600 µs of each mark termination before).
pub fn collect_concurrent(mut f: impl FnMut(usize, usize, usize)) -> u64 {
    // Test-only: with the registers left out (gcnoregthreadregs), the read is left out too.
    // It would mark, while the cycle marks, what the registers' objects were stored in for
    // a moment, and hide the loss gc_regthread_regs_teeth must show at mark termination.
    let noregs = cfg!(feature = "testhooks") && crate::debug::get().gcnoregthreadregs;
    if disabled() || noregs || slots().iter().all(|t| t.tid.load(Ordering::Relaxed) == 0) {
        return 0;
    }
    REG_LOCK.lock();
    let t0 = sys::nanotime();
    stop_all();
    for_each_stopped(|lo, hi, uc, _| f(lo, hi, uc));
    // Released with a wakeup each (the world is not stopped: they sleep on their own
    // words), then waited for until each is running again, so that the next stop finds
    // them as it expects (a request to a thread still resuming would be refused).
    let mut stopped_ns = 0;
    for t in slots() {
        if t.stopped.load(Ordering::Relaxed) {
            if t.held.swap(false, Ordering::Relaxed) {
                // Held in a runtime wait: from the request to now.
                t.stopped.store(false, Ordering::Relaxed);
                stopped_ns = stopped_ns.max(sys::nanotime() - t0);
                suspend::unhold_word(&t.state);
            } else {
                // From its own stop (written before it published STOPPED, which stop_all
                // saw; a stop served in a runtime wait writes none: from the request) to its
                // running again, below.
                let since = t.stopped_at.load(Ordering::Relaxed).max(t0);
                t.stopped_at.store(since, Ordering::Relaxed);
                suspend::release_word(&t.state);
            }
        }
    }
    for t in slots() {
        if t.stopped.swap(false, Ordering::Relaxed) {
            suspend::wait_released_word(&t.state);
            let since = t.stopped_at.load(Ordering::Relaxed);
            stopped_ns = stopped_ns.max(sys::nanotime() - since);
        }
    }
    // stop_all chose whether stopped threads spin for this stop; a later stop by grt_suspend
    // must not inherit it (the world's stop sets it for its own).
    suspend::SPIN_STOPPED.store(false, Ordering::Relaxed);
    REG_LOCK.unlock();
    stopped_ns
}

/// Lets every thread `stop_all` stopped go: just before the world restarts, whose one
/// wakeup wakes them with the Ms (`stw::start_the_world`).
pub fn start_all() {
    for t in slots() {
        if t.stopped.swap(false, Ordering::Relaxed) {
            if t.held.swap(false, Ordering::Relaxed) {
                // Back to its wait, as it was found (it may have woken and wait for this).
                suspend::unhold_word(&t.state);
            } else {
                // Stopped with the world: woken with the Ms (stw::start_the_world).
                suspend::release_quiet_word(&t.state);
            }
        }
    }
}
