//! Memory for the runtime's own objects, with no libc: grt must run without a malloc.
//!
//! - [`persistentalloc`]: a bump allocator for objects that live as long as the process
//!   (every G, M and P: walkers may look at any of them at any time, so they are never
//!   unmapped; dead Gs are reused instead, as Go does).
//! - [`alloc`] / [`free`]: power-of-two size classes from 16 bytes to 64 KiB with one free
//!   list each, for objects with an end (channels and their buffers, select scratch space);
//!   bigger blocks are mapped and unmapped directly.
//!
//! All of it is guarded by ordinary runtime locks: never call it from a signal handler.

use core::ptr;

use grt_arch::{MapFlags, ProtFlags};

use crate::lock::Lock;
use crate::sys;

/// Bytes mapped at a time for the bump allocators.
const CHUNK_SIZE: usize = 1 << 20;
/// Smallest size class, in bytes (and the alignment of every block).
const MIN_CLASS_SHIFT: usize = 4;
/// Largest size class: 64 KiB. Above this, blocks are their own mappings.
const MAX_CLASS_SHIFT: usize = 16;
const NCLASSES: usize = MAX_CLASS_SHIFT - MIN_CLASS_SHIFT + 1;

struct Bump {
    next: usize,
    end: usize,
}

impl Bump {
    fn take(&mut self, size: usize, align: usize) -> Option<usize> {
        let start = (self.next + align - 1) & !(align - 1);
        if start.checked_add(size)? > self.end || self.next == 0 {
            let len = CHUNK_SIZE.max(size + align);
            let base =
                sys::mmap_anon(len, ProtFlags::READ | ProtFlags::WRITE, MapFlags::empty()).ok()?;
            self.next = base;
            self.end = base + len;
            let start = (self.next + align - 1) & !(align - 1);
            self.next = start + size;
            return Some(start);
        }
        self.next = start + size;
        Some(start)
    }
}

struct Heap {
    bump: Bump,
    free: [usize; NCLASSES],
}

static PERSISTENT_LOCK: Lock = Lock::new();
static mut PERSISTENT: Bump = Bump { next: 0, end: 0 };
static HEAP_LOCK: Lock = Lock::new();
static mut HEAP: Heap = Heap {
    bump: Bump { next: 0, end: 0 },
    free: [0; NCLASSES],
};

/// Zeroed memory that is never freed; null if the system is out of memory.
pub fn persistentalloc(size: usize, align: usize) -> *mut u8 {
    #[cfg(feature = "testhooks")]
    crate::testhooks::on_alloc();
    PERSISTENT_LOCK.lock();
    // SAFETY: PERSISTENT is only touched with PERSISTENT_LOCK held.
    let r = unsafe { (*ptr::addr_of_mut!(PERSISTENT)).take(size, align.max(16)) };
    PERSISTENT_LOCK.unlock();
    // Fresh anonymous memory is zero, and bump memory is never reused.
    r.map_or(ptr::null_mut(), |a| a as *mut u8)
}

fn class_of(size: usize) -> Option<usize> {
    let shift = size
        .max(1 << MIN_CLASS_SHIFT)
        .next_power_of_two()
        .trailing_zeros() as usize;
    (shift <= MAX_CLASS_SHIFT).then(|| shift - MIN_CLASS_SHIFT)
}

/// `size` zeroed bytes, 16-byte aligned; null if out of memory. Free with [`free`] and the
/// same size.
pub fn alloc(size: usize) -> *mut u8 {
    #[cfg(feature = "testhooks")]
    crate::testhooks::on_alloc();
    let Some(c) = class_of(size) else {
        let page = crate::auxv::page_size();
        let Some(len) = size.checked_add(page - 1).map(|n| n & !(page - 1)) else {
            return ptr::null_mut();
        };
        return sys::mmap_anon(len, ProtFlags::READ | ProtFlags::WRITE, MapFlags::empty())
            .map_or(ptr::null_mut(), |a| a as *mut u8);
    };
    let csize = 1usize << (c + MIN_CLASS_SHIFT);
    HEAP_LOCK.lock();
    // SAFETY: HEAP is only touched with HEAP_LOCK held.
    let h = unsafe { &mut *ptr::addr_of_mut!(HEAP) };
    let p = if h.free[c] != 0 {
        let p = h.free[c];
        // SAFETY: a free block holds the next free block's address in its first word.
        h.free[c] = unsafe { *(p as *const usize) };
        // SAFETY: the block is ours now; clear what the free list and the last user left.
        unsafe { ptr::write_bytes(p as *mut u8, 0, csize) };
        p
    } else {
        h.bump.take(csize, 16).unwrap_or(0)
    };
    HEAP_LOCK.unlock();
    p as *mut u8
}

/// The test-only build's deliberately wrong allocation from a signal handler
/// (`GRTDEBUG=profalloc=1`): counted like any allocation, but it only try-locks the heap, so
/// the test that catches it fails with a message instead of deadlocking on a lock the
/// interrupted thread holds.
#[cfg(feature = "testhooks")]
pub fn alloc_from_handler_for_tests(size: usize) {
    crate::testhooks::on_alloc();
    if !HEAP_LOCK.try_lock() {
        return;
    }
    HEAP_LOCK.unlock();
    let _ = size;
}

/// Returns a block from [`alloc`].
///
/// # Safety
/// `p` came from `alloc(size)` and is not used afterwards.
pub unsafe fn free(p: *mut u8, size: usize) {
    if p.is_null() {
        return;
    }
    let Some(c) = class_of(size) else {
        let page = crate::auxv::page_size();
        // SAFETY: the block is its own mapping of this rounded length.
        unsafe { sys::munmap(p as usize, (size + page - 1) & !(page - 1)).ok() };
        return;
    };
    HEAP_LOCK.lock();
    // SAFETY: HEAP is only touched with HEAP_LOCK held; the block is free now.
    unsafe {
        let h = &mut *ptr::addr_of_mut!(HEAP);
        *(p as *mut usize) = h.free[c];
        h.free[c] = p as usize;
    }
    HEAP_LOCK.unlock();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_reuse_and_zero() {
        let a = alloc(100);
        assert!(!a.is_null());
        assert_eq!(a as usize % 16, 0);
        unsafe { a.write_bytes(0xAB, 100) };
        unsafe { free(a, 100) };
        let b = alloc(120);
        assert_eq!(a, b, "same class reuses the block");
        assert!(unsafe { core::slice::from_raw_parts(b, 128) }
            .iter()
            .all(|&x| x == 0));
        unsafe { free(b, 120) };
        let big = alloc(1 << 20);
        assert!(!big.is_null());
        unsafe { free(big, 1 << 20) };
        let p = persistentalloc(24, 64);
        assert_eq!(p as usize % 64, 0);
    }
}
