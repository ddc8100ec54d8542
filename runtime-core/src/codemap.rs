//! The code mappings of the process (see `Mapping::may_hold_code`), snapshotted from /proc/self/maps in ordinary code
//! so that a signal handler can ask "is this address code?" without a system call.
//!
//! The profiler takes a snapshot when it starts. The handler uses it to decide whether an
//! interrupted pc is known code (else the sample's leaf is `grt.ExternalCode`) and how far back
//! from pc the instructions may be read (`arch::frameless_return`). Code mapped later (dlopen)
//! is simply not known until the next snapshot.
//!
//! Who touches what: [`snapshot`] writes the table, then publishes its length with a release
//! store; it runs only while no handler reads the table (the profiler is stopped, with no
//! handler in flight). Readers load the length with acquire and read that many entries.

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::maps;

/// Executable mappings kept; later ones are not known.
pub const MAX_RANGES: usize = 512;

struct Table(core::cell::UnsafeCell<[(usize, usize); MAX_RANGES]>);
// SAFETY: written only while no reader runs (module comment), then published by LEN.
unsafe impl Sync for Table {}

static TABLE: Table = Table(core::cell::UnsafeCell::new([(0, 0); MAX_RANGES]));
static LEN: AtomicUsize = AtomicUsize::new(0);

/// Re-reads the executable mappings. Ordinary code only, while no handler uses the table.
pub fn snapshot() {
    LEN.store(0, Ordering::Release);
    let mut n = 0;
    // SAFETY: no reader runs (module comment); we are the only writer.
    let t = unsafe { &mut *TABLE.0.get() };
    maps::for_each(|m| {
        if m.may_hold_code() && n < MAX_RANGES {
            t[n] = (m.start, m.end);
            n += 1;
        }
        n < MAX_RANGES
    });
    // /proc/self/maps is sorted by address; keep that as an invariant for the search.
    t[..n].sort_unstable();
    LEN.store(n, Ordering::Release);
}

/// The executable, readable mapping `[lo, hi)` that holds `addr`. Async-signal-safe.
pub fn find(addr: usize) -> Option<(usize, usize)> {
    let n = LEN.load(Ordering::Acquire);
    // SAFETY: the first n entries were published by the release store of LEN.
    let t = unsafe { &(&*TABLE.0.get())[..n] };
    // Binary search (no allocation, at most log2(MAX_RANGES) steps).
    let i = t.partition_point(|&(lo, _)| lo <= addr);
    (i > 0 && addr < t[i - 1].1).then(|| t[i - 1])
}

/// Whether `[addr, addr + len)` lies inside one known code mapping.
pub fn contains(addr: usize, len: usize) -> bool {
    find(addr).is_some_and(|(_, hi)| addr.checked_add(len).is_some_and(|e| e <= hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_our_own_code_and_not_the_stack() {
        snapshot();
        let pc = finds_our_own_code_and_not_the_stack as *const () as usize;
        assert!(find(pc).is_some());
        assert!(contains(pc, 4));
        let local = 0u64;
        assert!(find(&local as *const u64 as usize).is_none());
        assert!(find(0).is_none());
    }
}
