//! Stopping the world: every M halted at whatever instruction it was on, for the collector's
//! two short pauses (turning the write barrier on, mark termination).
//!
//! # How
//!
//! grt cannot wait for goroutines to reach a safe point (C code in a tight loop never calls
//! the runtime), so it stops threads as bdwgc does: the suspend signal (suspend.rs) to every
//! M, each of which records its registers in its handler and sleeps there until resumed.
//! The collector runs on a thread of its own (not an M), so it never stops itself.
//!
//! But a signal is slow to land (on a virtual machine a tgkill to a thread running on
//! another CPU takes about 20 µs), and most Ms allocate often. So the requests are posted
//! first without a signal, and [`STW_ASKED`] raised; an M that allocates or starts running a
//! goroutine meanwhile ([`poll_stop`], one relaxed load on the allocation fast path and in
//! `execute`) stops itself: it claims its
//! request as the handler would (the CAS from REQUESTED lets exactly one of the two ways
//! take it), spills its callee-saved registers (`grt_call_spilled`) and records sp and the
//! frame record there as its registers, with no ucontext: the stack from that sp holds all
//! its code's pointers, and the frame chain from that record is walkable, as a parked
//! goroutine's is. After [`SELF_STOP_WAIT_NS`] the rest get the signal; a signal that lands
//! after a self-stop finds no request and is dropped.
//!
//! - [`WORLD_STOPPED`] is set first (SeqCst). An M is on the lock-free list `ALLM` from
//!   `newm`; a thread that starts after the collector read the list checks the flag in
//!   `mstart` (after it can receive the signal) and waits there, before running anything.
//! - An M already stopped by `grt_suspend` counts as stopped (its registers are recorded);
//!   it is left stopped at the restart. `grt_resume` takes SUSPEND_LOCK, which the
//!   collector holds for the whole pause, so it cannot resume an M under the collector.
//!
//! - An M asleep in `stopm` (no P, no goroutine), or in `grt_gc` waiting for the cycle (its
//!   goroutine in a system call, frozen above `syscallsp`), is not signalled: waking it only
//!   to stop it costs two context switches per such thread and pause. It announces its sleep in
//!   `M::stw_idle` ([`idle_enter`], SeqCst); the collector, after setting the flag, takes it
//!   with a CAS `M_IDLE -> M_IDLE_HELD` and counts it as stopped. Waking, the M swaps in
//!   `M_BUSY` ([`idle_exit`]) before it does anything else, and if it was held, waits for the
//!   world to restart. Between the two it only sleeps on a futex: it holds no lock, runs no
//!   goroutine code, and does not touch its allocation cache.
//!
//! # What a stopped thread may hold
//!
//! Anything: a stopped M may be inside the scheduler lock, the allocator's lock, a channel's
//! lock. So while the world is stopped the collector touches only what it locked *before*
//! stopping it (its world lock: the order is in [`crate::mgc`]'s module comment), lock-free
//! lists (all Gs, all Ms) and the stopped threads' stacks.

use core::ptr::null_mut;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};

use grt_arch as arch;

use crate::runtime2::{M, SUSPEND_REQUESTED, SUSPEND_STOPPED};
use crate::{suspend, sys};

/// 1 while the collector has (or is taking) the world stopped; a futex word.
pub static WORLD_STOPPED: AtomicU32 = AtomicU32::new(0);
/// Every M ever made, linked through `M::gclink` (lock-free: grows at the head only).
static ALLM: AtomicPtr<M> = AtomicPtr::new(null_mut());
/// How long an M may take to answer the stop signal before it is a fatal error.
const STOP_TIMEOUT_NS: u64 = 10_000_000_000;

/// Adds a new M to the list (newm, before its thread starts).
pub fn allm_add(m: *mut M) {
    let mut head = ALLM.load(Ordering::Acquire);
    loop {
        // SAFETY: m is new and not yet visible.
        unsafe { (*m).gclink = head };
        match ALLM.compare_exchange_weak(head, m, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return,
            Err(h) => head = h,
        }
    }
}

/// Calls `f` for every M (lock-free; safe with the world stopped).
pub fn for_each_m(mut f: impl FnMut(&mut M)) {
    let mut m = ALLM.load(Ordering::Acquire);
    while !m.is_null() {
        // SAFETY: Ms are never freed; gclink is written before publication. The fields the
        // collector touches are its own (stw_stopped) or read-only while the M is stopped.
        let mr = unsafe { &mut *m };
        f(mr);
        m = mr.gclink;
    }
}

/// In `mstart`, once the thread can take the suspend signal: wait while the world is
/// stopped (this M was not in the list the collector stopped).
pub fn mstart_check() {
    while WORLD_STOPPED.load(Ordering::SeqCst) != 0 {
        let _ = sys::futex_wait_private(&WORLD_STOPPED, 1, None);
    }
}

/// `M::stw_idle`: running (or about to run) code.
pub const M_BUSY: u32 = 0;
/// Asleep in `stopm`, no P, no goroutine.
pub const M_IDLE: u32 = 1;
/// Asleep so, and counted as stopped by the collector.
pub const M_IDLE_HELD: u32 = 2;

/// Before an M sleeps where it holds no lock and will touch no heap memory, its goroutine (if
/// any) frozen above `syscallsp` (`stopm`; a goroutine waiting for a collection in
/// `grt_gc`): the collector may count this M as stopped without signalling it.
#[inline]
pub fn idle_enter(m: &M) {
    m.stw_idle.store(M_IDLE, Ordering::SeqCst);
}

/// Once awake, before anything else: back to running, after waiting for the world to
/// restart if the collector counted this M as stopped.
pub fn idle_exit(m: &M) {
    if m.stw_idle.swap(M_BUSY, Ordering::SeqCst) == M_IDLE_HELD {
        mstart_check();
    }
}

/// Set while [`stop_the_world`] lets the Ms it asked stop themselves ([`poll_stop`]).
static STW_ASKED: AtomicBool = AtomicBool::new(false);

/// Stops every M. The caller holds SUSPEND_LOCK (and the collector's other world locks).
pub fn stop_the_world() {
    WORLD_STOPPED.store(1, Ordering::SeqCst);
    let deadline = sys::nanotime() + STOP_TIMEOUT_NS;
    // Stopped Ms may watch for their release while few share a CPU (suspend.rs
    // SPIN_STOPPED): count the Ms that are not asleep idle.
    let mut busy = 0usize;
    for_each_m(|m| {
        if m.procid.load(Ordering::Relaxed) != 0 && m.stw_idle.load(Ordering::Relaxed) != M_IDLE {
            busy += 1;
        }
    });
    BUSY_STOPPED.store(busy, Ordering::Relaxed);
    suspend::SPIN_STOPPED.store(suspend::may_spin_stopped(busy), Ordering::Relaxed);
    // Ask everyone first, then wait: the threads stop in parallel.
    let mut asked = 0usize;
    for_each_m(|m| {
        m.stw_stopped = false;
        if m.procid.load(Ordering::SeqCst) == 0 {
            return; // not started: it will wait in mstart_check
        }
        if m.stw_idle
            .compare_exchange(M_IDLE, M_IDLE_HELD, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return; // asleep in stopm: held there (idle_exit)
        }
        match suspend::ask_stop_word(&m.suspend_state) {
            suspend::Asked::Requested => {
                m.stw_stopped = true;
                asked += 1;
            }
            // Asleep in a runtime wait (a lock's), its stack top published: stopped as it is.
            suspend::Asked::Held => {
                m.suspend_held.store(true, Ordering::Relaxed);
                m.stw_stopped = true;
            }
            suspend::Asked::Refused => {
                if m.suspend_state.load(Ordering::Acquire) != SUSPEND_STOPPED {
                    crate::throw!(
                        "stop the world: cannot ask M {} (thread {}) to stop",
                        m.id,
                        m.procid.load(Ordering::Relaxed)
                    );
                }
                // Stopped by grt_suspend; stays so.
            }
        }
    });
    let requested =
        |m: &M| m.stw_stopped && m.suspend_state.load(Ordering::Acquire) == SUSPEND_REQUESTED;
    if asked > 0 && !suspend::no_self_stop() {
        STW_ASKED.store(true, Ordering::SeqCst);
        let t0 = sys::nanotime();
        loop {
            let mut left = false;
            for_each_m(|m| left |= requested(m));
            if !left || sys::nanotime() - t0 >= suspend::SELF_STOP_WAIT_NS {
                break;
            }
            suspend::stopper_pause();
        }
    }
    for_each_m(|m| {
        if requested(m)
            && !suspend::signal_stop_word(
                &m.suspend_state,
                &m.suspend_sig_owed,
                m.procid.load(Ordering::Relaxed) as i32,
            )
        {
            crate::throw!(
                "stop the world: cannot signal M {} (thread {})",
                m.id,
                m.procid.load(Ordering::Relaxed)
            );
        }
    });
    STW_ASKED.store(false, Ordering::Relaxed);
    for_each_m(|m| {
        if m.stw_stopped && !suspend::wait_stopped(m, deadline) {
            debug_m(m);
            crate::throw!(
                "stop the world: M {} (thread {}) did not stop (is SIGURG blocked on it?)",
                m.id,
                m.procid.load(Ordering::Relaxed)
            );
        }
    });
}

/// On an M's allocation path and in `execute`: stop here if [`stop_the_world`] asks. One
/// relaxed load when it does not.
#[inline(always)]
pub fn poll_stop(m: &mut M) {
    if STW_ASKED.load(Ordering::Relaxed) {
        stop_self(m);
    }
}

#[cold]
#[inline(never)]
fn stop_self(m: &mut M) {
    // Not asked (the stop is over, or this M was asleep and held): go on.
    if !suspend::claim_word(&m.suspend_state) {
        return;
    }
    arch::call_spilled(&mut |sp, fp| {
        // Read by the suspender only after it sees STOPPED (park_stopped publishes it).
        m.suspend_regs = suspend::spilled_regs(sp, fp);
        suspend::park_stopped(&m.suspend_state, &m.suspend_uc, 0);
    });
}

/// Is `m` stopped right now (by the collector or by grt_suspend)? Only with the world stopped.
pub fn is_stopped(m: &M) -> bool {
    m.suspend_state.load(Ordering::Acquire) == SUSPEND_STOPPED
}

/// Resumes the Ms [`stop_the_world`] stopped and lets waiting new Ms go. Does not wait for
/// them to run: their handlers finish the handshake in parallel, and the next request to
/// stop one waits for its own ([`suspend::ask_stop_word`]).
pub fn start_the_world() {
    for_each_m(|m| {
        if m.stw_stopped {
            m.stw_stopped = false;
            suspend::release_m_quiet(m);
        }
        // Held asleep: asleep again. (If it woke meanwhile, it swapped in M_BUSY and waits
        // for the flag below.)
        let _ =
            m.stw_idle
                .compare_exchange(M_IDLE_HELD, M_IDLE, Ordering::SeqCst, Ordering::SeqCst);
    });
    WORLD_STOPPED.store(0, Ordering::SeqCst);
    // Every thread stopped with the world (registered threads too, let go before this), with
    // one wakeup.
    suspend::release_world();
    sys::futex_wake_private(&WORLD_STOPPED, sys::FUTEX_WAKE_ALL);
    suspend::SPIN_STOPPED.store(false, Ordering::Relaxed);
}

/// The Ms the last [`stop_the_world`] found busy (for registered threads stopped with them:
/// regthreads.rs).
pub static BUSY_STOPPED: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// What a thread that did not stop was doing (for the fatal error).
fn debug_m(m: &M) {
    // SAFETY: null or a G (never freed).
    let curg = unsafe { m.curg.load(Ordering::Relaxed).as_ref() };
    crate::printerr!(
        "M {}: suspend state {}, in grt_cgocall {}, in the SIGPROF handler {}, goroutine {} ({})\n",
        m.id,
        m.suspend_state.load(Ordering::Relaxed),
        m.incgo.load(Ordering::Relaxed),
        m.in_sigprof.load(Ordering::Relaxed),
        curg.map_or(0, |g| g.goid()),
        curg.map_or("none", |g| crate::runtime2::status_name(g.status())),
    );
    // "/proc/self/task/<tid>/status\0", by hand (no allocation, no formatting buffer type).
    let mut path = [0u8; 64];
    let prefix = b"/proc/self/task/";
    path[..prefix.len()].copy_from_slice(prefix);
    let mut n = prefix.len();
    let mut digits = [0u8; 10];
    let mut tid = m.procid.load(Ordering::Relaxed);
    let mut d = 0;
    loop {
        digits[d] = b'0' + (tid % 10) as u8;
        d += 1;
        tid /= 10;
        if tid == 0 {
            break;
        }
    }
    while d > 0 {
        d -= 1;
        path[n] = digits[d];
        n += 1;
    }
    let suffix = b"/status\0";
    path[n..n + suffix.len()].copy_from_slice(suffix);
    if let Ok(fd) = sys::open_readonly(&path[..n + suffix.len()]) {
        let mut buf = [0u8; 2048];
        if let Ok(n) = sys::read(fd, &mut buf) {
            for line in buf[..n].split(|&c| c == b'\n') {
                if line.starts_with(b"State")
                    || line.starts_with(b"Sig")
                    || line.starts_with(b"Shd")
                {
                    let _ = sys::write_fully(2, line);
                    let _ = sys::write_fully(2, b"\n");
                }
            }
        }
        sys::close(fd);
    }
}
