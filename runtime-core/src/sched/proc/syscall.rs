//! System calls and grt_cgocall: entersyscall, exitsyscall, the cgocall halves. Part of the scheduler (`proc`, whose mod.rs explains the whole).

use super::*;

pub(crate) fn entersyscall_common(g: &G, pc: usize, sp: usize, bp: usize, regs: *const usize) {
    let m = mp();
    // SAFETY: single writer (this goroutine); readers hold the scan bit, which they can only
    // take after the CAS below publishes these. regs: NSYSCALLREGS words from the asm.
    unsafe {
        let gm = g as *const G as *mut G;
        (*gm).syscallsp = sp;
        (*gm).syscallpc = pc;
        (*gm).syscallbp = bp;
        core::ptr::copy_nonoverlapping(
            regs,
            (*gm).syscallregs.as_mut_ptr(),
            arch::asm_consts::NSYSCALLREGS,
        );
    }
    casgstatus(g, GRUNNING, GSYSCALL);
    // SAFETY: the M holds its P until here.
    let pp = unsafe { &mut *m.p };
    pp.syscalltick.fetch_add(1, Ordering::Relaxed);
    pp.m = null_mut();
    m.oldp = m.p;
    m.p = null_mut();
    pp.status.store(PSYSCALL, Ordering::Release);
}

/// `grt_entersyscall` (asm/<arch>/syscall.S passes the caller's pc, sp and fp).
#[no_mangle]
#[link_section = "grt_text"]
extern "C" fn grt_entersyscall_impl(pc: usize, sp: usize, bp: usize, regs: *const usize) -> i32 {
    // Until the goroutine is GSYSCALL, the scheduler's state is half changed: no asynchronous
    // preemption (preempt.rs), in this function or what it calls.
    let _np = crate::preempt::NoPreempt::enter();
    let g = match current_user_g("grt_entersyscall") {
        Ok(g) => g,
        Err(e) => return e,
    };
    if g.status() & !GSCAN != GRUNNING {
        return report(
            GRT_EINVAL,
            "grt_entersyscall",
            format_args!("goroutine {} is already in a system call", g.goid()),
        );
    }
    entersyscall_common(g, pc, sp, bp, regs);
    GRT_OK
}

pub(crate) fn exitsyscallfast(m: &mut M, oldp: *mut P) -> bool {
    // SAFETY: oldp is this M's P from before the syscall (Ps are never freed).
    if let Some(p) = unsafe { oldp.as_ref() } {
        if p.status.load(Ordering::Acquire) == PSYSCALL
            && p.status
                .compare_exchange(PSYSCALL, PIDLE, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            acquirep(m, oldp);
            p.syscalltick.fetch_add(1, Ordering::Relaxed);
            return true;
        }
    }
    if NPIDLE.load(Ordering::Acquire) > 0 {
        SCHED_LOCK.lock();
        let pp = pidleget();
        SCHED_LOCK.unlock();
        if !pp.is_null() {
            acquirep(m, pp);
            return true;
        }
    }
    false
}

pub(crate) fn exitsyscall_common(g: &G) {
    // If grt_suspend holds us, wait for grt_resume before taking a P (not while holding one).
    suspend::wait_unsuspended(g);
    let m = mp();
    let oldp = core::mem::replace(&mut m.oldp, null_mut());
    if exitsyscallfast(m, oldp) {
        casgstatus(g, GSYSCALL, GRUNNING);
    } else {
        // No P: queue ourselves and let g0 stop this M.
        mcall(Action::ExitSyscall);
    }
    // SAFETY: single writer (this goroutine), now running again.
    unsafe {
        let gm = g as *const G as *mut G;
        (*gm).syscallsp = 0;
        (*gm).syscallpc = 0;
        (*gm).syscallbp = 0;
    }
}

/// On g0: a G came back from a syscall and no P was free.
pub(crate) fn exitsyscall0(m: &mut M, g: &mut G) -> Option<*mut G> {
    casgstatus(g, GSYSCALL, GRUNNABLE);
    dropg(m, g);
    SCHED_LOCK.lock();
    let pp = pidleget();
    if pp.is_null() {
        globrunqput(g);
    }
    SCHED_LOCK.unlock();
    if !pp.is_null() {
        acquirep(m, pp);
        return Some(g);
    }
    stopm(m);
    None
}

/// `grt_exitsyscall`.
pub fn exitsyscall() -> i32 {
    let g = match current_user_g_any("grt_exitsyscall") {
        Ok(g) => g,
        Err(e) => return e,
    };
    if g.status() & !GSCAN != GSYSCALL {
        return report(
            GRT_EINVAL,
            "grt_exitsyscall",
            format_args!("goroutine {} is not in a system call", g.goid()),
        );
    }
    exitsyscall_common(g);
    GRT_OK
}

/// First half of `grt_cgocall` (asm/<arch>/syscall.S): returns the system-stack sp to run
/// `fn` on, 0 to call it in place (not on a goroutine), 1 for bad input.
#[no_mangle]
#[link_section = "grt_text"]
extern "C" fn grt_cgocall_enter(
    pc: usize,
    sp: usize,
    bp: usize,
    f: usize,
    regs: *const usize,
) -> usize {
    let _np = crate::preempt::NoPreempt::enter();
    if f == 0 {
        report(GRT_EINVAL, "grt_cgocall", format_args!("fn is NULL"));
        return 1;
    }
    let gp = getg();
    // SAFETY: null or a live G.
    let Some(g) = (unsafe { gp.as_ref() }) else {
        return 0;
    };
    if g.kind != GKind::User || g.status() & !GSCAN != GRUNNING {
        return 0;
    }
    let m = mp();
    m.ncgo += 1;
    entersyscall_common(g, pc, sp, bp, regs);
    m.incgo.store(true, Ordering::Release);
    setg(m.g0);
    // Below g0's parked switch frame, with room for the x86_64 red zone, 16-byte aligned.
    // SAFETY: g0 belongs to this M; it is parked in execute while a G runs.
    (unsafe { (*m.g0).sched.sp } - 256) & !15
}

/// Second half of `grt_cgocall`, back on the goroutine stack.
#[no_mangle]
#[link_section = "grt_text"]
extern "C" fn grt_cgocall_exit() -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    let m = mp();
    m.incgo.store(false, Ordering::Release);
    let gp = m.curg.load(Ordering::Relaxed);
    setg(gp);
    // SAFETY: the goroutine that called grt_cgocall.
    exitsyscall_common(unsafe { &*gp });
    preempt_point();
    GRT_OK
}
