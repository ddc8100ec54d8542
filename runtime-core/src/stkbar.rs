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
//!   `[stkbar_pos..stkbar_len]` are installed (their slot holds the trampoline's address);
//!   `[..stkbar_pos]` were hit (their slot was popped by a return).
//! - Never on the innermost frame of a scanned stack: on aarch64 its return address may live
//!   in x30 only, and a slot already loaded by an epilogue would never be hit, so it would
//!   wrongly stop the rescan early (Go's `n != 0`).
//! - Old barriers are removed before new ones are installed; all are removed at the end of
//!   the cycle, so debuggers and external profilers see clean stacks between cycles.
//! - A goroutine that exits, or unwinds without returning (`grt_gc_unwind` before a
//!   longjmp), removes the barriers it skips; a reused stack starts with none.
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
use crate::{sys, traceback};

/// Offset from sp of the first barrier; later ones at 2x, 4x, ... (Go 1.6's
/// `firstStackBarrierOffset`), in bytes.
pub const FIRST_STACK_BARRIER_OFFSET: usize = 1024;

/// `GRTDEBUG=gcstackbarrieroff=1`: no barriers, full rescans.
pub static STACK_BARRIER_OFF: AtomicBool = AtomicBool::new(false);
/// `GRTDEBUG=gcstackbarrierall=1`: a barrier on every frame (and a larger array per stack).
pub static STACK_BARRIER_ALL: AtomicBool = AtomicBool::new(false);
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
}

fn lock_disabled() -> bool {
    cfg!(feature = "testhooks") && NO_STACK_LOCK.load(Ordering::Relaxed)
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
) -> Installed {
    let (lo, hi) = (gp.stack.lo, gp.stack.hi);
    let mut out = Installed::default();
    let all = every || STACK_BARRIER_ALL.load(Ordering::Relaxed);
    let mut offset = if all { 0 } else { FIRST_STACK_BARRIER_OFFSET };
    let mut next_barrier = sp.saturating_add(offset);
    let tramp = stack_barrier_pc();
    let cap = gp.stkbar_cap;
    let mut fp = fp;
    let mut n = 0usize;
    while n < MAX_SCAN_FRAMES {
        let Some(rec) = traceback::step(fp, lo, hi) else {
            break;
        };
        out.frames += 1;
        let slot = arch::return_address_slot(fp);
        if rec.ret == tramp {
            crate::throw!(
                "stack barrier: goroutine {} already has a barrier at {:#x} while installing",
                gp.goid(),
                slot
            );
        }
        // The outermost record (saved fp 0) returns into the context entry, never taken.
        let outermost = rec.fp == 0;
        if install
            && n != 0
            && !outermost
            && rec.ret >= traceback::MIN_CODE_ADDR
            && slot > next_barrier
            && gp.stkbar_len < cap
        {
            let i = gp.stkbar_len;
            entries(gp)[i] = Stkbar {
                saved_lr_ptr: slot,
                saved_lr_val: rec.ret,
            };
            // Publish the entry before the slot: a walker that sees the trampoline in the
            // slot finds its entry (walkers hold the lock anyway; this is for the fix-up
            // in the trampoline).
            gp.stkbar_len = i + 1;
            // SAFETY: slot lies inside the record step() validated within [lo, hi).
            unsafe { core::ptr::write_volatile(slot as *mut usize, tramp) };
            out.barriers += 1;
            if !all {
                offset *= 2;
            }
            next_barrier = sp.saturating_add(offset);
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

/// The first entry not hit whose slot is at or above `boundary`.
fn first_at_or_above(gp: &G, boundary: usize) -> usize {
    let len = gp.stkbar_len.min(gp.stkbar_cap);
    let mut k = gp.stkbar_pos.min(len);
    while k < len && entries(gp)[k].saved_lr_ptr < boundary {
        k += 1;
    }
    k
}

/// Restores the barriers not yet hit in the frames at or above `boundary` (the stack pointer
/// the scan starts from) and forgets them (Go's gcRemoveStackBarriers). Returns how many
/// barriers had been hit, when the list is emptied (0 when it is kept; the hits are counted
/// when it is emptied later).
///
/// Entries below `boundary` are left alone, in place: those frames may still be returning
/// right now. A goroutine in a system call runs grt's own code below `syscallsp` (the way out
/// of `grt_entersyscall`, in frames a scan of it while it was running may have barriered),
/// and a goroutine stopped inside the trampoline has popped its slot but not yet bumped
/// `stkbar_pos`. Both consume their entries themselves; touching `stkbar_pos` under them would
/// lose an increment. Lock held; the goroutine stopped, or in a system call (then only its
/// frames below `boundary` run, and they touch only `stkbar_pos` and entries below `k`).
pub fn gc_remove_stack_barriers(gp: &mut G, boundary: usize) -> usize {
    let tramp = stack_barrier_pc();
    let len = gp.stkbar_len.min(gp.stkbar_cap);
    let k = first_at_or_above(gp, boundary);
    for i in k..len {
        let e = entries(gp)[i];
        // SAFETY: saved_lr_ptr is a slot of this stack at or above the stopped sp, in a frame
        // that has not returned, so it still holds the trampoline's address (checked).
        unsafe {
            let slot = e.saved_lr_ptr as *mut usize;
            let cur = core::ptr::read_volatile(slot);
            if cur != tramp {
                crate::throw!(
                    "stack barrier lost: goroutine {} slot {:#x} holds {:#x}, expected the trampoline (entry {} of {}, hit {})",
                    gp.goid(),
                    e.saved_lr_ptr,
                    cur,
                    i,
                    len,
                    gp.stkbar_pos
                );
            }
            core::ptr::write_volatile(slot, e.saved_lr_val);
        }
    }
    // Volatile: a goroutine in a system call may bump stkbar_pos concurrently (only while
    // it is below k).
    // SAFETY: fields of a live G.
    let pos = unsafe { core::ptr::read_volatile(&gp.stkbar_pos) };
    if pos >= k {
        // Nothing in flight: start over.
        gp.stkbar_pos = 0;
        gp.stkbar_len = 0;
        pos
    } else {
        // SAFETY: as above.
        unsafe { core::ptr::write_volatile(&mut gp.stkbar_len, k) };
        0
    }
}

/// Marks as hit every barrier whose slot lies below `sp` (restoring the slot), for a jump up
/// the stack that does not return through them (Go's gcUnwindBarriers). Lock held; called
/// on the goroutine itself.
pub fn gc_unwind_barriers(gp: &mut G, sp: usize) -> usize {
    let mut n = 0;
    while gp.stkbar_pos < gp.stkbar_len {
        let e = entries(gp)[gp.stkbar_pos];
        if e.saved_lr_ptr >= sp {
            break;
        }
        // SAFETY: a slot of this stack that still holds the trampoline (not returned).
        unsafe { core::ptr::write_volatile(e.saved_lr_ptr as *mut usize, e.saved_lr_val) };
        gp.stkbar_pos += 1;
        n += 1;
    }
    n
}

/// Where mark termination's rescan of `gp` may stop: everything from the stack pointer up to
/// this address may have changed since the scan; above it, nothing has (but through
/// `GRT_STORE`). `gp.stack.hi` when every barrier was hit or there were none.
///
/// The lowest barrier not hit sits in the return slot of a frame F that has not returned.
/// F itself may have run (its callees returned), so its whole frame is rescanned: up to the
/// frame record of F's caller (the saved fp in F's record), whose record and everything above
/// did not change. On x86_64 F's locals lie below its record, on aarch64 (gcc) usually above
/// it; stopping at the caller's record covers both.
pub fn rescan_limit(gp: &G, sp: usize) -> usize {
    let hi = gp.stack.hi;
    // The lowest barrier not hit in a live frame (entries below sp were popped and their
    // trampoline is in flight).
    let k = first_at_or_above(gp, sp);
    if STACK_BARRIER_OFF.load(Ordering::Relaxed) || k >= gp.stkbar_len.min(gp.stkbar_cap) {
        return hi;
    }
    let e = entries(gp)[k];
    let record = e.saved_lr_ptr - (arch::return_address_slot(0));
    match traceback::step(record, gp.stack.lo, hi) {
        Some(rec) if rec.fp > record && rec.fp < hi => (rec.fp + arch::FRAME_RECORD_SIZE).min(hi),
        _ => hi,
    }
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
    /// A walk of `gp`'s stack from stack pointer `sp`: barriers in slots below it are in
    /// frames that already returned (or are returning) and cannot be met.
    pub fn new(gp: &'a G, sp: usize) -> Cursor<'a> {
        Cursor {
            gp,
            next: first_at_or_above(gp, sp),
            len: gp.stkbar_len.min(gp.stkbar_cap),
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// The real return address for `ret` read from `slot`: itself unless it is the
    /// trampoline; then the next entry's saved value, if that entry is for `slot`.
    pub fn resolve(&mut self, slot: usize, ret: usize) -> Result<usize, Missed> {
        if ret != stack_barrier_pc() {
            return Ok(ret);
        }
        let len = self.len();
        if self.next < len {
            let e = entries(self.gp)[self.next];
            if e.saved_lr_ptr == slot {
                self.next += 1;
                return Ok(e.saved_lr_val);
            }
            return Err(Missed {
                slot,
                expected: e.saved_lr_ptr,
            });
        }
        Err(Missed { slot, expected: 0 })
    }

    /// A sample that landed inside the trampoline at stack pointer `sp` (Go commit
    /// 3a2fc068): the frame that returned into it has popped its slot (below `sp`). If
    /// `stkbar_pos` was not incremented yet, that is entry `pos`; if it was, entry `pos - 1`.
    /// Returns where the trampoline is about to jump.
    pub fn in_trampoline(&mut self, sp: usize) -> Option<usize> {
        let len = self.len();
        let pos = self.gp.stkbar_pos.min(len);
        let e = entries(self.gp);
        if pos < len && e[pos].saved_lr_ptr < sp {
            self.next = pos + 1;
            Some(e[pos].saved_lr_val)
        } else if pos > 0 && e[pos - 1].saved_lr_ptr < sp {
            self.next = pos;
            Some(e[pos - 1].saved_lr_val)
        } else {
            None
        }
    }

    /// What [`Cursor::resolve`] would give for `ret` at `slot`, without moving on.
    pub fn peek(&self, slot: usize, ret: usize) -> usize {
        let len = self.len();
        if ret == stack_barrier_pc() && self.next < len {
            let e = entries(self.gp)[self.next];
            if e.saved_lr_ptr == slot {
                return e.saved_lr_val;
            }
        }
        ret
    }

    /// The innermost function's epilogue loaded the trampoline's address into the link
    /// register: its slot is the lowest barrier not hit (nothing below it can hold one).
    pub fn resolve_popped(&mut self) -> Option<usize> {
        let len = self.len();
        let pos = self.gp.stkbar_pos;
        (pos < len).then(|| {
            self.next = self.next.max(pos + 1);
            entries(self.gp)[pos].saved_lr_val
        })
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
    crate::throw!("missed stack barrier")
}

/// The trampoline found the wrong state (asm/<arch>/stkbar.S): a barrier return with no
/// entry, or an entry for another slot. Called on the goroutine's stack with sp realigned.
#[no_mangle]
pub extern "C" fn grt_stack_barrier_bad(gp: *mut G, sp: usize) -> ! {
    // SAFETY: the trampoline passes the current G (non-null on a goroutine).
    match unsafe { gp.as_ref() } {
        Some(g) => {
            let len = g.stkbar_len.min(g.stkbar_cap);
            let (ptr, val) = if g.stkbar_pos < len {
                let e = entries(g)[g.stkbar_pos];
                (e.saved_lr_ptr, e.saved_lr_val)
            } else {
                (0, 0)
            };
            crate::throw!(
                "stack barrier: goroutine {} returned into the trampoline at sp {:#x}, but the next barrier (entry {} of {}) is for slot {:#x} (return address {:#x})",
                g.goid(),
                sp,
                g.stkbar_pos,
                len,
                ptr,
                val
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
