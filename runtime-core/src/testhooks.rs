//! The test-only build (`--features testhooks`): what tests need to see inside the runtime,
//! and knobs that switch a protection off so a test can be seen to fail without it.
//!
//! - `grt_test_in_sigprof()`: 1 while the calling thread runs grt's SIGPROF handler, so a C
//!   test that wraps malloc can count allocations made from inside it;
//! - `grt_test_sigprof_allocs()`: rtalloc calls made from inside the handler;
//! - `GRTDEBUG=profalloc=1`: the handler allocates (and frees) one block per sample, to show
//!   that the test above catches an allocating handler.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::{debug, proc, rtalloc};

static SIGPROF_ALLOCS: AtomicU64 = AtomicU64::new(0);
static PROFALLOC: AtomicBool = AtomicBool::new(false);

/// Read the knobs (ordinary code, at profiler start).
pub fn init() {
    PROFALLOC.store(debug::get().profalloc, Ordering::Relaxed);
}

fn in_handler() -> bool {
    // SAFETY: the TLS m slot is null or this thread's own M.
    unsafe { proc::getm().as_ref() }.is_some_and(|m| m.in_sigprof.load(Ordering::Relaxed))
}

/// Called by rtalloc on every allocation.
pub fn on_alloc() {
    if in_handler() {
        SIGPROF_ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
}

/// Called by the handler while it records a sample.
pub fn in_sigprof() {
    if PROFALLOC.load(Ordering::Relaxed) {
        // The deliberate bug: allocate from a signal handler.
        rtalloc::alloc_from_handler_for_tests(64);
    }
}

#[no_mangle]
pub extern "C" fn grt_test_in_sigprof() -> i32 {
    in_handler() as i32
}

#[no_mangle]
pub extern "C" fn grt_test_sigprof_allocs() -> u64 {
    SIGPROF_ALLOCS.load(Ordering::Relaxed)
}
