//! Plain stores made safe: the heap's pages written while a cycle marks are tracked by
//! write protection, and rescanned at mark termination (bdwgc's MPROTECT_VDB; the
//! mostly-parallel collector of Boehm, Demers and Shenker, PLDI 1991).
//!
//! grt's concurrent marking is complete only if every pointer store into a heap object goes
//! through the write barrier (`GRT_STORE`). Programs written for bdwgc store with plain
//! assignments. Plain-store mode has three forms (`grt_gc_set_plain_stores`,
//! `GRTPLAINSTORES`):
//!
//! - **Rescan** (2; gc.h's `GC_INIT`): nothing is protected; mark termination rescans every
//!   marked object (`ALL_DIRTY`). Complete, no fault and no EFAULT; the pause grows with the
//!   heap (as bdwgc's own default, which marks with the world stopped).
//! - **Protect** (1; gc.h's `GC_enable_incremental`, as bdwgc's incremental mode): the pages
//!   written while the cycle marks are tracked by write protection, and only they are
//!   rescanned. Each cycle does this:
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
//!    that faulted is not restarted exactly, with no page protected at all: under a
//!    user-mode emulator (`emulator.rs`: qemu-user 7.2 on aarch64 restarts some stores after
//!    their base or stack register was written back), or where the probe with the program's
//!    memset fails ([`probe`]).
//! 4. **Unprotect** (after the world restarts, under the heap lock, so no chunk is freed
//!    meanwhile): every chunk is made writable again, then `TRACKING` goes off. A fault
//!    still in flight finds its address in `RANGES` and is retried (the page is writable by
//!    the time `TRACKING` reads off). `RANGES` has two tables, the cycle's and the last
//!    one's, so a handler held up across the next protection still finds its page; both are
//!    emptied before a chunk is unmapped.
//!
//! - **Kernel** (3): the protect form's steps, with the kernel doing the tracking
//!   (dirtyroots.rs's userfaultfd, asynchronous write protection, and `PAGEMAP_SCAN`, Linux
//!   6.7). At 1 every chunk of the heap is registered whole (a run of adjacent chunks at a
//!   time; a chunk made while the cycle marks, as it is made) and the runs of spans that may
//!   hold pointers are protected. A page left unprotected (free pages, so new spans) counts
//!   as written once it is populated: no span log. A store into a protected page is resolved
//!   in the fault by the kernel, no signal, and a system call's store too (no EFAULT:
//!   nothing to touch first). Before mark termination, with the world running, [`round`]
//!   lists the pages written, protects them again in the same walk and collects the marked
//!   objects on them (mgc.rs repeats it while it finds much); at 3 the pages written since
//!   are listed (no protecting) and rescanned as the logged pages are. At 4 the protection
//!   is taken off every chunk (else each page's first write after the cycle faults).
//!   Where the kernel lacks the calls (before 6.7, qemu-user), a registration fails, or a
//!   listing fails or stops short, the cycle rescans everything (`ALL_DIRTY`), as the rescan
//!   form does. `GRTDEBUG=gcnoheapwp=1` keeps the kernel out (to compare). GCBench through
//!   gc.h in this form (medians of 7 alternating runs against the rescan form): one P,
//!   longest pause 0.15 against 11.4 ms in 0.96 times the time; two Ps, 0.17 against 5.4 ms
//!   in 1.37 times. gc.h keeps the rescan form by default.
//!
//! In any form, goroutine stacks are rescanned whole at mark termination, and stacks
//! parked since their scan too: stack barriers and `G.gcscanvalid` rely on stores into
//! another frame (an out-parameter) going through `GRT_STORE`, which plain stores do not.
//!
//! Write protection needs mappings: each protected run, and each page made writable inside
//! one, splits a mapping. When the kernel refuses (`vm.max_map_count`), the handler makes its
//! whole run writable at once and the cycle falls back to rescanning everything
//! (`ALL_DIRTY`); so does a cycle whose runs overflow the table, and one whose written pages
//! overflow the log.
//!
//! Stores from the kernel are not tracked: in the protect form, a system call that writes
//! into a protected page fails with EFAULT (as with bdwgc's incremental mode). grt's own calls
//! that write into caller memory (`grt_read`, `grt_accept`) make the pages writable first and
//! retry; a program that passes heap memory to `read(2)` itself should allocate it with
//! `grt_alloc_atomic` (not protected where the system page is at most the heap's 8 KiB page).
//! A thread with SIGSEGV blocked is killed by its first store to a protected page.
//!
//! # Who touches what
//! The range tables are written by the collector's thread only, under the heap lock: the
//! table not in use is filled, then published (`CUR`), then its runs are protected, so no
//! fault can find a run before it is written. The handler reads the tables with no lock and
//! writes only the fault log: a slot taken with fetch_add and filled by compare-exchange from
//! zero (a handler held up past the log's reset cannot overwrite the new cycle's entry; it
//! takes another slot, at most `LOG_TRIES` times). Spans made while tracking go to a separate
//! log, under the heap lock. The handler takes no lock, allocates nothing, and loops only in a
//! binary search and those bounded tries.

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use grt_arch::{MapFlags, ProtFlags};

use crate::mheap::{self, HEAP_LOCK};
use crate::{auxv, mgcmark, sys};

/// Protected runs per table at most (beyond: those runs are left writable and the cycle
/// rescans everything).
const MAX_RANGES: usize = 32 * 1024;
/// Pages the handler logs per cycle at most (beyond: everything is rescanned). 64 Ki pages of
/// 4 KiB: 256 MiB written during one marking.
const LOG_MAX: usize = 64 * 1024;
/// Spans made while tracking, logged per cycle at most.
const SPAN_LOG_MAX: usize = 16 * 1024;
/// Slots the handler tries before it gives up and marks everything written.
const LOG_TRIES: usize = 4;

/// Plain-store mode: MODE_OFF, MODE_PROTECT, MODE_RESCAN (from the next cycle).
static MODE: AtomicUsize = AtomicUsize::new(MODE_OFF);
pub const MODE_OFF: usize = 0;
pub const MODE_PROTECT: usize = 1;
pub const MODE_RESCAN: usize = 2;
pub const MODE_KERNEL: usize = 3;
/// The cycle under way tracks plain stores (either form).
static TRACKING: AtomicBool = AtomicBool::new(false);
/// ... and protected pages to do it (the protect form).
static PROTECTED: AtomicBool = AtomicBool::new(false);
/// ... or the kernel tracks its writes (the kernel form).
static KERNEL: AtomicBool = AtomicBool::new(false);
/// Two range tables: `CUR` is this cycle's, the other the last one's.
static CUR: AtomicUsize = AtomicUsize::new(0);
static NRANGES: [AtomicUsize; 2] = [const { AtomicUsize::new(0) }; 2];
/// Pages written (the handler's log; 0 is a free slot), and spans made while tracking (under
/// HEAP_LOCK): counts here, entries in [`Tables`].
static NFAULT: AtomicUsize = AtomicUsize::new(0);
static NSPAN: AtomicUsize = AtomicUsize::new(0);

/// The range tables and the logs: 1.8 MiB, mapped on the first protection (not in the
/// program's bss, which every cycle scans as a root).
struct Tables {
    range_lo: [[AtomicUsize; MAX_RANGES]; 2],
    range_hi: [[AtomicUsize; MAX_RANGES]; 2],
    fault_log: [AtomicUsize; LOG_MAX],
    span_lo: [AtomicUsize; SPAN_LOG_MAX],
    span_hi: [AtomicUsize; SPAN_LOG_MAX],
}
static TABLES: core::sync::atomic::AtomicPtr<Tables> =
    core::sync::atomic::AtomicPtr::new(core::ptr::null_mut());

/// The tables, once mapped.
fn tables() -> Option<&'static Tables> {
    // SAFETY: null or a mapping of a Tables (zeroed memory is a valid Tables of atomics),
    // never unmapped.
    unsafe { TABLES.load(Ordering::Acquire).as_ref() }
}

/// Maps the tables (the collector's thread, once).
fn map_tables() -> Option<&'static Tables> {
    if let Some(t) = tables() {
        return Some(t);
    }
    let bytes = core::mem::size_of::<Tables>();
    let p = sys::mmap_anon(bytes, ProtFlags::READ | ProtFlags::WRITE, MapFlags::empty()).ok()?;
    TABLES.store(p as *mut Tables, Ordering::Release);
    tables()
}
/// Cycles that protected the heap: a handler that made a page writable while a new cycle
/// protected it logs the page again for the new cycle (see `on_fault`).
static EPOCH: AtomicUsize = AtomicUsize::new(0);
/// Everything counts as written this cycle: mark termination rescans every marked object.
static ALL_DIRTY: AtomicBool = AtomicBool::new(false);

/// Whether a store that faulted on a write-protected page is restarted exactly (probed once:
/// PROBE_UNKNOWN, PROBE_EXACT, PROBE_INEXACT).
static PROBE: AtomicUsize = AtomicUsize::new(PROBE_UNKNOWN);
const PROBE_UNKNOWN: usize = 0;
const PROBE_EXACT: usize = 1;
const PROBE_INEXACT: usize = 2;
/// The probe's protected pages while it runs (the fault handler unprotects them).
static PROBE_LO: AtomicUsize = AtomicUsize::new(0);
static PROBE_HI: AtomicUsize = AtomicUsize::new(0);

/// Counters for grt_gc_stats (monotonic).
pub static FAULTS: AtomicUsize = AtomicUsize::new(0);
pub static PAGES_RESCANNED: AtomicUsize = AtomicUsize::new(0);
/// Cycles whose mark termination rescanned every marked object.
pub static FULL_RESCANS: AtomicUsize = AtomicUsize::new(0);
/// Cycles whose writes the kernel tracked (the kernel form).
pub static KERNEL_CYCLES: AtomicUsize = AtomicUsize::new(0);

/// Sets plain-store mode (MODE_*), from the next cycle.
pub fn set(mode: usize) {
    MODE.store(mode, Ordering::Release);
}

/// The mode set (MODE_*).
pub fn mode() -> usize {
    MODE.load(Ordering::Acquire)
}

/// Whether the cycle under way tracks plain stores (mark termination then trusts neither
/// stack barriers nor `G.gcscanvalid`).
pub fn tracking() -> bool {
    TRACKING.load(Ordering::Acquire)
}

/// Test-only build, `GRTDEBUG=gcnodirty=1`: no tracking in plain-store mode (the teeth of
/// gc_plainstore and gc_bdwgc).
fn disabled() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().gcnodirty
}

/// The handler's log: a free slot, filled by compare-exchange (see the module comment).
fn log_fault(pg: usize) {
    let Some(tb) = tables() else {
        ALL_DIRTY.store(true, Ordering::SeqCst);
        return;
    };
    for _ in 0..LOG_TRIES {
        let i = NFAULT.fetch_add(1, Ordering::AcqRel);
        if i >= LOG_MAX {
            break;
        }
        if tb.fault_log[i]
            .compare_exchange(0, pg, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
    }
    ALL_DIRTY.store(true, Ordering::SeqCst);
}

/// A span made while tracking (not protected): all its pages count as written. Under
/// HEAP_LOCK.
pub fn new_span(base: usize, bytes: usize) {
    // The kernel form registers whole chunks (a new one as it is made) and protects only
    // spans that may hold pointers: a page left unprotected counts as written, so a new
    // span's pages are listed once they are written.
    if !PROTECTED.load(Ordering::Acquire) {
        return;
    }
    let i = NSPAN.load(Ordering::Relaxed);
    let Some(tb) = tables().filter(|_| i < SPAN_LOG_MAX) else {
        ALL_DIRTY.store(true, Ordering::SeqCst);
        return;
    };
    tb.span_lo[i].store(base, Ordering::Relaxed);
    tb.span_hi[i].store(base + bytes, Ordering::Relaxed);
    NSPAN.store(i + 1, Ordering::Release);
}

/// A chunk just made (HEAP_LOCK held): in the kernel form, while a cycle tracks, it is
/// registered at once, unprotected (its pages are listed as written once they are); if the
/// kernel refuses, the cycle rescans everything.
pub fn new_chunk(base: usize, bytes: usize) {
    if KERNEL.load(Ordering::Acquire) && !crate::dirtyroots::heap_register(base, base + bytes) {
        ALL_DIRTY.store(true, Ordering::SeqCst);
    }
}

/// The kernel form, concurrent (the collector's thread, after the rescan rounds, before
/// mark termination): the pages written since the protection are listed and protected
/// again, a chunk at a time under the heap lock, and the parts of marked objects on them
/// collected (the caller marks them), so that mark termination rescans only what is written
/// after this (bdwgc's and the roots' idea: dirtyroots.rs's round). A store that races the
/// walk of its page is listed now and read after, or written again after and listed at mark
/// termination. Chunks are taken by index, the lock dropped between them: a chunk made
/// meanwhile shifts the rest, so one may be listed twice (harmless); one unmapped meanwhile
/// (a large object's, freed) may make one skipped (its pages, not protected again, are
/// listed at mark termination). A listing that fails, or one chunk that holds more than
/// [`KERNEL_COLLECT_MAX_BYTES`] to collect: everything is rescanned at mark termination.
/// `flush` moves what was collected to the markers' pool (the collector's candidate buffer
/// is finite): called after each chunk once much was collected. Returns the bytes collected.
pub fn round(mut flush: impl FnMut()) -> usize {
    if !KERNEL.load(Ordering::Acquire) || ALL_DIRTY.load(Ordering::Acquire) || kernel_no_list() {
        return 0;
    }
    let page = auxv::page_size();
    let (mut bytes, mut pages, mut unflushed) = (0usize, 0usize, 0usize);
    let mut i = 0;
    loop {
        HEAP_LOCK.lock();
        let Some((lo, hi)) = mheap::chunk_at_locked(i) else {
            HEAP_LOCK.unlock();
            break;
        };
        let mut over = false;
        let ok = crate::dirtyroots::heap_round(lo, hi, |a, b| {
            if over {
                return;
            }
            mheap::for_each_marked_in_locked(a, b, |x, y| {
                mgcmark::collect_range(x, y);
                unflushed += y - x;
            });
            over = unflushed > KERNEL_COLLECT_MAX_BYTES;
            pages += (b - a) / page;
        });
        HEAP_LOCK.unlock();
        if !ok || over {
            // Pages protected again unread (or listed in part): mark termination must read
            // everything.
            ALL_DIRTY.store(true, Ordering::SeqCst);
            break;
        }
        if unflushed >= KERNEL_FLUSH_BYTES {
            flush();
            bytes += unflushed;
            unflushed = 0;
        }
        i += 1;
    }
    PAGES_RESCANNED.fetch_add(pages, Ordering::Relaxed);
    bytes + unflushed
}

/// The kernel form collects at most this much from the pages one listing finds (a round's
/// chunk, mark termination's whole heap) before it gives up and rescans everything, in bytes
/// of marked objects: the collector's candidate buffer holds 256 MiB of words, and the rest
/// of the roots go there too.
const KERNEL_COLLECT_MAX_BYTES: usize = 64 << 20;
/// A round hands what it collected to the markers' pool once it has this much, in bytes.
const KERNEL_FLUSH_BYTES: usize = 4 << 20;

/// A chunk is about to be unmapped (HEAP_LOCK held): the fault handler must no longer take
/// its addresses for ours.
pub fn chunk_unmapping() {
    if !TRACKING.load(Ordering::Acquire) {
        NRANGES[0].store(0, Ordering::SeqCst);
        NRANGES[1].store(0, Ordering::SeqCst);
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
    // The high bound first: a handler never sees [0, old high).
    PROBE_HI.store(0, Ordering::SeqCst);
    PROBE_LO.store(0, Ordering::SeqCst);
    // SAFETY: our mapping, no longer used.
    unsafe { sys::munmap(base, BYTES).ok() };
    exact
}

fn restarts_exactly() -> bool {
    match PROBE.load(Ordering::Acquire) {
        PROBE_EXACT => true,
        PROBE_INEXACT => false,
        _ => {
            // Under qemu-user the probe passes, yet stores elsewhere (a `stp` after a
            // writeback in a test's swap) restart inexactly: seen, no protection either.
            let exact = !crate::emulator::user_mode_emulator() && probe();
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
    let mode = MODE.load(Ordering::Acquire);
    if mode == MODE_OFF || disabled() {
        return false;
    }
    if mode == MODE_KERNEL && protect_kernel() {
        return true;
    }
    let tb = if mode != MODE_PROTECT || !restarts_exactly() {
        None
    } else {
        map_tables()
    };
    let Some(tb) = tb else {
        // Nothing protected: mark termination rescans every marked object.
        PROTECTED.store(false, Ordering::SeqCst);
        ALL_DIRTY.store(true, Ordering::SeqCst);
        TRACKING.store(true, Ordering::SeqCst);
        return true;
    };
    let page = auxv::page_size();
    HEAP_LOCK.lock();
    let nf = NFAULT.load(Ordering::Acquire).min(LOG_MAX);
    for slot in &tb.fault_log[..nf] {
        slot.store(0, Ordering::Relaxed);
    }
    NFAULT.store(0, Ordering::SeqCst);
    NSPAN.store(0, Ordering::SeqCst);
    ALL_DIRTY.store(false, Ordering::SeqCst);
    // After the log is reset: a handler that sees the new epoch logs into the new log.
    EPOCH.fetch_add(1, Ordering::SeqCst);
    PROTECTED.store(true, Ordering::SeqCst);
    TRACKING.store(true, Ordering::SeqCst);
    // Fill the table not in use (the last cycle's stays for handlers held up since).
    let t = 1 - CUR.load(Ordering::Relaxed);
    let (lo_t, hi_t) = (&tb.range_lo[t], &tb.range_hi[t]);
    let mut n = 0;
    let mut overflow = false;
    mheap::for_each_scan_run_locked(|lo, hi| {
        let (lo, hi) = (lo & !(page - 1), (hi + page - 1) & !(page - 1));
        if n > 0 && hi_t[n - 1].load(Ordering::Relaxed) >= lo {
            // Adjacent runs (of one chunk, or of chunks side by side: all heap).
            hi_t[n - 1].store(hi, Ordering::Relaxed);
        } else if n == MAX_RANGES {
            overflow = true;
        } else {
            lo_t[n].store(lo, Ordering::Relaxed);
            hi_t[n].store(hi, Ordering::Relaxed);
            n += 1;
        }
    });
    NRANGES[t].store(n, Ordering::SeqCst);
    CUR.store(t, Ordering::SeqCst);
    if overflow {
        ALL_DIRTY.store(true, Ordering::SeqCst);
    }
    for i in 0..n {
        let (lo, hi) = (
            lo_t[i].load(Ordering::Relaxed),
            hi_t[i].load(Ordering::Relaxed),
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

/// Release knob `GRTDEBUG=gcnoheapwp=1`: the kernel form tracks nothing (every cycle rescans
/// everything, as the rescan form), to compare.
fn kernel_off() -> bool {
    crate::debug::get().gcnoheapwp
}

/// Test-only build, `GRTDEBUG=gcheapwpnolist=1`: the kernel form lists no written page, in
/// its rounds or at mark termination, so a test can be seen to lose objects where the kernel
/// tracks (by hand: natively only).
fn kernel_no_list() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().gcheapwpnolist
}

/// Calls `f` with each run of adjacent chunks of the heap (HEAP_LOCK held); stops at the
/// first `false`. Returns whether none was.
fn for_each_chunk_run_locked(mut f: impl FnMut(usize, usize) -> bool) -> bool {
    let (mut lo, mut hi) = (0usize, 0usize);
    let mut ok = true;
    mheap::for_each_chunk_locked(|a, b| {
        if !ok {
            return;
        }
        if a == hi && hi != 0 {
            hi = b;
        } else {
            if hi > lo {
                ok = f(lo, hi);
            }
            (lo, hi) = (a, b);
        }
    });
    ok && (hi <= lo || f(lo, hi))
}

/// Step 1 of the kernel form: every chunk registered and the runs of spans that may hold
/// pointers protected, under the heap lock (no span is made meanwhile; spans made after lie
/// on unprotected pages, which count as written). False (the caller falls back to
/// rescanning everything) when the kernel does not track writes here or refused a run (the
/// runs protected so far stay so: a fault each at their next write, nothing more). Asks the
/// kernel first (opening grt's userfaultfd on the collector's thread), so that a chunk made
/// while the cycle marks, registered by the allocating thread, never opens it.
fn protect_kernel() -> bool {
    if kernel_off() || !crate::dirtyroots::heap_available() {
        return false;
    }
    // The span log's table.
    if map_tables().is_none() {
        return false;
    }
    HEAP_LOCK.lock();
    NSPAN.store(0, Ordering::SeqCst);
    ALL_DIRTY.store(false, Ordering::SeqCst);
    PROTECTED.store(false, Ordering::SeqCst);
    // Chunks registered whole (their free pages, unprotected, count as written: a span made
    // there while the cycle marks is listed without a fault), the runs of spans that may
    // hold pointers protected.
    let mut ok = for_each_chunk_run_locked(crate::dirtyroots::heap_register);
    let page = auxv::page_size();
    mheap::for_each_scan_run_locked(|lo, hi| {
        ok = ok && crate::dirtyroots::heap_wp(lo & !(page - 1), (hi + page - 1) & !(page - 1));
    });
    if ok {
        KERNEL.store(true, Ordering::SeqCst);
        TRACKING.store(true, Ordering::SeqCst);
        KERNEL_CYCLES.fetch_add(1, Ordering::Relaxed);
    }
    HEAP_LOCK.unlock();
    ok
}

/// The range of table `t` that holds `addr`.
fn find_in(t: usize, addr: usize) -> Option<(usize, usize)> {
    let tb = tables()?;
    let (range_lo, range_hi) = (&tb.range_lo[t], &tb.range_hi[t]);
    let n = NRANGES[t].load(Ordering::Acquire).min(MAX_RANGES);
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if range_lo[mid].load(Ordering::Relaxed) <= addr {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if lo == 0 {
        return None;
    }
    let (rlo, rhi) = (
        range_lo[lo - 1].load(Ordering::Relaxed),
        range_hi[lo - 1].load(Ordering::Relaxed),
    );
    (addr < rhi).then_some((rlo, rhi))
}

/// The protected range (this cycle's or the last one's) that holds `addr`.
fn in_ranges(addr: usize) -> Option<(usize, usize)> {
    let t = CUR.load(Ordering::Acquire);
    find_in(t, addr).or_else(|| find_in(1 - t, addr))
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
    let Some((rlo, rhi)) = in_ranges(addr) else {
        return false;
    };
    let e1 = EPOCH.load(Ordering::SeqCst);
    if TRACKING.load(Ordering::SeqCst) {
        let page = auxv::page_size();
        let pg = addr & !(page - 1);
        log_fault(pg);
        // SAFETY: a page of the heap this module protected.
        if unsafe { sys::mprotect(pg, page, ProtFlags::READ | ProtFlags::WRITE) }.is_err() {
            // Out of mappings: the whole run writable at once (which merges its pieces), and
            // this cycle rescans everything.
            ALL_DIRTY.store(true, Ordering::SeqCst);
            // SAFETY: a run of the heap's own pages, protected here.
            if unsafe { sys::mprotect(rlo, rhi - rlo, ProtFlags::READ | ProtFlags::WRITE) }.is_err()
            {
                return false;
            }
        }
        // This thread may have been held up between its check and the mprotect for so long
        // that a new cycle protected the page in between: the mprotect then made it
        // writable in the new cycle, which must know. (The world cannot stop meanwhile: the
        // suspend signal is blocked in this handler, so the entry is in before any rescan.)
        if EPOCH.load(Ordering::SeqCst) != e1 {
            log_fault(pg);
        }
        FAULTS.fetch_add(1, Ordering::Relaxed);
    }
    // Not tracking: the unprotect pass made the page writable before TRACKING went off.
    true
}

/// Step 3, at mark termination with the world stopped and HEAP_LOCK held: collects the
/// words on logged pages of marked objects (the caller drains), or says that every marked
/// object is to be read again.
pub fn rescan_locked() -> Rescan {
    if !TRACKING.load(Ordering::Acquire) {
        return Rescan::Pages(0);
    }
    let tb = tables().filter(|_| !ALL_DIRTY.load(Ordering::Acquire));
    let Some(tb) = tb else {
        FULL_RESCANS.fetch_add(1, Ordering::Relaxed);
        return Rescan::All;
    };
    // A cell: the kernel listing's cap reads it while `collect` adds to it.
    let bytes = core::cell::Cell::new(0usize);
    let mut collect = |a: usize, b: usize| {
        mgcmark::collect_range(a, b);
        bytes.set(bytes.get() + (b - a));
    };
    let page = auxv::page_size();
    let mut pages = 0;
    if KERNEL.load(Ordering::Acquire) {
        // The pages the kernel saw written (a run at a time), up to what the candidate buffer
        // takes: past it, everything (mgcpar's parts, which need no buffer that large).
        let mut over = false;
        let listed = kernel_no_list()
            || for_each_chunk_run_locked(|lo, hi| {
                crate::dirtyroots::heap_written(lo, hi, |a, b| {
                    if !over {
                        mheap::for_each_marked_in_locked(a, b, &mut collect);
                        pages += (b - a) / page;
                        over = bytes.get() > KERNEL_COLLECT_MAX_BYTES;
                    }
                }) && !over
            });
        if !listed {
            FULL_RESCANS.fetch_add(1, Ordering::Relaxed);
            return Rescan::All;
        }
    } else {
        let nf = NFAULT.load(Ordering::Acquire).min(LOG_MAX);
        for slot in &tb.fault_log[..nf] {
            let pg = slot.load(Ordering::SeqCst);
            if pg != 0 {
                mheap::for_each_marked_in_locked(pg, pg + page, &mut collect);
                pages += 1;
            }
        }
    }
    let ns = NSPAN.load(Ordering::Acquire).min(SPAN_LOG_MAX);
    for i in 0..ns {
        mheap::for_each_marked_in_locked(
            tb.span_lo[i].load(Ordering::Relaxed),
            tb.span_hi[i].load(Ordering::Relaxed),
            &mut collect,
        );
    }
    PAGES_RESCANNED.fetch_add(pages + ns, Ordering::Relaxed);
    Rescan::Pages(bytes.get())
}

/// What [`rescan_locked`] did.
pub enum Rescan {
    /// Collected the logged pages' words (bytes read).
    Pages(usize),
    /// Nothing: every marked object is to be read again (the caller does it, on two CPUs when
    /// it is big: mgcpar.rs's heap items).
    All,
}

/// Whether this cycle's mark termination will read every marked object again (the rescan
/// form, or a protection that failed).
pub fn rescans_all() -> bool {
    TRACKING.load(Ordering::Acquire) && (ALL_DIRTY.load(Ordering::Acquire) || tables().is_none())
}

/// Step 4, after the world restarted, HEAP_LOCK held: the heap writable again.
pub fn unprotect_locked() {
    if !TRACKING.load(Ordering::Acquire) {
        return;
    }
    // The kernel form: the protection taken off every chunk (a page left protected would take
    // a fault at its first write after the cycle: GCBench through gc.h took 9 times the
    // faults, and 1.6 times the time). A chunk the kernel refuses keeps it: faults only.
    if KERNEL.swap(false, Ordering::SeqCst) {
        for_each_chunk_run_locked(|lo, hi| {
            crate::dirtyroots::heap_unprotect(lo, hi);
            true
        });
    }
    if PROTECTED.load(Ordering::Acquire) {
        mheap::for_each_chunk_locked(|lo, hi| {
            // SAFETY: the heap's own chunk, mapped read-write at first.
            let r = unsafe { sys::mprotect(lo, hi - lo, ProtFlags::READ | ProtFlags::WRITE) };
            if r.is_err() {
                crate::throw!("cannot make the heap writable again at {:#x}: {:?}", lo, r);
            }
        });
    }
    TRACKING.store(false, Ordering::SeqCst);
}

/// Makes the heap pages of `[lo, lo + len)` that are write-protected writable (a byte of
/// each written with its own value: the write faults in and changes nothing), before a
/// system call writes there. Returns whether any page was in a protected range. No-op when no
/// cycle protects.
pub fn touch(lo: usize, len: usize) -> bool {
    if len == 0 || !TRACKING.load(Ordering::Acquire) || !PROTECTED.load(Ordering::Acquire) {
        return false;
    }
    let page = auxv::page_size();
    let mut a = lo;
    let mut hit = false;
    let end = lo.saturating_add(len);
    while a < end {
        if mheap::in_arena(a) && in_ranges(a).is_some() {
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

/// Runs `f`, a system call that writes into `[lo, lo + len)`, with the buffer's protected
/// pages made writable first; again (at most [`EFAULT_RETRIES`] times) when it failed with
/// EFAULT on a heap buffer: a cycle protected its pages in between. That cycle may have
/// ended, its pages writable again, by the time the call returns (so `touch` finds nothing
/// to do): the call is retried all the same (gc_plainstore, about one run in 300 before).
pub fn syscall_into<T>(
    lo: usize,
    len: usize,
    mut f: impl FnMut() -> Result<T, sys::Errno>,
) -> Result<T, sys::Errno> {
    touch(lo, len);
    let in_heap = len != 0 && (mheap::in_arena(lo) || mheap::in_arena(lo.saturating_add(len - 1)));
    let mut tries = 0;
    loop {
        match f() {
            Err(sys::EFAULT) if tries < EFAULT_RETRIES && (touch(lo, len) || in_heap) => tries += 1,
            r => return r,
        }
    }
}

/// Retries of a system call that failed with EFAULT on a protected page.
const EFAULT_RETRIES: usize = 8;
