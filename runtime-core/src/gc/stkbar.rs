//! Stack barriers (Go 1.6/1.7's `mstkbar.go`) and `G.stack_lock`.
//!
//! # The algorithm
//!
//! The collector scans goroutine stacks concurrently, while the goroutines run. Anything a
//! goroutine does to its stack after its scan (new locals, values moved between frames) must
//! be seen before the cycle ends, so mark termination, with the world stopped, rescans
//! stacks. A deep stack whose goroutine only churns its top frames would be rescanned in full
//! for nothing: its deep frames have not run since the scan.
//!
//! Stack barriers find out which frames ran. While scanning, the collector overwrites the
//! return-address slot of a few frames (the first frame boundary past sp + 1024·2^k, k = 0,
//! 1, 2, ...: logarithmically many) with the address of the trampoline `grt_stack_barrier`
//! (asm/<arch>/stkbar.S), and records `{saved_lr_ptr, saved_lr_val}` in `g.stkbar`, lowest
//! first. When such a frame returns, it lands in the trampoline, which bumps `g.stkbar_pos`
//! and jumps to the real return address. At mark termination, a frame above the lowest
//! barrier not yet hit (`stkbar[stkbar_pos]`) has not returned, so neither it nor anything
//! above it ran since the scan: the rescan stops there ([`rescan_limit`]). If every barrier
//! was hit, the whole stack is rescanned. The book-keeping grows with the log of the stack
//! size, and the rescan covers at most about twice what changed.
//!
//! What makes the partial rescan correct: a frame that did not run can still be written
//! through a pointer (a callee storing into its caller's local). Such stores must go through
//! the write barrier (`GRT_STORE`), which shades the stored pointer while marking.
//!
//! # Invariants
//!
//! - Entries `stkbar[..stkbar_len]` are sorted by `saved_lr_ptr`, low to high; entries
//!   `[stkbar_pos..stkbar_len]` are installed, `[..stkbar_pos]` were hit (their frame
//!   returned through the trampoline).
//! - A barrier is identified by the frame pointer its frame returns with (`saved_fp`: the
//!   saved fp of the record it was placed in, the caller's), not by its slot. C code moves
//!   return addresses: a sibling call (`ldp x29, x30, [sp], #n ; b callee` on aarch64) hands
//!   the barriered return address, trampoline and all, to the callee, which saves it in a
//!   record of its own at another address; an epilogue may have loaded it into the link
//!   register. The frame pointer is callee-saved, so the return hands back `saved_fp`
//!   whichever code performs it. The trampoline checks it, walkers match on it, and removal
//!   finds the address wherever it went ([`gc_remove_stack_barriers`]).
//! - Never on the innermost frame of a scanned stack: on aarch64 its return address may live
//!   in x30 only, and a slot already loaded by an epilogue would never be hit, so it would
//!   wrongly stop the rescan early (Go's `n != 0`).
//! - Old barriers are removed before new ones are installed, and new ones only when no old
//!   one is left in the list; all are removed at the end of the cycle, so debuggers and
//!   external profilers see clean stacks between cycles. A barrier whose address cannot be
//!   found is left in the list (its frame may still return through it) and the stack is
//!   rescanned whole.
//! - A goroutine that exits, or unwinds without returning (`grt_gc_unwind` before a
//!   longjmp), drops the barriers it skips; a reused stack starts with none.
//! - A jump that skips barriered frames without `grt_gc_unwind` (a library's own longjmp)
//!   leaves their entries behind, for frames that are gone; new frames may be built where
//!   they were, even with the old records intact inside an unwritten buffer. Such an entry
//!   is never trusted: the trampoline, returning with a frame pointer that is not the next
//!   entry's, passes over every entry below its own (their frames were callees of the one
//!   returning); walkers pass over an entry whose record is no longer on the frame chain
//!   ([`Cursor::resolve`]); mark termination's rescan limit and barrier removal judge each
//!   entry by the chain from the stopped frame ([`standing`]) and drop the dead ones, and
//!   where the chain cannot tell (frame-pointer-less code at the top) rescan the whole stack.
//! - The `stkbar` array is reserved at the top of each stack mapping (no allocation while
//!   scanning): [`stack_barrier_cap`] entries.
//!
//! # Who touches what: `stack_lock`
//!
//! `G.stack_lock` (0 free, 1 held) serialises everything that reads or writes a goroutine's
//! barriers other than the goroutine's own returns: the collector's scan (install, remove),
//! mark termination, goroutine exit, `grt_gc_unwind`, and the profiler's walk. The collector
//! and the others take it with [`gc_lock_stack_barriers`] (CAS, then `sched_yield`), in
//! ordinary code only. The SIGPROF handler only ever calls [`gc_try_lock_stack_barriers`],
//! once, on exactly the G whose stack it is about to walk, and never spins: the holder may be
//! the very thread it interrupted, which cannot run until the handler returns (seeds 000 and
//! 001; Go commits 9c9d74ab and 3f22adec). The trampoline takes no lock: it runs on the
//! goroutine's own thread, and the only other parties that look at `stkbar_pos` while the
//! goroutine runs are a profiler signal on that same thread (which sees the trampoline's
//! state between two instructions; see traceback.rs) and the collector, which stops the
//! goroutine first.

use core::sync::atomic::{AtomicBool, Ordering};

use grt_arch as arch;

use crate::runtime2::{Stkbar, G};
use crate::{codemap, sys, traceback};

/// Offset from sp of the first barrier; later ones at 2x, 4x, ... (Go 1.6's
/// `firstStackBarrierOffset`), in bytes.
pub const FIRST_STACK_BARRIER_OFFSET: usize = 1024;

/// `GRTDEBUG=gcstackbarrieroff=1`: no barriers, full rescans.
pub static STACK_BARRIER_OFF: AtomicBool = AtomicBool::new(false);
/// `GRTDEBUG=gcstackbarrierall=1`: a barrier on every frame (and a larger array per stack).
pub static STACK_BARRIER_ALL: AtomicBool = AtomicBool::new(false);
/// Test-only build, `GRTDEBUG=gctrustframes=1`: barriers go into any record whose return
/// address is at least `MIN_CODE_ADDR`, proven or not (the teeth of gc_fpless).
pub static TRUST_FRAMES: AtomicBool = AtomicBool::new(false);
/// Test-only build, `GRTDEBUG=gcnounwindcheck=1`: frame records are not checked against the
/// unwind tables (gc_fpless_teeth_unwind).
pub static NO_UNWIND_CHECK: AtomicBool = AtomicBool::new(false);
/// Test-only build, `GRTDEBUG=gcnounwindfloor=1`: grt_gc_unwind sets no floor (the teeth of
/// gc_unwind_scan).
pub static NO_UNWIND_FLOOR: AtomicBool = AtomicBool::new(false);
/// Test-only build, `GRTDEBUG=gcnochaincheck=1`: every barrier not hit counts as
/// [`Standing::Live`] (the teeth of gc_longjmp).
pub static NO_CHAIN_CHECK: AtomicBool = AtomicBool::new(false);
extern "C" {
    /// A byte of the trampoline's (asm/<arch>/stkbar.S, hidden): nonzero makes it treat a
    /// barrier a jump skipped as a fatal error, as before it could pass over them. Set only
    /// by the test-only build's `GRTDEBUG=gcnojumps=1` (the teeth of gc_jump).
    static grt_stkbar_nojumps: core::sync::atomic::AtomicU8;
}
/// Test-only build, `GRTDEBUG=gcnostacklock=1`: nobody takes `stack_lock`, so the races the
/// seeds fixed come back (the race tests' teeth).
pub static NO_STACK_LOCK: AtomicBool = AtomicBool::new(false);

/// Reads the knobs once (before any goroutine stack is made, from schedinit).
pub fn init_knobs() {
    let k = crate::debug::get();
    STACK_BARRIER_OFF.store(k.gcstackbarrieroff, Ordering::Relaxed);
    STACK_BARRIER_ALL.store(k.gcstackbarrierall, Ordering::Relaxed);
    NO_STACK_LOCK.store(
        cfg!(feature = "testhooks") && k.gcnostacklock,
        Ordering::Relaxed,
    );
    TRUST_FRAMES.store(
        cfg!(feature = "testhooks") && k.gctrustframes,
        Ordering::Relaxed,
    );
    NO_UNWIND_CHECK.store(
        cfg!(feature = "testhooks") && k.gcnounwindcheck,
        Ordering::Relaxed,
    );
    NO_UNWIND_FLOOR.store(
        cfg!(feature = "testhooks") && k.gcnounwindfloor,
        Ordering::Relaxed,
    );
    NO_CHAIN_CHECK.store(
        cfg!(feature = "testhooks") && k.gcnochaincheck,
        Ordering::Relaxed,
    );
    if cfg!(feature = "testhooks") && k.gcnojumps {
        // SAFETY: a byte of the trampoline's, written before any goroutine runs.
        unsafe { grt_stkbar_nojumps.store(1, Ordering::Relaxed) };
    }
}

fn lock_disabled() -> bool {
    cfg!(feature = "testhooks") && NO_STACK_LOCK.load(Ordering::Relaxed)
}

/// How long the teeth hold each barrier change open, in ns (see [`widen_for_teeth`]).
const TEETH_WINDOW_NS: u64 = 3_000;

/// With the lock switched off for the teeth (`gcnostacklock=1`, testhooks build only): waits
/// a little after each of the first barriers installed or removed in a stack (the `n`th), the
/// ones a profiler's walk (at most 64 frames from where the goroutine stopped) can meet, and
/// after each frame such a walk reads. Both sides of the race then take long enough that a
/// profiling signal (at most a few hundred per CPU-second: the kernel's tick) meets a stack
/// half changed often enough for the race tests' teeth to see it within their time. Never in
/// other builds or with the lock on (and bounded: 64 waits of a few microseconds a walk).
#[inline]
pub(crate) fn widen_for_teeth(n: usize) {
    if lock_disabled() && n < traceback::MAX_FRAMES {
        let t0 = sys::nanotime();
        while sys::nanotime() - t0 < TEETH_WINDOW_NS {
            arch::cpu_relax();
        }
    }
}

// ---- stack_lock ------------------------------------------------------------------------------

/// Takes `gp`'s stack lock, yielding the CPU while someone else holds it. Never from a signal
/// handler (Go's gcLockStackBarriers).
pub fn gc_lock_stack_barriers(gp: &G) {
    if lock_disabled() {
        return;
    }
    let mut tries = 0u32;
    while gp
        .stack_lock
        .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        tries += 1;
        if tries < 16 {
            arch::cpu_relax();
        } else {
            sys::sched_yield();
        }
    }
}

/// One attempt to take `gp`'s stack lock (acquire). Async-signal-safe, never waits (Go's
/// gcTryLockStackBarriers).
#[inline]
pub fn gc_try_lock_stack_barriers(gp: &G) -> bool {
    if lock_disabled() {
        return true;
    }
    gp.stack_lock
        .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
        .is_ok()
}

/// Releases the lock taken by either of the above.
#[inline]
pub fn gc_unlock_stack_barriers(gp: &G) {
    if lock_disabled() {
        return;
    }
    gp.stack_lock.store(0, Ordering::Release);
}

// ---- sizing ----------------------------------------------------------------------------------

/// How many barriers a stack of `stack_size` bytes can need (Go's `gcMaxStackBarriers`):
/// one per doubling of the offset that still fits, plus one.
pub const fn max_stack_barriers(stack_size: usize) -> usize {
    let mut n = 0;
    let mut offset = FIRST_STACK_BARRIER_OFFSET;
    while offset < stack_size {
        n += 1;
        offset *= 2;
    }
    n + 1
}

/// Smallest stack frame that can carry a barrier with gcstackbarrierall (a frame record and
/// a little), in bytes: sets how many entries such stacks reserve.
const MIN_FRAME_FOR_ALL: usize = 32;

/// Entries reserved for a stack of `stack_size` bytes under the current knobs.
pub fn stack_barrier_cap(stack_size: usize) -> usize {
    if STACK_BARRIER_ALL.load(Ordering::Relaxed) {
        stack_size / MIN_FRAME_FOR_ALL
    } else {
        max_stack_barriers(stack_size)
    }
}

// ---- install, remove, unwind (all with the lock held and the goroutine stopped) --------------

/// The trampoline's address (what an installed slot holds).
pub fn stack_barrier_pc() -> usize {
    arch::stack_barrier_pc()
}

fn entries(gp: &G) -> &mut [Stkbar] {
    if gp.stkbar.is_null() {
        return &mut [];
    }
    // SAFETY: stkbar points to stkbar_cap entries reserved with the stack; the caller holds
    // the lock (or is the goroutine's only owner).
    unsafe { core::slice::from_raw_parts_mut(gp.stkbar, gp.stkbar_cap) }
}

/// What [`gc_install_stack_barriers`] did.
#[derive(Clone, Copy, Debug, Default)]
pub struct Installed {
    /// Frame records walked.
    pub frames: usize,
    /// Barriers installed.
    pub barriers: usize,
    /// Records whose return address could not be proven one (not code, or not right after a
    /// call instruction): no barrier there, and none further up the chain, which from there
    /// on may be made of data (frame-pointer-less code keeps data in the frame pointer).
    pub unprovable: usize,
}

/// How [`gc_install_stack_barriers`] checks a frame record before it writes into it.
pub struct Proof {
    /// The collector's thread may refresh its code map (`codemap::COLLECTOR`) once when a
    /// return address lies in no known mapping (a library loaded since). Other callers (the
    /// test hooks, on a goroutine) only read it.
    pub may_refresh: bool,
    refreshed: bool,
    /// An entry [`standing`] found Live on this stack (index and saved_fp), so mark
    /// termination's removal after its rescan does not walk the chain again.
    live: Option<(usize, usize)>,
}

impl Proof {
    pub const fn new(may_refresh: bool) -> Proof {
        Proof {
            may_refresh,
            refreshed: false,
            live: None,
        }
    }

    /// Whether the function `ret` returns into may keep data in its frame-pointer register at
    /// that call, by its unwind table: then the record the walk reaches next may be data, and
    /// nothing from there up can be proven. (Only on the collector's thread, which owns the
    /// tables; elsewhere, and where no table covers `ret`, the return-address check alone
    /// decides.)
    fn caller_may_keep_data(&self, ret: usize) -> bool {
        if cfg!(feature = "testhooks")
            && (TRUST_FRAMES.load(Ordering::Relaxed) || NO_UNWIND_CHECK.load(Ordering::Relaxed))
        {
            return false;
        }
        self.may_refresh && crate::unwind::caller_frame(ret) == crate::unwind::Frame::NoRecord
    }

    /// Whether `ret`, read from a frame record, is a return address: it lies in a code
    /// mapping and the instruction before it is a call. A frame-pointer-less function keeps
    /// data in the frame-pointer register, so a "record" its callee saved may be any two
    /// words of the stack; writing the trampoline's address over them would corrupt the
    /// program's data.
    fn return_address(&mut self, ret: usize) -> bool {
        // A return into the asynchronous preemption stub: the record above is the stub's,
        // whose slot holds the interrupted pc and is never returned through (preempt.rs).
        if arch::in_async_preempt(ret) {
            return false;
        }
        if cfg!(feature = "testhooks") && TRUST_FRAMES.load(Ordering::Relaxed) {
            return ret >= traceback::MIN_CODE_ADDR;
        }
        let map = &codemap::COLLECTOR;
        if map.find(ret).is_none() {
            if !self.may_refresh || self.refreshed {
                return false;
            }
            map.snapshot();
            self.refreshed = true;
            if map.find(ret).is_none() {
                return false;
            }
        }
        ret.checked_sub(arch::CALL_SCAN_BYTES)
            .and_then(|at| map.read_array::<{ arch::CALL_SCAN_BYTES }>(at))
            .is_some_and(|code| arch::ends_with_call(&code))
    }
}

/// Walks `gp`'s frames from `fp` (the innermost record of a stack stopped at `sp`) and
/// installs barriers at the first frame boundary past sp + 1024·2^k (every frame with
/// gcstackbarrierall or `every`), never on the innermost record. Barriers at or above `sp`
/// were removed first; new entries go after any kept below it, so the list stays sorted.
///
/// The caller holds `gp`'s stack lock and owns the stack (scan bit, goroutine stopped).
pub fn gc_install_stack_barriers(
    gp: &mut G,
    sp: usize,
    fp: usize,
    install: bool,
    every: bool,
    proof: &mut Proof,
) -> Installed {
    let cap = gp.stkbar_cap;
    install_below(gp, sp, fp, install, every, None, cap, proof)
}

/// [`gc_install_stack_barriers`], walking only up to `ceiling` (a barrier's slot kept above)
/// if given, and using at most `cap` entries.
#[allow(clippy::too_many_arguments)]
fn install_below(
    gp: &mut G,
    sp: usize,
    fp: usize,
    install: bool,
    every: bool,
    ceiling: Option<usize>,
    cap: usize,
    proof: &mut Proof,
) -> Installed {
    let (lo, hi) = (gp.stack.lo, gp.stack.hi);
    let mut out = Installed::default();
    if gp.stkbar_floor != 0 && sp >= gp.stkbar_floor {
        gp.stkbar_floor = 0; // the jump grt_gc_unwind announced has happened
    }
    let all = every || STACK_BARRIER_ALL.load(Ordering::Relaxed);
    let mut offset = if all { 0 } else { FIRST_STACK_BARRIER_OFFSET };
    let mut next_barrier = sp.saturating_add(offset);
    let tramp = stack_barrier_pc();
    let mut fp = fp;
    let mut n = 0usize;
    // Whether the record at fp is proven a frame record: the walk starts at one (the stopped
    // thread's frame pointer, a parked context's switch frame, grt_entersyscall's caller's);
    // a return address that is no return address, or a caller whose unwind table says it may
    // keep data in its frame pointer, ends the proof.
    let mut proven = true;
    while n < MAX_SCAN_FRAMES {
        let Some(rec) = traceback::step(fp, lo, hi) else {
            break;
        };
        let slot = arch::return_address_slot(fp);
        if ceiling.is_some_and(|c| slot >= c || rec.ret == tramp) {
            break; // the kept barrier's frame: from here up nothing changed
        }
        out.frames += 1;
        if rec.ret == tramp {
            crate::throw!(
                "stack barrier: goroutine {} already has a barrier at {:#x} while installing",
                gp.goid(),
                slot
            );
        }
        // The outermost record (saved fp 0) returns into the context entry, never taken.
        let outermost = rec.fp == 0;
        if install && proven && !outermost && !proof.return_address(rec.ret) {
            proven = false;
        }
        let wanted = install
            && n != 0
            && !outermost
            && slot > next_barrier
            && slot >= gp.stkbar_floor
            && gp.stkbar_len < cap;
        if wanted && !proven {
            out.unprovable += 1;
            break;
        }
        if wanted {
            let i = gp.stkbar_len;
            entries(gp)[i] = Stkbar {
                saved_lr_ptr: slot,
                saved_lr_val: rec.ret,
                saved_fp: rec.fp,
                reserved: 0,
            };
            // Publish the entry before the slot: a walker that sees the trampoline in the
            // slot finds its entry (walkers hold the lock anyway; this is for the fix-up
            // in the trampoline).
            gp.stkbar_len = i + 1;
            // SAFETY: slot lies inside the record step() validated within [lo, hi).
            unsafe { core::ptr::write_volatile(slot as *mut usize, tramp) };
            widen_for_teeth(out.barriers);
            out.barriers += 1;
            if !all {
                offset *= 2;
            }
            next_barrier = sp.saturating_add(offset);
        }
        // The record the walk goes to next is the one the caller's frame pointer pointed at:
        // a frame record only if the caller keeps one at this call.
        if install && proven && !outermost && proof.caller_may_keep_data(rec.ret) {
            proven = false;
        }
        if rec.fp <= fp {
            break;
        }
        fp = rec.fp;
        n += 1;
    }
    out
}

/// Most frames a scan walks (stacks deeper than this are still scanned word by word in full;
/// only barrier placement and frame counts stop here).
pub const MAX_SCAN_FRAMES: usize = 1 << 20;

/// A concurrent rescan round's barrier work on a parked goroutine whose lowest live barrier
/// not hit is entry `k` (by [`rescan_limit`]), still in its own slot: the frames below it
/// ran since the last scan and were just collected again; the frames from it up did not.
/// Keeps entries `k..` as they are, drops those below (hit, or discarded by a jump: the
/// caller checked none is in flight), and installs new barriers in the frames below entry
/// `k`'s slot, as a scan would, so that the next rescan of this stack stops at the lowest of
/// them. Returns what it installed, with `hits` the entries dropped as hit. Lock held, the
/// goroutine owned (scan bit) and parked.
pub fn gc_reinstall_below(
    gp: &mut G,
    sp: usize,
    fp: usize,
    k: usize,
    proof: &mut Proof,
) -> (Installed, usize) {
    let len = gp.stkbar_len.min(gp.stkbar_cap);
    let hits = gp.stkbar_pos.min(k);
    let cap = gp.stkbar_cap;
    let keep = len - k;
    let ceiling = entries(gp)[k].saved_lr_ptr;
    // The kept entries wait at the top of the array while the new ones go in below them.
    entries(gp).copy_within(k..len, cap - keep);
    gp.stkbar_pos = 0;
    gp.stkbar_len = 0;
    let install = !STACK_BARRIER_OFF.load(Ordering::Relaxed);
    let r = install_below(gp, sp, fp, install, false, Some(ceiling), cap - keep, proof);
    let n = gp.stkbar_len;
    entries(gp).copy_within(cap - keep..cap, n);
    gp.stkbar_len = n + keep;
    (r, hits)
}

/// Whether entry `k` of `gp` (stopped) is in the slot it was placed in: the record there
/// still holds the trampoline's address beside the frame pointer it returns with (a sibling
/// call may have moved it elsewhere).
pub fn in_own_slot(gp: &G, k: usize) -> bool {
    let e = entries(gp)[k];
    let record = e.saved_lr_ptr.wrapping_sub(arch::return_address_slot(0));
    traceback::step(record, gp.stack.lo, gp.stack.hi)
        .is_some_and(|rec| rec.ret == stack_barrier_pc() && rec.fp == e.saved_fp)
}

/// The index of the entry [`rescan_limit`] last found live on this stack, if any.
pub fn live_entry(proof: &Proof) -> Option<usize> {
    proof.live.map(|(k, _)| k)
}

/// The first entry not hit whose slot is at or above `boundary`.
pub fn first_at_or_above(gp: &G, boundary: usize) -> usize {
    let len = gp.stkbar_len.min(gp.stkbar_cap);
    let mut k = gp.stkbar_pos.min(len);
    while k < len && entries(gp)[k].saved_lr_ptr < boundary {
        k += 1;
    }
    k
}

/// What [`gc_remove_stack_barriers`] did.
#[derive(Clone, Copy, Debug, Default)]
pub struct Removed {
    /// Barriers that had been hit, counted when the list is emptied (0 when entries stay:
    /// they are counted when it is emptied later).
    pub hits: usize,
    /// Entries not hit that stay in the list: returns in flight below the boundary, and
    /// barriers whose trampoline address could not be found (`unlocated`).
    pub kept: usize,
    /// Barriers above the boundary whose trampoline address is nowhere to be found: kept,
    /// since the frame may still return through it. Their stack cannot be trusted to say
    /// what ran (rescan it whole) and gets no new barriers while they are there.
    pub unlocated: usize,
    /// Barriers dropped because a jump had discarded their frames ([`Standing::Dead`]).
    pub dead: usize,
}

/// A stack word is a place a barrier may live: aligned and inside `[lo, hi)`.
fn stack_slot(addr: usize, lo: usize, hi: usize) -> bool {
    addr.is_multiple_of(8) && addr >= lo && addr + 8 <= hi
}

/// Writes `val` over every copy of the trampoline's address in the words of `[from, to)`;
/// returns whether there was one. Only called on the range a single barrier's return address
/// can have been copied into (see [`gc_remove_stack_barriers`]).
fn restore_copies(from: usize, to: usize, tramp: usize, val: usize) -> bool {
    let mut found = false;
    let mut p = (from + 7) & !7;
    while p + 8 <= to {
        // SAFETY: inside the goroutine's stack (the caller bounds [from, to) by it), which
        // its owner does not run on while we hold it.
        unsafe {
            if core::ptr::read_volatile(p as *const usize) == tramp {
                core::ptr::write_volatile(p as *mut usize, val);
                found = true;
            }
        }
        p += 8;
    }
    found
}

/// Takes out the barriers not yet hit in the frames at or above `sp`, the stack pointer of
/// the stopped goroutine (Go's gcRemoveStackBarriers): its frame pointer is `fp`, and
/// `lr_slot` is where its stopped thread's link register is kept (the ucontext, aarch64), if
/// it was stopped by a signal (`top_pc` its pc then). The lowest entries a jump discarded are
/// dropped ([`standing`], with `proof`).
///
/// Where a barrier's return address lives now: in the slot it was placed in, unless its frame
/// ran since then. Only one frame can have: the lowest barrier not hit (everything above it
/// has been waiting for it to return). That frame may have moved the return address,
/// trampoline and all: a sibling call reloads it and the callee saves it in a record of its
/// own, elsewhere (aarch64); an epilogue may have loaded it into the link register already
/// (aarch64) or be at its `ret` with the frame chain past it (x86_64). Wherever it went, it
/// stays below the frame record of the frame's caller, whose address is the frame pointer the
/// return hands back (`saved_fp`), and nothing else below that record holds the trampoline's
/// address (barriers lower down were hit, or are in flight below sp). So for that one
/// barrier every copy in `[sp, saved_fp)`, and the link register if the frame pointer is
/// already `saved_fp`, is restored; for the others, the slot. (The range starts above the
/// frame pointer of an entry kept below, if any: that one's copies lie below it.)
///
/// Entries whose slot lies below `sp` are left alone, in place: those frames may still be
/// returning right now. A goroutine in a system call runs grt's own code below `syscallsp`
/// (the way out of `grt_entersyscall`, in frames a scan of it while it was running may have
/// barriered), and a goroutine stopped inside the trampoline has popped its slot but not yet
/// bumped `stkbar_pos`. Both consume their entries themselves; touching `stkbar_pos` under
/// them would lose an increment. A sibling callee smaller than the frame it replaced can
/// also leave the barrier's first slot below sp: kept as well, it is consumed by its return
/// as usual. Lock held; the goroutine stopped, or in a system call (then only its frames
/// below `sp` run, and they touch only `stkbar_pos` and entries below the first one kept).
pub fn gc_remove_stack_barriers(
    gp: &mut G,
    sp: usize,
    fp: usize,
    lr_slot: Option<*mut usize>,
    top_pc: Option<usize>,
    proof: &mut Proof,
) -> Removed {
    let tramp = stack_barrier_pc();
    let (lo, hi) = (gp.stack.lo, gp.stack.hi);
    let len = gp.stkbar_len.min(gp.stkbar_cap);
    // Entries from k0 up are for frames at or above sp; the lowest of them a jump discarded
    // (longjmp without grt_gc_unwind: Standing::Dead) are dropped, and k is the lowest left.
    let k0 = first_at_or_above(gp, sp);
    let mut k = k0;
    while k < len
        && proof.live != Some((k, entries(gp)[k].saved_fp))
        && standing(gp, &entries(gp)[k], sp, fp, top_pc, proof) == Standing::Dead
    {
        k += 1;
    }
    let dead = k - k0;
    let mut keep = k0;
    for i in k..len {
        let e = entries(gp)[i];
        let mut found = false;
        if i == k {
            if let Some(lr) = lr_slot {
                // SAFETY: the stopped thread's ucontext, valid until it is resumed.
                unsafe {
                    if core::ptr::read_volatile(lr) == tramp && fp == e.saved_fp {
                        core::ptr::write_volatile(lr, e.saved_lr_val);
                        found = true;
                    }
                }
            }
            // Not below an entry kept as in flight: a kept barrier whose frame is in fact
            // still live (its sibling callee is smaller than it was) has its copies below
            // the frame pointer it returns with.
            let from = match k0.checked_sub(1) {
                Some(j) if j >= gp.stkbar_pos => {
                    let below = entries(gp)[j].saved_fp;
                    if below > sp && below < e.saved_fp {
                        below
                    } else {
                        sp
                    }
                }
                _ => sp,
            };
            if e.saved_fp > from && e.saved_fp <= hi && e.saved_fp.is_multiple_of(8) {
                found |= restore_copies(from.max(lo), e.saved_fp, tramp, e.saved_lr_val);
            }
        }
        if !found && stack_slot(e.saved_lr_ptr, sp.max(lo), hi) {
            // SAFETY: a word of this stack at or above the stopped sp.
            unsafe {
                let slot = e.saved_lr_ptr as *mut usize;
                if core::ptr::read_volatile(slot) == tramp {
                    core::ptr::write_volatile(slot, e.saved_lr_val);
                    found = true;
                }
            }
        }
        if !found {
            entries(gp)[keep] = e;
            keep += 1;
        }
        widen_for_teeth(i - k);
    }
    let unlocated = keep - k0;
    // Volatile: a goroutine in a system call may bump stkbar_pos concurrently (only while
    // it is below k0).
    // SAFETY: fields of a live G.
    let pos = unsafe { core::ptr::read_volatile(&gp.stkbar_pos) };
    if pos >= k0 {
        // Nothing in flight: start over, with the unlocated entries (if any) first.
        for j in 0..unlocated {
            entries(gp)[j] = entries(gp)[k0 + j];
        }
        gp.stkbar_pos = 0;
        gp.stkbar_len = unlocated;
        Removed {
            hits: pos,
            kept: unlocated,
            unlocated,
            dead,
        }
    } else {
        // SAFETY: as above.
        unsafe { core::ptr::write_volatile(&mut gp.stkbar_len, keep) };
        Removed {
            hits: 0,
            kept: keep - pos,
            unlocated,
            dead,
        }
    }
}

/// Marks as hit every barrier whose slot lies below `sp`, for a jump up the stack that does
/// not return through them (Go's gcUnwindBarriers), and keeps new ones out of those frames
/// until the jump is over (`G.stkbar_floor`). Lock held; called on the goroutine
/// itself. `sp` may be any address in the frame the jump lands in (grt.h allows a local's),
/// so the barrier of that frame itself can count as skipped: a slot that still holds the
/// record it was placed in (the trampoline's address beside the same saved frame pointer) is
/// given its return address back, so that frame, if it survives the jump, returns normally.
/// Any other slot below `sp` is left as it is: the jump discards that frame, and the slot
/// may by now belong to a frame of the code that is about to jump (a sibling call can have
/// moved the barrier's return address elsewhere, and the stack has grown since).
pub fn gc_unwind_barriers(gp: &mut G, sp: usize) -> usize {
    let tramp = stack_barrier_pc();
    let mut n = 0;
    while gp.stkbar_pos < gp.stkbar_len {
        let e = entries(gp)[gp.stkbar_pos];
        if e.saved_lr_ptr >= sp {
            break;
        }
        let record = e.saved_lr_ptr - arch::return_address_slot(0);
        if let Some(rec) = traceback::step(record, gp.stack.lo, gp.stack.hi) {
            if rec.ret == tramp && rec.fp == e.saved_fp {
                // SAFETY: a slot of this stack (step checked the record's bounds).
                unsafe { core::ptr::write_volatile(e.saved_lr_ptr as *mut usize, e.saved_lr_val) };
            }
        }
        gp.stkbar_pos += 1;
        n += 1;
    }
    // Until the jump is over, no barrier may go into the frames it skips: a scan that stops
    // the goroutine between here and its longjmp would otherwise place one that is never hit.
    if !(cfg!(feature = "testhooks") && NO_UNWIND_FLOOR.load(Ordering::Relaxed)) {
        gp.stkbar_floor = sp;
    }
    n
}

/// Where mark termination's rescan of `gp` may stop: everything from the stack pointer up to
/// this address may have changed since the scan; above it, nothing has (but through
/// `GRT_STORE`). `gp.stack.hi` when every barrier was hit or there were none.
///
/// The lowest barrier not hit belongs to a frame F that has not returned. F itself may have
/// run (its callees returned; it may even have been replaced by a sibling callee), so all of
/// it is rescanned: up to and including the frame record of F's caller, at the frame pointer
/// F returns with (`saved_fp`), whose record and everything above did not change. On x86_64
/// F's locals lie below its record, on aarch64 (gcc) usually above it; stopping at the
/// caller's record covers both.
///
/// Which barrier that is, the frame chain from the stopped frame pointer `fp` says
/// ([`standing`], with `top_pc` and `proof` as there): one a jump discarded (a longjmp without grt_gc_unwind) is passed over, and
/// where the chain cannot tell, the whole stack is rescanned.
/// Also whether the chain could not tell which barrier that is (then the limit is the top of
/// the stack).
pub fn rescan_limit(
    gp: &G,
    sp: usize,
    fp: usize,
    top_pc: Option<usize>,
    proof: &mut Proof,
) -> (usize, bool) {
    let hi = gp.stack.hi;
    if STACK_BARRIER_OFF.load(Ordering::Relaxed) {
        return (hi, false);
    }
    // The lowest barrier not hit in a live frame (entries below sp were popped and their
    // trampoline is in flight).
    let len = gp.stkbar_len.min(gp.stkbar_cap);
    for k in first_at_or_above(gp, sp)..len {
        let e = entries(gp)[k];
        match standing(gp, &e, sp, fp, top_pc, proof) {
            Standing::Dead => continue,
            Standing::Unknown => return (hi, true),
            Standing::Live => proof.live = Some((k, e.saved_fp)),
        }
        return (limit_of(gp, &e, sp), false);
    }
    (hi, false)
}

/// [`rescan_limit`] if the lowest barrier not hit at or above `sp` is in place, without
/// asking the chain: what the rescan can collect first, sequentially, before the chain walk
/// (which then finds the stack's words in the cache); the limit is never below this.
pub fn rescan_limit_if_in_place(gp: &G, sp: usize) -> usize {
    let len = gp.stkbar_len.min(gp.stkbar_cap);
    let k = first_at_or_above(gp, sp);
    if STACK_BARRIER_OFF.load(Ordering::Relaxed) || k >= len {
        return gp.stack.hi;
    }
    limit_of(gp, &entries(gp)[k], sp)
}

/// The rescan limit that barrier `e` gives: up to and including its caller's frame record.
fn limit_of(gp: &G, e: &Stkbar, sp: usize) -> usize {
    let ok = e.saved_fp > sp && e.saved_fp >= e.saved_lr_ptr && e.saved_fp.is_multiple_of(8);
    if ok {
        (e.saved_fp + arch::FRAME_RECORD_SIZE).min(gp.stack.hi)
    } else {
        gp.stack.hi
    }
}

/// Where a barrier not hit stands on a stopped goroutine's stack, by its frame chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// In place: its frame is returning right now (the frame pointer is already the one it
    /// returns with: an epilogue, a sibling callee's prologue), or the chain reaches a record
    /// that links to `saved_fp` with the trampoline's address beside it (the barrier's frame,
    /// or the sibling callee that took its return address over).
    Live,
    /// Discarded: the chain goes from below `saved_fp` to above it without such a record. A
    /// jump up the stack that did not call grt_gc_unwind (a longjmp in a library) skipped
    /// that frame; whatever its old slot still holds, nothing will return through it.
    Dead,
    /// The chain ends first (frame-pointer-less code at the top keeps data in the register).
    Unknown,
}

/// The barriers `gp`'s own trampoline passed over since the last call, because a jump had
/// discarded their frames (`G.stkbar_jumps`), and resets the count. The goroutine stopped
/// (or in a system call: a count lost then is only a count).
pub fn take_jumps(gp: &mut G) -> usize {
    // SAFETY: a field of a live G; volatile: its trampoline may run below syscallsp.
    unsafe {
        let n = core::ptr::read_volatile(&gp.stkbar_jumps);
        if n != 0 {
            core::ptr::write_volatile(&mut gp.stkbar_jumps, 0);
        }
        n
    }
}

/// [`Standing`] of entry `e` of `gp`, whose stopped stack and frame pointers are `sp` and
/// `fp`; `top_pc` is the interrupted pc when a signal stopped it (else it stopped in grt's
/// own code: parked, or in a system call, whose frame pointer starts a real chain). Live
/// needs the record with the trampoline in it; Dead needs every link up to `saved_fp` proven
/// a frame record (`proof`: a return address right after a call, into a function that keeps
/// a record there), from a top whose function keeps one at pc, in place
/// (`unwind::frame_at_regs`: the register points at it, not an epilogue's reload of the
/// caller's): frame-pointer-less code keeps data in the register, and a chain through data
/// could seem to pass any entry. Stack lock held, the goroutine stopped.
pub fn standing(
    gp: &G,
    e: &Stkbar,
    sp: usize,
    fp: usize,
    top_pc: Option<usize>,
    proof: &mut Proof,
) -> Standing {
    let tramp = stack_barrier_pc();
    if fp == e.saved_fp || (cfg!(feature = "testhooks") && NO_CHAIN_CHECK.load(Ordering::Relaxed)) {
        return Standing::Live;
    }
    // Only an entry whose saved_fp is a record above its slot can be seen passed; one placed
    // in the record of a function called from frame-pointer-less code returns with whatever
    // that code keeps in the register.
    if fp > e.saved_fp || e.saved_fp <= e.saved_lr_ptr {
        return Standing::Unknown;
    }
    // A plain walk first (the common verdict, Live, needs no proof); only a Dead verdict is
    // checked link by link, on a second walk.
    let mut steps = 0;
    let mut at = fp;
    loop {
        if steps == MAX_SCAN_FRAMES {
            return Standing::Unknown;
        }
        let Some(rec) = traceback::step(at, gp.stack.lo, gp.stack.hi) else {
            return Standing::Unknown;
        };
        steps += 1;
        if rec.fp == e.saved_fp && rec.ret == tramp {
            // The barrier's frame, or the sibling callee that took its return address over.
            return Standing::Live;
        }
        if rec.fp >= e.saved_fp {
            // A frame built since the jump links to saved_fp (with a real return address),
            // or the chain went past it.
            break;
        }
        if rec.fp <= at {
            return Standing::Unknown;
        }
        at = rec.fp;
    }
    let top_ok = match top_pc {
        None => true,
        Some(pc) => {
            proof.may_refresh
                && crate::unwind::frame_at_regs(pc, sp, fp) == crate::unwind::Frame::Record
        }
    };
    if !top_ok {
        return Standing::Unknown;
    }
    let mut at = fp;
    for _ in 0..steps {
        let Some(rec) = traceback::step(at, gp.stack.lo, gp.stack.hi) else {
            return Standing::Unknown;
        };
        if rec.ret == tramp || !proof.return_address(rec.ret) || proof.caller_may_keep_data(rec.ret)
        {
            return Standing::Unknown;
        }
        at = rec.fp;
    }
    Standing::Dead
}

// ---- for walkers -----------------------------------------------------------------------------

/// A walker's view of `gp`'s barriers: substitutes `saved_lr_val` for each return address
/// that is the trampoline, in order, checking each slot (Go's gentraceback). The caller
/// holds `gp`'s stack lock (or walks its own stack).
pub struct Cursor<'a> {
    gp: &'a G,
    next: usize,
    /// The number of entries when the walk started (Go's gentraceback copies the slice
    /// header the same way): under the lock nothing changes it.
    len: usize,
}

/// What a walker found where it expected the next barrier.
#[derive(Clone, Copy, Debug)]
pub struct Missed {
    pub slot: usize,
    pub expected: usize,
}

impl<'a> Cursor<'a> {
    /// A walk of `gp`'s stack from stack pointer `sp` and frame pointer `fp`: a barrier
    /// placed in a slot below `sp` for a frame that returns with a frame pointer at or below
    /// `fp` belongs to a frame that already returned, or is returning right now below the
    /// walk's start (grt's own way out of a system call, below `syscallsp`): it cannot be met.
    /// One placed below `sp` whose frame returns above `fp` is live: its frame was replaced by
    /// a smaller sibling callee that holds its return address now. `lr`: the link register of
    /// an interrupted thread; when it is the trampoline's address, the epilogue of the
    /// function at pc has just loaded it from a barriered record and popped that record, so
    /// the barrier of the frame that returns with `fp` is live (in flight in the register).
    pub fn new(gp: &'a G, sp: usize, fp: usize, lr: Option<usize>) -> Cursor<'a> {
        let len = gp.stkbar_len.min(gp.stkbar_cap);
        let e = entries(gp);
        let in_flight = lr == Some(stack_barrier_pc());
        let mut next = gp.stkbar_pos.min(len);
        while next < len
            && e[next].saved_lr_ptr < sp
            && (e[next].saved_fp < fp || (e[next].saved_fp == fp && !in_flight))
        {
            next += 1;
        }
        Cursor { gp, next, len }
    }

    /// After the first step of a walk that starts at frame pointer `fp`: the next barrier,
    /// if it is for the frame that returns with `fp`, belongs to the interrupted function,
    /// which has already left the frame chain (its epilogue restored `fp`, or it sibling-
    /// called the function at pc) and whose return the first step did not take (it never
    /// guesses a caller). It cannot be met on the chain: pass over it.
    pub fn skip_popped(&mut self, fp: usize) {
        if self.next < self.len && entries(self.gp)[self.next].saved_fp == fp {
            self.next += 1;
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// The entry for a trampoline address read from `slot` in a frame that returns with frame
    /// pointer `fp` (the saved fp beside it in its record; for a frame its epilogue has
    /// already popped, the live frame pointer): the next entry, if it is that frame's.
    /// `Err`: the slot of the entry the walk expected (0: none left).
    fn find(&self, fp: usize) -> Result<usize, usize> {
        let e = entries(self.gp);
        match e.get(self.next).filter(|_| self.next < self.len) {
            Some(x) if x.saved_fp == fp => Ok(self.next),
            Some(x) => Err(x.saved_lr_ptr),
            None => Err(0),
        }
    }

    /// The real return address for `ret` read from `slot`, in a frame that returns with frame
    /// pointer `fp`: itself unless it is the trampoline; then the saved value of the barrier
    /// placed for that frame (identified by `fp`, wherever a sibling call moved its slot).
    ///
    /// Called for every record the walk reads, in order. An entry whose frame is not on the
    /// chain any more is passed over: its slot is at or below this record's, and its
    /// `saved_fp` lies below `fp` (the walk went past it without meeting its record), or equals
    /// it while the record holds a real return address (a frame built since at the same
    /// place). A jump that did not call grt_gc_unwind discarded that frame (see
    /// [`Standing::Dead`]); under the stack lock nothing else takes a barrier out of a live
    /// frame. (The slot comes first: a barrier in the record of a function called from
    /// frame-pointer-less code returns with whatever that code keeps in the register, even a
    /// small number, and a sibling callee's record may lie above the slot it took over.) A
    /// trampoline that matches no entry after that is Go's "missed stack barrier".
    pub fn resolve(&mut self, slot: usize, ret: usize, fp: usize) -> Result<usize, Missed> {
        let e = entries(self.gp);
        let tramp = stack_barrier_pc();
        while self.next < self.len && {
            let x = &e[self.next];
            x.saved_lr_ptr <= slot
                && (x.saved_fp < fp || (x.saved_fp == fp && ret != tramp && x.saved_lr_ptr == slot))
        } {
            self.next += 1;
        }
        if ret != tramp {
            return Ok(ret);
        }
        match self.find(fp) {
            Ok(i) => {
                self.next = i + 1;
                Ok(e[i].saved_lr_val)
            }
            Err(expected) => Err(Missed { slot, expected }),
        }
    }

    /// A sample that landed inside the trampoline at pc, with stack pointer `sp` and frame
    /// pointer `fp` (Go commit 3a2fc068): the frame that returned into it has popped its
    /// slot. Before the trampoline's one store (`arch::stack_barrier_counted`) that is the
    /// first entry at or after `pos` with `saved_fp == fp` and its slot below `sp` (`pos`
    /// itself unless a jump discarded the frames of the entries before it: the trampoline
    /// passes over them the same way), after it entry `pos - 1`; either way the entry's
    /// `saved_fp` is `fp`. Returns where the trampoline is about to jump.
    pub fn in_trampoline(&mut self, pc: usize, sp: usize, fp: usize) -> Option<usize> {
        let len = self.len();
        let pos = self.gp.stkbar_pos.min(len);
        let e = entries(self.gp);
        let i = if arch::stack_barrier_counted(pc) {
            pos.checked_sub(1)?
        } else {
            (pos..len)
                .take_while(|&i| e[i].saved_lr_ptr < sp)
                .find(|&i| e[i].saved_fp == fp)
                .unwrap_or(len)
        };
        (i < len && e[i].saved_fp == fp && e[i].saved_lr_ptr < sp).then(|| {
            self.next = i + 1;
            e[i].saved_lr_val
        })
    }

    /// What [`Cursor::resolve`] would give for `ret`, without moving on.
    pub fn peek(&self, ret: usize, fp: usize) -> usize {
        if ret != stack_barrier_pc() {
            return ret;
        }
        self.find(fp)
            .map_or(ret, |i| entries(self.gp)[i].saved_lr_val)
    }

    /// The innermost function's epilogue (or a sibling call on its way to its callee's
    /// prologue) loaded the trampoline's address into the link register, and the frame
    /// pointer is back to `fp`, the caller's: the barrier is the one that returns with `fp`.
    pub fn resolve_popped(&mut self, fp: usize) -> Option<usize> {
        let i = self.find(fp).ok()?;
        self.next = i + 1;
        Some(entries(self.gp)[i].saved_lr_val)
    }
}

/// A sample inside the trampoline whose barrier list fits neither "before" nor "after" the
/// increment (Go: "inconsistent state in stackBarrier"). Fatal.
pub fn inconsistent_trampoline(gp: &G, sp: usize) -> ! {
    crate::printerr!(
        "runtime: goroutine {}: in the stack barrier trampoline at sp {:#x}, barrier {} of {}\n",
        gp.goid(),
        sp,
        gp.stkbar_pos,
        gp.stkbar_len
    );
    crate::throw!("inconsistent state in the stack barrier trampoline")
}

/// Reports a walk that met the trampoline where no barrier was expected and ends the
/// program (Go: "missed stack barrier"). Safe in a signal handler (no allocation).
pub fn missed_stack_barrier(gp: &G, m: Missed) -> ! {
    crate::printerr!(
        "runtime: goroutine {}: found next stack barrier at {:#x}; expected {:#x} (entry {} of {})\n",
        gp.goid(),
        m.slot,
        m.expected,
        gp.stkbar_pos,
        gp.stkbar_len
    );
    print_entries(gp);
    crate::throw!("missed stack barrier")
}

/// Prints `gp`'s barrier list (at most 16 entries), for fatal errors.
fn print_entries(gp: &G) {
    let len = gp.stkbar_len.min(gp.stkbar_cap);
    for (i, e) in entries(gp)[..len].iter().enumerate().take(16) {
        crate::printerr!(
            "  stkbar[{}]: slot {:#x} returns to {:#x} with fp {:#x}{}\n",
            i,
            e.saved_lr_ptr,
            e.saved_lr_val,
            e.saved_fp,
            if i < gp.stkbar_pos { " (hit)" } else { "" }
        );
    }
}

/// The trampoline found the wrong state (asm/<arch>/stkbar.S): a barrier return with no
/// entry, or an entry for another frame. Called on the goroutine's stack with sp realigned,
/// with the sp and frame pointer the return came back with.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_stack_barrier_bad(gp: *mut G, sp: usize, fp: usize) -> ! {
    // SAFETY: the trampoline passes the current G (non-null on a goroutine).
    match unsafe { gp.as_ref() } {
        Some(g) => {
            let len = g.stkbar_len.min(g.stkbar_cap);
            let e = if g.stkbar_pos < len {
                entries(g)[g.stkbar_pos]
            } else {
                Stkbar::default()
            };
            crate::throw!(
                "stack barrier: goroutine {} returned into the trampoline at sp {:#x} with frame pointer {:#x}, but the next barrier (entry {} of {}) is for the frame that returns with {:#x} (slot {:#x}, return address {:#x})",
                g.goid(),
                sp,
                fp,
                g.stkbar_pos,
                len,
                e.saved_fp,
                e.saved_lr_ptr,
                e.saved_lr_val
            )
        }
        None => crate::throw!(
            "stack barrier: reached the trampoline with no goroutine (sp {:#x})",
            sp
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_doublings() {
        assert_eq!(super::max_stack_barriers(1024), 1);
        assert_eq!(super::max_stack_barriers(256 * 1024), 9);
    }
}
