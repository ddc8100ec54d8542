//! `grt_mutex` and `grt_waitgroup`: plain C structs (statically initialisable, no
//! allocation) whose waiters park as goroutines on sema.rs, never as OS threads.
//!
//! Mutex: the three-state futex mutex (0 unlocked, 1 locked, 2 locked with possible
//! waiters; Drepper, "Futexes Are Tricky"). Unlock swaps in 0 and wakes one waiter only if
//! the state was 2; a woken waiter re-takes it by swapping in 2 (it cannot know whether
//! others still wait).
//!
//! WaitGroup: a 64-bit counter and a 32-bit generation word. When the counter reaches zero
//! the generation moves on and every waiter parked on it wakes; a waiter parks only on the
//! generation it read before checking the counter, so it cannot miss that transition.

use core::sync::atomic::{AtomicI64, AtomicU32, Ordering};

use crate::runtime2::WaitReason;
use crate::{proc, sema};

/// Spins before parking, when there are several CPUs (the holder may release soon).
const MUTEX_SPIN: u32 = 4;

#[repr(C)]
pub struct Mutex {
    pub state: AtomicU32,
    pub reserved: u32,
}

impl Mutex {
    pub fn lock(&self) {
        if self
            .state
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
        if proc::ncpu() > 1 {
            for _ in 0..MUTEX_SPIN {
                for _ in 0..30 {
                    grt_arch::cpu_relax();
                }
                if self.state.load(Ordering::Relaxed) == 0
                    && self
                        .state
                        .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                {
                    return;
                }
            }
        }
        while self.state.swap(2, Ordering::Acquire) != 0 {
            sema::wait(&self.state, 2, WaitReason::SyncMutexLock);
        }
    }

    pub fn try_lock(&self) -> bool {
        self.state
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    pub fn unlock(&self) {
        match self.state.swap(0, Ordering::Release) {
            1 => {}
            2 => {
                sema::wake(&self.state, 1);
            }
            0 => crate::throw!("sync: unlock of unlocked mutex"),
            v => crate::throw!("sync: unlock of a corrupted mutex (state {})", v),
        }
    }
}

#[repr(C)]
pub struct WaitGroup {
    pub count: AtomicI64,
    pub seq: AtomicU32,
    pub reserved: u32,
}

impl WaitGroup {
    pub fn add(&self, delta: i64) {
        let v = self
            .count
            .fetch_add(delta, Ordering::AcqRel)
            .wrapping_add(delta);
        if v < 0 {
            crate::throw!("sync: negative WaitGroup counter");
        }
        if v == 0 && delta != 0 {
            self.seq.fetch_add(1, Ordering::AcqRel);
            sema::wake(&self.seq, u32::MAX);
        }
    }

    pub fn wait(&self) {
        loop {
            let s = self.seq.load(Ordering::Acquire);
            if self.count.load(Ordering::Acquire) == 0 {
                return;
            }
            sema::wait(&self.seq, s, WaitReason::SyncWaitGroupWait);
        }
    }
}
