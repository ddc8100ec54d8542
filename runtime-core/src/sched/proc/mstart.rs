//! Waking and stopping Ms: newm, the mstarter thread, mstart, stopm/startm, wakep. Part of the scheduler (`proc`, whose mod.rs explains the whole).

use super::*;

/// Work appeared: make sure some M will look for it, if a P is idle and none is looking.
pub fn wakep() {
    // Store-load fence: our caller just queued work (a plain release store); an M that is
    // giving up decrements NMSPINNING (a locked RMW) and then re-reads the queues. Without
    // this fence both could read the other's old value and the work would sit unseen.
    core::sync::atomic::fence(Ordering::SeqCst);
    if NPIDLE.load(Ordering::Acquire) == 0 {
        return;
    }
    if NMSPINNING.load(Ordering::Acquire) != 0
        || NMSPINNING
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    startm(null_mut(), true);
}

/// Runs some M on `pp` (an idle P if null). `spinning`: the caller already counted it in
/// NMSPINNING.
pub(crate) fn startm(mut pp: *mut P, spinning: bool) {
    SCHED_LOCK.lock();
    if pp.is_null() {
        pp = pidleget();
        if pp.is_null() {
            SCHED_LOCK.unlock();
            if spinning {
                NMSPINNING.fetch_sub(1, Ordering::AcqRel);
            }
            return;
        }
    }
    let nmp = mget();
    if nmp.is_null() {
        sched().mcount += 1;
        SCHED_LOCK.unlock();
        newm(pp, spinning);
        return;
    }
    SCHED_LOCK.unlock();
    // SAFETY: an idle M off the list is ours to hand a P to; it sleeps on its note.
    let m = unsafe { &mut *nmp };
    if m.spinning || !m.nextp.is_null() {
        crate::throw!("startm: idle M is spinning or has a P");
    }
    m.spinning = spinning;
    m.nextp = pp;
    m.park.wakeup();
}

/// Hands off a P whose M is blocked in a syscall (sysmon) or has nothing for it.
pub(crate) fn handoffp(pp: *mut P) {
    // SAFETY: the caller owns pp (just retaken).
    let p = unsafe { &mut *pp };
    if !runqempty(p) || RUNQSIZE.load(Ordering::Acquire) != 0 {
        startm(pp, false);
        return;
    }
    if NMSPINNING.load(Ordering::Acquire) + NPIDLE.load(Ordering::Acquire) as i32 == 0
        && NMSPINNING
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    {
        startm(pp, true);
        return;
    }
    SCHED_LOCK.lock();
    if RUNQSIZE.load(Ordering::Relaxed) != 0 {
        SCHED_LOCK.unlock();
        startm(pp, false);
        return;
    }
    // The last P going idle while timers are pending or goroutines wait on descriptors:
    // some M must watch them (block in the poller).
    if (time::pending() || netpoll::waiters() > 0)
        && NPIDLE.load(Ordering::Relaxed) as usize == gomaxprocs() - 1
    {
        SCHED_LOCK.unlock();
        startm(pp, false);
        return;
    }
    pidleput(p);
    SCHED_LOCK.unlock();
}

/// Sleeps on the M's note (for at most `timeout` ns), as an idle M that stopping the world
/// need not signal (stw.rs). True if woken.
fn idle_sleep(m: &M, timeout: Option<u64>) -> bool {
    crate::stw::idle_enter(m);
    let woken = match timeout {
        None => {
            m.park.sleep();
            true
        }
        Some(ns) => m.park.sleep_timeout(ns),
    };
    crate::stw::idle_exit(m);
    woken
}

/// Parks the M until startm gives it a P (and returns with that P acquired).
pub(crate) fn stopm(m: &mut M) {
    if m.spinning {
        crate::throw!("stopm: M is spinning");
    }
    if !m.p.is_null() {
        crate::throw!("stopm: M holds a P");
    }
    loop {
        SCHED_LOCK.lock();
        mput(m);
        checkdead();
        let s = sched();
        // An M blocked in the poller watches the timers already.
        let deadline = if s.timer_sleeper.is_null()
            && NPIDLE.load(Ordering::Relaxed) > 0
            && !netpoll::blocked()
        {
            time::next_when()
        } else {
            None
        };
        if let Some(d) = deadline {
            s.timer_sleeper = m;
            s.sleep_until = d;
        }
        SCHED_LOCK.unlock();
        let Some(d) = deadline else {
            idle_sleep(m, None);
            m.park.clear();
            break;
        };
        let now = sys::nanotime();
        let woken = d > now && idle_sleep(m, Some(d - now));
        SCHED_LOCK.lock();
        if sched().timer_sleeper == m as *mut M {
            sched().timer_sleeper = null_mut();
        }
        if woken || !mremove(m) {
            // Someone took us off the idle list; their wakeup has come or is coming.
            SCHED_LOCK.unlock();
            idle_sleep(m, None);
            m.park.clear();
            if m.nextp.is_null() {
                continue; // woken by an earlier timer: sleep again with the new deadline
            }
            break;
        }
        // Timed out and still ours: take a P to run the expired timers, if there is one.
        let pp = pidleget();
        SCHED_LOCK.unlock();
        if !pp.is_null() {
            m.nextp = pp;
            break;
        }
    }
    let pp = core::mem::replace(&mut m.nextp, null_mut());
    acquirep(m, pp);
}

/// A timer earlier than the sleeper's deadline was added: wake the sleeper (or any M).
pub fn wake_timer_sleeper(when: u64) {
    if netpoll::timer_added(when) {
        return; // the M blocked in the poller watches the timers
    }
    SCHED_LOCK.lock();
    let s = sched();
    let sl = s.timer_sleeper;
    if !sl.is_null() {
        if when >= s.sleep_until {
            SCHED_LOCK.unlock();
            return;
        }
        if mremove(sl) {
            s.timer_sleeper = null_mut();
            SCHED_LOCK.unlock();
            // SAFETY: taken off the idle list under the lock: ours to wake, with no P.
            unsafe { (*sl).park.wakeup() };
            return;
        }
        // The sleeper is already being woken for other work: get another M to watch.
        SCHED_LOCK.unlock();
        wakep();
        return;
    }
    SCHED_LOCK.unlock();
    wakep();
}

pub(crate) fn resetspinning(m: &mut M) {
    m.spinning = false;
    if NMSPINNING.fetch_sub(1, Ordering::AcqRel) <= 0 {
        crate::throw!("resetspinning: negative nmspinning");
    }
    wakep();
}

pub(crate) fn newm(pp: *mut P, spinning: bool) {
    let m = rtalloc::persistentalloc(core::mem::size_of::<M>(), 64) as *mut M;
    let g0 = new_g(GKind::G0);
    let gsignal = new_g(GKind::Gsignal);
    if m.is_null() || g0.is_null() || gsignal.is_null() {
        crate::throw!("newm: out of memory for a new M");
    }
    let stk = match stack::alloc(G0_STACK_SIZE) {
        Ok(s) => s,
        Err(e) => crate::throw!("newm: cannot map a system stack: {:?}", e),
    };
    // SAFETY: fresh zeroed memory; the zero pattern is valid for M except `action`.
    let mr = unsafe {
        ptr::addr_of_mut!((*m).action).write(Action::None);
        &mut *m
    };
    // SAFETY: fresh Gs, ours until published.
    unsafe {
        (*g0).stk = stk;
        (*g0).stack = GStack {
            lo: stk.lo,
            hi: stk.hi,
        };
        (*g0).m.store(m, Ordering::Relaxed);
        (*gsignal).m.store(m, Ordering::Relaxed);
    }
    mr.g0 = g0;
    mr.gsignal = gsignal;
    mr.id = MNEXT.fetch_add(1, Ordering::Relaxed) as i64;
    mr.fastrand = 0x9e37_79b9_7f4a_7c15 ^ ((mr.id as u64 + 1) * 0x2545_f491_4f6c_dd1d);
    mr.nextp = pp;
    mr.spinning = spinning;
    allgadd(g0);
    allgadd(gsignal);
    SCHED_LOCK.lock();
    mr.alllink = sched().allm;
    sched().allm = m;
    SCHED_LOCK.unlock();
    crate::stw::allm_add(m);
    // The thread itself is made by the mstarter thread: a clone can block (under qemu-user,
    // with every signal held off until the child runs), and an M blocked there could not be
    // stopped by the collector's stop-the-world.
    let mut head = MSTART_LIST.load(Ordering::Acquire);
    loop {
        mr.startlink = head;
        match MSTART_LIST.compare_exchange_weak(head, m, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => break,
            Err(h) => head = h,
        }
    }
    MSTART_WAKE.fetch_add(1, Ordering::Release);
    sys::futex_wake_private(&MSTART_WAKE, 1);
}

/// Ms made by `newm` whose threads are yet to start (lock-free stack through `startlink`).
pub(crate) static MSTART_LIST: AtomicPtr<M> = AtomicPtr::new(null_mut());
/// Bumped for every push; the mstarter thread sleeps on it.
pub(crate) static MSTART_WAKE: AtomicU32 = AtomicU32::new(0);

/// The mstarter thread (not an M): starts the OS threads of new Ms.
pub(crate) unsafe extern "C" fn mstarter(_: *mut c_void) {
    loop {
        let seen = MSTART_WAKE.load(Ordering::Acquire);
        let mut m = MSTART_LIST.swap(null_mut(), Ordering::AcqRel);
        while !m.is_null() {
            // SAFETY: an M pushed by newm, not started yet: ours until its thread runs.
            let next = unsafe { (*m).startlink };
            if let Err(e) = thread::start(mstart, m as *mut c_void) {
                crate::throw!("newm: cannot start an OS thread: errno {}", e.0);
            }
            m = next;
        }
        if MSTART_WAKE.load(Ordering::Acquire) == seen {
            let _ = sys::futex_wait_private(&MSTART_WAKE, seen, None);
        }
    }
}

/// First code of a new M's thread (on the thread's own stack, with its alternate signal
/// stack in place): record who we are, then move to g0 for good.
pub(crate) unsafe extern "C" fn mstart(arg: *mut c_void) {
    let m = arg as *mut M;
    // SAFETY: the M was made for this thread by newm.
    let mr = unsafe { &mut *m };
    // TLS m first, so the suspend handler knows this thread from the moment the collector
    // can see its procid; then wait out a stopped world this M was not part of.
    arch::setm(m as usize);
    mr.procid.store(sys::gettid() as u32, Ordering::SeqCst);
    crate::stw::mstart_check();
    crate::cpuprof::mstart_hook(mr);
    // The control words this thread inherited from its creator: what goroutines run with.
    mr.fpctl = arch::current_control_words() & arch::CONTROL_WORDS_MASK;
    if let Some((lo, hi)) = signals::current_altstack() {
        // SAFETY: gsignal belongs to this M.
        unsafe { (*mr.gsignal).stack = GStack { lo, hi } };
    }
    // SAFETY: g0's stack is fresh and unused; this thread's own stack stays parked forever.
    unsafe {
        let g0 = &*mr.g0;
        setg(mr.g0);
        let ctx = arch::init_context(g0.stack.hi, mstart1, arg, ptr::null());
        let mut here = Context::default();
        arch::grt_context_switch(&mut here, &ctx);
    }
    crate::throw!("mstart: the thread's first stack was resumed");
}

pub(crate) unsafe extern "C" fn mstart1(_arg: *mut c_void) {
    let m = mp();
    let pp = core::mem::replace(&mut m.nextp, null_mut());
    acquirep(m, pp);
    schedule()
}
