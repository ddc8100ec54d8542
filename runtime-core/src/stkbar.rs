//! Stack barriers: sizing, and `G.stack_lock`.
//!
//! The barriers themselves (installing, removing, the trampoline) come with the garbage
//! collector; what exists now is the storage every goroutine stack reserves for them, so
//! installing a barrier never needs an allocation, and the lock that keeps the profiler's
//! walk away from a stack whose barriers are being changed (the seeds).
//!
//! `stack_lock` (Go's gcLockStackBarriers / gcTryLockStackBarriers / gcUnlockStackBarriers):
//! 0 free, 1 held. The GC will take it with a CAS and spin with sched_yield, in ordinary code
//! only. The SIGPROF handler only ever calls [`gc_try_lock_stack_barriers`], once, on exactly
//! the G whose stack it is about to walk, and never spins: the holder may be the very thread
//! it interrupted, which cannot run until the handler returns.

use core::sync::atomic::Ordering;

use crate::runtime2::G;

/// One attempt to take `gp`'s stack lock (acquire). Async-signal-safe, never waits.
#[inline]
pub fn gc_try_lock_stack_barriers(gp: &G) -> bool {
    gp.stack_lock
        .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
        .is_ok()
}

/// Releases the lock taken by [`gc_try_lock_stack_barriers`].
#[inline]
pub fn gc_unlock_stack_barriers(gp: &G) {
    gp.stack_lock.store(0, Ordering::Release);
}

/// Offset from sp of the first barrier; later ones at 2x, 4x, ... (Go 1.6's
/// `firstStackBarrierOffset`), in bytes.
pub const FIRST_STACK_BARRIER_OFFSET: usize = 1024;

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

#[cfg(test)]
mod tests {
    #[test]
    fn counts_doublings() {
        assert_eq!(super::max_stack_barriers(1024), 1);
        assert_eq!(super::max_stack_barriers(256 * 1024), 9);
    }
}
