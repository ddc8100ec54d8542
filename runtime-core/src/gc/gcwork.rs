//! Grey work shared by several markers while the program runs (Go's mgcwork.go, cut down):
//! the collector's thread, Ms whose P has nothing to run while a CPU is free (Go's idle mark
//! workers; `proc::findrunnable` decides, counting the collector's CPU and the registered
//! threads' as taken), and allocations that assist.
//!
//! # Why
//!
//! Marking used to be one thread's at a time: whoever held `MARK_LOCK` drained the one grey
//! buffer. A P with nothing to run left its CPU unused while the collector marked alone, and
//! an allocation that came to assist waited for the lock while the collector drained.
//!
//! # The algorithm
//!
//! mgcmark's grey buffer (under `MARK_LOCK`) is the *pool*. A marker here owns a local
//! buffer (a [`Work`]: the collector's own, and one in each M) and holds `MARK_LOCK` only to
//! move words between the two ([`drain`]):
//! 1. Under `MARK_LOCK`, if the gate is open, it takes a chunk ([`CHUNK_WORDS`]) from the
//!    pool and counts itself in `DRAINERS`.
//! 2. Without the lock it scans, a step ([`STEP_WORDS`]) at a time: mark bits are set with an
//!    atomic or, and only the marker that set a bit pushes the object, to its own buffer, so
//!    each object is queued once however many markers find it.
//! 3. Its buffer empty, it takes another chunk. Its buffer big while another marker found the
//!    pool empty (`STARVED`), it gives its oldest words back (the roots of the biggest
//!    subtrees left: Go's `gcWork.balance`) and wakes an idle P to take them.
//! 4. Its budget spent, asked to stop (the gate closed, its P has a goroutine to run), or the
//!    pool empty, it puts back all it holds, adds the bytes it marked to the cycle's count
//!    and leaves `DRAINERS`, under `MARK_LOCK`. A marker never holds local work outside
//!    [`drain`].
//!
//! A marker that finds the pool empty while another holds work waits for some to be given
//! back ([`Who`]): a tree's walk holds little more than a path, so the pool is often empty
//! while one marker holds half the heap's grey work. An assist waits a little
//! ([`WAIT_WORK_NS`]; one that left at once did nothing, and GCBench's allocations then
//! reached the pacer's hard limit and waited milliseconds); an idle M waits, not counted as
//! a marker, as long as another holds work and nothing else needs its P (woken later, it
//! came a wakeup late, after the giver had taken its gift back: it did 15-40 % of the
//! marking of a 32 MiB tree instead of half or more). The collector's "mark everything"
//! ([`others_hold_work`], [`wait_for_work`]) is not over until no marker holds work.
//!
//! # Invariants
//!
//! - A grey object is in the pool, in a write-barrier buffer or the collector's candidates,
//!   or with a marker counted in `DRAINERS` (its buffer or its prefetch ring). So under
//!   `MARK_LOCK`, the pool empty and `DRAINERS` zero mean no marker holds any.
//! - Mark termination must see every grey object, and stopping the world freezes an M
//!   wherever it is: in the middle of a push, an object marked but its words not yet
//!   counted. So before the collector stops the world it closes the gate (under
//!   `MARK_LOCK`: nobody enters after) and waits for `DRAINERS` to fall to zero (everyone in
//!   leaves within a step, its work given back: [`close_gate`]). The wait is outside the
//!   pause. From then on the collector and the assists drain under `MARK_LOCK` as before
//!   this module (the collector a batch per hold, handing the lock over between batches), so
//!   that the assists share what is left.
//! - The gate opens when the write barrier goes on (world stopped, [`open_gate_locked`]).
//!
//! # Who touches what
//!
//! The pool, `DRAINERS`, `GATE_OPEN` and the cycle's marked bytes: under `MARK_LOCK` to change
//! (`DRAINERS`, `GATE_OPEN` and `STARVED` are also read without it, as hints or to wait).
//! An M's [`Work`]: that M's thread only (its goroutine's assist, or its scheduler marking
//! while idle). The collector's: the collector's thread. Nothing here runs in a signal
//! handler or allocates from grt's heap (buffers are reserved address space).

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::mgcmark::{self, Marker, WordBuf, MARK_LOCK};
use crate::sys;

/// Words a marker takes from the pool at once: 256 grey objects (Go's workbuf holds 253).
const CHUNK_WORDS: usize = 512;
/// Words scanned between a marker's checks (its budget, the gate, whether to stop or to
/// give work back): about 32 KiB of objects, a few microseconds.
pub const STEP_WORDS: usize = 4096;
/// A marker whose buffer holds more than this (8 objects) while another starves gives some
/// back. Small, as Go's balance (4 objects): a tree's depth-first walk holds only about one
/// object per level, and the oldest are the roots of the largest subtrees left.
const SPARE_WORDS: usize = 16;
/// The most it gives back at once (half its buffer, up to this).
const GIVE_MAX_WORDS: usize = 16 * CHUNK_WORDS;
/// How long an assist waits for work to be given back when the pool is empty but another
/// marker holds some, in ns: a few steps.
const WAIT_WORK_NS: u64 = 50_000;
/// How long an idle M waits so without a chunk given back by anyone (`GIVEN` moving), in
/// ns, before it parks: a holder with spare work gives within a step; one that never gives
/// (a list's walk holds one object or two) would keep it spinning the whole marking.
const IDLE_WAIT_NS: u64 = 200_000;

/// A marker's local grey buffer and the bytes it marked since it last reported them.
pub struct Work {
    buf: WordBuf,
    marked: usize,
}

impl Work {
    pub const fn new() -> Work {
        Work {
            buf: WordBuf::new(),
            marked: 0,
        }
    }
}

impl Default for Work {
    fn default() -> Work {
        Work::new()
    }
}

/// Markers are allowed in (a cycle marks and mark termination has not begun). Under
/// MARK_LOCK to change.
static GATE_OPEN: AtomicBool = AtomicBool::new(false);
/// Markers holding local work. Under MARK_LOCK to change.
static DRAINERS: AtomicUsize = AtomicUsize::new(0);
/// A marker found the pool empty since work was last given back: markers with spare work
/// give some.
static STARVED: AtomicBool = AtomicBool::new(false);
/// Words scanned by Ms with nothing else to do (idle marking), and the time they spent, in
/// all.
pub static IDLE_WORDS: AtomicU64 = AtomicU64::new(0);
pub static IDLE_NS: AtomicU64 = AtomicU64::new(0);
/// Ms in [`idle_mark`] now (`proc::findrunnable` counts them as CPUs in use).
static IDLE_MARKERS: AtomicUsize = AtomicUsize::new(0);

/// Ms marking while idle now.
pub fn idle_markers() -> usize {
    IDLE_MARKERS.load(Ordering::Relaxed)
}

/// Chunks given back to the pool for a starving marker, in all.
pub static GIVEN: AtomicU64 = AtomicU64::new(0);

/// The collector's own Work (its thread only).
static mut COLLECTOR: Work = Work::new();

/// The collector thread's Work.
pub fn collector() -> &'static mut Work {
    // SAFETY: only the collector's thread calls this.
    unsafe { &mut *core::ptr::addr_of_mut!(COLLECTOR) }
}

/// Test-only build, `GRTDEBUG=gcidlemarkwiden=1`: a marker other than the collector sleeps
/// [`WIDEN_NS`] before each step, holding its work (gc_idlemark's window).
fn widen() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().gcidlemarkwiden
}
const WIDEN_NS: u64 = 2_000_000;

/// Test-only build, `GRTDEBUG=gcidlemarknowait=1`: the collector waits for no marker: its
/// "mark everything" ends when the pool is empty although others hold work, and it neither
/// closes the gate nor waits for the markers before mark termination (gc_idlemark's teeth). The gate then
/// stays open for good: a marker left inside goes on marking after the cycle, which only
/// the teeth's first check (bytes found live) has to survive.
pub fn no_wait() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().gcidlemarknowait
}

/// `GRTDEBUG=gcnoidlemark=1`: Ms with nothing to run do not mark (to compare).
pub fn idle_mark_off() -> bool {
    crate::debug::get().gcnoidlemark
}

/// The barrier goes on: markers may come. World stopped, MARK_LOCK held.
pub fn open_gate_locked() {
    if DRAINERS.load(Ordering::Relaxed) != 0 && !no_wait() {
        crate::throw!("garbage collector: markers left from the last cycle");
    }
    STARVED.store(true, Ordering::Relaxed);
    mgcmark::publish_pool_locked();
    GATE_OPEN.store(true, Ordering::Release);
}

/// Before mark termination stops the world: lets no marker in and waits until every marker
/// inside has left, its work given back to the pool (see the module comment). The
/// collector's thread, world running, holding no lock.
pub fn close_gate() {
    MARK_LOCK.lock();
    GATE_OPEN.store(false, Ordering::Release);
    MARK_LOCK.unlock();
    // Each leaves within a step, unless it is off its CPU, or its thread is held by
    // grt_suspend (then until grt_resume, as the mark lock would be): spin a little, then
    // sleep in short naps, never holding a lock.
    let mut spins = 0u32;
    while DRAINERS.load(Ordering::Acquire) != 0 {
        if spins < 100 {
            core::hint::spin_loop();
            spins += 1;
        } else {
            sys::nanosleep(CLOSE_NAP_NS);
        }
    }
}

/// [`close_gate`]'s nap while a marker is still inside, in ns.
const CLOSE_NAP_NS: u64 = 20_000;

/// Mark termination checks this with the world stopped (MARK_LOCK held): no marker may
/// hold work it cannot see.
pub fn check_none_locked() {
    let n = DRAINERS.load(Ordering::Acquire);
    if n != 0 && !no_wait() {
        crate::throw!(
            "garbage collector: {} markers hold grey work at mark termination",
            n
        );
    }
}

/// Whether an idle M should try to mark: the gate is open and the pool held work when last
/// published (a hint: [`drain`] decides under the lock). Never on one CPU: there an idle M
/// could only take turns with the collector.
pub fn idle_work_hint() -> bool {
    GATE_OPEN.load(Ordering::Acquire)
        && mgcmark::pool_hint() != 0
        && !idle_mark_off()
        && crate::proc::ncpu() > 1
}

/// Under MARK_LOCK: may a marker enter, and is there work for it? `Some(true)`: entered
/// with a chunk; `Some(false)`: the pool is empty; `None`: not let in (the gate is closed,
/// or no cycle marks).
fn enter_locked(w: &mut Work) -> Option<bool> {
    if !GATE_OPEN.load(Ordering::Relaxed) || !mgcmark::marking() {
        return None;
    }
    if !take_locked(w) {
        return Some(false);
    }
    DRAINERS.store(DRAINERS.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    Some(true)
}

/// Takes a chunk from the pool into `w`. False (and STARVED set) if the pool is empty.
fn take_locked(w: &mut Work) -> bool {
    let pool = mgcmark::pool_locked();
    if pool.is_empty() {
        STARVED.store(true, Ordering::Relaxed);
        return false;
    }
    pool.give_top(&mut w.buf, CHUNK_WORDS);
    mgcmark::publish_pool_locked();
    true
}

/// Puts back all `w` holds, reports its marked bytes, and leaves. MARK_LOCK held.
fn leave_locked(w: &mut Work) {
    let n = w.buf.words();
    w.buf.give_top(mgcmark::pool_locked(), n);
    mgcmark::publish_pool_locked();
    mgcmark::add_marked_locked(core::mem::replace(&mut w.marked, 0));
    DRAINERS.store(DRAINERS.load(Ordering::Relaxed) - 1, Ordering::Release);
}

/// How a [`drain`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Not let in: the gate closed, no cycle marks, or the buffer could not be reserved.
    Refused,
    /// The pool was empty (this marker's buffer too).
    Empty,
    /// The budget was spent or `stop` said so; what was left went back to the pool.
    Stopped,
}

/// Who marks: how long it waits for work another marker holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// The collector's thread: not here ([`wait_for_work`], in its "mark everything").
    Collector,
    /// An allocation: up to [`WAIT_WORK_NS`], once.
    Assist,
    /// An M with nothing to run: not here ([`idle_mark`] waits between drains).
    Idle,
}

/// Marks from the pool with `w` until about `budget` words are scanned, the pool and `w` are
/// empty, or `stop()` (asked between steps) says to stop. Returns how it ended and the words
/// scanned. Takes MARK_LOCK only to move chunks; must not be called with it held.
pub fn drain(
    w: &mut Work,
    budget: usize,
    who: Who,
    mut stop: impl FnMut() -> bool,
) -> (Ended, usize) {
    if !w.buf.is_reserved() && !w.buf.reserve() {
        return (Ended::Refused, 0);
    }
    let mut waited = false;
    loop {
        MARK_LOCK.lock();
        let entered = enter_locked(w);
        MARK_LOCK.unlock();
        match entered {
            Some(true) => break,
            Some(false) => {}
            None => return (Ended::Refused, 0),
        }
        // The pool is empty but another marker holds work (a tree's walk keeps little
        // more than a path in its buffer): it gives some back within a step, having seen
        // STARVED. Wait that long, once; an assist that left at once did no work, and its
        // allocation went on to the hard limit.
        if who != Who::Assist || waited || DRAINERS.load(Ordering::Acquire) == 0 {
            return (Ended::Empty, 0);
        }
        waited = true;
        let t0 = sys::nanotime();
        let mut spins = 0u32;
        while mgcmark::pool_hint() == 0
            && DRAINERS.load(Ordering::Acquire) != 0
            && sys::nanotime() - t0 < WAIT_WORK_NS
        {
            // Spin a little, then let the holder run if it shares this CPU.
            if spins < 100 {
                core::hint::spin_loop();
                spins += 1;
            } else {
                sys::sched_yield();
            }
        }
    }
    let mut done = 0usize;
    loop {
        if who != Who::Collector && widen() {
            sys::nanosleep(WIDEN_NS);
        }
        let (dry, n) = Marker::new(&mut w.buf, &mut w.marked).drain_words(STEP_WORDS);
        done += n;
        let gate_shut = !GATE_OPEN.load(Ordering::Acquire);
        if dry {
            // Asked before the lock: stop() looks at the scheduler's queues and timers.
            let leave = gate_shut || done >= budget || stop();
            MARK_LOCK.lock();
            if leave || !take_locked(w) {
                let pool_empty = mgcmark::pool_locked().is_empty();
                leave_locked(w);
                MARK_LOCK.unlock();
                let how = if pool_empty {
                    Ended::Empty
                } else {
                    Ended::Stopped
                };
                return (how, done);
            }
            MARK_LOCK.unlock();
            continue;
        }
        if gate_shut || done >= budget || stop() {
            MARK_LOCK.lock();
            leave_locked(w);
            MARK_LOCK.unlock();
            return (Ended::Stopped, done);
        }
        if STARVED.load(Ordering::Relaxed)
            && w.buf.words() > SPARE_WORDS
            && GATE_OPEN.load(Ordering::Relaxed)
        {
            give(w);
        }
    }
}

/// Whether a marker other than the caller holds work (the caller holds none).
pub fn others_hold_work() -> bool {
    DRAINERS.load(Ordering::Acquire) != 0
}

/// The collector, out of work while another marker holds some: waits until some is given
/// back to the pool (the holder sees STARVED, set when the collector found the pool empty)
/// or every holder has left (its work given back).
pub fn wait_for_work() {
    let mut spins = 0u32;
    while mgcmark::pool_hint() == 0 && DRAINERS.load(Ordering::Acquire) != 0 {
        STARVED.store(true, Ordering::Relaxed);
        // Spin, then yield, then nap: a holder held by grt_suspend in an assist holds on
        // until grt_resume.
        if spins < 100 {
            core::hint::spin_loop();
        } else if spins < 1100 {
            sys::sched_yield();
        } else {
            sys::nanosleep(CLOSE_NAP_NS);
        }
        spins = spins.saturating_add(1);
    }
}

/// Gives the oldest half of `w`'s buffer (up to GIVE_MAX_WORDS) to the pool for a marker that
/// found it empty, and wakes an idle P to take it.
fn give(w: &mut Work) {
    let n = (w.buf.words() / 2).min(GIVE_MAX_WORDS) & !1;
    MARK_LOCK.lock();
    w.buf.give_bottom(mgcmark::pool_locked(), n);
    mgcmark::publish_pool_locked();
    STARVED.store(false, Ordering::Relaxed);
    MARK_LOCK.unlock();
    GIVEN.fetch_add(1, Ordering::Relaxed);
    wake_idle();
}

/// Lets an idle P, if any, come to mark (it finds no goroutine, then marks: see
/// `proc::findrunnable`).
pub fn wake_idle() {
    // Only if that M would be let mark (a CPU free): else it wakes to go back to sleep.
    if GATE_OPEN.load(Ordering::Acquire)
        && !idle_mark_off()
        && crate::proc::ncpu() > 1
        && crate::proc::cpu_free_to_mark(core::ptr::null())
    {
        crate::proc::wakep();
    }
}

/// An idle M's marking (`proc::findrunnable`, holding its P, no goroutine to run): drains
/// with the M's Work until `stop()` (a goroutine to run), the gate closes, or the pool is
/// empty and stays so (no marker holds work, or none gave any back for IDLE_WAIT_NS).
/// Returns whether it marked anything.
pub fn idle_mark(w: &mut Work, mut stop: impl FnMut() -> bool) -> bool {
    let t0 = sys::nanotime();
    let mut total = 0usize;
    IDLE_MARKERS.fetch_add(1, Ordering::Relaxed);
    loop {
        let (how, n) = drain(w, usize::MAX, Who::Idle, &mut stop);
        total += n;
        if how != Ended::Empty {
            break;
        }
        // The pool is empty. While another marker holds work, this M has nothing better to
        // do than to wait for some (the holder gives back on seeing STARVED): woken later,
        // it would come a wakeup late (50-100 µs here), after the giver had taken its gift
        // back. Not counted in DRAINERS meanwhile: it holds nothing.
        let (mut given, mut since) = (GIVEN.load(Ordering::Relaxed), sys::nanotime());
        let mut stopped = false;
        while mgcmark::pool_hint() == 0
            && DRAINERS.load(Ordering::Acquire) != 0
            && GATE_OPEN.load(Ordering::Acquire)
        {
            if stop() {
                stopped = true;
                break;
            }
            // Still starving: another waiter may have taken the last gift, which cleared it.
            STARVED.store(true, Ordering::Relaxed);
            let now = sys::nanotime();
            let g = GIVEN.load(Ordering::Relaxed);
            if g != given {
                (given, since) = (g, now);
            } else if now - since > IDLE_WAIT_NS {
                break;
            }
            sys::sched_yield();
        }
        if stopped || mgcmark::pool_hint() == 0 || !GATE_OPEN.load(Ordering::Acquire) {
            break;
        }
    }
    IDLE_MARKERS.fetch_sub(1, Ordering::Relaxed);
    if total != 0 {
        IDLE_WORDS.fetch_add(total as u64, Ordering::Relaxed);
        IDLE_NS.fetch_add(sys::nanotime() - t0, Ordering::Relaxed);
    }
    total != 0
}

/// The address range of the collector's Work: no heap pointer (the collector's scan of
/// data and bss skips it).
pub fn static_range() -> (usize, usize) {
    (
        core::ptr::addr_of!(COLLECTOR) as usize,
        core::mem::size_of::<Work>(),
    )
}
