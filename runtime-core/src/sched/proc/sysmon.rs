//! sysmon (retaking Ps from system calls, time slices, the profiler's collection) and deadlock detection. Part of the scheduler (`proc`, whose mod.rs explains the whole).

use super::*;

pub(crate) unsafe extern "C" fn sysmon(_: *mut c_void) {
    let mut idle = 0u32;
    let mut delay = SYSMON_MIN_DELAY_NS;
    loop {
        if idle == 0 {
            delay = SYSMON_MIN_DELAY_NS;
        } else if idle > 50 {
            delay = (delay * 2).min(SYSMON_MAX_DELAY_NS);
        }
        if time::pending() {
            delay = delay.min(SYSMON_TIMER_DELAY_NS);
        }
        sys::nanosleep(delay);
        let now = sys::nanotime();
        if retake(now) > 0 {
            idle = 0;
        } else {
            idle += 1;
        }
        // Expired timers with every P busy elsewhere and no M looking: wake one.
        if time::expired(now) && NMSPINNING.load(Ordering::Acquire) == 0 {
            wakep();
        }
        // Nobody has polled the network for a while (every P busy, none idle to block in
        // the poller): poll for them.
        if netpoll::poll_stale(now, netpoll::SYSMON_POLL_NS) {
            inject_global(&mut netpoll::netpoll(Some(0)));
        }
        crate::cpuprof::collect(now);
    }
}

/// Test-only build, `GRTDEBUG=schedslowretake=1`: sysmon retakes a P in a system call only
/// after seeing the same call twice, as before (the fairness tests' teeth).
pub(crate) fn slow_retake() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().schedslowretake
}

/// Takes Ps away from Ms blocked in syscalls, and marks goroutines past their time slice;
/// returns how many of either.
pub(crate) fn retake(now: u64) -> u32 {
    let mut n = 0;
    for i in 0..gomaxprocs() {
        let pp = ALLP[i].load(Ordering::Acquire);
        // SAFETY: Ps are never freed; sysmon_tick/when are sysmon's own fields.
        let p = unsafe { &mut *pp };
        let status = p.status.load(Ordering::Acquire);
        if status == PRUNNING {
            if preempt_long_runner(p, now) {
                n += 1;
            }
            continue;
        }
        if status != PSYSCALL {
            continue;
        }
        let t = p.syscalltick.load(Ordering::Relaxed);
        // Goroutines wait on this P's queue, or on the global one with no idle P to take them:
        // take it now, however short the call.
        // Waiting for a second sight of the same call never fires for a goroutine making short
        // calls back to back (grt_gc in a loop, 1 ms sleeps): each is a new call, and the
        // queued ones starved for seconds. (Test-only schedslowretake=1: the old rule.)
        let waiting = (!runqempty(p)
            || (RUNQSIZE.load(Ordering::Acquire) != 0
                && NPIDLE.load(Ordering::Acquire) == 0
                && NMSPINNING.load(Ordering::Acquire) == 0))
            && !slow_retake();
        if p.sysmon_tick != t {
            p.sysmon_tick = t;
            p.sysmon_when = now;
            if !waiting {
                continue;
            }
        }
        // Leave it alone if it has nothing queued, others are free to take new work, and the
        // syscall has not lasted long: the M will most likely take its P back itself.
        if runqempty(p)
            && NMSPINNING.load(Ordering::Acquire) + NPIDLE.load(Ordering::Acquire) as i32 > 0
            && p.sysmon_when + SYSCALL_RETAKE_NS > now
        {
            continue;
        }
        // While sysmon holds a retaken P it counts as a running M: otherwise the syscall's
        // own M, coming back to find neither its P nor an idle one, could go idle and make
        // checkdead see every M idle with a goroutine queued (Go's incidlelocked(-1)).
        SCHED_LOCK.lock();
        sched().nmsys_busy += 1;
        SCHED_LOCK.unlock();
        if p.status
            .compare_exchange(PSYSCALL, PIDLE, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            n += 1;
            p.syscalltick.fetch_add(1, Ordering::Relaxed);
            handoffp(pp);
        }
        SCHED_LOCK.lock();
        sched().nmsys_busy -= 1;
        SCHED_LOCK.unlock();
    }
    n
}

// ---- deadlock ------------------------------------------------------------------------------

/// Called with `SCHED_LOCK` held whenever an M goes idle.
pub(crate) fn checkdead() {
    if STATE.load(Ordering::Acquire) != STATE_RUNNING {
        return;
    }
    let s = sched();
    let run = s.mcount + s.nmsys_busy - s.nmidle;
    if run > 0 {
        return;
    }
    if run < 0 {
        crate::throw!(
            "checkdead: inconsistent M counts: {} Ms, {} idle",
            s.mcount,
            s.nmidle
        );
    }
    if time::pending() {
        return; // a sleeper will wake
    }
    if netpoll::waiters() > 0 {
        return; // a descriptor may become ready from outside the process
    }
    if HELD_ASIDE.load(Ordering::Acquire) != 0 {
        return; // grt_resume will queue it
    }
    if NGOROUTINES.load(Ordering::Acquire) <= 0 {
        return;
    }
    // Every M idle while something is runnable is a scheduler bug, not the program's deadlock.
    if RUNQSIZE.load(Ordering::Acquire) != 0 || (0..gomaxprocs()).any(|i| !runqempty(allp(i))) {
        crate::throw!("checkdead: every M is idle but a goroutine is runnable");
    }
    printerr!("fatal error: all goroutines are asleep - deadlock!\n");
    print_goroutines();
    signals::abort()
}

/// Prints every live goroutine's state and stack (fatal errors).
pub fn print_goroutines() {
    for_each_g(|g| {
        let st = g.status();
        if g.kind != GKind::User || st & !GSCAN == GDEAD {
            return true;
        }
        let reason = if st & !GSCAN == GWAITING {
            g.waitreason.as_str()
        } else {
            status_name(st)
        };
        printerr!("\ngoroutine {} [{}]:\n", g.goid(), reason);
        match st & !GSCAN {
            GWAITING | GRUNNABLE => {
                let fp = arch::parked_frame_pointer(g.sched.sp);
                traceback::print_g(0, g.sched.sp, fp, g);
            }
            GSYSCALL => traceback::print_g(g.syscallpc, g.syscallsp, g.syscallbp, g),
            _ => printerr!("  (running on another thread)\n"),
        }
        true
    });
}
