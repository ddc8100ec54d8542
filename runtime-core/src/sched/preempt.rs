//! Asynchronous preemption (opt-in: `GRTDEBUG=asyncpreempt=1`, or `grt_async_preempt(1)` in a
//! goroutine): a goroutine that runs past its time slice in a loop that never calls grt is
//! stopped by a signal and made to yield (Go 1.14's asyncPreempt, done the C way).
//!
//! # Algorithm
//!
//! 1. **Request** (sysmon, `proc::preempt_long_runner`): it marks the goroutine `G.preempt`
//!    as for cooperative time slices, and if asynchronous preemption is on for it, sets its
//!    M's `preempt_req` and sends the suspend signal (SIGURG) to the M's thread.
//! 2. **Decide** (the SIGURG handler, on the M's signal stack, [`try_preempt`]): it preempts
//!    only a goroutine interrupted where that is safe, and counts every refusal by reason
//!    (`grt_preempt_stats`):
//!    - the M's current goroutine, still marked, GRUNNING on its P, not in `grt_cgocall`,
//!      interrupted on its own stack;
//!    - not inside grt: `G.nopreempt` is 0 (every exported grt function holds a
//!      [`NoPreempt`] while it runs, and a goroutine's entry and exit run with it held), the
//!      pc is not in those functions themselves (the `grt_text` section: their prologues and
//!      epilogues run outside the guard) nor in grt's assembly (`arch::in_grt_asm`: the
//!      switch, the system-call entries, the stack-barrier trampoline, the stub); so no
//!      runtime lock, no M or P state half changed, no write in flight in the runtime's
//!      structures;
//!    - in the program's own code: the pc lies in the main executable (not libc or another
//!      shared object, whose locks and thread-specific state a move to another thread would
//!      break);
//!    - where the interrupted function keeps a frame record, or has not touched the frame
//!      pointer (a leaf loop without a frame, as gcc -O2 compiles it; a prologue; an
//!      epilogue), by its unwind table at pc (`frame_allows`): not code that keeps data in
//!      the frame pointer; and its return address is not a barrier's trampoline address (an
//!      epilogue in flight, which the collector's barrier removal could not see in a parked
//!      goroutine);
//!    - with room on the stack for the signal frame and the yield below the red zone.
//! 3. **Inject** (the same handler): the kernel's signal frame already holds every register
//!    (general, flags, the whole XSAVE area or v0-v31 with FPSR/FPCR, SVE state). The handler
//!    copies it onto the goroutine's own stack below the red zone (`arch::sigframe_extent`,
//!    `arch::relocate_sigframe`), writes a frame record {interrupted fp, interrupted pc}
//!    below it and the sp `rt_sigreturn` wants beside it, and points the signal return at
//!    the stub (`asm/<arch>/preempt.S`) with sp and fp at that record.
//! 4. **Yield** (the stub calls [`grt_async_preempt_impl`] on the goroutine's stack): with
//!    [`NoPreempt`] held, `mcall(Preempt)` puts the goroutine behind the global run queue.
//!    When it runs again, on whatever thread, it writes that thread's signal mask and
//!    alternate signal stack into the copy (so `rt_sigreturn` does not give this thread
//!    another thread's signal stack), and returns to the stub, which `rt_sigreturn`s from
//!    the copy: every register comes back, sp and pc the interrupted ones.
//!
//! # Walkers
//!
//! The stub's frame is a signal frame: walkers (`traceback::gentraceback`) that meet a pc or
//! a return address inside the stub (`arch::in_async_preempt`) go on from the registers in
//! the moved ucontext, as from a signal (the interrupted pc, then its caller by the first-step
//! rules, then the chain): the stub never shows in a walk. The collector's barrier placement
//! stops at a return into the stub
//! (`stkbar::Proof`), so no barrier is ever placed in the stub's record (it is never
//! returned through). The collector scans the frame copy conservatively with the rest of the
//! stack: every register of the preempted code is a root.
//!
//! # What it does not cover
//!
//! C code that keeps a thread's identity across instructions (a TLS address or
//! `__errno_location()`'s result kept in a register, a thread-owned lock) breaks when its
//! goroutine moves threads at an arbitrary instruction: that is why it is opt-in, and per
//! goroutine. State the kernel does not put in a signal frame is not preserved either.

use core::ffi::c_void;
use core::sync::atomic::{AtomicU64, Ordering};

use grt_arch as arch;

use crate::runtime2::*;
use crate::{proc, stkbar, sys};

/// Bytes a preemption needs below the moved signal frame: the impl's frames and `mcall`.
const YIELD_ROOM: usize = 16 * 1024;
/// The largest signal frame it moves (AVX-512 state is about 2.7 KiB, arm64's with SVE at
/// 2048-bit vectors about 10 KiB).
const MAX_SIGFRAME: usize = 32 * 1024;

/// Counters of `grt_preempt_stats`.
pub struct Stats {
    pub requests: AtomicU64,
    pub preempted: AtomicU64,
    pub refused_runtime: AtomicU64,
    pub refused_foreign: AtomicU64,
    pub refused_frame: AtomicU64,
    pub refused_room: AtomicU64,
    pub refused_stale: AtomicU64,
}

pub static STATS: Stats = Stats {
    requests: AtomicU64::new(0),
    preempted: AtomicU64::new(0),
    refused_runtime: AtomicU64::new(0),
    refused_foreign: AtomicU64::new(0),
    refused_frame: AtomicU64::new(0),
    refused_room: AtomicU64::new(0),
    refused_stale: AtomicU64::new(0),
};

/// `G.async_preempt` values: follow `GRTDEBUG=asyncpreempt`, or the goroutine's own choice.
pub const ASYNC_DEFAULT: u32 = 0;
pub const ASYNC_ON: u32 = 1;
pub const ASYNC_OFF: u32 = 2;

/// Whether asynchronous preemption is on for `g`.
pub fn enabled_for(g: &G) -> bool {
    match g.async_preempt.load(Ordering::Relaxed) {
        ASYNC_ON => true,
        ASYNC_OFF => false,
        _ => crate::debug::get().asyncpreempt,
    }
}

/// Held while grt's own code runs on a goroutine's stack: the goroutine is not preempted
/// asynchronously meanwhile. Per G (a goroutine that parks inside grt resumes on another M
/// with its count). A no-op on threads that run no goroutine.
pub struct NoPreempt(*const G);

impl NoPreempt {
    #[inline(always)]
    pub fn enter() -> NoPreempt {
        let gp = proc::getg();
        // SAFETY: the TLS g is null or a live G (Gs are never freed); the count is this
        // goroutine's, changed only by its own thread (and read by that thread's handler).
        if let Some(g) = unsafe { gp.as_ref() } {
            enter_runtime(g);
        }
        NoPreempt(gp)
    }
}

impl Drop for NoPreempt {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: as in enter; the same G (a goroutine keeps its G across Ms).
        if let Some(g) = unsafe { self.0.as_ref() } {
            leave_runtime(g);
        }
    }
}

// The count is changed only by the goroutine's own thread and read by that thread's signal
// handler: a plain load and store, no read-modify-write (on aarch64 that would be a call
// to compiler-builtins' outline atomics, code outside grt_text that runs after the count
// has dropped), with compiler fences against moving grt's work across them.

/// A goroutine's entry is about to call the program's function: its own code from here.
#[inline(always)]
pub fn leave_runtime(g: &G) {
    core::sync::atomic::compiler_fence(Ordering::SeqCst);
    let n = g.nopreempt.load(Ordering::Relaxed);
    g.nopreempt.store(n.wrapping_sub(1), Ordering::Relaxed);
}

/// The program's function returned: grt's code again (until the goroutine is reused).
#[inline(always)]
pub fn enter_runtime(g: &G) {
    let n = g.nopreempt.load(Ordering::Relaxed);
    g.nopreempt.store(n + 1, Ordering::Relaxed);
    core::sync::atomic::compiler_fence(Ordering::SeqCst);
}

/// Step 1 (sysmon, just after marking `g` for its time slice): asks `m`, which runs `g`, to
/// preempt it if asynchronous preemption is on for it.
pub fn request(m: &M, g: &G) {
    if !enabled_for(g) {
        return;
    }
    let tid = m.procid.load(Ordering::Acquire) as i32;
    if tid == 0 {
        return;
    }
    STATS.requests.fetch_add(1, Ordering::Relaxed);
    m.preempt_req.store(1, Ordering::Release);
    let _ = sys::tgkill(sys::getpid(), tid, crate::suspend::SIGURG);
}

/// Test-only (`grt_test_preempt`): marks the goroutine `m` runs and asks for it at once.
#[cfg(feature = "testhooks")]
pub fn request_now(m: &M) -> bool {
    // SAFETY: Gs are never freed.
    let Some(g) = (unsafe { m.curg.load(Ordering::Acquire).as_ref() }) else {
        return false;
    };
    g.preempt.store(true, Ordering::Relaxed);
    request(m, g);
    true
}

fn refuse(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

extern "C" {
    /// The bounds of the `grt_text` section (the linker provides them for a section whose
    /// name is a C identifier): every exported grt function, and the other Rust functions
    /// C or grt's assembly enters (a goroutine's entry, the system-call and preemption
    /// halves), are placed there (`#[link_section = "grt_text"]`).
    static __start_grt_text: u8;
    static __stop_grt_text: u8;
}

/// Whether `pc` lies in an entry point of grt's Rust code: there a goroutine may be in its
/// prologue before [`NoPreempt`] is taken, or in its epilogue after it is dropped. (What they
/// call runs with it held.)
fn in_grt_text(pc: usize) -> bool {
    // SAFETY: only the addresses of the linker's symbols are taken.
    let (lo, hi) = unsafe {
        (
            &__start_grt_text as *const u8 as usize,
            &__stop_grt_text as *const u8 as usize,
        )
    };
    pc >= lo && pc < hi
}

/// Whether the function interrupted at `pc` (sp, link register `lr`) is in a state every
/// walker can go on from: it keeps a frame record at pc, or has not touched the frame
/// pointer (a leaf without a frame, a prologue or epilogue: the register is its caller's),
/// and its return address, where the unwind table puts it, is not a barrier's trampoline
/// (an epilogue that reloaded a barriered slot: the collector's barrier removal could not
/// see it in a parked goroutine). Not code that keeps data in the frame pointer.
fn frame_allows(pc: usize, sp: usize, fp: usize, lr: Option<usize>, hi: usize) -> bool {
    use crate::unwind::{frame_at_pc_for_walk, rule_for_walk, Frame};
    let tramp = stkbar::stack_barrier_pc();
    if lr == Some(tramp) {
        return false;
    }
    match frame_at_pc_for_walk(pc) {
        // A record saved, and the frame pointer pointing into this frame: not aarch64's
        // window between `stp x29, x30, [sp, #-n]!` and `mov x29, sp`, where the table
        // already says "record" and x29 is still the caller's (the corpus met it: a sibling
        // callee preempted there lost its caller in the walk).
        (Frame::Record, _) => match rule_for_walk(pc, true) {
            Some(r) if r.cfa_from_fp => true,
            Some(r) => sp
                .checked_add_signed(r.cfa_off as isize)
                .is_some_and(|cfa| fp < cfa),
            None => false,
        },
        // The return address where the row puts it (the walkers' own reading).
        (Frame::CallersFp, ra) => {
            crate::traceback::located_return(ra, sp, lr, sp, hi).is_some_and(|r| r != tramp)
        }
        _ => false,
    }
}

/// Steps 2 and 3: from the SIGURG handler on `m`'s thread, which took a preemption request;
/// `info` and `uc` are its arguments. Async-signal-safe: no allocation, no lock, bounded.
///
/// # Safety
/// A signal handler's own arguments, on the thread of `m`.
pub unsafe fn try_preempt(m: &M, info: *mut c_void, uc: *mut c_void) {
    let gp = m.curg.load(Ordering::Acquire);
    // SAFETY: Gs are never freed.
    let Some(g) = (unsafe { gp.as_ref() }) else {
        return refuse(&STATS.refused_stale);
    };
    if !g.preempt.load(Ordering::Relaxed) {
        // It yielded (or was rescheduled) since the request.
        return refuse(&STATS.refused_stale);
    }
    if proc::getg() != gp
        || g.status() != GRUNNING
        || m.p.is_null()
        || m.incgo.load(Ordering::Relaxed)
        || g.nopreempt.load(Ordering::Relaxed) != 0
    {
        return refuse(&STATS.refused_runtime);
    }
    // SAFETY: the handler's ucontext.
    let (pc, sp, fp, lr) = unsafe {
        (
            arch::uc_pc(uc),
            arch::uc_sp(uc),
            arch::uc_fp(uc),
            arch::uc_lr(uc),
        )
    };
    let (lo, hi) = (g.stack.lo, g.stack.hi);
    // Test-only: the checks of where the pc is, and of its frame, are off
    // (sched_async_refuse_teeth).
    let anywhere = cfg!(feature = "testhooks") && crate::debug::get().asyncpreemptanywhere;
    if sp <= lo || sp > hi || ((arch::in_grt_asm(pc) || in_grt_text(pc)) && !anywhere) {
        return refuse(&STATS.refused_runtime);
    }
    if !crate::unwind::in_main_image(pc) && !anywhere {
        return refuse(&STATS.refused_foreign);
    }
    if (!frame_allows(pc, sp, fp, lr, hi) && !anywhere) || fp < sp || fp >= hi {
        return refuse(&STATS.refused_frame);
    }
    // SAFETY: the kernel's frame for this handler.
    let Some((start, end)) = (unsafe { arch::sigframe_extent(info, uc) }) else {
        return refuse(&STATS.refused_room);
    };
    let len = end - start;
    let align = arch::SIGFRAME_ALIGN;
    let top = sp - arch::RED_ZONE;
    // The copy moves by a multiple of the frame's alignment; the record and the sigreturn
    // sp (16 bytes each) below it, 16-byte aligned.
    let Some(dest) = top
        .checked_sub(len + start % align)
        .map(|d| (d & !(align - 1)) + start % align)
    else {
        return refuse(&STATS.refused_room);
    };
    let record = (dest - 32) & !15;
    if len > MAX_SIGFRAME || record < lo + YIELD_ROOM {
        return refuse(&STATS.refused_room);
    }
    // SAFETY: [dest, dest + len) and [record, record + 32) lie on the goroutine's own stack
    // below its red zone, free (below sp); the source is this handler's frame.
    unsafe {
        core::ptr::copy_nonoverlapping(start as *const u8, dest as *mut u8, len);
        arch::relocate_sigframe(dest, start);
        let r = record as *mut usize;
        r.add(arch::FRAME_SAVED_FP_OFF / 8).write(fp);
        r.add(arch::FRAME_RET_OFF / 8).write(pc);
        // The sp rt_sigreturn wants: the ucontext (x86_64) or the frame's start (aarch64).
        r.add(2)
            .write(dest + arch::SIGFRAME_UC_OFF - arch::SIGRETURN_SP_TO_UC);
        r.add(3).write(0);
        arch::set_uc_entry(uc, arch::async_preempt_pc(), record);
    }
    STATS.preempted.fetch_add(1, Ordering::Relaxed);
    #[cfg(feature = "testhooks")]
    crate::testhooks::preempted_at(pc);
}

/// Step 4: called by the stub on the preempted goroutine's stack with its frame record.
///
/// # Safety
/// Only the stub calls it, with the record [`try_preempt`] wrote.
#[no_mangle]
#[link_section = "grt_text"]
pub unsafe extern "C" fn grt_async_preempt_impl(record: usize) {
    let _np = NoPreempt::enter();
    proc::async_preempt_yield();
    // On the thread that runs the goroutine now: its mask and signal stack go into the copy.
    // SAFETY: the word beside the record is the sp rt_sigreturn will take; the ucontext
    // copy lies at the offset the architecture gives from it.
    unsafe {
        let uc = (*((record + 16) as *const usize) + arch::SIGRETURN_SP_TO_UC) as *mut c_void;
        let (mask, stack) = arch::uc_mask_and_stack(uc);
        crate::signals::current_mask_and_altstack(mask, stack);
        #[cfg(feature = "testhooks")]
        if crate::debug::get().asyncpreemptclobber {
            // The deliberate bug (sched_async_regs_teeth): one register not restored.
            let (gregs, _) = arch::uc_gregs(uc);
            let r = gregs as *mut usize;
            r.write(r.read() ^ 0x5a5a);
        }
    }
}

/// `int grt_async_preempt(int on)`: asynchronous preemption for the calling goroutine.
pub fn set_for_current(on: i32) -> Result<i32, ()> {
    // SAFETY: the TLS g is null or a live G.
    let g = unsafe { proc::getg().as_ref() }.ok_or(())?;
    let prev = enabled_for(g) as i32;
    g.async_preempt.store(
        if on != 0 { ASYNC_ON } else { ASYNC_OFF },
        Ordering::Relaxed,
    );
    Ok(prev)
}

/// What `grt_preempt_stats` copies out.
#[repr(C)]
pub struct CStats {
    pub requests: u64,
    pub preempted: u64,
    pub refused_runtime: u64,
    pub refused_foreign: u64,
    pub refused_frame: u64,
    pub refused_room: u64,
    pub refused_stale: u64,
}

pub fn snapshot() -> CStats {
    let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
    CStats {
        requests: l(&STATS.requests),
        preempted: l(&STATS.preempted),
        refused_runtime: l(&STATS.refused_runtime),
        refused_foreign: l(&STATS.refused_foreign),
        refused_frame: l(&STATS.refused_frame),
        refused_room: l(&STATS.refused_room),
        refused_stale: l(&STATS.refused_stale),
    }
}
