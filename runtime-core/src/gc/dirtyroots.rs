//! The data and bss (and the ranges registered with `grt_add_roots`) written while a cycle
//! marks, tracked by the kernel, so that mark termination reads only those pages of the
//! program's and the libraries' data again, not all of it (issue 14, item 3: nothing with the
//! world stopped unbounded). What it still does with the world stopped grows with the data
//! and bss only as the kernel's walk of their page tables (about 3 ns a page: 0.8 ms for
//! 1 GiB) and with the pages written.
//!
//! Stores into globals need no write barrier in grt (grt.h): like a stack, the data and bss
//! are read once while the cycle marks and again, with the world stopped, at mark termination.
//! That second read was all of them: 166 KiB for a small program with glibc (6–14 µs), and
//! as much as the program's static arrays hold. The same holds for registered root ranges
//! (the program's own memory: mmap'd tables, malloc'd blocks), which the caller (mgc.rs)
//! protects each on its own ([`protect_alone`], after the data) when they are
//! [`ALONE_MIN_BYTES`] or more and outside grt's heap, and drops again ([`drop_overlapping`])
//! unless all their pages lie in private anonymous mappings: a shared one can be written
//! through another mapping of the same memory (a ring buffer mapped twice) or by another
//! process, and a private mapping of a file shows the file until copy on write; those stores
//! set other page-table entries than the ones listed here, or none.
//!
//! # The kernel's part
//! userfaultfd write protection in its asynchronous form (`UFFD_FEATURE_WP_ASYNC`, Linux 6.7)
//! and the `PAGEMAP_SCAN` ioctl on /proc/self/pagemap (Linux 6.7). A store to a protected page
//! is resolved by the kernel itself, in the fault: no signal, no thread woken; the page's
//! write-protect bit is cleared and the store goes on. Stores by the kernel (a `read(2)` into a
//! global) take the same path, so they work as before and are seen: mprotect would have made
//! them fail with EFAULT (dirty.rs's caveat), which is why this is not dirty.rs's mechanism.
//! `PAGEMAP_SCAN` lists the pages whose bit is clear ("written") and can protect them again
//! in the same walk, each page table entry under its lock.
//!
//! # Each cycle, on the collector's thread
//! 1. **Protect** ([`protect`], the barrier on, before the roots' concurrent read): each
//!    segment (a part of a writable PT_LOAD of the program or of a library that the collector
//!    reads, grt's own large tables left out, rounded out to pages) in a run of segments of
//!    [`LIST_MIN_BYTES`] or more (smaller runs are read whole at 3, and left unprotected:
//!    grt's small statics, which the collector writes with the world stopped, sit there) is
//!    registered for write protection (again each cycle: a library loaded since has new
//!    mappings; the same range twice is allowed) and protected; then each registered root
//!    range the caller hands [`protect_alone`]. The segments protected are kept in `SEGS`.
//!    Then the roots are read (mgc::collect_roots).
//! 2. **Round** ([`round`], concurrent, after the rescan rounds and the libraries' second
//!    snapshot, before the markers' gate closes): for each segment, the pages written since 1
//!    are listed and protected again in the same walk, and read now. A store races the walk
//!    per page: before its entry was walked, its page is listed and read after the walk;
//!    after, the page is written again and listed at 3. The listing checks that every
//!    mapping in the segment is still registered (`PM_SCAN_CHECK_WPASYNC`; a hole passes); a
//!    segment that fails (a library unloaded and another mapped there) is dropped from
//!    `SEGS`, with every segment that shares a page with it (the failed call may have
//!    protected that page again without listing it). From here on the libraries stay mapped:
//!    the snapshot holds them until mark termination is over.
//! 3. **Mark termination** ([`for_each_written`], world stopped): the pages written since 2
//!    are listed, without protecting, and only they are read. Segments less than 1 MiB
//!    apart share one listing (a program's libraries lie side by side), which asks for pages
//!    of registered mappings only (`PAGE_IS_WPALLOWED`), so the mappings in between are
//!    passed over. Registered root ranges are listed each on its own
//!    ([`for_each_written_alone`]), checking that every mapping in the range is still
//!    registered (`PM_SCAN_CHECK_WPASYNC`): the program may have mapped new memory over one
//!    since 2 (an arena reset with MAP_FIXED; unregistered, then registered again), which the
//!    kernel does not track and a listing of registered mappings would pass over; the check
//!    fails then, and the range is read whole (gc_rootwp_remap). (The check asks for an
//!    asynchronous write-protect registration, not grt's: memory mapped over a range and
//!    registered by a userfaultfd of the program's own, also asynchronous, would pass it.)
//!    A listing costs 2.6–4.5 µs there (the system call, the mmap lock, the
//!    walk of the page tables: about 3 ns a page), as much as reading 100–150 KiB: a cluster
//!    smaller than [`LIST_MIN_BYTES`] is read whole instead. [`warm`] makes the same
//!    listings just before the stop, so the kernel's side is warm.
//!
//! Anything not covered is read whole at 3: a segment not protected at 1 (a library loaded
//! since; a registration the kernel refused: another userfaultfd holds the range, say), or
//! dropped at 2, and a listing that fails or stops short. A page the kernel lost track of
//! is listed as written (reclaimed and faulted back in without its bit), never the other
//! way: a store needs a writable entry, and making one clears the bit. Where the kernel
//! lacks either call (before 6.7; qemu-user, which implements neither), or
//! `GRTDEBUG=gcnorootwp=1`, nothing is tracked and mark termination reads everything, as
//! before.
//!
//! Not tracked: stores that do not go through this process's page tables: into pages pinned
//! before the protection (io_uring's fixed buffers, O_DIRECT and asynchronous I/O in
//! flight, RDMA, vfio), and by another process into a shared mapping (data and bss are
//! private mappings). A pointer stored that way into a global while a cycle marks is not
//! seen; before this module, mark termination read everything and saw it. Also not: a
//! data or bss segment the program itself unmaps and maps again between 2 and 3 (a library
//! held by the snapshot cannot be unloaded; registered root ranges are checked, above).
//! A registered range stays registered with the kernel after `grt_remove_roots`, until it
//! is unmapped: its pages take one minor fault each at their next write, and a program
//! that registers it with a userfaultfd of its own then gets EBUSY. The listings at 3 take
//! the mmap lock for reading, so mark termination may wait for a thread it did not stop (in
//! a system call, or not registered) that maps or unmaps memory meanwhile. A program that
//! registers its data and bss with a userfaultfd of its own finds them registered here
//! (EBUSY) while grt runs. Write protection of unpopulated pages
//! (`UFFD_FEATURE_WP_UNPOPULATED`, needed for the bss past the file) gives every page of a
//! segment a page-table entry: 2 MiB of page tables for a 1 GiB bss never touched.
//!
//! # Who touches what
//! Only the collector's thread calls this module (the tables are its own), but
//! [`heap_register`], which an allocating thread calls for a chunk it made while a cycle
//! marks (after the collector opened the descriptors); the kernel does the rest. The
//! descriptors are opened once, by the first cycle, and kept.

use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicUsize, Ordering};

use grt_arch::nr;

use crate::{auxv, sys};

/// `_IOWR(UFFDIO, 0x3F, struct uffdio_api)`: the same number on both architectures (the
/// generic ioctl encoding; linux-raw-sys names it only under a feature we do not build).
const UFFDIO_API: u32 = 0xC018_AA3F;
/// `_IOWR(UFFDIO, 0x00, struct uffdio_register)`.
const UFFDIO_REGISTER: u32 = 0xC020_AA00;
/// `_IOWR(UFFDIO, 0x06, struct uffdio_writeprotect)`.
const UFFDIO_WRITEPROTECT: u32 = 0xC018_AA06;
/// `_IOWR('f', 16, struct pm_scan_arg)` (linux/fs.h, 6.7).
const PAGEMAP_SCAN: u32 = 0xC060_6610;
/// `UFFDIO_WRITEPROTECT_MODE_WP` (a macro with a cast that bindgen leaves out).
const WRITEPROTECT_MODE_WP: u64 = 1;

/// Runs of written pages one `PAGEMAP_SCAN` returns at most (a listing with more takes more
/// calls: each lists REGIONS runs, every one a page or more, or reaches the end).
const REGIONS: usize = 64;
/// Segments tracked per cycle at most (a program and its libraries: a few each). Past them,
/// segments are read whole at mark termination.
const SEGS_MAX: usize = 128;

/// Not tried yet, tracking works, or the kernel (or the knob) said no.
const UNTRIED: u8 = 0;
const ON: u8 = 1;
const OFF: u8 = 2;
static STATE: AtomicU8 = AtomicU8::new(UNTRIED);
static UFFD: AtomicI32 = AtomicI32::new(-1);
static PAGEMAP: AtomicI32 = AtomicI32::new(-1);

/// The segments protected this cycle, page-rounded `[lo, hi)`; collector only.
static mut SEGS: [(usize, usize); SEGS_MAX] = [(0, 0); SEGS_MAX];
static NSEGS: AtomicUsize = AtomicUsize::new(0);
/// Runs of pages the round (2) found written: what mark termination's read will likely meet
/// again (mgc::warm_roots prefetches them); collector only.
static mut WARM: [(usize, usize); REGIONS] = [(0, 0); REGIONS];
static NWARM: AtomicUsize = AtomicUsize::new(0);
/// Whether the last mark termination listed the written pages of any segment (grt_gc_stats'
/// roots_tracked).
static LAST_TRACKED: AtomicBool = AtomicBool::new(false);

/// Whether the last mark termination read only the written pages of some segment (tracking
/// works here), as `grt_gc_stats` reports it. Any thread.
pub fn tracked() -> bool {
    LAST_TRACKED.load(Ordering::Relaxed)
}

/// Release knob `GRTDEBUG=gcnorootwp=1`: track nothing (to compare pauses).
fn knob_off() -> bool {
    crate::debug::get().gcnorootwp
}

/// Test-only build, `GRTDEBUG=gcnorootrescan=1`: neither the round nor mark termination reads
/// any page of the data and bss (nor of the registered roots) again, tracked or not, so
/// gc_rootwp_teeth can be seen to fail.
pub fn no_rescan() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().gcnorootrescan
}

/// Whether the kernel tracks the writes (opened on the first call). The collector's thread.
fn available() -> bool {
    match STATE.load(Ordering::Relaxed) {
        ON => true,
        OFF => false,
        _ => {
            let ok = !knob_off() && open();
            STATE.store(if ok { ON } else { OFF }, Ordering::Relaxed);
            ok
        }
    }
}

/// Opens the userfaultfd (write protection, asynchronous) and /proc/self/pagemap, and checks
/// that `PAGEMAP_SCAN` answers. False, everything closed, if any step fails.
fn open() -> bool {
    let flags = nr::O_CLOEXEC | nr::O_NONBLOCK | nr::UFFD_USER_MODE_ONLY;
    let Ok(uffd) = sys::userfaultfd(flags) else {
        return false;
    };
    let mut api = nr::uffdio_api {
        api: nr::UFFD_API as u64,
        // Unpopulated: anonymous mappings (the bss past the file) get markers, so they count
        // as registered for PAGEMAP_SCAN (PAGE_IS_WPALLOWED, PM_SCAN_CHECK_WPASYNC).
        features: (nr::UFFD_FEATURE_WP_ASYNC | nr::UFFD_FEATURE_WP_UNPOPULATED) as u64,
        ioctls: 0,
    };
    // SAFETY: `api` is a uffdio_api that lives across the call.
    let want = (nr::UFFD_FEATURE_WP_ASYNC | nr::UFFD_FEATURE_WP_UNPOPULATED) as u64;
    // A kernel may take features it cannot give (arm64 before 6.10 has no write protection
    // through userfaultfd): what it answers must hold both.
    let api_ok = unsafe { sys::ioctl(uffd, UFFDIO_API, &mut api as *mut _ as usize) }.is_ok()
        && api.features & want == want;
    let pagemap = if api_ok {
        sys::open_readonly(b"/proc/self/pagemap\0").unwrap_or(-1)
    } else {
        -1
    };
    if pagemap < 0 {
        sys::close(uffd);
        return false;
    }
    UFFD.store(uffd, Ordering::Relaxed);
    PAGEMAP.store(pagemap, Ordering::Relaxed);
    // An empty listing: fails with ENOTTY before 6.7.
    let page = auxv::page_size();
    let probe = core::ptr::addr_of!(WARM) as usize & !(page - 1);
    if scan(probe, probe, Listing::Written, |_, _| {}).is_err() {
        sys::close(uffd);
        sys::close(pagemap);
        UFFD.store(-1, Ordering::Relaxed);
        PAGEMAP.store(-1, Ordering::Relaxed);
        return false;
    }
    true
}

fn page_out(lo: usize, hi: usize) -> (usize, usize) {
    let page = auxv::page_size();
    (lo & !(page - 1), (hi + page - 1) & !(page - 1))
}

/// Step 1: a new cycle forgets the last one's segments; then each segment that `segments`
/// gives, in a cluster of [`LIST_MIN_BYTES`] or more, is registered and write-protected
/// (rounded out to pages), and kept when both succeed. A smaller cluster is read whole at
/// mark termination (as cheap as listing it), so it is not protected: the first store into
/// each of its pages after a protection would cost a fault, and grt's own small statics,
/// which the collector writes with the world stopped, sit there (protected, they made mark
/// termination 25–45 µs longer in the pause benchmark). The collector's thread, world
/// running.
pub fn protect(segments: impl FnOnce(&mut dyn FnMut(usize, usize))) {
    NSEGS.store(0, Ordering::Relaxed);
    NWARM.store(0, Ordering::Relaxed);
    if !available() {
        return;
    }
    // SAFETY: the collector's own table (free until mark termination).
    let all = unsafe { &mut *core::ptr::addr_of_mut!(MT) };
    let mut n = 0;
    segments(&mut |lo, hi| {
        if lo < hi && n < SEGS_MAX {
            all[n] = (lo, hi);
            n += 1;
        }
    });
    for_each_cluster(&mut all[..n], |cluster, bytes| {
        if bytes >= LIST_MIN_BYTES {
            for &(lo, hi) in cluster {
                protect_one(lo, hi);
            }
        }
    });
}

/// Sorts `segs` and calls `f` with each run of them less than [`CLUSTER_GAP_BYTES`] apart,
/// and their bytes.
fn for_each_cluster(segs: &mut [(usize, usize)], mut f: impl FnMut(&[(usize, usize)], usize)) {
    segs.sort_unstable();
    let n = segs.len();
    let mut i = 0;
    while i < n {
        let mut chi = page_out(segs[i].0, segs[i].1).1;
        let mut bytes = segs[i].1 - segs[i].0;
        let mut j = i + 1;
        while j < n && page_out(segs[j].0, segs[j].1).0 <= chi + CLUSTER_GAP_BYTES {
            chi = chi.max(page_out(segs[j].0, segs[j].1).1);
            bytes += segs[j].1 - segs[j].0;
            j += 1;
        }
        f(&segs[i..j], bytes);
        i = j;
    }
}

/// Registers and write-protects one segment, and keeps it when both succeed.
fn protect_one(lo: usize, hi: usize) {
    let n = NSEGS.load(Ordering::Relaxed);
    if n == SEGS_MAX {
        return;
    }
    let (lo, hi) = page_out(lo, hi);
    if register_and_protect(lo, hi) {
        // SAFETY: the collector's own table.
        unsafe { (*core::ptr::addr_of_mut!(SEGS))[n] = (lo, hi) };
        NSEGS.store(n + 1, Ordering::Relaxed);
    }
}

/// For plain-store mode's kernel form (dirty.rs): whether the kernel tracks writes here
/// (opens grt's userfaultfd on the first call). The collector's thread.
pub fn heap_available() -> bool {
    available()
}

/// For plain-store mode's kernel form (dirty.rs): registers the heap's `[lo, hi)` (chunks;
/// rounded out to pages) for write protection, protecting nothing: its pages count as
/// written until [`heap_wp`] protects them. False when the kernel does not track writes here
/// (or refused). Any thread holding the heap lock (a chunk made while a cycle marks), after
/// [`heap_available`] said yes on the collector's: the descriptor is open by then.
pub fn heap_register(lo: usize, hi: usize) -> bool {
    let (lo, hi) = page_out(lo, hi);
    STATE.load(Ordering::Relaxed) == ON && register(lo, hi)
}

/// For plain-store mode's kernel form (dirty.rs): write-protects `[lo, hi)` (rounded out to
/// pages), registered by [`heap_register`]. False when the kernel refused.
pub fn heap_wp(lo: usize, hi: usize) -> bool {
    let (lo, hi) = page_out(lo, hi);
    write_protect(lo, hi)
}

/// For plain-store mode's kernel form (dirty.rs), world stopped: calls `f` with each run of
/// pages of `[lo, hi)` (rounded out to pages) written since [`heap_wp`] (or never
/// protected), in registered mappings only. False when the listing failed or stopped short.
pub fn heap_written(lo: usize, hi: usize, f: impl FnMut(usize, usize)) -> bool {
    let (lo, hi) = page_out(lo, hi);
    matches!(scan(lo, hi, Listing::Written, f), Ok(true))
}

/// For plain-store mode's kernel form (dirty.rs), world running: as [`heap_written`], and
/// each page listed is protected again in the same walk (every mapping of the range must be
/// registered: the call fails otherwise). False when the listing failed or stopped short.
pub fn heap_round(lo: usize, hi: usize, f: impl FnMut(usize, usize)) -> bool {
    let (lo, hi) = page_out(lo, hi);
    matches!(scan(lo, hi, Listing::Reprotect, f), Ok(true))
}

/// `UFFDIO_REGISTER` (write protection) and `UFFDIO_WRITEPROTECT` on page-aligned
/// `[lo, hi)`: whether both succeeded.
fn register_and_protect(lo: usize, hi: usize) -> bool {
    register(lo, hi) && write_protect(lo, hi)
}

/// `UFFDIO_REGISTER` (write protection) on page-aligned `[lo, hi)`.
fn register(lo: usize, hi: usize) -> bool {
    let mut reg = nr::uffdio_register {
        range: nr::uffdio_range {
            start: lo as u64,
            len: (hi - lo) as u64,
        },
        mode: nr::UFFDIO_REGISTER_MODE_WP as u64,
        ioctls: 0,
    };
    // SAFETY: the struct the request reads and writes, alive across the call.
    unsafe {
        sys::ioctl(
            UFFD.load(Ordering::Relaxed),
            UFFDIO_REGISTER,
            &mut reg as *mut _ as usize,
        )
    }
    .is_ok()
}

/// For plain-store mode's kernel form (dirty.rs), after mark termination: `[lo, hi)`
/// (rounded out to pages) writable again without a fault. False when the kernel refused.
pub fn heap_unprotect(lo: usize, hi: usize) -> bool {
    let (lo, hi) = page_out(lo, hi);
    write_protect_mode(lo, hi, 0)
}

/// `UFFDIO_WRITEPROTECT` on page-aligned, registered `[lo, hi)`.
fn write_protect(lo: usize, hi: usize) -> bool {
    write_protect_mode(lo, hi, WRITEPROTECT_MODE_WP)
}

/// `UFFDIO_WRITEPROTECT` with `mode` (0: the protection taken off).
fn write_protect_mode(lo: usize, hi: usize, mode: u64) -> bool {
    let mut wp = nr::uffdio_writeprotect {
        range: nr::uffdio_range {
            start: lo as u64,
            len: (hi - lo) as u64,
        },
        mode,
    };
    // SAFETY: the struct the request reads, alive across the call.
    unsafe {
        sys::ioctl(
            UFFD.load(Ordering::Relaxed),
            UFFDIO_WRITEPROTECT,
            &mut wp as *mut _ as usize,
        )
    }
    .is_ok()
}

/// What a listing asks ([`scan`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Listing {
    /// The round: every page of the range must be registered (`PM_SCAN_CHECK_WPASYNC`: the
    /// call fails otherwise), and the written pages are protected again in the same walk.
    Reprotect,
    /// Mark termination: written pages of registered mappings only (`PAGE_IS_WPALLOWED`), so
    /// one call may span the gaps between segments (other mappings are passed over whole).
    Written,
    /// Mark termination, for a segment listed alone: its written pages, and every page of it
    /// must be registered (`PM_SCAN_CHECK_WPASYNC`; the call fails otherwise).
    WrittenChecked,
}

/// Lists the written pages of `[lo, hi)` (page-aligned), calling `f` with each run. Ok(true)
/// when the listing reached `hi`, Ok(false) when it stopped short (the kernel made no
/// progress, or took more calls than the range has pages for: the rest not listed). The
/// calls are as many as the runs call for, and each run must be read anyway.
fn scan(lo: usize, hi: usize, how: Listing, mut f: impl FnMut(usize, usize)) -> sys::Result<bool> {
    let mut regions = [nr::page_region {
        start: 0,
        end: 0,
        categories: 0,
    }; REGIONS];
    let (flags, category) = match how {
        Listing::Reprotect => (
            nr::PM_SCAN_CHECK_WPASYNC | nr::PM_SCAN_WP_MATCHING,
            nr::PAGE_IS_WRITTEN,
        ),
        Listing::Written => (0, nr::PAGE_IS_WRITTEN | nr::PAGE_IS_WPALLOWED),
        // PAGE_IS_WPALLOWED too, although every page of a checked range is registered: with
        // PAGE_IS_WRITTEN alone the kernel takes a fast path that, before its 2025 fix
        // ("fix uffd-wp confusion in pagemap_scan_pmd_entry"), read the protection bit of a
        // page swapped out or in migration wrongly, and could pass over a written page. (The
        // round's listing takes it: there a misread page is neither listed nor protected
        // again, so mark termination's listing, which asks for both bits, still finds it.)
        Listing::WrittenChecked => (
            nr::PM_SCAN_CHECK_WPASYNC,
            nr::PAGE_IS_WRITTEN | nr::PAGE_IS_WPALLOWED,
        ),
    };
    let mut at = lo;
    let calls_max = (hi - lo) / auxv::page_size() / REGIONS + 2;
    for _ in 0..calls_max {
        let mut arg = nr::pm_scan_arg {
            size: core::mem::size_of::<nr::pm_scan_arg>() as u64,
            flags: flags as u64,
            start: at as u64,
            end: hi as u64,
            walk_end: 0,
            vec: regions.as_mut_ptr() as u64,
            vec_len: REGIONS as u64,
            max_pages: 0,
            category_inverted: 0,
            // Every bit of it (PAGE_IS_WRITTEN and, at mark termination, PAGE_IS_WPALLOWED).
            category_mask: category as u64,
            category_anyof_mask: 0,
            return_mask: nr::PAGE_IS_WRITTEN as u64,
        };
        // SAFETY: `arg` and the region vector it names live across the call.
        let n = unsafe {
            sys::ioctl(
                PAGEMAP.load(Ordering::Relaxed),
                PAGEMAP_SCAN,
                &mut arg as *mut _ as usize,
            )
        }?;
        for r in &regions[..n.min(REGIONS)] {
            f(r.start as usize, r.end as usize);
        }
        let end = arg.walk_end as usize;
        if end >= hi {
            return Ok(true);
        }
        if end <= at {
            break;
        }
        at = end;
    }
    Ok(false)
}

/// Step 2: the pages written since [`protect`], protected again and handed to `f` (clipped
/// to their segments). A segment whose listing fails is dropped from the table, so mark
/// termination reads it whole. The collector's thread, world running.
pub fn round(mut f: impl FnMut(usize, usize)) {
    if no_rescan() {
        return;
    }
    let n = NSEGS.load(Ordering::Relaxed);
    // SAFETY: the collector's own table.
    let segs = unsafe { &mut *core::ptr::addr_of_mut!(SEGS) };
    let mut failed = [false; SEGS_MAX];
    for i in 0..n {
        let (lo, hi) = segs[i];
        let res = scan(lo, hi, Listing::Reprotect, |a, b| {
            let w = NWARM.load(Ordering::Relaxed);
            if w < REGIONS {
                // SAFETY: the collector's own table.
                unsafe { (*core::ptr::addr_of_mut!(WARM))[w] = (a, b) };
                NWARM.store(w + 1, Ordering::Relaxed);
            }
            f(a, b)
        });
        // Listed in part (what was listed is read; the rest was not protected again) or not
        // at all (a failed call may have protected pages again without listing them).
        failed[i] = !matches!(res, Ok(true));
    }
    // A failed segment is read whole at mark termination, and so is every segment that
    // shares a page with it: a page its failed listing protected again unread would not be
    // listed for the other.
    let mut kept = 0;
    for i in 0..n {
        let (lo, hi) = segs[i];
        let overlaps_failed = (0..n).any(|j| failed[j] && segs[j].0 < hi && lo < segs[j].1);
        if !overlaps_failed {
            segs[kept] = (lo, hi);
            kept += 1;
        }
    }
    NSEGS.store(kept, Ordering::Relaxed);
}

/// Step 1 for a segment of its own (a registered root range), after [`protect`]: registered
/// and protected whatever lies near it (mark termination lists it alone:
/// [`for_each_written_alone`]).
pub fn protect_alone(lo: usize, hi: usize) {
    if lo < hi && STATE.load(Ordering::Relaxed) == ON {
        protect_one(lo, hi);
    }
}

/// Step 1's aftermath: the segments that share a page with `[lo, hi)` are no longer tracked
/// (mark termination reads them whole; their pages stay registered and protected, which
/// costs a fault at each page's first write). The collector's thread, after [`protect`].
pub fn drop_overlapping(lo: usize, hi: usize) {
    let (lo, hi) = page_out(lo, hi);
    let n = NSEGS.load(Ordering::Relaxed);
    // SAFETY: the collector's own table.
    let segs = unsafe { &mut *core::ptr::addr_of_mut!(SEGS) };
    let mut kept = 0;
    for i in 0..n {
        let (s, e) = segs[i];
        if !(s < hi && lo < e) {
            segs[kept] = (s, e);
            kept += 1;
        }
    }
    NSEGS.store(kept, Ordering::Relaxed);
}

/// Whether segment `[lo, hi)` is tracked this cycle (mark termination reads only its pages
/// written since the round).
pub fn is_tracked(lo: usize, hi: usize) -> bool {
    let (plo, phi) = page_out(lo, hi);
    // SAFETY: the collector's own table.
    let segs = unsafe { &(&*core::ptr::addr_of!(SEGS))[..NSEGS.load(Ordering::Relaxed)] };
    lo < hi && segs.iter().any(|&(s, e)| s <= plo && phi <= e)
}

/// Calls `f` with each run of pages [`round`] found written (at most [`REGIONS`]).
pub fn for_each_warm(mut f: impl FnMut(usize, usize)) {
    // SAFETY: the collector's own table.
    let warm = unsafe { &*core::ptr::addr_of!(WARM) };
    for &(lo, hi) in &warm[..NWARM.load(Ordering::Relaxed)] {
        f(lo, hi);
    }
}

/// Just before the stop: the listings mark termination will make, made now and thrown away,
/// so that the kernel's code and the page tables it walks are warm (cold, a call took
/// 4.1–4.5 µs with the world stopped; after this, 2.6–4.0 µs). `f` gets what mark
/// termination will read whole (to prefetch).
pub fn warm(segments: impl FnOnce(&mut dyn FnMut(usize, usize)), f: impl FnMut(usize, usize)) {
    walk(segments, f, Walk::Clustered, true);
}

/// [`warm`] for [`for_each_written_alone`].
pub fn warm_alone(
    segments: impl FnOnce(&mut dyn FnMut(usize, usize)),
    f: impl FnMut(usize, usize),
) {
    walk(segments, f, Walk::Alone, true);
}

/// Segments tracked at mark termination, sorted; collector only.
static mut MT: [(usize, usize); SEGS_MAX] = [(0, 0); SEGS_MAX];

/// Segments closer than this share one listing at mark termination, in bytes: the mappings
/// between them are passed over, and a program's libraries lie side by side.
const CLUSTER_GAP_BYTES: usize = 1 << 20;

/// A cluster of segments smaller than this is read whole at mark termination, not listed, in
/// bytes: a listing costs 2.6–4.5 µs there (measured on x86_64 under KVM: the system call,
/// the mmap lock, the walk), about what reading 100–150 KiB costs.
const LIST_MIN_BYTES: usize = 256 << 10;

/// A segment listed on its own at mark termination ([`for_each_written_alone`]) is this big at
/// least, in bytes (smaller, it is read whole: as cheap); so smaller ones need no protection.
pub const ALONE_MIN_BYTES: usize = LIST_MIN_BYTES;

/// How [`walk`] lists.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// Segments near each other share a listing of registered mappings' written pages.
    Clustered,
    /// Each segment alone, every mapping in it checked to be registered still.
    Alone,
}

/// Step 3 (world stopped): `segments` calls its argument with each segment of data and bss
/// mark termination reads; `f` gets the parts to read: of a tracked segment the pages
/// written since [`round`], of the others all. Segments near each other share a listing;
/// a cluster smaller than [`LIST_MIN_BYTES`] is read whole.
pub fn for_each_written(
    segments: impl FnOnce(&mut dyn FnMut(usize, usize)),
    f: impl FnMut(usize, usize),
) {
    if no_rescan() {
        return;
    }
    walk(segments, f, Walk::Clustered, false);
}

/// Step 3 (world stopped) for segments in the program's own memory (registered root ranges),
/// which it may have unmapped and mapped again since the round (mmap with MAP_FIXED over a
/// range, say) without the collector knowing: a mapping made since is not registered, and a
/// listing of registered mappings' pages would pass over it and its stores. So each tracked
/// segment of [`ALONE_MIN_BYTES`] or more is listed on its own, checking that every mapping
/// in it is still registered (`PM_SCAN_CHECK_WPASYNC`); a listing that fails, and every
/// other segment, is read whole. (A hole passes the check: the caller reads only ranges
/// that are roots now.)
pub fn for_each_written_alone(
    segments: impl FnOnce(&mut dyn FnMut(usize, usize)),
    f: impl FnMut(usize, usize),
) {
    if no_rescan() {
        return;
    }
    walk(segments, f, Walk::Alone, false);
}

/// Test-only build, `GRTDEBUG=gcrootnocheck=1`: [`for_each_written_alone`] lists without the
/// check, as [`for_each_written`] does, and the caller keeps registered ranges in shared or
/// file mappings, and ranges removed and added back, tracked (gc_rootwp_remap's and
/// gc_rootwp_readd's teeth, by hand).
pub fn no_check() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().gcrootnocheck
}

/// [`for_each_written`] (or with [`Walk::Alone`], [`for_each_written_alone`]), or with
/// `warm_only` [`warm`]: the listings made, what they list dropped, and `f` given only what
/// is read whole.
fn walk(
    segments: impl FnOnce(&mut dyn FnMut(usize, usize)),
    mut f: impl FnMut(usize, usize),
    how: Walk,
    warm_only: bool,
) {
    // SAFETY: the collector's own table.
    let mt = unsafe { &mut *core::ptr::addr_of_mut!(MT) };
    let mut n = 0;
    segments(&mut |lo, hi| {
        if n < SEGS_MAX && is_tracked(lo, hi) {
            mt[n] = (lo, hi);
            n += 1;
        } else {
            f(lo, hi);
        }
    });
    if !warm_only && how == Walk::Clustered {
        LAST_TRACKED.store(n > 0, Ordering::Relaxed);
    }
    if how == Walk::Alone {
        let listing = if no_check() {
            Listing::Written
        } else {
            Listing::WrittenChecked
        };
        for &(lo, hi) in &mt[..n] {
            if hi - lo >= ALONE_MIN_BYTES {
                let (plo, phi) = page_out(lo, hi);
                let listed = scan(plo, phi, listing, |a, b| {
                    let (a, b) = (a.max(lo), b.min(hi));
                    if !warm_only && a < b {
                        f(a, b);
                    }
                });
                if let Ok(true) = listed {
                    if !warm_only {
                        LAST_TRACKED.store(true, Ordering::Relaxed);
                    }
                    continue;
                }
            }
            f(lo, hi);
        }
        return;
    }
    for_each_cluster(&mut mt[..n], |cluster, bytes| {
        if bytes >= LIST_MIN_BYTES {
            let clo = page_out(cluster[0].0, cluster[0].1).0;
            let chi = cluster
                .iter()
                .map(|&(lo, hi)| page_out(lo, hi).1)
                .max()
                .unwrap_or(clo);
            let listed = scan(clo, chi, Listing::Written, |a, b| {
                if warm_only {
                    return;
                }
                for &(lo, hi) in cluster {
                    let (a, b) = (a.max(lo), b.min(hi));
                    if a < b {
                        f(a, b);
                    }
                }
            });
            if let Ok(true) = listed {
                return;
            }
            // Stopped short or failed: the segments whole (what was read is read twice,
            // harmlessly).
        }
        for &(lo, hi) in cluster {
            f(lo, hi);
        }
    });
}
