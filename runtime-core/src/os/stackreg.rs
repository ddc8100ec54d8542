//! Registry of the guard regions of every stack grt has mapped.
//!
//! Who touches it: `stack::alloc` / `stack::free` add and remove entries from ordinary code;
//! the SIGSEGV handler reads it to tell "a goroutine ran off the end of its stack" from any
//! other fault. So a reader must never block or loop without bound, and a writer may run at
//! any moment on another thread.
//!
//! Layout: `MAX_CHUNKS` lazily mmap'd chunks of `CHUNK_SLOTS` slots. A slot is one atomic word
//! that packs a whole entry (first guard page << 28 | guard pages << 20 | stack pages, in 4 KiB
//! units), so a reader sees either an entry or nothing, never half of two. Writers claim a free slot with a CAS from 0 and
//! release it with a store of 0; readers only load. A chunk, once published, is never unmapped.

use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use grt_arch::{MapFlags, ProtFlags};

use crate::sys;

const CHUNK_SLOTS: usize = 4096;
const MAX_CHUNKS: usize = 256;
/// Capacity: 1,048,576 stacks.
pub const CAPACITY: usize = CHUNK_SLOTS * MAX_CHUNKS;

const PAGE_SHIFT: usize = 12;
const STACK_BITS: usize = 20; // stacks up to 4 GiB
const GUARD_BITS: usize = 8; // guards up to 1020 KiB
const FIRST_SHIFT: usize = STACK_BITS + GUARD_BITS;

type Chunk = [AtomicUsize; CHUNK_SLOTS];

static CHUNKS: [AtomicPtr<Chunk>; MAX_CHUNKS] =
    [const { AtomicPtr::new(core::ptr::null_mut()) }; MAX_CHUNKS];
/// Where the next search for a free slot starts (a hint only).
static HINT: AtomicUsize = AtomicUsize::new(0);

/// A stack's mapping: the guard region `[lo, lo + len)` and the usable stack right above it,
/// `[lo + len, lo + len + stack_len)`. All page aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Guard {
    pub lo: usize,
    pub len: usize,
    pub stack_len: usize,
}

impl Guard {
    /// Bounds of the usable stack above the guard.
    pub fn stack_bounds(&self) -> (usize, usize) {
        (self.lo + self.len, self.lo + self.len + self.stack_len)
    }
}

fn pack(g: Guard) -> Option<usize> {
    let mask = (1 << PAGE_SHIFT) - 1;
    let (first, pages, stack) = (
        g.lo >> PAGE_SHIFT,
        g.len >> PAGE_SHIFT,
        g.stack_len >> PAGE_SHIFT,
    );
    let fits =
        first >> (64 - FIRST_SHIFT) == 0 && pages >> GUARD_BITS == 0 && stack >> STACK_BITS == 0;
    if (g.lo | g.len | g.stack_len) & mask != 0 || pages == 0 || stack == 0 || !fits {
        return None;
    }
    Some(first << FIRST_SHIFT | pages << STACK_BITS | stack)
}

fn unpack(w: usize) -> Guard {
    Guard {
        lo: (w >> FIRST_SHIFT) << PAGE_SHIFT,
        len: ((w >> STACK_BITS) & ((1 << GUARD_BITS) - 1)) << PAGE_SHIFT,
        stack_len: (w & ((1 << STACK_BITS) - 1)) << PAGE_SHIFT,
    }
}

fn chunk(i: usize, create: bool) -> Option<&'static Chunk> {
    let p = CHUNKS[i].load(Ordering::Acquire);
    if !p.is_null() {
        // SAFETY: published chunks are zero-initialised mmap'd memory, never unmapped.
        return Some(unsafe { &*p });
    }
    if !create {
        return None;
    }
    let bytes = core::mem::size_of::<Chunk>();
    let mem = sys::mmap_anon(bytes, ProtFlags::READ | ProtFlags::WRITE, MapFlags::empty()).ok()?
        as *mut Chunk;
    match CHUNKS[i].compare_exchange(
        core::ptr::null_mut(),
        mem,
        Ordering::AcqRel,
        Ordering::Acquire,
    ) {
        // SAFETY: we just published it; zeroed memory is a valid array of AtomicUsize(0).
        Ok(_) => Some(unsafe { &*mem }),
        Err(other) => {
            // SAFETY: our mapping was never published.
            unsafe { sys::munmap(mem as usize, bytes).ok() };
            // SAFETY: as above, for the winner's chunk.
            Some(unsafe { &*other })
        }
    }
}

/// Records a guard region. Returns its slot index, or None when the region cannot be encoded
/// or the registry is full.
pub fn register(g: Guard) -> Option<usize> {
    let w = pack(g)?;
    let start = HINT.load(Ordering::Relaxed) % CAPACITY;
    for n in 0..CAPACITY {
        let i = (start + n) % CAPACITY;
        let c = chunk(i / CHUNK_SLOTS, true)?;
        let slot = &c[i % CHUNK_SLOTS];
        if slot.load(Ordering::Relaxed) == 0
            && slot
                .compare_exchange(0, w, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            HINT.store(i + 1, Ordering::Relaxed);
            return Some(i);
        }
    }
    None
}

/// Removes the entry in `slot` if it still holds `g`.
pub fn unregister(slot: usize, g: Guard) -> bool {
    let (Some(w), Some(c)) = (pack(g), chunk(slot / CHUNK_SLOTS, false)) else {
        return false;
    };
    let ok = c[slot % CHUNK_SLOTS]
        .compare_exchange(w, 0, Ordering::AcqRel, Ordering::Relaxed)
        .is_ok();
    if ok {
        HINT.store(slot, Ordering::Relaxed);
    }
    ok
}

/// Is `g` registered in `slot`? (Validates handles passed in from C.)
pub fn holds(slot: usize, g: Guard) -> bool {
    match (pack(g), slot < CAPACITY) {
        (Some(w), true) => chunk(slot / CHUNK_SLOTS, false)
            .is_some_and(|c| c[slot % CHUNK_SLOTS].load(Ordering::Acquire) == w),
        _ => false,
    }
}

/// The registered stack whose guard region contains `addr`, if any. Async-signal-safe: loads only,
/// bounded by the number of published chunks.
pub fn find(addr: usize) -> Option<Guard> {
    for c in CHUNKS.iter() {
        let p = c.load(Ordering::Acquire);
        if p.is_null() {
            continue;
        }
        // SAFETY: published chunks are never unmapped.
        for slot in unsafe { &*p }.iter() {
            let w = slot.load(Ordering::Relaxed);
            if w != 0 {
                let g = unpack(w);
                if addr.wrapping_sub(g.lo) < g.len {
                    return Some(g);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_find_unregister() {
        let g = Guard {
            lo: 0x7000_0000_0000,
            len: 0x10000,
            stack_len: 0x40000,
        };
        assert_eq!(g.stack_bounds(), (0x7000_0001_0000, 0x7000_0005_0000));
        let slot = register(g).unwrap();
        assert!(holds(slot, g));
        assert_eq!(find(0x7000_0000_0000 + 0xfff8), Some(g));
        assert_eq!(find(0x7000_0000_0000 + 0x10000), None);
        assert!(unregister(slot, g));
        assert!(!holds(slot, g));
        assert_eq!(find(0x7000_0000_0000), None);
        assert!(!unregister(slot, g), "a second free is refused");
    }

    #[test]
    fn unaligned_or_empty_guards_are_refused() {
        assert_eq!(
            register(Guard {
                lo: 0x1001,
                len: 4096,
                stack_len: 4096
            }),
            None
        );
        assert_eq!(
            register(Guard {
                lo: 0x1000,
                len: 0,
                stack_len: 4096
            }),
            None
        );
        assert_eq!(
            register(Guard {
                lo: 0x1000,
                len: 4096,
                stack_len: 8 << 30
            }),
            None
        );
    }
}
