//! Parking goroutines on a memory word: a futex for goroutines (Go's `sema.go` plays this
//! role for sync.Mutex and sync.WaitGroup). `wait(word, val)` parks the calling goroutine if
//! `*word == val`; `wake(word, n)` makes up to n goroutines parked on `word` runnable, in the
//! order they parked.
//!
//! Waiters are nodes on the parked goroutines' own stacks, hashed by address into a fixed
//! table of buckets, each with its own lock: no allocation, and unrelated words rarely
//! contend. The check of `*word` happens under the bucket lock and the goroutine parks before
//! that lock is released (the park's unlock step), and wakers change the word before taking
//! the lock, so a wakeup between the check and the park cannot be lost.

use core::cell::UnsafeCell;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::lock::Lock;
use crate::proc;
use crate::runtime2::{WaitReason, G};

const BUCKETS: usize = 251;

struct Waiter {
    addr: usize,
    g: *mut G,
    next: *mut Waiter,
}

struct Bucket {
    lock: Lock,
    head: UnsafeCell<*mut Waiter>,
    tail: UnsafeCell<*mut Waiter>,
}

// SAFETY: head/tail only under `lock`.
unsafe impl Sync for Bucket {}

static TABLE: [Bucket; BUCKETS] = [const {
    Bucket {
        lock: Lock::new(),
        head: UnsafeCell::new(null_mut()),
        tail: UnsafeCell::new(null_mut()),
    }
}; BUCKETS];

/// Where the table lies: it holds waiters on goroutine stacks and the words they wait on,
/// never the only pointer to a heap object (its waiters' stacks hold that), so the
/// collector's scan of the program's data skips it (mgc.rs `NOSCAN`).
pub fn static_range() -> (usize, usize) {
    (TABLE.as_ptr() as usize, core::mem::size_of_val(&TABLE))
}

fn bucket(addr: usize) -> &'static Bucket {
    &TABLE[(addr >> 3) % BUCKETS]
}

fn unlock_bucket(_: *mut G, b: usize) -> bool {
    // SAFETY: b is the address of a TABLE entry, locked by wait().
    unsafe { (*(b as *const Bucket)).lock.unlock() };
    true
}

/// Parks the running goroutine while `*word == val` (may return spuriously; re-check).
pub fn wait(word: &AtomicU32, val: u32, reason: WaitReason) {
    let addr = word as *const AtomicU32 as usize;
    let b = bucket(addr);
    b.lock.lock();
    if word.load(Ordering::SeqCst) != val {
        b.lock.unlock();
        return;
    }
    let mut w = Waiter {
        addr,
        g: proc::getg(),
        next: null_mut(),
    };
    // SAFETY: under the bucket lock; w stays on this stack until we are woken, and wakers
    // unlink it before waking us.
    unsafe {
        let wp: *mut Waiter = &mut w;
        if (*b.tail.get()).is_null() {
            *b.head.get() = wp;
        } else {
            (**b.tail.get()).next = wp;
        }
        *b.tail.get() = wp;
    }
    proc::gopark(unlock_bucket, b as *const Bucket as usize, reason);
}

/// Wakes up to `n` goroutines parked on `word`; returns how many.
pub fn wake(word: &AtomicU32, n: u32) -> u32 {
    let addr = word as *const AtomicU32 as usize;
    let b = bucket(addr);
    let mut ready: *mut G = null_mut();
    let mut woken = 0;
    b.lock.lock();
    // SAFETY: the list is under the bucket lock; nodes live on parked goroutines' stacks
    // until unlinked here.
    unsafe {
        let mut prev: *mut Waiter = null_mut();
        let mut cur = *b.head.get();
        while !cur.is_null() && woken < n {
            let next = (*cur).next;
            if (*cur).addr == addr {
                if prev.is_null() {
                    *b.head.get() = next;
                } else {
                    (*prev).next = next;
                }
                if *b.tail.get() == cur {
                    *b.tail.get() = prev;
                }
                let g = (*cur).g;
                (*g).schedlink = ready;
                ready = g;
                woken += 1;
            } else {
                prev = cur;
            }
            cur = next;
        }
    }
    b.lock.unlock();
    // Wake in park order (the list was reversed).
    let mut order: *mut G = null_mut();
    while !ready.is_null() {
        // SAFETY: parked Gs we unlinked; schedlink is free while they wait.
        unsafe {
            let next = (*ready).schedlink;
            (*ready).schedlink = order;
            order = ready;
            ready = next;
        }
    }
    while !order.is_null() {
        let g = order;
        // SAFETY: as above.
        order = unsafe { (*g).schedlink };
        // One waiter runs next; a batch keeps its park order at the tail of the queue.
        proc::ready(g, woken == 1);
    }
    woken
}
