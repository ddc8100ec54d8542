//! The scheduler's data structures: G (a goroutine), M (an OS thread), P (the right to run
//! goroutines, with a run queue), named and numbered as in Go's `runtime2.go`.
//!
//! Who may touch what:
//! - `G.atomicstatus` only by CAS ([`casgstatus`], [`castogscanstatus`],
//!   [`casfrom_gscanstatus`]). Whoever sets the scan bit owns the goroutine's stack until it
//!   clears it; the goroutine itself cannot change state meanwhile (it waits in
//!   `casgstatus`).
//! - `G.sched`, `syscallsp/pc/bp`: written by the goroutine's own M; read by others only
//!   while they hold the scan bit (the goroutine is then parked, runnable or in a syscall and
//!   cannot move).
//! - `G.stack_lock` guards the goroutine's stack barriers (the GC issue): the GC spins on it,
//!   a signal handler only try-locks it. `stkbar` / `stkbar_pos` / `stkbar_len` under it.
//! - M and P fields belong to the M that owns them, except where marked atomic.
//! - G, M and P structs are never freed (walkers and the suspend signal may look at any of
//!   them at any time); dead Gs are reused.

use core::sync::atomic::{
    AtomicBool, AtomicI64, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

use grt_arch::{self as arch, Context};

use crate::lock::Note;
use crate::stack::Stack;

// ---- G status (Go's values) ------------------------------------------------------------------

/// Just allocated, not initialised.
pub const GIDLE: u32 = 0;
/// On a run queue, not running.
pub const GRUNNABLE: u32 = 1;
/// Running on an M (which has a P).
pub const GRUNNING: u32 = 2;
/// In a system call or `grt_cgocall`: not running goroutine code; its stack above
/// `syscallsp` is frozen. Its M may have lost its P.
pub const GSYSCALL: u32 = 3;
/// Parked (channel, mutex, sleep, ...), not on a run queue.
pub const GWAITING: u32 = 4;
/// Finished, on a free list (or never used).
pub const GDEAD: u32 = 6;
/// OR'd into one of the above by whoever takes ownership of the stack (suspend, GC scan).
pub const GSCAN: u32 = 0x1000;

pub fn status_name(s: u32) -> &'static str {
    match s & !GSCAN {
        GIDLE => "idle",
        GRUNNABLE => "runnable",
        GRUNNING => "running",
        GSYSCALL => "syscall",
        GWAITING => "waiting",
        GDEAD => "dead",
        _ => "???",
    }
}

/// Why a goroutine is waiting (printed in deadlock reports, as Go's waitReason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum WaitReason {
    Zero,
    ChanReceive,
    ChanSend,
    Select,
    SelectNoCases,
    Sleep,
    SyncMutexLock,
    SyncWaitGroupWait,
    IoWait,
    FinalizerWait,
}

impl WaitReason {
    pub fn as_str(self) -> &'static str {
        match self {
            WaitReason::Zero => "waiting",
            WaitReason::ChanReceive => "chan receive",
            WaitReason::ChanSend => "chan send",
            WaitReason::Select => "select",
            WaitReason::SelectNoCases => "select (no cases)",
            WaitReason::Sleep => "sleep",
            WaitReason::SyncMutexLock => "sync.Mutex.Lock",
            WaitReason::SyncWaitGroupWait => "sync.WaitGroup.Wait",
            WaitReason::IoWait => "IO wait",
            WaitReason::FinalizerWait => "finalizer wait",
        }
    }
}

/// What kind of stack a G stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum GKind {
    /// A goroutine.
    User,
    /// An M's system stack (scheduler, grt_cgocall).
    G0,
    /// An M's alternate signal stack.
    Gsignal,
}

/// The usable stack `[lo, hi)`. `hi` is below the stack-barrier array (see [`G::stkbar`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct GStack {
    pub lo: usize,
    pub hi: usize,
}

/// One stack barrier: the return-address slot it overwrote, the value that was there, and
/// the frame pointer the frame returns with (the saved fp in its record: its caller's). The
/// slot is where the barrier was placed; a sibling call may move the return address (and so
/// the trampoline's address) into another record, but not the frame pointer the return hands
/// back, which is what identifies the barrier (stkbar.rs).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Stkbar {
    pub saved_lr_ptr: usize,
    pub saved_lr_val: usize,
    pub saved_fp: usize,
    /// Keeps the entry a power of two (the trampolines index with a shift).
    pub reserved: usize,
}

/// A goroutine. Offsets used from assembly are in asm/common/goffsets.h and checked below.
#[repr(C)]
pub struct G {
    pub stack: GStack,
    /// Saved context while not running (a stack pointer; the rest is on the stack).
    pub sched: Context,
    /// In GSYSCALL: the caller's sp, pc and frame pointer at grt_entersyscall/grt_cgocall.
    pub syscallsp: usize,
    pub syscallpc: usize,
    pub syscallbp: usize,
    /// Stack barriers: array of `stkbar_cap` entries reserved at the top of the stack
    /// mapping (so installing barriers never allocates); `stkbar_len` are installed,
    /// `stkbar_pos` is the first not yet hit.
    pub stkbar: *mut Stkbar,
    pub stkbar_len: usize,
    pub stkbar_cap: usize,
    pub stkbar_pos: usize,
    pub atomicstatus: AtomicU32,
    /// Guards the stack barriers against the profiler's walk (the seeds): 0 free, 1 held.
    pub stack_lock: AtomicU32,
    /// In GSYSCALL: the caller's callee-saved registers (and grt_cgocall's arg) at the call,
    /// which the collector scans as roots (layout: arch::NSYSCALLREGS, asm/<arch>/syscall.S).
    pub syscallregs: [usize; arch::asm_consts::NSYSCALLREGS],
    /// Returns through a barrier that found its frame's entry past `stkbar_pos`: a jump
    /// (longjmp without grt_gc_unwind) had skipped the frames of the entries between
    /// (asm/<arch>/stkbar.S). Written by the goroutine's own trampoline; the collector reads
    /// it and sets it back to 0 while the goroutine is stopped.
    pub stkbar_jumps: usize,
    /// The M running this G (null when not running).
    pub m: AtomicPtr<M>,
    pub goid: AtomicU64,
    /// Next G on a run queue or free list.
    pub schedlink: *mut G,
    /// Next G in the list of all Gs (never unlinked).
    pub alllink: *mut G,
    pub kind: GKind,
    pub waitreason: WaitReason,
    /// Set by whoever wakes the G from a channel operation: the sudog that won.
    pub param: *mut Sudog,
    /// select: 1 once a case has won (CAS by the waker).
    pub select_done: AtomicU32,
    /// select: this G's sudogs, in lock order.
    pub waiting: *mut Sudog,
    /// Entry function and argument.
    pub startfn: Option<unsafe extern "C" fn(*mut core::ffi::c_void)>,
    pub startarg: *mut core::ffi::c_void,
    /// The mapping that holds the stack (guard, stack, barrier array), or an empty Stack for
    /// a G whose stack was freed (it gets a new one when reused) or that does not own one.
    pub stk: Stack,
    /// The goroutine's timer: its sleep (`grt_sleep_ns`), or the deadline of its descriptor
    /// wait (netpoll.rs). Written by the goroutine itself before it parks.
    pub timer: crate::time::Timer,
    /// Whether grt_suspend holds the scan bit: SUSPENDED_NONE / _YES / _HELD.
    pub suspended: AtomicU32,
    /// The collector's cycle number in which this stack was last scanned concurrently (Go's
    /// `gcscandone`, as a stamp so nothing resets it per cycle). A stack whose stamp is not
    /// the current cycle is rescanned whole at mark termination, whatever barriers it holds.
    /// Written and read by the collector thread only.
    pub gcscan_cycle: u64,
    /// Go 1.7's `gcscanvalid`: the stack was scanned while parked (GRUNNABLE or GWAITING)
    /// and has not run since, so it still holds exactly what the scan saw and mark
    /// termination need not rescan it. Set by the collector under the scan bit; cleared by
    /// the M that starts running the goroutine (`suspend::start_running`, after its status
    /// says GRUNNING, so a scan that held the bit cannot set it again behind it) and by
    /// `newproc` for a reused G. Nothing else changes a parked stack: channel operations
    /// and `GRT_STORE` shade what they write into another goroutine's frames (grt.h's rule).
    pub gcscanvalid: AtomicBool,
    /// The rescan list (rescanlist.rs): the next G on it (one link per epoch parity), and
    /// the list's epoch in which this G was put on it. Written under `RESCAN_LOCK`; the
    /// collector's walks read the links without it (rescanlist.rs says why that is safe).
    pub rescan_next: [AtomicPtr<G>; 2],
    pub rescan_epoch: AtomicU64,
    /// Set by `grt_gc_unwind(sp)`: the frames below this stack address are about to be
    /// skipped by a jump, so no barrier may go into them (one placed between grt_gc_unwind
    /// and the longjmp would never be hit); cleared by the first scan that finds the
    /// goroutine at or above it. 0: none. Under the stack lock.
    pub stkbar_floor: usize,
    /// Set by sysmon when this goroutine has held its P for a time slice while others wait;
    /// the next grt call that is a safe point (`proc::preempt_point`) yields. Cleared when the
    /// goroutine is scheduled.
    pub preempt: AtomicBool,
    /// The FP control words (`arch::current_control_words`) this goroutine left in force
    /// when it last switched out, with [`FPCTL_CARRIED`] set, when they differed from its
    /// thread's (`M.fpctl`); 0 when they did not. `execute` puts them back before switching
    /// to it. Written by the M that runs the G, on g0.
    pub fpctl: u64,
    /// grt's own code is running on this goroutine's stack (`preempt::NoPreempt`): no
    /// asynchronous preemption. Changed by the goroutine's own thread only.
    pub nopreempt: AtomicU32,
    /// Asynchronous preemption for this goroutine: `preempt::ASYNC_DEFAULT` (follow
    /// `GRTDEBUG=asyncpreempt`), `ASYNC_ON` or `ASYNC_OFF` (`grt_async_preempt`).
    pub async_preempt: AtomicU32,
    /// netpoll: the sequence number of this goroutine's current descriptor wait (unique in
    /// the process), and its wait record on this goroutine's stack while it is parked on a
    /// poll descriptor (0 otherwise). Both change under that descriptor's lock only.
    pub pollseq: AtomicU64,
    pub pollwait: AtomicUsize,
    /// The errno of this goroutine's last `GRT_ESYS` from a descriptor call (`grt_errno`).
    pub syserr: i32,
}

/// Set in `G.fpctl` when it carries control words (no control word uses bit 63).
pub const FPCTL_CARRIED: u64 = 1 << 63;

// SAFETY: G is shared between threads under the rules in the module comment.
unsafe impl Sync for G {}

const _: () = {
    use core::mem::offset_of;
    use grt_arch::asm_consts as c;
    assert!(offset_of!(G, stack) + offset_of!(GStack, lo) == c::G_STACK_LO_OFF);
    assert!(offset_of!(G, stack) + offset_of!(GStack, hi) == c::G_STACK_HI_OFF);
    assert!(offset_of!(G, sched) == c::G_SCHED_SP_OFF);
    assert!(offset_of!(G, syscallsp) == c::G_SYSCALLSP_OFF);
    assert!(offset_of!(G, syscallpc) == c::G_SYSCALLPC_OFF);
    assert!(offset_of!(G, syscallbp) == c::G_SYSCALLBP_OFF);
    assert!(offset_of!(G, stkbar) == c::G_STKBAR_OFF);
    assert!(offset_of!(G, stkbar_len) == c::G_STKBAR_LEN_OFF);
    assert!(offset_of!(G, stkbar_pos) == c::G_STKBAR_POS_OFF);
    assert!(offset_of!(G, atomicstatus) == c::G_ATOMICSTATUS_OFF);
    assert!(offset_of!(G, stack_lock) == c::G_STACK_LOCK_OFF);
    assert!(offset_of!(G, syscallregs) == c::G_SYSCALLREGS_OFF);
    assert!(offset_of!(G, stkbar_jumps) == c::G_STKBAR_JUMPS_OFF);
    assert!(core::mem::size_of::<Stkbar>() == c::STKBAR_SIZE);
    assert!(offset_of!(Stkbar, saved_lr_ptr) == c::STKBAR_SAVED_LR_PTR_OFF);
    assert!(offset_of!(Stkbar, saved_lr_val) == c::STKBAR_SAVED_LR_VAL_OFF);
    assert!(offset_of!(Stkbar, saved_fp) == c::STKBAR_SAVED_FP_OFF);
    assert!(offset_of!(M, g0) == c::M_G0_OFF);
    assert!(offset_of!(M, curg) == c::M_CURG_OFF);
};

impl G {
    pub fn status(&self) -> u32 {
        self.atomicstatus.load(Ordering::Acquire)
    }

    pub fn goid(&self) -> u64 {
        self.goid.load(Ordering::Relaxed)
    }
}

/// Test-only build, `GRTDEBUG=gcscanvalidkeep=1`: [`G::ran`] keeps `gcscanvalid` (the teeth
/// of gc_rescan_ran). Set once by the collector's init.
pub static SCANVALID_KEEP: AtomicBool = AtomicBool::new(false);
/// Test-only build, `GRTDEBUG=gcnorescanlist=1`: [`G::ran`] clears `gcscanvalid` but does
/// not put the G on the rescan list (the teeth of gc_rescan_ran_list). Set once by the
/// collector's init.
pub static NO_RESCAN_LIST: AtomicBool = AtomicBool::new(false);

impl G {
    /// The goroutine is about to run (its status already says so): its stack is no longer
    /// what its last scan saw. One that mark termination could have skipped goes on the
    /// rescan list (rescanlist.rs).
    #[inline]
    pub fn ran(&self) {
        if cfg!(feature = "testhooks") && SCANVALID_KEEP.load(Ordering::Relaxed) {
            return;
        }
        // No scan sets it meanwhile: the status already says GRUNNING.
        if self.gcscanvalid.load(Ordering::Relaxed) {
            self.gcscanvalid.store(false, Ordering::Relaxed);
            if !(cfg!(feature = "testhooks") && NO_RESCAN_LIST.load(Ordering::Relaxed)) {
                crate::rescanlist::push(self);
            }
        }
    }
}

// ---- status transitions (Go's casgstatus family) ---------------------------------------------

/// Moves `gp` from `old` to `new` (neither with the scan bit). If someone holds the scan bit,
/// waits for them to drop it: a goroutine cannot change state while its stack is owned.
pub fn casgstatus(gp: &G, old: u32, new: u32) {
    if old & GSCAN != 0 || new & GSCAN != 0 || old == new {
        crate::throw!(
            "casgstatus: bad transition {:#x} -> {:#x} (goroutine {})",
            old,
            new,
            gp.goid()
        );
    }
    let mut tries = 0u32;
    loop {
        match gp
            .atomicstatus
            .compare_exchange(old, new, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => return,
            Err(cur) if cur == old | GSCAN => {
                // Owned by a scanner/suspender: wait for it, politely.
                tries += 1;
                if tries < 64 {
                    arch::cpu_relax();
                } else {
                    crate::sys::sched_yield();
                }
            }
            Err(cur) => crate::throw!(
                "casgstatus: goroutine {} is {} ({:#x}), expected {} -> {}",
                gp.goid(),
                status_name(cur),
                cur,
                status_name(old),
                status_name(new)
            ),
        }
    }
}

/// Takes ownership of `gp`'s stack: `old` -> `old | GSCAN`. False if its status is not `old`.
pub fn castogscanstatus(gp: &G, old: u32) -> bool {
    match old {
        GRUNNABLE | GRUNNING | GSYSCALL | GWAITING => gp
            .atomicstatus
            .compare_exchange(old, old | GSCAN, Ordering::AcqRel, Ordering::Acquire)
            .is_ok(),
        _ => crate::throw!("castogscanstatus: bad old status {:#x}", old),
    }
}

/// Gives the stack back: `old | GSCAN` -> `old`.
pub fn casfrom_gscanstatus(gp: &G, oldscan: u32, new: u32) {
    if oldscan & GSCAN == 0
        || oldscan & !GSCAN != new
        || gp
            .atomicstatus
            .compare_exchange(oldscan, new, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
    {
        crate::throw!(
            "casfrom_Gscanstatus: goroutine {} is {:#x}, expected {:#x} -> {:#x}",
            gp.goid(),
            gp.status(),
            oldscan,
            new
        );
    }
}

// ---- M ---------------------------------------------------------------------------------------

/// What a goroutine asked its M's g0 to do after switching to it (Go's mcall argument).
#[derive(Clone, Copy, Debug)]
pub enum Action {
    None,
    /// grt_yield: back on a run queue.
    Yield,
    /// Park: status -> waiting, then call `unlockf(gp, arg)`; if it returns false, resume.
    Park {
        unlockf: fn(*mut G, usize) -> bool,
        arg: usize,
    },
    /// The goroutine's function returned.
    Exit,
    /// exitsyscall found no P: queue the goroutine and stop this M.
    ExitSyscall,
    /// The goroutine used up its time slice (`G.preempt`): behind the global queue.
    Preempt,
}

/// `G::suspended`: not suspended by grt_suspend (maybe scanned by someone else, briefly).
pub const SUSPENDED_NONE: u32 = 0;
/// Suspended by grt_suspend.
pub const SUSPENDED_YES: u32 = 1;
/// Suspended, and the scheduler set aside a transition to runnable for grt_resume to finish.
pub const SUSPENDED_HELD: u32 = 2;

/// Suspend handshake states (`M::suspend_state`), see suspend.rs.
pub const SUSPEND_IDLE: u32 = 0;
pub const SUSPEND_REQUESTED: u32 = 1;
pub const SUSPEND_STOPPED: u32 = 2;
pub const SUSPEND_RESUMING: u32 = 3;
/// The handler took the request and is recording the registers.
pub const SUSPEND_CLAIMED: u32 = 4;
/// An M or registered thread asleep in a runtime wait (a lock's, the collector's), its
/// registers spilled and its stack top published: a stopper may count it as stopped without
/// signalling it (suspend.rs `park_while`).
pub const SUSPEND_PARKED: u32 = 5;

/// Registers recorded by the suspend signal handler.
#[derive(Clone, Copy, Debug, Default)]
pub struct SigRegs {
    pub pc: usize,
    pub sp: usize,
    pub fp: usize,
    pub lr: usize,
}

#[repr(C)]
pub struct M {
    /// The system stack: the scheduler runs here, and grt_cgocall's function.
    pub g0: *mut G,
    /// The goroutine running on this M (null on g0 between goroutines).
    pub curg: AtomicPtr<G>,
    /// The alternate signal stack.
    pub gsignal: *mut G,
    pub id: i64,
    /// Kernel thread id, for tgkill.
    pub procid: AtomicU32,
    /// Calls into grt_cgocall.
    pub ncgo: u64,
    /// Attached P (null when idle or in a syscall).
    pub p: *mut P,
    /// P to attach when woken.
    pub nextp: *mut P,
    /// P held before a syscall.
    pub oldp: *mut P,
    /// Looking for work (counted in `sched.nmspinning`).
    pub spinning: bool,
    /// Where an idle M sleeps.
    pub park: Note,
    /// Next M on the idle list / all-M list.
    pub schedlink: *mut M,
    pub alllink: *mut M,
    pub action: Action,
    /// The pending `mcall` G (set with `action`).
    pub actiong: *mut G,
    /// fastrand state.
    pub fastrand: u64,
    /// Suspend handshake (SUSPEND_*), futex word.
    pub suspend_state: AtomicU32,
    pub suspend_regs: SigRegs,
    /// While stopped by the suspend signal: its ucontext (every register), else 0.
    pub suspend_uc: AtomicUsize,
    /// Next M in the lock-free list of all Ms (the collector walks it with the world stopped,
    /// when the scheduler lock may be held by a stopped thread).
    pub gclink: *mut M,
    /// The collector stopped this M for stop-the-world (its own flag; see stw.rs).
    pub stw_stopped: bool,
    /// Whether the M is asleep in `stopm` with no P and no goroutine (`stw::M_IDLE`), or
    /// so asleep and counted as stopped by the collector (`stw::M_IDLE_HELD`): such an M
    /// is not sent the stop signal (see stw.rs); else `stw::M_BUSY`.
    pub stw_idle: AtomicU32,
    /// Next M whose thread the mstarter thread is to start (proc.rs).
    pub startlink: *mut M,
    /// Allocation runs and the write-barrier buffer (mcache.rs).
    pub mcache: crate::mcache::MCache,
    /// Grey work this M holds while it marks (an assist, or idle marking): gcwork.rs. Empty
    /// outside `gcwork::drain`.
    pub gcw: crate::gcwork::Work,
    /// Sleeping in `stopm` with a deadline for the earliest timer.
    pub timer_sleeper: bool,
    /// In grt_cgocall's function (on g0).
    pub incgo: AtomicBool,
    /// The profiler's CPU-time timer for this thread (cpuprof.rs; under its lock).
    pub prof_timer: i32,
    pub prof_armed: bool,
    /// Set while this thread runs the SIGPROF handler (read by the test-only build).
    pub in_sigprof: AtomicBool,
    /// The thread's FP control words (`arch::current_control_words`) when it started, what
    /// goroutines that never change them run with: g0 restores them when a goroutine leaves
    /// different ones (`G.fpctl`).
    pub fpctl: u64,
    /// Set by sysmon with the suspend signal when it asks this M to preempt its goroutine
    /// asynchronously (`preempt::request`); taken by the signal's handler.
    pub preempt_req: AtomicU32,
    /// The stopper (collector or grt_suspend, under SUSPEND_LOCK) took this M asleep in a
    /// runtime wait (SUSPEND_PARKED, suspend.rs `park_while`) rather than stopping it: its
    /// release puts it back to that wait (`release_m`).
    pub suspend_held: AtomicBool,
    /// A stop request's signal is on its way to this M (suspend.rs `signal_stop_word`): the
    /// handler drops it if the M served the request by stopping itself meanwhile.
    pub suspend_sig_owed: AtomicBool,
}

// SAFETY: shared between threads under the rules in the module comment.
unsafe impl Sync for M {}

// ---- P ---------------------------------------------------------------------------------------

pub const PIDLE: u32 = 0;
pub const PRUNNING: u32 = 1;
pub const PSYSCALL: u32 = 2;

/// Capacity of a P's local run queue.
pub const RUNQ_SIZE: usize = 256;
/// Dead Gs a P keeps for reuse before moving half of them to the global list.
pub const GFREE_LOCAL_MAX: u32 = 64;

#[repr(C)]
pub struct P {
    pub id: usize,
    pub status: AtomicU32,
    pub link: *mut P,
    pub m: *mut M,
    /// Bumped on every schedule, and on every syscall entry (sysmon watches it).
    pub schedtick: u32,
    pub syscalltick: AtomicU32,
    /// Lock-free ring (Go's runq): the owner puts at the tail, anyone steals from the head.
    pub runqhead: AtomicU32,
    pub runqtail: AtomicU32,
    pub runq: [AtomicPtr<G>; RUNQ_SIZE],
    /// The G to run next, ahead of the queue (a woken receiver, a new goroutine).
    pub runnext: AtomicPtr<G>,
    /// Consecutive goroutines taken from `runnext` (see proc.rs, RUNNEXT_STREAK_MAX).
    pub runnext_streak: u32,
    /// Dead Gs of the default stack size, for reuse.
    pub gfree: *mut G,
    pub gfreecnt: u32,
    /// sysmon's view: last syscalltick seen and when.
    pub sysmon_tick: u32,
    pub sysmon_when: u64,
    /// sysmon's view: last schedtick seen and when (a goroutine's time slice).
    pub sysmon_schedtick: u32,
    pub sysmon_schedwhen: u64,
}

// SAFETY: shared between threads under the rules in the module comment.
unsafe impl Sync for P {}

// ---- sudog -----------------------------------------------------------------------------------

/// A G waiting on a channel (Go's sudog). Lives on the waiting G's stack (send/recv) or in
/// select's scratch block, for exactly as long as the G waits.
#[repr(C)]
pub struct Sudog {
    pub g: *mut G,
    pub next: *mut Sudog,
    pub prev: *mut Sudog,
    /// Where the value comes from (send) or goes to (recv); may be null.
    pub elem: *mut u8,
    pub c: *mut crate::chan::Hchan,
    pub is_select: bool,
    /// True if woken by a value transfer, false if by close.
    pub success: bool,
    /// Next sudog of the same select (G.waiting list).
    pub waitlink: *mut Sudog,
    /// select: the case index this sudog stands for.
    pub casei: u16,
}

impl Sudog {
    pub const fn new() -> Sudog {
        Sudog {
            g: core::ptr::null_mut(),
            next: core::ptr::null_mut(),
            prev: core::ptr::null_mut(),
            elem: core::ptr::null_mut(),
            c: core::ptr::null_mut(),
            is_select: false,
            success: false,
            waitlink: core::ptr::null_mut(),
            casei: 0,
        }
    }
}

// ---- counters readable anywhere ----------------------------------------------------------

/// Goroutines not dead (created and not yet exited).
pub static NGOROUTINES: AtomicI64 = AtomicI64::new(0);
