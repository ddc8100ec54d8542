//! Timers: one min-heap of [`Timer`]s ordered by deadline. A sleeping goroutine is a timer
//! whose function readies it (`G::timer`); a descriptor wait with a deadline is a timer whose
//! function times the wait out (netpoll.rs).
//!
//! `sleep` parks the caller and, once it is parked (in the park's unlock step), adds its
//! timer, so a timer can never fire for a G that is still running. Ps run expired timers when
//! they look for work (`run_timers`); proc.rs keeps one idle M asleep until the earliest
//! deadline (in the network poller once that exists, or on its note) so that happens on time
//! even when every P is idle. A timer can be deleted (`del`) until it fires; a timer's
//! function runs after the timer left the heap and the lock was dropped, so it must check
//! that what it fires for is still current (netpoll's wait sequence number).
//!
//! Lock order: `TIMERS_LOCK` is never taken with the scheduler lock held, and is taken with a
//! poll descriptor's lock held (netpoll adds and deletes deadlines under it); `pending`,
//! `next_when` and `expired` read atomics only, so the scheduler may call them anywhere.

use core::ptr;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::lock::Lock;
use crate::proc;
use crate::runtime2::{WaitReason, G, P};
use crate::{rtalloc, sys};

/// One timer. Owned by its embedder (a G, a wait); on the heap from `add` until it fires or
/// is deleted.
#[repr(C)]
pub struct Timer {
    /// Deadline, `nanotime` clock.
    pub when: u64,
    /// Heap index + 1; 0 when not on the heap. Under `TIMERS_LOCK`.
    idx: usize,
    /// Run with the P of the M that found it expired, no lock held: `f(arg, arg2, seq)`.
    pub f: Option<fn(usize, usize, u64)>,
    pub arg: usize,
    pub arg2: usize,
    pub seq: u64,
}

impl Timer {
    pub const fn new() -> Timer {
        Timer {
            when: 0,
            idx: 0,
            f: None,
            arg: 0,
            arg2: 0,
            seq: 0,
        }
    }
}

impl Default for Timer {
    fn default() -> Timer {
        Timer::new()
    }
}

struct Heap {
    buf: *mut *mut Timer,
    len: usize,
    cap: usize,
}

static TIMERS_LOCK: Lock = Lock::new();
static mut HEAP: Heap = Heap {
    buf: ptr::null_mut(),
    len: 0,
    cap: 0,
};
/// Number of timers, and the earliest deadline (u64::MAX: none).
static NTIMERS: AtomicUsize = AtomicUsize::new(0);
static TIMER0_WHEN: AtomicU64 = AtomicU64::new(u64::MAX);

fn when(t: *mut Timer) -> u64 {
    // SAFETY: timers on the heap are live; `when` is fixed while they are on it.
    unsafe { (*t).when }
}

impl Heap {
    fn slots(&mut self) -> &mut [*mut Timer] {
        // SAFETY: len <= cap entries are initialised.
        unsafe { core::slice::from_raw_parts_mut(self.buf, self.len) }
    }

    fn set(&mut self, i: usize, t: *mut Timer) {
        self.slots()[i] = t;
        // SAFETY: a live timer on the heap; idx is under TIMERS_LOCK.
        unsafe { (*t).idx = i + 1 };
    }

    fn up(&mut self, mut i: usize) {
        let t = self.slots()[i];
        while i > 0 {
            let parent = (i - 1) / 2;
            let p = self.slots()[parent];
            if when(p) <= when(t) {
                break;
            }
            self.set(i, p);
            i = parent;
        }
        self.set(i, t);
    }

    fn down(&mut self, mut i: usize) {
        let n = self.len;
        let t = self.slots()[i];
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut m = i;
            let mut mw = when(t);
            if l < n && when(self.slots()[l]) < mw {
                m = l;
                mw = when(self.slots()[l]);
            }
            if r < n && when(self.slots()[r]) < mw {
                m = r;
            }
            if m == i {
                break;
            }
            let c = self.slots()[m];
            self.set(i, c);
            i = m;
        }
        self.set(i, t);
    }

    fn push(&mut self, t: *mut Timer) -> bool {
        if self.len == self.cap {
            let ncap = (self.cap * 2).max(64);
            let nbuf = rtalloc::alloc(ncap * core::mem::size_of::<*mut Timer>()) as *mut *mut Timer;
            if nbuf.is_null() {
                return false;
            }
            // SAFETY: both buffers hold at least len entries.
            unsafe {
                ptr::copy_nonoverlapping(self.buf, nbuf, self.len);
                rtalloc::free(
                    self.buf as *mut u8,
                    self.cap * core::mem::size_of::<*mut Timer>(),
                );
            }
            self.buf = nbuf;
            self.cap = ncap;
        }
        self.len += 1;
        let i = self.len - 1;
        self.set(i, t);
        self.up(i);
        true
    }

    /// Takes the entry at `i` off the heap.
    fn remove(&mut self, i: usize) -> *mut Timer {
        let n = self.len;
        let (t, last) = (self.slots()[i], self.slots()[n - 1]);
        self.len -= 1;
        if i < self.len {
            self.set(i, last);
            self.down(i);
            self.up(i);
        }
        // SAFETY: t was on the heap; it is off it now.
        unsafe { (*t).idx = 0 };
        t
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

fn publish(h: &Heap) {
    NTIMERS.store(h.len, Ordering::Release);
    TIMER0_WHEN.store(h.first(), Ordering::Release);
}

/// Any timer?
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

/// Puts `t` (not on the heap; `when` and `f` set) on the heap, and wakes whoever sleeps
/// until a later deadline.
///
/// # Safety
/// `t` stays live and unmoved until it fires or `del` takes it off.
pub unsafe fn add(t: *mut Timer) {
    TIMERS_LOCK.lock();
    let h = heap();
    // SAFETY: the caller's timer; idx is under TIMERS_LOCK.
    if unsafe { (*t).idx } != 0 {
        TIMERS_LOCK.unlock();
        crate::throw!("timer added twice");
    }
    if !h.push(t) {
        TIMERS_LOCK.unlock();
        crate::throw!("out of memory for the timer heap");
    }
    let w = when(t);
    let first = h.first();
    publish(h);
    TIMERS_LOCK.unlock();
    if first == w {
        proc::wake_timer_sleeper(w);
    }
}

/// Takes `t` off the heap if it is still there (true), else it has fired or was never added.
pub fn del(t: *mut Timer) -> bool {
    TIMERS_LOCK.lock();
    // SAFETY: the caller's timer; idx is under TIMERS_LOCK.
    let idx = unsafe { (*t).idx };
    if idx != 0 {
        let h = heap();
        h.remove(idx - 1);
        publish(h);
    }
    TIMERS_LOCK.unlock();
    idx != 0
}

/// Runs every timer whose deadline has passed, on the caller's P.
pub fn run_timers(_pp: &mut P) {
    if !pending() {
        return;
    }
    let now = sys::nanotime();
    // One timer per hold of the lock: its function runs without it (a wakeup may take the
    // scheduler lock, and netpoll's takes a descriptor's lock, which is taken before ours).
    // Bounded: each round removes one timer whose deadline has passed.
    while expired(now) {
        TIMERS_LOCK.lock();
        let h = heap();
        if h.len == 0 || h.first() > now {
            TIMERS_LOCK.unlock();
            break;
        }
        let t = h.remove(0);
        publish(h);
        // SAFETY: off the heap now; its embedder keeps it live until it fired (a sleeping G)
        // or checks `seq` (netpoll), so copying the fields under the lock is enough.
        let (f, arg, arg2, seq) = unsafe { ((*t).f, (*t).arg, (*t).arg2, (*t).seq) };
        TIMERS_LOCK.unlock();
        if let Some(f) = f {
            f(arg, arg2, seq);
        }
    }
}

fn sleep_fire(gp: usize, _: usize, _: u64) {
    proc::ready(gp as *mut G, false);
}

/// Park's unlock step: the G is now waiting; put its timer on the heap.
fn sleep_commit(gp: *mut G, _: usize) -> bool {
    // SAFETY: the parked G's own timer, set by `sleep`; the G stays parked until it fires.
    unsafe { add(ptr::addr_of_mut!((*gp).timer)) };
    true
}

/// `grt_sleep_ns` on the running goroutine (ns > 0).
pub fn sleep(gp: &G, ns: u64) {
    let deadline = sys::nanotime().saturating_add(ns);
    let gm = gp as *const G as *mut G;
    // SAFETY: the running G writes its own timer before parking; it is off the heap (a
    // netpoll deadline is deleted before its wait returns).
    unsafe {
        let t = &mut (*gm).timer;
        t.when = deadline;
        t.f = Some(sleep_fire);
        t.arg = gm as usize;
        t.arg2 = 0;
        t.seq = 0;
    }
    proc::gopark(sleep_commit, 0, WaitReason::Sleep);
}
