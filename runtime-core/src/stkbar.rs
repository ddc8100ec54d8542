//! Stack-barrier sizing. The barriers themselves (installing, removing, the trampoline,
//! `stack_lock`) come with the garbage collector; what exists now is the storage every
//! goroutine stack reserves for them, so installing a barrier never needs an allocation.

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
