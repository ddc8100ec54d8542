//! Run queues (Go's runqput / runqget / runqsteal, the global queue) and the idle lists of Ps and Ms. Part of the scheduler (`proc`, whose mod.rs explains the whole).

use super::*;

/// Goroutines on `pp`'s local queue (not counting `runnext`); exact for its owner.
pub(crate) fn runqlen(pp: &P) -> u32 {
    let tail = pp.runqtail.load(Ordering::Acquire);
    tail.wrapping_sub(pp.runqhead.load(Ordering::Acquire))
}

pub(crate) fn runqempty(pp: &P) -> bool {
    // Like Go: read head, tail, runnext, and tail again, so a G moving from runnext to the
    // queue is not missed.
    loop {
        let head = pp.runqhead.load(Ordering::Acquire);
        let tail = pp.runqtail.load(Ordering::Acquire);
        let next = pp.runnext.load(Ordering::Acquire);
        if tail == pp.runqtail.load(Ordering::Acquire) {
            return head == tail && next.is_null();
        }
    }
}

/// Queues `gp` on `pp` (owner only). `next`: into `runnext`, bumping the old one to the tail.
pub fn runqput(pp: &P, mut gp: *mut G, next: bool) {
    if next {
        let old = pp.runnext.swap(gp, Ordering::AcqRel);
        if old.is_null() {
            return;
        }
        gp = old;
    }
    loop {
        let h = pp.runqhead.load(Ordering::Acquire);
        let t = pp.runqtail.load(Ordering::Relaxed);
        if t.wrapping_sub(h) < RUNQ_SIZE as u32 {
            pp.runq[t as usize % RUNQ_SIZE].store(gp, Ordering::Relaxed);
            pp.runqtail.store(t.wrapping_add(1), Ordering::Release);
            return;
        }
        if runqputslow(pp, gp, h, t) {
            return;
        }
    }
}

/// The local queue is full: move half of it and `gp` to the global queue.
pub(crate) fn runqputslow(pp: &P, gp: *mut G, h: u32, t: u32) -> bool {
    let n = t.wrapping_sub(h) / 2;
    let mut batch = [null_mut::<G>(); RUNQ_SIZE / 2 + 1];
    for i in 0..n {
        batch[i as usize] = pp.runq[h.wrapping_add(i) as usize % RUNQ_SIZE].load(Ordering::Relaxed);
    }
    if pp
        .runqhead
        .compare_exchange(h, h.wrapping_add(n), Ordering::AcqRel, Ordering::Relaxed)
        .is_err()
    {
        return false;
    }
    batch[n as usize] = gp;
    for i in 0..n as usize {
        // SAFETY: the Gs were just taken off the queue; we own their links.
        unsafe { (*batch[i]).schedlink = batch[i + 1] };
    }
    SCHED_LOCK.lock();
    globrunqputbatch(batch[0], batch[n as usize], n + 1);
    SCHED_LOCK.unlock();
    true
}

/// Takes a G from `pp`'s queue (owner only); true in the second value if it came from
/// `runnext` (it inherits the time slice).
pub(crate) fn runqget(pp: &mut P) -> Option<(*mut G, bool)> {
    let next = pp.runnext.load(Ordering::Acquire);
    let queued = pp.runqhead.load(Ordering::Acquire) != pp.runqtail.load(Ordering::Acquire);
    if !next.is_null()
        && (pp.runnext_streak < RUNNEXT_STREAK_MAX || !queued)
        && pp
            .runnext
            .compare_exchange(next, null_mut(), Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    {
        pp.runnext_streak += 1;
        return Some((next, true));
    }
    #[cfg(test)]
    tests::runqget_hook(pp);
    pp.runnext_streak = 0;
    loop {
        let h = pp.runqhead.load(Ordering::Acquire);
        let t = pp.runqtail.load(Ordering::Relaxed);
        if t == h {
            // Thieves may have emptied the queue since `queued` was read, while runnext was
            // passed over for the streak: take it now. Returning None with a G in runnext
            // would let findrunnable idle a P that has work ("pidleput: P has a non-empty
            // run queue").
            let next = pp.runnext.load(Ordering::Acquire);
            if next.is_null() {
                return None;
            }
            if pp
                .runnext
                .compare_exchange(next, null_mut(), Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                pp.runnext_streak = 1;
                return Some((next, true));
            }
            continue;
        }
        let gp = pp.runq[h as usize % RUNQ_SIZE].load(Ordering::Relaxed);
        if pp
            .runqhead
            .compare_exchange(h, h.wrapping_add(1), Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            return Some((gp, false));
        }
    }
}

/// Copies half of `pp`'s queue into `batch` from `batchhead`; returns how many.
pub(crate) fn runqgrab(
    pp: &P,
    batch: &[AtomicPtr<G>; RUNQ_SIZE],
    batchhead: u32,
    steal_next: bool,
) -> u32 {
    loop {
        let h = pp.runqhead.load(Ordering::Acquire);
        let t = pp.runqtail.load(Ordering::Acquire);
        let mut n = t.wrapping_sub(h);
        n -= n / 2;
        if n == 0 {
            if steal_next {
                let next = pp.runnext.load(Ordering::Acquire);
                if !next.is_null() {
                    if pp.status.load(Ordering::Relaxed) == PRUNNING {
                        // The owner is probably about to run it (a woken receiver, say):
                        // give it a moment rather than bouncing the G between Ps. Go sleeps
                        // 3 µs here.
                        sys::nanosleep(3_000);
                    }
                    if pp
                        .runnext
                        .compare_exchange(next, null_mut(), Ordering::AcqRel, Ordering::Relaxed)
                        .is_err()
                    {
                        continue;
                    }
                    batch[batchhead as usize % RUNQ_SIZE].store(next, Ordering::Relaxed);
                    return 1;
                }
            }
            return 0;
        }
        if n > RUNQ_SIZE as u32 / 2 {
            continue; // read an inconsistent h and t
        }
        for i in 0..n {
            let g = pp.runq[h.wrapping_add(i) as usize % RUNQ_SIZE].load(Ordering::Relaxed);
            batch[batchhead.wrapping_add(i) as usize % RUNQ_SIZE].store(g, Ordering::Relaxed);
        }
        if pp
            .runqhead
            .compare_exchange(h, h.wrapping_add(n), Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            return n;
        }
    }
}

/// Steals half of `p2`'s queue into `pp`'s; returns one G to run.
pub(crate) fn runqsteal(pp: &P, p2: &P, steal_next: bool) -> *mut G {
    let t = pp.runqtail.load(Ordering::Relaxed);
    let mut n = runqgrab(p2, &pp.runq, t, steal_next);
    if n == 0 {
        return null_mut();
    }
    n -= 1;
    let gp = pp.runq[t.wrapping_add(n) as usize % RUNQ_SIZE].load(Ordering::Relaxed);
    if n == 0 {
        return gp;
    }
    let h = pp.runqhead.load(Ordering::Acquire);
    if t.wrapping_sub(h).wrapping_add(n) >= RUNQ_SIZE as u32 {
        crate::throw!("runqsteal: run queue overflow");
    }
    pp.runqtail.store(t.wrapping_add(n), Ordering::Release);
    gp
}

/// Global queue; `SCHED_LOCK` held.
pub(crate) fn globrunqput(gp: *mut G) {
    // SAFETY: gp is runnable and owned by the caller; list under the lock.
    unsafe { (*gp).schedlink = null_mut() };
    globrunqputbatch(gp, gp, 1);
}

pub(crate) fn globrunqputbatch(head: *mut G, tail: *mut G, n: u32) {
    let s = sched();
    // SAFETY: tail is ours until queued.
    unsafe { (*tail).schedlink = null_mut() };
    if s.runqtail.is_null() {
        s.runqhead = head;
    } else {
        // SAFETY: the queue's tail is a queued G.
        unsafe { (*s.runqtail).schedlink = head };
    }
    s.runqtail = tail;
    RUNQSIZE.fetch_add(n, Ordering::Release);
}

/// Takes a fair share of the global queue (at most `max`, 0: no limit) into `pp`, returning
/// one to run; `SCHED_LOCK` held. The rest go to `pp`'s local queue, which must have room
/// for them (empty, or `max` 1) so that runqput never needs the lock we hold.
pub(crate) fn globrunqget(pp: &P, max: u32) -> *mut G {
    let size = RUNQSIZE.load(Ordering::Relaxed);
    if size == 0 {
        return null_mut();
    }
    let procs = gomaxprocs() as u32;
    let mut n = size.min(size / procs + 1).min(RUNQ_SIZE as u32 / 2);
    if max > 0 {
        n = n.min(max);
    }
    let s = sched();
    let take = |s: &mut Sched| {
        let gp = s.runqhead;
        // SAFETY: queued Gs are owned by the queue (under the lock).
        s.runqhead = unsafe { (*gp).schedlink };
        if s.runqhead.is_null() {
            s.runqtail = null_mut();
        }
        gp
    };
    RUNQSIZE.fetch_sub(n, Ordering::Relaxed);
    let first = take(s);
    for _ in 1..n {
        runqput(pp, take(s), false);
    }
    first
}

// ---- idle Ps and Ms (SCHED_LOCK held) ------------------------------------------------------

pub(crate) fn pidleput(pp: &mut P) {
    if !runqempty(pp) {
        crate::throw!("pidleput: P has a non-empty run queue");
    }
    pp.status.store(PIDLE, Ordering::Release);
    pp.link = sched().pidle;
    sched().pidle = pp;
    NPIDLE.fetch_add(1, Ordering::AcqRel);
}

pub(crate) fn pidleget() -> *mut P {
    let pp = sched().pidle;
    if !pp.is_null() {
        // SAFETY: idle Ps are owned by the list.
        sched().pidle = unsafe { (*pp).link };
        NPIDLE.fetch_sub(1, Ordering::AcqRel);
    }
    pp
}

pub(crate) fn mput(m: &mut M) {
    m.schedlink = sched().midle;
    sched().midle = m;
    sched().nmidle += 1;
}

pub(crate) fn mget() -> *mut M {
    let m = sched().midle;
    if !m.is_null() {
        // SAFETY: idle Ms are on the list under the lock.
        sched().midle = unsafe { (*m).schedlink };
        sched().nmidle -= 1;
    }
    m
}

/// Takes `m` off the idle list if it is there.
pub(crate) fn mremove(m: *mut M) -> bool {
    let s = sched();
    let mut link: *mut *mut M = &mut s.midle;
    // Bounded by the number of Ms.
    // SAFETY: the list is under the lock; link points at a live `*mut M` slot.
    unsafe {
        while !(*link).is_null() {
            if *link == m {
                *link = (*m).schedlink;
                s.nmidle -= 1;
                return true;
            }
            link = &mut (**link).schedlink;
        }
    }
    false
}

pub(crate) fn acquirep(m: &mut M, pp: *mut P) {
    // SAFETY: pp is an idle P handed to this M.
    let p = unsafe { &mut *pp };
    if !p.m.is_null() || p.status.load(Ordering::Relaxed) != PIDLE {
        crate::throw!("acquirep: P {} is not idle", p.id);
    }
    m.p = pp;
    p.m = m;
    p.status.store(PRUNNING, Ordering::Release);
}

pub(crate) fn releasep(m: &mut M) -> &'static mut P {
    // SAFETY: the M holds this P.
    let p = unsafe { &mut *m.p };
    p.m = null_mut();
    m.p = null_mut();
    p.status.store(PIDLE, Ordering::Release);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Called by runqget between its runnext decision and the queue (test builds only).
    static HOOK: AtomicUsize = AtomicUsize::new(0);

    pub(super) fn runqget_hook(pp: &mut P) {
        let f = HOOK.swap(0, Ordering::SeqCst);
        if f != 0 {
            // SAFETY: set below to a `fn(&mut P)`.
            let f: fn(&mut P) = unsafe { core::mem::transmute(f) };
            f(pp);
        }
    }

    fn new_p() -> Box<P> {
        // SAFETY: all-zero is a valid idle P (schedinit relies on the same).
        Box::new(unsafe { core::mem::zeroed() })
    }

    static THIEF: AtomicPtr<P> = AtomicPtr::new(null_mut());

    /// The race behind a CI failure: runnext is passed over (its streak is used up) because
    /// the queue is not empty, then a thief empties the queue before the owner reads it.
    /// runqget must still return the G in runnext, not None.
    #[test]
    fn runqget_takes_runnext_when_thieves_empty_the_queue() {
        let mut pp = new_p();
        let thief = new_p();
        let (g1, g2) = (0x1000 as *mut G, 0x2000 as *mut G);
        runqput(&pp, g2, false);
        runqput(&pp, g1, true);
        pp.runnext_streak = RUNNEXT_STREAK_MAX;
        THIEF.store(&*thief as *const P as *mut P, Ordering::SeqCst);
        fn steal_all(pp: &mut P) {
            // SAFETY: the test's thief P, alive for the whole test.
            let thief = unsafe { &*THIEF.load(Ordering::SeqCst) };
            assert_eq!(runqsteal(thief, pp, false), 0x2000 as *mut G);
        }
        HOOK.store(steal_all as fn(&mut P) as usize, Ordering::SeqCst);
        assert_eq!(runqget(&mut pp), Some((g1, true)));
        assert!(runqempty(&pp));
        assert_eq!(runqget(&mut pp), None);
    }
}
