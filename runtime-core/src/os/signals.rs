//! Signal handlers through the raw `rt_sigaction` syscall, with grt's own restorer.
//!
//! Every handler grt installs uses the kernel's `kernel_sigaction` layout (handler, flags,
//! restorer, 8-byte mask: the same on x86_64 and aarch64), `SA_RESTORER` pointing at
//! `grt_sigreturn` (asm/<arch>/signal.S), and `SA_SIGINFO | SA_ONSTACK | SA_RESTART`.
//! The handler that was installed before (by the C program or its libc) is kept and gets
//! every signal grt does not claim: [`forward`].
//!
//! Who touches what: [`install`] runs in ordinary code, serialised by a spin lock, and
//! publishes the previous action before the new handler can run; handlers only load it.

use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use grt_arch::{self as arch, nr, MapFlags, ProtFlags, SaFlags};

use crate::{auxv, sys};

pub const SIGBUS: i32 = 7;
pub const SIGABRT: i32 = 6;
pub const SIGSEGV: i32 = 11;
const NSIG: usize = 65;

pub const SIG_DFL: usize = 0;
pub const SIG_IGN: usize = 1;
const SIG_UNBLOCK: usize = 1;
const SS_DISABLE: i32 = 2;

/// The kernel's `struct sigaction` for `rt_sigaction` (not glibc's).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct KernelSigaction {
    pub handler: usize,
    pub flags: usize,
    pub restorer: usize,
    pub mask: u64,
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(offset_of!(KernelSigaction, flags) == 8);
    assert!(offset_of!(KernelSigaction, restorer) == 16);
    assert!(offset_of!(KernelSigaction, mask) == 24);
    assert!(size_of::<KernelSigaction>() == 32);
};

/// Signals blocked while any grt handler runs: the suspend signal (SIGURG), so a goroutine
/// is never suspended in the middle of another grt handler, where its registers would be
/// the handler's rather than its own.
/// And SIGPROF, so that no profiling sample is taken inside another grt handler (the suspend
/// handler, which sleeps, or a fatal-error dump).
const HANDLER_MASK: u64 = 1 << (23 - 1) | 1 << (27 - 1);

/// A three-argument (SA_SIGINFO) handler.
pub type Handler = unsafe extern "C" fn(sig: i32, info: *mut c_void, uc: *mut c_void);

/// The action that was in place before grt's, per signal.
struct Prev {
    installed: AtomicBool,
    handler: AtomicUsize,
    flags: AtomicUsize,
    restorer: AtomicUsize,
    mask: AtomicUsize,
}

static PREV: [Prev; NSIG] = [const {
    Prev {
        installed: AtomicBool::new(false),
        handler: AtomicUsize::new(0),
        flags: AtomicUsize::new(0),
        restorer: AtomicUsize::new(0),
        mask: AtomicUsize::new(0),
    }
}; NSIG];
static INSTALL_LOCK: spin::Mutex<()> = spin::Mutex::new(());
/// grt's handler per signal, called by `grt_sighandler` (0: none, forward).
static HANDLERS: [AtomicUsize; NSIG] = [const { AtomicUsize::new(0) }; NSIG];

/// Called by `grt_sigtramp` (asm/<arch>/signal.S) for every signal grt installed.
#[no_mangle]
unsafe extern "C" fn grt_sighandler(sig: i32, info: *mut c_void, uc: *mut c_void) {
    let h = HANDLERS
        .get(sig as usize)
        .map_or(0, |h| h.load(Ordering::Acquire));
    if h == 0 {
        // SAFETY: our handler's own arguments.
        unsafe { forward(sig, info, uc) };
        return;
    }
    // SAFETY: only Handler values are stored in HANDLERS.
    let f: Handler = unsafe { core::mem::transmute::<usize, Handler>(h) };
    // SAFETY: the handler was installed for this signal.
    unsafe { f(sig, info, uc) };
}

/// Raw `rt_sigaction`.
///
/// # Safety
/// `new` must describe a handler that is safe to run for `sig`.
pub unsafe fn rt_sigaction(
    sig: i32,
    new: Option<&KernelSigaction>,
    old: Option<&mut KernelSigaction>,
) -> sys::Result<()> {
    let new = new.map_or(0, |n| n as *const _ as usize);
    let old = old.map_or(0, |o| o as *mut _ as usize);
    // SAFETY: pointers are valid or 0; the size is the kernel's sigset size (8).
    let r = unsafe { arch::syscall4(nr::__NR_rt_sigaction, sig as usize, new, old, 8) };
    if r < 0 {
        Err(sys::Errno(-r as i32))
    } else {
        Ok(())
    }
}

/// Installs `h` for `sig` (once; later calls do nothing) and remembers the previous action.
pub fn install(sig: i32, h: Handler) -> sys::Result<()> {
    install_with_mask(sig, h, HANDLER_MASK)
}

/// [`install`] with the signals to block while `h` runs (grt's own are always blocked too).
pub fn install_with_mask(sig: i32, h: Handler, mask: u64) -> sys::Result<()> {
    let _g = INSTALL_LOCK.lock();
    let p = &PREV[sig as usize];
    if p.installed.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut old = KernelSigaction::default();
    // SAFETY: querying only.
    unsafe { rt_sigaction(sig, None, Some(&mut old))? };
    p.handler.store(old.handler, Ordering::Relaxed);
    p.flags.store(old.flags, Ordering::Relaxed);
    p.restorer.store(old.restorer, Ordering::Relaxed);
    p.mask.store(old.mask as usize, Ordering::Relaxed);
    p.installed.store(true, Ordering::Release);
    HANDLERS[sig as usize].store(h as usize, Ordering::Release);
    let act = KernelSigaction {
        handler: arch::grt_sigtramp as *const () as usize,
        flags: (SaFlags::SIGINFO | SaFlags::ONSTACK | SaFlags::RESTART | SaFlags::RESTORER).bits(),
        restorer: arch::grt_sigreturn as *const () as usize,
        mask: mask | HANDLER_MASK,
    };
    // SAFETY: grt's handlers are written to run in any thread at any time.
    unsafe { rt_sigaction(sig, Some(&act), None) }
}

/// Whether grt's trampoline is the handler installed for `sig` right now.
pub fn is_ours(sig: i32) -> bool {
    let mut cur = KernelSigaction::default();
    // SAFETY: querying only.
    unsafe { rt_sigaction(sig, None, Some(&mut cur)) }.is_ok()
        && cur.handler == arch::grt_sigtramp as *const () as usize
}

/// Puts back the action that was there before [`install`] — unless the program has installed
/// another one since (then that one stays).
pub fn uninstall(sig: i32) -> sys::Result<()> {
    uninstall_inner(sig, false)
}

/// [`uninstall`], first discarding every pending instance of `sig` in the process (by setting
/// `SIG_IGN`, which POSIX says discards them) so none reaches the restored action.
pub fn flush_and_uninstall(sig: i32) -> sys::Result<()> {
    uninstall_inner(sig, true)
}

fn uninstall_inner(sig: i32, flush: bool) -> sys::Result<()> {
    let _g = INSTALL_LOCK.lock();
    let p = &PREV[sig as usize];
    if !p.installed.load(Ordering::Relaxed) {
        return Ok(());
    }
    let act = prev_action(sig);
    if is_ours(sig) {
        if flush {
            set_action(sig, SIG_IGN);
        }
        // SAFETY: restoring what the program had installed itself, in place of ours.
        unsafe { rt_sigaction(sig, Some(&act), None)? };
    }
    p.installed.store(false, Ordering::Release);
    Ok(())
}

pub fn prev_action(sig: i32) -> KernelSigaction {
    let p = &PREV[sig as usize];
    KernelSigaction {
        handler: p.handler.load(Ordering::Acquire),
        flags: p.flags.load(Ordering::Acquire),
        restorer: p.restorer.load(Ordering::Acquire),
        mask: p.mask.load(Ordering::Acquire) as u64,
    }
}

fn set_default(sig: i32) {
    set_action(sig, SIG_DFL);
}

/// Sets `SIG_DFL` or `SIG_IGN` for `sig` (with grt's restorer).
pub fn set_action(sig: i32, handler: usize) {
    debug_assert!(handler == SIG_DFL || handler == SIG_IGN);
    let act = KernelSigaction {
        handler,
        flags: SaFlags::RESTORER.bits(),
        restorer: arch::grt_sigreturn as *const () as usize,
        mask: 0,
    };
    // SAFETY: the default and ignore actions are always valid.
    let _ = unsafe { rt_sigaction(sig, Some(&act), None) };
}

/// Was this signal sent by the kernel because of the faulting instruction (si_code > 0)?
///
/// # Safety
/// `info` must be the siginfo of the handler.
unsafe fn is_synchronous_fault(sig: i32, info: *const c_void) -> bool {
    // SAFETY: si_code lies inside the kernel's siginfo.
    let code = unsafe { *((info as *const u8).add(arch::SIGINFO_CODE_OFF) as *const i32) };
    matches!(sig, 4 | 5 | 7 | 8 | 11) && code > 0
}

/// Hands a signal grt does not claim to the action that was installed before grt's.
///
/// - a handler function: called as the program installed it (one or three arguments);
/// - `SIG_DFL`: the default action is put back; a fault re-executes the instruction and
///   takes the default action; any other signal is raised again and delivered on return;
/// - `SIG_IGN`: ignored, except a synchronous fault, which cannot be ignored (it would
///   repeat forever), so it gets the default action.
///
/// # Safety
/// Call only from a handler grt installed for `sig`, with its arguments.
pub unsafe fn forward(sig: i32, info: *mut c_void, uc: *mut c_void) {
    let prev = prev_action(sig);
    // SAFETY: info is the handler's siginfo.
    let fault = unsafe { is_synchronous_fault(sig, info) };
    match prev.handler {
        SIG_DFL => {
            set_default(sig);
            if !fault {
                let _ = sys::tgkill(sys::getpid(), sys::gettid(), sig);
            }
        }
        SIG_IGN => {
            if fault {
                set_default(sig);
            }
        }
        h if prev.flags & SaFlags::SIGINFO.bits() != 0 => {
            // SAFETY: the program installed this handler with SA_SIGINFO for this signal.
            let f: Handler = unsafe { core::mem::transmute::<usize, Handler>(h) };
            unsafe { f(sig, info, uc) };
        }
        h => {
            // SAFETY: the program installed this one-argument handler for this signal.
            let f: unsafe extern "C" fn(i32) =
                unsafe { core::mem::transmute::<usize, unsafe extern "C" fn(i32)>(h) };
            unsafe { f(sig) };
        }
    }
}

/// Ends the process with SIGABRT (the default action, so a shell says "Aborted" and a core
/// dump may be written), whatever the program had installed for it.
pub fn abort() -> ! {
    set_default(SIGABRT);
    let set: u64 = 1 << (SIGABRT - 1);
    // SAFETY: unblocking one signal in this thread's mask.
    unsafe {
        arch::syscall4(
            nr::__NR_rt_sigprocmask,
            SIG_UNBLOCK,
            &set as *const u64 as usize,
            0,
            8,
        )
    };
    let _ = sys::tgkill(sys::getpid(), sys::gettid(), SIGABRT);
    sys::exit_group(134)
}

// ---------------------------------------------------------------------------------------------
// Alternate signal stacks.

/// Bytes of headroom grt's own handlers need above what the kernel needs for the frame.
const HANDLER_HEADROOM: usize = 48 * 1024;

/// Size of the alternate signal stacks grt makes: the kernel's minimum for this CPU
/// (`AT_MINSIGSTKSZ`, larger than the old constants with AVX-512 or SVE) or `SIGSTKSZ`,
/// whichever is larger, plus room for grt's handlers.
pub fn altstack_size() -> usize {
    let page = auxv::page_size();
    let n = arch::SIGSTKSZ
        .max(auxv::get().minsigstksz)
        .max(arch::MINSIGSTKSZ)
        + HANDLER_HEADROOM;
    (n + page - 1) & !(page - 1)
}

/// An alternate signal stack grt mapped for a thread (with a guard page below).
#[derive(Debug)]
pub struct AltStack {
    base: usize,
    len: usize,
}

/// Gives the calling thread an alternate signal stack unless it already has one that is big
/// enough. Returns the stack grt made, which the thread must release with [`drop_altstack`]
/// before it exits (or never, for threads grt does not own).
pub fn ensure_altstack() -> sys::Result<Option<AltStack>> {
    let mut old = arch::StackT {
        ss_sp: 0,
        ss_flags: 0,
        ss_size: 0,
    };
    // SAFETY: querying into a valid out-parameter.
    let r = unsafe { arch::syscall2(nr::__NR_sigaltstack, 0, &mut old as *mut _ as usize) };
    if r < 0 {
        return Err(sys::Errno(-r as i32));
    }
    let size = altstack_size();
    if old.ss_flags & SS_DISABLE == 0 && old.ss_size >= size - HANDLER_HEADROOM {
        return Ok(None);
    }
    let page = auxv::page_size();
    let base = sys::mmap_anon(size + page, ProtFlags::NONE, MapFlags::NORESERVE)?;
    // SAFETY: our fresh mapping; the lowest page stays a guard.
    unsafe { sys::mprotect(base + page, size, ProtFlags::READ | ProtFlags::WRITE)? };
    let new = arch::StackT {
        ss_sp: base + page,
        ss_flags: 0,
        ss_size: size,
    };
    // SAFETY: the stack is valid and stays mapped until drop_altstack.
    let r = unsafe { arch::syscall2(nr::__NR_sigaltstack, &new as *const _ as usize, 0) };
    if r < 0 {
        // SAFETY: never installed.
        unsafe { sys::munmap(base, size + page).ok() };
        return Err(sys::Errno(-r as i32));
    }
    Ok(Some(AltStack {
        base,
        len: size + page,
    }))
}

/// The calling thread's alternate signal stack `[lo, hi)`, if it has one.
pub fn current_altstack() -> Option<(usize, usize)> {
    let mut cur = arch::StackT {
        ss_sp: 0,
        ss_flags: 0,
        ss_size: 0,
    };
    // SAFETY: querying into a valid out-parameter.
    let r = unsafe { arch::syscall2(nr::__NR_sigaltstack, 0, &mut cur as *mut _ as usize) };
    (r == 0 && cur.ss_flags & SS_DISABLE == 0).then_some((cur.ss_sp, cur.ss_sp + cur.ss_size))
}

/// Writes this thread's signal mask and alternate signal stack into `mask` and `stack` (a
/// ucontext about to be returned through on this thread: `preempt.rs`).
///
/// # Safety
/// Both must be valid for writes.
pub unsafe fn current_mask_and_altstack(mask: *mut u64, stack: *mut arch::StackT) {
    // SAFETY: querying into the caller's out-parameters (how = SIG_BLOCK with no set only
    // reads the mask; 8 bytes: the kernel's sigset_t).
    unsafe {
        arch::syscall4(nr::__NR_rt_sigprocmask, 0, 0, mask as usize, 8);
        arch::syscall2(nr::__NR_sigaltstack, 0, stack as usize);
    }
}

/// Disables and unmaps an alternate signal stack made by [`ensure_altstack`] on this thread.
pub fn drop_altstack(a: AltStack) {
    let off = arch::StackT {
        ss_sp: 0,
        ss_flags: SS_DISABLE,
        ss_size: 0,
    };
    // SAFETY: disabling this thread's alternate stack; not running on it (we are in ordinary code).
    unsafe {
        arch::syscall2(nr::__NR_sigaltstack, &off as *const _ as usize, 0);
        sys::munmap(a.base, a.len).ok();
    }
}

// ---------------------------------------------------------------------------------------------
// The fault handler: stack overflow detection.

/// SIGSEGV / SIGBUS: a write to a heap page protected in plain-store mode is logged and
/// retried (dirty.rs); a fault inside a registered guard region is a stack overflow (fatal,
/// with a message); anything else goes to the program's own handler or the default action.
unsafe extern "C" fn fault_handler(sig: i32, info: *mut c_void, uc: *mut c_void) {
    // SAFETY: info is the kernel's siginfo; si_addr holds the fault address for these signals.
    let addr = unsafe { *((info as *const u8).add(arch::SIGINFO_ADDR_OFF) as *const usize) };
    // A write to a heap page protected to track plain stores (dirty.rs): retried.
    if sig == SIGSEGV && crate::dirty::on_fault(addr) {
        return;
    }
    if let Some(g) = crate::stackreg::find(addr) {
        // SAFETY: uc is the handler's ucontext.
        unsafe { crate::fatal::stack_overflow(sig, addr, g, uc) };
    }
    // SAFETY: forwarding our own handler's arguments.
    unsafe { forward(sig, info, uc) };
}

/// Installs grt's SIGSEGV and SIGBUS handlers.
pub fn install_fault_handlers() -> sys::Result<()> {
    install(SIGSEGV, fault_handler)?;
    install(SIGBUS, fault_handler)
}
