//! The per-architecture layer of grt.
//!
//! One module per architecture (`x86_64.rs`, `aarch64.rs`) with the same interface; the rest
//! of the runtime (`runtime-core`) is written against that interface only and never names an
//! architecture. The interface:
//!
//! | item | what it is |
//! |---|---|
//! | [`Context`], [`grt_context_switch`], `init_context`, `parked_frame_pointer`, `PARKED_SP_MOD16` | the saved context: a stack pointer to a switch frame laid out by `asm/<arch>/context.S`; `grt_context_switch` keeps the whole psABI promise (C API) |
//! | `switch` ([`grt_switch_core`]) | the runtime's own switch, inlined: the compiler saves the live callee-saved registers, the core saves the rest of a frame record; FP control words not included |
//! | `current_control_words`, `set_control_words`, `CONTROL_WORDS_MASK` | the FP control state a goroutine may change (x86_64 MXCSR + x87 CW, aarch64 FPCR), carried per goroutine by the scheduler |
//! | `syscall0` .. `syscall6` | raw system calls (`asm!`) |
//! | [`grt_clone`], [`CloneFlags::NEW_THREAD`] | raw thread creation (`asm/<arch>/thread.S`) |
//! | `getg`/`setg`, `getm`/`setm`, `set_thread_pointer`, `TLS_*` | the current g and m, through the initial-exec TLS object `grt_tls` that assembly reads too |
//! | [`read_frame_record`], [`return_address_slot`] | one frame-pointer step: saved fp and return address at a frame pointer |
//! | `frameless_return`, [`RetLoc`] | the first step from a signal: where a function that has no frame record at pc keeps its return address |
//! | `UContext`, `uc_pc`/`uc_sp`/`uc_fp`/`uc_lr`/`uc_lr_slot`, `uc_gregs` | the interrupted registers in a signal handler's ucontext, offsets asserted at compile time; `uc_gregs` all general registers, for conservative scanning |
//! | `RED_ZONE` | bytes below sp a leaf may use without moving sp: the collector scans an interrupted thread's stack from `sp - RED_ZONE` |
//! | [`grt_stack_barrier`], [`stack_barrier_pc`], [`in_stack_barrier`], [`stack_barrier_counted`] | the stack-barrier trampoline (`asm/<arch>/stkbar.S`) |
//! | [`grt_async_preempt_stub`], [`in_async_preempt`], [`in_grt_asm`], `sigframe_extent`, `relocate_sigframe`, `set_uc_entry`, `uc_mask_and_stack`, `SIGRETURN_SP_TO_UC`, `SIGFRAME_UC_OFF`, `SIGFRAME_ALIGN` | asynchronous preemption: the stub (`asm/<arch>/preempt.S`) and moving the kernel's signal frame onto a goroutine's stack |
//! | [`NSYSCALLREGS`], `grt_entersyscall`/`grt_cgocall` (asm only) | the callee-saved registers `asm/<arch>/syscall.S` hands the runtime at a system call |
//! | [`grt_sigreturn`], [`grt_sigtramp`] | the signal restorer (byte-identical to glibc's) and the handler trampoline |
//! | `cputicks`, `cpu_relax`, `frame_pointer`, `MINSIGSTKSZ`, `SIGSTKSZ` | small per-CPU facts |
//! | `CPUINFO_FOREIGN_MARKER` | a /proc/cpuinfo field only the other architecture's kernel writes: seen, the process runs under a user-mode emulator |
//! | `EpollEvent` | `struct epoll_event`, whose layout differs (packed on x86_64) |

#![no_std]

use core::ffi::c_void;

pub mod flags;
pub use flags::{CloneFlags, MapFlags, ProtFlags, SaFlags};

#[cfg(target_arch = "x86_64")]
#[path = "x86_64.rs"]
mod imp;

#[cfg(target_arch = "aarch64")]
#[path = "aarch64.rs"]
mod imp;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("grt supports x86_64 and aarch64 only");

pub use imp::*;

/// Words of the register block `grt_entersyscall` / `grt_cgocall` pass to
/// `grt_entersyscall_impl` / `grt_cgocall_enter` (and of `G.syscallregs`): the caller's
/// callee-saved registers at the call, then `grt_cgocall`'s argument, zero-padded. x86_64:
/// rbx, r12-r15, arg, 0 x 6; aarch64: x19-x28, arg, 0. From `asm/common/goffsets.h`.
pub use imp::asm_consts::NSYSCALLREGS;

/// Linux syscall numbers of the target architecture.
pub use linux_raw_sys::general as nr;

/// A parked execution context: the stack pointer of its switch frame (see the diagram at the top
/// of `asm/<arch>/context.S`). `#[repr(C)]` and the same as C's `struct grt_context`.
#[repr(C)]
#[derive(Debug, Default)]
pub struct Context {
    pub sp: usize,
}

/// The entry function of a new context (C ABI).
pub type EntryFn = unsafe extern "C" fn(arg: *mut c_void);

extern "C" {
    /// Saves the callee-saved state of the running code in a switch frame on its own stack,
    /// stores that stack pointer in `from`, and resumes the context parked in `to`.
    /// Returns when something switches back to `from`.
    pub fn grt_context_switch(from: *mut Context, to: *const Context);
    /// The runtime's switch (see `switch`): saves only the return point, the frame pointer
    /// and the one register inline asm cannot declare clobbered (x86_64 rbx, aarch64 x19),
    /// parks into `from` and resumes `to`. Entered only by a call from `switch`, and from
    /// `grt_context_switch`, which saves the rest of the psABI's callee-saved state first.
    pub fn grt_switch_core(from: *mut Context, to: *const Context);
    /// First code of a new context: calls `fn(arg)`, then `grt_context_exit(link)`.
    pub fn grt_context_entry();
    /// Signal restorer (`rt_sigreturn`), for `sa_restorer`.
    pub fn grt_sigreturn();
    /// The handler grt installs for every signal it handles: aligns the stack and calls
    /// `grt_sighandler(sig, info, uc)`, which runtime-core defines.
    pub fn grt_sigtramp(sig: i32, info: *mut c_void, uc: *mut c_void);
    /// Raw `clone`: the child runs `f(arg)` on `stack` (16-byte aligned top) and exits the
    /// thread when `f` returns. Returns the child's tid, or -errno, in the parent.
    pub fn grt_clone(
        flags: usize,
        stack: *mut u8,
        ptid: *mut i32,
        ctid: *mut i32,
        tls: *mut u8,
        f: EntryFn,
        arg: *mut c_void,
    ) -> isize;
    /// Calls `f(arg, sp, fp)` with every callee-saved register of the caller stored on the
    /// stack at or above `sp` (`asm/<arch>/syscall.S`; bdwgc's `GC_with_callee_saves_pushed`):
    /// while `f` runs, `[sp, stack top)` holds everything the caller's code may point with,
    /// and `fp` is the frame record that starts its frame-pointer chain.
    pub fn grt_call_spilled(
        f: unsafe extern "C" fn(arg: *mut c_void, sp: usize, fp: usize),
        arg: *mut c_void,
    );
    /// The stack-barrier trampoline (`asm/<arch>/stkbar.S`; Go's `runtime·stackBarrier`).
    /// Never called: the collector writes its address into the return-address slot of a
    /// frame record (`return_address_slot`) and records the original in `G.stkbar`. The
    /// frame's return lands here; the trampoline checks that `stkbar[stkbar_pos]` is for the
    /// frame that just returned (by the frame pointer it returned with, and its slot lying
    /// below sp), increments `stkbar_pos` and jumps to the saved return address. Every
    /// register but the flags reaches the caller intact (aarch64: but x16, x17 and x30 too,
    /// which no call preserves), as gcc's -fipa-ra requires. On a mismatch it calls
    /// `grt_stack_barrier_bad(g: *mut G, sp: usize, fp: usize) -> !` (runtime-core), sp
    /// realigned.
    pub fn grt_stack_barrier();
    /// The asynchronous preemption stub (`asm/<arch>/preempt.S`): a preempted goroutine's
    /// signal return lands here, with a frame record at the frame pointer and the moved signal
    /// frame above it. Never called.
    pub fn grt_async_preempt_stub();
    /// The end of the stub's code (not a function): see [`in_async_preempt`].
    pub static grt_async_preempt_stub_end: u8;
    /// Marks the end of the trampoline's instructions (not a function):
    /// `[grt_stack_barrier, grt_stack_barrier_end)` is every pc a return through a barrier
    /// passes, see [`in_stack_barrier`]. Only its address means anything.
    pub static grt_stack_barrier_end: u8;
    /// Marks the trampoline's instruction right after its one store to `stkbar_pos` (not a
    /// function): see [`stack_barrier_counted`]. Only its address means anything.
    pub static grt_stack_barrier_hit: u8;
}

/// [`grt_call_spilled`] with a closure: `f(sp, fp)` runs with every callee-saved register of
/// the caller on the stack at or above `sp`, and `fp` the frame record there. Inlined, so
/// that the caller's own frame is the one above the spill.
#[inline(always)]
pub fn call_spilled(f: &mut dyn FnMut(usize, usize)) {
    unsafe extern "C" fn tramp(arg: *mut c_void, sp: usize, fp: usize) {
        // SAFETY: call_spilled passes its closure, live and not otherwise used for the call.
        let f = unsafe { &mut *(arg as *mut &mut dyn FnMut(usize, usize)) };
        f(sp, fp);
    }
    let mut f = f;
    // SAFETY: tramp is a C-ABI function of the expected type; `f` outlives the call.
    unsafe {
        grt_call_spilled(
            tramp,
            &mut f as *mut &mut dyn FnMut(usize, usize) as *mut c_void,
        )
    };
}

/// The address the collector writes into a return-address slot to install a stack barrier,
/// and that walkers recognise in a slot.
#[inline]
pub fn stack_barrier_pc() -> usize {
    grt_stack_barrier as *const () as usize
}

/// Whether `pc` (an interrupted pc, not a return address) lies in the trampoline's success
/// path. There `G.stkbar_pos` may or may not have been incremented yet: it changes in one
/// store near the very end ([`stack_barrier_counted`] tells which side of it pc is), and sp
/// and the frame pointer never move. The trampoline's failure path lies outside this range.
#[inline]
pub fn in_stack_barrier(pc: usize) -> bool {
    let end = (&raw const grt_stack_barrier_end) as usize;
    pc >= stack_barrier_pc() && pc < end
}

/// For a pc inside the trampoline ([`in_stack_barrier`]): whether the return in flight has
/// already been counted (`stkbar_pos` incremented), so that it is entry `stkbar_pos - 1`
/// rather than entry `stkbar_pos`.
#[inline]
pub fn stack_barrier_counted(pc: usize) -> bool {
    let hit = (&raw const grt_stack_barrier_hit) as usize;
    let end = (&raw const grt_stack_barrier_end) as usize;
    pc >= hit && pc < end
}

extern "C" {
    static grt_asm_context_start: u8;
    static grt_asm_context_end: u8;
    static grt_asm_signal_start: u8;
    static grt_asm_signal_end: u8;
    static grt_asm_thread_start: u8;
    static grt_asm_thread_end: u8;
    static grt_asm_syscall_start: u8;
    static grt_asm_syscall_end: u8;
    static grt_asm_stkbar_start: u8;
    static grt_asm_stkbar_end: u8;
}

#[cfg(feature = "freestanding")]
extern "C" {
    static grt_asm_mem_start: u8;
    static grt_asm_mem_end: u8;
}

/// Whether `pc` lies in grt's own assembly (`asm/<arch>/*.S`, each file's code between
/// its `grt_asm_<file>_start` and `_end` markers, and the preemption stub): code that must
/// not be preempted asynchronously (it runs with runtime state half changed).
pub fn in_grt_asm(pc: usize) -> bool {
    let r = |lo: &u8, hi: &u8| pc >= lo as *const u8 as usize && pc < hi as *const u8 as usize;
    // SAFETY: only the markers' addresses are taken.
    let in_files = unsafe {
        r(&grt_asm_context_start, &grt_asm_context_end)
            || r(&grt_asm_signal_start, &grt_asm_signal_end)
            || r(&grt_asm_thread_start, &grt_asm_thread_end)
            || r(&grt_asm_syscall_start, &grt_asm_syscall_end)
            || r(&grt_asm_stkbar_start, &grt_asm_stkbar_end)
    };
    // The freestanding build's mem* routines (libc's, in the libc build: not ours).
    #[cfg(feature = "freestanding")]
    // SAFETY: as above.
    let in_files = in_files || unsafe { r(&grt_asm_mem_start, &grt_asm_mem_end) };
    in_files || in_async_preempt(pc)
}

/// The stub's address (what a preempting handler makes the signal return resume at).
#[inline]
pub fn async_preempt_pc() -> usize {
    grt_async_preempt_stub as *const () as usize
}

/// Whether `pc` (an interrupted pc, or a return address) lies in the asynchronous preemption
/// stub: the frame record at the frame pointer there is the stub's, whose "return address" is
/// the pc the goroutine was interrupted at, and the record it links to is the interrupted
/// function's own (a goroutine is preempted only where its function keeps one).
#[inline]
pub fn in_async_preempt(pc: usize) -> bool {
    let end = (&raw const grt_async_preempt_stub_end) as usize;
    pc >= async_preempt_pc() && pc < end
}

/// One frame record of a frame-pointer chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRecord {
    /// The caller's frame pointer (0 ends the chain).
    pub fp: usize,
    /// The return address into the caller.
    pub ret: usize,
}

/// Reads the frame record at `fp`.
///
/// # Safety
/// `fp .. fp + 16` must be readable; the caller checks it against the bounds of the stack.
#[inline(always)]
pub unsafe fn read_frame_record(fp: usize) -> FrameRecord {
    // SAFETY: the caller guarantees the 16 bytes at fp are readable.
    unsafe {
        FrameRecord {
            fp: core::ptr::read_volatile((fp + FRAME_SAVED_FP_OFF) as *const usize),
            ret: core::ptr::read_volatile((fp + FRAME_RET_OFF) as *const usize),
        }
    }
}

/// Address of the slot that holds the return address of the frame whose record is at `fp`.
/// This is the slot a stack barrier overwrites.
#[inline(always)]
pub const fn return_address_slot(fp: usize) -> usize {
    fp + FRAME_RET_OFF
}

/// Size of a frame record in bytes (saved fp + return address).
pub const FRAME_RECORD_SIZE: usize = 16;

/// Where the frame record of a parked context's switch frame lies, given its saved sp.
/// Walking from there yields the code that called `grt_context_switch` first.
#[inline(always)]
pub const fn parked_frame_pointer(ctx_sp: usize) -> usize {
    ctx_sp + SWITCH_FRAME_RECORD_OFF
}

/// Where an interrupted function keeps its return address while it has no frame record
/// (see `frameless_return`). Each is a candidate, to be accepted only if the instruction
/// before it is a direct call whose target fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetLoc {
    /// In the link register; the call must target `[min_target, pc]`. `reloaded`: the scan
    /// back met the epilogue's reload of the frame record (`ldp x29, x30`) first; code after a
    /// tail call's epilogue, reached by a branch, meets it too with the record still in
    /// place, so the call must also target the very function at pc (by its unwind table).
    Lr { min_target: usize, reloaded: bool },
    /// At `[sp + off]`; the call must target `[pc - max_back, pc]`, and with
    /// `frameless_only` a function that opens no frame record.
    Stack {
        off: usize,
        max_back: usize,
        frameless_only: bool,
    },
}

/// Largest function the first-step heuristics believe in, in bytes.
pub const MAX_FRAMELESS_FN: usize = 64 * 1024;

/// Byte offset of `si_addr` in `siginfo_t` (both architectures: 3 ints, padding, then the
/// union whose first member for SIGSEGV/SIGBUS is the fault address).
pub const SIGINFO_ADDR_OFF: usize = 16;
/// Byte offset of `si_code` in `siginfo_t`.
pub const SIGINFO_CODE_OFF: usize = 8;
/// Byte offset of `si_value` (`sigval`) in `siginfo_t` for POSIX timer signals (after
/// `si_tid` and `si_overrun`), both architectures.
pub const SIGINFO_TIMER_VALUE_OFF: usize = 24;

/// The kernel's `struct sigevent` for `timer_create` (64 bytes on both architectures).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SigEvent {
    /// Handed back in `si_value`.
    pub value: usize,
    pub signo: i32,
    pub notify: i32,
    /// With `SIGEV_THREAD_ID`: the thread that gets the signal.
    pub tid: i32,
    pub pad: [i32; 11],
}

/// The kernel's `struct itimerspec` (for `timer_settime`) and `struct itimerval` (for
/// `setitimer`, the same shape in microseconds).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ITimerSpec {
    pub interval_sec: i64,
    pub interval_sub: i64,
    pub value_sec: i64,
    pub value_sub: i64,
}

const _: () = {
    assert!(core::mem::size_of::<SigEvent>() == 64);
    assert!(core::mem::offset_of!(SigEvent, tid) == 16);
    assert!(core::mem::size_of::<ITimerSpec>() == 32);
};

#[cfg(test)]
mod tests;
