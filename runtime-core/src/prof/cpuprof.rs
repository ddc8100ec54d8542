//! The CPU profiler: starting and stopping it, the timers, collecting samples, the C API.
//!
//! # How it works
//!
//! `grt_prof_start(hz, path)` creates the output file (so a bad path fails at once), takes a
//! snapshot of the code mappings (codemap.rs) and copies of the libraries' unwind tables
//! (unwind.rs: walks go through frame-pointer-less frames with them), installs the SIGPROF handler (sigprof.rs)
//! through the raw `rt_sigaction` with grt's restorer, and arms the timers:
//!
//! - normally one `timer_create` per M on that thread's CPU-time clock, delivered to that
//!   thread (`SIGEV_THREAD_ID`), with grt's cookie in `si_value`, its first expiry at a
//!   random point of the first period (so threads that live shorter than a period are not
//!   biased against, Go 1.18's fix). Ms that start later arm their own timer in `mstart`.
//!   The collector's thread (not an M) gets one the same way; its samples are `grt.GC`.
//!   Per-thread timers do not lose ticks the way the process-wide timer does with more than
//!   ~2.5 busy threads (golang/go#35057).
//! - `setitimer(ITIMER_PROF)` when per-thread timers cannot be made (or `GRTDEBUG=
//!   profsetitimer=1`). The handler tells the two apart by `si_code`, so nothing is counted
//!   twice and the program's own timers are never taken for grt's.
//!
//! Handlers write samples into a lock-free buffer (profbuf.rs). sysmon, every
//! [`COLLECT_PERIOD_NS`], and `grt_prof_stop` drain it into a table of distinct stacks
//! (profile.rs). `grt_prof_stop` stops the timers, waits for handlers still running, drops
//! signals still pending, puts the program's SIGPROF action back, drains the buffer and
//! writes the file (gzip profile.proto).
//!
//! # Invariants
//! - `MODE` is the only thing a handler reads to decide that a signal is grt's; it is set
//!   after the buffer and the code map are ready and cleared before the timers are deleted.
//! - A handler that counted itself in `INFLIGHT` and then saw `MODE` unchanged finishes
//!   before `grt_prof_stop` reads the buffer for the last time (sequentially consistent
//!   increment-then-check against store-then-wait: one of the two sees the other).
//! - `PROF` (an ordinary lock) guards the rest; handlers never take it.

use core::ffi::{c_char, c_void, CStr};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use grt_arch as arch;

use crate::errors::{report, GRT_EBUSY, GRT_EINVAL, GRT_ENOMEM, GRT_ESYS, GRT_OK};
use crate::lock::Lock;
use crate::profbuf::ProfBuf;
use crate::profile::{self, Meta, StackTable};
use crate::runtime2::M;
use crate::sigprof::{sigprof_handler, SIGPROF};
use crate::{codemap, debug, env, gzip, printerr, proc, signals, sys};

/// Pseudo-frames: sentinel "pcs" no code can have (see profile.rs for their names).
pub const PC_EXTERNAL_CODE: usize = 1;
pub const PC_SYSTEM: usize = 2;
pub const PC_GC: usize = 3;
pub const PC_LOST: usize = 4;
pub const PSEUDO_MAX: usize = 4;

pub const MODE_OFF: u32 = 0;
pub const MODE_PER_THREAD: u32 = 1;
pub const MODE_SETITIMER: u32 = 2;

/// `si_value` of grt's timer signals ("grtprof!").
pub const TIMER_COOKIE: usize = 0x6772_7470_726f_6621;
/// Highest rate accepted, samples per CPU-second (`GRT_PROF_MAX_HZ`).
pub const MAX_HZ: i64 = 10_000;
/// Default rate for `GRTPROF`, as Go's and gperftools'.
pub const DEFAULT_HZ: i64 = 100;
/// Slots of the sample buffer: at 1000 Hz on 8 busy threads it holds half a second.
const BUFFER_SLOTS: usize = 4096;
/// How often sysmon moves samples from the buffer to the table, in ns.
pub const COLLECT_PERIOD_NS: u64 = 50_000_000;

static MODE: AtomicU32 = AtomicU32::new(MODE_OFF);
static INFLIGHT: AtomicU32 = AtomicU32::new(0);
static BUFFER: spin::Once<ProfBuf> = spin::Once::new();
static EMPTY: ProfBuf = {
    // SAFETY: zero slots: the memory is never touched.
    unsafe { ProfBuf::new(core::ptr::null_mut(), 0) }
};

static SAMPLES: AtomicU64 = AtomicU64::new(0);
static PSEUDO: AtomicU64 = AtomicU64::new(0);
static FORWARDED: AtomicU64 = AtomicU64::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static LAST_COLLECT: AtomicU64 = AtomicU64::new(0);

struct State {
    hz: i64,
    period_ns: u64,
    fd: i32,
    start_mono: u64,
    start_wall: u64,
    /// Started by GRTPROF (stopped at grt_main's return or exit()).
    from_env: bool,
    /// The process that started it (a fork()ed child does not write the parent's file).
    pid: i32,
    stacks: StackTable,
    /// The last run's mode and rate, for grt_prof_read_stats after stop.
    last_mode: u32,
    rand: u64,
    /// The collector's thread (not an M): its CPU timer, armed like an M's.
    gc_timer: i32,
    gc_armed: bool,
}

static PROF: Lock = Lock::new();
static mut STATE: State = State {
    hz: 0,
    period_ns: 0,
    fd: -1,
    start_mono: 0,
    start_wall: 0,
    from_env: false,
    pid: 0,
    stacks: StackTable::new(),
    last_mode: MODE_OFF,
    rand: 0,
    gc_timer: 0,
    gc_armed: false,
};

/// The collector's thread id, once it runs (0 before): the handler charges its samples to
/// `grt.GC`, and per-thread profiling gives it a timer as it gives every M one.
static GC_TID: AtomicU32 = AtomicU32::new(0);

/// The state; only with PROF held.
fn state() -> &'static mut State {
    // SAFETY: every caller holds PROF (the functions below take it first).
    unsafe { &mut *core::ptr::addr_of_mut!(STATE) }
}

// ---- what the handler uses -------------------------------------------------------------------

#[inline]
pub fn mode() -> u32 {
    MODE.load(Ordering::Acquire)
}

/// The sample buffer (an empty one before the first profile: every claim is lost).
#[inline]
pub fn buffer() -> &'static ProfBuf {
    BUFFER.get().unwrap_or(&EMPTY)
}

/// A handler counts itself in; false if profiling stopped meanwhile (then it must not touch
/// the buffer, and is already counted out).
#[inline]
pub fn enter_handler() -> bool {
    INFLIGHT.fetch_add(1, Ordering::SeqCst);
    if MODE.load(Ordering::SeqCst) == MODE_OFF {
        INFLIGHT.fetch_sub(1, Ordering::SeqCst);
        return false;
    }
    true
}

#[inline]
pub fn exit_handler() {
    INFLIGHT.fetch_sub(1, Ordering::SeqCst);
}

#[inline]
pub fn count_sample(pseudo: bool) {
    SAMPLES.fetch_add(1, Ordering::Relaxed);
    if pseudo {
        PSEUDO.fetch_add(1, Ordering::Relaxed);
    }
}

#[inline]
pub fn count_forwarded() {
    FORWARDED.fetch_add(1, Ordering::Relaxed);
}

#[inline]
pub fn count_dropped() {
    DROPPED.fetch_add(1, Ordering::Relaxed);
}

/// Test-only build: what the tests of "the handler does not allocate" look at.
#[cfg(feature = "testhooks")]
pub fn test_hook_in_handler() {
    crate::testhooks::in_sigprof();
}
#[cfg(not(feature = "testhooks"))]
#[inline(always)]
pub fn test_hook_in_handler() {}

// ---- timers --------------------------------------------------------------------------------

fn next_rand(st: &mut State) -> u64 {
    let mut x = st.rand;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    st.rand = x;
    x
}

/// Arms `m`'s CPU-time timer (PROF held).
fn arm_m(st: &mut State, m: &mut M) -> sys::Result<()> {
    let tid = m.procid.load(Ordering::Acquire) as i32;
    if m.prof_armed || tid == 0 {
        return Ok(());
    }
    m.prof_timer = arm_thread(st, tid)?;
    m.prof_armed = true;
    Ok(())
}

/// Arms the collector thread's CPU-time timer, once it runs (PROF held).
fn arm_gc(st: &mut State) -> sys::Result<()> {
    let tid = GC_TID.load(Ordering::Acquire) as i32;
    if st.gc_armed || tid == 0 {
        return Ok(());
    }
    st.gc_timer = arm_thread(st, tid)?;
    st.gc_armed = true;
    Ok(())
}

fn disarm_gc(st: &mut State) {
    if st.gc_armed {
        let _ = sys::timer_delete(st.gc_timer);
        st.gc_armed = false;
    }
}

/// Whether the calling thread is the collector's (for the handler).
#[inline]
pub fn on_gc_thread() -> bool {
    let tid = GC_TID.load(Ordering::Relaxed);
    tid != 0 && tid == sys::gettid() as u32
}

/// Called by the collector's thread when it starts: arms its timer when a profile with
/// per-thread timers is running (as [`mstart_hook`] does for an M).
pub fn gc_thread_hook() {
    PROF.lock();
    GC_TID.store(sys::gettid() as u32, Ordering::Release);
    if MODE.load(Ordering::Acquire) == MODE_PER_THREAD {
        if let Err(e) = arm_gc(state()) {
            printerr!(
                "grt: profiler: cannot make the collector thread's CPU timer: errno {}; its samples are missing\n",
                e.0
            );
        }
    }
    PROF.unlock();
}

/// Makes and starts a timer on thread `tid`'s CPU-time clock that sends it grt's SIGPROF,
/// first at a random point of the first period (PROF held).
fn arm_thread(st: &mut State, tid: i32) -> sys::Result<i32> {
    let ev = arch::SigEvent {
        value: TIMER_COOKIE,
        signo: SIGPROF,
        notify: sys::SIGEV_THREAD_ID,
        tid,
        pad: [0; 11],
    };
    let id = sys::timer_create(sys::thread_cpu_clock(tid), &ev)?;
    let first = 1 + next_rand(st) % st.period_ns;
    let spec = arch::ITimerSpec {
        interval_sec: (st.period_ns / 1_000_000_000) as i64,
        interval_sub: (st.period_ns % 1_000_000_000) as i64,
        value_sec: (first / 1_000_000_000) as i64,
        value_sub: (first % 1_000_000_000) as i64,
    };
    if let Err(e) = sys::timer_settime(id, &spec) {
        let _ = sys::timer_delete(id);
        return Err(e);
    }
    Ok(id)
}

fn disarm_m(m: &mut M) {
    if m.prof_armed {
        let _ = sys::timer_delete(m.prof_timer);
        m.prof_armed = false;
    }
}

/// Arms ITIMER_PROF; returns what was armed before.
fn set_itimer(period_ns: u64) -> sys::Result<arch::ITimerSpec> {
    let us = period_ns / 1000;
    let spec = arch::ITimerSpec {
        interval_sec: (us / 1_000_000) as i64,
        interval_sub: (us % 1_000_000) as i64,
        value_sec: (us / 1_000_000) as i64,
        value_sub: (us % 1_000_000) as i64,
    };
    sys::swap_itimer(sys::ITIMER_PROF, &spec)
}

/// Called by every new M on its own thread once its id and tid are set: arms its timer when
/// a profile with per-thread timers is running.
pub fn mstart_hook(m: &mut M) {
    // Always under the lock (once per thread): checking MODE first without it could miss a
    // start that read this M's tid as 0 (store-buffering: each side may see the other's old
    // value).
    PROF.lock();
    if MODE.load(Ordering::Acquire) == MODE_PER_THREAD {
        if let Err(e) = arm_m(state(), m) {
            printerr!(
                "grt: profiler: cannot make the CPU timer of thread {} (M {}): errno {}; its samples are missing\n",
                m.procid.load(Ordering::Relaxed),
                m.id,
                e.0
            );
        }
    }
    PROF.unlock();
}

// ---- start / stop ----------------------------------------------------------------------------

/// Maps the sample buffer the first time (a failure is retried at the next start).
fn ensure_buffer() -> bool {
    if BUFFER.get().is_some() {
        return true;
    }
    let bytes = ProfBuf::bytes(BUFFER_SLOTS);
    let Ok(p) = sys::mmap_anon(
        bytes,
        arch::ProtFlags::READ | arch::ProtFlags::WRITE,
        arch::MapFlags::empty(),
    ) else {
        return false;
    };
    // Touch every page now: a first write from the handler would be a page fault inside it
    // (measured: 7-22 us instead of 0.5 us for one sample in seven).
    let page = crate::auxv::page_size();
    for off in (0..bytes).step_by(page) {
        // SAFETY: inside the fresh mapping; zero is what it holds already.
        unsafe { core::ptr::write_volatile((p + off) as *mut u8, 0) };
    }
    // SAFETY: fresh zeroed memory of the right size, never unmapped (profbuf.rs). Only
    // start (under PROF) gets here, so this closure runs.
    BUFFER.call_once(|| unsafe { ProfBuf::new(p as *mut u8, BUFFER_SLOTS) });
    true
}

/// Signals blocked while the SIGPROF handler runs: every asynchronous one, so no other
/// handler (which might longjmp away) runs on top of it while it holds a buffer slot and is
/// counted in INFLIGHT. (Faults cannot be blocked, and the handler causes none.)
const SIGPROF_HANDLER_MASK: u64 =
    !(1 << (4 - 1) | 1 << (5 - 1) | 1 << (7 - 1) | 1 << (8 - 1) | 1 << (11 - 1) | 1 << (31 - 1));

/// How long stop waits for handlers still running before it says so and goes on, in ns.
const INFLIGHT_WAIT_NS: u64 = 1_000_000_000;

/// `grt_prof_start`.
pub fn start(hz: i64, path: &[u8], from_env: bool) -> i32 {
    const F: &str = "grt_prof_start";
    if !(1..=MAX_HZ).contains(&hz) {
        return report(
            GRT_EINVAL,
            F,
            format_args!("hz must be from 1 to {} (got {})", MAX_HZ, hz),
        );
    }
    PROF.lock();
    let r = start_locked(F, hz, path, from_env);
    PROF.unlock();
    r
}

fn start_locked(f: &str, hz: i64, path: &[u8], from_env: bool) -> i32 {
    if MODE.load(Ordering::Acquire) != MODE_OFF {
        return report(
            GRT_EBUSY,
            f,
            format_args!("the profiler is already running"),
        );
    }
    let st = state();
    if !ensure_buffer() {
        return report(GRT_ENOMEM, f, format_args!("cannot map the sample buffer"));
    }
    let fd = match sys::create_file(path) {
        Ok(fd) => fd,
        Err(e) => {
            let shown = core::str::from_utf8(&path[..path.len() - 1]).unwrap_or("?");
            return report(
                GRT_ESYS,
                f,
                format_args!("cannot create {:?}: errno {}", shown, e.0),
            );
        }
    };
    // Anything left from an earlier run was drained by its stop.
    buffer().drain(|_| {});
    buffer().reset_lost();
    crate::unwind::profiler_snapshot();
    codemap::snapshot();
    #[cfg(feature = "testhooks")]
    crate::testhooks::init();
    st.hz = hz;
    st.period_ns = 1_000_000_000 / hz as u64;
    st.fd = fd;
    st.pid = sys::getpid();
    st.from_env = from_env;
    st.stacks.clear();
    st.start_mono = sys::nanotime();
    st.start_wall = sys::clock_ns(sys::CLOCK_REALTIME);
    st.rand = st.start_mono ^ (sys::gettid() as u64) << 32 | 1;
    for c in [&SAMPLES, &PSEUDO, &FORWARDED, &DROPPED] {
        c.store(0, Ordering::Relaxed);
    }
    if let Err(e) = signals::install_with_mask(SIGPROF, sigprof_handler, SIGPROF_HANDLER_MASK) {
        crate::unwind::profiler_release();
        sys::close(fd);
        return report(
            GRT_ESYS,
            f,
            format_args!("cannot install the SIGPROF handler: errno {}", e.0),
        );
    }
    let mut mode = if debug::get().profsetitimer {
        MODE_SETITIMER
    } else {
        MODE_PER_THREAD
    };
    MODE.store(mode, Ordering::SeqCst);
    if mode == MODE_PER_THREAD {
        let mut failed = None;
        proc::for_each_m(|m| {
            if failed.is_none() {
                failed = arm_m(st, m).err();
            }
        });
        if failed.is_none() {
            failed = arm_gc(st).err();
        }
        if let Some(e) = failed {
            printerr!(
                "grt: profiler: per-thread CPU timers unavailable (errno {}); using setitimer(ITIMER_PROF)\n",
                e.0
            );
            // Signals of the timers made so far must not be taken for setitimer's.
            teardown(mode);
            if let Err(e) =
                signals::install_with_mask(SIGPROF, sigprof_handler, SIGPROF_HANDLER_MASK)
            {
                crate::unwind::profiler_release();
                sys::close(fd);
                return report(
                    GRT_ESYS,
                    f,
                    format_args!("cannot install the SIGPROF handler: errno {}", e.0),
                );
            }
            mode = MODE_SETITIMER;
            MODE.store(mode, Ordering::SeqCst);
        }
    }
    if mode == MODE_SETITIMER {
        let err = match set_itimer(st.period_ns) {
            Ok(old) if old.value_sec == 0 && old.value_sub == 0 => None,
            // The program's own ITIMER_PROF is running: put it back, do not take it over.
            Ok(old) => {
                let _ = sys::setitimer(sys::ITIMER_PROF, &old);
                Some((GRT_EBUSY, 0))
            }
            Err(e) => Some((GRT_ESYS, e.0)),
        };
        if let Some((code, errno)) = err {
            teardown(mode);
            crate::unwind::profiler_release();
            sys::close(fd);
            return if code == GRT_EBUSY {
                report(
                    code,
                    f,
                    format_args!(
                        "setitimer(ITIMER_PROF) is in use by the program; not taking it over"
                    ),
                )
            } else {
                report(
                    code,
                    f,
                    format_args!("cannot arm setitimer(ITIMER_PROF): errno {}", errno),
                )
            };
        }
    }
    st.last_mode = mode;
    register_exit_hook();
    GRT_OK
}

/// Stops sampling and puts the program's SIGPROF action back: timers off, handlers still
/// running waited for, pending SIGPROFs dropped (PROF held).
fn teardown(mode: u32) {
    MODE.store(MODE_OFF, Ordering::SeqCst);
    if mode == MODE_PER_THREAD {
        proc::for_each_m(disarm_m);
        disarm_gc(state());
    } else if mode == MODE_SETITIMER {
        let _ = sys::setitimer(sys::ITIMER_PROF, &arch::ITimerSpec::default());
    }
    // Handlers already past their check finish their sample (they are short and bounded;
    // every asynchronous signal is blocked while they run). Bounded anyway.
    let t0 = sys::nanotime();
    while INFLIGHT.load(Ordering::SeqCst) != 0 {
        if sys::nanotime().saturating_sub(t0) > INFLIGHT_WAIT_NS {
            printerr!("grt: profiler: a SIGPROF handler did not finish; going on without it\n");
            break;
        }
        sys::sched_yield();
    }
    // A timer signal of grt's queued before its timer went is delivered to grt's handler,
    // which drops it (sigprof.rs: grt's cookie is never forwarded). Give such signals a
    // moment to arrive while that handler is still installed: qemu-user, whose SIG_IGN below
    // does not discard the signals it has queued itself, delivers them this late.
    sys::nanosleep(LATE_SIGNAL_GRACE_NS);
    // A timer signal of grt's may still be pending on some thread (the kernel keeps a deleted
    // timer's queued signal): after the restore it would reach the program's handler on an M,
    // or with the default action end the process. So pending SIGPROFs are discarded first
    // (SIG_IGN), then the old action goes back. (A SIGPROF of the program's own pending at this
    // very moment is dropped with them.) Only if grt's handler is still the one installed:
    // the program may have put its own since.
    let _ = signals::flush_and_uninstall(SIGPROF);
}

/// Moves samples from the buffer to the table (PROF held).
fn collect_locked(st: &mut State) {
    let mut nomem = false;
    buffer().drain(|s| {
        if st.stacks.add(s.frames(), 1).is_err() {
            nomem = true;
        }
    });
    if nomem {
        printerr!("grt: profiler: out of memory for the profile; samples dropped\n");
    }
    LAST_COLLECT.store(sys::nanotime(), Ordering::Relaxed);
}

/// sysmon's periodic call: keep the buffer from filling up. Never waits for the lock (a stop
/// may be writing the file).
pub fn collect(now: u64) {
    if MODE.load(Ordering::Relaxed) == MODE_OFF
        || now.saturating_sub(LAST_COLLECT.load(Ordering::Relaxed)) < COLLECT_PERIOD_NS
    {
        return;
    }
    if !PROF.try_lock() {
        return;
    }
    if MODE.load(Ordering::Relaxed) != MODE_OFF {
        collect_locked(state());
    }
    PROF.unlock();
}

/// How long a stop waits, after the timers are gone, for their last signals, in ns.
const LATE_SIGNAL_GRACE_NS: u64 = 2_000_000;

/// `grt_prof_stop`.
pub fn stop() -> i32 {
    PROF.lock();
    let r = stop_locked("grt_prof_stop");
    PROF.unlock();
    r
}

fn stop_locked(f: &str) -> i32 {
    let mode = MODE.load(Ordering::Acquire);
    if mode == MODE_OFF {
        return report(GRT_EINVAL, f, format_args!("the profiler is not running"));
    }
    let st = state();
    teardown(mode);
    // No handler runs any more: the libraries held for them may go.
    crate::unwind::profiler_release();
    let fd = core::mem::replace(&mut st.fd, -1);
    st.from_env = false;
    if sys::getpid() != st.pid {
        // A fork()ed child (it has no timers: they are not inherited): the profile is the
        // parent's to write.
        sys::close(fd);
        return GRT_OK;
    }
    collect_locked(st);
    let meta = Meta {
        period_ns: st.period_ns,
        time_nanos: st.start_wall,
        duration_nanos: sys::nanotime().saturating_sub(st.start_mono),
        lost: buffer().lost(),
    };
    let r = write_profile(fd, &st.stacks, &meta);
    sys::close(fd);
    match r {
        Ok(()) => GRT_OK,
        Err(what) => report(
            GRT_ESYS,
            f,
            format_args!("cannot write the profile: {}", what),
        ),
    }
}

fn write_profile(fd: i32, stacks: &StackTable, meta: &Meta) -> Result<(), &'static str> {
    let data = profile::encode(stacks, meta).map_err(|_| "out of memory")?;
    gzip::write(data.as_slice(), |piece| sys::write_fully(fd, piece)).map_err(|_| "write failed")
}

// ---- GRTPROF -------------------------------------------------------------------------------

/// At grt_main: `GRTPROF=path` (+ `GRTPROFHZ=n`) profiles the whole run.
pub fn start_from_env() {
    let Some(path) = env::get("GRTPROF").filter(|p| !p.is_empty()) else {
        return;
    };
    let hz = match env::get_number("GRTPROFHZ") {
        None => DEFAULT_HZ,
        Some(Ok(v)) if (1..=MAX_HZ as u64).contains(&v) => v as i64,
        Some(_) => {
            printerr!(
                "grt: GRTPROFHZ must be a number from 1 to {}; using {}\n",
                MAX_HZ,
                DEFAULT_HZ
            );
            DEFAULT_HZ
        }
    };
    let mut buf = [0u8; 4096];
    if path.len() >= buf.len() {
        printerr!("grt: GRTPROF: path too long; not profiling\n");
        return;
    }
    buf[..path.len()].copy_from_slice(path);
    if start(hz, &buf[..=path.len()], true) != GRT_OK {
        printerr!("grt: GRTPROF: not profiling\n");
    }
}

/// At grt_main's return: ends a GRTPROF profile and writes it (a profile started with
/// grt_prof_start goes on: the program may stop it later).
pub fn stop_from_env() {
    if MODE.load(Ordering::Acquire) == MODE_OFF {
        return;
    }
    PROF.lock();
    if MODE.load(Ordering::Acquire) != MODE_OFF && state().from_env {
        let _ = stop_locked("GRTPROF");
    }
    PROF.unlock();
}

/// At exit() and grt_exit: a profile still running, however it was started, is written.
pub fn stop_at_exit() {
    if MODE.load(Ordering::Acquire) == MODE_OFF {
        return;
    }
    PROF.lock();
    if MODE.load(Ordering::Acquire) != MODE_OFF {
        let _ = stop_locked("grt_prof_stop at exit");
    }
    PROF.unlock();
}

#[cfg(all(not(feature = "freestanding"), not(test)))]
fn register_exit_hook() {
    use core::sync::atomic::AtomicBool;
    static DONE: AtomicBool = AtomicBool::new(false);
    extern "C" {
        fn atexit(f: extern "C" fn()) -> i32;
    }
    extern "C" fn at_exit() {
        stop_at_exit();
    }
    if !DONE.swap(true, Ordering::AcqRel) {
        // SAFETY: registering a plain function with libc.
        unsafe { atexit(at_exit) };
    }
}
#[cfg(any(feature = "freestanding", test))]
fn register_exit_hook() {
    // No libc exit(): grt_exit calls stop_at_exit itself.
}

// ---- C API -----------------------------------------------------------------------------------

/// C's `grt_prof_stats`.
#[repr(C)]
pub struct ProfStats {
    pub samples: u64,
    pub lost: u64,
    pub pseudo: u64,
    pub forwarded: u64,
    pub hz: i32,
    pub per_thread: i32,
    pub running: i32,
    pub reserved: i32,
}

/// `int grt_prof_start(int hz, const char *path)`.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_prof_start(hz: i32, path: *const c_char) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    if path.is_null() {
        return report(GRT_EINVAL, "grt_prof_start", format_args!("path is NULL"));
    }
    // SAFETY: the caller passes a NUL-terminated string.
    let p = unsafe { CStr::from_ptr(path) }.to_bytes_with_nul();
    if p.len() == 1 {
        return report(GRT_EINVAL, "grt_prof_start", format_args!("path is empty"));
    }
    start(hz as i64, p, false)
}

/// `int grt_prof_stop(void)`.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_prof_stop() -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    stop()
}

/// `int grt_prof_read_stats(grt_prof_stats *out)`.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_prof_read_stats(out: *mut ProfStats) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    if out.is_null() {
        return report(
            GRT_EINVAL,
            "grt_prof_read_stats",
            format_args!("out is NULL"),
        );
    }
    PROF.lock();
    let st = state();
    let s = ProfStats {
        samples: SAMPLES.load(Ordering::Relaxed),
        lost: buffer().lost(),
        pseudo: PSEUDO.load(Ordering::Relaxed),
        forwarded: FORWARDED.load(Ordering::Relaxed),
        hz: st.hz as i32,
        per_thread: (st.last_mode == MODE_PER_THREAD) as i32,
        running: (MODE.load(Ordering::Acquire) != MODE_OFF) as i32,
        reserved: 0,
    };
    PROF.unlock();
    // SAFETY: the caller passes a writable grt_prof_stats.
    unsafe { out.write(s) };
    GRT_OK
}

#[allow(dead_code)]
fn _assert_c_layout(_: *mut c_void) {
    const _: () = assert!(core::mem::size_of::<ProfStats>() == 48);
}
