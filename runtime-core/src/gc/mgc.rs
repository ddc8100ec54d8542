//! The garbage collector's cycle (Go 1.5–1.7's mgc.go, conservative and cut down), its
//! pacing, and the C API (`grt_alloc`, `grt_gc`, `grt_gc_stats`, the write barrier).
//!
//! # A cycle
//!
//! Run by the collector's own thread (`gcworker`, not an M: stopping the world never stops
//! it):
//!
//! 1. **Barrier on** (stop the world, short): the write barrier starts shading
//!    (`grt_gc_wbenabled`), new objects are born marked. Stopping the world makes every
//!    thread see the flag before any scan starts.
//! 2. **Concurrent mark**: the program's data/bss, registered roots and channel buffers are
//!    collected; then every goroutine is scanned in turn (`scang`): taken with the scan bit
//!    (`castogscanstatus`) and its stack lock, a running one stopped by the suspend signal
//!    for the length of its scan, one in a system call or `grt_cgocall` scanned while its
//!    M keeps running (its stack above `syscallsp` is frozen). The scan installs stack
//!    barriers (stkbar.rs). Grey objects are drained by the collector and, beside it, by Ms
//!    whose P has nothing to run and by allocations that assist (gcwork.rs: each marker takes
//!    chunks of a shared pool under the mark lock and scans without it).
//!    Then **concurrent rescan rounds** (golang/go#17505's idea): the goroutines that ran
//!    since their scan and are parked now are rescanned down to their lowest barrier not
//!    hit and get new barriers below it; rounds repeat (a few) until one has almost
//!    nothing to do, so mark termination finds only what ran during the last short round.
//!    When a round does not shrink (the program dirties stacks as fast as the collector,
//!    which shares the CPUs with it, rescans them), and from the last round to the stop, an
//!    M about to run a goroutine whose stack is clean first yields its CPU
//!    ([`ROUNDS_BEHIND`]), so that the collector catches up.
//! 3. **Mark termination**: first, with the world running, the collector closes the
//!    markers' gate and waits until every marker has left, its work given back (a marker
//!    frozen by the stop could hold grey objects), and marks what they gave back. Then (stop
//!    the world) roots again (not channel buffers: every store into one is grt's own, with
//!    the barrier; the data and bss only as pages written since their last read, where the
//!    kernel tracks that: dirtyroots.rs), and the stack of every goroutine
//!    that may have run since its scan (`G.gcscanvalid` says a stack is unchanged since a
//!    scan of this cycle, and those are skipped; only the goroutines on Go 1.7's rescan
//!    list, rescanlist.rs, and those the Ms run are looked at) from its current sp up
//!    to its lowest barrier not hit (the whole stack if all were hit, or with
//!    `gcstackbarrieroff`), the stopped threads' registers; drain to the end; remove the
//!    barriers of the stacks rescanned; barrier off. The skipped stacks' barriers are taken
//!    out after the world restarts.
//! 4. **Sweep**, lazily (mheap.rs): mark termination only flips the sweep generation; then
//!    allocations sweep the spans they need and this thread the rest, a batch of spans per
//!    hold of the heap lock, before the next cycle marks.
//!
//! # Invariants
//!
//! - Lock order: LINK_LOCK, REG_LOCK, ALLCHANS_LOCK, ROOTS_LOCK, FIN_LOCK, HEAP_LOCK,
//!   MARK_LOCK, RESCAN_LOCK, SUSPEND_LOCK. The collector takes all nine before stopping the
//!   world (the program holds LINK_LOCK while it reads its links: mfinal.rs); nothing else
//!   takes a later one and then an earlier one (marking needs only MARK_LOCK: lookups are
//!   lock-free, mark bits atomic; RESCAN_LOCK is a leaf; under SUSPEND_LOCK a stopper takes
//!   no lock: it stops, reads stacks, puts barriers in or out, resumes). SUSPEND_LOCK comes
//!   last because an M stopped by
//!   `grt_suspend` stays stopped wherever it was, maybe inside a push to the rescan list or
//!   an allocation, holding one of the others, until `grt_resume`, which takes SUSPEND_LOCK:
//!   a collector that held it while it waited for the others waited forever (seen in
//!   gc_scandone_teeth under qemu; gc_suspend_locks now).
//! - With the world stopped, the collector takes no other lock and only *tries* stack locks:
//!   a stopped thread may hold one (goroutine exit, `grt_gc_unwind`). A stack whose lock
//!   cannot be had is rescanned in full and keeps its barriers until the next scan.
//! - Dijkstra's insertion barrier plus black allocation plus the final rescan make marking
//!   complete: a pointer that escapes the scans was either stored with `GRT_STORE` (shaded;
//!   it stores before it tests the flag, so a pause between the two cannot hide a store),
//!   or lives in a frame that ran since its scan (below the lowest unhit barrier: rescanned),
//!   in a register of a stopped thread (collected), or in data/bss/roots (rescanned).
//!
//! # Pacing
//!
//! The pacer counts Go's heap_live (`mheap`: what the last cycle marked, plus what was
//! allocated since; sweeping does not lower it). `heap_goal` = what the last cycle marked ×
//! (1 + GRTGC/100), at least [`MIN_HEAP_GOAL`], but for the part of it kept only for
//! finalizers, which is not grown over ([`goal_for`]). A cycle is asked for when heap_live reaches
//! the goal. An allocating goroutine (or registered thread) that finds heap_live past the goal
//! by half of it waits
//! for the end of the next marking (the one under way, or the one it asks for), which sets
//! heap_live back to what was marked: however fast goroutines allocate, the heap stays
//! within 1.5 × the goal, plus what the Ms' allocation caches hold (32 KiB a class each)
//! and the object being allocated. The wait is counted (`alloc_waits`, `alloc_wait_max_ns`).
//! Before it comes to that, an allocation that finds heap_live past the goal by a quarter
//! while a cycle marks does a batch of the marker's work itself on each cache refill
//! (Go's assists, simplified: a fixed batch of twice the refill, not Go's computed ratio;
//! counted in `assists`, `assist_ns`), so the marking usually ends before anyone waits.
//!
//! Markers hold MARK_LOCK only to move grey work (gcwork.rs), and the background sweep
//! holds HEAP_LOCK a batch at a time; a thread that waits for the heap lock (a cache to
//! refill) is handed it between batches (`Lock::hand_over`) instead of the loop taking it
//! straight back.

use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use grt_arch as arch;

use crate::errors::{report, GRT_EINVAL, GRT_ENOMEM, GRT_ENOTINIT, GRT_ESYS, GRT_OK};
use crate::lock::Lock;
use crate::mgcmark::{self, StackTop};
use crate::mheap::{self, HEAP_LOCK};
use crate::runtime2::*;
use crate::{
    auxv, chan, dirty, dirtyroots, env, gcwork, libroots, mcache, mfinal, mgcpar, proc, regthreads,
    rescanlist, stkbar, stw, suspend, sys, thread,
};

/// The smallest heap goal, in bytes (below it cycles would only cost).
pub const MIN_HEAP_GOAL: usize = 4 << 20;
/// A cycle is asked for when the live heap reaches this fraction of the goal, as a ratio.
/// At the goal itself: asking at 7/8 of it (so that the cycle could end by the goal) made
/// GCBench run 30% more cycles for a bound the hard limit below gives anyway.
const TRIGGER_NUM: usize = 1;
const TRIGGER_DEN: usize = 1;
/// An allocating goroutine waits for the cycle once the live heap is over the goal by
/// 1/this of it.
const HARD_OVER_DEN: usize = 2;
/// How long the background sweep (and the marker, when it drains under the mark lock) waits
/// between batches for a thread that wants its lock to take it (`Lock::hand_over`), in ns:
/// a sleeping waiter takes tens of microseconds to wake.
const HANDOFF_NS: u64 = 100_000;
/// Scanning budget of one batch of the collector's marking, in words.
const DRAIN_BATCH_WORDS: usize = 16 * 1024;
/// Registered root ranges at most.
const MAX_ROOTS: usize = 1024;
/// Plain-store mode's kernel form: concurrent rounds over the heap's written pages before
/// mark termination, at most (dirty.rs `round`).
const HEAP_ROUNDS_MAX: usize = 4;
/// ... and a round that found less than this to rescan, in bytes of marked objects, is the
/// last: what mark termination has left is about as small.
const HEAP_ROUND_SMALL_BYTES: usize = 256 << 10;
/// Registered root ranges whose stores the kernel tracks (dirtyroots.rs) at most; the rest
/// are read whole at mark termination.
const TRACKED_ROOTS_MAX: usize = 32;

/// 1 while a cycle marks: C's GRT_STORE tests it (`volatile int` in grt.h).
#[no_mangle]
pub static grt_gc_wbenabled: AtomicI32 = AtomicI32::new(0);

/// GRTGC: percent of growth that triggers a cycle; negative: off.
static GC_PERCENT: AtomicI32 = AtomicI32::new(100);
/// GRTMEMLIMIT (Go's GOMEMLIMIT), in bytes: the heap goal never exceeds it; `usize::MAX`:
/// none. Soft: no allocation fails for it.
static MEM_LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
/// Under the memory limit, the goal is still at least the live heap plus 1/this of it (a
/// live heap at or past the limit gets a cycle after every such growth, not one per
/// allocation).
const LIMIT_HEADROOM_DEN: usize = 16;
static HEAP_GOAL: AtomicUsize = AtomicUsize::new(MIN_HEAP_GOAL);
/// What the last cycle left live (marked, and allocated black), in bytes: the goal's base.
static LAST_MARKED: AtomicUsize = AtomicUsize::new(0);
/// Of those, the bytes kept only for finalizers and disclaims (see [`goal_for`]).
static LAST_REVIVED: AtomicUsize = AtomicUsize::new(0);
/// Whether the next cycle reads the registered threads' stacks while it marks (see
/// [`read_threads`]).
static READ_THREADS: AtomicBool = AtomicBool::new(true);
/// What marking much is, in bytes: below it, the read's stop of the threads costs them more
/// than it takes out of mark termination (bdwgc's realloc test: 16 to 64 KiB live, the
/// stop 1 to 100 µs; disclaim_bench: 1 MiB found by the read).
const READ_THREADS_MIN: usize = 128 << 10;
/// After a read that found little, the cycle before which no mark termination turns the
/// read on again, and the back-off's exponent (the wait doubles after each read that
/// found little, up to 2^READ_BACKOFF_MAX cycles).
static READ_AGAIN_AT: AtomicU64 = AtomicU64::new(0);
static READ_BACKOFF: AtomicU32 = AtomicU32::new(0);
const READ_BACKOFF_MAX: u32 = 6;
/// At least 1/this of the live heap is grown over, revived or not (see [`goal_for`]).
const REVIVED_GROWN_DEN: usize = 4;
/// Cycles asked for / completed (futex words).
static WORK: AtomicU32 = AtomicU32::new(0);
static DONE: AtomicU32 = AtomicU32::new(0);
static RUNNING: AtomicBool = AtomicBool::new(false);
/// Cycles whose marking has ended (a futex word): an allocation waiting for the collector
/// waits for this, not for the sweep.
static MARKED_CYCLES: AtomicU32 = AtomicU32::new(0);
/// What the collector's thread is doing: PHASE_IDLE, PHASE_MARK (from the start of a cycle
/// to the end of its mark termination), PHASE_SWEEP (the rest of the cycle).
static PHASE: AtomicU32 = AtomicU32::new(PHASE_IDLE);
const PHASE_IDLE: u32 = 0;
const PHASE_MARK: u32 = 1;
const PHASE_SWEEP: u32 = 2;
static STARTED: AtomicBool = AtomicBool::new(false);
static TRACE: AtomicBool = AtomicBool::new(false);
/// The number of the cycle under way (or the last one), for `G::gcscan_cycle`; the collector
/// thread's own.
static CYCLE: AtomicU64 = AtomicU64::new(0);
/// Test-only build, `GRTDEBUG=gcnoscandone=1`: every stack counts as scanned in the cycle,
/// so old barriers are trusted (gc_scandone's teeth).
static NO_SCANDONE: AtomicBool = AtomicBool::new(false);
/// `GRTDEBUG=gcnorescanrounds=1`: no concurrent rescan rounds (mark termination rescans
/// everything that ran since its scan), to compare.
static NO_ROUNDS: AtomicBool = AtomicBool::new(false);
/// `GRTDEBUG=gcnoroundyield=1`: Ms do not yield to rescan rounds that fall behind, to compare.
static NO_ROUND_YIELD: AtomicBool = AtomicBool::new(false);

static ROOTS_LOCK: Lock = Lock::new();
static mut ROOTS: [(usize, usize); MAX_ROOTS] = [(0, 0); MAX_ROOTS];
static mut NROOTS: usize = 0;
/// Calls of grt_remove_roots that removed something, so far (under ROOTS_LOCK).
static ROOTS_REMOVED: AtomicU64 = AtomicU64::new(0);
/// [`ROOTS_REMOVED`] when this cycle protected the registered roots (collector only).
static ROOTS_REMOVED_AT_PROTECT: AtomicU64 = AtomicU64::new(0);
/// The registered root ranges this cycle protected (collector only).
static mut PROTECTED_ROOTS: [(usize, usize); TRACKED_ROOTS_MAX] = [(0, 0); TRACKED_ROOTS_MAX];
static NPROTECTED_ROOTS: AtomicUsize = AtomicUsize::new(0);

/// Counters for grt_gc_stats (written by the collector thread, read by anyone).
struct Stats {
    cycles: AtomicU64,
    pause_total_ns: AtomicU64,
    pause_max_ns: AtomicU64,
    last_markterm_ns: AtomicU64,
    last_rescan_ns: AtomicU64,
    last_sweep_ns: AtomicU64,
    frames_scanned: AtomicU64,
    frames_rescanned: AtomicU64,
    last_frames_rescanned: AtomicU64,
    barriers_installed: AtomicU64,
    barriers_hit: AtomicU64,
    stacks_rescanned_whole: AtomicU64,
    barriers_unprovable: AtomicU64,
    scan_ns: AtomicU64,
    barriers_jumped: AtomicU64,
    stacks_rescanned: AtomicU64,
    stacks_skipped: AtomicU64,
    last_stacks_rescanned: AtomicU64,
    last_stacks_skipped: AtomicU64,
    last_stop_ns: AtomicU64,
    last_flush_ns: AtomicU64,
    last_roots_ns: AtomicU64,
    last_drain_ns: AtomicU64,
    last_start_ns: AtomicU64,
    rescan_rounds: AtomicU64,
    round_stacks: AtomicU64,
    round_yields: AtomicU64,
    alloc_waits: AtomicU64,
    alloc_wait_max_ns: AtomicU64,
    assists: AtomicU64,
    assist_ns: AtomicU64,
    sweep_batch_max_ns: AtomicU64,
    last_data_bytes: AtomicU64,
    last_data_rescanned_bytes: AtomicU64,
}

static STATS: Stats = Stats {
    cycles: AtomicU64::new(0),
    pause_total_ns: AtomicU64::new(0),
    pause_max_ns: AtomicU64::new(0),
    last_markterm_ns: AtomicU64::new(0),
    last_rescan_ns: AtomicU64::new(0),
    last_sweep_ns: AtomicU64::new(0),
    frames_scanned: AtomicU64::new(0),
    frames_rescanned: AtomicU64::new(0),
    last_frames_rescanned: AtomicU64::new(0),
    barriers_installed: AtomicU64::new(0),
    barriers_hit: AtomicU64::new(0),
    stacks_rescanned_whole: AtomicU64::new(0),
    barriers_unprovable: AtomicU64::new(0),
    scan_ns: AtomicU64::new(0),
    barriers_jumped: AtomicU64::new(0),
    stacks_rescanned: AtomicU64::new(0),
    stacks_skipped: AtomicU64::new(0),
    last_stacks_rescanned: AtomicU64::new(0),
    last_stacks_skipped: AtomicU64::new(0),
    last_stop_ns: AtomicU64::new(0),
    last_flush_ns: AtomicU64::new(0),
    last_roots_ns: AtomicU64::new(0),
    last_drain_ns: AtomicU64::new(0),
    last_start_ns: AtomicU64::new(0),
    rescan_rounds: AtomicU64::new(0),
    round_stacks: AtomicU64::new(0),
    round_yields: AtomicU64::new(0),
    alloc_waits: AtomicU64::new(0),
    alloc_wait_max_ns: AtomicU64::new(0),
    assists: AtomicU64::new(0),
    assist_ns: AtomicU64::new(0),
    sweep_batch_max_ns: AtomicU64::new(0),
    last_data_bytes: AtomicU64::new(0),
    last_data_rescanned_bytes: AtomicU64::new(0),
};

/// What C's `grt_gc_stats` holds.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct GcStats {
    pub cycles: u64,
    pub heap_inuse: u64,
    pub heap_mapped: u64,
    pub heap_goal: u64,
    pub nmalloc: u64,
    pub nfree: u64,
    pub pause_total_ns: u64,
    pub pause_max_ns: u64,
    pub last_markterm_ns: u64,
    pub last_rescan_ns: u64,
    pub last_sweep_ns: u64,
    pub frames_scanned: u64,
    pub frames_rescanned: u64,
    pub last_frames_rescanned: u64,
    pub barriers_installed: u64,
    pub barriers_hit: u64,
    /// Stacks mark termination rescanned whole although they may hold barriers: not scanned
    /// in the cycle, stopped off their own stack, or their stack lock held.
    pub stacks_rescanned_whole: u64,
    /// Scans that stopped placing barriers at a frame record not proven to be one (its
    /// return address not code right after a call: frame-pointer-less code in the chain).
    pub barriers_unprovable: u64,
    /// Time in the concurrent stack scans (removing old barriers, collecting, checking
    /// frames and installing barriers), total, in ns.
    pub scan_ns: u64,
    /// Barriers whose frames a jump discarded without grt_gc_unwind (a longjmp in a
    /// library): passed over by the trampoline or dropped by a scan.
    pub barriers_jumped: u64,
    /// Goroutine stacks mark termination rescanned (any part of), total; and those it
    /// skipped because they had not run since their scan in the cycle (`G.gcscanvalid`).
    pub stacks_rescanned: u64,
    pub stacks_skipped: u64,
    /// The same, in the last cycle.
    pub last_stacks_rescanned: u64,
    pub last_stacks_skipped: u64,
    /// The last mark termination's pause in parts, in ns: stopping the threads, flushing
    /// their caches and write-barrier buffers, collecting data/bss and roots, (rescanning
    /// stacks: `last_rescan_ns`), the final drain, restarting the world.
    pub last_stop_ns: u64,
    pub last_flush_ns: u64,
    pub last_roots_ns: u64,
    pub last_drain_ns: u64,
    pub last_start_ns: u64,
    /// Concurrent rescan rounds before mark termination, and stacks they rescanned, total.
    pub rescan_rounds: u64,
    pub round_stacks: u64,
    /// Go's heap_live: bytes the last cycle found live plus bytes allocated since (what the
    /// pacer holds to the goal; `heap_inuse` also counts dead objects not yet swept).
    pub heap_live: u64,
    /// Allocations that waited for a cycle because the live heap was past the hard limit
    /// (the goal and a half), and the longest such wait, in ns.
    pub alloc_waits: u64,
    pub alloc_wait_max_ns: u64,
    /// The longest the background sweep held the heap lock at once, in ns, and spans swept
    /// by allocations (the rest by the background sweep), total.
    pub sweep_batch_max_ns: u64,
    pub spans_swept_by_alloc: u64,
    /// Free heap pages given back to the kernel (madvise) now, and in all, in bytes.
    pub heap_released: u64,
    pub heap_released_total: u64,
    /// Plain-store mode (dirty.rs): writes to protected heap pages caught, and logged
    /// ranges rescanned at mark termination, in all.
    pub dirty_faults: u64,
    pub dirty_ranges_rescanned: u64,
    /// Plain-store mode: mark terminations that rescanned every marked object (write
    /// protection unusable: the log overflowed, or faulting stores do not restart exactly).
    pub dirty_full_rescans: u64,
    /// Mark assists (an allocation past the goal while a cycle marks scans a batch itself),
    /// and the time they took, in all.
    pub assists: u64,
    pub assist_ns: u64,
    /// Bytes allocated since the start (size-class rounded; an allocation cache's run counts
    /// when the cache takes it), and the bytes the last cycle found live.
    pub alloc_bytes: u64,
    pub last_marked: u64,
    /// Times an M yielded its CPU before running a goroutine with a clean stack because the
    /// rescan rounds fell behind or mark termination was about to stop the world
    /// ([`ROUNDS_BEHIND`]), in all.
    pub round_yields: u64,
    /// Mark termination jobs big enough to wake the helper thread (mgcpar.rs), and of them
    /// the ones it took part in, in all.
    pub mark_par_jobs: u64,
    pub mark_helper_jobs: u64,
    /// The most pages' worth of spans one allocation swept looking for room in its class
    /// (mheap.rs SWEEP_CLASS_BUDGET_PAGES bounds it).
    pub alloc_sweep_max_pages: u64,
    /// Marking done by Ms that had no goroutine to run while a cycle marked (gcwork.rs, Go's
    /// idle mark workers): bytes of objects scanned, and the time it took (waits for work
    /// another marker held included), in all.
    pub idle_mark_bytes: u64,
    pub idle_mark_ns: u64,
    /// 1 when the last mark termination read, of some of the data and bss or of the
    /// registered root ranges, only the pages written since the concurrent round
    /// (dirtyroots.rs: the kernel tracks the stores, for runs of 256 KiB or more); 0 when it
    /// read them all.
    pub roots_tracked: u64,
    /// The data and bss the collector reads (the program's and its libraries', grt's own
    /// large tables left out) and the registered root ranges, at the last mark termination,
    /// and of them the bytes it read.
    pub last_data_bytes: u64,
    pub last_data_rescanned_bytes: u64,
    /// Plain-store mode's kernel form: cycles whose stores into the heap the kernel tracked
    /// (the others, in that form, rescanned every marked object).
    pub dirty_kernel_cycles: u64,
}

// ---- start-up ----------------------------------------------------------------------------

/// From schedinit, before the first goroutine: knobs, buffers, the collector thread.
pub fn init() -> Result<(), i32> {
    const F: &str = "grt_main";
    stkbar::init_knobs();
    chan::init_knobs();
    TRACE.store(crate::debug::get().gctrace, Ordering::Relaxed);
    NO_SCANDONE.store(
        cfg!(feature = "testhooks") && crate::debug::get().gcnoscandone,
        Ordering::Relaxed,
    );
    NO_ROUNDS.store(crate::debug::get().gcnorescanrounds, Ordering::Relaxed);
    NO_ROUND_YIELD.store(crate::debug::get().gcnoroundyield, Ordering::Relaxed);
    NO_ASSISTS.store(crate::debug::get().gcnoassist, Ordering::Relaxed);
    mheap::NO_SWEEPGEN_CHECK.store(
        cfg!(feature = "testhooks") && crate::debug::get().gcnosweepgen,
        Ordering::Relaxed,
    );
    NO_PACE_IDLE.store(
        cfg!(feature = "testhooks") && crate::debug::get().gcnopaceidle,
        Ordering::Relaxed,
    );
    mheap::NO_SWEEP_BUDGET.store(
        cfg!(feature = "testhooks") && crate::debug::get().gcnosweepbudget,
        Ordering::Relaxed,
    );
    SCANVALID_KEEP.store(
        cfg!(feature = "testhooks") && crate::debug::get().gcscanvalidkeep,
        Ordering::Relaxed,
    );
    NO_RESCAN_LIST.store(
        cfg!(feature = "testhooks") && crate::debug::get().gcnorescanlist,
        Ordering::Relaxed,
    );
    RESCAN_CHECK.store(
        cfg!(feature = "testhooks") && crate::debug::get().gcrescancheck,
        Ordering::Relaxed,
    );
    match env::get("GRTPLAINSTORES") {
        None | Some(b"0") => {}
        Some(b"1") => dirty::set(dirty::MODE_PROTECT),
        Some(b"2") => dirty::set(dirty::MODE_RESCAN),
        Some(b"3") => dirty::set(dirty::MODE_KERNEL),
        Some(_) => crate::printerr!("grt: GRTPLAINSTORES must be 0, 1, 2 or 3; ignored\n"),
    }
    match env::get("GRTMEMLIMIT") {
        None | Some(b"off") => {}
        Some(v) => match parse_bytes(v) {
            Some(n) => set_memory_limit(n),
            None => crate::printerr!(
                "grt: GRTMEMLIMIT must be a number of bytes with an optional suffix B, KiB, MiB, GiB or TiB, or \"off\"; ignored\n"
            ),
        },
    }
    match env::get("GRTGC") {
        None => {}
        Some(b"off") => GC_PERCENT.store(-1, Ordering::Relaxed),
        Some(_) => match env::get_number("GRTGC") {
            Some(Ok(n)) if n <= 100_000 => GC_PERCENT.store(n as i32, Ordering::Relaxed),
            _ => {
                crate::printerr!(
                    "grt: GRTGC must be a percentage (0..100000) or \"off\"; using 100\n"
                );
            }
        },
    }
    // The code mappings barriers are checked against (refreshed by the collector when a
    // return address lies in none of them).
    crate::codemap::COLLECTOR.snapshot();
    crate::unwind::snapshot();
    init_noscan();
    if !mgcmark::init() {
        return Err(report(
            GRT_ENOMEM,
            F,
            format_args!("no address space for the collector's mark buffers"),
        ));
    }
    if let Err(e) = thread::start(gcworker, core::ptr::null_mut()) {
        return Err(report(
            GRT_ESYS,
            F,
            format_args!("cannot start the collector's thread: errno {}", e.0),
        ));
    }
    STARTED.store(true, Ordering::Release);
    Ok(())
}

unsafe extern "C" fn gcworker(_: *mut c_void) {
    crate::cpuprof::gc_thread_hook();
    let mut last_scavenge = sys::nanotime();
    loop {
        let done = DONE.load(Ordering::Acquire);
        let work = WORK.load(Ordering::Acquire);
        if work == done {
            let now = sys::nanotime();
            if now - last_scavenge >= SCAVENGE_PERIOD_NS {
                scavenge_pass();
                last_scavenge = now;
                continue;
            }
            let left = SCAVENGE_PERIOD_NS - (now - last_scavenge);
            let _ = sys::futex_wait_private(&WORK, work, Some(left));
            continue;
        }
        RUNNING.store(true, Ordering::Release);
        PHASE.store(PHASE_MARK, Ordering::Release);
        gc_cycle();
        PHASE.store(PHASE_IDLE, Ordering::Release);
        RUNNING.store(false, Ordering::Release);
        DONE.store(done.wrapping_add(1), Ordering::Release);
        sys::futex_wake_private(&DONE, sys::FUTEX_WAKE_ALL);
    }
}

/// Asks for cycle number `target` (cycles completed so far + n).
fn request(target: u32) {
    let mut w = WORK.load(Ordering::Acquire);
    while (target.wrapping_sub(w) as i32) > 0 {
        match WORK.compare_exchange(w, target, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {
                // Woken parked (suspend.rs): the collector may take this thread's CPU, and
                // a stop meanwhile then need not signal it.
                let mut wake = || sys::futex_wake_private(&WORK, 1);
                if !suspend::with_parked(&mut wake, None) {
                    wake();
                }
                return;
            }
            Err(cur) => w = cur,
        }
    }
}

/// Blocks the calling thread until the counter `word` (`DONE`, `MARKED_CYCLES`) reaches
/// `target`. Called by a goroutine through grt_cgocall (`idle`), its M waits as an idle M:
/// it holds no lock and touches no heap memory, so stopping the world need not signal it
/// (stw.rs; the goroutine's frames are frozen above syscallsp and scanned from there). Not
/// so on an M already on its system stack (a grt_cgocall function that collects): that
/// function's frames and registers are roots only while its M is stopped by the signal.
fn wait_count(word: &AtomicU32, target: u32, idle: bool) {
    // SAFETY: the TLS m slot is null or this thread's own M.
    let m = unsafe { proc::getm().as_ref() }.filter(|_| idle);
    if let Some(m) = m {
        stw::idle_enter(m);
    }
    loop {
        let d = word.load(Ordering::Acquire);
        if (d.wrapping_sub(target) as i32) >= 0 {
            break;
        }
        // Parked: stopping the world need not signal this thread (suspend.rs).
        suspend::futex_wait_parked(word, d);
    }
    if let Some(m) = m {
        stw::idle_exit(m);
    }
}

/// The argument of the `wait_*_c` functions: the count to wait for, and (bit 32) whether
/// the caller is a goroutine, whose M may then wait as an idle one.
fn wait_arg(target: u32) -> *mut c_void {
    (target as usize | (is_goroutine() as usize) << 32) as *mut c_void
}

/// Waits until the marking of cycle `arg` (a count of [`MARKED_CYCLES`]) has ended.
extern "C" fn wait_marked_c(arg: *mut c_void) {
    let a = arg as usize;
    wait_count(&MARKED_CYCLES, a as u32, a >> 32 != 0);
}

/// Waits until cycle `arg` (a count of `DONE`) has completed.
extern "C" fn wait_done_c(arg: *mut c_void) {
    let a = arg as usize;
    wait_count(&DONE, a as u32, a >> 32 != 0);
}

extern "C" {
    /// asm/<arch>/syscall.S: runs `f(arg)` on the M's system stack with the goroutine in the
    /// syscall state (scannable while it waits); calls it in place off goroutines.
    fn grt_cgocall(f: extern "C" fn(*mut c_void), arg: *mut c_void) -> i32;
}

/// Waits for cycle `target` to complete, as a system call when on a goroutine (its P goes to
/// other goroutines; the collector scans it meanwhile).
fn wait_cycle(target: u32) {
    // SAFETY: wait_done_c is a plain C-ABI function; grt_cgocall handles both the goroutine
    // and the non-goroutine case.
    unsafe { grt_cgocall(wait_done_c, wait_arg(target)) };
}

// ---- limits ---------------------------------------------------------------------------------

/// `123`, `123B`, `64KiB`, `512MiB`, `2GiB`, `1TiB` (Go's GOMEMLIMIT forms) as bytes.
pub fn parse_bytes(v: &[u8]) -> Option<usize> {
    let digits = v.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 19 {
        return None;
    }
    let n = v[..digits]
        .iter()
        .fold(0u64, |n, d| n * 10 + (d - b'0') as u64);
    let shift = match &v[digits..] {
        b"" | b"B" => 0,
        b"KiB" => 10,
        b"MiB" => 20,
        b"GiB" => 30,
        b"TiB" => 40,
        _ => return None,
    };
    n.checked_mul(1u64 << shift)
        .and_then(|b| usize::try_from(b).ok())
}

/// The heap goal after a cycle that left `live` bytes: GRTGC's growth over it, at least
/// [`MIN_HEAP_GOAL`], at most the memory limit (but never below `live` plus a little room);
/// with GRTGC=off, the memory limit alone (or no goal).
///
/// `revived` of the live bytes were kept only for finalizers and disclaims (unreachable
/// objects that are due, and all they reach): they count in the goal but are not grown
/// over, as they die in the next cycle once their finalizers have run. (Go grows over them
/// too. With every garbage object finalizable, as in bdwgc's disclaim_bench, each cycle
/// then kept all the last one's garbage, and its goal, heap and pause grew cycle after
/// cycle: 8 cycles and 107 MiB where bdwgc ran 115 in 10 MiB.) But at least a quarter of
/// the live heap is grown over: some of those bytes never die (a cycle of finalizable
/// objects, a disclaim that keeps answering "keep"), and a goal at the live heap itself
/// would ask for a cycle at once, and again after every little allocation.
fn goal_for(live: usize, revived: usize) -> usize {
    let pct = GC_PERCENT.load(Ordering::Relaxed);
    let limit = MEM_LIMIT.load(Ordering::Relaxed);
    // Test-only: grown over too (see debug.rs).
    let revived = if cfg!(feature = "testhooks") && crate::debug::get().gcgrowrevived {
        0
    } else {
        revived
    };
    let grown = (live - revived.min(live)).max(live / REVIVED_GROWN_DEN);
    let by_pct = if pct < 0 {
        usize::MAX
    } else {
        live.saturating_add(grown / 100 * pct as usize)
            .max(MIN_HEAP_GOAL)
    };
    let floor = live.saturating_add(live / LIMIT_HEADROOM_DEN).max(64 << 10);
    by_pct.min(limit.max(floor))
}

fn set_memory_limit(bytes: usize) {
    MEM_LIMIT.store(bytes, Ordering::Relaxed);
    refresh_goal();
}

/// The goal follows a new setting at once (Go's SetMemoryLimit, SetGCPercent): the next
/// allocation may ask for a cycle.
fn refresh_goal() {
    HEAP_LOCK.lock();
    HEAP_GOAL.store(
        goal_for(
            LAST_MARKED.load(Ordering::Relaxed),
            LAST_REVIVED.load(Ordering::Relaxed),
        ),
        Ordering::Relaxed,
    );
    HEAP_LOCK.unlock();
}

/// Whether a goal is in force (GRTGC on, or a memory limit).
fn pacing_on() -> bool {
    GC_PERCENT.load(Ordering::Relaxed) >= 0 || MEM_LIMIT.load(Ordering::Relaxed) != usize::MAX
}

/// `grt_gc_set_memory_limit`.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_gc_set_memory_limit(limit: i64) -> i64 {
    let _np = crate::preempt::NoPreempt::enter();
    let old = match MEM_LIMIT.load(Ordering::Relaxed) {
        usize::MAX => i64::MAX,
        b => b.min(i64::MAX as usize) as i64,
    };
    if limit >= 0 {
        set_memory_limit(if limit == i64::MAX {
            usize::MAX
        } else {
            limit as usize
        });
    }
    old
}

/// `grt_gc_set_percent` (Go's debug.SetGCPercent).
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_gc_set_percent(percent: i32) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    let p = if percent < 0 {
        -1
    } else {
        percent.min(100_000)
    };
    let old = GC_PERCENT.swap(p, Ordering::Relaxed);
    refresh_goal();
    old
}

/// `grt_gc_set_max_heap`.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_gc_set_max_heap(bytes: usize) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    mheap::MAX_MAPPED.store(
        if bytes == 0 { usize::MAX } else { bytes },
        Ordering::Relaxed,
    );
    GRT_OK
}

/// A full cycle that starts after the call (grt_gc's).
fn full_cycle() {
    let done = DONE.load(Ordering::Acquire);
    let target = if RUNNING.load(Ordering::Acquire) || WORK.load(Ordering::Acquire) != done {
        done.wrapping_add(2)
    } else {
        done.wrapping_add(1)
    };
    request(target);
    wait_cycle(target);
}

// ---- allocation ----------------------------------------------------------------------------

#[inline(always)]
pub(crate) fn alloc(n: usize, noscan: bool) -> *mut c_void {
    let p = try_alloc(n, noscan);
    if p.is_null() {
        out_of_memory(n);
    }
    p
}

/// `n` zeroed bytes of heap, or null when the heap cannot have them (a size no mapping can
/// hold, the kernel refused memory, or the heap limit: then only after a full cycle and a
/// full sweep, bdwgc's retry).
///
/// The fast path (a small object from the M's current run: a bump) is inlined into the C
/// entry points; everything else is out of line.
#[inline(always)]
pub(crate) fn try_alloc(n: usize, noscan: bool) -> *mut c_void {
    if n <= mheap::MAX_SMALL {
        // SAFETY: the TLS m slot is null or this thread's own M.
        if let Some(m) = unsafe { proc::getm().as_mut() } {
            // Stopping the world may be asking the Ms to stop (stw.rs).
            stw::poll_stop(m);
            if let Some(p) = mcache::bump(&mut m.mcache.runs, mheap::class_of(n), noscan) {
                return p as *mut c_void;
            }
        } else {
            // A registered thread (gc.h's GC_MALLOC) bumps in its own cache the same way
            // (regthreads.rs; try_alloc_once's path without the refill).
            let c = arch::getcache() as *mut mcache::Runs;
            // SAFETY: null or this thread's cache, which only this thread and the collector
            // (with the thread stopped) touch.
            if let Some(runs) = unsafe { c.as_mut() } {
                // Mark termination may be asking registered threads to stop.
                regthreads::poll_stop();
                if let Some(p) = mcache::bump(runs, mheap::class_of(n), noscan) {
                    return p as *mut c_void;
                }
            }
        }
    }
    try_alloc_slow(n, noscan)
}

#[cold]
#[inline(never)]
fn try_alloc_slow(n: usize, noscan: bool) -> *mut c_void {
    retry_at_cap(n, || try_alloc_once(n, noscan))
}

/// `attempt` (an allocation of `n` bytes), and once more after a full collection and sweep
/// when it failed under grt_gc_set_max_heap's cap.
fn retry_at_cap(n: usize, attempt: impl Fn() -> *mut c_void) -> *mut c_void {
    let p = attempt();
    let max = mheap::MAX_MAPPED.load(Ordering::Relaxed);
    // (A request larger than the cap itself cannot be helped by a collection.)
    if !p.is_null() || max == usize::MAX || n > max || !STARTED.load(Ordering::Acquire) {
        return p;
    }
    full_cycle();
    HEAP_LOCK.lock();
    // Bounded: each round sweeps what is left unswept of this cycle.
    while mheap::sweep_some_locked(usize::MAX).1 {}
    HEAP_LOCK.unlock();
    attempt()
}

/// Spans start on a heap page (chunks are aligned: mheap.rs): an object of a size class that
/// is a multiple of an alignment up to this is aligned to it.
const SPAN_ALIGN: usize = mheap::PAGE_BYTES;

/// `grt_alloc_aligned`: `n` zeroed bytes aligned to `align` (a power of two). Up to
/// [`SPAN_ALIGN`], an object's start: of the smallest class that is a multiple of `align`
/// (or a large object, at a span's start). Up to [`mheap::MAX_IN_CHUNK`], a large object
/// (a span of its own, at least [`mheap::MAX_SMALL`] bytes) placed at that alignment. Above,
/// an aligned pointer into an object `align - 1` bytes larger (an interior pointer keeps its
/// object like any other).
pub(crate) fn try_alloc_aligned(align: usize, n: usize, noscan: bool) -> *mut c_void {
    if align <= 16 {
        return try_alloc(n, noscan); // every object is 16-byte aligned
    }
    if align <= SPAN_ALIGN {
        if n > mheap::MAX_SMALL {
            return try_alloc(n, noscan);
        }
        if let Some(size) = mheap::class_multiple(n, align) {
            return try_alloc(size, noscan);
        }
    }
    if align <= mheap::MAX_IN_CHUNK {
        let m = n.max(mheap::MAX_SMALL + 1);
        return retry_at_cap(m, || {
            HEAP_LOCK.lock();
            let p = mheap::alloc_large_locked(m, noscan, align);
            let live = mheap::live_locked();
            HEAP_LOCK.unlock();
            if !p.is_null() {
                heap_grew(live);
            }
            p as *mut c_void
        });
    }
    let Some(m) = n.checked_add(align - 1) else {
        return core::ptr::null_mut();
    };
    let p = try_alloc(m, noscan) as usize;
    if p == 0 {
        return core::ptr::null_mut();
    }
    ((p + align - 1) & !(align - 1)) as *mut c_void
}

fn try_alloc_once(n: usize, noscan: bool) -> *mut c_void {
    if n <= mheap::MAX_SMALL {
        // SAFETY: the TLS m slot is null or this thread's own M.
        if let Some(m) = unsafe { proc::getm().as_mut() } {
            return mcache::alloc_m(&mut m.mcache, mheap::class_of(n), noscan) as *mut c_void;
        }
        // A registered thread's own cache (regthreads.rs).
        let c = arch::getcache() as *mut mcache::Runs;
        // SAFETY: null or this thread's cache, which only this thread and the collector (with
        // the thread stopped) touch.
        if let Some(runs) = unsafe { c.as_mut() } {
            // Mark termination may be asking registered threads to stop (regthreads.rs).
            regthreads::poll_stop();
            return mcache::alloc(runs, mheap::class_of(n), noscan) as *mut c_void;
        }
    }
    HEAP_LOCK.lock();
    let p = mheap::alloc_locked(n.max(1), noscan);
    let live = mheap::live_locked();
    HEAP_LOCK.unlock();
    if !p.is_null() {
        heap_grew(live);
    }
    p as *mut c_void
}

#[cold]
fn out_of_memory(n: usize) -> ! {
    HEAP_LOCK.lock();
    let s = mheap::stats_locked();
    HEAP_LOCK.unlock();
    let max = mheap::MAX_MAPPED.load(Ordering::Relaxed);
    if max != usize::MAX {
        crate::throw!(
            "out of memory: cannot allocate {} bytes within the heap limit of {} bytes (grt_gc_set_max_heap; heap in use {} bytes, mapped {} bytes)",
            n,
            max,
            s.inuse,
            s.mapped
        )
    }
    crate::throw!(
        "out of memory: cannot allocate {} bytes (heap in use {} bytes, mapped {} bytes)",
        n,
        s.inuse,
        s.mapped
    )
}

/// After the heap grew to `live` bytes (Go's heap_live: a cache refill or a locked
/// allocation): at the trigger, ask for a cycle; at the hard limit, wait for the cycle
/// asked for or under way (see the module comment).
pub fn heap_grew(live: usize) {
    let goal = HEAP_GOAL.load(Ordering::Relaxed);
    let trigger = goal / TRIGGER_DEN * TRIGGER_NUM;
    if live < trigger || !pacing_on() || !STARTED.load(Ordering::Acquire) {
        return;
    }
    let marked = MARKED_CYCLES.load(Ordering::Acquire);
    let phase = PHASE.load(Ordering::Acquire);
    let done = DONE.load(Ordering::Acquire);
    if !RUNNING.load(Ordering::Acquire) && WORK.load(Ordering::Acquire) == done {
        request(done.wrapping_add(1));
    }
    if cfg!(feature = "testhooks") && NO_PACE_IDLE.load(Ordering::Relaxed) && phase != PHASE_MARK {
        // gc_pacing's teeth: the old pacer, which throttled nothing until a cycle marked.
        return;
    }
    // Past the goal while a cycle marks: pay with mark work first (Go's assists), a batch
    // per refill, so that the marking ends before the hard limit below makes us wait.
    if live >= goal + goal / ASSIST_OVER_DEN {
        if phase == PHASE_MARK && mgcmark::marking() && !no_assists() {
            assist();
        } else if phase == PHASE_IDLE {
            // Asked for, not started: the collector's thread, just woken, may be queued
            // behind this one on its CPU (the kernel tends to wake a thread where its waker
            // runs); let it run.
            sys::sched_yield();
        }
    }
    // Outrunning the collector: wait for the end of the next marking (the one under way, or
    // else the next cycle's, asked for here), which sets the live heap back to what it
    // marked. (`marked` was read before `phase`: if the marking under way ends in between,
    // the wait is over at once.)
    // Goroutines and registered threads (those with an allocation cache) wait; other threads
    // (grt's own, unregistered ones) cannot be stopped for it.
    if live >= goal + goal / HARD_OVER_DEN && (is_goroutine() || arch::getcache() != 0) {
        if phase == PHASE_SWEEP {
            request(done.wrapping_add(2));
        }
        let t0 = sys::nanotime();
        // SAFETY: as in wait_cycle.
        unsafe { grt_cgocall(wait_marked_c, wait_arg(marked.wrapping_add(1))) };
        let waited = sys::nanotime() - t0;
        STATS.alloc_waits.fetch_add(1, Ordering::Relaxed);
        STATS.alloc_wait_max_ns.fetch_max(waited, Ordering::Relaxed);
    }
}

/// Allocations assist once the live heap is over the goal by 1/this of it (halfway to the
/// hard limit): earlier assists end markings sooner, so less is allocated black in them, the
/// goals come out smaller and the cycles more (GCBench: 49 cycles instead of 33 when every
/// allocation past the goal assisted).
const ASSIST_OVER_DEN: usize = 4;
/// Words an allocation past the goal scans while a cycle marks: twice what a cache refill
/// hands out at most (32 KiB), so that allocating past the goal marks faster than it
/// allocates.
const ASSIST_WORDS: usize = 2 * (32 << 10) / 8;

/// Test-only build, `GRTDEBUG=gcnopaceidle=1`: an allocation past the goal while no cycle
/// marks (one asked for but not started, or the last one sweeping) neither yields nor waits
/// (gc_pacing's teeth).
static NO_PACE_IDLE: AtomicBool = AtomicBool::new(false);

/// `GRTDEBUG=gcnoassist=1`: no assists (allocations past the goal only wait at the hard
/// limit), to compare.
fn no_assists() -> bool {
    NO_ASSISTS.load(Ordering::Relaxed)
}
static NO_ASSISTS: AtomicBool = AtomicBool::new(false);

/// One assist: a batch of the marker's work on this thread. On an M it marks beside the
/// collector with its own buffer (gcwork.rs), taking the mark lock only to move work; on a
/// registered thread, or once the markers' gate is closed, it drains under the mark lock,
/// waiting for it (the collector holds it only briefly).
fn assist() {
    let t0 = sys::nanotime();
    // On an M: beside the other markers, with the M's own buffer (gcwork.rs), holding the
    // mark lock only to take and give back work.
    // SAFETY: the TLS m slot is null or this thread's own M.
    if let Some(m) = unsafe { proc::getm().as_mut() } {
        match gcwork::drain(&mut m.gcw, ASSIST_WORDS, gcwork::Who::Assist, || false) {
            (gcwork::Ended::Refused, _) => {}
            (gcwork::Ended::Empty, 0) => return,
            _ => {
                count_assist(t0);
                return;
            }
        }
    }
    // A registered thread, or mark termination is near (the gate is closed): a batch under
    // the mark lock.
    mgcmark::MARK_LOCK.lock();
    // The marking may have ended while this waited: then there is nothing to do or count.
    if !mgcmark::marking() {
        mgcmark::MARK_LOCK.unlock();
        return;
    }
    mgcmark::drain_locked(ASSIST_WORDS);
    mgcmark::MARK_LOCK.unlock();
    count_assist(t0);
}

fn count_assist(t0: u64) {
    STATS.assists.fetch_add(1, Ordering::Relaxed);
    STATS
        .assist_ns
        .fetch_add(sys::nanotime() - t0, Ordering::Relaxed);
}

fn is_goroutine() -> bool {
    // SAFETY: null or a live G.
    unsafe { proc::getg().as_ref() }.is_some_and(|g| g.kind == GKind::User)
}

/// `grt_alloc`.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_alloc(n: usize) -> *mut c_void {
    let _np = crate::preempt::NoPreempt::enter();
    proc::preempt_point();
    alloc(n, false)
}

/// `grt_alloc_atomic`.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_alloc_atomic(n: usize) -> *mut c_void {
    let _np = crate::preempt::NoPreempt::enter();
    proc::preempt_point();
    alloc(n, true)
}

/// `grt_try_alloc`: as grt_alloc, but NULL (no message) when the heap cannot have `n` bytes.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_try_alloc(n: usize) -> *mut c_void {
    let _np = crate::preempt::NoPreempt::enter();
    proc::preempt_point();
    try_alloc(n, false)
}

/// `grt_try_alloc_atomic`.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_try_alloc_atomic(n: usize) -> *mut c_void {
    let _np = crate::preempt::NoPreempt::enter();
    proc::preempt_point();
    try_alloc(n, true)
}

/// `grt_alloc_aligned`.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_alloc_aligned(align: usize, n: usize) -> *mut c_void {
    let _np = crate::preempt::NoPreempt::enter();
    proc::preempt_point();
    if !align.is_power_of_two() {
        report(
            GRT_EINVAL,
            "grt_alloc_aligned",
            format_args!("alignment {} is not a power of two", align),
        );
        return core::ptr::null_mut();
    }
    try_alloc_aligned(align, n, false)
}

/// `grt_add_roots`.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_add_roots(lo: *mut c_void, hi: *mut c_void) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_add_roots";
    let (lo, hi) = (lo as usize, hi as usize);
    if lo == 0 || hi == 0 {
        return report(GRT_EINVAL, F, format_args!("NULL bound"));
    }
    if lo > hi {
        return report(
            GRT_EINVAL,
            F,
            format_args!("lo {:#x} is above hi {:#x}", lo, hi),
        );
    }
    ROOTS_LOCK.lock();
    // SAFETY: the table is under ROOTS_LOCK.
    let r = unsafe {
        let n = &mut *core::ptr::addr_of_mut!(NROOTS);
        if *n == MAX_ROOTS {
            Err(())
        } else {
            (*core::ptr::addr_of_mut!(ROOTS))[*n] = (lo, hi);
            *n += 1;
            Ok(())
        }
    };
    ROOTS_LOCK.unlock();
    match r {
        Ok(()) => GRT_OK,
        Err(()) => report(
            GRT_ENOMEM,
            F,
            format_args!("too many root ranges (at most {})", MAX_ROOTS),
        ),
    }
}

/// `grt_remove_roots`: drops every registered range inside `[lo, hi)`; returns how many.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_remove_roots(lo: *mut c_void, hi: *mut c_void) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_remove_roots";
    let (lo, hi) = (lo as usize, hi as usize);
    if lo > hi {
        return report(
            GRT_EINVAL,
            F,
            format_args!("lo {:#x} is above hi {:#x}", lo, hi),
        );
    }
    ROOTS_LOCK.lock();
    // SAFETY: the table is under ROOTS_LOCK.
    let removed = unsafe {
        let n = &mut *core::ptr::addr_of_mut!(NROOTS);
        let t = &mut *core::ptr::addr_of_mut!(ROOTS);
        let mut kept = 0;
        for i in 0..*n {
            let (a, b) = t[i];
            if a >= lo && b <= hi {
                continue;
            }
            t[kept] = (a, b);
            kept += 1;
        }
        let removed = *n - kept;
        *n = kept;
        removed
    };
    if removed > 0 {
        ROOTS_REMOVED.fetch_add(1, Ordering::Relaxed);
    }
    ROOTS_LOCK.unlock();
    removed as i32
}

/// `grt_gc`.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_gc() -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    if !STARTED.load(Ordering::Acquire) {
        return report(
            GRT_ENOTINIT,
            "grt_gc",
            format_args!("the collector starts with grt_main"),
        );
    }
    // A full cycle that starts after this call: if one is under way, the one after it.
    full_cycle();
    proc::preempt_point();
    GRT_OK
}

/// `grt_gc_set_plain_stores`.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_gc_set_plain_stores(mode: i32) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    match mode {
        0 => dirty::set(dirty::MODE_OFF),
        1 => dirty::set(dirty::MODE_PROTECT),
        2 => dirty::set(dirty::MODE_RESCAN),
        3 => dirty::set(dirty::MODE_KERNEL),
        _ => {
            return report(
                GRT_EINVAL,
                "grt_gc_set_plain_stores",
                format_args!(
                    "mode is {}: 0 (off), 1 (GRT_PLAIN_STORES_PROTECT), 2 \
                     (GRT_PLAIN_STORES_RESCAN) or 3 (GRT_PLAIN_STORES_KERNEL)",
                    mode
                ),
            )
        }
    }
    GRT_OK
}

/// `grt_gc_plain_stores`.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_gc_plain_stores() -> i32 {
    dirty::mode() as i32
}

/// `grt_gc_shade`: the write barrier's slow path.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_gc_shade(p: *const c_void) {
    let _np = crate::preempt::NoPreempt::enter();
    mgcmark::shade(p as usize);
}

/// `grt_gc_stats`.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_gc_stats(out: *mut GcStats) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    if out.is_null() {
        return report(GRT_EINVAL, "grt_gc_stats", format_args!("out is NULL"));
    }
    // The goal with the heap's counters, under the heap lock: mark termination sets both
    // under it (a goal read after the lock could belong to the next cycle).
    HEAP_LOCK.lock();
    let h = mheap::stats_locked();
    let goal = HEAP_GOAL.load(Ordering::Relaxed);
    HEAP_LOCK.unlock();
    let mut cached = 0;
    stw::for_each_m(|m| cached += mcache::handed_out(m));
    let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let s = GcStats {
        cycles: l(&STATS.cycles),
        heap_inuse: h.inuse as u64,
        heap_mapped: h.mapped as u64,
        heap_goal: if pacing_on() { goal as u64 } else { 0 },
        nmalloc: h.nmalloc + cached,
        nfree: h.nfree,
        pause_total_ns: l(&STATS.pause_total_ns),
        pause_max_ns: l(&STATS.pause_max_ns),
        last_markterm_ns: l(&STATS.last_markterm_ns),
        last_rescan_ns: l(&STATS.last_rescan_ns),
        last_sweep_ns: l(&STATS.last_sweep_ns),
        frames_scanned: l(&STATS.frames_scanned),
        frames_rescanned: l(&STATS.frames_rescanned),
        last_frames_rescanned: l(&STATS.last_frames_rescanned),
        barriers_installed: l(&STATS.barriers_installed),
        barriers_hit: l(&STATS.barriers_hit),
        stacks_rescanned_whole: l(&STATS.stacks_rescanned_whole),
        barriers_unprovable: l(&STATS.barriers_unprovable),
        scan_ns: l(&STATS.scan_ns),
        barriers_jumped: l(&STATS.barriers_jumped),
        stacks_rescanned: l(&STATS.stacks_rescanned),
        stacks_skipped: l(&STATS.stacks_skipped),
        last_stacks_rescanned: l(&STATS.last_stacks_rescanned),
        last_stacks_skipped: l(&STATS.last_stacks_skipped),
        last_stop_ns: l(&STATS.last_stop_ns),
        last_flush_ns: l(&STATS.last_flush_ns),
        last_roots_ns: l(&STATS.last_roots_ns),
        last_drain_ns: l(&STATS.last_drain_ns),
        last_start_ns: l(&STATS.last_start_ns),
        rescan_rounds: l(&STATS.rescan_rounds),
        round_stacks: l(&STATS.round_stacks),
        heap_live: h.live as u64,
        alloc_waits: l(&STATS.alloc_waits),
        alloc_wait_max_ns: l(&STATS.alloc_wait_max_ns),
        sweep_batch_max_ns: l(&STATS.sweep_batch_max_ns),
        spans_swept_by_alloc: h.spans_swept_by_alloc,
        heap_released: h.released as u64,
        heap_released_total: h.released_total,
        dirty_faults: dirty::FAULTS.load(Ordering::Relaxed) as u64,
        dirty_ranges_rescanned: dirty::PAGES_RESCANNED.load(Ordering::Relaxed) as u64,
        dirty_full_rescans: dirty::FULL_RESCANS.load(Ordering::Relaxed) as u64,
        dirty_kernel_cycles: dirty::KERNEL_CYCLES.load(Ordering::Relaxed) as u64,
        assists: l(&STATS.assists),
        assist_ns: l(&STATS.assist_ns),
        alloc_bytes: h.alloc_bytes,
        last_marked: LAST_MARKED.load(Ordering::Relaxed) as u64,
        round_yields: l(&STATS.round_yields),
        mark_par_jobs: mgcpar::PAR_JOBS.load(Ordering::Relaxed),
        mark_helper_jobs: mgcpar::HELPER_JOBS.load(Ordering::Relaxed),
        alloc_sweep_max_pages: h.alloc_sweep_max_pages,
        idle_mark_bytes: 8 * gcwork::IDLE_WORDS.load(Ordering::Relaxed),
        idle_mark_ns: gcwork::IDLE_NS.load(Ordering::Relaxed),
        roots_tracked: dirtyroots::tracked() as u64,
        last_data_bytes: l(&STATS.last_data_bytes),
        last_data_rescanned_bytes: l(&STATS.last_data_rescanned_bytes),
    };
    // SAFETY: out is non-null; the caller gives a grt_gc_stats to fill.
    unsafe { out.write(s) };
    GRT_OK
}

/// `grt_gc_unwind(sp)`: before a longjmp up the calling goroutine's stack to a frame whose
/// stack pointer is `sp`: the barriers in the frames it skips are removed.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_gc_unwind(sp: *const c_void) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    let g = match proc::current_user_g("grt_gc_unwind") {
        Ok(g) => g,
        Err(e) => return e,
    };
    let gm = proc::getg();
    let sp = sp as usize;
    if sp < g.stack.lo || sp > g.stack.hi {
        return report(
            GRT_EINVAL,
            "grt_gc_unwind",
            format_args!("{:#x} is not on the goroutine's stack", sp),
        );
    }
    stkbar::gc_lock_stack_barriers(g);
    // SAFETY: our own G, under its stack lock.
    let n = stkbar::gc_unwind_barriers(unsafe { &mut *gm }, sp);
    stkbar::gc_unlock_stack_barriers(g);
    STATS.barriers_hit.fetch_add(n as u64, Ordering::Relaxed);
    GRT_OK
}

// ---- the cycle ---------------------------------------------------------------------------

fn world_lock() {
    // The order is in the module comment.
    let suspend_first = suspend_lock_first();
    // First: a program revealing its links' hidden pointers holds it (mfinal.rs), and may
    // take any of the others meanwhile.
    mfinal::LINK_LOCK.lock();
    if suspend_first {
        suspend::SUSPEND_LOCK.lock();
    }
    regthreads::REG_LOCK.lock();
    chan::ALLCHANS_LOCK.lock();
    ROOTS_LOCK.lock();
    mfinal::FIN_LOCK.lock();
    HEAP_LOCK.lock();
    mgcmark::MARK_LOCK.lock();
    rescanlist::RESCAN_LOCK.lock();
    // Last: an M stopped by grt_suspend may hold any of the others, and only grt_resume,
    // which takes this one, lets it go.
    if !suspend_first {
        suspend::SUSPEND_LOCK.lock();
    }
}

/// Test-only build, `GRTDEBUG=gcsuspendlockfirst=1`: the world lock takes SUSPEND_LOCK second,
/// as it did, so that gc_suspend_locks can be seen to deadlock.
fn suspend_lock_first() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().gcsuspendlockfirst
}

/// Releases what [`world_lock`] took, but the heap lock.
fn world_unlock_keep_heap() {
    suspend::SUSPEND_LOCK.unlock();
    rescanlist::RESCAN_LOCK.unlock();
    mgcmark::MARK_LOCK.unlock();
    mfinal::FIN_LOCK.unlock();
    ROOTS_LOCK.unlock();
    chan::ALLCHANS_LOCK.unlock();
    regthreads::REG_LOCK.unlock();
    mfinal::LINK_LOCK.unlock();
}

fn record_pause(ns: u64) {
    STATS.pause_total_ns.fetch_add(ns, Ordering::Relaxed);
    STATS.pause_max_ns.fetch_max(ns, Ordering::Relaxed);
}

/// grt's own large statics, which lie in the program's data but never hold a pointer into
/// the heap (caches of code addresses and unwind rules, code maps, the heap's metadata),
/// sorted by address: the scan of data and bss skips them (about 310 KiB of
/// the 390 KiB a small program's data has, and as much of mark termination's time).
/// Written once by the collector's thread before its first cycle.
static mut NOSCAN: [(usize, usize); NOSCAN_MAX] = [(0, 0); NOSCAN_MAX];
const NOSCAN_MAX: usize = 16;

fn init_noscan() {
    let mut v = [(0usize, 0usize); NOSCAN_MAX];
    let mut n = 0;
    let mut add = |r: (usize, usize)| {
        v[n] = r;
        n += 1;
    };
    crate::unwind::static_ranges()
        .into_iter()
        .for_each(&mut add);
    crate::codemap::static_ranges()
        .into_iter()
        .for_each(&mut add);
    add(mheap::static_range());
    add(libroots::static_range());
    add(regthreads::static_range());
    add(crate::sema::static_range());
    add(crate::netpoll::static_range());
    add(gcwork::static_range());
    v[..n].sort_unstable();
    // SAFETY: written once, before the collector's thread starts (init).
    unsafe { *core::ptr::addr_of_mut!(NOSCAN) = v };
}

/// Calls `f` with the parts of `[lo, hi)` of the program's data that are not grt's own large
/// statics.
fn data_ranges(lo: usize, hi: usize, mut f: impl FnMut(usize, usize)) {
    // SAFETY: written once before the first cycle.
    let noscan = unsafe { &*core::ptr::addr_of!(NOSCAN) };
    let mut at = lo;
    for &(s, len) in noscan.iter().filter(|r| r.1 != 0) {
        let e = s + len;
        if e <= at || s >= hi {
            continue;
        }
        if s > at {
            f(at, s);
        }
        at = at.max(e);
    }
    if at < hi {
        f(at, hi);
    }
}

/// Calls `f` with each segment of data and bss the collector reads: the executable's writable
/// PT_LOAD segments and the loaded libraries' (as the collector's last snapshot has them),
/// whole (grt's own statics inside: see [`data_ranges`]).
fn data_segments(mut f: impl FnMut(usize, usize)) {
    let bias = auxv::load_bias();
    for p in auxv::program_headers() {
        if p.p_type == auxv::PT_LOAD && p.p_flags & auxv::PF_W != 0 {
            let lo = bias.wrapping_add(p.p_vaddr as usize);
            f(lo, lo + p.p_memsz as usize);
        }
    }
    // Shared libraries' data (the collector's own snapshot: libroots.rs).
    libroots::for_each(f);
}

/// Calls `f` with every range of the executable's and the loaded libraries' data and bss that
/// the collector scans: [`data_segments`] without grt's own large statics.
fn data_and_library_ranges(mut f: impl FnMut(usize, usize)) {
    data_segments(|lo, hi| data_ranges(lo, hi, &mut f));
}

/// Calls `f` with each registered root range (ROOTS_LOCK held).
fn roots_locked(mut f: impl FnMut(usize, usize)) {
    // SAFETY: the table is under ROOTS_LOCK, held.
    let (roots, n) = unsafe { (&*core::ptr::addr_of!(ROOTS), *core::ptr::addr_of!(NROOTS)) };
    for &(lo, hi) in &roots[..n] {
        f(lo, hi);
    }
}

/// Step 1 of dirtyroots (before the concurrent read of the roots): protects the data and bss,
/// and, each on its own (not in a run with the data, whose small parts stay unprotected:
/// dirtyroots.rs), the registered root ranges of [`dirtyroots::ALONE_MIN_BYTES`] or more
/// (mark termination lists each of those alone, and reads smaller ones whole), but a range
/// that shares an address with grt's heap (read whole at mark termination: the heap's pages
/// are not the program's to register, and plain-store mode protects them its own way,
/// dirty.rs).
///
/// Then a range not wholly in private anonymous mappings is dropped (read whole): a shared
/// mapping can be written through another mapping of the same memory (a ring buffer mapped
/// twice) or by another process, and a private mapping of a file shows the file (written by
/// `write(2)`, or through a shared mapping of it) until copy on write; those stores do not go
/// through the entries the kernel lists here. The maps are read after the registration, so
/// that memory mapped over a range meanwhile is not registered (the listings' check finds
/// it); a range dropped so stays registered and protected, which costs a fault at each
/// page's first write in the cycle.
fn protect_roots() {
    ROOTS_LOCK.lock();
    ROOTS_REMOVED_AT_PROTECT.store(ROOTS_REMOVED.load(Ordering::Relaxed), Ordering::Relaxed);
    // SAFETY: the collector's own table.
    let cands = unsafe { &mut *core::ptr::addr_of_mut!(PROTECTED_ROOTS) };
    let mut n = 0;
    HEAP_LOCK.lock();
    roots_locked(|lo, hi| {
        if n < TRACKED_ROOTS_MAX
            && hi - lo >= dirtyroots::ALONE_MIN_BYTES
            && !mheap::overlaps_heap_locked(lo, hi)
        {
            cands[n] = (lo, hi);
            n += 1;
        }
    });
    HEAP_LOCK.unlock();
    NPROTECTED_ROOTS.store(n, Ordering::Relaxed);
    dirtyroots::protect(|seg| data_and_library_ranges(seg));
    for &(lo, hi) in &cands[..n] {
        dirtyroots::protect_alone(lo, hi);
    }
    // The bytes of each range's pages that private anonymous mappings cover: all of them,
    // or the range is dropped, with whatever shares a page with it.
    let mut fit = [0usize; TRACKED_ROOTS_MAX];
    let page = auxv::page_size();
    let page_out = |(lo, hi): (usize, usize)| (lo & !(page - 1), (hi + page - 1) & !(page - 1));
    let read = n == 0
        || crate::maps::for_each(|m| {
            for (i, &c) in cands[..n].iter().enumerate() {
                let (lo, hi) = page_out(c);
                let (a, b) = (lo.max(m.start), hi.min(m.end));
                if a < b && m.private && m.anonymous {
                    fit[i] += b - a;
                }
            }
            true
        });
    for (i, &c) in cands[..n].iter().enumerate() {
        let (lo, hi) = page_out(c);
        if (!read || fit[i] != hi - lo) && !dirtyroots::no_check() {
            dirtyroots::drop_overlapping(lo, hi);
        }
    }
    ROOTS_LOCK.unlock();
}

/// Step 2 of dirtyroots (concurrent, just before mark termination): the pages written since
/// the protection, protected again and read. What is read is clipped to what is a root now
/// (a range removed since may be unmapped by now: ROOTS_LOCK is held across the read, so
/// none is removed meanwhile; the libraries are held by the snapshot). If a range was removed
/// since the protection, every range protected is dropped first, with whatever shares a page
/// with it, and read whole at mark termination: the round would protect again pages of a
/// removed range without reading them, and the range, added back, would then count as
/// tracked with those stores unread.
fn reread_roots() {
    ROOTS_LOCK.lock();
    if ROOTS_REMOVED.load(Ordering::Relaxed) != ROOTS_REMOVED_AT_PROTECT.load(Ordering::Relaxed)
        && !dirtyroots::no_check()
    {
        // SAFETY: the collector's own table.
        let protected = unsafe { &*core::ptr::addr_of!(PROTECTED_ROOTS) };
        for &(lo, hi) in &protected[..NPROTECTED_ROOTS.load(Ordering::Relaxed)] {
            dirtyroots::drop_overlapping(lo, hi);
        }
    }
    dirtyroots::round(|a, b| {
        let mut read = |lo: usize, hi: usize| {
            let (x, y) = (a.max(lo), b.min(hi));
            if x < y {
                data_ranges(x, y, mgcmark::collect_range);
            }
        };
        data_and_library_ranges(&mut read);
        roots_locked(&mut read);
    });
    ROOTS_LOCK.unlock();
}

/// Test-only build, `GRTDEBUG=gcrootswiden=1`: after the concurrent read of the roots, and
/// again after the data and bss were read again just before mark termination
/// (dirtyroots::round), the collector sleeps this long (gc_rootwp_widen's windows for a store
/// into a global read already), in ns.
const ROOTS_WIDEN_NS: u64 = 20_000_000;

/// Those windows opened, in all (`grt_test_roots_windows`).
pub static ROOTS_WINDOWS: AtomicU64 = AtomicU64::new(0);

/// One of gcrootswiden's windows, if the knob is on (test-only build).
fn roots_window() {
    if cfg!(feature = "testhooks") && crate::debug::get().gcrootswiden {
        ROOTS_WINDOWS.fetch_add(1, Ordering::Release);
        sys::nanosleep(ROOTS_WIDEN_NS);
    }
}

/// Bytes per cache line prefetched by [`warm_roots`] (64 on both architectures' usual cores;
/// a larger line only prefetches some lines twice).
const CACHE_LINE_BYTES: usize = 64;
/// At most this much is prefetched by [`warm_roots`], in bytes (about a core's L2 cache):
/// beyond it, later lines would only push out the first ones, which the scan reads first.
const WARM_MAX_BYTES: usize = 512 << 10;

/// Just before mark termination stops the world, with the program running: prefetches into
/// this CPU's caches the data and bss that mark termination scans first. Their scan with the
/// world stopped took 14 µs cold and 6.5 µs warm (166 KiB: a small program, glibc and the
/// loader), so the pause no longer waits on those misses. A hint: nothing is read, no fault.
/// When mark termination will rescan every marked object (plain-store mode's rescan form),
/// the span headers that walk reads too (`mheap::warm_spans_locked`, under HEAP_LOCK).
fn warm_roots() {
    if dirty::rescans_all() {
        HEAP_LOCK.with(mheap::warm_spans_locked);
    }
    let mut left = WARM_MAX_BYTES;
    let mut warm = |lo: usize, hi: usize| {
        let mut p = lo & !(CACHE_LINE_BYTES - 1);
        while p < hi && left > 0 {
            arch::prefetch(p);
            p += CACHE_LINE_BYTES;
            left -= CACHE_LINE_BYTES;
        }
    };
    // Where the kernel tracks the stores (dirtyroots.rs), mark termination reads only the
    // pages written since the concurrent round: those the round found written are the likely
    // ones. What it reads whole (not tracked, or in a cluster too small to list) too.
    dirtyroots::for_each_warm(|lo, hi| data_ranges(lo, hi, &mut warm));
    dirtyroots::warm(
        |seg| data_and_library_ranges(seg),
        |lo, hi| data_ranges(lo, hi, &mut warm),
    );
    ROOTS_LOCK.with(|| dirtyroots::warm_alone(|seg| roots_locked(seg), &mut warm));
}

/// Data and bss of the main executable and of the loaded libraries, registered roots,
/// channel buffers, finalizers' args and queued objects (ALLCHANS_LOCK, ROOTS_LOCK and
/// FIN_LOCK held). `stw`: at mark termination (see mfinal's `collect_roots_locked`).
///
/// Channel buffers are read once, concurrently, not at mark termination: every store into
/// a buffer is grt's own `copy_elem`, a Dijkstra barrier, so a word in a buffer at mark
/// termination was there at the concurrent read or was shaded by the send that put it there
/// (chan.rs's module comment has the case of a send stopped between its copy and its test).
fn collect_roots_locked(stw: bool) {
    if stw {
        // Only the pages written since the concurrent round, where the kernel tracks them
        // (dirtyroots.rs): of the data and bss, and of the registered roots, each listed on
        // its own (the program may have mapped new memory over one since: that listing
        // fails, and the range is read whole).
        let (mut all, mut read) = (0usize, 0usize);
        data_and_library_ranges(|a, b| all += b - a);
        roots_locked(|a, b| all += b - a);
        let mut collect = |a: usize, b: usize| {
            data_ranges(a, b, |x, y| {
                read += y - x;
                mgcmark::collect_range(x, y)
            })
        };
        dirtyroots::for_each_written(|seg| data_and_library_ranges(seg), &mut collect);
        dirtyroots::for_each_written_alone(|seg| roots_locked(seg), &mut collect);
        STATS.last_data_bytes.store(all as u64, Ordering::Relaxed);
        STATS
            .last_data_rescanned_bytes
            .store(read as u64, Ordering::Relaxed);
    } else {
        data_and_library_ranges(mgcmark::collect_range);
        roots_locked(mgcmark::collect_range);
    }
    if !stw {
        chan::for_each_buffer_locked(mgcmark::collect_range);
    }
    mfinal::collect_roots_locked(stw);
}

fn collect_roots() {
    chan::ALLCHANS_LOCK.lock();
    ROOTS_LOCK.lock();
    mfinal::FIN_LOCK.lock();
    collect_roots_locked(false);
    mfinal::FIN_LOCK.unlock();
    ROOTS_LOCK.unlock();
    chan::ALLCHANS_LOCK.unlock();
}

/// Marks the collected candidates and drains grey objects, a batch (or, `all`, until the pool
/// is empty and no other marker holds work) (concurrent phase: the heap lock is not needed,
/// allocation goes on). Beside the
/// other markers (gcwork.rs): the mark lock is held only to flush the candidates and to move
/// work; an idle P is woken when there is work enough to share.
fn mark_some(all: bool) {
    loop {
        mgcmark::MARK_LOCK.lock();
        mgcmark::flush_candidates_locked();
        let pooled = mgcmark::pool_locked().words();
        mgcmark::MARK_LOCK.unlock();
        if pooled >= WAKE_IDLE_WORDS {
            gcwork::wake_idle();
        }
        match gcwork::drain(
            gcwork::collector(),
            DRAIN_BATCH_WORDS,
            gcwork::Who::Collector,
            || false,
        )
        .0
        {
            gcwork::Ended::Stopped if all => {}
            gcwork::Ended::Empty if all && gcwork::others_hold_work() && !gcwork::no_wait() => {
                // Not done while another marker holds work (an assist may hold half a
                // tree): until it gives some back (it sees STARVED) or leaves.
                gcwork::wait_for_work();
            }
            gcwork::Ended::Refused => {
                // The gate is closed (mark termination is next), or the buffer could not be
                // reserved: under the lock, as assists then do, so that they share what is
                // left between the batches.
                mgcmark::MARK_LOCK.lock();
                let empty = mgcmark::drain_locked(DRAIN_BATCH_WORDS);
                mgcmark::MARK_LOCK.unlock();
                if empty || !all {
                    return;
                }
                mgcmark::MARK_LOCK.hand_over(HANDOFF_NS);
            }
            _ => return,
        }
    }
}

/// Grey words in the pool from which the collector wakes an idle P to help (two chunks).
const WAKE_IDLE_WORDS: usize = 1024;

fn parked_top(gp: &G) -> StackTop {
    StackTop {
        sp: gp.sched.sp,
        fp: arch::parked_frame_pointer(gp.sched.sp),
        uc: 0,
    }
}

fn syscall_top(gp: &G) -> StackTop {
    StackTop {
        sp: gp.syscallsp,
        fp: gp.syscallbp,
        uc: 0,
    }
}

/// Test-only build, `GRTDEBUG=gcnosysstack=1`: mark termination does not scan the system
/// stacks of stopped Ms (the teeth of gc_cgocall_alloc).
fn no_sysstack() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().gcnosysstack
}

/// An M stopped inside a `grt_cgocall` function: that function's frames on the M's system
/// stack (g0), from the interrupted sp up to g0's parked switch frame, and its registers
/// are roots. It may hold the only pointer to objects it allocated (the goroutine's own
/// stack is frozen above `syscallsp` and scanned from there). The scheduler's frames above
/// are not scanned (they hold no pointer of the program's, but stale words that would keep
/// dead objects alive), nor is g0 of an M not in such a function. World stopped.
fn collect_system_stack(m: &M) {
    if !m.incgo.load(Ordering::Relaxed) || !stw::is_stopped(m) || no_sysstack() {
        return;
    }
    // SAFETY: an M's g0 is set before its thread starts and never freed; its parked context
    // does not change while the M runs a grt_cgocall function (below it).
    let g0 = unsafe { &*m.g0 };
    let (lo, top) = (g0.stack.lo, g0.sched.sp.min(g0.stack.hi));
    let sp = m.suspend_regs.sp;
    if sp >= lo && sp < top {
        mgcmark::collect_range(sp.saturating_sub(arch::RED_ZONE).max(lo), top);
        // SAFETY: the ucontext of a thread stopped in the suspend handler, until the world
        // restarts (or grt_resume, which waits for SUSPEND_LOCK, held).
        unsafe { mgcmark::collect_ucontext(m.suspend_uc.load(Ordering::Relaxed)) };
    } else {
        // Stopped elsewhere (a handler of the program's on its alternate signal stack): the
        // function's live frames lie somewhere below the parked frame, all of it. (Its
        // registers are in that handler's signal frame, which is not scanned.)
        mgcmark::collect_range(lo, top);
    }
}

/// Where the stack of `gp`, whose M `m` the suspend signal stopped, starts: from the signal's
/// registers when they are on `gp`'s stack; from `syscallsp` when `gp` is in a system call or
/// grt_cgocall (its frames above it are frozen, wherever its thread is); from `gp.sched` when
/// `m` was on its g0 between switches (the parked context is the truth then); `None` when the
/// thread was on some other stack (a context of the program's own made with
/// grt_context_make, a handler of the program's on its alternate signal stack). Then
/// `sched.sp` is stale: the goroutine has run since it was saved, and its live frames may lie
/// anywhere on its stack.
fn running_top(m: &M, gp: &G) -> Option<StackTop> {
    let r = m.suspend_regs;
    if r.sp >= gp.stack.lo && r.sp < gp.stack.hi {
        return Some(StackTop {
            sp: r.sp,
            fp: r.fp,
            uc: m.suspend_uc.load(Ordering::Relaxed),
        });
    }
    if gp.status() & !GSCAN == GSYSCALL && gp.syscallsp != 0 {
        return Some(syscall_top(gp));
    }
    // SAFETY: an M's g0 is set before its thread starts and never freed.
    let g0 = unsafe { &*m.g0 };
    (r.sp >= g0.stack.lo && r.sp < g0.stack.hi).then(|| parked_top(gp))
}

/// A stack whose live top is not known (see [`running_top`]): all of it, from its lowest
/// byte, with no frame chain to place or trust barriers on.
fn whole_stack_top(m: &M, gp: &G) -> StackTop {
    StackTop {
        sp: gp.stack.lo,
        fp: 0,
        uc: m.suspend_uc.load(Ordering::Relaxed),
    }
}

/// Scans `gp` from `top` (mgcmark::scanstack), timed; counts it (see [`add_scan`]).
fn timed_scan(gp: &mut G, top: StackTop) -> bool {
    let t0 = sys::nanotime();
    let n = mgcmark::scanstack(gp, top);
    STATS
        .scan_ns
        .fetch_add(sys::nanotime() - t0, Ordering::Relaxed);
    add_scan(n)
}

/// Counts a scan; true when its barriers can be trusted (every old one was found).
fn add_scan(n: mgcmark::ScanCounts) -> bool {
    STATS
        .frames_scanned
        .fetch_add(n.frames as u64, Ordering::Relaxed);
    STATS
        .barriers_installed
        .fetch_add(n.barriers as u64, Ordering::Relaxed);
    STATS
        .barriers_hit
        .fetch_add(n.hits as u64, Ordering::Relaxed);
    STATS
        .barriers_unprovable
        .fetch_add(n.unprovable as u64, Ordering::Relaxed);
    STATS
        .barriers_jumped
        .fetch_add(n.jumped as u64, Ordering::Relaxed);
    n.unlocated == 0
}

/// Go's scang: scans one goroutine's stack concurrently (see the module comment), and
/// stamps it scanned in `cycle` when it could. A goroutine it cannot scan (held by
/// grt_suspend, its M did not stop in time, running off its own stack) keeps its old stamp:
/// mark termination rescans it whole.
fn scang(gp: &mut G, cycle: u64) {
    let mut tries = 0u32;
    loop {
        let s = gp.status();
        match s {
            GRUNNABLE | GWAITING | GSYSCALL => {
                if !castogscanstatus(gp, s) {
                    continue;
                }
                stkbar::gc_lock_stack_barriers(gp);
                let top = if s == GSYSCALL && gp.syscallsp != 0 {
                    syscall_top(gp)
                } else {
                    parked_top(gp)
                };
                if timed_scan(gp, top) {
                    gp.gcscan_cycle = cycle;
                    // Parked: its stack stays what the scan saw until it runs (G::ran).
                    // In a system call its thread runs below syscallsp.
                    if s != GSYSCALL {
                        gp.gcscanvalid.store(true, Ordering::Relaxed);
                    }
                }
                stkbar::gc_unlock_stack_barriers(gp);
                casfrom_gscanstatus(gp, s | GSCAN, s);
                return;
            }
            GRUNNING => {
                if !castogscanstatus(gp, GRUNNING) {
                    continue;
                }
                // The lock before the stop: the goroutine may hold its own (grt_gc_unwind).
                stkbar::gc_lock_stack_barriers(gp);
                // SAFETY: a running G's M is set and fixed while we hold the scan bit.
                let m = unsafe { &*gp.m.load(Ordering::Acquire) };
                suspend::SUSPEND_LOCK.lock();
                if suspend::stop_m(m).is_ok() {
                    match running_top(m, gp) {
                        Some(top) => {
                            if timed_scan(gp, top) {
                                gp.gcscan_cycle = cycle;
                            }
                        }
                        // Off its stack: collect it all now (less to find at mark
                        // termination), but it counts as not scanned.
                        None => mgcmark::collect_stack(gp, whole_stack_top(m, gp)),
                    }
                    suspend::resume_m(m);
                }
                // Else it did not stop in time: no scan now; mark termination rescans it
                // in full.
                suspend::SUSPEND_LOCK.unlock();
                stkbar::gc_unlock_stack_barriers(gp);
                casfrom_gscanstatus(gp, GRUNNING | GSCAN, GRUNNING);
                return;
            }
            s if s & !GSCAN == GDEAD || s == GIDLE => return,
            _ => {
                // Owned by someone else. grt_suspend may hold it for long: it is frozen,
                // and mark termination rescans it whole (not stamped: any barriers it
                // holds are from an earlier cycle and are not trusted).
                if gp.suspended.load(Ordering::Acquire) != SUSPENDED_NONE || tries > 1000 {
                    return;
                }
                tries += 1;
                sys::sched_yield();
            }
        }
    }
}

/// Most concurrent rescan rounds in a cycle.
const MAX_RESCAN_ROUNDS: usize = 16;
/// A round with at most this many stacks to rescan is left to mark termination.
const RESCAN_ROUND_MIN: usize = 4;

/// What the concurrent rescan rounds did in the last cycle (for gctrace and the stats).
#[derive(Clone, Copy, Default)]
struct Rounds {
    rounds: usize,
    stacks: usize,
    frames: usize,
}

/// One concurrent rescan round (golang/go#17505's idea, which Go never shipped): every
/// goroutine scanned in this cycle that ran since and is parked now is rescanned down to its
/// lowest live barrier not hit, and gets new barriers below it
/// ([`mgcmark::rescanstack_concurrent`]; [`mgcmark::scanstack`] when that cannot be done),
/// then counts as unchanged again (`G.gcscanvalid`). Goroutines running or in a system call
/// are left to mark termination. Same ownership as [`scang`]: scan bit, then stack lock.
/// Returns (stacks rescanned, frames walked).
fn rescan_round(cycle: u64) -> (usize, usize) {
    let (mut stacks, mut frames) = (0, 0);
    // Those that ran since their scan are on the rescan list (in plain-store mode too):
    // a round takes it off and walks it, not every goroutine, and puts back what mark
    // termination may still not skip (rescanlist.rs).
    let drop_all = cfg!(feature = "testhooks") && crate::debug::get().gcrounddrop;
    rescanlist::detach().for_each(|gm| {
        // SAFETY: Gs are never freed; the G is touched only once owned (scan bit).
        if let Some(f) = rescan_parked(unsafe { &mut *gm }, cycle) {
            stacks += 1;
            frames += f;
            mark_some(false);
        }
        // SAFETY: as above; only reads (racy ones: see rescanlist.rs on why they suffice).
        let g = unsafe { &*gm };
        let s = g.status() & !GSCAN;
        if g.kind == GKind::User && s != GDEAD && s != GIDLE && !skippable(g, cycle) && !drop_all {
            rescanlist::push(g);
        }
    });
    (stacks, frames)
}

/// [`rescan_round`] for one G: rescans it if it was scanned in this cycle, ran since and is
/// parked now. Returns the frames walked, or None if it was not rescanned.
fn rescan_parked(gp: &mut G, cycle: u64) -> Option<usize> {
    if gp.kind != GKind::User || gp.gcscan_cycle != cycle || gp.gcscanvalid.load(Ordering::Relaxed)
    {
        return None;
    }
    let s = gp.status();
    if (s != GRUNNABLE && s != GWAITING) || !castogscanstatus(gp, s) {
        return None;
    }
    stkbar::gc_lock_stack_barriers(gp);
    let t0 = sys::nanotime();
    let top = parked_top(gp);
    let n = match mgcmark::rescanstack_concurrent(gp, top) {
        Some(n) => Some(n),
        None => Some(mgcmark::scanstack(gp, top)).filter(|n| n.unlocated == 0),
    };
    STATS
        .scan_ns
        .fetch_add(sys::nanotime() - t0, Ordering::Relaxed);
    let mut frames = 0;
    if let Some(n) = n {
        frames = n.frames;
        if add_scan(n) {
            gp.gcscanvalid.store(true, Ordering::Relaxed);
        }
    } else {
        // Barriers it could not find: not trusted; mark termination rescans it whole.
        gp.gcscan_cycle = 0;
    }
    stkbar::gc_unlock_stack_barriers(gp);
    casfrom_gscanstatus(gp, s | GSCAN, s);
    Some(frames)
}

/// Concurrent rescan rounds before mark termination (the goroutines that run during a round
/// are the next one's work, and what runs during the last is mark termination's), until a
/// round has at most [`RESCAN_ROUND_MIN`] stacks and no more are waiting, at most
/// [`MAX_RESCAN_ROUNDS`]; each ends by draining grey objects. A round that rescans no fewer
/// than the one before does not end them: with many goroutines churning, counts go up and
/// down from round to round, and stopping at the first rise left mark termination a round's
/// worth of stacks (312 of them in one cycle with 10,000 goroutines, against 20 to 60 after
/// eight rounds). Where the program dirties stacks as fast as the collector rescans them
/// (1,000 goroutines churning on two CPUs that the collector shares), rounds do not shrink
/// and mark termination gets about one round's worth; 16 rounds, not 8, let more cycles
/// converge first.
fn rescan_rounds(cycle: u64) -> Rounds {
    let mut out = Rounds::default();
    let mut last = usize::MAX;
    while out.rounds < MAX_RESCAN_ROUNDS {
        let (n, f) = rescan_round(cycle);
        mark_some(true);
        ROUNDS_BEHIND.store(
            rounds_behind(n, last) && round_yields_on(),
            Ordering::Relaxed,
        );
        last = n;
        out.rounds += 1;
        out.stacks += n;
        out.frames += f;
        // A small round ends them unless more ran meanwhile: the drain after a round can be
        // long, and a round that happened to find the goroutines between two runs once
        // left 941 stacks for mark termination.
        if n <= RESCAN_ROUND_MIN && dirty_listed(cycle) <= RESCAN_ROUND_MIN {
            break;
        }
    }
    // From here to the stop, every clean stack that runs is mark termination's work.
    ROUNDS_BEHIND.store(round_yields_on(), Ordering::Relaxed);
    out
}

/// Whether Ms yield to rounds that fall behind: not under `gcnoroundyield`, nor in
/// plain-store mode, where mark termination rescans every stack whole whatever the rounds did.
fn round_yields_on() -> bool {
    !NO_ROUND_YIELD.load(Ordering::Relaxed) && !dirty::tracking()
}

/// Set while the concurrent rescan rounds fall behind: a round did not shrink, because the
/// goroutines dirty their stacks (run after their rescan) as fast as the collector rescans
/// them. Then rounds do not converge, and mark termination gets a round's worth of stacks:
/// 180 to 300 of them with 10,000 goroutines, 1,000 churning on two CPUs shared with the
/// collector, and pauses of 350 to 660 µs.
///
/// While it is set, an M about to run a goroutine whose stack is clean (rescanned, or parked
/// since its scan: running it makes work for the next round) yields its CPU first
/// ([`round_yield`]): the collector is often queued on that very CPU. The next round sees
/// the flag's effect. It is also set from the last round to the stop of mark termination
/// (which clears it), whatever that round did: the collector, after milliseconds of rounds,
/// was at times preempted there, and the Ms dirtied 190 stacks in the 290 µs before the
/// stop. Mutator time given up this way is bounded by the rounds (at most
/// [`MAX_RESCAN_ROUNDS`] a cycle) and that gap (usually microseconds; longer while the
/// program holds a lock the world lock takes, `grt_gc_lock_links`, or while a goroutine
/// `grt_suspend` stopped inside grt holds one, until `grt_resume`), and a yield with nothing
/// else to run returns at once.
static ROUNDS_BEHIND: AtomicBool = AtomicBool::new(false);

/// Whether a round that rescanned `n` stacks, after one that rescanned `last`
/// (`usize::MAX` for the first), falls behind: more than a few stacks, and not a quarter
/// fewer than the round before.
fn rounds_behind(n: usize, last: usize) -> bool {
    n > RESCAN_ROUND_MIN && n.saturating_mul(4) > last.saturating_mul(3)
}

/// In `execute`, before the M runs `g`: yield the CPU if the rescan rounds fall behind and
/// running `g` would give them more work ([`ROUNDS_BEHIND`]). One relaxed load otherwise.
#[inline]
pub(crate) fn round_yield(g: &G) {
    if ROUNDS_BEHIND.load(Ordering::Relaxed) && g.gcscanvalid.load(Ordering::Relaxed) {
        round_yield_slow();
    }
}

#[cold]
fn round_yield_slow() {
    STATS.round_yields.fetch_add(1, Ordering::Relaxed);
    sys::sched_yield();
}

/// How many goroutines on the rescan list ran since their scan or rescan in `cycle` and are
/// parked now (what the next round would rescan; running ones and ones in a system call are
/// mark termination's whatever the rounds do, and counting them would run every round),
/// counted up to one more than [`RESCAN_ROUND_MIN`].
fn dirty_listed(cycle: u64) -> usize {
    let mut k = 0;
    rescanlist::for_each_concurrent(|gm| {
        // SAFETY: Gs are never freed; racy reads of the collector's own stamps, of a flag
        // the G clears when it runs and of its status: a count.
        let gp = unsafe { &*gm };
        let s = gp.status() & !GSCAN;
        if gp.kind == GKind::User
            && gp.gcscan_cycle == cycle
            && !gp.gcscanvalid.load(Ordering::Relaxed)
            && (s == GRUNNABLE || s == GWAITING)
        {
            k += 1;
        }
        k <= RESCAN_ROUND_MIN
    });
    k
}

/// What [`rescan_all`] did.
#[derive(Clone, Copy, Default)]
struct Rescanned {
    frames: usize,
    stacks: usize,
    skipped: usize,
}

/// Test-only build, `GRTDEBUG=gcrescancheck=1`: mark termination checks that every
/// goroutine not on the rescan list is skippable (a fatal error if not).
static RESCAN_CHECK: AtomicBool = AtomicBool::new(false);

/// Whether mark termination may skip `gp`: scanned in this cycle while parked, parked now,
/// and not run in between (`G.gcscanvalid`). Never in plain-store mode: another frame, or
/// another goroutine, may have stored into its stack through a pointer without GRT_STORE,
/// so neither its barriers nor gcscanvalid can be trusted (dirty.rs).
fn skippable(gp: &G, cycle: u64) -> bool {
    let s = gp.status() & !GSCAN;
    // (A status of GRUNNABLE or GWAITING means its context is saved: no thread is on its
    // stack.)
    scanned_in(gp, cycle)
        && (s == GRUNNABLE || s == GWAITING)
        && gp.gcscanvalid.load(Ordering::Relaxed)
}

/// Whether `gp`'s barriers may be trusted as this cycle's scan left them: stamped in
/// `cycle` (or the test-only `gcnoscandone`), and not in plain-store mode.
fn scanned_in(gp: &G, cycle: u64) -> bool {
    !dirty::tracking()
        && (gp.gcscan_cycle == cycle
            || (cfg!(feature = "testhooks") && NO_SCANDONE.load(Ordering::Relaxed)))
}

/// Mark termination's rescan of every goroutine that may have changed its stack since its
/// scan (world stopped; RESCAN_LOCK held): Go 1.7's rescan list (rescanlist.rs), so the
/// goroutines that did nothing cost nothing here; in plain-store mode, every goroutine. A
/// goroutine parked since its scan in this cycle is skipped: its stack holds what the scan
/// collected, and its barriers are taken out after the world restarts
/// ([`remove_skipped_barriers`]).
fn rescan_all(cycle: u64) -> Rescanned {
    let mut out = Rescanned::default();
    if dirty::tracking() {
        proc::for_each_gp(|gm| {
            rescan_one(gm, cycle, &mut out);
            true
        });
        return out;
    }
    if RESCAN_CHECK.load(Ordering::Relaxed) {
        check_rescan_list(cycle);
    }
    rescanlist::for_each_locked(|gm| rescan_one(gm, cycle, &mut out));
    // And what each M runs, or was about to run when it stopped: a goroutine may have been
    // stopped between its status saying GRUNNING and its push (rescanlist.rs).
    stw::for_each_m(|m| {
        if let Some(g) = current_off_list(m) {
            rescan_one(g as *const G as *mut G, cycle, &mut out);
        }
    });
    // The live goroutines not rescanned were skipped, listed or not.
    let live = crate::runtime2::NGOROUTINES.load(Ordering::Relaxed).max(0) as usize;
    out.skipped = live.saturating_sub(out.stacks);
    out
}

/// The user goroutine `m` runs (or is switching to), if it is not on the rescan list (world
/// stopped, RESCAN_LOCK held).
fn current_off_list(m: &M) -> Option<&'static G> {
    // SAFETY: null or a G (never freed).
    let g = unsafe { m.curg.load(Ordering::Acquire).as_ref() }?;
    // (An M that set a goroutine aside for grt_resume may still name it as curg while another
    // M runs it: that one's curg covers it.)
    let mine = core::ptr::eq(g.m.load(Ordering::Acquire), m);
    (g.kind == GKind::User && mine && !rescanlist::listed_locked(g)).then_some(g)
}

/// `gcrescancheck`: every live goroutine off the rescan list, and not what an M runs, must
/// be skippable.
fn check_rescan_list(cycle: u64) {
    proc::for_each_gp(|gm| {
        // SAFETY: the world is stopped (Gs are never freed).
        let g = unsafe { &*gm };
        let s = g.status() & !GSCAN;
        // SAFETY: null or an M (never freed).
        let current = unsafe { g.m.load(Ordering::Acquire).as_ref() }
            .is_some_and(|m| m.curg.load(Ordering::Acquire) == gm);
        if g.kind == GKind::User
            && s != GDEAD
            && s != GIDLE
            && !rescanlist::listed_locked(g)
            && !current
            && !skippable(g, cycle)
        {
            crate::throw!(
                "rescan list: goroutine {} (status {:#x}, scanned in cycle {} of {}, valid {}, epoch {} of {}) is not on it and not skippable",
                g.goid(),
                g.status(),
                g.gcscan_cycle,
                cycle,
                g.gcscanvalid.load(Ordering::Relaxed),
                g.rescan_epoch.load(Ordering::Relaxed),
                rescanlist::epoch_locked()
            );
        }
        true
    });
}

/// [`rescan_all`] for one G.
fn rescan_one(gm: *mut G, cycle: u64, out: &mut Rescanned) {
    // SAFETY: the world is stopped: nothing else touches the G (Gs are never freed).
    let gp = unsafe { &mut *gm };
    let s = gp.status() & !GSCAN;
    if gp.kind != GKind::User || s == GDEAD || s == GIDLE {
        return;
    }
    let scanned = scanned_in(gp, cycle);
    if skippable(gp, cycle) {
        out.skipped += 1;
        return;
    }
    out.stacks += 1;
    // SAFETY: as above; a shared view for the helpers that only read.
    let g = unsafe { &*gm };
    // SAFETY: null or an M (never freed).
    let m = unsafe { g.m.load(Ordering::Acquire).as_ref() };
    let top = match m.filter(|m| stw::is_stopped(m)) {
        Some(m) => running_top(m, g),
        None if s == GSYSCALL && g.syscallsp != 0 => Some(syscall_top(g)),
        None => Some(parked_top(g)),
    };
    match top {
        Some(top) if stkbar::gc_try_lock_stack_barriers(g) => {
            // Not scanned in this cycle: its barriers, if any, are an earlier cycle's
            // and say nothing about what ran since this cycle's scans.
            let (f, hits, whole, jumped) = mgcmark::rescanstack(gp, top, scanned);
            STATS
                .barriers_jumped
                .fetch_add(jumped as u64, Ordering::Relaxed);
            stkbar::gc_unlock_stack_barriers(g);
            out.frames += f;
            STATS.barriers_hit.fetch_add(hits as u64, Ordering::Relaxed);
            if whole {
                STATS.stacks_rescanned_whole.fetch_add(1, Ordering::Relaxed);
            }
        }
        Some(top) => {
            // A stopped thread holds the lock: everything, and the barriers stay (the
            // next cycle trusts them only after scanning this stack again).
            mgcmark::collect_stack(g, top);
            STATS.stacks_rescanned_whole.fetch_add(1, Ordering::Relaxed);
        }
        None => {
            // Stopped off its own stack (running_top): all of it, from its lowest byte.
            let m = m.expect("an unknown top comes from a stopped M");
            mgcmark::collect_stack(g, whole_stack_top(m, g));
            STATS.stacks_rescanned_whole.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// After mark termination, with the world running: takes the barriers out of the stacks it
/// skipped (parked since their scan), so that stacks are clean between cycles. Each is
/// taken as a scan takes it (scan bit, stack lock); one that runs by now is left alone: its
/// returns consume its barriers, and the next scan removes what is left, as it removes any
/// old barrier. Returns the stacks it cleaned.
fn remove_skipped_barriers() -> usize {
    let mut n = 0;
    proc::for_each_gp(|gm| {
        // SAFETY: Gs are never freed; the G is touched only once owned (scan bit).
        let gp = unsafe { &mut *gm };
        if gp.kind != GKind::User {
            return true;
        }
        let s = gp.status();
        if (s != GRUNNABLE && s != GWAITING) || !castogscanstatus(gp, s) {
            return true;
        }
        stkbar::gc_lock_stack_barriers(gp);
        if gp.stkbar_len > gp.stkbar_pos {
            let top = parked_top(gp);
            let r = stkbar::gc_remove_stack_barriers(
                gp,
                top.sp,
                top.fp,
                None,
                None,
                &mut stkbar::Proof::new(true),
            );
            STATS
                .barriers_hit
                .fetch_add(r.hits as u64, Ordering::Relaxed);
            STATS
                .barriers_jumped
                .fetch_add((r.dead + stkbar::take_jumps(gp)) as u64, Ordering::Relaxed);
            n += 1;
        }
        stkbar::gc_unlock_stack_barriers(gp);
        casfrom_gscanstatus(gp, s | GSCAN, s);
        true
    });
    n
}

/// How often the scavenger gives free pages back to the kernel, in ns: a page goes back once
/// it has stayed free from one pass to the next (Go's scavenger returns memory after about
/// 5 minutes; a C program that spikes and idles wants it back sooner).
const SCAVENGE_PERIOD_NS: u64 = 1_000_000_000;

/// A scavenger pass (mheap.rs), a step of a few pages per hold of the heap lock; between
/// cycles, on the collector's thread.
fn scavenge_pass() {
    let mut cursor = 0;
    let mut given = 0;
    loop {
        HEAP_LOCK.lock();
        let (g, more) = mheap::scavenge_step_locked(&mut cursor);
        HEAP_LOCK.unlock();
        given += g;
        if !more {
            break;
        }
    }
    if given != 0 && TRACE.load(Ordering::Relaxed) {
        crate::printerr!("scavenger: {} KiB of free pages given back\n", given / 1024);
    }
}

/// The background sweep (see mheap.rs): sweeps what allocations have not, a batch per hold
/// of the heap lock. Returns the bytes freed.
fn background_sweep() -> usize {
    let mut freed = 0;
    loop {
        HEAP_LOCK.lock();
        let b0 = sys::nanotime();
        let (f, more) = mheap::sweep_some_locked(mheap::SWEEP_BATCH);
        let held = sys::nanotime() - b0;
        HEAP_LOCK.unlock();
        STATS.sweep_batch_max_ns.fetch_max(held, Ordering::Relaxed);
        freed += f;
        if !more {
            return freed;
        }
        // An allocation waiting to refill its cache goes first.
        HEAP_LOCK.hand_over(HANDOFF_NS);
    }
}

/// Registered threads that are not goroutines: their stacks and registers, read once while
/// the cycle marks, so that marking what only they reach is not left to mark termination
/// (which reads them again). Each is stopped for this: a pause for it, recorded as one.
/// Returns how long the longest was held, in ns.
///
/// Done while it pays: while the read finds 128 KiB or more that the roots did not reach
/// (the roots are marked first, so that what the read adds can be told). A read that finds
/// less turns it off; then a mark termination that marks that much again (perhaps what
/// only these threads reach, perhaps not) turns it on for one read, after a wait that
/// doubles each time the read finds little ([`read_threads_after_mark_termination`]).
/// Returns how long the longest thread was held, in ns, and whether the read was done.
fn read_threads(cycle: u64) -> (u64, bool) {
    if !READ_THREADS.load(Ordering::Relaxed) {
        return (0, false);
    }
    mark_some(true);
    let before = mgcmark::MARK_LOCK.with(mgcmark::marked_locked);
    let ns = regthreads::collect_concurrent(|lo, hi, uc| {
        mgcmark::collect_range(lo, hi);
        // SAFETY: the ucontext of a thread stopped in the suspend handler until released.
        unsafe { mgcmark::collect_ucontext(uc) };
    });
    if ns != 0 {
        record_pause(ns);
    }
    mark_some(true);
    let found = mgcmark::MARK_LOCK.with(mgcmark::marked_locked) - before;
    if found < READ_THREADS_MIN {
        READ_THREADS.store(false, Ordering::Relaxed);
        let k = READ_BACKOFF.load(Ordering::Relaxed);
        READ_AGAIN_AT.store(cycle + (1 << k), Ordering::Relaxed);
        READ_BACKOFF.store((k + 1).min(READ_BACKOFF_MAX), Ordering::Relaxed);
    } else {
        READ_BACKOFF.store(0, Ordering::Relaxed);
    }
    (ns, true)
}

/// At mark termination, in a cycle that did not read the registered threads while it
/// marked (`read`: it did): `marked` bytes marked with the world stopped. Much, and the
/// back-off over: the next cycle reads them.
fn read_threads_after_mark_termination(cycle: u64, read: bool, marked: usize) {
    if !read && marked >= READ_THREADS_MIN && cycle >= READ_AGAIN_AT.load(Ordering::Relaxed) {
        READ_THREADS.store(true, Ordering::Relaxed);
    }
}

fn gc_cycle() {
    // The last cycle's sweep is over before this one marks (it usually is by now).
    background_sweep();
    let t0 = sys::nanotime();
    let idle0 = gcwork::IDLE_WORDS.load(Ordering::Relaxed);
    let before = {
        HEAP_LOCK.lock();
        let s = mheap::stats_locked();
        HEAP_LOCK.unlock();
        s
    };

    // 0. In plain-store mode, the heap's pages are write-protected (dirty.rs) before the
    // barrier goes on: a store after this is logged.
    dirty::protect();

    // 1. Barrier on.
    world_lock();
    let p0 = sys::nanotime();
    stw::stop_the_world();
    mheap::set_alloc_black_locked(true);
    mgcmark::take_marked_locked();
    mgcmark::set_marking_locked(true);
    gcwork::open_gate_locked();
    grt_gc_wbenabled.store(1, Ordering::SeqCst);
    // The scan pass below looks at every goroutine: the rescan list starts anew.
    rescanlist::reset_locked();
    stw::start_the_world();
    let pause1 = sys::nanotime() - p0;
    world_unlock_keep_heap();
    HEAP_LOCK.unlock();
    record_pause(pause1);

    // 2. Concurrent mark. Stacks scanned from here on are stamped with this cycle. The unwind
    // tables are re-read here if a lookup missed (no thread is stopped now: the loader's lock
    // is safe to wait for).
    let cycle = CYCLE.fetch_add(1, Ordering::Relaxed) + 1;
    // Mark termination's helper, if this heap wants one: started now, so that its start
    // (a new thread takes a CPU for a moment) is long over when the world stops.
    mgcpar::ensure_helper(before.inuse as usize);
    crate::unwind::refresh_if_stale();
    libroots::snapshot();
    // The data and bss write-protected (the kernel tracks stores into them from here on:
    // dirtyroots.rs), then read: the parts the collector reads, not grt's own large tables,
    // which it writes itself (with the world stopped too).
    protect_roots();
    collect_roots();
    roots_window();
    let (threads_ns, threads_read) = read_threads(cycle);
    mark_some(true);
    let mut gs: usize = 0;
    proc::for_each_gp(|gm| {
        // SAFETY: Gs are never freed; scang takes ownership of the G before touching it.
        if unsafe { (*gm).kind } == GKind::User {
            // SAFETY: as above.
            let gp = unsafe { &mut *gm };
            scang(gp, cycle);
            // Not skippable by mark termination (running or in a system call at its scan,
            // or not scanned): on the rescan list. One skippable now puts itself there
            // when it runs (G::ran).
            if !(gp.gcscan_cycle == cycle && gp.gcscanvalid.load(Ordering::Relaxed)) {
                rescanlist::push(gp);
            }
            mark_some(false);
            gs += 1;
        }
        true
    });
    mark_some(true);
    // 2b. Concurrent rescans of what ran since its scan, so mark termination has little left.
    let yields0 = STATS.round_yields.load(Ordering::Relaxed);
    let rounds = if NO_ROUNDS.load(Ordering::Relaxed) {
        Rounds::default()
    } else {
        rescan_rounds(cycle)
    };
    STATS
        .rescan_rounds
        .fetch_add(rounds.rounds as u64, Ordering::Relaxed);
    STATS
        .round_stacks
        .fetch_add(rounds.stacks as u64, Ordering::Relaxed);

    // 2c. Plain-store mode's kernel form: the heap's pages written since the protection,
    // protected again and their marked objects rescanned, with the world running, a few
    // times while the work found shrinks, so that mark termination rescans only what is
    // written after the last (dirty.rs `round`).
    for _ in 0..HEAP_ROUNDS_MAX {
        let found = dirty::round(|| mark_some(false));
        if found == 0 {
            break;
        }
        mark_some(true);
        if found < HEAP_ROUND_SMALL_BYTES {
            break;
        }
    }

    // 3. Mark termination. The libraries again first (no thread is stopped yet): the ones
    // loaded since the first snapshot.
    libroots::snapshot();
    // The data and bss written since their read, read again (and protected again: mark
    // termination reads what is written after this), the world running (dirtyroots.rs): after
    // the snapshot, whose references keep the libraries read here mapped until mark
    // termination is over. The gate's drain below marks what they reach.
    reread_roots();
    roots_window();
    mfinal::prepare();
    // The markers beside the collector leave, their work given back, and what they gave is
    // marked, before the stop: a marker the stop froze could hold grey objects mark
    // termination would not see (gcwork.rs).
    if !gcwork::no_wait() {
        gcwork::close_gate();
        mark_some(true);
    }
    // What the finalizable objects point to, with the world running, the collector marking
    // alone (mfinal.rs): mark termination's pass over them is left out where the barrier saw
    // every store since. What it marks is kept only for finalizers: counted as revived.
    let fin_m0 = mgcmark::MARK_LOCK.with(mgcmark::marked_locked);
    let fin_pass_bytes = if mfinal::markroot_spans(|| mark_some(false)) {
        mark_some(true);
        mgcmark::MARK_LOCK.with(mgcmark::marked_locked) - fin_m0
    } else {
        0
    };
    warm_roots();
    world_lock();
    let p1 = sys::nanotime();
    stw::stop_the_world();
    ROUNDS_BEHIND.store(false, Ordering::Relaxed);
    // Registered threads that are not goroutines too: their stacks and registers are roots,
    // scanned whole while they are stopped (regthreads.rs).
    regthreads::stop_all();
    regthreads::for_each_stopped(|lo, hi, uc, runs| {
        // Slots its allocation cache holds but has not handed out.
        if !(cfg!(feature = "testhooks") && crate::debug::get().gcnoregcache) {
            mcache::mark_runs_locked(runs);
        }
        mgcmark::collect_range(lo, hi);
        // SAFETY: the ucontext of a thread stopped in the suspend handler until start_all.
        unsafe { mgcmark::collect_ucontext(uc) };
    });
    let t_stopped = sys::nanotime();
    gcwork::check_none_locked();
    let marked_at_stop = mgcmark::marked_locked();
    // Slots the Ms' caches hold but have not handed out, and their buffered write barriers.
    stw::for_each_m(|m| {
        mcache::mark_runs_locked(&m.mcache.runs);
        mcache::flush_wbuf_locked(m);
        if !(cfg!(feature = "testhooks") && crate::debug::get().gcblackstale) {
            mcache::end_cycle_locked(m);
        }
        collect_system_stack(m);
    });
    let t_flushed = sys::nanotime();
    collect_roots_locked(true);
    let r0 = sys::nanotime();
    let rescanned = rescan_all(cycle);
    let r1 = sys::nanotime();
    let rescan_ns = r1 - r0;
    // Plain-store mode: the pages written since the protection, in marked objects, or all
    // of them; then what is left to mark, on two CPUs when it is big (mgcpar.rs).
    if let dirty::Rescan::All = dirty::rescan_locked() {
        // The candidates collected so far are marked with the heap's (after the walk, which
        // would read what they mark again).
        let bytes = mgcmark::marked_locked() + mheap::black_bytes_locked();
        mgcpar::mark_locked(mgcpar::ITEMS_HEAP, bytes);
    } else {
        mgcmark::flush_candidates_locked();
        mgcmark::drain_locked(usize::MAX);
    }
    // Weak pointers to what died are cleared; what has a finalizer lives one more cycle, with
    // all it reaches (mfinal.rs).
    let marked_before_fin = mgcmark::marked_locked();
    read_threads_after_mark_termination(cycle, threads_read, marked_before_fin - marked_at_stop);
    let f0 = sys::nanotime();
    let finalizers_queued = mfinal::mark_termination_locked();
    // Always: an object with a finalizer that found no room in the queue is greyed and kept
    // for the next cycle without being counted.
    mgcmark::drain_locked(usize::MAX);
    let fin_ns = sys::nanotime() - f0;
    let revived = mgcmark::marked_locked() - marked_before_fin + fin_pass_bytes;
    // Long links: what is not kept even for a finalizer.
    mfinal::clear_long_links_locked();
    grt_gc_wbenabled.store(0, Ordering::SeqCst);
    mgcmark::set_marking_locked(false);
    mheap::set_alloc_black_locked(false);
    // 4. Sweep, lazily: every span is unswept from here on (O(1)); the live heap is what was
    // marked, and the goal follows from it.
    let live = mgcmark::take_marked_locked() + mheap::black_bytes_locked();
    mheap::flip_locked(live);
    LAST_MARKED.store(live, Ordering::Relaxed);
    LAST_REVIVED.store(revived, Ordering::Relaxed);
    let goal = goal_for(live, revived);
    HEAP_GOAL.store(goal, Ordering::Relaxed);
    let t_drained = sys::nanotime();
    regthreads::start_all();
    stw::start_the_world();
    let t_end = sys::nanotime();
    let pause2 = t_end - p1;
    world_unlock_keep_heap();
    // The heap writable again, with the world running (under the heap lock: no chunk is
    // unmapped meanwhile).
    dirty::unprotect_locked();
    HEAP_LOCK.unlock();
    record_pause(pause2);
    libroots::release();
    if finalizers_queued > 0 {
        mfinal::wake_fing();
    }
    // Allocations waiting for this cycle (heap_grew) go on now.
    PHASE.store(PHASE_SWEEP, Ordering::Release);
    MARKED_CYCLES.fetch_add(1, Ordering::Release);
    sys::futex_wake_private(&MARKED_CYCLES, sys::FUTEX_WAKE_ALL);
    let st = |a: &AtomicU64, v: u64| a.store(v, Ordering::Relaxed);
    st(&STATS.last_markterm_ns, pause2);
    st(&STATS.last_stop_ns, t_stopped - p1);
    st(&STATS.last_flush_ns, t_flushed - t_stopped);
    st(&STATS.last_roots_ns, r0 - t_flushed);
    st(&STATS.last_rescan_ns, rescan_ns);
    st(&STATS.last_drain_ns, t_drained - r1);
    st(&STATS.last_start_ns, t_end - t_drained);
    let frames = rescanned.frames;
    STATS
        .frames_rescanned
        .fetch_add(frames as u64, Ordering::Relaxed);
    st(&STATS.last_frames_rescanned, frames as u64);
    STATS
        .stacks_rescanned
        .fetch_add(rescanned.stacks as u64, Ordering::Relaxed);
    STATS
        .stacks_skipped
        .fetch_add(rescanned.skipped as u64, Ordering::Relaxed);
    st(&STATS.last_stacks_rescanned, rescanned.stacks as u64);
    st(&STATS.last_stacks_skipped, rescanned.skipped as u64);

    let cleaned = remove_skipped_barriers();
    // The rest of the sweep, in the background (allocations sweep what they need first).
    let s0 = sys::nanotime();
    let freed = background_sweep();
    let sweep_ns = sys::nanotime() - s0;
    STATS.last_sweep_ns.store(sweep_ns, Ordering::Relaxed);
    let n = STATS.cycles.fetch_add(1, Ordering::Relaxed) + 1;
    if TRACE.load(Ordering::Relaxed) {
        crate::printerr!(
            "gc {}: {} -> {} KiB live (goal {} KiB, swept {} KiB free), {} goroutines, {} rescan rounds ({} stacks, {} frames, {} yields), pauses {} + {} us (stop {} flush {} roots {} rescan {} drain {} (finalizers {}) start {} us; data read {} of {} KiB{}; {} stacks rescanned, {} frames; {} skipped, {} cleaned after), threads stopped {} us, sweep {} us, total {} us; idle Ps marked {} KiB; longest allocation wait so far {} us\n",
            n,
            before.inuse / 1024,
            live / 1024,
            if pacing_on() { goal / 1024 } else { 0 },
            freed / 1024,
            gs,
            rounds.rounds,
            rounds.stacks,
            rounds.frames,
            STATS.round_yields.load(Ordering::Relaxed) - yields0,
            pause1 / 1000,
            pause2 / 1000,
            (t_stopped - p1) / 1000,
            (t_flushed - t_stopped) / 1000,
            (r0 - t_flushed) / 1000,
            rescan_ns / 1000,
            (t_drained - r1) / 1000,
            fin_ns / 1000,
            (t_end - t_drained) / 1000,
            STATS.last_data_rescanned_bytes.load(Ordering::Relaxed) / 1024,
            STATS.last_data_bytes.load(Ordering::Relaxed) / 1024,
            if dirtyroots::tracked() { "" } else { " (none tracked)" },
            rescanned.stacks,
            frames,
            rescanned.skipped,
            cleaned,
            threads_ns / 1000,
            sweep_ns / 1000,
            (sys::nanotime() - t0) / 1000,
            (gcwork::IDLE_WORDS.load(Ordering::Relaxed) - idle0) * 8 / 1024,
            STATS.alloc_wait_max_ns.load(Ordering::Relaxed) / 1000
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_bytes, rounds_behind, RESCAN_ROUND_MIN};

    #[test]
    fn rounds_fall_behind_when_they_do_not_shrink() {
        // The first round is never behind: nothing to compare with.
        assert!(!rounds_behind(900, usize::MAX));
        // Shrinking by a quarter or more: catching up.
        assert!(!rounds_behind(300, 900));
        assert!(!rounds_behind(75, 100));
        // Less than that, the same, or more: behind.
        assert!(rounds_behind(76, 100));
        assert!(rounds_behind(700, 700));
        assert!(rounds_behind(800, 700));
        // A round left for mark termination anyway is never behind.
        assert!(!rounds_behind(RESCAN_ROUND_MIN, RESCAN_ROUND_MIN));
        assert!(rounds_behind(RESCAN_ROUND_MIN + 1, RESCAN_ROUND_MIN));
    }

    #[test]
    fn memory_limits_parse_as_go_writes_them() {
        assert_eq!(parse_bytes(b"123"), Some(123));
        assert_eq!(parse_bytes(b"123B"), Some(123));
        assert_eq!(parse_bytes(b"64KiB"), Some(64 << 10));
        assert_eq!(parse_bytes(b"512MiB"), Some(512 << 20));
        assert_eq!(parse_bytes(b"2GiB"), Some(2 << 30));
        assert_eq!(parse_bytes(b"1TiB"), Some(1 << 40));
        for bad in [
            &b""[..],
            b"MiB",
            b"12MB",
            b"12 MiB",
            b"-1",
            b"1.5GiB",
            b"99999999999TiB",
        ] {
            assert_eq!(parse_bytes(bad), None, "{:?}", core::str::from_utf8(bad));
        }
    }
}
