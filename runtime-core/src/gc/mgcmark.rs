//! Marking (Go's mgcmark.go, made conservative): roots, goroutine stacks, grey objects, and
//! the write barrier's shade.
//!
//! # Conservative marking
//!
//! Nothing tells grt which words are pointers, so every aligned word of a root, a stack or a
//! scanned object is taken as one if it points into an allocated object (interior pointers
//! too: `mheap::find_object`). A marked object that may hold pointers (not
//! `grt_alloc_atomic`) is grey until its words are scanned.
//!
//! # Two steps, two owners
//!
//! 1. *Collecting* reads stacks and roots and keeps only words inside the heap's address
//!    range ([`mheap::in_arena`], no lock) in the collector's candidate buffer. This is what
//!    runs while a goroutine is stopped by a signal, or while the world is stopped: a stopped
//!    thread may hold the heap lock, so collecting must not need it.
//! 2. *Marking* turns candidates into marked objects and scans grey objects: under
//!    [`MARK_LOCK`] ([`Marker::serial`], on the grey buffer), or beside other markers with a
//!    buffer of its own (gcwork.rs, mgcpar.rs). It does not need the heap lock, so allocation goes on beside it: object
//!    lookups are lock-free (`mheap::find_object`: a seqlock over the chunk table) and mark
//!    bits are set atomically (allocation marks new objects under the heap lock meanwhile).
//!
//! Both buffers are reserved address space (mmap, MAP_NORESERVE) touched only as they grow:
//! nothing here allocates from grt's allocators, so marking never waits on a lock a stopped
//! thread holds. The candidate buffer belongs to the collector thread alone; the grey buffer
//! is under `MARK_LOCK` (the write barrier pushes to it too), and is the pool from which
//! several markers take work while the program runs (gcwork.rs).

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use grt_arch::{self as arch, MapFlags, ProtFlags};

use crate::lock::Lock;
use crate::mheap;
use crate::runtime2::{G, GSYSCALL};
use crate::stkbar;

/// Words each buffer can hold (reserved, not committed): 32 Mi words = 256 MiB of address
/// space each.
const BUF_WORDS: usize = 32 << 20;

/// A stack of words in reserved address space. Its words are `base[lo..len]`: pushes and
/// pops are at `len`; [`WordBuf::give_bottom`] hands the oldest ones to another buffer (a
/// parallel marker's balance: gcwork.rs). All zeroes is an empty buffer not reserved yet.
pub(crate) struct WordBuf {
    base: *mut usize,
    len: usize,
    lo: usize,
}

impl WordBuf {
    pub(crate) const fn new() -> WordBuf {
        WordBuf {
            base: core::ptr::null_mut(),
            len: 0,
            lo: 0,
        }
    }

    pub(crate) fn is_reserved(&self) -> bool {
        !self.base.is_null()
    }

    /// Words held.
    #[inline]
    pub(crate) fn words(&self) -> usize {
        self.len - self.lo
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == self.lo
    }

    /// Moves the top `n` words (or all, if fewer) onto `dst`.
    pub(crate) fn give_top(&mut self, dst: &mut WordBuf, n: usize) {
        let n = n.min(self.words());
        // SAFETY: [len - n, len) holds pushed words; dst's push checks its room.
        for i in self.len - n..self.len {
            dst.push(unsafe { self.base.add(i).read() });
        }
        self.len -= n;
        self.reset_if_empty();
    }

    /// Moves the bottom (oldest) `n` words (or all, if fewer) onto `dst`.
    pub(crate) fn give_bottom(&mut self, dst: &mut WordBuf, n: usize) {
        let n = n.min(self.words());
        // SAFETY: [lo, lo + n) holds pushed words; dst's push checks its room.
        for i in self.lo..self.lo + n {
            dst.push(unsafe { self.base.add(i).read() });
        }
        self.lo += n;
        self.reset_if_empty();
        // Keep the buffer at the bottom of its range (what it touched stays small): move the
        // rest down once the gap below is as large as the rest (a copy of at most the gap).
        if self.lo >= self.words() && self.lo != 0 {
            let n = self.words();
            // SAFETY: [lo, len) holds pushed words; [0, n) lies below lo (n <= lo): no overlap.
            unsafe { core::ptr::copy_nonoverlapping(self.base.add(self.lo), self.base, n) };
            self.lo = 0;
            self.len = n;
        }
    }

    /// A push found the end: the words given from the bottom left room there (moved down),
    /// or the buffer is really full.
    #[cold]
    #[inline(never)]
    fn full(&mut self) {
        if self.lo == 0 {
            crate::throw!(
                "garbage collector: mark buffer overflow ({} words)",
                BUF_WORDS
            );
        }
        let n = self.words();
        // SAFETY: [lo, len) holds pushed words, moved to [0, n) (overlapping: copy).
        unsafe { core::ptr::copy(self.base.add(self.lo), self.base, n) };
        self.lo = 0;
        self.len = n;
    }

    #[inline]
    fn reset_if_empty(&mut self) {
        if self.len == self.lo {
            self.len = 0;
            self.lo = 0;
        }
    }

    pub(crate) fn reserve(&mut self) -> bool {
        if !self.base.is_null() {
            return true;
        }
        match crate::sys::mmap_anon(
            BUF_WORDS * 8,
            ProtFlags::READ | ProtFlags::WRITE,
            MapFlags::NORESERVE,
        ) {
            Ok(p) => {
                self.base = p as *mut usize;
                true
            }
            Err(_) => false,
        }
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, w: usize) {
        if self.len == BUF_WORDS {
            self.full();
        }
        // SAFETY: base is a reserved region of BUF_WORDS words; len < BUF_WORDS.
        unsafe { self.base.add(self.len).write(w) };
        self.len += 1;
    }

    #[inline(always)]
    pub(crate) fn pop(&mut self) -> Option<usize> {
        if self.len == self.lo {
            self.reset_if_empty();
            return None;
        }
        self.len -= 1;
        // SAFETY: in [lo, len): written by push.
        Some(unsafe { self.base.add(self.len).read() })
    }
}

/// Guards the grey buffer and marking (taken after HEAP_LOCK when both are needed).
pub static MARK_LOCK: Lock = Lock::new();

/// Candidate pointers found by collecting (the collector thread's own).
static mut CANDIDATES: WordBuf = WordBuf::new();
/// Grey objects: (base, size) pairs (under MARK_LOCK).
static mut GREY: WordBuf = WordBuf::new();
/// A cycle is marking: the write barrier shades (read under MARK_LOCK by shade).
static MARKING: AtomicBool = AtomicBool::new(false);
/// Bytes marked in this cycle by marking (not by allocation): the pacer's live heap, with
/// what was allocated black (mheap). Under MARK_LOCK.
static mut MARKED_BYTES: usize = 0;

/// Adds to the bytes marked in this cycle. MARK_LOCK held.
pub fn add_marked_locked(bytes: usize) {
    // SAFETY: under MARK_LOCK.
    unsafe { *core::ptr::addr_of_mut!(MARKED_BYTES) += bytes };
}

/// The bytes marked so far in this cycle. MARK_LOCK held.
pub fn marked_locked() -> usize {
    // SAFETY: under MARK_LOCK.
    unsafe { *core::ptr::addr_of!(MARKED_BYTES) }
}

/// The bytes marked in this cycle, and starts counting anew. MARK_LOCK held.
pub fn take_marked_locked() -> usize {
    // SAFETY: under MARK_LOCK.
    unsafe { core::mem::replace(&mut *core::ptr::addr_of_mut!(MARKED_BYTES), 0) }
}

/// Reserves the buffers (once, before the first cycle). False if the address space is not
/// there.
pub fn init() -> bool {
    // SAFETY: called by the collector before any cycle; nobody else touches the buffers yet.
    unsafe {
        (*core::ptr::addr_of_mut!(CANDIDATES)).reserve()
            && (*core::ptr::addr_of_mut!(GREY)).reserve()
    }
}

pub(crate) fn candidates() -> &'static mut WordBuf {
    // SAFETY: only the collector thread uses it.
    unsafe { &mut *core::ptr::addr_of_mut!(CANDIDATES) }
}

fn grey() -> &'static mut WordBuf {
    // SAFETY: the callers hold MARK_LOCK.
    unsafe { &mut *core::ptr::addr_of_mut!(GREY) }
}

/// The grey buffer, as the pool that parallel markers share (gcwork.rs). MARK_LOCK held.
pub(crate) fn pool_locked() -> &'static mut WordBuf {
    grey()
}

/// The pool's size in words as last published ([`publish_pool_locked`]): a hint for Ms that
/// could mark while idle (gcwork.rs), read without the lock.
static POOL_WORDS: AtomicUsize = AtomicUsize::new(0);

/// Publishes the pool's size (after work was put in or taken out). MARK_LOCK held.
pub(crate) fn publish_pool_locked() {
    POOL_WORDS.store(grey().words(), Ordering::Relaxed);
}

/// Grey words in the pool, as last published (may be stale either way).
pub(crate) fn pool_hint() -> usize {
    POOL_WORDS.load(Ordering::Relaxed)
}

/// Whether a cycle marks (set and cleared under the heap and mark locks).
pub fn marking() -> bool {
    MARKING.load(Ordering::Acquire)
}

/// Turns the write barrier's shading on or off (with MARK_LOCK held, world stopped).
pub fn set_marking_locked(on: bool) {
    MARKING.store(on, Ordering::Release);
}

// ---- collecting (no lock) ---------------------------------------------------------------------

/// Collects the aligned words of `[lo, hi)` that may point into the heap. The range must be
/// readable (a stack, a root, data/bss).
///
/// The heap's range is read once (mark termination's roots are ~10,000 words, and two
/// atomic loads per word were a third of their time): a chunk mapped meanwhile holds only
/// objects allocated after that read, while this cycle marks, so born marked.
pub fn collect_range(lo: usize, hi: usize) {
    collect_range_into(candidates(), lo, hi);
}

/// [`collect_range`] into candidate buffer `c` (mark termination's helper has its own).
pub(crate) fn collect_range_into(c: &mut WordBuf, lo: usize, hi: usize) {
    collect_except(c, lo, hi, 0, 0);
}

/// Collects the words of `[lo, hi)`, a piece of `gp`'s stack, but those that point into
/// that stack itself: saved frame pointers and addresses of locals, never an object (stacks
/// are mapped apart from the heap's chunks), yet inside the heap's range when the kernel
/// put the stack between two chunks. They were most of a rescanned frame's candidates (1,000
/// of them for 15 stacks with a 500 MiB heap, each a lookup at mark termination that found
/// nothing).
pub fn collect_stack_range(gp: &G, lo: usize, hi: usize) {
    let len = gp.stack.hi.saturating_sub(gp.stack.lo);
    collect_except(candidates(), lo, hi, gp.stack.lo, len);
}

/// The words of `[lo, hi)` inside the heap's range and outside `[skip, skip + skip_len)`,
/// into `c`.
fn collect_except(c: &mut WordBuf, lo: usize, hi: usize, skip: usize, skip_len: usize) {
    let (alo, alen) = mheap::arena_bounds();
    let mut p = (lo + 7) & !7;
    while p + 8 <= hi {
        // SAFETY: inside [lo, hi), readable per the callers' contract; volatile: the memory
        // may be written concurrently (a running goroutine's globals).
        let w = unsafe { core::ptr::read_volatile(p as *const usize) };
        if w.wrapping_sub(alo) < alen && w.wrapping_sub(skip) >= skip_len {
            c.push(w);
        }
        p += 8;
    }
}

/// Collects single words (registers).
pub fn collect_words(words: &[usize]) {
    let c = candidates();
    for &w in words {
        if mheap::in_arena(w) {
            c.push(w);
        }
    }
}

/// Collects the registers in a stopped thread's ucontext.
///
/// # Safety
/// `uc` is the ucontext of a thread stopped in the suspend handler (valid until resumed).
pub unsafe fn collect_ucontext(uc: usize) {
    if uc == 0 {
        return;
    }
    // SAFETY: per the contract.
    let (p, n) = unsafe { arch::uc_gregs(uc as *const core::ffi::c_void) };
    // SAFETY: n words of the saved register area.
    collect_words(unsafe { core::slice::from_raw_parts(p, n) });
}

/// The G fields that hold pointers the program gave grt: the goroutine's argument, and in a
/// system call the callee-saved registers it entered with.
pub fn collect_g_fields(gp: &G) {
    collect_words(&[gp.startarg as usize]);
    if gp.status() & !crate::runtime2::GSCAN == GSYSCALL {
        collect_words(&gp.syscallregs);
    }
}

// ---- marking (MARK_LOCK held) ---------------------------------------------------------------

/// A marker: a grey buffer to push to and a count of the bytes it marked. The one under
/// MARK_LOCK is [`Marker::serial`]; the markers beside it while the program runs
/// (gcwork.rs) and mark termination's helper thread (mgcpar.rs) have their own. Several
/// markers may run at once:
/// mark bits are set with an atomic or, and only the marker that set a bit pushes the object,
/// so each object is queued once whoever finds it.
pub(crate) struct Marker<'a> {
    grey: &'a mut WordBuf,
    marked: &'a mut usize,
    /// The heap's range, read once (see collect_range): a chunk mapped meanwhile holds only
    /// objects allocated while this cycle marks, born marked.
    alo: usize,
    alen: usize,
}

impl<'a> Marker<'a> {
    pub(crate) fn new(grey: &'a mut WordBuf, marked: &'a mut usize) -> Marker<'a> {
        let (alo, alen) = mheap::arena_bounds();
        Marker {
            grey,
            marked,
            alo,
            alen,
        }
    }

    /// The marker of whoever holds MARK_LOCK (the collector, an assist, a barrier flush),
    /// for as long as it is used.
    pub(crate) fn serial() -> Marker<'static> {
        // SAFETY: the grey buffer and the count are under MARK_LOCK, which the caller holds
        // while it uses the marker; nothing else makes a second one at the same time.
        unsafe { Marker::new(grey(), &mut *core::ptr::addr_of_mut!(MARKED_BYTES)) }
    }

    /// The bytes this marker marked since the last call.
    pub(crate) fn take_marked(&mut self) -> usize {
        core::mem::replace(self.marked, 0)
    }

    /// Marks the object `w` points into, if any, and queues it for scanning if it may hold
    /// pointers.
    #[inline(always)]
    pub(crate) fn grey_word(&mut self, w: usize) {
        if w.wrapping_sub(self.alo) < self.alen {
            self.grey_in_arena(w);
        }
    }

    /// [`Marker::grey_word`] for a word already found inside the heap's range.
    #[inline]
    fn grey_in_arena(&mut self, w: usize) {
        if let Some((s, i)) = mheap::find_object(w) {
            if mheap::mark(s, i) {
                let (base, size, scan) = mheap::object(s, i);
                *self.marked += size;
                if scan {
                    self.grey.push(base);
                    self.grey.push(size);
                }
            }
        }
    }

    /// Marks what the aligned words of `[lo, hi)` point to (part of a marked object, read
    /// again: a full rescan's piece of work).
    pub(crate) fn scan_range(&mut self, lo: usize, hi: usize) {
        let mut p = lo;
        while p < hi {
            // SAFETY: inside an allocated heap object (marked, so not freed this cycle).
            let w = unsafe { core::ptr::read_volatile(p as *const usize) };
            self.grey_word(w);
            p += 8;
        }
    }

    /// Marks what object `idx` of span `s` (allocated) points to, but not the object itself,
    /// nor through pointers into itself (finalizers' first pass: a self-reference, as in a
    /// circular list's head, does not keep an object from being finalized, as in bdwgc).
    pub(crate) fn grey_contents_at(&mut self, s: *mut mheap::Span, idx: usize) {
        let (b, size, scan) = mheap::object(s, idx);
        if !scan {
            return;
        }
        let mut p = b;
        while p < b + size {
            // SAFETY: inside an allocated heap object (finalizable, so not freed yet).
            let w = unsafe { core::ptr::read_volatile(p as *const usize) };
            if w.wrapping_sub(b) >= size {
                self.grey_word(w);
            }
            p += 8;
        }
    }

    /// Scans grey objects until none is left or about `budget` words were scanned. Returns
    /// true when none is left.
    pub(crate) fn drain(&mut self, budget: usize) -> bool {
        self.drain_words(budget).0
    }

    /// [`Marker::drain`], which also says how many words it scanned.
    pub(crate) fn drain_words(&mut self, budget: usize) -> (bool, usize) {
        let mut ring = [(0usize, 0usize); PREFETCH_DEPTH];
        let (mut head, mut len) = (0usize, 0usize);
        let mut done = 0;
        loop {
            // Fill the ring from the grey stack, prefetching each object as it enters.
            while len < PREFETCH_DEPTH {
                let Some(size) = self.grey.pop() else { break };
                let base = self.grey.pop().expect("grey entries come in pairs");
                arch::prefetch(base);
                ring[(head + len) % PREFETCH_DEPTH] = (base, size);
                len += 1;
            }
            if len == 0 {
                return (true, done);
            }
            let (base, size) = ring[head];
            head = (head + 1) % PREFETCH_DEPTH;
            len -= 1;
            self.scan_range(base, base + size);
            done += size / 8;
            if done >= budget {
                // Put what is in flight back for the next batch.
                for k in 0..len {
                    let (b, sz) = ring[(head + k) % PREFETCH_DEPTH];
                    self.grey.push(b);
                    self.grey.push(sz);
                }
                return (self.grey.is_empty(), done);
            }
        }
    }
}

/// Marks the object `w` points into, if any, and queues it for scanning if it may hold
/// pointers.
#[inline]
fn greyobject(w: usize) {
    Marker::serial().grey_word(w);
}

/// Marks the object `w` points into and queues it for scanning (finalizers' objects at mark
/// termination). MARK_LOCK held.
pub fn grey_locked(w: usize) {
    greyobject(w);
}

/// Marks object `idx` of span `s` without scanning it (what it points to is marked already:
/// finalizers' second pass). MARK_LOCK held.
pub fn mark_only_locked(s: *mut mheap::Span, idx: usize) {
    if mheap::mark(s, idx) {
        add_marked_locked(mheap::object(s, idx).1);
    }
}

/// Marks what the object at `base` points to, but not the object itself (see
/// [`Marker::grey_contents_at`]). MARK_LOCK held.
pub fn grey_contents_locked(base: usize) {
    if let Some((s, i)) = mheap::find_object(base) {
        Marker::serial().grey_contents_at(s, i);
    }
}

/// While a cycle marks, greys what the object at `base` points to, not the object (mfinal.rs:
/// a finalizer set after the concurrent pass over the finalizable objects). Takes MARK_LOCK;
/// nothing when no cycle marks (a mark bit set then could outlive the sweep and hide the
/// object from the next cycle).
pub fn grey_contents_if_marking(base: usize) {
    MARK_LOCK.lock();
    if MARKING.load(Ordering::Acquire) {
        grey_contents_locked(base);
        publish_pool_locked();
    }
    MARK_LOCK.unlock();
}

/// Marks what the collected candidates point to. MARK_LOCK held.
pub fn flush_candidates_locked() {
    let c = candidates();
    let mut m = Marker::serial();
    while let Some(w) = c.pop() {
        m.grey_word(w);
    }
    publish_pool_locked();
}

/// Objects in flight between their prefetch and their scan (bdwgc's trick: the grey stack is
/// LIFO, so an object pushed now is popped at once; a small FIFO after the pop gives each
/// prefetch the time of a few other objects' scans to land).
const PREFETCH_DEPTH: usize = 16;

/// Scans grey objects until none is left or about `budget` words were scanned. Returns true
/// when no grey object is left. MARK_LOCK held.
pub fn drain_locked(budget: usize) -> bool {
    let empty = Marker::serial().drain(budget);
    publish_pool_locked();
    empty
}

/// The write barrier's slow path (`grt_gc_shade`): while marking, mark what `p` points to
/// and queue it: buffered on an M (mcache.rs), at once elsewhere.
#[inline]
pub fn shade(p: usize) {
    // SAFETY: the TLS m slot is null or this thread's own M.
    if let Some(m) = unsafe { crate::proc::getm().as_mut() } {
        // Inlined into grt_gc_shade up to here: most stores while a cycle marks are of
        // objects born marked in the M's black window.
        if !crate::mcache::in_black(m, p) {
            shade_m(m, p);
        }
        return;
    }
    shade_off_m(p);
}

#[inline(never)]
fn shade_m(m: &mut crate::runtime2::M, p: usize) {
    if unmarked(p) {
        crate::mcache::shade(m, p);
    }
}

#[cold]
#[inline(never)]
fn shade_off_m(p: usize) {
    if !unmarked(p) {
        return;
    }
    MARK_LOCK.lock();
    shade_many_locked(&[p]);
    MARK_LOCK.unlock();
}

/// Whether `p` points into a heap object not marked yet: what the write barrier must buffer.
/// Lock-free (the lookup is, the bits are atomic). A marked object is dropped at once: most
/// stores while a cycle marks are of objects allocated during it (born marked), and buffering
/// them filled the buffer, whose flush then waited for the marker's lock. Mark bits are all
/// clear when the barrier goes on (the last sweep, which clears them, is finished first), so
/// while it is on a set bit is this cycle's: the object was greyed, or born marked. A shade
/// that runs after mark termination is dropped, or buffered and flushed into the next
/// cycle, which only keeps an object longer.
#[inline]
pub fn unmarked(p: usize) -> bool {
    if !mheap::in_arena(p) {
        return false;
    }
    match mheap::find_object(p) {
        Some((s, i)) => !mheap::is_marked(s, i),
        None => false,
    }
}

/// Marks and queues what `ptrs` point to, if a cycle marks (else drops them). MARK_LOCK held.
pub fn shade_many_locked(ptrs: &[usize]) {
    if MARKING.load(Ordering::Acquire) {
        for &p in ptrs {
            greyobject(p);
        }
        publish_pool_locked();
    }
}

// ---- goroutine stacks ---------------------------------------------------------------------

/// Where a stopped goroutine's stack starts: its stack pointer, its frame pointer, and the
/// thread registers to scan with it (a ucontext) if it was stopped by the signal.
#[derive(Clone, Copy, Debug)]
pub struct StackTop {
    pub sp: usize,
    pub fp: usize,
    pub uc: usize,
}

impl StackTop {
    /// Where the stopped thread's link register is kept, if it was stopped by the signal.
    fn lr_slot(&self) -> Option<*mut usize> {
        if self.uc == 0 {
            return None;
        }
        // SAFETY: uc is the ucontext of a thread stopped in the suspend handler.
        unsafe { arch::uc_lr_slot(self.uc as *mut core::ffi::c_void) }
    }

    /// The stopped thread's pc, if it was stopped by the signal.
    fn pc(&self) -> Option<usize> {
        // SAFETY: uc is the ucontext of a thread stopped in the suspend handler.
        (self.uc != 0).then(|| unsafe { arch::uc_pc(self.uc as *const core::ffi::c_void) })
    }

    /// Removes the barriers (the collector's thread; `proof` may carry what a rescan limit
    /// found of this stack just before).
    fn remove_barriers(&self, gp: &mut G, proof: &mut stkbar::Proof) -> stkbar::Removed {
        stkbar::gc_remove_stack_barriers(gp, self.sp, self.fp, self.lr_slot(), self.pc(), proof)
    }
}

/// Counts of one stack scan.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScanCounts {
    pub frames: usize,
    pub barriers: usize,
    pub hits: usize,
    /// Barriers whose return address could not be found (they stay): mark termination must
    /// not trust this stack's barriers.
    pub unlocated: usize,
    /// Frame records not proven to be frame records: no barrier there or above.
    pub unprovable: usize,
    /// Barriers a jump skipped (longjmp without grt_gc_unwind): dropped here, or passed over
    /// by the trampoline since the last scan.
    pub jumped: usize,
}

/// Go's scanstack, for the concurrent scan: collects `gp`'s stack from `top`, removes its old
/// barriers and installs new ones, unless some old ones stay (returns in flight, or not
/// found): the list must stay in frame order. The caller owns the stack (scan bit,
/// goroutine stopped) and holds its stack lock.
pub fn scanstack(gp: &mut G, top: StackTop) -> ScanCounts {
    let removed = top.remove_barriers(gp, &mut stkbar::Proof::new(true));
    collect_stack(gp, top);
    let install = !stkbar::STACK_BARRIER_OFF.load(Ordering::Relaxed) && removed.kept == 0;
    let mut proof = stkbar::Proof::new(true);
    let r = stkbar::gc_install_stack_barriers(gp, top.sp, top.fp, install, false, &mut proof);
    ScanCounts {
        frames: r.frames,
        barriers: r.barriers,
        hits: removed.hits,
        unlocated: removed.unlocated,
        unprovable: r.unprovable,
        jumped: removed.dead + stkbar::take_jumps(gp),
    }
}

/// Collects all of `gp`'s stack from `top` up, its registers and G fields; touches no barrier.
pub fn collect_stack(gp: &G, top: StackTop) {
    let lo = top.sp.saturating_sub(arch::RED_ZONE).max(gp.stack.lo);
    collect_stack_range(gp, lo, gp.stack.hi);
    // SAFETY: top.uc is the ucontext of the stopped thread, if any.
    unsafe { collect_ucontext(top.uc) };
    collect_g_fields(gp);
}

/// Mark termination's rescan of a stopped goroutine: from `top` up to the lowest barrier not
/// hit ([`stkbar::rescan_limit`]) when `trust_barriers` (the stack was scanned in this
/// cycle), else all of it; then removes the barriers. If one cannot be found (its frame may
/// have returned some way the barrier did not see), the rest of the stack is collected too.
/// The world is stopped; the caller holds the stack lock. Returns (frames rescanned, barriers
/// that had been hit, whether the whole stack was rescanned although it had barriers,
/// barriers a jump skipped: see [`ScanCounts::jumped`]).
pub fn rescanstack(gp: &mut G, top: StackTop, trust_barriers: bool) -> (usize, usize, bool, usize) {
    let mut proof = stkbar::Proof::new(true);
    let lo = top.sp.saturating_sub(arch::RED_ZONE).max(gp.stack.lo);
    let (limit, unknown) = if trust_barriers {
        // Up to the lowest barrier first (sequential reads), then the chain says whether
        // that barrier is really in place (a jump may have discarded it) and the rest is
        // collected if not.
        let first = stkbar::rescan_limit_if_in_place(gp, top.sp).max(top.sp);
        collect_stack_range(gp, lo, first);
        let (l, unknown) = stkbar::rescan_limit(gp, top.sp, top.fp, top.pc(), &mut proof);
        let l = l.max(first);
        if l > first {
            collect_stack_range(gp, first, l);
        }
        (l, unknown)
    } else {
        collect_stack_range(gp, lo, gp.stack.hi);
        (gp.stack.hi, false)
    };
    // SAFETY: as in scanstack.
    unsafe { collect_ucontext(top.uc) };
    collect_g_fields(gp);
    // Frames rescanned: records from fp below the limit.
    let mut frames = 0;
    let mut fp = top.fp;
    while frames < stkbar::MAX_SCAN_FRAMES && fp >= top.sp && fp < limit {
        let Some(rec) = crate::traceback::step(fp, gp.stack.lo, gp.stack.hi) else {
            break;
        };
        frames += 1;
        if rec.fp <= fp {
            break;
        }
        fp = rec.fp;
    }
    let had = gp.stkbar_len > gp.stkbar_pos;
    let removed = top.remove_barriers(gp, &mut proof);
    if removed.unlocated != 0 && limit < gp.stack.hi {
        collect_stack_range(gp, limit, gp.stack.hi);
    }
    let whole = had && (!trust_barriers || removed.unlocated != 0 || unknown);
    (
        frames,
        removed.hits,
        whole,
        removed.dead + stkbar::take_jumps(gp),
    )
}

/// A concurrent rescan round's rescan of a parked goroutine that ran since its scan in this
/// cycle (the collector's thread; the goroutine owned with its scan bit, its stack lock
/// held): collects its stack from `top` only up to its lowest live barrier not hit (as mark
/// termination would) and puts new barriers into the frames below that barrier
/// ([`stkbar::gc_reinstall_below`]), so that its next rescan, in a later round or in mark
/// termination, covers only what runs after this one. `None` when the stack has no such
/// barrier in its own slot, or a return in flight below `top.sp`, or a chain that cannot
/// tell: then the caller scans it as the concurrent scan does ([`scanstack`]).
pub fn rescanstack_concurrent(gp: &mut G, top: StackTop) -> Option<ScanCounts> {
    if stkbar::STACK_BARRIER_OFF.load(Ordering::Relaxed) {
        return None;
    }
    if gp.stkbar_pos < stkbar::first_at_or_above(gp, top.sp) {
        return None;
    }
    let mut proof = stkbar::Proof::new(true);
    let (limit, unknown) = stkbar::rescan_limit(gp, top.sp, top.fp, None, &mut proof);
    let k = stkbar::live_entry(&proof)?;
    if unknown || limit >= gp.stack.hi || !stkbar::in_own_slot(gp, k) {
        return None;
    }
    let lo = top.sp.saturating_sub(arch::RED_ZONE).max(gp.stack.lo);
    collect_stack_range(gp, lo, limit);
    collect_g_fields(gp);
    // Entries between the hit ones and k were passed over as discarded by a jump.
    let dead = k - gp.stkbar_pos;
    let (r, hits) = stkbar::gc_reinstall_below(gp, top.sp, top.fp, k, &mut proof);
    Some(ScanCounts {
        frames: r.frames,
        barriers: r.barriers,
        hits,
        unlocated: 0,
        unprovable: r.unprovable,
        jumped: dead + stkbar::take_jumps(gp),
    })
}
