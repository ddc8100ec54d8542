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
