//! Questions about heap objects, and resizing one: `grt_base`, `grt_size`, `grt_realloc`
//! (bdwgc's `GC_base`, `GC_size`, `GC_realloc`).
//!
//! Lookups are lock-free (`mheap::find_object`, the collector's own): an object the caller
//! holds a pointer to cannot be freed meanwhile, and span headers are never unmapped, so a
//! lookup of a stale or foreign pointer gives a stale answer or none, never a fault.
//!
//! `grt_realloc` copies into a new object when the old one is too small. While a cycle
//! marks, new objects are allocated marked and are not scanned again, so every word copied
//! into one is shaded (the write barrier, applied to the whole copy).

use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::Ordering;

use crate::errors::{report, GRT_EINVAL};
use crate::mgc::{self, grt_gc_wbenabled};
use crate::{mgcmark, mheap};

/// (start, usable bytes, scanned) of the live heap object that holds `p`.
fn lookup(p: usize) -> Option<(usize, usize, bool)> {
    let (s, idx) = mheap::find_object(p)?;
    Some(mheap::object(s, idx))
}

/// `void *grt_base(const void *p)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_base(p: *const c_void) -> *mut c_void {
    let _np = crate::preempt::NoPreempt::enter();
    lookup(p as usize).map_or(ptr::null_mut(), |(b, _, _)| b as *mut c_void)
}

/// `size_t grt_size(const void *p)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_size(p: *const c_void) -> usize {
    let _np = crate::preempt::NoPreempt::enter();
    lookup(p as usize).map_or(0, |(_, n, _)| n)
}

/// `size_t grt_alloc_size(size_t n)`: the usable bytes an allocation of `n` bytes gets (its
/// size class, or whole pages for a large object); 0 for a size past the address space.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_alloc_size(n: usize) -> usize {
    if n <= mheap::MAX_SMALL {
        return mheap::class_size(mheap::class_of(n.max(1)));
    }
    mheap::large_pages(n).map_or(0, |p| p * mheap::PAGE_BYTES)
}

/// `void *grt_realloc(void *p, size_t n)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_realloc(p: *mut c_void, n: usize) -> *mut c_void {
    const F: &str = "grt_realloc";
    let _np = crate::preempt::NoPreempt::enter();
    crate::proc::preempt_point();
    if p.is_null() {
        return mgc::alloc(n, false);
    }
    let Some((base, size, scan)) = lookup(p as usize) else {
        report(
            GRT_EINVAL,
            F,
            format_args!("{:p} is not an object grt_alloc returned", p),
        );
        return ptr::null_mut();
    };
    if base != p as usize {
        report(
            GRT_EINVAL,
            F,
            format_args!(
                "{:p} points into the object at {:#x}, not to its start",
                p, base
            ),
        );
        return ptr::null_mut();
    }
    if n == 0 {
        return ptr::null_mut(); // the old object is the collector's now
    }
    if n <= size {
        // In place; the bytes given up are zeroed, so they retain nothing.
        // SAFETY: [base + n, base + size) lies in the object, which the caller owns.
        unsafe { ptr::write_bytes((base + n) as *mut u8, 0, size - n) };
        return p;
    }
    let q = mgc::alloc(n, !scan);
    // SAFETY: both objects are live and at least `size` bytes; the caller owns the old one.
    unsafe { ptr::copy_nonoverlapping(base as *const u8, q as *mut u8, size) };
    let no_shade = cfg!(feature = "testhooks") && crate::debug::get().gcnoreallocshade;
    if scan && !no_shade && grt_gc_wbenabled.load(Ordering::SeqCst) != 0 {
        for off in (0..size).step_by(core::mem::size_of::<usize>()) {
            // SAFETY: an aligned word of the new object.
            mgcmark::shade(unsafe { *((q as usize + off) as *const usize) });
        }
    }
    q
}

/// `grt_gc_is_marked`: whether the collector holds the object `p` points into live: while a
/// cycle marks, whether it reached it yet; between cycles, whether the last cycle kept it (or
/// it was allocated since). 0 for a pointer into no live object. While the object's disclaim
/// is pending: whether it was revived since (mfinal.rs).
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_gc_is_marked(p: *const c_void) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    if let Some(base) = lookup(p as usize).map(|(b, _, _)| b) {
        if let Some(m) = crate::mfinal::disclaim_mark(base, false) {
            return m as i32;
        }
    }
    mheap::HEAP_LOCK.lock();
    let r = match mheap::find_object(p as usize) {
        None => false,
        Some((s, idx)) if crate::mgcmark::marking() => mheap::is_marked(s, idx),
        Some((s, idx)) => mheap::survived_locked(s, idx),
    };
    mheap::HEAP_LOCK.unlock();
    r as i32
}

/// `grt_gc_set_mark_bit`: keeps the object `p` points into through the cycle under way (it
/// is shaded) or, between cycles, through the sweep to come, even if that cycle found it
/// unreachable (bdwgc's GC_set_mark_bit: a weak table's entry revived under its lock). An
/// object whose disclaim is pending is revived: its disclaim reads it marked.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_gc_set_mark_bit(p: *const c_void) {
    let _np = crate::preempt::NoPreempt::enter();
    if let Some(base) = lookup(p as usize).map(|(b, _, _)| b) {
        let _ = crate::mfinal::disclaim_mark(base, true);
    }
    crate::mgcmark::shade(p as usize);
    mheap::HEAP_LOCK.lock();
    // Marking still on: the shade is in before mark termination (which turns it off under
    // this lock). Off: the verdict is in; keep the object from the sweep.
    if !crate::mgcmark::marking() {
        if let Some((s, idx)) = mheap::find_object(p as usize) {
            mheap::keep_locked(s, idx);
        }
    }
    mheap::HEAP_LOCK.unlock();
}

/// `grt_gc_enumerate`: `f(obj, size, arg)` for every object the collector holds live as the
/// last cycle left it (kept by it or allocated since; while a cycle marks every span is
/// swept, so that is every allocated object), under the heap lock. Never waits for the
/// collector: programs call it under the links' lock (gc.h's allocator lock), which mark
/// termination waits for. Returns how many.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_gc_enumerate(
    f: Option<unsafe extern "C" fn(*mut c_void, usize, *mut c_void)>,
    arg: *mut c_void,
) -> i64 {
    let _np = crate::preempt::NoPreempt::enter();
    let Some(f) = f else {
        return report(GRT_EINVAL, "grt_gc_enumerate", format_args!("f is NULL")) as i64;
    };
    mheap::HEAP_LOCK.lock();
    let n = mheap::for_each_live_locked(|obj, size| {
        // SAFETY: the program's callback, given an object and its size.
        unsafe { f(obj as *mut c_void, size, arg) }
    });
    mheap::HEAP_LOCK.unlock();
    n as i64
}

/// `grt_gc_scanned`: 1 if the object `p` points into is scanned for pointers, 0 if it is
/// atomic, -1 if `p` is in no live object.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_gc_scanned(p: *const c_void) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    lookup(p as usize).map_or(-1, |(_, _, scan)| scan as i32)
}
