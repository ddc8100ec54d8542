//! The scheduler loop on g0: schedule, execute, mcall and what g0 does after it, findrunnable. Part of the scheduler (`proc`, whose mod.rs explains the whole).

use super::*;

pub(crate) fn fastrand(m: &mut M) -> u32 {
    // xorshift64*
    let mut x = m.fastrand;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    m.fastrand = x;
    (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
}

/// The current M's random number (for select's poll order).
pub fn cheaprand() -> u32 {
    fastrand(mp())
}

pub(crate) fn schedule() -> ! {
    loop {
        let m = mp();
        let (gp, inherit) = findrunnable(m);
        if m.spinning {
            resetspinning(m);
        }
        let _ = inherit;
        let mut next = Some(gp);
        while let Some(gp) = next {
            next = if execute(m, gp) { after_mcall(m) } else { None };
        }
    }
}

/// Runs `gp` on this M until it comes back through mcall. False if `gp` could not run
/// because grt_suspend holds it: then it is set aside, and grt_resume queues it again.
pub(crate) fn execute(m: &mut M, gp: *mut G) -> bool {
    // SAFETY: gp came off a run queue: runnable, owned by us now.
    let g = unsafe { &mut *gp };
    // Running gp may make work for a rescan round that falls behind, or for the mark
    // termination about to stop the world: let the collector have this CPU first, if it waits
    // for one (mgc.rs ROUNDS_BEHIND).
    crate::mgc::round_yield(g);
    // Stopping the world may be asking the Ms to stop (stw.rs): a thread between goroutines
    // holds no lock and has gp parked (GRUNNABLE, its context saved), so it can stop here as
    // it would in the signal handler, without the signal. (After the yield: the collector
    // may have asked meanwhile.)
    crate::stw::poll_stop(m);
    // g.m before the status says GRUNNING: a suspender that sees GRUNNING reads it at once.
    m.curg.store(gp, Ordering::Release);
    g.m.store(m, Ordering::Release);
    if !suspend::start_running(g) {
        // Set aside for grt_resume, which may already have queued it again and another M be
        // running it: clear g.m only if it is still ours (a plain store here once left a
        // running, suspended goroutine without its M, and grt_resume dereferenced null).
        let plain = cfg!(feature = "testhooks") && {
            SET_ASIDES.fetch_add(1, Ordering::Relaxed);
            let k = crate::debug::get();
            if k.schedwidensetaside {
                sys::nanosleep(200_000);
            }
            k.schedplainsetaside
        };
        if plain {
            g.m.store(null_mut(), Ordering::Release);
        } else {
            let _ =
                g.m.compare_exchange(m, null_mut(), Ordering::AcqRel, Ordering::Relaxed);
        }
        m.curg.store(null_mut(), Ordering::Release);
        return false;
    }
    // SAFETY: the M holds its P.
    unsafe { (*m.p).schedtick = (*m.p).schedtick.wrapping_add(1) };
    g.preempt.store(false, Ordering::Relaxed);
    setg(gp);
    if g.fpctl != 0 {
        arch::set_control_words(g.fpctl & !FPCTL_CARRIED);
    }
    // SAFETY: g0's context is saved here; gp's was saved by its last switch (or made by
    // newproc) and nothing else runs on its stack.
    unsafe { arch::switch(&mut (*m.g0).sched, &g.sched) };
    setg(m.g0);
    carry_control_words(m, g);
    true
}

/// Back on g0 from `g`: the FP control words are thread state that the runtime's switch does
/// not carry (`arch::switch`), so a goroutine that changed them (`fesetround`, say) keeps
/// its own in `G.fpctl` and the thread gets its own back, before any other goroutine runs
/// here. One read of the control registers per schedule; loads only when they differ.
#[inline]
pub(crate) fn carry_control_words(m: &M, g: &mut G) {
    if cfg!(feature = "testhooks") && crate::debug::get().schednofpctl {
        return;
    }
    let now = arch::current_control_words() & arch::CONTROL_WORDS_MASK;
    if now != m.fpctl {
        g.fpctl = now | FPCTL_CARRIED;
        arch::set_control_words(m.fpctl);
    } else {
        g.fpctl = 0;
    }
}

pub(crate) fn dropg(m: &mut M, g: &G) {
    g.m.store(null_mut(), Ordering::Release);
    m.curg.store(null_mut(), Ordering::Release);
}

/// On g0, after the running G switched back: do what it asked. Returns a G to run at once.
pub(crate) fn after_mcall(m: &mut M) -> Option<*mut G> {
    let action = core::mem::replace(&mut m.action, Action::None);
    let gp = core::mem::replace(&mut m.actiong, null_mut());
    // SAFETY: the G that called mcall; it is not running anywhere now.
    let g = unsafe { &mut *gp };
    match action {
        Action::None => crate::throw!("goroutine {} switched to g0 with no action", g.goid()),
        Action::Yield => {
            casgstatus(g, GRUNNING, GRUNNABLE);
            dropg(m, g);
            if RUNQSIZE.load(Ordering::Acquire) != 0 {
                // Goroutines wait on the global queue (back from a system call or grt_gc,
                // say): queue behind them, so the P takes them next. Go's Gosched always
                // goes there; the local queue is cheaper when nobody waits. Without this a
                // goroutine that yields with an empty local queue runs again at once, and
                // the global queue waits for the 61st schedule (GLOBAL_RUNQ_CHECK).
                SCHED_LOCK.lock();
                globrunqput(gp);
                SCHED_LOCK.unlock();
            } else {
                // SAFETY: the M holds its P.
                runqput(unsafe { &*m.p }, gp, false);
            }
            None
        }
        Action::Park { unlockf, arg } => {
            casgstatus(g, GRUNNING, GWAITING);
            dropg(m, g);
            if !unlockf(gp, arg) {
                casgstatus(g, GWAITING, GRUNNABLE);
                return Some(gp);
            }
            None
        }
        Action::Preempt => {
            // Go's gopreempt_m: behind every goroutine that waits, on the global queue.
            casgstatus(g, GRUNNING, GRUNNABLE);
            dropg(m, g);
            SCHED_LOCK.lock();
            globrunqput(gp);
            SCHED_LOCK.unlock();
            None
        }
        Action::Exit => {
            goexit0(m, g);
            None
        }
        Action::ExitSyscall => exitsyscall0(m, g),
    }
}

/// Switches from the running G to g0, which performs `action`. Returns when the G is next
/// scheduled (perhaps on another M).
pub fn mcall(action: Action) {
    let m = mp();
    let gp = m.curg.load(Ordering::Relaxed);
    m.action = action;
    m.actiong = gp;
    let g0 = m.g0;
    setg(g0);
    // SAFETY: gp is the running G (this stack); g0 is parked in execute on its own stack.
    unsafe { arch::switch(&mut (*gp).sched, &(*g0).sched) };
}

pub(crate) fn findrunnable(m: &mut M) -> (*mut G, bool) {
    'top: loop {
        // SAFETY: the M holds a P here (acquired by mstart1, stopm or exitsyscall0).
        let pp = unsafe { &mut *m.p };
        time::run_timers(pp);
        // Goroutines wait on descriptors while this P keeps finding work and nobody blocks
        // in the poller: poll now and then, or they would wait for sysmon's 10 ms. Only
        // while the local queue has room for a whole poll's worth: an overflow would move
        // its oldest goroutines to the global queue, which a busy P serves one per 61
        // schedules (wrk's p99 with 1,000 connections: 40 ms with the overflows, 6-8 ms without).
        if netpoll::waiters() > 0
            && runqlen(pp) < (RUNQ_SIZE / 2) as u32
            && netpoll::poll_due(sys::nanotime())
        {
            netpoll::netpoll(Some(0)).ready_all();
        }
        // Fairness: now and then look at the global queue first, or two goroutines that keep
        // each other busy on the local queue would starve it (Go does the same every 61).
        if pp.schedtick % GLOBAL_RUNQ_CHECK == 0 && RUNQSIZE.load(Ordering::Acquire) != 0 {
            SCHED_LOCK.lock();
            let gp = globrunqget(pp, 1);
            SCHED_LOCK.unlock();
            if !gp.is_null() {
                return (gp, false);
            }
        }
        if let Some(r) = runqget(pp) {
            return r;
        }
        if RUNQSIZE.load(Ordering::Acquire) != 0 {
            SCHED_LOCK.lock();
            let gp = globrunqget(pp, 0);
            SCHED_LOCK.unlock();
            if !gp.is_null() {
                return (gp, false);
            }
        }
        // Before stealing: goroutines made ready by the network (Go does the same).
        if netpoll::poll_useful() {
            let mut list = netpoll::netpoll(Some(0));
            let gp = netpoll_take(&mut list);
            list.ready_all();
            if !gp.is_null() {
                return (gp, false);
            }
        }
        let procs = gomaxprocs() as i32;
        if m.spinning
            || 2 * NMSPINNING.load(Ordering::Acquire)
                < procs - NPIDLE.load(Ordering::Acquire) as i32
        {
            if !m.spinning {
                m.spinning = true;
                NMSPINNING.fetch_add(1, Ordering::AcqRel);
            }
            let gp = steal_work(m, pp);
            if !gp.is_null() {
                return (gp, false);
            }
        }
        // Nothing to run while a cycle marks: mark instead of sleeping (Go's idle mark
        // workers), a step at a time, until a goroutine is ready or the grey work is gone
        // (none in the pool, and none given back by the markers that hold some).
        // As in Go, the M stops spinning first (and wakes another spinner if a P is idle):
        // a spinning M that marked would keep every wakep, the markers' too, from waking
        // anyone. Work queued after that decrement is seen by work_ready, which runs after
        // it (before marking, between steps, and after), as the recheck below does for
        // an M that gives its P up.
        if crate::gcwork::idle_work_hint() && cpu_free_to_mark(pp) {
            if m.spinning {
                resetspinning(m);
            }
            let pp: &P = pp;
            if work_ready(pp)
                || crate::gcwork::idle_mark(&mut m.gcw, || work_ready(pp))
                || work_ready(pp)
            {
                continue 'top;
            }
        }
        // Nothing: give the P back.
        SCHED_LOCK.lock();
        if RUNQSIZE.load(Ordering::Relaxed) != 0 {
            let gp = globrunqget(pp, 0);
            SCHED_LOCK.unlock();
            return (gp, false);
        }
        let pp = releasep(m);
        pidleput(pp);
        SCHED_LOCK.unlock();
        let was_spinning = m.spinning;
        if m.spinning {
            m.spinning = false;
            if NMSPINNING.fetch_sub(1, Ordering::AcqRel) <= 0 {
                crate::throw!("findrunnable: negative nmspinning");
            }
        }
        // Work may have been queued after we looked and before our P went idle (its owner
        // saw no idle P and did not wake anyone): look again.
        if was_spinning {
            // Grey work put in the pool while we spun: its wakep saw us spinning. (With the
            // same rule as above: without it, an M refused a CPU took its P back here and
            // went round again, spinning through the whole marking, and mark termination
            // had to signal it: its pause doubled.)
            if crate::gcwork::idle_work_hint()
                && cpu_free_to_mark(core::ptr::null())
                && acquire_idle_p(m)
            {
                continue 'top;
            }
            for i in 0..procs as usize {
                if !runqempty(allp(i)) {
                    if acquire_idle_p(m) {
                        m.spinning = true;
                        NMSPINNING.fetch_add(1, Ordering::AcqRel);
                        continue 'top;
                    }
                    break;
                }
            }
        }
        if time::expired(sys::nanotime()) && acquire_idle_p(m) {
            continue 'top;
        }
        // Instead of sleeping, one idle M at a time blocks in the poller until the earliest
        // timer: descriptor wakeups and timers share one wait.
        if let Some(until) = netpoll::try_block() {
            let delay = (until != u64::MAX).then(|| until.saturating_sub(sys::nanotime()));
            // Idle for a stop of the world: it holds no P and touches no goroutine.
            crate::stw::idle_enter(m);
            let mut list = netpoll::netpoll(delay);
            netpoll::unblock();
            crate::stw::idle_exit(m);
            SCHED_LOCK.lock();
            let pp = pidleget();
            SCHED_LOCK.unlock();
            if !pp.is_null() {
                acquirep(m, pp);
                let gp = netpoll_take(&mut list);
                list.ready_all();
                if !gp.is_null() {
                    return (gp, false);
                }
                continue 'top;
            }
            inject_global(&mut list);
        } else if netpoll::blocked() {
            // Another M blocks in the poller and watches the timers: make sure it watches the
            // earliest (one added while we looked may be earlier than its deadline).
            if let Some(w) = time::next_when() {
                netpoll::timer_added(w);
            }
        }
        stopm(m);
    }
}

/// Whether a CPU is free for this M (holding `pp`, or null, with nothing to run) to mark on. An idle
/// P is not an idle CPU here, as it is in Go: the collector's thread is not an M and marks
/// on a CPU of its own, and registered threads run the program outside the Ps. So the
/// CPUs in use are the collector's, one per registered thread (counted as busy), one per
/// P running a goroutine, and one per other M marking; on two CPUs, an M marks while the
/// program runs nothing (GCBench with two Ps: a marker beside the collector and the
/// goroutine only took turns with them, 1.0 of the time without; gc.h programs, whose
/// threads are all registered: slower).
pub(crate) fn cpu_free_to_mark(pp: *const P) -> bool {
    let mut busy = 1 + crate::regthreads::count() + crate::gcwork::idle_markers();
    for i in 0..gomaxprocs() {
        let p = allp(i);
        if core::ptr::eq(p, pp) || p.status.load(Ordering::Relaxed) != PRUNNING {
            continue;
        }
        // SAFETY: Ms are never freed (as sysmon reads it: a P that changed hands meanwhile
        // only miscounts once); read once, volatile, as another thread writes it.
        let m = unsafe { core::ptr::read_volatile(&p.m).as_ref() };
        if m.is_some_and(|m| !m.curg.load(Ordering::Relaxed).is_null()) {
            busy += 1;
        }
    }
    busy < ncpu()
}

/// Takes an idle P for this M (which has none), if there is one.
fn acquire_idle_p(m: &mut M) -> bool {
    SCHED_LOCK.lock();
    let pp = pidleget();
    SCHED_LOCK.unlock();
    if pp.is_null() {
        return false;
    }
    acquirep(m, pp);
    true
}

/// Whether an M marking while idle should stop and look for work again: a goroutine queued
/// anywhere, a timer due, or goroutines the network made ready (asked between two steps of
/// marking, so at most one step late). Unless an M already blocks in the poller, nobody
/// does while the idle M marks, so it polls, without blocking, as often as a busy P does
/// (Go's pollWork), and queues what it finds.
fn work_ready(pp: &P) -> bool {
    if !runqempty(pp) || RUNQSIZE.load(Ordering::Acquire) != 0 {
        return true;
    }
    for i in 0..gomaxprocs() {
        if !runqempty(allp(i)) {
            return true;
        }
    }
    let now = sys::nanotime();
    if netpoll::poll_due(now) {
        let mut list = netpoll::netpoll(Some(0));
        if list.n != 0 {
            inject_global(&mut list);
            return true;
        }
    }
    time::expired(now)
}

/// The first goroutine of `list` that may run (made runnable), or null.
fn netpoll_take(list: &mut netpoll::GList) -> *mut G {
    // Bounded by the list's length.
    loop {
        let gp = list.pop();
        // SAFETY: a parked G the poller just took off a wait list.
        if gp.is_null() || suspend::make_runnable(unsafe { &*gp }) {
            return gp;
        }
    }
}

/// Queues the goroutines of `list` on the global queue (the caller holds no P: the blocked
/// poller, sysmon) and wakes an M for them.
pub(crate) fn inject_global(list: &mut netpoll::GList) {
    if list.n == 0 {
        return;
    }
    // Bounded by the list's length.
    loop {
        let gp = list.pop();
        if gp.is_null() {
            break;
        }
        // SAFETY: as in netpoll_take.
        if suspend::make_runnable(unsafe { &*gp }) {
            SCHED_LOCK.lock();
            globrunqput(gp);
            SCHED_LOCK.unlock();
        }
    }
    wakep();
}

/// Four passes over the other Ps in random order; the last one also takes `runnext`.
pub(crate) fn steal_work(m: &mut M, pp: &P) -> *mut G {
    let procs = gomaxprocs();
    for pass in 0..4 {
        let steal_next = pass == 3;
        let start = fastrand(m) as usize % procs;
        for k in 0..procs {
            let p2 = allp((start + k) % procs);
            if ptr::eq(p2, pp) {
                continue;
            }
            let gp = runqsteal(pp, p2, steal_next);
            if !gp.is_null() {
                return gp;
            }
        }
    }
    null_mut()
}
