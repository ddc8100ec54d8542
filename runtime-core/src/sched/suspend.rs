//! Stopping a goroutine from outside: what the collector's stack scan and stop-the-world
//! need, and what `grt_suspend` / `grt_resume` / `grt_traceback` offer C.
//!
//! # Protocol
//!
//! The suspender first takes the goroutine's stack by setting the scan bit with a CAS on its
//! status (`castogscanstatus`). That alone stops a goroutine that is runnable, waiting or in
//! a syscall: it cannot be scheduled, woken into running, or return from its syscall into
//! goroutine code until the bit is cleared (every transition waits in `casgstatus`). A
//! goroutine in GSYSCALL keeps its M running C code below `syscallsp`; its stack above that
//! point is frozen, which is all a scan needs.
//!
//! A running goroutine (GRUNNING | GSCAN) is still executing, so its M is stopped the way
//! bdwgc stops C threads: the suspender sets the M's `suspend_state` to REQUESTED and sends
//! SIGURG to the M's thread (tgkill). The handler, on the M's alternate signal stack, records
//! the interrupted pc/sp/fp/lr, publishes STOPPED, and waits until the state becomes
//! RESUMING; then it stores IDLE and returns. The resumer waits for IDLE before
//! clearing the scan bit, so the next suspension of that M starts from a clean state.
//!
//! The handler blocks, by design: the wait *is* the suspension. It is a futex sleep per
//! wakeup (on its own word, or stopped with the world on the word each restart moves),
//! after, while the world is stopped with few threads per CPU, a watch of at most
//! [`STOPPED_SPIN_NS`] that yields the CPU at each step ([`SPIN_STOPPED`]); it touches only
//! its own M, allocates nothing and takes no lock. It
//! claims only SIGURG sent by this process with tgkill while its M has a request pending;
//! any other SIGURG goes to the program's own handler.
//!
//! While a goroutine is GRUNNING, its M may be on g0 between switches (about to run it, or
//! just parked it). Then the interrupted sp is not on the goroutine's stack and the
//! goroutine's own saved context (`g.sched`) is the truth: that is what is reported.

use core::ffi::c_void;
use core::sync::atomic::Ordering;

use grt_arch as arch;

use crate::errors::{report, GRT_EINVAL, GRT_ETIMEDOUT};
use crate::lock::Lock;
use crate::proc;
use crate::runtime2::*;
use crate::{signals, stkbar, sys, traceback};

/// The suspend signal (Go uses it for preemption too; ignored by default).
pub const SIGURG: i32 = 23;
/// si_code of a signal sent by tkill/tgkill.
const SI_TKILL: i32 = -6;
/// Offset of si_pid in siginfo (kill-style signals), both architectures.
const SIGINFO_PID_OFF: usize = 16;
/// How long a suspender waits for an M to answer the signal, or for another owner of the
/// goroutine's stack to let go.
const SUSPEND_TIMEOUT_NS: u64 = 5_000_000_000;

/// One stop handshake at a time; the collector holds it while the world is stopped.
pub(crate) static SUSPEND_LOCK: Lock = Lock::new();

/// What C's `grt_gregs` holds.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct GRegs {
    pub pc: usize,
    pub sp: usize,
    pub fp: usize,
    pub lr: usize,
    pub state: i32,
    pub on_signal: i32,
}

pub fn install() -> sys::Result<()> {
    signals::install(SIGURG, suspend_handler)
}

unsafe extern "C" fn suspend_handler(sig: i32, info: *mut c_void, uc: *mut c_void) {
    let m = proc::getm();
    // SAFETY: info is the kernel's siginfo for this signal.
    let (code, pid) = unsafe {
        let b = info as *const u8;
        (
            *(b.add(arch::SIGINFO_CODE_OFF) as *const i32),
            *(b.add(SIGINFO_PID_OFF) as *const i32),
        )
    };
    let from_us = code == SI_TKILL && pid == sys::getpid();
    if m.is_null() {
        // A thread that is not an M: a registered thread the collector stops (regthreads.rs).
        match crate::regthreads::claim_for_signal(from_us) {
            crate::regthreads::Claim::Claimed(t) => {
                // SAFETY: uc is this handler's ucontext, on its stack until we return.
                unsafe { t.stopped_here(uc as usize, arch::uc_sp(uc)) };
                return;
            }
            // The signal of a request the thread served by stopping itself: not the
            // program's (it may be counted as stopped right now).
            crate::regthreads::Claim::Owed => return,
            crate::regthreads::Claim::Not => {}
        }
    }
    let tkill = !m.is_null() && from_us;
    // A preemption request (preempt.rs) rides on the same signal; two sent close together
    // arrive as one, so both requests are looked at.
    // SAFETY: the TLS m slot is null or this thread's own M.
    let preempt = tkill && unsafe { (*m).preempt_req.swap(0, Ordering::AcqRel) } != 0;
    // Whether a stop request's signal was owed to this M: to be claimed now, or the late
    // signal of a request it served by stopping itself (stw.rs), which must not reach the
    // program's handler (the M may be counted as stopped right now). One delivery may stand
    // for both a stop and a preemption: the flag is taken either way. Taken before the
    // claim, as on a registered thread: a resend's flag, set after the claim, stays for the
    // resent signal.
    // SAFETY: as above.
    let owed = tkill && unsafe { (*m).suspend_sig_owed.swap(false, Ordering::AcqRel) };
    // SAFETY: as above.
    let ours = tkill && unsafe { (*m).suspend_state.load(Ordering::Acquire) } == SUSPEND_REQUESTED;
    // Take the request: a suspender that gave up (timed out) has put IDLE back, and then
    // this late signal must not stop the thread.
    // SAFETY: as above.
    let ours = ours && claim_word(unsafe { &(*m).suspend_state });
    if !ours && preempt {
        // SAFETY: this thread's M; the handler's own arguments.
        unsafe { crate::preempt::try_preempt(&*m, info, uc) };
        return;
    }
    if !ours && owed {
        return;
    }
    if !ours {
        // Not a suspension. A SIGURG whose previous action is the default (ignore) or
        // ignore is dropped here: `forward` would re-arm SIG_DFL and so uninstall us.
        let prev = signals::prev_action(sig).handler;
        if prev != signals::SIG_DFL && prev != signals::SIG_IGN {
            // SAFETY: our handler's own arguments.
            unsafe { signals::forward(sig, info, uc) };
        }
        return;
    }
    // SAFETY: uc is the handler's ucontext; m is this thread's M, and suspend_regs is read by
    // the suspender only after it sees STOPPED (release/acquire).
    unsafe {
        let regs = SigRegs {
            pc: arch::uc_pc(uc),
            sp: arch::uc_sp(uc),
            fp: arch::uc_fp(uc),
            lr: arch::uc_lr(uc).unwrap_or(0),
        };
        core::ptr::addr_of_mut!((*m).suspend_regs).write(regs);
        park_stopped(&(*m).suspend_state, &(*m).suspend_uc, uc as usize);
        if preempt {
            // After the suspension: the goroutine's state is looked at afresh.
            crate::preempt::try_preempt(&*m, info, uc);
        }
    }
}

fn c_state(s: u32) -> i32 {
    match s & !GSCAN {
        GRUNNABLE => 1,
        GRUNNING => 2,
        GSYSCALL => 3,
        GWAITING => 4,
        _ => 0,
    }
}

/// The saved context of a goroutine that is not on a CPU.
fn parked_regs(g: &G) -> GRegs {
    let fp = arch::parked_frame_pointer(g.sched.sp);
    let pc = traceback::step(fp, g.stack.lo, g.stack.hi).map_or(0, |r| r.ret);
    GRegs {
        pc,
        sp: g.sched.sp,
        fp,
        lr: 0,
        state: 0,
        on_signal: 0,
    }
}

fn syscall_regs(g: &G) -> GRegs {
    GRegs {
        pc: g.syscallpc,
        sp: g.syscallsp,
        fp: g.syscallbp,
        lr: 0,
        state: 0,
        on_signal: 0,
    }
}

/// The stopped half of the handshake, in the suspend handler of a claimed request (or a
/// self-stop: stw.rs, regthreads.rs, with `uc` 0): publish the ucontext (the collector scans
/// every register of a stopped thread from it; it stays put on the handler's stack until the
/// thread is resumed), say STOPPED, sleep until the resumer says so (one futex sleep per
/// wakeup: on `st`, or, stopped with the world, on the word each restart moves, so that one
/// wakeup lets every such thread go: [`release_world`]), then say IDLE.
pub(crate) fn park_stopped(
    st: &core::sync::atomic::AtomicU32,
    uc_slot: &core::sync::atomic::AtomicUsize,
    uc: usize,
) {
    uc_slot.store(uc, Ordering::Relaxed);
    // Publish the registers: the suspender reads them after it sees STOPPED.
    st.store(SUSPEND_STOPPED, Ordering::Release);
    sys::futex_wake_private(st, sys::FUTEX_WAKE_ALL);
    if SPIN_STOPPED.load(Ordering::Relaxed) {
        // Bounded by the clock (this may be a signal handler).
        let t0 = sys::nanotime();
        while st.load(Ordering::Acquire) == SUSPEND_STOPPED {
            // A yield, not a pause: the collector may be waiting for this very CPU.
            sys::sched_yield();
            if sys::nanotime() - t0 >= STOPPED_SPIN_NS {
                break;
            }
        }
    }
    loop {
        // Read before the state: a restart after this read moves the epoch.
        let epoch = WORLD_RELEASE.load(Ordering::Acquire);
        let world = crate::stw::WORLD_STOPPED.load(Ordering::SeqCst) != 0;
        if st.load(Ordering::Acquire) != SUSPEND_STOPPED {
            break;
        }
        if world {
            // Stopped with the world: the restart wakes every such thread with one wakeup
            // (release_world).
            let _ = sys::futex_wait_private(&WORLD_RELEASE, epoch, None);
        } else {
            let _ = sys::futex_wait_private(st, SUSPEND_STOPPED, None);
        }
    }
    uc_slot.store(0, Ordering::Relaxed);
    st.store(SUSPEND_IDLE, Ordering::Release);
    sys::futex_wake_private(st, sys::FUTEX_WAKE_ALL);
}

/// What [`ask_stop_word`] did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Asked {
    /// The request is posted (REQUESTED): the thread is to stop itself or be signalled.
    Requested,
    /// The thread was asleep in a runtime wait, published as SUSPEND_PARKED ([`park_while`]),
    /// and is now counted as stopped (STOPPED) without having run: let it go with
    /// [`unhold_word`], not [`release_word`].
    Held,
    /// Stopped by someone else right now (an M, by grt_suspend).
    Refused,
}

/// Asks the thread whose handshake word is `st` to stop, first half: posts the request
/// without signalling ([`signal_stop_word`] is the second half) (a thread that polls for it may stop itself: stw.rs, regthreads.rs), or takes
/// a thread parked in a runtime wait as it is.
pub(crate) fn ask_stop_word(st: &core::sync::atomic::AtomicU32) -> Asked {
    loop {
        // A release without its wait (the world's restart) may still be finishing.
        wait_released_word(st);
        // A previous resume of this thread is over (resume waits for IDLE), so this CAS
        // succeeds unless the thread is stopped or parked right now.
        match st.compare_exchange(
            SUSPEND_IDLE,
            SUSPEND_REQUESTED,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return Asked::Requested,
            Err(SUSPEND_PARKED) => {
                if st
                    .compare_exchange(
                        SUSPEND_PARKED,
                        SUSPEND_STOPPED,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    )
                    .is_ok()
                {
                    return Asked::Held;
                }
                // It woke just now: ask again.
            }
            Err(_) => return Asked::Refused,
        }
    }
}

/// Lets a thread taken by [`ask_stop_word`] as [`Asked::Held`] go: back to PARKED, its wait
/// (which may be over: then it is waiting for this) going on.
pub(crate) fn unhold_word(st: &core::sync::atomic::AtomicU32) {
    st.store(SUSPEND_PARKED, Ordering::Release);
    sys::futex_wake_private(st, sys::FUTEX_WAKE_ALL);
}

/// The thread's side of a runtime wait that counts as stopped: runs `f` (a futex sleep, or a
/// system call that may leave the thread descheduled) published as SUSPEND_PARKED on its
/// handshake word `st`. The caller has published where the thread's stack and registers are
/// (its callee-saved registers spilled above that sp: `grt_call_spilled`), so that a
/// stopper can take the thread as stopped without waking it ([`ask_stop_word`]). A request
/// posted before the thread parks is served first, by stopping here. Afterwards, if a
/// stopper holds the thread now, waits until it lets go ([`unhold_word`]). `f` must not
/// touch anything a stopper reads of the thread (its stack above the published sp, its
/// allocation cache); it may hold runtime locks, as a thread stopped by the signal may.
///
/// `on_held` runs once if the thread finds itself held when `f` is over: a futex sleep that
/// a wakeup ended while the thread was held took that wakeup from the other waiters, and
/// passes it on (a lock's next waiter would sleep on a free lock until this thread is let
/// go, for as long as grt_suspend holds it).
pub(crate) fn park_while(
    st: &core::sync::atomic::AtomicU32,
    uc_slot: &core::sync::atomic::AtomicUsize,
    f: &mut dyn FnMut(),
    on_held: Option<&dyn Fn()>,
) {
    loop {
        match st.compare_exchange(
            SUSPEND_IDLE,
            SUSPEND_PARKED,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => break,
            // Asked to stop before it slept: stop now (registers spilled already), then try
            // again once let go.
            Err(SUSPEND_REQUESTED) => {
                if claim_word(st) {
                    park_stopped(st, uc_slot, 0);
                }
            }
            // Let go of a stop, its handshake finishing (RESUMING): wait for IDLE.
            Err(SUSPEND_RESUMING) => wait_released_word(st),
            // Only this thread parks itself or claims its requests, and not from a handler.
            Err(s) => crate::throw!("park: unexpected suspend state {} before a wait", s),
        }
    }
    f();
    let mut passed = false;
    loop {
        match st.compare_exchange(
            SUSPEND_PARKED,
            SUSPEND_IDLE,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return,
            Err(SUSPEND_STOPPED) => {
                if !passed {
                    passed = true;
                    if let Some(h) = on_held {
                        h();
                    }
                }
                let _ = sys::futex_wait_private(st, SUSPEND_STOPPED, None);
            }
            // A held thread goes back to PARKED only (unhold_word).
            Err(s) => crate::throw!("park: unexpected suspend state {} after a wait", s),
        }
    }
}

/// Runs `f` (a runtime lock's sleep, a wait for the collector, a wakeup of it) on an M or a
/// registered thread as a wait that counts as stopped ([`park_while`]): the thread's
/// callee-saved registers are spilled (`grt_call_spilled`) and its stack top published
/// first, so stopping the world, or stopping a running goroutine to scan it, takes the
/// thread without a signal. (A thread asleep, or descheduled in a system call, answers a
/// signal only once it runs again: 20 µs and more.) False, without running `f`, on any
/// other thread (grt's own, an unregistered one): the caller runs `f` itself.
pub fn with_parked(f: &mut dyn FnMut(), on_held: Option<&dyn Fn()>) -> bool {
    // SAFETY: the TLS m slot is null or this thread's own M.
    let Some(m) = (unsafe { proc::getm().as_mut() }) else {
        return crate::regthreads::with_parked(f, on_held);
    };
    arch::call_spilled(&mut |sp, fp| {
        // Read by a stopper only once it holds the M (the CAS from PARKED acquires what
        // park_while's CAS to PARKED released).
        m.suspend_regs = spilled_regs(sp, fp);
        park_while(&m.suspend_state, &m.suspend_uc, f, on_held);
    });
    true
}

/// An M's registers when it stops in `arch::call_spilled` (a self-stop, a parked wait): sp
/// and the frame record there, pc that record's return address, no ucontext (the callee-saved
/// registers lie above sp). Its stack is then walked and scanned as a parked goroutine's.
pub(crate) fn spilled_regs(sp: usize, fp: usize) -> SigRegs {
    SigRegs {
        // SAFETY: fp is grt_call_spilled's frame record, live during the call.
        pc: unsafe { arch::read_frame_record(fp) }.ret,
        sp,
        fp,
        lr: 0,
    }
}

/// Set by stopping the world ([`may_spin_stopped`]): a stopped thread then watches for its
/// release for up to [`STOPPED_SPIN_NS`] before it sleeps, so that restarting it is a store,
/// not a futex wakeup, which on a virtual machine took 10 µs and more of every pause (and
/// the thread longer to run). It watches with `sched_yield`, not a pause instruction: the
/// kernel may have queued the collector on the same CPU, and then the collector, which is
/// what the thread waits for, runs at once.
pub(crate) static SPIN_STOPPED: core::sync::atomic::AtomicBool =
    core::sync::atomic::AtomicBool::new(false);

/// Whether `threads` stopped threads may spin ([`SPIN_STOPPED`]): while there are no more
/// than two per CPU. Each spinner yields its CPU whenever something else there can run, so
/// spinning costs the collector little; past that, the wakeup is the cheaper wait.
/// Measured with two busy Ms on two CPUs (the collector a third thread), 1,000 goroutines:
/// sleeping, the restart took 30–45 µs of each mark termination (the kernel ran each thread
/// it woke before the collector could go on); yielding, under 1 µs.
pub(crate) fn may_spin_stopped(threads: usize) -> bool {
    threads <= 2 * crate::proc::ncpu()
}

/// One step of a stopper's wait for threads to stop: a `sched_yield`. A thread that has not
/// answered yet is often one the kernel queued behind the stopper on its own CPU (three
/// threads on two CPUs: the collector and two busy Ms); spinning with a pause instruction,
/// the stopper kept it off that CPU for the whole wait (20 µs and more), even with the other
/// CPU idle. When nothing else can run there, the yield returns at once.
#[inline]
pub(crate) fn stopper_pause() {
    sys::sched_yield();
}

/// How long a stopped thread watches for its release before it sleeps, in ns: more than a
/// mark termination takes with a few hundred goroutines.
const STOPPED_SPIN_NS: u64 = 100_000;

/// How long a stopper lets the threads it asked stop themselves (where they poll: an
/// allocation, an M's switch to a goroutine) before it signals the rest, in ns (stw.rs,
/// regthreads.rs). A thread that allocates polls every few tens of ns; a signal costs its
/// sender a system call and its target an interrupt, and takes 20 µs and more to land on a virtual machine (measured: a tgkill to a
/// spinning thread on another CPU, median 21 µs here). A busy thread the kernel has queued
/// behind another gets its CPU within the wait (the stopper yields) and stops itself within
/// about 10 µs; with a 5 µs wait, most such threads were signalled anyway, and the stop
/// took 30–40 µs more.
pub(crate) const SELF_STOP_WAIT_NS: u64 = 15_000;

/// Test-only build, `GRTDEBUG=gcnoselfstop=1`: every M and registered thread is stopped by
/// the signal (to compare, and so that tests cover both ways).
pub(crate) fn no_self_stop() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().gcnoselfstop
}

/// One `futex_wait(word, val)` through [`with_parked`] (or plainly on other threads). Held
/// when it ends, the thread passes one wakeup of `word` on (see [`park_while`]); its waiters
/// all take a wakeup as a hint and look again.
pub fn futex_wait_parked(word: &core::sync::atomic::AtomicU32, val: u32) {
    let mut wait = || {
        let _ = sys::futex_wait_private(word, val, None);
    };
    let pass = || sys::futex_wake_private(word, 1);
    if !with_parked(&mut wait, Some(&pass)) {
        wait();
    }
}

/// The second half: sends the suspend signal for the request posted on `st`, first saying
/// in `owed` that a signal of ours is on its way (the thread may serve the request by
/// stopping itself before it lands: the handler then drops it instead of handing it to the
/// program's SIGURG handler). False if the thread is gone (the request is withdrawn).
pub(crate) fn signal_stop_word(
    st: &core::sync::atomic::AtomicU32,
    owed: &core::sync::atomic::AtomicBool,
    tid: i32,
) -> bool {
    owed.store(true, Ordering::Release);
    if sys::tgkill(sys::getpid(), tid, SIGURG).is_err() {
        // Gone: no one can claim the request any more.
        owed.store(false, Ordering::Relaxed);
        st.store(SUSPEND_IDLE, Ordering::Release);
        return false;
    }
    true
}

/// Waits until `m` (asked by [`ask_stop_word`] and [`signal_stop_word`]) is stopped. False if it did not answer by
/// `deadline` (the request is then withdrawn).
pub(crate) fn wait_stopped(m: &M, deadline: u64) -> bool {
    wait_stopped_tid(
        &m.suspend_state,
        &m.suspend_sig_owed,
        m.procid.load(Ordering::Acquire) as i32,
        deadline,
    )
}

/// [`wait_stopped`] for thread `tid` with handshake word `st` (and its `owed` flag: see
/// [`signal_stop_word`]).
pub(crate) fn wait_stopped_tid(
    st: &core::sync::atomic::AtomicU32,
    owed: &core::sync::atomic::AtomicBool,
    tid: i32,
    deadline: u64,
) -> bool {
    /// How long to wait for an answer before sending the signal again, in ns.
    const RESEND_NS: u64 = 20_000_000;
    /// How long to watch for the answer before sleeping on it, in ns: a running thread's
    /// handler answers within a few microseconds, and a futex sleep and wakeup costs more.
    /// The watch yields ([`stopper_pause`]), so a thread queued on this CPU gets to answer.
    /// It watches a claimed request too: the thread is between its claim and its STOPPED, a
    /// few hundred ns when it runs; asleep on that, the stopper was woken 30–40 µs after the
    /// thread said STOPPED (in 1 of 20 stops of the pause benchmark).
    const SPIN_NS: u64 = 20_000;
    let t0 = sys::nanotime();
    while matches!(
        st.load(Ordering::Acquire),
        SUSPEND_REQUESTED | SUSPEND_CLAIMED
    ) && sys::nanotime() - t0 < SPIN_NS
    {
        stopper_pause();
    }
    let mut resend_at = t0 + RESEND_NS;
    loop {
        match st.load(Ordering::Acquire) {
            SUSPEND_STOPPED => return true,
            SUSPEND_CLAIMED => {
                let _ = sys::futex_wait_private(st, SUSPEND_CLAIMED, Some(1_000_000));
            }
            SUSPEND_REQUESTED => {
                let now = sys::nanotime();
                if now >= deadline {
                    // The thread never answered (SIGURG blocked?). Withdraw the request,
                    // unless the handler took it just now.
                    if st
                        .compare_exchange(
                            SUSPEND_REQUESTED,
                            SUSPEND_IDLE,
                            Ordering::AcqRel,
                            Ordering::Acquire,
                        )
                        .is_ok()
                    {
                        return false;
                    }
                    continue;
                }
                if now >= resend_at {
                    // Still not taken: send again. qemu-user has been seen to lose one (1 in
                    // thousands of stops); a duplicate finds no request and is dropped.
                    owed.store(true, Ordering::Release);
                    let _ = sys::tgkill(sys::getpid(), tid, SIGURG);
                    resend_at = now + RESEND_NS;
                }
                let _ = sys::futex_wait_private(
                    st,
                    SUSPEND_REQUESTED,
                    Some((deadline - now).min(RESEND_NS)),
                );
            }
            s => crate::throw!("suspend: thread {} in unexpected suspend state {}", tid, s),
        }
    }
}

/// Lets a stopped `m` go, and waits until its handler is done with the handshake.
pub(crate) fn resume_m(m: &M) {
    // (A held M has no handshake to finish: it goes back to its wait.)
    let held = m.suspend_held.load(Ordering::Relaxed);
    release_m(m);
    if !held {
        wait_released(m);
    }
}

/// Lets a stopped `m` go without waiting: its handler finishes the handshake on its own
/// ([`wait_released`] waits for that; [`ask_stop_word`] does before asking again). An M held
/// asleep in a runtime wait ([`Asked::Held`]) goes back to it.
pub(crate) fn release_m(m: &M) {
    if m.suspend_held.swap(false, Ordering::Relaxed) {
        unhold_word(&m.suspend_state);
    } else {
        release_word(&m.suspend_state);
    }
}

/// The handler's claim of a stop request on a handshake word (an M's or a registered
/// thread's): REQUESTED -> CLAIMED; false if the suspender gave up meanwhile.
pub(crate) fn claim_word(st: &core::sync::atomic::AtomicU32) -> bool {
    st.compare_exchange(
        SUSPEND_REQUESTED,
        SUSPEND_CLAIMED,
        Ordering::AcqRel,
        Ordering::Acquire,
    )
    .is_ok()
}

/// Lets the thread stopped through handshake word `st` go, without waiting.
pub(crate) fn release_word(st: &core::sync::atomic::AtomicU32) {
    st.store(SUSPEND_RESUMING, Ordering::Release);
    sys::futex_wake_private(st, sys::FUTEX_WAKE_ALL);
}

/// Moved by each restart of the world; a futex word. A thread stopped while the world is
/// stopped sleeps on it rather than on its own handshake word, so that the restart wakes all
/// of them with one system call: woken one by one, the first thread woken may preempt the
/// collector (a woken thread often runs at once on the waker's CPU) and leave the others
/// asleep until it gets the CPU back.
static WORLD_RELEASE: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

/// [`release_m`] for an M stopped with the world, whose wakeup is [`release_world`]'s.
pub(crate) fn release_m_quiet(m: &M) {
    if m.suspend_held.swap(false, Ordering::Relaxed) {
        unhold_word(&m.suspend_state);
    } else {
        release_quiet_word(&m.suspend_state);
    }
}

/// [`release_word`] for a thread stopped with the world, whose wakeup is
/// [`release_world`]'s (it sleeps on that word, or spins on its own: [`park_stopped`]).
pub(crate) fn release_quiet_word(st: &core::sync::atomic::AtomicU32) {
    st.store(SUSPEND_RESUMING, Ordering::Release);
}

/// After every thread stopped with the world is released quietly ([`release_m_quiet`],
/// [`release_quiet_word`]) and the world flag is cleared: wakes them all.
pub(crate) fn release_world() {
    WORLD_RELEASE.fetch_add(1, Ordering::Release);
    sys::futex_wake_private(&WORLD_RELEASE, sys::FUTEX_WAKE_ALL);
}

/// Waits until a released `m`'s handler is done with the handshake. Bounded by the
/// handler's next wakeup: it stores IDLE right after.
pub(crate) fn wait_released(m: &M) {
    wait_released_word(&m.suspend_state);
}

/// [`wait_released`] for handshake word `st`.
pub(crate) fn wait_released_word(st: &core::sync::atomic::AtomicU32) {
    while st.load(Ordering::Acquire) == SUSPEND_RESUMING {
        let _ = sys::futex_wait_private(st, SUSPEND_RESUMING, Some(1_000_000));
    }
}

/// Stops `m` and returns its registers. SUSPEND_LOCK held.
pub(crate) fn stop_m(m: &M) -> Result<SigRegs, ()> {
    match ask_stop_word(&m.suspend_state) {
        Asked::Refused => return Err(()),
        Asked::Held => {
            m.suspend_held.store(true, Ordering::Relaxed);
            return Ok(m.suspend_regs);
        }
        Asked::Requested => {}
    }
    if !signal_stop_word(
        &m.suspend_state,
        &m.suspend_sig_owed,
        m.procid.load(Ordering::Acquire) as i32,
    ) {
        return Err(());
    }
    if !wait_stopped(m, sys::nanotime() + SUSPEND_TIMEOUT_NS) {
        return Err(());
    }
    Ok(m.suspend_regs)
}

/// Stops the M running `g` (whose scan bit we hold) and reads where it is.
fn stop_running(g: &G) -> Result<GRegs, ()> {
    let mp = g.m.load(Ordering::Acquire);
    // SAFETY: a GRUNNING G has its M set, and the scan bit keeps it there; Ms are never freed.
    let m = unsafe { &*mp };
    let r = stop_m(m)?;
    if r.sp >= g.stack.lo && r.sp < g.stack.hi {
        // Held asleep in a runtime wait (no ucontext): sp and fp are a frame record's, pc its
        // return address, to walk as a parked context; else where the signal caught it.
        let on_signal = (m.suspend_uc.load(Ordering::Acquire) != 0) as i32;
        Ok(GRegs {
            pc: r.pc,
            sp: r.sp,
            fp: r.fp,
            lr: r.lr,
            state: 0,
            on_signal,
        })
    } else {
        Ok(parked_regs(g))
    }
}

/// `grt_suspend`.
pub fn suspend(goid: u64) -> Result<GRegs, i32> {
    const F: &str = "grt_suspend";
    let me = proc::getg();
    // SAFETY: null or a live G.
    if let Some(me) = unsafe { me.as_ref() } {
        if me.kind == GKind::User && me.goid() == goid {
            return Err(report(
                GRT_EINVAL,
                F,
                format_args!("a goroutine cannot suspend itself"),
            ));
        }
    }
    let Some(g) = proc::findg(goid) else {
        return Err(report(GRT_EINVAL, F, format_args!("no goroutine {}", goid)));
    };
    let deadline = sys::nanotime() + SUSPEND_TIMEOUT_NS;
    loop {
        let s = g.status();
        match s {
            GRUNNABLE | GWAITING | GSYSCALL => {
                if !castogscanstatus(g, s) {
                    continue;
                }
                if g.goid() != goid {
                    // The G died and was reused between the lookup and the CAS.
                    casfrom_gscanstatus(g, s | GSCAN, s);
                    return Err(report(GRT_EINVAL, F, format_args!("no goroutine {}", goid)));
                }
                g.suspended.store(SUSPENDED_YES, Ordering::Release);
                let mut r = if s == GSYSCALL {
                    syscall_regs(g)
                } else {
                    parked_regs(g)
                };
                r.state = c_state(s);
                return Ok(r);
            }
            GRUNNING => {
                if !castogscanstatus(g, GRUNNING) {
                    continue;
                }
                if g.goid() != goid {
                    casfrom_gscanstatus(g, GRUNNING | GSCAN, GRUNNING);
                    return Err(report(GRT_EINVAL, F, format_args!("no goroutine {}", goid)));
                }
                if g.m.load(Ordering::Acquire) == proc::getm() {
                    casfrom_gscanstatus(g, GRUNNING | GSCAN, GRUNNING);
                    return Err(report(
                        GRT_EINVAL,
                        F,
                        format_args!("goroutine {} runs on the calling thread", goid),
                    ));
                }
                // One handshake at a time: two goroutines stopping each other's Ms at once
                // would leave both stopped, with nobody to resume them.
                SUSPEND_LOCK.lock();
                let r = stop_running(g);
                SUSPEND_LOCK.unlock();
                match r {
                    Ok(mut r) => {
                        g.suspended.store(SUSPENDED_YES, Ordering::Release);
                        r.state = c_state(GRUNNING);
                        return Ok(r);
                    }
                    Err(()) => {
                        casfrom_gscanstatus(g, GRUNNING | GSCAN, GRUNNING);
                        return Err(report(
                            GRT_ETIMEDOUT,
                            F,
                            format_args!(
                                "the thread running goroutine {} did not stop (is SIGURG blocked there?)",
                                goid
                            ),
                        ));
                    }
                }
            }
            s if s & !GSCAN == GDEAD || s == GIDLE => {
                return Err(report(GRT_EINVAL, F, format_args!("no goroutine {}", goid)))
            }
            _ => {
                // Someone else owns the stack (another suspender; the collector).
                if sys::nanotime() > deadline {
                    return Err(report(
                        GRT_ETIMEDOUT,
                        F,
                        format_args!("goroutine {} stayed owned by another suspender", goid),
                    ));
                }
                sys::sched_yield();
            }
        }
    }
}

/// `grt_resume`.
pub fn resume(goid: u64) -> Result<(), i32> {
    const F: &str = "grt_resume";
    let Some(g) = proc::findg(goid) else {
        return Err(report(GRT_EINVAL, F, format_args!("no goroutine {}", goid)));
    };
    let s = g.status();
    let held = if s & GSCAN != 0 {
        g.suspended.swap(SUSPENDED_NONE, Ordering::AcqRel)
    } else {
        SUSPENDED_NONE
    };
    if held == SUSPENDED_NONE {
        return Err(report(
            GRT_EINVAL,
            F,
            format_args!("goroutine {} is not suspended by grt_suspend", goid),
        ));
    }
    if s == GRUNNING | GSCAN {
        // SAFETY: as in stop_running: the M is fixed while we hold the scan bit.
        let m = unsafe { &*g.m.load(Ordering::Acquire) };
        // Not while the collector has the world stopped (it counts this M as stopped).
        SUSPEND_LOCK.lock();
        resume_m(m);
        SUSPEND_LOCK.unlock();
    }
    casfrom_gscanstatus(g, s, s & !GSCAN);
    if held == SUSPENDED_HELD {
        // Someone made it runnable (or picked it to run) while we held it: finish that.
        if s & !GSCAN == GWAITING {
            casgstatus(g, GWAITING, GRUNNABLE);
        }
        proc::ready_held_aside(g as *const G as *mut G);
    }
    Ok(())
}

/// Marks a suspended G whose owner (grt_suspend) is not the GC as held; false if no such
/// owner (a short-lived owner: just wait for it).
fn hold(g: &G) -> bool {
    g.suspended
        .compare_exchange(
            SUSPENDED_YES,
            SUSPENDED_HELD,
            Ordering::AcqRel,
            Ordering::Acquire,
        )
        .is_ok()
}

fn backoff(tries: &mut u32) {
    *tries += 1;
    if *tries < 64 {
        arch::cpu_relax();
    } else {
        sys::sched_yield();
    }
}

/// The scheduler is about to run `g` (runnable): GRUNNABLE -> GRUNNING, unless grt_suspend
/// holds it; then it is set aside (false) and grt_resume queues it again. An M never waits
/// for a user's grt_resume while holding a P.
pub fn start_running(g: &G) -> bool {
    let ok = cas_unless_held(g, GRUNNABLE, GRUNNING);
    if ok {
        g.ran();
    }
    ok
}

/// A waker makes `g` (waiting) runnable: GWAITING -> GRUNNABLE, unless grt_suspend holds it;
/// then (false) grt_resume does it.
pub fn make_runnable(g: &G) -> bool {
    cas_unless_held(g, GWAITING, GRUNNABLE)
}

/// `old` -> `new`, or false if grt_suspend owns the stack (the G is then marked held). A
/// short-lived owner (no grt_suspend) is waited for.
fn cas_unless_held(g: &G, old: u32, new: u32) -> bool {
    let mut tries = 0;
    loop {
        match g
            .atomicstatus
            .compare_exchange(old, new, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => return true,
            Err(s) if s == old | GSCAN => {
                if hold(g) {
                    proc::note_held_aside();
                    return false;
                }
                backoff(&mut tries);
            }
            Err(s) => crate::throw!(
                "goroutine {} is {} ({:#x}), expected {} -> {}",
                g.goid(),
                status_name(s),
                s,
                status_name(old),
                status_name(new)
            ),
        }
    }
}

/// Before a G back from a syscall takes a P: wait while someone holds its stack.
pub fn wait_unsuspended(g: &G) {
    let mut tries = 0u32;
    while g.status() == GSYSCALL | GSCAN {
        tries += 1;
        if tries < 64 {
            sys::sched_yield();
        } else {
            sys::nanosleep(50_000);
        }
    }
}

/// `grt_traceback`: return addresses of goroutine `goid`, innermost first.
pub fn traceback_g(goid: u64, pcs: &mut [usize]) -> Result<usize, i32> {
    let max = pcs.len();
    let me = proc::getg();
    // SAFETY: null or a live G.
    if let Some(me) = unsafe { me.as_ref() } {
        if me.kind == GKind::User && me.goid() == goid {
            let mut n = 0;
            let fp = arch::frame_pointer();
            traceback::walk_g(0, fp, fp, me, traceback::TRACE_CALLERS_AS_RET, max, |pc| {
                pcs[n] = pc;
                n += 1;
            });
            return Ok(n);
        }
    }
    let r = suspend(goid)?;
    let g = proc::findg(goid).expect("a suspended goroutine cannot exit");
    let mut n = 0;
    let push = |pc| {
        pcs[n] = pc;
        n += 1;
    };
    if r.on_signal == 1 {
        // Stopped by the signal anywhere, maybe with no frame record of its own (a prologue,
        // an epilogue, a frameless leaf): the first step the profiler takes.
        let lr = (r.lr != 0).then_some(r.lr);
        stkbar::gc_lock_stack_barriers(g);
        traceback::gentraceback(
            r.pc,
            r.sp,
            r.fp,
            lr,
            g.stack.lo,
            g.stack.hi,
            traceback::TRACE_FROM_SIGNAL | traceback::TRACE_CALLERS_AS_RET,
            max,
            Some(g),
            push,
        );
        stkbar::gc_unlock_stack_barriers(g);
    } else {
        let pc = if r.state == c_state(GSYSCALL) {
            r.pc
        } else {
            0
        };
        traceback::walk_g(
            pc,
            r.sp,
            r.fp,
            g,
            traceback::TRACE_CALLERS_AS_RET,
            max,
            push,
        );
    }
    resume(goid)?;
    Ok(n)
}
