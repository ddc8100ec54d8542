//! Mark termination on two CPUs: a helper thread takes part of the work that grows with the
//! heap while the world is stopped (bdwgc's parallel markers; Go's mark workers, which mark
//! termination uses too).
//!
//! # Why
//!
//! Some of mark termination's work grows with the program's heap, not with what ran: in
//! plain-store mode's rescan form (gc.h's `GC_INIT`) every marked object is read again, and
//! the finalizers' first pass reads every unreachable object that has one. With the world
//! stopped the program's threads sleep, and their CPUs are free. Small jobs stay the
//! collector's alone (waking a thread costs more than they do), so the pauses goroutine
//! programs see do not change.
//!
//! # The algorithm
//!
//! A job is a list of *items*, pieces of independent work that split the heap by address:
//! parts of the heap to read again ([`ITEMS_HEAP`]), runs of finalizer spans
//! ([`ITEMS_FIN`]). Two markers work on it, the collector (with mgcmark's grey and candidate
//! buffers) and the helper (with its own):
//! 1. Each claims items with a fetch_add until none is left.
//! 2. A heap item only *reads*: the words of the part's marked objects that point into the
//!    heap go to the marker's candidate buffer. A marker out of items waits until every
//!    heap item is finished, then marks its candidates. A part read after the other marker
//!    had marked objects in it would read those again (they are queued already), and the two
//!    would take turns on the same cache lines of mark bits.
//! 3. A finalizer item marks as it goes (its spans are its own), and the marker drains its
//!    own grey buffer after each.
//! 4. Each drains its own grey buffer, and is done. The job is over when both are.
//!
//! Grey objects are not shared between the markers. Measured on disclaim_bench (32,768
//! objects of 16 bytes reached from one array): marking them on both CPUs through a shared
//! pool took 700–2,000 µs, on one 400–700 µs: two CPUs marking small objects spread over the
//! same spans pass the cache lines of the mark bits back and forth at each mark. The items
//! divide the heap by address, so the markers mostly write different lines.
//!
//! Invariants. Each object marked in a job is queued once: mark bits are set with an atomic
//! or, and only the marker that set a bit pushes the object, to its own buffer, which it
//! drains before it is done. `BUSY` counts the markers in the job; it and `DONE` change only
//! under [`JOB_LOCK`].
//!
//! The helper may wake late, or not at all (its CPU taken). It joins a job only under
//! JOB_LOCK, only the current generation, and only while that job is not over (BUSY += 1);
//! a helper that comes after the end does nothing. The collector never waits
//! for the helper to wake: it starts at once and waits at the end only for a helper that
//! joined and still works. On a busy machine the job is the collector's alone, as it was
//! before this module.
//!
//! # Who touches what
//!
//! The collector holds the world lock for the whole job (MARK_LOCK, FIN_LOCK, HEAP_LOCK). The
//! helper works on its behalf: it reads what those locks guard (page tables, finalizer
//! records, mark bits) and changes only mark bits (atomically), its own buffers and, under
//! JOB_LOCK, its place in the job. It allocates nothing, takes no other lock and is not an M:
//! the world's stop does not stop it, and outside a job it sleeps. It is started with the
//! world running (making a thread takes the C library's locks, which a stopped thread may
//! hold), by the first cycle whose heap is big enough to want it.

use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use crate::lock::Lock;
use crate::mgcmark::{self, Marker, WordBuf};
use crate::{mfinal, mheap, sys, thread};

/// Jobs that read less than this, in bytes, are the collector's alone: waking the helper
/// takes 5 to 50 µs on a virtual machine.
const PAR_MIN_BYTES: usize = 256 << 10;
/// The heap in use from which a cycle starts the helper, in bytes.
const HELPER_HEAP_MIN: usize = 1 << 20;
/// How long the test-only `gcparall` waits for the helper to join, in ns.
const JOIN_WAIT_NS: u64 = 100_000_000;

/// Parts of the heap (`mheap::heap_parts_locked`): every marked object read again.
pub const ITEMS_HEAP: usize = 1;
/// Runs of finalizer spans (`mfinal::pass1_items`): the finalizers' first pass.
pub const ITEMS_FIN: usize = 2;

/// Guards `BUSY` and `DONE`, and the job's description while a job starts.
static JOB_LOCK: Lock = Lock::new();
/// The job's generation: the helper's futex word.
static GEN: AtomicU32 = AtomicU32::new(0);
static KIND: AtomicUsize = AtomicUsize::new(0);
static NITEMS: AtomicUsize = AtomicUsize::new(0);
/// The next item to claim.
static NEXT: AtomicUsize = AtomicUsize::new(0);
/// Items finished (heap items: the markers wait for all before they mark).
static ITEMS_DONE: AtomicUsize = AtomicUsize::new(0);
/// Markers in the job (under JOB_LOCK to change; read without it by the collector's wait).
static BUSY: AtomicUsize = AtomicUsize::new(0);
/// The job is over (under JOB_LOCK).
static DONE: AtomicBool = AtomicBool::new(true);
/// Bytes the helper marked, handed over as it finishes (the collector adds them to the
/// cycle's count).
static HELPER_MARKED: AtomicUsize = AtomicUsize::new(0);
/// The helper's thread id, once it runs.
static HELPER_TID: AtomicI32 = AtomicI32::new(0);
/// The helper is running (started once).
static HELPER_UP: AtomicBool = AtomicBool::new(false);
/// The helper joined the job of this generation.
static JOINED_GEN: AtomicU32 = AtomicU32::new(0);
/// Jobs big enough to wake the helper, and of them those it took part in, total.
pub static PAR_JOBS: AtomicU64 = AtomicU64::new(0);
pub static HELPER_JOBS: AtomicU64 = AtomicU64::new(0);

static mut HELPER_GREY: WordBuf = WordBuf::new();
static mut HELPER_CAND: WordBuf = WordBuf::new();

/// Test-only build, `GRTDEBUG=gcparall=1`: every item job wakes the helper, and the
/// collector waits for it to join before it starts (so tests see the helper's part, under
/// qemu too).
fn par_all() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().gcparall
}

/// Test-only build, `GRTDEBUG=gcparlose=1`: the helper claims items and marks nothing from
/// them (the teeth of gc_parmark).
fn par_lose() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().gcparlose
}

/// Starts the helper if this machine has a second CPU, the program did not limit grt to one
/// (GRTMAXPROCS=1), and the heap (`heap_inuse` bytes) is big enough to want the helper. The collector's thread, world running.
pub fn ensure_helper(heap_inuse: usize) {
    if HELPER_UP.load(Ordering::Relaxed)
        || crate::proc::ncpu() < 2
        || crate::proc::gomaxprocs() == 1
        || (heap_inuse < HELPER_HEAP_MIN && !par_all())
    {
        return;
    }
    // SAFETY: the helper is not running: nobody else touches its buffers.
    let ok = unsafe {
        (*core::ptr::addr_of_mut!(HELPER_GREY)).reserve()
            && (*core::ptr::addr_of_mut!(HELPER_CAND)).reserve()
    };
    // The generation it starts from: it joins the jobs after this one, even if it comes up
    // after the first of them began.
    let gen = GEN.load(Ordering::Relaxed) as usize;
    if ok && thread::start(helper, gen as *mut core::ffi::c_void).is_ok() {
        HELPER_UP.store(true, Ordering::Release);
    }
}

/// Marks with the world stopped: the items of `kind`, then every grey object left, on two
/// CPUs when the items are big enough (`bytes`: about what they will read) and the helper
/// is up, else on this one. World stopped, the world lock held (MARK_LOCK among it).
pub fn mark_locked(kind: usize, bytes: usize) {
    let nitems = match kind {
        ITEMS_HEAP => mheap::heap_parts_locked(),
        ITEMS_FIN => mfinal::pass1_items(),
        _ => 0,
    };
    let mut m = Marker::serial();
    let cand = mgcmark::candidates();
    if !HELPER_UP.load(Ordering::Acquire) || nitems < 2 || (bytes < PAR_MIN_BYTES && !par_all()) {
        for i in 0..nitems {
            do_item(kind, i, &mut m, cand);
        }
        flush(&mut m, cand);
        m.drain(usize::MAX);
        return;
    }
    PAR_JOBS.fetch_add(1, Ordering::Relaxed);
    JOB_LOCK.lock();
    KIND.store(kind, Ordering::Relaxed);
    NITEMS.store(nitems, Ordering::Relaxed);
    NEXT.store(0, Ordering::Relaxed);
    ITEMS_DONE.store(0, Ordering::Relaxed);
    BUSY.store(1, Ordering::Relaxed);
    DONE.store(false, Ordering::Relaxed);
    let gen = GEN.load(Ordering::Relaxed).wrapping_add(1);
    GEN.store(gen, Ordering::Release);
    JOB_LOCK.unlock();
    keep_off_this_cpu();
    sys::futex_wake_private(&GEN, 1);
    if par_all() {
        let t0 = sys::nanotime();
        while JOINED_GEN.load(Ordering::Acquire) != gen && sys::nanotime() - t0 < JOIN_WAIT_NS {
            sys::sched_yield();
        }
    }
    work(&mut m, cand, false);
    // Until the helper's part is done: it takes no lock the collector holds, and may run on
    // any CPU once it is up (it drops the pin as it joins).
    wait_until(|| BUSY.load(Ordering::Acquire) == 0);
    // MARK_LOCK held (the caller's world lock). The helper added its count before it left.
    mgcmark::add_marked_locked(HELPER_MARKED.swap(0, Ordering::Acquire));
}

/// Lets the helper run anywhere but on the collector's CPU, for its wakeup (it goes back to
/// all its CPUs as it joins). Woken without this, the kernel often ran it on the waker's CPU
/// at once: the collector sat off its CPU while the helper did the whole job (measured on
/// disclaim_bench: the collector found a job of 1 ms done when it came back). A failed call
/// only loses that.
fn keep_off_this_cpu() {
    let tid = HELPER_TID.load(Ordering::Acquire);
    if tid == 0 {
        return;
    }
    let mut mask: sys::CpuMask = [0; 16];
    let (Ok(cpu), Ok(())) = (sys::getcpu(), sys::sched_getaffinity(0, &mut mask)) else {
        return;
    };
    if cpu < 64 * mask.len() {
        mask[cpu / 64] &= !(1u64 << (cpu % 64));
    }
    if mask.iter().any(|&w| w != 0) {
        let _ = sys::sched_setaffinity(tid, &mask);
    }
}

/// Item `i` of a job of `kind`: a heap part's marked objects are collected into `cand`
/// (read only: see step 2 of the module comment); a run of finalizer spans is marked from
/// at once, and the marker's grey objects drained.
fn do_item(kind: usize, i: usize, m: &mut Marker, cand: &mut WordBuf) {
    match kind {
        ITEMS_HEAP => mheap::for_each_marked_in_part_locked(i, |lo, hi| {
            mgcmark::collect_range_into(cand, lo, hi)
        }),
        ITEMS_FIN => {
            mfinal::pass1_item(i, m);
            m.drain(usize::MAX);
        }
        _ => {}
    }
}

/// Spins, then yields the CPU, until `done()`: the other marker's work, which neither
/// marker can take back, is what it waits for.
fn wait_until(done: impl Fn() -> bool) {
    let mut spins = 0u32;
    while !done() {
        if spins < 100 {
            core::hint::spin_loop();
            spins += 1;
        } else {
            sys::sched_yield();
        }
    }
}

/// Marks what the words collected in `cand` point to.
fn flush(m: &mut Marker, cand: &mut WordBuf) {
    while let Some(w) = cand.pop() {
        m.grey_word(w);
    }
}

/// One marker's part of the job (see the module comment), the helper's or the collector's.
/// Leaves the job (BUSY -= 1) when its own work is done.
fn work(m: &mut Marker, cand: &mut WordBuf, helper: bool) {
    let kind = KIND.load(Ordering::Relaxed);
    let nitems = NITEMS.load(Ordering::Relaxed);
    loop {
        let i = NEXT.fetch_add(1, Ordering::Relaxed);
        if i >= nitems {
            break;
        }
        if !(helper && par_lose()) {
            do_item(kind, i, m, cand);
        }
        ITEMS_DONE.fetch_add(1, Ordering::Release);
    }
    if kind == ITEMS_HEAP {
        // Every part read before anything is marked: until the other marker's part is read.
        wait_until(|| ITEMS_DONE.load(Ordering::Acquire) >= nitems);
        flush(m, cand);
    }
    m.drain(usize::MAX);
    JOB_LOCK.lock();
    if helper {
        HELPER_MARKED.fetch_add(m.take_marked(), Ordering::Relaxed);
    }
    let busy = BUSY.load(Ordering::Relaxed) - 1;
    BUSY.store(busy, Ordering::Release);
    if busy == 0 {
        DONE.store(true, Ordering::Relaxed);
    }
    JOB_LOCK.unlock();
}

/// The helper thread: sleeps until a job starts, and joins it if it is not over.
unsafe extern "C" fn helper(gen0: *mut core::ffi::c_void) {
    // SAFETY: this thread's own buffers (nobody else touches them once the helper runs).
    let (grey, cand) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(HELPER_GREY),
            &mut *core::ptr::addr_of_mut!(HELPER_CAND),
        )
    };
    let mut marked = 0usize;
    // The CPUs it may run on, to go back to once it runs (the collector pins it off its own
    // CPU only for the wakeup: pinned, a helper whose CPU another process took could not
    // finish its items elsewhere, and the collector would wait for it).
    let mut cpus: sys::CpuMask = [0; 16];
    let have_cpus = sys::sched_getaffinity(0, &mut cpus).is_ok();
    HELPER_TID.store(sys::gettid(), Ordering::Release);
    let mut seen = gen0 as usize as u32;
    loop {
        let gen = GEN.load(Ordering::Acquire);
        if gen == seen {
            let _ = sys::futex_wait_private(&GEN, gen, None);
            continue;
        }
        seen = gen;
        JOB_LOCK.lock();
        if DONE.load(Ordering::Relaxed) || GEN.load(Ordering::Relaxed) != gen {
            JOB_LOCK.unlock();
            continue;
        }
        BUSY.store(BUSY.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        JOB_LOCK.unlock();
        if have_cpus {
            let _ = sys::sched_setaffinity(0, &cpus);
        }
        JOINED_GEN.store(gen, Ordering::Release);
        HELPER_JOBS.fetch_add(1, Ordering::Relaxed);
        work(&mut Marker::new(grey, &mut marked), cand, true);
    }
}
