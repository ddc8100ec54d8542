//! Sleeping goroutines: one min-heap of parked Gs ordered by deadline (`G::when`).
//!
//! `sleep` parks the caller and, once it is parked (in the park's unlock step), pushes it on
//! the heap, so a timer can never fire for a G that is still running. Ps pop expired Gs and
//! make them runnable when they look for work (`run_timers`); proc.rs keeps one idle M asleep
//! until the earliest deadline so that happens on time even when every P is idle.
//!
//! Lock order: `TIMERS_LOCK` is never taken with the scheduler lock held; `pending`,
//! `next_when` and `expired` read atomics only, so the scheduler may call them anywhere.

use core::ptr;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::lock::Lock;
use crate::proc;
use crate::runtime2::{WaitReason, G, P};
use crate::{rtalloc, sys};

struct Heap {
    buf: *mut *mut G,
    len: usize,
    cap: usize,
}

static TIMERS_LOCK: Lock = Lock::new();
static mut HEAP: Heap = Heap {
    buf: ptr::null_mut(),
    len: 0,
    cap: 0,
};
/// Number of sleeping Gs, and the earliest deadline (u64::MAX: none).
static NTIMERS: AtomicUsize = AtomicUsize::new(0);
static TIMER0_WHEN: AtomicU64 = AtomicU64::new(u64::MAX);

fn when(gp: *mut G) -> u64 {
    // SAFETY: Gs on the heap are parked; `when` is fixed while they are on it.
    unsafe { (*gp).when }
}

impl Heap {
    fn push(&mut self, gp: *mut G) -> bool {
        if self.len == self.cap {
            let ncap = (self.cap * 2).max(64);
            let nbuf = rtalloc::alloc(ncap * core::mem::size_of::<*mut G>()) as *mut *mut G;
            if nbuf.is_null() {
                return false;
            }
            // SAFETY: both buffers hold at least len entries.
            unsafe {
                ptr::copy_nonoverlapping(self.buf, nbuf, self.len);
                rtalloc::free(
                    self.buf as *mut u8,
                    self.cap * core::mem::size_of::<*mut G>(),
                );
            }
            self.buf = nbuf;
            self.cap = ncap;
        }
        // SAFETY: len < cap.
        let b = unsafe { core::slice::from_raw_parts_mut(self.buf, self.cap) };
        let mut i = self.len;
        self.len += 1;
        b[i] = gp;
        while i > 0 {
            let parent = (i - 1) / 2;
            if when(b[parent]) <= when(b[i]) {
                break;
            }
            b.swap(parent, i);
            i = parent;
        }
        true
    }

    fn pop(&mut self) -> *mut G {
        // SAFETY: len <= cap entries are initialised.
        let b = unsafe { core::slice::from_raw_parts_mut(self.buf, self.len) };
        let top = b[0];
        self.len -= 1;
        b[0] = b[self.len];
        let n = self.len;
        let mut i = 0;
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut m = i;
            if l < n && when(b[l]) < when(b[m]) {
                m = l;
            }
            if r < n && when(b[r]) < when(b[m]) {
                m = r;
            }
            if m == i {
                break;
            }
            b.swap(i, m);
            i = m;
        }
        top
    }

    fn first(&self) -> u64 {
        if self.len == 0 {
            u64::MAX
        } else {
            // SAFETY: at least one entry.
            when(unsafe { *self.buf })
        }
    }
}

#[allow(clippy::mut_from_ref)]
fn heap() -> &'static mut Heap {
    // SAFETY: callers hold TIMERS_LOCK.
    unsafe { &mut *ptr::addr_of_mut!(HEAP) }
}

/// Any sleeping goroutine?
pub fn pending() -> bool {
    NTIMERS.load(Ordering::Acquire) != 0
}

/// The earliest deadline, if any.
pub fn next_when() -> Option<u64> {
    let w = TIMER0_WHEN.load(Ordering::Acquire);
    (w != u64::MAX).then_some(w)
}

/// Has the earliest deadline passed?
pub fn expired(now: u64) -> bool {
    TIMER0_WHEN.load(Ordering::Acquire) <= now
}

/// Makes every goroutine whose deadline has passed runnable on `pp` (the caller's P).
pub fn run_timers(_pp: &mut P) {
    if !pending() {
        return;
    }
    let now = sys::nanotime();
    if !expired(now) {
        return;
    }
    // Pop under the lock, wake after it (goready may take the scheduler lock).
    // The list keeps deadline order: earliest first.
    let mut ready: *mut G = ptr::null_mut();
    let mut tail: *mut G = ptr::null_mut();
    TIMERS_LOCK.lock();
    let h = heap();
    while h.len > 0 && h.first() <= now {
        let gp = h.pop();
        // SAFETY: parked Gs, ours now that they are off the heap.
        unsafe {
            (*gp).schedlink = ptr::null_mut();
            if tail.is_null() {
                ready = gp;
            } else {
                (*tail).schedlink = gp;
            }
        }
        tail = gp;
    }
    NTIMERS.store(h.len, Ordering::Release);
    TIMER0_WHEN.store(h.first(), Ordering::Release);
    TIMERS_LOCK.unlock();
    while !ready.is_null() {
        let gp = ready;
        // SAFETY: as above.
        ready = unsafe { (*gp).schedlink };
        proc::ready(gp, false);
    }
}

/// Park's unlock step: the G is now waiting; put it on the heap.
fn sleep_commit(gp: *mut G, _: usize) -> bool {
    TIMERS_LOCK.lock();
    let h = heap();
    if !h.push(gp) {
        TIMERS_LOCK.unlock();
        crate::throw!("out of memory for the timer heap");
    }
    let w = when(gp);
    let first = h.first();
    NTIMERS.store(h.len, Ordering::Release);
    TIMER0_WHEN.store(first, Ordering::Release);
    TIMERS_LOCK.unlock();
    if first == w {
        proc::wake_timer_sleeper(w);
    }
    true
}

/// `grt_sleep_ns` on the running goroutine (ns > 0).
pub fn sleep(gp: &G, ns: u64) {
    let deadline = sys::nanotime().saturating_add(ns);
    // SAFETY: the running G writes its own field before parking.
    unsafe { (*(gp as *const G as *mut G)).when = deadline };
    proc::gopark(sleep_commit, 0, WaitReason::Sleep);
}
