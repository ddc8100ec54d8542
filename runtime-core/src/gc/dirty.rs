//! Plain stores made safe: the heap's pages written while a cycle marks are tracked by
//! write protection, and rescanned at mark termination (bdwgc's MPROTECT_VDB; the
//! mostly-parallel collector of Boehm, Demers and Shenker, PLDI 1991).
//!
//! grt's concurrent marking is complete only if every pointer store into a heap object goes
//! through the write barrier (`GRT_STORE`). Programs written for bdwgc store with plain
//! assignments. With plain-store mode on (`grt_gc_set_plain_stores(1)`, `GRTPLAINSTORES=1`,
//! or gc.h's `GC_INIT`), each cycle does this:
//!
//! 1. **Protect** (before the barrier goes on, the program running): `TRACKING` on, then,
//!    under the heap lock, every run of pages held by spans that may hold pointers is made
//!    read-only, and the runs are published in `RANGES` (sorted) for the fault handler.
//!    Spans made from here on are not protected: [`new_span`] logs them as written.
//! 2. **Fault** (signals.rs's SIGSEGV handler calls [`on_fault`]): a write to a protected
//!    page logs the page in `LOG`, *then* makes it writable, and the write is retried. Logging
//!    first: once the page is writable, other threads write it without a fault, and the
//!    log must already hold it when the world stops. A handler held up (descheduled)
//!    between its log and its mprotect until the next cycle has protected the page again
//!    would make it writable unlogged in that cycle: `EPOCH` counts protections, and a
//!    handler that sees it move logs the page again (found by gc_plainstore: one loss in
//!    about 5,000 cycles before).
//! 3. **Rescan** (mark termination, world stopped: nothing writes): the part on a logged page
//!    of every marked object is scanned again; the drain that follows marks what those
//!    words reach. A store into an object not yet marked needs nothing: the object's scan,
//!    whenever it comes, reads its contents then. A store into an object already scanned
//!    dirtied its page, so it is rescanned here. When the log overflows, or a protection
//!    fails, every marked object is rescanned (slow, still complete). So too where a store
//!    that faulted is not restarted exactly (probed once with the program's memset: [`probe`]; qemu-user 7.2 on aarch64),
//!    with no page protected at all.
//! 4. **Unprotect** (after the world restarts, under the heap lock, so no chunk is freed
//!    meanwhile): every chunk is made writable again, then `TRACKING` goes off. A fault
//!    still in flight finds its address in `RANGES` and is retried (the page is writable by
//!    the time `TRACKING` reads off); `RANGES` is emptied before a chunk is unmapped.
//!
//! Stores from the kernel are not tracked: a system call that writes into a protected page
//! fails with EFAULT (as with bdwgc's incremental mode). grt's own calls that write into
//! caller memory (`grt_read`, `grt_accept`) retry after touching the pages; a program that
//! passes heap memory that may hold pointers to `read(2)` itself should allocate it with
//! `grt_alloc_atomic` (never protected).
//!
//! # Who touches what
//! `RANGES`/`NRANGES` are written by the collector's thread only, under the heap lock, while
//! no handler can look (before the first page is protected: NRANGES is published after the
//! table is written, and each run is protected after that). The handler reads them with no
//! lock and writes only the log (an index taken with fetch_add, bounded by `LOG_MAX`). It
//! takes no lock, allocates nothing and has no loop but a binary search.

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use grt_arch::{MapFlags, ProtFlags};

use crate::mheap::{self, HEAP_LOCK};
use crate::{auxv, mgcmark, sys};

/// Protected runs at most (more are merged into the last: noscan pages between are
/// protected too, which only costs a fault).
const MAX_RANGES: usize = 32 * 1024;
/// Pages logged per cycle at most (beyond: every marked object is rescanned). 64 Ki pages of
/// 4 KiB: 256 MiB written during one marking.
const LOG_MAX: usize = 64 * 1024;

/// Plain-store mode: on from the next cycle.
static ON: AtomicBool = AtomicBool::new(false);
/// Protection is (being) in place for the cycle under way.
static TRACKING: AtomicBool = AtomicBool::new(false);
static NRANGES: AtomicUsize = AtomicUsize::new(0);
static RANGE_LO: [AtomicUsize; MAX_RANGES] = [const { AtomicUsize::new(0) }; MAX_RANGES];
static RANGE_HI: [AtomicUsize; MAX_RANGES] = [const { AtomicUsize::new(0) }; MAX_RANGES];
static NLOG: AtomicUsize = AtomicUsize::new(0);
static LOG_LO: [AtomicUsize; LOG_MAX] = [const { AtomicUsize::new(0) }; LOG_MAX];
static LOG_HI: [AtomicUsize; LOG_MAX] = [const { AtomicUsize::new(0) }; LOG_MAX];
/// Cycles that protected the heap: a handler that made a page writable while a new cycle
/// protected it logs the page again for the new cycle (see `on_fault`).
static EPOCH: AtomicUsize = AtomicUsize::new(0);
/// Everything counts as written (the log overflowed, or a protection failed).
static ALL_DIRTY: AtomicBool = AtomicBool::new(false);

/// Whether a store that faulted on a write-protected page is restarted exactly (probed once:
/// PROBE_UNKNOWN, PROBE_EXACT, PROBE_INEXACT).
static PROBE: AtomicUsize = AtomicUsize::new(PROBE_UNKNOWN);
const PROBE_UNKNOWN: usize = 0;
const PROBE_EXACT: usize = 1;
const PROBE_INEXACT: usize = 2;
/// The probe's protected page while it runs (the fault handler unprotects it).
static PROBE_LO: AtomicUsize = AtomicUsize::new(0);
static PROBE_HI: AtomicUsize = AtomicUsize::new(0);

/// Counters for grt_gc_stats (monotonic).
pub static FAULTS: AtomicUsize = AtomicUsize::new(0);
/// Cycles whose mark termination rescanned every marked object (no protection possible).
pub static FULL_RESCANS: AtomicUsize = AtomicUsize::new(0);
pub static PAGES_RESCANNED: AtomicUsize = AtomicUsize::new(0);

/// Turns plain-store mode on or off, from the next cycle.
pub fn set(on: bool) {
    ON.store(on, Ordering::Release);
}

pub fn enabled() -> bool {
    ON.load(Ordering::Acquire)
}

/// Test-only build, `GRTDEBUG=gcnodirty=1`: no tracking in plain-store mode (the teeth of
/// gc_plainstore).
fn disabled() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().gcnodirty
}

fn log(lo: usize, hi: usize) {
    let i = NLOG.fetch_add(1, Ordering::AcqRel);
    if i >= LOG_MAX {
        ALL_DIRTY.store(true, Ordering::SeqCst);
        return;
    }
    LOG_LO[i].store(lo, Ordering::Relaxed);
    LOG_HI[i].store(hi, Ordering::SeqCst);
}

/// A span made while tracking (not protected): all its pages count as written. Under
/// HEAP_LOCK.
pub fn new_span(base: usize, bytes: usize) {
    if TRACKING.load(Ordering::Acquire) {
        log(base, base + bytes);
    }
}

/// A chunk is about to be unmapped (HEAP_LOCK held): the fault handler must no longer take
/// its addresses for ours.
pub fn chunk_unmapping() {
    if !TRACKING.load(Ordering::Acquire) {
        NRANGES.store(0, Ordering::SeqCst);
    }
}

/// Zeroes stretches that cross write-protected pages (the fault handler unprotecting each
/// page as it is hit) with the `memset` the program uses, and checks every byte. qemu-user 7.2
/// on aarch64 fails this: a fault inside glibc's memset loop is restarted at an earlier
/// instruction with the loop's base register already advanced, so a stretch is never
/// stored. Where it fails, protection cannot be used. Returns whether stores restart exactly.
fn probe() -> bool {
    const BYTES: usize = 64 << 10;
    const ROUNDS: usize = 32;
    let Ok(base) = sys::mmap_anon(BYTES, ProtFlags::READ | ProtFlags::WRITE, MapFlags::empty())
    else {
        return false;
    };
    PROBE_LO.store(base, Ordering::SeqCst);
    PROBE_HI.store(base + BYTES, Ordering::SeqCst);
    let mut exact = true;
    for r in 0..ROUNDS {
        // Sizes and offsets that take memset's long paths across page boundaries.
        let (off, n) = ((r * 64) % (BYTES / 2), 4096 + (r * 48 * 13) % 20000);
        // SAFETY: our own mapping (made writable again before each fill); the fault handler
        // knows it (PROBE_LO/HI) and unprotects a page on a write to it.
        unsafe {
            if sys::mprotect(base, BYTES, ProtFlags::READ | ProtFlags::WRITE).is_err() {
                exact = false;
                break;
            }
            core::ptr::write_bytes(base as *mut u8, 0xab, BYTES);
            if sys::mprotect(base, BYTES, ProtFlags::READ).is_err() {
                exact = false;
                break;
            }
            core::ptr::write_bytes((base + off) as *mut u8, 0, n);
        }
        // SAFETY: readable, ours.
        if !(0..n).all(|i| unsafe { ((base + off + i) as *const u8).read_volatile() } == 0) {
            exact = false;
            break;
        }
    }
    PROBE_LO.store(0, Ordering::SeqCst);
    PROBE_HI.store(0, Ordering::SeqCst);
    // SAFETY: our mapping, no longer used.
    unsafe { sys::munmap(base, BYTES).ok() };
    exact
}

fn restarts_exactly() -> bool {
    match PROBE.load(Ordering::Acquire) {
        PROBE_EXACT => true,
        PROBE_INEXACT => false,
        _ => {
            let exact = probe();
            PROBE.store(
                if exact { PROBE_EXACT } else { PROBE_INEXACT },
                Ordering::Release,
            );
            if !exact && crate::debug::get().gctrace {
                crate::printerr!("grt: plain-store mode: stores that fault on a write-protected page are not restarted exactly here (an emulator?): every marked object is rescanned at mark termination instead\n");
            }
            exact
        }
    }
}

/// Step 1, by the collector before the barrier goes on. Returns whether this cycle tracks.
pub fn protect() -> bool {
    if !enabled() || disabled() {
        return false;
    }
    let page = auxv::page_size();
    if !restarts_exactly() {
        // Without protection: mark termination rescans every marked object (complete, and
        // its pause grows with the heap).
        NRANGES.store(0, Ordering::SeqCst);
        ALL_DIRTY.store(true, Ordering::SeqCst);
        TRACKING.store(true, Ordering::SeqCst);
        return true;
    }
    HEAP_LOCK.lock();
    NRANGES.store(0, Ordering::SeqCst);
    NLOG.store(0, Ordering::SeqCst);
    ALL_DIRTY.store(false, Ordering::SeqCst);
    // After the log is reset: a handler that sees the new epoch logs into the new log.
    EPOCH.fetch_add(1, Ordering::SeqCst);
    TRACKING.store(true, Ordering::SeqCst);
    let mut n = 0;
    mheap::for_each_scan_run_locked(|lo, hi| {
        let (lo, hi) = (lo & !(page - 1), (hi + page - 1) & !(page - 1));
        if n > 0 && (RANGE_HI[n - 1].load(Ordering::Relaxed) >= lo || n == MAX_RANGES) {
            RANGE_HI[n - 1].store(hi, Ordering::Relaxed);
        } else {
            RANGE_LO[n].store(lo, Ordering::Relaxed);
            RANGE_HI[n].store(hi, Ordering::Relaxed);
            n += 1;
        }
    });
    NRANGES.store(n, Ordering::SeqCst);
    for i in 0..n {
        let (lo, hi) = (
            RANGE_LO[i].load(Ordering::Relaxed),
            RANGE_HI[i].load(Ordering::Relaxed),
        );
        // SAFETY: pages of the heap's own chunks; only the fault handler below relies on the
        // protection, and it knows these ranges.
        if unsafe { sys::mprotect(lo, hi - lo, ProtFlags::READ) }.is_err() {
            // Out of mappings (each run splits one): the rest stays writable and unlogged.
            ALL_DIRTY.store(true, Ordering::SeqCst);
            break;
        }
    }
    HEAP_LOCK.unlock();
    true
}

/// Step 2, from the SIGSEGV handler: true if the fault was a write to a page protected
/// here (now writable again: retry the instruction).
pub fn on_fault(addr: usize) -> bool {
    if addr >= PROBE_LO.load(Ordering::Acquire) && addr < PROBE_HI.load(Ordering::Acquire) {
        let page = auxv::page_size();
        // SAFETY: the probe's own page.
        return unsafe {
            sys::mprotect(addr & !(page - 1), page, ProtFlags::READ | ProtFlags::WRITE)
        }
        .is_ok();
    }
    if !in_ranges(addr) {
        return false;
    }
    let e1 = EPOCH.load(Ordering::SeqCst);
    if TRACKING.load(Ordering::SeqCst) {
        let page = auxv::page_size();
        let pg = addr & !(page - 1);
        log(pg, pg + page);
        // SAFETY: a page of the heap this module protected.
        if unsafe { sys::mprotect(pg, page, ProtFlags::READ | ProtFlags::WRITE) }.is_err() {
            return false;
        }
        // This thread may have been held up between its check and the mprotect for so long
        // that a new cycle protected the page in between: the mprotect then made it
        // writable in the new cycle, which must know. (The world cannot stop meanwhile: the
        // suspend signal is blocked in this handler, so the entry is in before any rescan.)
        if EPOCH.load(Ordering::SeqCst) != e1 {
            log(pg, pg + page);
        }
        FAULTS.fetch_add(1, Ordering::Relaxed);
    }
    // Not tracking: the unprotect pass made the page writable before TRACKING went off.
    true
}

/// Step 3, at mark termination with the world stopped and HEAP_LOCK held: collects the
/// words on logged pages of marked objects (the caller drains). Returns the bytes rescanned.
pub fn rescan_locked() -> usize {
    if !TRACKING.load(Ordering::Acquire) {
        return 0;
    }
    let mut bytes = 0;
    let mut scan = |lo: usize, hi: usize| {
        mheap::for_each_marked_in_locked(lo, hi, |a, b| {
            mgcmark::collect_range(a, b);
            bytes += b - a;
        })
    };
    if ALL_DIRTY.load(Ordering::Acquire) {
        FULL_RESCANS.fetch_add(1, Ordering::Relaxed);
        mheap::for_each_chunk_locked(&mut scan);
    } else {
        let n = NLOG.load(Ordering::Acquire).min(LOG_MAX);
        for i in 0..n {
            scan(
                LOG_LO[i].load(Ordering::Relaxed),
                LOG_HI[i].load(Ordering::SeqCst),
            );
        }
        PAGES_RESCANNED.fetch_add(n, Ordering::Relaxed);
    }
    bytes
}

/// Step 4, after the world restarted, HEAP_LOCK held: the heap writable again.
pub fn unprotect_locked() {
    if !TRACKING.load(Ordering::Acquire) {
        return;
    }
    if PROBE.load(Ordering::Acquire) != PROBE_EXACT {
        TRACKING.store(false, Ordering::SeqCst);
        return;
    }
    mheap::for_each_chunk_locked(|lo, hi| {
        // SAFETY: the heap's own chunk, mapped read-write at first.
        let r = unsafe { sys::mprotect(lo, hi - lo, ProtFlags::READ | ProtFlags::WRITE) };
        if r.is_err() {
            crate::throw!("cannot make the heap writable again at {:#x}: {:?}", lo, r);
        }
    });
    TRACKING.store(false, Ordering::SeqCst);
}

/// Makes the heap pages of `[lo, lo + len)` that are write-protected writable (a byte of
/// each written with its own value: the write faults in and changes nothing), before a
/// system call writes there. Returns whether any page was in a protected range. No-op when no cycle
/// tracks.
pub fn touch(lo: usize, len: usize) -> bool {
    if len == 0 || !TRACKING.load(Ordering::Acquire) || NRANGES.load(Ordering::Acquire) == 0 {
        return false;
    }
    let page = auxv::page_size();
    let mut a = lo;
    let mut hit = false;
    let end = lo.saturating_add(len);
    while a < end {
        if mheap::in_arena(a) && in_ranges(a) {
            // SAFETY: a byte of the caller's buffer, which the system call is about to
            // overwrite (writable per the caller's contract). Volatile, so the write is done
            // (an atomic `|= 0` may be turned into a load).
            unsafe {
                let p = a as *mut u8;
                p.write_volatile(p.read_volatile());
            }
            hit = true;
        }
        a = (a & !(page - 1)) + page;
    }
    hit
}

fn in_ranges(addr: usize) -> bool {
    let n = NRANGES.load(Ordering::Acquire).min(MAX_RANGES);
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if RANGE_LO[mid].load(Ordering::Relaxed) <= addr {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo > 0 && addr < RANGE_HI[lo - 1].load(Ordering::Relaxed)
}

/// Runs `f`, a system call that writes into `[lo, lo + len)`, with the buffer's protected
/// pages made writable first; again (at most [`EFAULT_RETRIES`] times) when it failed with
/// EFAULT because a cycle protected them in between.
pub fn syscall_into<T>(
    lo: usize,
    len: usize,
    mut f: impl FnMut() -> Result<T, sys::Errno>,
) -> Result<T, sys::Errno> {
    touch(lo, len);
    let mut tries = 0;
    loop {
        match f() {
            Err(sys::EFAULT) if tries < EFAULT_RETRIES && touch(lo, len) => tries += 1,
            r => return r,
        }
    }
}

/// Retries of a system call that failed with EFAULT on a protected page.
const EFAULT_RETRIES: usize = 3;
