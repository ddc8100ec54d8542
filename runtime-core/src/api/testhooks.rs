//! The test-only build (`--features testhooks`): what tests need to see inside the runtime,
//! and knobs that switch a protection off so a test can be seen to fail without it.
//!
//! - `grt_test_in_sigprof()`: 1 while the calling thread runs grt's SIGPROF handler, so a C
//!   test that wraps malloc can count allocations made from inside it;
//! - `grt_test_sigprof_allocs()`: rtalloc calls made from inside the handler;
//! - `GRTDEBUG=profalloc=1`: the handler allocates (and frees) one block per sample, to show
//!   that the test above catches an allocating handler;
//! - `grt_test_stkbar_install/_hits/_remove()`: stack barriers on the calling goroutine's own
//!   frames, with the collector's code, so a test can return through the trampoline on
//!   purpose (tests/c/gc_retvals.c); `grt_test_stkbar_jumps()`, `grt_test_rescan_limit()`:
//!   what the trampoline passed over, where a rescan would stop (tests/c/gc_jump.c,
//!   gc_longjmp_limit.c);
//! - `GRTDEBUG=gcnostacklock=1` (stkbar.rs): nobody takes `G.stack_lock`.
//! - `grt_test_preempt(goid)`: asks for an asynchronous preemption of a running goroutine
//!   now (as sysmon does after a time slice); `grt_test_preempted_pcs(out, n)`: the last pcs
//!   goroutines were preempted at (preempt.rs), so a test can check where that happened.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::{debug, proc, rtalloc};

static SIGPROF_ALLOCS: AtomicU64 = AtomicU64::new(0);
static PROFALLOC: AtomicBool = AtomicBool::new(false);

static NO_STUB_WALK: AtomicBool = AtomicBool::new(false);

/// Read the knobs (ordinary code, at profiler start).
pub fn init() {
    PROFALLOC.store(debug::get().profalloc, Ordering::Relaxed);
    NO_STUB_WALK.store(debug::get().asyncpreemptnowalk, Ordering::Relaxed);
}

/// `GRTDEBUG=asyncpreemptnowalk=1` (read at profiler start): see traceback.rs.
pub fn no_stub_walk() -> bool {
    NO_STUB_WALK.load(Ordering::Relaxed)
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
#[link_section = "grt_text"]
pub extern "C" fn grt_test_in_sigprof() -> i32 {
    in_handler() as i32
}

#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_test_sigprof_allocs() -> u64 {
    SIGPROF_ALLOCS.load(Ordering::Relaxed)
}

fn own_g() -> Option<&'static mut crate::runtime2::G> {
    proc::current_user_g("grt_test_stkbar").ok()?;
    // SAFETY: our own G (checked above); its barriers change only under its stack lock,
    // which the callers take.
    Some(unsafe { &mut *proc::getg() })
}

/// Installs a barrier in the return slot of every frame of the calling goroutine from the
/// caller's own record up (the goroutine's outermost record excepted), as many as its array
/// holds, lowest first. Returns how many.
#[no_mangle]
#[link_section = "grt_text"]
#[inline(never)]
pub extern "C" fn grt_test_stkbar_install() -> i32 {
    let Some(g) = own_g() else {
        return crate::errors::GRT_ENOTG;
    };
    let fp = grt_arch::frame_pointer();
    crate::stkbar::gc_lock_stack_barriers(g);
    let mut proof = crate::stkbar::Proof::new(false);
    crate::stkbar::gc_remove_stack_barriers(g, fp, fp, None, None, &mut proof);
    // Our own record (the innermost) is skipped: the first barrier is the caller's return.
    let mut proof = crate::stkbar::Proof::new(false);
    let r = crate::stkbar::gc_install_stack_barriers(g, fp, fp, true, true, &mut proof);
    crate::stkbar::gc_unlock_stack_barriers(g);
    r.barriers as i32
}

/// How many of the calling goroutine's barriers were hit.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_test_stkbar_hits() -> i32 {
    own_g().map_or(crate::errors::GRT_ENOTG, |g| g.stkbar_pos as i32)
}

/// How many barriers the calling goroutine's trampoline passed over because a jump had
/// skipped their frames (`G.stkbar_jumps`, not reset).
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_test_stkbar_jumps() -> i32 {
    own_g().map_or(crate::errors::GRT_ENOTG, |g| g.stkbar_jumps as i32)
}

/// Where mark termination's rescan of the calling goroutine would stop if it were stopped
/// right here (`stkbar::rescan_limit` from this hook's own frame), or 0 when the frame chain
/// cannot tell (the whole stack would be rescanned).
#[no_mangle]
#[link_section = "grt_text"]
#[inline(never)]
pub extern "C" fn grt_test_rescan_limit() -> usize {
    let Some(g) = own_g() else {
        return 0;
    };
    let fp = grt_arch::frame_pointer();
    crate::stkbar::gc_lock_stack_barriers(g);
    let mut proof = crate::stkbar::Proof::new(false);
    let (limit, unknown) = crate::stkbar::rescan_limit(g, fp, fp, None, &mut proof);
    crate::stkbar::gc_unlock_stack_barriers(g);
    if unknown {
        0
    } else {
        limit
    }
}

/// How many of `GRTDEBUG=gcrootswiden=1`'s windows have opened (the collector asleep after
/// its first read of the roots, then after its re-read of the data and bss written since),
/// in all: gc_rootwp_widen stores into its globals inside them.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_test_roots_windows() -> u64 {
    crate::mgc::ROOTS_WINDOWS.load(core::sync::atomic::Ordering::Acquire)
}

/// How many of `GRTDEBUG=gcfinpasswiden=1`'s windows have opened (the collector asleep after
/// its concurrent pass over the finalizable objects, before mark termination), in all:
/// gc_finalizer_contents sets finalizers inside them.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_test_fin_pass_windows() -> u64 {
    crate::mfinal::FIN_PASS_WINDOWS.load(core::sync::atomic::Ordering::Acquire)
}

/// How many times an M found the goroutine it was to run held by grt_suspend and set it
/// aside (tests/c/suspend_setaside.c).
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_test_set_asides() -> u64 {
    proc::SET_ASIDES.load(Ordering::Relaxed)
}

/// Removes the calling goroutine's barriers not yet hit; returns how many were left.
#[no_mangle]
#[link_section = "grt_text"]
#[inline(never)]
pub extern "C" fn grt_test_stkbar_remove() -> i32 {
    let Some(g) = own_g() else {
        return crate::errors::GRT_ENOTG;
    };
    crate::stkbar::gc_lock_stack_barriers(g);
    let left = g.stkbar_len.saturating_sub(g.stkbar_pos);
    let fp = grt_arch::frame_pointer();
    let mut proof = crate::stkbar::Proof::new(false);
    crate::stkbar::gc_remove_stack_barriers(g, fp, fp, None, None, &mut proof);
    crate::stkbar::gc_unlock_stack_barriers(g);
    left as i32
}

// ---- asynchronous preemption ----------------------------------------------------------------

/// The last pcs goroutines were preempted at (a ring, written by the preemption handler).
const PREEMPT_PCS: usize = 256;
static PREEMPTED_PCS: [AtomicU64; PREEMPT_PCS] = [const { AtomicU64::new(0) }; PREEMPT_PCS];
static PREEMPTED_N: AtomicU64 = AtomicU64::new(0);

/// From the preemption handler: goroutine preempted at `pc`.
pub fn preempted_at(pc: usize) {
    let i = PREEMPTED_N.fetch_add(1, Ordering::Relaxed) as usize % PREEMPT_PCS;
    PREEMPTED_PCS[i].store(pc as u64, Ordering::Relaxed);
}

/// Copies up to `n` of the last preempted pcs into `out`; returns how many.
///
/// # Safety
/// `out` must have room for `n` words.
#[no_mangle]
#[link_section = "grt_text"]
pub unsafe extern "C" fn grt_test_preempted_pcs(out: *mut u64, n: i32) -> i32 {
    let total = (PREEMPTED_N.load(Ordering::Relaxed) as usize).min(PREEMPT_PCS);
    let k = total.min(n.max(0) as usize);
    for (i, slot) in PREEMPTED_PCS[..k].iter().enumerate() {
        // SAFETY: the caller's buffer has room for n >= k words.
        unsafe { out.add(i).write(slot.load(Ordering::Relaxed)) };
    }
    k as i32
}

/// Asks for an asynchronous preemption of goroutine `goid` if it is running (its M gets the
/// suspend signal; the handler decides as for a time slice). 0 if asked, -1 if it is not
/// running, -2 if asynchronous preemption is off for it.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_test_preempt(goid: u64) -> i32 {
    let Some(g) = proc::findg(goid) else {
        return -1;
    };
    if !crate::preempt::enabled_for(g) {
        return -2;
    }
    let m = g.m.load(Ordering::Acquire);
    // SAFETY: Ms are never freed.
    match unsafe { m.as_ref() } {
        Some(m) if m.curg.load(Ordering::Acquire) == g as *const _ as *mut _ => {
            if crate::preempt::request_now(m) {
                0
            } else {
                -1
            }
        }
        _ => -1,
    }
}
