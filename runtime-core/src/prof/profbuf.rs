//! The profiler's sample buffer: preallocated, lock-free, many writers (SIGPROF handlers on
//! any number of threads at once), one reader (the profile's collector).
//!
//! # Algorithm
//!
//! A fixed array of slots, each a [`Sample`] plus a state word: FREE -> WRITING -> READY ->
//! FREE. A writer takes a starting index from a shared counter (`fetch_add`, so concurrent
//! writers start at different slots), then tries at most [`PROBES`] consecutive slots with
//! one CAS each, FREE -> WRITING; it fills the slot it won and publishes it with a release
//! store of READY. If all probes fail the buffer is (locally) full: the sample is dropped and
//! counted in `lost`, which the profile reports as lost samples. A writer therefore never
//! waits, never loops more than PROBES times, and never allocates: safe in a signal handler,
//! including one that interrupted the reader or another writer on the same thread.
//!
//! The reader sweeps all slots, takes each READY one (acquire), and stores FREE (release) when
//! done with it. Samples come out in no particular order; each carries its time stamp.
//!
//! # Invariants
//! - Only the writer that won the CAS touches a WRITING slot; only the reader a READY one.
//! - The memory is mapped once, when the first profile starts, and never unmapped, so a late
//!   handler on another thread can never write into freed memory.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// Frames kept per sample (Go's maxCPUProfStack).
pub const MAX_STACK: usize = 64;
/// Slots a writer tries before it drops its sample.
pub const PROBES: usize = 8;

const FREE: u32 = 0;
const WRITING: u32 = 1;
const READY: u32 = 2;

/// One sample as the handler records it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Sample {
    /// CLOCK_MONOTONIC, ns.
    pub time: u64,
    /// The goroutine that was running (0: none).
    pub goid: u64,
    /// The M (-1: a thread that is not an M).
    pub mid: i64,
    /// Frames in `stack`.
    pub n: u32,
    /// Kernel thread id.
    pub tid: u32,
    /// `stack[0]` is the interrupted pc (or a pseudo-frame), then return addresses.
    pub stack: [usize; MAX_STACK],
}

impl Sample {
    pub const fn empty() -> Sample {
        Sample {
            time: 0,
            goid: 0,
            mid: -1,
            n: 0,
            tid: 0,
            stack: [0; MAX_STACK],
        }
    }

    pub fn frames(&self) -> &[usize] {
        &self.stack[..(self.n as usize).min(MAX_STACK)]
    }

    /// Appends a frame; false when the stack is full.
    #[inline]
    pub fn push(&mut self, pc: usize) -> bool {
        let n = self.n as usize;
        if n >= MAX_STACK {
            return false;
        }
        self.stack[n] = pc;
        self.n += 1;
        true
    }
}

pub struct Slot {
    state: AtomicU32,
    sample: UnsafeCell<Sample>,
}

/// The buffer over `nslots` slots at `slots`.
pub struct ProfBuf {
    slots: *mut Slot,
    nslots: usize,
    next: AtomicUsize,
    lost: AtomicU64,
}

// SAFETY: slots are handed out by the state protocol in the module comment.
unsafe impl Sync for ProfBuf {}
unsafe impl Send for ProfBuf {}

/// A slot a writer won: fill `sample`, then [`WriteGuard::publish`] (dropping it without
/// publishing gives the slot back empty).
pub struct WriteGuard<'a> {
    slot: &'a Slot,
}

impl WriteGuard<'_> {
    /// The sample to fill (reset to empty).
    #[inline]
    pub fn sample(&mut self) -> &mut Sample {
        // SAFETY: we won the CAS FREE -> WRITING: nobody else touches the slot.
        unsafe { &mut *self.slot.sample.get() }
    }

    pub fn publish(self) {
        self.slot.state.store(READY, Ordering::Release);
        core::mem::forget(self);
    }
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        self.slot.state.store(FREE, Ordering::Release);
    }
}

impl ProfBuf {
    /// Bytes of memory a buffer of `nslots` slots needs.
    pub const fn bytes(nslots: usize) -> usize {
        nslots * core::mem::size_of::<Slot>()
    }

    /// A buffer over zeroed memory (all slots FREE).
    ///
    /// # Safety
    /// `mem` must be [`ProfBuf::bytes`]`(nslots)` zeroed bytes, aligned for `Slot`, that live
    /// and are used by nothing else for as long as the buffer is.
    pub const unsafe fn new(mem: *mut u8, nslots: usize) -> ProfBuf {
        ProfBuf {
            slots: mem as *mut Slot,
            nslots,
            next: AtomicUsize::new(0),
            lost: AtomicU64::new(0),
        }
    }

    fn slot(&self, i: usize) -> &Slot {
        // SAFETY: i < nslots; the memory lives as long as self.
        unsafe { &*self.slots.add(i) }
    }

    /// Wins a free slot, or counts a lost sample. Async-signal-safe, at most PROBES CASes.
    #[inline]
    pub fn claim(&self) -> Option<WriteGuard<'_>> {
        if self.nslots == 0 {
            self.lost.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for k in 0..PROBES.min(self.nslots) {
            let slot = self.slot((start + k) % self.nslots);
            if slot
                .state
                .compare_exchange(FREE, WRITING, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                let mut g = WriteGuard { slot };
                *g.sample() = Sample::empty();
                return Some(g);
            }
        }
        self.lost.fetch_add(1, Ordering::Relaxed);
        None
    }

    /// Slots in the buffer.
    pub fn capacity(&self) -> usize {
        self.nslots
    }

    /// Samples dropped because no slot was free.
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    /// Reader: hands every published sample to `f` and frees its slot. Returns how many.
    pub fn drain(&self, mut f: impl FnMut(&Sample)) -> usize {
        let mut n = 0;
        for i in 0..self.nslots {
            let slot = self.slot(i);
            if slot.state.load(Ordering::Acquire) == READY {
                // SAFETY: READY slots belong to the reader until it stores FREE.
                f(unsafe { &*slot.sample.get() });
                slot.state.store(FREE, Ordering::Release);
                n += 1;
            }
        }
        n
    }

    /// Starts a new profile: forget the lost count (the reader has drained everything).
    pub fn reset_lost(&self) {
        self.lost.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn buf(n: usize) -> (Vec<u64>, ProfBuf) {
        let words = ProfBuf::bytes(n).div_ceil(8);
        let mut mem = std::vec![0u64; words];
        // SAFETY: zeroed, aligned (u64 >= Slot's alignment), lives in the returned Vec.
        let b = unsafe { ProfBuf::new(mem.as_mut_ptr() as *mut u8, n) };
        (mem, b)
    }

    #[test]
    fn writes_then_reads_every_sample() {
        let (_m, b) = buf(16);
        for i in 0..10 {
            let mut g = b.claim().unwrap();
            g.sample().push(i);
            g.sample().goid = i as u64;
            g.publish();
        }
        let mut seen = Vec::new();
        assert_eq!(b.drain(|s| seen.push(s.frames()[0])), 10);
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        assert_eq!(b.lost(), 0);
        assert_eq!(b.drain(|_| {}), 0, "drained slots are free again");
    }

    #[test]
    fn overflow_is_counted_not_waited_for() {
        let (_m, b) = buf(8);
        let mut ok = 0;
        for _ in 0..20 {
            if let Some(g) = b.claim() {
                g.publish();
                ok += 1;
            }
        }
        assert_eq!(ok, 8);
        assert_eq!(b.lost(), 12);
        assert_eq!(b.drain(|_| {}), 8);
        assert!(b.claim().is_some(), "room again after the drain");
    }

    #[test]
    fn an_unpublished_claim_frees_its_slot() {
        let (_m, b) = buf(1);
        drop(b.claim().unwrap());
        assert!(b.claim().is_some());
    }

    #[test]
    fn concurrent_writers_and_a_reader_lose_nothing_they_did_not_count() {
        let (_m, b) = buf(64);
        let b = &b;
        let total = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..4usize {
                s.spawn(move || {
                    for i in 0..20_000usize {
                        if let Some(mut g) = b.claim() {
                            g.sample().push(t << 32 | i);
                            g.sample().push(!(t << 32 | i));
                            g.publish();
                        }
                    }
                });
            }
            let total = &total;
            s.spawn(move || {
                for _ in 0..2000 {
                    b.drain(|smp| {
                        let f = smp.frames();
                        assert_eq!(f.len(), 2);
                        assert_eq!(f[1], !f[0], "a torn sample");
                        total.fetch_add(1, Ordering::Relaxed);
                    });
                    std::thread::yield_now();
                }
            });
        });
        b.drain(|_| {
            total.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(total.load(Ordering::Relaxed) as u64 + b.lost(), 80_000);
    }
}
