//! Per-M allocation caches and write-barrier buffers (Go's mcache and wbBuf, cut down), so
//! that `grt_alloc` and `GRT_STORE` take the heap lock once per many objects instead of once
//! per object.
//!
//! # Allocation
//!
//! For each size class (scanned and noscan), an M holds a *run* (and so does a thread
//! registered with the collector, in a cache of its own: regthreads.rs, found through the
//! `grt_tls` cache slot): consecutive slots of one span
//! that the heap handed over as allocated (`mheap::claim_run_locked`, zeroed, marked when
//! claimed during a cycle). `grt_alloc` on that M takes the next slot with no lock and no
//! atomic. A run not yet handed out is invisible to the program, so the collector must keep
//! it: mark termination marks every M's remaining run slots ([`mark_runs_locked`]), with the
//! Ms stopped. An M stopped in the middle of taking a slot has the slot's address in a
//! register (collected as a root) or still inside `[next, end)`.
//!
//! # Write barrier
//!
//! `grt_gc_shade(p)` on an M drops `p` if it points into the M's black window (the last run
//! it claimed while the cycle marks: born marked) or into an object already marked
//! (`mgcmark::unmarked`, lock-free); else it appends `p` to the M's buffer. The buffer is
//! marked under the mark lock in one go: when it fills, and at each cache refill if the
//! lock is free. Mark termination flushes every M's buffer (world stopped). An entry flushed
//! twice, or left over from a finished cycle, only marks what it points to, which is
//! conservative; when no cycle marks, flushing drops the entries.
//!
//! # Who touches what
//!
//! A cache and a buffer belong to their M's thread (the goroutine running there, or code on
//! its g0); nothing in a signal handler uses them. The collector reads them only while the M
//! is stopped.

use crate::mgcmark;
use crate::mheap::{self, HEAP_LOCK, NCLASSES};
use crate::runtime2::M;

/// Most objects claimed at once per class, and most bytes.
const RUN_OBJECTS: usize = 512;
const RUN_BYTES: usize = 32 << 10;
/// Write-barrier buffer entries per M, and the fill at which a flush is first tried (without
/// waiting for the mark lock, which the collector holds for its batches).
pub const WBUF_LEN: usize = 4096;
const WBUF_TRY: usize = 256;

#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct Run {
    start: usize,
    next: usize,
    end: usize,
}

/// A run per size class, scanned and noscan: an M's, or a registered thread's (regthreads.rs).
pub type Runs = [[Run; NCLASSES]; 2];

/// Empty runs (a registered thread's cache when its slot is taken).
pub const NO_RUNS: Runs = [[Run {
    start: 0,
    next: 0,
    end: 0,
}; NCLASSES]; 2];

#[repr(C)]
pub struct MCache {
    pub runs: Runs,
    wbuf: [usize; WBUF_LEN],
    wbuf_len: usize,
    /// `[lo, hi)` of the last run this M claimed while a cycle marks (born marked), or empty:
    /// the write barrier drops a pointer into it without a lookup (most stores while
    /// marking are of objects just allocated). Set under HEAP_LOCK by the claim itself and
    /// emptied by mark termination (world stopped, HEAP_LOCK held), so it never outlives its
    /// cycle.
    black: [usize; 2],
}

/// An object of class `c` from `runs` (an M's cache, or a registered thread's), refilling it
/// under the heap lock when empty. Null when the heap is out of memory.
/// An object of class `c` from `runs`' current run, if it has one left (the allocation
/// fast path: no lock, no call).
#[inline(always)]
pub fn bump(runs: &mut Runs, c: usize, noscan: bool) -> Option<*mut u8> {
    let r = &mut runs[noscan as usize][c];
    if r.next < r.end {
        let p = r.next;
        r.next += mheap::class_size(c);
        return Some(p as *mut u8);
    }
    None
}

#[inline]
pub fn alloc(runs: &mut Runs, c: usize, noscan: bool) -> *mut u8 {
    if let Some(p) = bump(runs, c, noscan) {
        return p;
    }
    refill(&mut runs[noscan as usize][c], c, noscan, None)
}

/// [`alloc`] from an M's cache, which also keeps the M's black window.
#[inline]
pub fn alloc_m(mc: &mut MCache, c: usize, noscan: bool) -> *mut u8 {
    if let Some(p) = bump(&mut mc.runs, c, noscan) {
        return p;
    }
    // Objects the write barrier buffered go to the marker at least once per refill (if its
    // lock is free), not only once the buffer fills: with marked objects filtered out,
    // few are buffered, and left for mark termination each would be traced there, with
    // the world stopped (a stored root of a tree allocated before the cycle: milliseconds).
    if mc.wbuf_len > 0 {
        flush_wbuf(mc, false);
    }
    refill(
        &mut mc.runs[noscan as usize][c],
        c,
        noscan,
        Some(&mut mc.black),
    )
}

#[cold]
fn refill(r: &mut Run, c: usize, noscan: bool, black: Option<&mut [usize; 2]>) -> *mut u8 {
    let size = mheap::class_size(c);
    let max = (RUN_BYTES / size).clamp(1, RUN_OBJECTS);
    HEAP_LOCK.lock();
    // The run just used up was handed out in full.
    mheap::count_mallocs_locked(((r.end - r.start) / size) as u64);
    // The new run goes into the cache before the lock is dropped: from then on mark
    // termination sees it (a run only in registers would be marked by its first slot only).
    let p = match mheap::claim_run_locked(c, noscan, max) {
        Some((lo, hi)) => {
            *r = Run {
                start: lo,
                next: lo + size,
                end: hi,
            };
            if let Some(b) = black {
                if mheap::alloc_black_locked() {
                    *b = [lo, hi];
                }
            }
            lo as *mut u8
        }
        None => {
            *r = Run::default();
            core::ptr::null_mut()
        }
    };
    let live = mheap::live_locked();
    HEAP_LOCK.unlock();
    if !p.is_null() {
        crate::mgc::heap_grew(live);
    }
    p
}

/// Objects handed out from `m`'s current runs (not yet in the heap's `nmalloc`). Racy reads
/// of another M's cache: a statistic.
pub fn handed_out(m: &M) -> u64 {
    let mut n = 0;
    for runs in m.mcache.runs.iter() {
        for (c, r) in runs.iter().enumerate() {
            if r.end > r.start {
                n += ((r.next.min(r.end) - r.start) / mheap::class_size(c)) as u64;
            }
        }
    }
    n
}

/// Marks the slots of `runs` not handed out yet (an M's or a stopped registered thread's; mark
/// termination: world stopped, the heap and mark locks held). They are zero: nothing to scan.
pub fn mark_runs_locked(all: &Runs) {
    for runs in all.iter() {
        for (c, r) in runs.iter().enumerate() {
            // A run is consecutive slots of one span: one lookup, then its mark bits.
            if r.next < r.end {
                if let Some((s, i)) = mheap::find_object(r.next) {
                    let n = (r.end - r.next).div_ceil(mheap::class_size(c));
                    mgcmark::add_marked_locked(mheap::mark_range(s, i, n));
                }
            }
        }
    }
}

/// Whether `p` lies in `m`'s black window (born marked in this cycle: nothing to shade).
#[inline]
pub fn in_black(m: &M, p: usize) -> bool {
    let [lo, hi] = m.mcache.black;
    p.wrapping_sub(lo) < hi - lo
}

/// The write barrier on an M: buffer `p`.
#[inline]
pub fn shade(m: &mut M, p: usize) {
    let len = m.mcache.wbuf_len;
    if len >= WBUF_TRY && (len.is_multiple_of(WBUF_TRY) || len == WBUF_LEN) {
        flush_wbuf(&mut m.mcache, len == WBUF_LEN);
    }
    let c = &mut m.mcache;
    c.wbuf[c.wbuf_len] = p;
    c.wbuf_len += 1;
}

/// Flushes when the mark lock is free, or (`full`) waits for it (the marker steps aside
/// between its batches for a waiting flush, `Lock::hand_over`; without that, it took the
/// lock back at once and the allocating thread slept through the whole marking).
#[cold]
fn flush_wbuf(mc: &mut MCache, full: bool) {
    if full {
        mgcmark::MARK_LOCK.lock();
    } else if !mgcmark::MARK_LOCK.try_lock() {
        return;
    }
    flush_locked(mc);
    mgcmark::MARK_LOCK.unlock();
}

/// Mark termination, for each M (world stopped, HEAP_LOCK held): the black window ends with
/// its cycle.
pub fn end_cycle_locked(m: &mut M) {
    m.mcache.black = [0, 0];
}

/// Marks what `m`'s buffer points to (when a cycle marks) and empties it. MARK_LOCK held.
pub fn flush_wbuf_locked(m: &mut M) {
    flush_locked(&mut m.mcache);
}

fn flush_locked(c: &mut MCache) {
    let n = c.wbuf_len.min(WBUF_LEN);
    mgcmark::shade_many_locked(&c.wbuf[..n]);
    c.wbuf_len = 0;
}
