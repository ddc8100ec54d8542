//! The runtime's own OS-thread locks and one-shot wakeups, on futexes (Go's `lock_futex.go`).
//!
//! [`Lock`] guards scheduler state (the global run queue, idle lists, timers, channels). It
//! spins briefly, then sleeps in the kernel, so a holder that is descheduled does not make
//! every other M burn its time slice. It must never be taken inside a signal handler: the
//! interrupted thread may hold it.
//!
//! [`Note`] is Go's `note`: one thread sleeps until another wakes it, exactly once per
//! [`Note::clear`]. An M parks on its note when it has nothing to run.

use core::sync::atomic::{AtomicU32, Ordering};

use grt_arch as arch;

use crate::sys;

const UNLOCKED: u32 = 0;
const LOCKED: u32 = 1;
/// Locked, and at least one thread may be asleep in the kernel waiting for it.
const SLEEPING: u32 = 2;

/// Active spins (with a pause) before yielding the CPU, when there is more than one CPU.
const ACTIVE_SPIN: u32 = 4;
/// Pause instructions per active spin.
const ACTIVE_SPIN_CNT: u32 = 30;
/// sched_yield rounds before sleeping in the kernel.
const PASSIVE_SPIN: u32 = 1;

pub struct Lock {
    key: AtomicU32,
    /// Threads in the slow path of [`Lock::lock`] (spinning or asleep): what
    /// [`Lock::hand_over`] waits for.
    waiters: AtomicU32,
}

impl Lock {
    pub const fn new() -> Lock {
        Lock {
            key: AtomicU32::new(UNLOCKED),
            waiters: AtomicU32::new(0),
        }
    }

    #[inline]
    pub fn lock(&self) {
        // Fast path: uncontended.
        if self
            .key
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
        self.lock_slow();
    }

    /// Takes the lock if it is free; never waits.
    #[inline]
    pub fn try_lock(&self) -> bool {
        self.key
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[cold]
    fn lock_slow(&self) {
        self.waiters.fetch_add(1, Ordering::Relaxed);
        self.lock_contended();
        self.waiters.fetch_sub(1, Ordering::Relaxed);
    }

    fn lock_contended(&self) {
        // Once we have seen contention we must leave SLEEPING behind when we take the lock,
        // since other threads may be asleep waiting for it.
        let mut wait = self.key.swap(LOCKED, Ordering::Acquire);
        if wait == UNLOCKED {
            return;
        }
        let spin = if crate::proc::ncpu() > 1 {
            ACTIVE_SPIN
        } else {
            0
        };
        loop {
            for _ in 0..spin {
                if self.try_take(wait) {
                    return;
                }
                for _ in 0..ACTIVE_SPIN_CNT {
                    arch::cpu_relax();
                }
            }
            for _ in 0..PASSIVE_SPIN {
                if self.try_take(wait) {
                    return;
                }
                sys::sched_yield();
            }
            // Sleep: mark the lock as having sleepers.
            if self.key.swap(SLEEPING, Ordering::Acquire) == UNLOCKED {
                return;
            }
            wait = SLEEPING;
            // Parked: stopping the world (which may hold this lock), or stopping a running
            // goroutine to scan it, need not signal this thread (suspend.rs).
            crate::suspend::futex_wait_parked(&self.key, SLEEPING);
        }
    }

    fn try_take(&self, wait: u32) -> bool {
        while self.key.load(Ordering::Relaxed) == UNLOCKED {
            if self
                .key
                .compare_exchange(UNLOCKED, wait, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return true;
            }
        }
        false
    }

    #[inline]
    pub fn unlock(&self) {
        match self.key.swap(UNLOCKED, Ordering::Release) {
            LOCKED => {}
            SLEEPING => sys::futex_wake_private(&self.key, 1),
            _ => crate::throw!("unlock of an unlocked runtime lock"),
        }
    }

    /// For a thread that takes the lock again and again in a long loop (the collector's
    /// marking and background sweep), called just after an unlock: if others wait for the
    /// lock, lets one of them have it before the loop takes it back. This lock is not fair:
    /// the loop's next `lock` comes within nanoseconds of its unlock, a spinning waiter
    /// polls far less often, and a sleeping one takes tens of microseconds to wake, so
    /// without this a waiter (an allocation refilling its cache) slept through the whole
    /// loop. Waits at most `max_ns` nanoseconds (the waiter may be slow to wake, stopped, or
    /// gone); with one CPU it yields it, since the waiter cannot run otherwise.
    pub fn hand_over(&self, max_ns: u64) {
        let waiting = || {
            self.waiters.load(Ordering::Relaxed) > 0 && self.key.load(Ordering::Relaxed) == UNLOCKED
        };
        if !waiting() {
            return;
        }
        let one_cpu = crate::proc::ncpu() <= 1;
        let t0 = sys::nanotime();
        let mut n = 0u32;
        while waiting() {
            if one_cpu {
                sys::sched_yield();
            } else {
                arch::cpu_relax();
            }
            n = n.wrapping_add(1);
            if n % 64 == 0 && sys::nanotime() - t0 >= max_ns {
                return;
            }
        }
    }

    /// Runs `f` with the lock held.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        self.lock();
        let r = f();
        self.unlock();
        r
    }
}

impl Default for Lock {
    fn default() -> Self {
        Lock::new()
    }
}

/// A one-shot wakeup between OS threads.
pub struct Note {
    key: AtomicU32,
}

impl Note {
    pub const fn new() -> Note {
        Note {
            key: AtomicU32::new(0),
        }
    }

    /// Re-arms the note. Only when nobody sleeps on it and no wakeup is in flight.
    pub fn clear(&self) {
        self.key.store(0, Ordering::Relaxed);
    }

    pub fn wakeup(&self) {
        if self.key.swap(1, Ordering::Release) != 0 {
            crate::throw!("notewakeup: double wakeup");
        }
        sys::futex_wake_private(&self.key, 1);
    }

    /// Sleeps until [`Note::wakeup`].
    pub fn sleep(&self) {
        while self.key.load(Ordering::Acquire) == 0 {
            let _ = sys::futex_wait_private(&self.key, 0, None);
        }
    }

    /// Sleeps until woken or until `ns` nanoseconds have passed; true if woken.
    pub fn sleep_timeout(&self, ns: u64) -> bool {
        let deadline = sys::nanotime().saturating_add(ns);
        loop {
            if self.key.load(Ordering::Acquire) != 0 {
                return true;
            }
            let now = sys::nanotime();
            if now >= deadline {
                return false;
            }
            let _ = sys::futex_wait_private(&self.key, 0, Some(deadline - now));
        }
    }

    pub fn is_woken(&self) -> bool {
        self.key.load(Ordering::Acquire) != 0
    }
}

impl Default for Note {
    fn default() -> Self {
        Note::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn lock_excludes() {
        struct Shared {
            l: Lock,
            n: core::cell::UnsafeCell<u64>,
        }
        unsafe impl Sync for Shared {}
        let s = Arc::new(Shared {
            l: Lock::new(),
            n: core::cell::UnsafeCell::new(0),
        });
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        // SAFETY: guarded by the lock.
                        s.l.with(|| unsafe { *s.n.get() += 1 });
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(unsafe { *s.n.get() }, 80_000);
    }

    /// A loop that takes the lock back right after each unlock starves a waiter (it spins
    /// too rarely to see the gap, or sleeps and wakes too late); with `hand_over` after each
    /// unlock, the waiter has the lock within a round or two of asking. Counted from the
    /// first unlock after which the loop sees the waiter registered (not from when the waiter
    /// meant to ask: under qemu on a busy machine the waiting thread itself may not run for
    /// many rounds before its `lock`, seen in CI as 13 rounds).
    fn rounds_waited(hand: bool) -> u64 {
        use std::sync::atomic::{AtomicBool, AtomicU64};
        const ROUNDS: u64 = 400;
        const HOLD: std::time::Duration = std::time::Duration::from_micros(50);
        let l = Arc::new(Lock::new());
        let round = Arc::new(AtomicU64::new(0));
        let asked = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(AtomicU64::new(u64::MAX));
        let (l2, round2, asked2, seen2) = (l.clone(), round.clone(), asked.clone(), seen.clone());
        let looper = std::thread::spawn(move || {
            for r in 0..ROUNDS {
                l2.lock();
                round2.store(r, Ordering::SeqCst);
                let t = std::time::Instant::now();
                while t.elapsed() < HOLD {}
                l2.unlock();
                if r == 10 {
                    asked2.store(true, Ordering::SeqCst);
                }
                if seen2.load(Ordering::SeqCst) == u64::MAX && l2.waiters.load(Ordering::SeqCst) > 0
                {
                    seen2.store(r, Ordering::SeqCst);
                }
                if hand {
                    l2.hand_over(100_000_000);
                }
            }
        });
        while !asked.load(Ordering::SeqCst) {
            std::hint::spin_loop();
        }
        l.lock();
        let got = round.load(Ordering::SeqCst);
        l.unlock();
        looper.join().unwrap();
        // Never seen waiting: it found the lock free at once (or only after the loop).
        got.saturating_sub(seen.load(Ordering::SeqCst).min(got))
    }

    #[test]
    fn hand_over_lets_a_waiter_in() {
        let waited = rounds_waited(true);
        assert!(waited <= 3, "waited {waited} rounds of the loop");
    }

    #[test]
    fn note_wakes_and_times_out() {
        let n = Arc::new(Note::new());
        assert!(!n.sleep_timeout(1_000_000));
        let n2 = n.clone();
        let h = std::thread::spawn(move || n2.wakeup());
        n.sleep();
        h.join().unwrap();
        assert!(n.is_woken());
        n.clear();
        assert!(!n.is_woken());
    }
}
